// Manual attribution: support records a referral the events missed. The program's fraud rules still
// apply; rewards already due are granted at once; the repair is written to the audit log.
import { type FormEvent, useState } from 'react';
import { api, ApiError, type Page } from '../../api';
import { Field, FormError, useResource } from '../../components/ui';
import { navigate } from '../../router';
import { useActor } from '../customers/actor';
import type { Referral } from './types';

const FIELDS = ['referee', 'program', 'referrer', 'code', 'attributed_at', 'reason', 'actor'];

export function ManualReferral() {
  const programs = useResource<Page<{ key: string; name: string }>>('/v1/programs?limit=100');
  const [actor, setActor] = useActor();
  const [by, setBy] = useState<'referrer' | 'code'>('referrer');
  const [form, setForm] = useState({
    referee: '',
    program: '',
    referrer: '',
    code: '',
    attributed_at: '',
    reason: '',
  });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<typeof form>) => setForm((f) => ({ ...f, ...patch }));

  async function submit(e: FormEvent) {
    e.preventDefault();
    let attributedAt: string | undefined;
    if (form.attributed_at) {
      const d = new Date(form.attributed_at);
      if (Number.isNaN(d.getTime())) {
        return setError(
          new ApiError(400, 'parameter_invalid', 'Enter a date and time', 'attributed_at', [], null),
        );
      }
      attributedAt = d.toISOString();
    }
    setBusy(true);
    try {
      const created = await api<Referral>('POST', '/v1/referrals', {
        source: 'manual',
        referee: form.referee.trim(),
        ...(by === 'code'
          ? { code: form.code.trim() }
          : { program: form.program || undefined, referrer: form.referrer.trim() || undefined }),
        ...(attributedAt ? { attributed_at: attributedAt } : {}),
        reason: form.reason,
        actor,
      });
      setError(null);
      navigate(`/referrals/${encodeURIComponent(created.id)}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="panel narrow-form" onSubmit={submit} aria-labelledby="manual-title" noValidate>
      <h2 id="manual-title">Record a referral by hand</h2>
      <p className="muted intro">
        For a customer the events did not attribute (a code given by phone, a lost cookie). It is bound to the
        program version in force when the referee was created, fraud rules still apply, and rewards already
        due are granted at once. To move an existing referral to another referrer, open it and reassign it.
      </p>
      <Field
        label="Referee (the referred customer)"
        name="referee"
        error={error}
        hint="External id or Perks id"
      >
        <input
          name="referee"
          value={form.referee}
          onChange={(e) => set({ referee: e.target.value })}
          spellCheck={false}
        />
      </Field>
      <fieldset className="choice">
        <legend>Referrer given by</legend>
        <label>
          <input type="radio" name="by" checked={by === 'referrer'} onChange={() => setBy('referrer')} />{' '}
          Program and referrer
        </label>
        <label>
          <input type="radio" name="by" checked={by === 'code'} onChange={() => setBy('code')} /> The
          referrer&apos;s code
        </label>
      </fieldset>
      {by === 'referrer' ? (
        <div className="form-row">
          <Field label="Program" name="program" error={error}>
            <select name="program" value={form.program} onChange={(e) => set({ program: e.target.value })}>
              <option value="">Choose…</option>
              {(programs.data?.data ?? []).map((p) => (
                <option key={p.key} value={p.key}>
                  {p.name} ({p.key})
                </option>
              ))}
            </select>
          </Field>
          <Field label="Referrer" name="referrer" error={error} hint="External id or Perks id">
            <input
              name="referrer"
              value={form.referrer}
              onChange={(e) => set({ referrer: e.target.value })}
              spellCheck={false}
            />
          </Field>
        </div>
      ) : (
        <Field label="Referral code" name="code" error={error}>
          <input
            name="code"
            value={form.code}
            onChange={(e) => set({ code: e.target.value })}
            spellCheck={false}
          />
        </Field>
      )}
      <Field
        label="Attributed at (your time zone, optional)"
        name="attributed_at"
        error={error}
        hint="Default: when the referee was created"
      >
        <input
          name="attributed_at"
          type="datetime-local"
          value={form.attributed_at}
          onChange={(e) => set({ attributed_at: e.target.value })}
        />
      </Field>
      <Field label="Reason" name="reason" error={error} hint="Kept in the audit log, e.g. a ticket number">
        <input name="reason" value={form.reason} onChange={(e) => set({ reason: e.target.value })} />
      </Field>
      <Field label="Actor" name="actor" error={error} hint="Who you are; remembered in this browser">
        <input name="actor" value={actor} onChange={(e) => setActor(e.target.value)} autoComplete="email" />
      </Field>
      <FormError error={error} fields={FIELDS} />
      <button type="submit" disabled={busy}>
        {busy ? 'Recording…' : 'Record referral'}
      </button>
    </form>
  );
}
