import { POOL_IDLE_TIMEOUT_DEFAULT_MS } from './adapters/db/db.js';
import { checkTrustList, type TrustProxy } from './adapters/http/client.js';
import { AUTH_CACHE_DEFAULT_MS } from './app/workspaces.js';

/** Every setting Perks reads, with its default. The README lists the same table. */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  logLevel: string;
  poolSize: number;
  /**
   * Milliseconds a pooled PostgreSQL connection may stay idle before it is closed; 0 keeps it open.
   * Unset (a config built in code) means the default.
   */
  poolIdleTimeoutMs?: number;
  /** Where the Stripe SDK sends API calls; unset means Stripe itself. Tests point it at a local server. */
  stripeApiBase: string | undefined;
  /** Which private addresses webhook endpoint URLs may resolve to: none, loopback only, or all. */
  webhooksAllowPrivate: PrivateAddressPolicy;
  /** Whether `perks serve` runs the outbox workers (webhook deliveries, Stripe calls) in its process. */
  workers: boolean;
  /**
   * How long an API key lookup is trusted before the store is asked again; 0 asks every time. Unset
   * (a config built in code) means the default, as for an unset variable.
   */
  authCacheMs?: number;
  /** Which proxies may say who the client is (PERKS_TRUST_PROXY); unset (a config built in code): none. */
  trustProxy?: TrustProxy;
}

export type PrivateAddressPolicy = 'none' | 'loopback' | 'all';

/** A setting that cannot be used; the CLI prints its message alone and exits 1. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function privatePolicy(value: string | undefined): PrivateAddressPolicy {
  if (value === undefined || value === '' || value === 'false' || value === 'none') return 'none';
  if (value === 'loopback') return 'loopback';
  if (value === 'true' || value === 'all') return 'all';
  throw new ConfigError(`PERKS_WEBHOOKS_ALLOW_PRIVATE must be none, loopback or all, got '${value}'`);
}

function apiBase(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`STRIPE_API_BASE must be a URL such as http://127.0.0.1:12111, got '${value}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`STRIPE_API_BASE must be an http or https URL, got '${value}'`);
  }
  return value;
}

function int(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got '${value}'`);
  }
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: int('PORT', env.PORT, 4000, 0, 65535),
    host: env.HOST || '127.0.0.1',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.PERKS_DATA_DIR || './.perks',
    logLevel: env.LOG_LEVEL || 'info',
    poolSize: int('DATABASE_POOL_SIZE', env.DATABASE_POOL_SIZE, 20, 1, 1000),
    poolIdleTimeoutMs: int(
      'DATABASE_POOL_IDLE_TIMEOUT_MS',
      env.DATABASE_POOL_IDLE_TIMEOUT_MS,
      POOL_IDLE_TIMEOUT_DEFAULT_MS,
      0,
      86_400_000,
    ),
    stripeApiBase: apiBase(env.STRIPE_API_BASE),
    webhooksAllowPrivate: privatePolicy(env.PERKS_WEBHOOKS_ALLOW_PRIVATE),
    workers: env.PERKS_WORKERS !== 'false' && env.PERKS_WORKERS !== '0',
    authCacheMs: int('PERKS_AUTH_CACHE_MS', env.PERKS_AUTH_CACHE_MS, AUTH_CACHE_DEFAULT_MS, 0, 60_000),
    trustProxy: trustProxy(env.PERKS_TRUST_PROXY),
  };
}

/**
 * PERKS_TRUST_PROXY: unset or `false` trusts no proxy (the client is the socket's peer); `true` trusts
 * any peer's X-Forwarded-For and X-Forwarded-Proto; otherwise a comma-separated list of addresses,
 * CIDR ranges and the names loopback, linklocal and uniquelocal, trusted when the peer matches.
 */
function trustProxy(value: string | undefined): TrustProxy {
  if (value === undefined || value.trim() === '' || value === 'false') return false;
  if (value === 'true') return true;
  const entries = value.split(',').map((entry) => entry.trim());
  // A bare number would parse as an IPv4 address (2 is 0.0.0.2); it is meant as a hop count, which
  // cannot tell a proxy from a client that sends the header itself.
  const hops = entries.find((entry) => /^\d+$/.test(entry));
  const problem =
    hops !== undefined
      ? `'${hops}' looks like a hop count, which is not taken: list the proxies' addresses or ranges`
      : checkTrustList(entries);
  if (problem) {
    throw new ConfigError(
      `PERKS_TRUST_PROXY must be true, false or a comma-separated list of addresses, CIDR ranges, ` +
        `loopback, linklocal or uniquelocal; ${problem} in '${value}'`,
    );
  }
  return entries;
}
