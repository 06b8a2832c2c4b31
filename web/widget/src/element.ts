import { call, newIdempotencyKey, WidgetApiError } from './api.js';
import { copyText } from './copy.js';
import { h } from './dom.js';
import { rewardLine, shortDate } from './format.js';
import { STYLES } from './styles.js';
import type { Commission, WidgetPayout, WidgetReferral } from './types.js';

/** Returns a fresh customer token, minted by the product's backend (see docs/widget.md). */
export type TokenProvider = () => string | Promise<string>;

/**
 * The origin this script was loaded from is the Perks server's, which is where the API is unless
 * `api-base` says otherwise. It can only be read while the script first runs.
 */
const SCRIPT_ORIGIN = (() => {
  const script = document.currentScript as HTMLScriptElement | null;
  try {
    return script?.src ? new URL(script.src).origin : undefined;
  } catch {
    return undefined;
  }
})();

export const MESSAGES = {
  loading: 'Loading your referral details…',
  expired: 'This page has expired — reload the page to see your referral details.',
  invalid:
    'Your referral details could not be verified — reload the page. If this keeps happening, contact support.',
  network: 'The referral service could not be reached. Check your connection and try again.',
  notFound: 'This referral program is not available.',
  noProgram: 'No referral program is set for this widget.',
  failed: 'Your referral details could not be loaded. Try again in a moment.',
} as const;

type Failure = { kind: keyof typeof MESSAGES; code: string };

function failureOf(err: unknown): Failure {
  if (!(err instanceof WidgetApiError)) return { kind: 'failed', code: 'unknown' };
  if (err.code === 'customer_token_expired') return { kind: 'expired', code: err.code };
  if (err.status === 401) return { kind: 'invalid', code: err.code };
  if (err.code === 'network_error') return { kind: 'network', code: err.code };
  if (err.status === 404) return { kind: 'notFound', code: err.code };
  return { kind: 'failed', code: err.code };
}

/**
 * `<perks-referral program="..." token="ct_...">`: a customer's referral code and link with copy
 * buttons, the referrals it made, the rewards it earned and, for commission programs, a withdraw
 * button. Framework-free, in a shadow root, so the page's styles neither leak in nor out; themed
 * through CSS custom properties.
 */
export class PerksReferral extends HTMLElement {
  static readonly observedAttributes = ['token', 'api-base', 'program', 'locale'];

  readonly #root: ShadowRoot;
  readonly #body: HTMLElement;
  /** One polite live region, kept across renders, so "Copied" and payout results are announced. */
  readonly #live: HTMLElement;
  #provider: TokenProvider | undefined;
  #providedToken: string | undefined;
  #data: WidgetReferral | undefined;
  #loadSeq = 0;
  #scheduled = false;
  #withdrawing = false;
  #notice: { tone: 'success' | 'error'; text: string } | undefined;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = STYLES;
    this.#body = h('div');
    this.#live = h('p', { class: 'sr-only', role: 'status', 'aria-live': 'polite' });
    this.#root.append(style, this.#body, this.#live);
  }

  /** A function returning a fresh token; called on load and again when a token has expired. */
  get tokenProvider(): TokenProvider | undefined {
    return this.#provider;
  }
  set tokenProvider(provider: TokenProvider | undefined) {
    this.#provider = provider;
    this.#providedToken = undefined;
    this.#schedule();
  }

  /** The last answer from Perks, for pages that want to show more. */
  get data(): WidgetReferral | undefined {
    return this.#data;
  }

  connectedCallback(): void {
    this.#schedule();
  }

  attributeChangedCallback(): void {
    this.#schedule();
  }

  /** Reloads the figures (e.g. after the page knows a referral converted). */
  refresh(): Promise<void> {
    return this.#load();
  }

  #schedule(): void {
    if (this.#scheduled || !this.isConnected) return;
    this.#scheduled = true;
    // Attributes set one after another in the same task make one request.
    queueMicrotask(() => {
      this.#scheduled = false;
      if (this.isConnected) void this.#load();
    });
  }

  get #locale(): string | undefined {
    return this.getAttribute('locale') || document.documentElement.lang || undefined;
  }

  async #token(fresh: boolean): Promise<string> {
    if (this.#provider) {
      if (fresh || !this.#providedToken) {
        try {
          this.#providedToken = await this.#provider();
        } catch {
          throw new WidgetApiError(401, 'customer_token_expired', 'the token provider failed');
        }
      }
      return this.#providedToken;
    }
    const token = this.getAttribute('token');
    if (!token) throw new WidgetApiError(401, 'customer_token_missing', 'no token');
    return token;
  }

  /**
   * One API call; with a token provider, a refused token is replaced once and the call retried. A
   * POST keeps its Idempotency-Key across that retry, so it can never take effect twice.
   */
  async #request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const base = this.getAttribute('api-base') || SCRIPT_ORIGIN || location.origin;
    const key = method === 'POST' ? newIdempotencyKey() : undefined;
    try {
      return await call<T>(base, await this.#token(false), method, path, body, key);
    } catch (err) {
      if (!(err instanceof WidgetApiError && err.status === 401 && this.#provider)) throw err;
      return call<T>(base, await this.#token(true), method, path, body, key);
    }
  }

  #emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  async #load(): Promise<void> {
    const seq = ++this.#loadSeq;
    const program = this.getAttribute('program');
    if (!program) {
      this.#showFailure({ kind: 'noProgram', code: 'program_missing' });
      return;
    }
    if (!this.#data) this.#showLoading();
    try {
      const data = await this.#request<WidgetReferral>(
        'GET',
        `/v1/widget/referral?program=${encodeURIComponent(program)}`,
      );
      if (seq !== this.#loadSeq) return;
      this.#data = data;
      this.#render();
      this.#emit('perks-referral-load', data);
    } catch (err) {
      if (seq !== this.#loadSeq) return;
      this.#data = undefined;
      this.#showFailure(failureOf(err));
    }
  }

  #showLoading(): void {
    this.#body.replaceChildren(
      h(
        'div',
        { class: 'card', part: 'card', 'aria-busy': 'true' },
        h('p', { class: 'muted' }, MESSAGES.loading),
      ),
    );
  }

  #showFailure(failure: Failure): void {
    const reload = failure.kind === 'expired' || failure.kind === 'invalid';
    const retry = failure.kind === 'network' || failure.kind === 'failed';
    const button = reload
      ? h('button', { type: 'button', class: 'secondary', part: 'button' }, 'Reload the page')
      : retry
        ? h('button', { type: 'button', class: 'secondary', part: 'button' }, 'Try again')
        : null;
    button?.addEventListener('click', () => (reload ? location.reload() : void this.#load()));
    this.#body.replaceChildren(
      h(
        'div',
        { class: 'card', part: 'card', 'data-state': failure.kind },
        h('p', { class: 'notice error', role: 'alert', part: 'error' }, MESSAGES[failure.kind]),
        button,
      ),
    );
    this.#emit('perks-referral-error', failure);
  }

  #announce(text: string): void {
    // Clearing first makes a repeated message ("Copied" twice) announced again.
    this.#live.textContent = '';
    setTimeout(() => (this.#live.textContent = text), 50);
  }

  #copyField(kind: 'code' | 'link', label: string, value: string): HTMLElement {
    const id = `perks-${kind}`;
    const input = h('input', {
      id,
      class: `value ${kind}`,
      part: kind,
      readonly: true,
      value,
      'aria-describedby': `${id}-hint`,
      spellcheck: 'false',
    });
    const button = h(
      'button',
      { type: 'button', part: 'button copy', 'aria-label': `Copy your referral ${kind}`, 'data-copy': kind },
      'Copy',
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    button.addEventListener('click', async () => {
      const copied = await copyText(value, this.#root);
      clearTimeout(timer);
      if (copied) {
        button.textContent = 'Copied';
        this.#announce(`Your referral ${kind} was copied to the clipboard.`);
        timer = setTimeout(() => (button.textContent = 'Copy'), 2000);
      } else {
        input.focus();
        input.select();
        this.#announce(`Copying is blocked here: the ${kind} is selected, press Ctrl+C or ⌘C to copy it.`);
      }
    });
    return h(
      'div',
      { class: 'field' },
      h('label', { class: 'label', for: id }, label),
      h('div', { class: 'row' }, input, button),
      h(
        'span',
        { id: `${id}-hint`, class: 'sr-only' },
        kind === 'code' ? 'Friends enter this code when they sign up.' : 'Share this link with friends.',
      ),
    );
  }

  #commission(c: Commission, program: string): HTMLElement {
    const helpId = `perks-withdraw-help-${c.asset}`;
    const button = h(
      'button',
      {
        type: 'button',
        part: 'button withdraw',
        'data-withdraw': c.asset,
        'aria-describedby': helpId,
        disabled: !c.can_withdraw || this.#withdrawing,
      },
      this.#withdrawing ? 'Requesting…' : c.can_withdraw ? `Withdraw ${c.available_text}` : 'Withdraw',
    );
    button.addEventListener('click', () => void this.#withdraw(c, program));
    const notice = this.#notice;
    return h(
      'div',
      { class: 'commission', part: 'commission' },
      h('h3', {}, 'Commission'),
      h(
        'p',
        {},
        h('span', { class: 'muted' }, 'Available to withdraw'),
        h('br'),
        h('span', { class: 'balance', 'data-available': String(c.available) }, c.available_text),
      ),
      c.held > 0 && h('p', { class: 'muted' }, `${c.held_text} requested, waiting to be paid.`),
      h('p', { class: 'muted', id: helpId }, c.message),
      h('div', {}, button),
      notice &&
        h('p', { class: `notice ${notice.tone}`, tabindex: '-1', 'data-notice': notice.tone }, notice.text),
    );
  }

  async #withdraw(c: Commission, program: string): Promise<void> {
    if (this.#withdrawing) return;
    this.#withdrawing = true;
    this.#notice = undefined;
    this.#render();
    try {
      const payout = await this.#request<WidgetPayout>('POST', '/v1/widget/payouts', {
        program,
        asset: c.asset,
      });
      this.#notice = {
        tone: 'success',
        text: `Withdrawal of ${c.available_text} requested. It is paid once it has been approved.`,
      };
      this.#emit('perks-referral-payout', payout);
    } catch (err) {
      const code = err instanceof WidgetApiError ? err.code : 'unknown';
      if (err instanceof WidgetApiError && err.status === 401) {
        this.#withdrawing = false;
        this.#showFailure(failureOf(err));
        return;
      }
      this.#notice = {
        tone: 'error',
        text:
          code === 'payout_below_minimum'
            ? `Withdrawals open at ${c.minimum_text}.`
            : code === 'insufficient_balance'
              ? 'Your balance has changed; check it and try again.'
              : 'The withdrawal could not be requested. Try again in a moment.',
      };
    }
    this.#withdrawing = false;
    await this.#load();
    const notice = this.#notice;
    if (notice) {
      this.#announce(notice.text);
      this.#root.querySelector<HTMLElement>('[data-notice]')?.focus();
    }
  }

  #render(): void {
    const data = this.#data;
    if (!data) return;
    const locale = this.#locale;
    const stat = (label: string, value: number, name: string) =>
      h(
        'div',
        { class: 'stat' },
        h('dt', {}, label),
        h('dd', { 'data-stat': name }, value.toLocaleString(locale)),
      );
    const rewards =
      data.rewards.length > 0
        ? h(
            'ul',
            { class: 'rewards', part: 'rewards' },
            ...data.rewards.map((r) => h('li', { 'data-asset': r.asset }, rewardLine(r, locale))),
          )
        : h('p', { class: 'muted' }, 'No rewards yet.');
    const pending = data.pending_rewards.map((p) =>
      h(
        'p',
        { class: 'muted' },
        `On the way: ${p.text} for ${p.referrals} pending referral${p.referrals === 1 ? '' : 's'}.`,
      ),
    );
    this.#body.replaceChildren(
      h(
        'section',
        { class: 'card', part: 'card', 'aria-labelledby': 'perks-title', 'data-state': 'ready' },
        h('h2', { id: 'perks-title' }, data.program.name),
        data.program.description && h('p', { class: 'muted' }, data.program.description),
        data.status === 'suspended' &&
          h(
            'p',
            { class: 'notice error', role: 'note' },
            `Your referrals are paused${data.suspended_at ? ` since ${shortDate(data.suspended_at, locale)}` : ''}. Contact support to resume them.`,
          ),
        data.eligibility &&
          h(
            'p',
            { class: 'notice', part: 'hint', 'data-eligibility': data.eligibility.unmet },
            data.eligibility.message,
          ),
        data.code && this.#copyField('code', 'Your referral code', data.code),
        data.link && this.#copyField('link', 'Your referral link', data.link),
        h(
          'dl',
          { class: 'stats', part: 'stats' },
          stat('Invited', data.referrals.invited, 'invited'),
          stat('Converted', data.referrals.converted, 'converted'),
        ),
        h('div', {}, h('h3', {}, 'Rewards earned'), rewards, ...pending),
        data.option && h('p', { class: 'muted' }, `Your reward: ${data.option.name}.`),
        ...data.commission.map((c) => this.#commission(c, data.program.key)),
      ),
    );
  }
}
