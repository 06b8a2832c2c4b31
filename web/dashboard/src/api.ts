// The dashboard speaks only to Perks' public HTTP API, with the workspace secret key the operator
// signed in with. The key lives in sessionStorage (gone when the tab closes) and is sent in the
// Authorization header, never in a URL.

const KEY_STORAGE = 'perks.dashboard.key';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function storeKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY_STORAGE);
  else sessionStorage.setItem(KEY_STORAGE, key);
}

/** One field error as the API reports it in `error.errors`. */
export interface FieldError {
  param: string;
  message: string;
}

/** A typed API error: the envelope `{error: {type, code, message, param, errors?}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null,
    readonly fieldErrors: FieldError[],
    readonly body: unknown,
  ) {
    super(message);
  }

  /** The message for one form field (`body.amount` or `amount`), if the API named it. */
  forField(name: string): string | undefined {
    const matches = (p: string | null) => p === name || p === `body.${name}` || p?.endsWith(`.${name}`);
    const hit = this.fieldErrors.find((e) => matches(e.param));
    if (hit) return hit.message;
    return matches(this.param) ? this.message : undefined;
  }
}

interface ErrorBody {
  error?: {
    code?: string;
    message?: string;
    param?: string | null;
    errors?: { param?: string; message?: string }[];
  };
}

let onUnauthorized: () => void = () => {};
/** Called when the API answers 401: the key was revoked or is wrong, so the operator signs in again. */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export async function api<T>(method: string, path: string, body?: unknown, key = storedKey()): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (e) {
    throw new ApiError(
      0,
      'network_error',
      `Perks could not be reached: ${(e as Error).message}`,
      null,
      [],
      null,
    );
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const err = (json as ErrorBody | null)?.error;
    if (res.status === 401) onUnauthorized();
    throw new ApiError(
      res.status,
      err?.code ?? `http_${res.status}`,
      err?.message ?? `the API answered ${res.status}`,
      err?.param ?? null,
      (err?.errors ?? []).map((e) => ({ param: e.param ?? '', message: e.message ?? '' })),
      json,
    );
  }
  return json as T;
}

/** A page of a list endpoint: `{object: 'list', data, has_more}`, paged with `starting_after`. */
export interface Page<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
}

/** Builds a query string from the defined, non-empty values. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
