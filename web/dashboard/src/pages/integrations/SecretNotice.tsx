import { useState } from 'react';

/** A signing secret shown once, right after it was made, with a copy button. */
export function SecretNotice({
  secret,
  what,
  onDismiss,
}: {
  secret: string;
  what: string;
  onDismiss: () => void;
}) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="notice notice-info secret-notice" role="status">
      <p>
        <strong>{what}</strong> Store it now: Perks shows it only this once.
      </p>
      <div className="secret-row">
        <code data-testid="endpoint-secret">{secret}</code>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            void navigator.clipboard?.writeText(secret).then(() => setCopied(true));
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
        <button type="button" className="secondary" onClick={onDismiss}>
          I stored it
        </button>
      </div>
    </div>
  );
}
