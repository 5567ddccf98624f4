import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { PreflightError } from '@preflight/core';
import type { AddressClass, PlatformEndpoint, ScopePolicy } from './policy.js';

export type Lookup = (host: string) => Promise<Array<{ address: string; family: number }>>;

export const systemLookup: Lookup = (host) => dnsLookup(host, { all: true, verbatim: true });

/** An address a connector may connect to: checked, and the one it must use (no second lookup). */
export interface CheckedAddress {
  /** The name as configured (for TLS server names and messages). */
  host: string;
  address: string;
  family: 4 | 6;
  port: number;
}

type Klass = AddressClass | 'public' | 'unspecified' | 'multicast' | 'reserved';

function blocks(list: Array<[string, number, 'ipv4' | 'ipv6']>): BlockList {
  const b = new BlockList();
  for (const [net, prefix, type] of list) b.addSubnet(net, prefix, type);
  return b;
}

const RANGES: Array<[Klass, BlockList]> = [
  ['unspecified', blocks([['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6']])],
  ['loopback', blocks([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']])],
  ['link-local', blocks([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']])],
  ['private', blocks([['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['100.64.0.0', 10, 'ipv4'], ['fc00::', 7, 'ipv6']])],
  ['multicast', blocks([['224.0.0.0', 4, 'ipv4'], ['ff00::', 8, 'ipv6']])],
  ['reserved', blocks([['240.0.0.0', 4, 'ipv4']])],
];

/** `::ffff:10.0.0.1` is 10.0.0.1 to the kernel; judge the address it really is. */
function unmap(address: string): { address: string; type: 'ipv4' | 'ipv6' } {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return { address: m[1]!, type: 'ipv4' };
  return { address, type: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

export function classify(address: string): Klass {
  const a = unmap(address);
  for (const [k, list] of RANGES) if (list.check(a.address, a.type)) return k;
  return 'public';
}

/** Addresses that reach this machine: where the platform's own listeners are. */
function thisHost(address: string): boolean {
  const k = classify(address);
  if (k === 'loopback' || k === 'unspecified') return true;
  const a = unmap(address).address;
  return Object.values(networkInterfaces()).some((list) => (list ?? []).some((i) => unmap(i.address).address === a));
}

function cidrMatch(entry: string, address: string): boolean {
  const m = /^(.+)\/(\d+)$/.exec(entry);
  const a = unmap(address);
  const net = m ? m[1]! : entry;
  const type = isIP(net) === 6 ? 'ipv6' : isIP(net) === 4 ? 'ipv4' : null;
  if (!type) return false;
  const b = new BlockList();
  b.addSubnet(net, m ? Number(m[2]) : type === 'ipv4' ? 32 : 128, type);
  return b.check(a.address, a.type);
}

function refuse(field: string, value: string, rule: string): PreflightError {
  return new PreflightError('CONFIG', `${field}: ${value} is refused by the egress policy: ${rule}; no connection was made`, {
    retriable: false,
    details: { rule: 'egress', field },
    issues: [{ field, message: `refused by the egress policy: ${rule}`, value }],
  });
}

/**
 * Resolves a source address once and checks every address it resolves to; the caller connects
 * to the returned address, so a DNS answer that changes between check and connect (rebinding)
 * cannot take the connection anywhere unchecked.
 */
export async function checkEgress(policy: ScopePolicy, tenantId: string, field: string, host: string, port: number, lookup: Lookup = systemLookup): Promise<CheckedAddress> {
  const name = host.replace(/^\[|\]$/g, '');
  const shown = `${host}:${port}`;
  let addresses: Array<{ address: string; family: number }>;
  if (isIP(name)) addresses = [{ address: name, family: isIP(name) }];
  else {
    try {
      addresses = await lookup(name);
    } catch (e) {
      throw new PreflightError('CONNECTIVITY', `${field}: cannot resolve ${name} (${(e as NodeJS.ErrnoException).code ?? 'DNS error'})`, { cause: e, retriable: true });
    }
    if (addresses.length === 0) throw new PreflightError('CONNECTIVITY', `${field}: ${name} resolves to no address`, { retriable: true });
  }
  const platform = await platformAddresses(policy.platformEndpoints, lookup);
  const allow = policy.tenantAllow[tenantId] ?? [];
  const nameAllowed = allow.some((e) => e.toLowerCase() === name.toLowerCase());
  for (const { address } of addresses) {
    const hit = platform.find((p) => p.port === port && (p.address === unmap(address).address || (p.thisHost && thisHost(address))));
    if (hit) throw refuse(field, shown, `it is the platform's own ${hit.what} (${hit.endpoint}); platform endpoints are never reachable through a connector`);
    const k = classify(address);
    if (k === 'unspecified' || k === 'multicast' || k === 'reserved') throw refuse(field, shown, `${address} is a ${k} address, not a source`);
    if (k === 'public') continue;
    if (policy.allowRanges.includes(k) || nameAllowed || allow.some((e) => cidrMatch(e, address))) continue;
    throw refuse(field, shown, `${address} is a ${k} address, and ${policy.mode} mode allows ${policy.allowRanges.length ? policy.allowRanges.join(', ') : 'no non-public'} ranges; add it to tenant ${tenantId}'s allowlist (PREFLIGHT_EGRESS_TENANT_ALLOW) if this source is really the tenant's`);
  }
  const first = addresses[0]!;
  return { host: name, address: first.address, family: first.family === 6 ? 6 : 4, port };
}

interface PlatformAddress {
  address: string;
  port: number;
  thisHost: boolean;
  what: string;
  endpoint: string;
}

const resolved = new Map<string, { at: number; addresses: string[] }>();
const RESOLVE_TTL_MS = 60_000;

async function platformAddresses(endpoints: PlatformEndpoint[], lookup: Lookup): Promise<PlatformAddress[]> {
  const out: PlatformAddress[] = [];
  for (const e of endpoints) {
    let addresses: string[];
    if (isIP(e.host)) addresses = [e.host];
    else {
      const cached = resolved.get(e.host);
      if (cached && Date.now() - cached.at < RESOLVE_TTL_MS) addresses = cached.addresses;
      else {
        // An endpoint we cannot resolve is one a connector cannot reach by that name either;
        // `localhost` is always this host.
        addresses = e.host === 'localhost' ? ['127.0.0.1', '::1'] : await lookup(e.host).then((r) => r.map((x) => x.address), () => []);
        resolved.set(e.host, { at: Date.now(), addresses });
      }
    }
    for (const a of addresses) out.push({ address: unmap(a).address, port: e.port, thisHost: thisHost(a), what: e.what, endpoint: `${e.host}:${e.port}` });
  }
  return out;
}
