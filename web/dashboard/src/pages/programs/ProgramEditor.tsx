// Editing a program: its latest document as JSON, checked against the published schema while typing
// and by the API on save. Saving appends a version in force from its effective date; every error the
// API names by path is shown beside the line that holds the field.
import { type FormEvent, useMemo, useState } from 'react';
import { api, ApiError } from '../../api';
import { Field, formatTime, Notice } from '../../components/ui';
import { navigate } from '../../router';
import { JsonEditor, type LineProblem } from './JsonEditor';
import { lineOf, pathLines, syntaxErrorLine } from './jsonPaths';
import { checkDocument, inSchemaOrder, type JsonSchema } from './schemaCheck';
import type { Program, ProgramDocument } from './types';

/** The document as the operator edits it: effective_at is its own field, not part of the text. */
function editable(doc: ProgramDocument, schema: JsonSchema | null): string {
  const { effective_at: _ignored, ...rest } = doc;
  return JSON.stringify(schema ? inSchemaOrder(schema, rest) : rest, null, 2);
}

/** `'rewards[0].recipient': must be one of: referrer, referee` -> the message after the path, shown separately. */
function bare(message: string, param: string) {
  const prefix = `'${param}': `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

/** The API's answer to a save, the text it was about, and a number that changes with every answer. */
interface Refusal {
  text: string;
  error: unknown;
  problems: LineProblem[];
  seq: number;
}

type Parsed = { ok: true; value: Record<string, unknown> } | { ok: false; problem: LineProblem };

function parse(text: string): Parsed {
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { ok: false, problem: { line: 1, path: '', message: 'the document must be a JSON object' } };
    }
    return { ok: true, value: value as Record<string, unknown> };
  } catch (e) {
    const message = (e as Error).message;
    return {
      ok: false,
      problem: { line: syntaxErrorLine(text, message), path: '', message: `not valid JSON: ${message}` },
    };
  }
}

export function ProgramEditor({
  program,
  schema,
  start,
  onSaved,
}: {
  program: Program;
  schema: JsonSchema | null;
  start: { doc: ProgramDocument; version: number } | null;
  onSaved: (message: string) => void;
}) {
  const latest = program.pending_version?.document ?? program.document;
  const [text, setText] = useState(() => editable(start?.doc ?? latest, schema));
  const [effectiveAt, setEffectiveAt] = useState('');
  /** The API's answer to the last save, and the text it was about. */
  const [refused, setRefused] = useState<Refusal | null>(null);
  const [busy, setBusy] = useState(false);

  const parsed = useMemo(() => parse(text), [text]);
  const lines = useMemo(() => pathLines(text), [text]);
  const checked = useMemo<LineProblem[]>(() => {
    if (!parsed.ok || !schema) return [];
    return checkDocument(schema, parsed.value).map((p) => ({ ...p, line: lineOf(lines, p.path) }));
  }, [parsed, schema, lines]);

  const serverApplies = refused !== null && refused.text === text;
  const problems: LineProblem[] = !parsed.ok ? [parsed.problem] : serverApplies ? refused.problems : checked;
  const fieldError = serverApplies ? refused.error : null;
  const newKey =
    parsed.ok && typeof parsed.value.key === 'string' && parsed.value.key !== program.key
      ? parsed.value.key
      : null;

  async function save(e: FormEvent) {
    e.preventDefault();
    if (!parsed.ok) return;
    let effective: string | undefined;
    if (effectiveAt) {
      const d = new Date(effectiveAt);
      if (Number.isNaN(d.getTime())) {
        const error = new ApiError(
          400,
          'parameter_invalid',
          'Enter a date and time',
          'effective_at',
          [],
          null,
        );
        return setRefused({ text, error, problems: [], seq: Date.now() });
      }
      effective = d.toISOString();
    }
    setBusy(true);
    try {
      const result = await api<Program & { changed: boolean }>('POST', '/v1/programs', {
        ...parsed.value,
        ...(effective ? { effective_at: effective } : {}),
      });
      setRefused(null);
      if (result.key !== program.key) return navigate(`/programs/${encodeURIComponent(result.key)}`);
      onSaved(
        result.changed
          ? `Saved as version ${result.latest_version}, in force from ${formatTime(
              result.pending_version?.effective_at ?? result.effective_at,
            )}.`
          : 'Nothing to save: the document is the same as the latest version.',
      );
    } catch (err) {
      const listed =
        err instanceof ApiError
          ? err.fieldErrors.length > 0
            ? err.fieldErrors
            : err.param
              ? [{ param: err.param, message: err.message }]
              : []
          : [];
      setRefused({
        text,
        seq: Date.now(),
        error: err,
        problems: listed
          .filter((f) => f.param !== 'effective_at')
          .map((f) => ({ line: lineOf(lines, f.param), path: f.param, message: bare(f.message, f.param) })),
      });
    } finally {
      setBusy(false);
    }
  }

  const serverLineCount = serverApplies ? refused.problems.length : 0;
  const unplaced =
    serverApplies &&
    serverLineCount === 0 &&
    !(refused.error instanceof ApiError && refused.error.forField('effective_at'));

  return (
    <form className="panel" onSubmit={save} aria-labelledby="editor-title" noValidate>
      <h2 id="editor-title">
        Edit {start ? <span className="muted">(starting from version {start.version})</span> : null}
      </h2>
      <p className="muted intro">
        Saving adds a version; referrals keep the version in force when they were attributed, so new terms
        never pay retroactively. Fields are checked against the{' '}
        <a href="/v1/programs/schema.json" target="_blank" rel="noreferrer">
          program schema
        </a>{' '}
        as you type.
      </p>
      {newKey ? (
        <Notice
          kind="info"
          error={`The key is now '${newKey}': saving creates a new program instead of a version.`}
        />
      ) : null}
      {serverLineCount > 0 ? (
        <div className="notice notice-error" role="alert">
          The API refused the document ({(refused?.error as ApiError).code}): {serverLineCount}{' '}
          {serverLineCount === 1 ? 'problem' : 'problems'}, shown beside{' '}
          {serverLineCount === 1 ? 'its line' : 'their lines'}.
        </div>
      ) : null}
      {unplaced ? <Notice error={refused?.error} /> : null}
      <JsonEditor
        label="Program document (JSON)"
        value={text}
        onChange={setText}
        problems={problems}
        reveal={
          serverApplies && refused.problems.length > 0
            ? { line: Math.min(...refused.problems.map((p) => p.line)), seq: refused.seq }
            : null
        }
      />
      <div className="form-row editor-actions">
        <Field
          label="Effective at (your time zone)"
          name="effective_at"
          error={fieldError}
          hint="Empty: now. Never in the past, never before the latest version."
        >
          <input
            name="effective_at"
            type="datetime-local"
            value={effectiveAt}
            onChange={(e) => setEffectiveAt(e.target.value)}
          />
        </Field>
        <button type="submit" className="form-row-submit" disabled={busy || !parsed.ok}>
          {busy ? 'Saving…' : 'Save as a new version'}
        </button>
        <button
          type="button"
          className="secondary form-row-submit"
          onClick={() => {
            setText(editable(latest, schema));
            setRefused(null);
          }}
        >
          Revert
        </button>
      </div>
    </form>
  );
}
