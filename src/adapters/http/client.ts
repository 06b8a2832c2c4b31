import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import proxyaddr from '@fastify/proxy-addr';

/**
 * Which peers may say who the client is (X-Forwarded-For, X-Forwarded-Proto): none (false), any
 * (true: only when Perks is reachable through the proxy alone), or those whose address matches one
 * of the entries (addresses, CIDR ranges, `loopback`, `linklocal`, `uniquelocal`). PERKS_TRUST_PROXY.
 */
export type TrustProxy = boolean | string[];

export interface Client {
  /** The client's address: the socket's peer, or the address a trusted proxy forwarded for it. */
  ip: string | undefined;
  /** Whether the client's request came over TLS, to Perks or to a trusted proxy. */
  https: boolean;
}

/**
 * Reads the client of a raw request as Fastify's req.ip and req.protocol do under the same trust,
 * for the code that answers before the framework (the referral-link fast lane).
 */
export function clientReader(trust: TrustProxy): (req: IncomingMessage) => Client {
  const encrypted = (req: IncomingMessage) => (req.socket as TLSSocket).encrypted === true;
  if (trust === false) return (req) => ({ ip: req.socket.remoteAddress, https: encrypted(req) });
  const trusted = trust === true ? () => true : proxyaddr.compile(trust);
  return (req) => {
    const forwardedProto = req.headers['x-forwarded-proto'];
    const proto =
      typeof forwardedProto === 'string' && trusted(req.socket.remoteAddress ?? '', 0)
        ? forwardedProto.slice(forwardedProto.lastIndexOf(',') + 1).trim()
        : undefined;
    return { ip: proxyaddr(req, trusted), https: proto === undefined ? encrypted(req) : proto === 'https' };
  };
}

/** Checks a trust list as Fastify will compile it; the error names the entry that cannot be used. */
export function checkTrustList(entries: string[]): string | undefined {
  try {
    proxyaddr.compile(entries);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
