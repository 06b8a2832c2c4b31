// Creating a program from one of the three reference templates, with the assets it pays in. The
// key, name and landing URL can be set here; everything else is edited afterwards as JSON.
import { type FormEvent, useState } from 'react';
import { api, type Page } from '../../api';
import { Field, FormError, Notice, PageHeader, useResource } from '../../components/ui';
import { linkProps, navigate } from '../../router';
import type { Program, Template } from './types';

const FIELDS = ['key', 'name', 'landing_url'];

export function NewProgram({ template: initial }: { template: string }) {
  const templates = useResource<Page<Template>>('/v1/programs/templates');
  const list = templates.data?.data ?? [];
  const [template, setTemplate] = useState(initial);
  const chosen = list.find((t) => t.name === template);
  const [form, setForm] = useState({ key: '', name: '', landing_url: '' });
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<{ text: string; key: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setNotice(null);
    try {
      const body = {
        template,
        ...(form.key.trim() ? { key: form.key.trim() } : {}),
        ...(form.name.trim() ? { name: form.name.trim() } : {}),
        ...(form.landing_url.trim() ? { landing_url: form.landing_url.trim() } : {}),
      };
      const created = await api<Program & { changed: boolean }>('POST', '/v1/programs/from_template', body);
      setError(null);
      if (created.version === 1 && created.latest_version === 1 && created.changed) {
        navigate(`/programs/${encodeURIComponent(created.key)}`);
      } else {
        setNotice({
          key: created.key,
          text: created.changed
            ? `The program '${created.key}' existed: the template was added as version ${created.latest_version}.`
            : `The program '${created.key}' already has exactly these terms: nothing changed.`,
        });
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <PageHeader title="New program">
        <a className="button secondary" {...linkProps('/programs')}>
          ← Programs
        </a>
      </PageHeader>
      <Notice error={templates.error} />
      <form
        className="panel narrow-form"
        onSubmit={submit}
        aria-label="Create a program from a template"
        noValidate
      >
        <fieldset className="template-choice">
          <legend>Template</legend>
          {list.map((t) => (
            <label key={t.name} className={`template-option${template === t.name ? ' selected' : ''}`}>
              <input
                type="radio"
                name="template"
                value={t.name}
                checked={template === t.name}
                onChange={() => setTemplate(t.name)}
              />
              <span>
                <strong>{t.document.name}</strong> <span className="mono fine muted">{t.name}</span>
                <span className="template-summary">{t.summary}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <Field
          label="Key"
          name="key"
          error={error}
          hint={`Default: ${template || 'the template name'}. Lower-case letters, digits, - and _`}
        >
          <input
            name="key"
            value={form.key}
            onChange={(e) => setForm({ ...form, key: e.target.value })}
            spellCheck={false}
          />
        </Field>
        <Field
          label="Name"
          name="name"
          error={error}
          hint={chosen ? `Default: ${chosen.document.name}` : undefined}
        >
          <input name="name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        </Field>
        <Field
          label="Landing URL"
          name="landing_url"
          error={error}
          hint="Where referral links land, e.g. your signup page"
        >
          <input
            name="landing_url"
            type="url"
            value={form.landing_url}
            onChange={(e) => setForm({ ...form, landing_url: e.target.value })}
            placeholder={chosen?.document.landing_url ?? 'https://app.example.com/signup'}
          />
        </Field>
        <FormError error={error} fields={FIELDS} />
        {notice ? (
          <div className="notice notice-info" role="status">
            {notice.text} <a {...linkProps(`/programs/${encodeURIComponent(notice.key)}`)}>Open it</a>
          </div>
        ) : null}
        <button type="submit" disabled={busy || !template}>
          {busy ? 'Creating…' : 'Create program'}
        </button>
      </form>
    </>
  );
}
