import { type FormEvent, useEffect, useState } from 'react';
import { api, ApiError, setUnauthorizedHandler, storedKey, storeKey } from './api';
import { Field, Notice } from './components/ui';
import { Customers } from './pages/Customers';
import { Integrations } from './pages/Integrations';
import { Overview } from './pages/Overview';
import { Programs } from './pages/Programs';
import { Promotions } from './pages/Promotions';
import { Referrals } from './pages/Referrals';
import { linkProps, useLocation } from './router';

const PAGES = [
  { path: '/', section: '', title: 'Overview', Component: Overview },
  { path: '/programs', section: 'programs', title: 'Programs', Component: Programs },
  { path: '/referrals', section: 'referrals', title: 'Referrals', Component: Referrals },
  { path: '/customers', section: 'customers', title: 'Customers', Component: Customers },
  { path: '/promotions', section: 'promotions', title: 'Promotions', Component: Promotions },
  { path: '/integrations', section: 'integrations', title: 'Integrations', Component: Integrations },
] as const;

export function App() {
  const [key, setKey] = useState(storedKey);
  useEffect(() => setUnauthorizedHandler(() => setKey(null)), []);
  if (!key) return <SignIn onSignedIn={setKey} />;
  return <Shell onSignOut={() => setKey(null)} />;
}

function Shell({ onSignOut }: { onSignOut: () => void }) {
  const loc = useLocation();
  const section = loc.path.split('/')[1] ?? '';
  const page = PAGES.find((p) => p.section === section) ?? PAGES[0];
  useTitle(page.title);
  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Sections">
        <div className="brand">Perks</div>
        <ul>
          {PAGES.map((p) => (
            <li key={p.path}>
              <a {...linkProps(p.path)} aria-current={p === page ? 'page' : undefined}>
                {p.title}
              </a>
            </li>
          ))}
        </ul>
        <button
          type="button"
          className="sign-out"
          onClick={() => {
            storeKey(null);
            onSignOut();
          }}
        >
          Sign out
        </button>
      </nav>
      <main className="content">
        <page.Component path={loc.path} query={loc.query} />
      </main>
    </div>
  );
}

function useTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · Perks`;
  }, [title]);
}

/** Sign-in with a workspace secret key, checked against the API before it is kept for the tab. */
function SignIn({ onSignedIn }: { onSignedIn: (key: string) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useTitle('Sign in');
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    try {
      const key = value.trim();
      await api('GET', '/v1/programs?limit=1', undefined, key);
      storeKey(key);
      onSignedIn(key);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? new ApiError(401, err.code, err.message, 'key', [], null)
          : err,
      );
    } finally {
      setBusy(false);
    }
  }
  return (
    <main className="sign-in">
      <form onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Perks</h1>
        <p>
          Use a secret key of your workspace (<code>perks keys create</code> makes one). It is kept in this
          tab only and sent in a header, never in a URL.
        </p>
        <Field label="Secret key" name="key" error={error}>
          <input
            type="password"
            name="key"
            autoComplete="off"
            spellCheck={false}
            value={value}
            onChange={(e) => setValue(e.target.value)}
            placeholder="sk_…"
            required
          />
        </Field>
        {error instanceof ApiError && error.param === 'key' ? null : <Notice error={error} />}
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
