import { type LookupAddress, lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { PrivateAddressPolicy } from '../../config.js';
import { PerksError } from '../../core/errors.js';

/**
 * Webhook URLs are given by API callers, and Perks calls them from inside the operator's network. An
 * address that is not on the public internet (loopback, private ranges, link-local such as the cloud
 * metadata service at 169.254.169.254) is refused unless the operator allows it, both when the URL is
 * saved and again at every delivery, on the address actually connected to, so a DNS answer that
 * changes after the check (DNS rebinding) cannot reach such an address either.
 */

export type AddressClass = 'public' | 'loopback' | 'private' | 'link_local' | 'reserved';

function blockList(ranges: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const list = new BlockList();
  for (const [net, prefix, type] of ranges) list.addSubnet(net, prefix, type);
  return list;
}

const LOOPBACK = blockList([
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
]);
const LINK_LOCAL = blockList([
  ['169.254.0.0', 16, 'ipv4'],
  ['fe80::', 10, 'ipv6'],
]);
const PRIVATE = blockList([
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['fc00::', 7, 'ipv6'],
]);
const RESERVED = blockList([
  ['0.0.0.0', 8, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['100::', 64, 'ipv6'],
]);

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) IPv6 address. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return undefined;
  const hi = parseInt(hex[1]!, 16);
  const lo = parseInt(hex[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export function classifyAddress(address: string): AddressClass {
  const v4 = isIP(address) === 6 ? embeddedIpv4(address) : undefined;
  const ip = v4 ?? address;
  const type = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  if (LOOPBACK.check(ip, type)) return 'loopback';
  if (LINK_LOCAL.check(ip, type)) return 'link_local';
  if (PRIVATE.check(ip, type)) return 'private';
  if (RESERVED.check(ip, type)) return 'reserved';
  return 'public';
}

export function addressAllowed(address: string, policy: PrivateAddressPolicy): boolean {
  const cls = classifyAddress(address);
  if (cls === 'public' || policy === 'all') return true;
  return policy === 'loopback' && cls === 'loopback';
}

function refused(message: string): PerksError {
  return new PerksError('webhook_url_refused', message, 'url');
}

const MAX_URL_LENGTH = 2048;

/** Parses and checks the form of a webhook URL (scheme, length, host); no network. */
export function parseWebhookUrl(value: string): URL {
  if (value.length > MAX_URL_LENGTH) throw refused(`the URL must be at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refused(`'${value}' is not an absolute URL such as https://example.com/webhooks/perks`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw refused(`the URL must use https (or http), not ${url.protocol.replace(':', '')}`);
  }
  if (!url.hostname) throw refused('the URL has no host');
  return url;
}

/** The host of a URL as an address or a name (IPv6 literals lose their brackets). */
function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

async function resolveAll(host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses.map((a) => a.address)),
    ),
  );
}

/**
 * Refuses a URL whose host is, or resolves to, an address the policy does not allow. Every address
 * the name resolves to must be allowed, since the connection may use any of them.
 */
export async function assertDeliverableUrl(value: string, policy: PrivateAddressPolicy): Promise<URL> {
  const url = parseWebhookUrl(value);
  const host = hostOf(url);
  let addresses: string[];
  try {
    addresses = await resolveAll(host);
  } catch (err) {
    throw refused(`the host '${host}' does not resolve (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  for (const address of addresses) {
    if (!addressAllowed(address, policy)) {
      throw refused(
        `the host '${host}' resolves to ${address}, a ${classifyAddress(address).replace('_', '-')} address; ` +
          'webhooks go to public addresses only unless the operator sets PERKS_WEBHOOKS_ALLOW_PRIVATE',
      );
    }
  }
  return url;
}

/**
 * A DNS lookup for the HTTP client that drops addresses the policy does not allow, so the socket can
 * only connect to an allowed address whatever the name resolves to at that moment.
 */
export function guardedLookup(policy: PrivateAddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const allowed = addresses.filter((a) => addressAllowed(a.address, policy));
      if (allowed.length === 0) {
        const error: NodeJS.ErrnoException = new Error(
          `refused to connect: '${hostname}' resolves only to addresses that are not public (${addresses
            .map((a) => a.address)
            .join(', ')})`,
        );
        error.code = 'EADDRNOTALLOWED';
        return callback(error, '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      return callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}
