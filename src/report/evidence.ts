// From raw packets and DNS decisions to what a person reads: denied destinations with counts and
// names, and for audit runs the allowlist that block mode would need. Pure.
import type { LoggedPacket } from './nflog.js';

export interface DeniedDestination {
  protocol: LoggedPacket['protocol'];
  address: string;
  port?: number;
  /** Names the resolver answered with this address during the run. */
  names: string[];
  /** True when the fence refused it; false when audit mode let it through. */
  enforced: boolean;
  /** A connection or datagram to the build from outside: `address` is where it came from, `port` the build's. */
  inbound?: true;
  count: number;
  first: string;
  last: string;
}

export function aggregateDenied(packets: LoggedPacket[], namesOf: ReadonlyMap<string, ReadonlySet<string>>): DeniedDestination[] {
  const byKey = new Map<string, DeniedDestination>();
  for (const p of packets) {
    const key = `${p.enforced} ${p.inbound ?? false} ${p.protocol} ${p.address} ${p.port ?? ''}`;
    const at = new Date(p.time * 1000).toISOString();
    const d = byKey.get(key);
    if (d) {
      d.count++;
      if (at < d.first) d.first = at;
      if (at > d.last) d.last = at;
      continue;
    }
    byKey.set(key, {
      protocol: p.protocol,
      address: p.address,
      ...(p.port !== undefined ? { port: p.port } : {}),
      names: [...(namesOf.get(p.address) ?? [])].sort(),
      enforced: p.enforced,
      ...(p.inbound ? { inbound: true as const } : {}),
      count: 1,
      first: at,
      last: at,
    });
  }
  return [...byKey.values()].sort((a, b) => b.count - a.count || a.address.localeCompare(b.address) || (a.port ?? 0) - (b.port ?? 0));
}

/**
 * Entries that would let through what audit mode recorded: the name where the build used one,
 * the address only where it did not. ICMP and other protocols have no entry form and are left out,
 * and so are inbound attempts: the allowlist opens the build's way out, never a way in.
 */
export function suggestAllowlist(denied: DeniedDestination[]): string[] {
  const entries = new Set<string>();
  for (const d of denied) {
    if (d.enforced || d.inbound || d.port === undefined || (d.protocol !== 'tcp' && d.protocol !== 'udp')) continue;
    const hosts = d.names.length > 0 ? d.names : [d.address.includes(':') ? `[${d.address}]` : d.address];
    for (const host of hosts) entries.add(d.protocol === 'tcp' ? `${host}:${d.port}` : `udp://${host}:${d.port}`);
  }
  return [...entries].sort();
}

/** `tcp 192.0.2.1:443`, `tcp [2001:db8::1]:443`; inbound: `inbound tcp from 192.0.2.9 to port 8080`. */
export function describeAttempt(d: Pick<DeniedDestination, 'protocol' | 'address' | 'port' | 'inbound'>): string {
  if (d.inbound) return `inbound ${d.protocol} from ${d.address}${d.port !== undefined ? ` to port ${d.port}` : ''}`;
  const host = d.address.includes(':') && d.port !== undefined ? `[${d.address}]` : d.address;
  return `${d.protocol} ${host}${d.port !== undefined ? `:${d.port}` : ''}`;
}

export function deniedTotal(denied: DeniedDestination[]): number {
  return denied.reduce((sum, d) => sum + d.count, 0);
}
