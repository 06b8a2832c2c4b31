/**
 * Calls to the Perks widget endpoints with the customer token. The token goes in the Authorization
 * header, never in a cookie or the URL, so requests carry no ambient credentials.
 */

export class WidgetApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export async function call<T>(
  base: string,
  token: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  idempotencyKey?: string,
): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  let res: Response;
  try {
    res = await fetch(`${base.replace(/\/+$/, '')}${path}`, {
      method,
      headers,
      credentials: 'omit',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new WidgetApiError(0, 'network_error', 'The referral service could not be reached.');
  }
  let parsed: unknown;
  try {
    parsed = await res.json();
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const error = (parsed as { error?: Record<string, unknown> } | undefined)?.error ?? {};
    throw new WidgetApiError(
      res.status,
      typeof error.code === 'string' ? error.code : 'http_error',
      typeof error.message === 'string' ? error.message : `HTTP ${res.status}`,
      error,
    );
  }
  return parsed as T;
}

/** A random Idempotency-Key; getRandomValues works in plain-http pages too, unlike randomUUID. */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `widget_${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
