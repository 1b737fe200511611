// From raw packets and DNS decisions to what a person reads: denied destinations with counts and
// names, and for audit runs the allowlist that block mode would need. Pure.
import type { WireReason } from '../wire/check.js';
import type { WireDecision } from '../wire/decision-log.js';
import type { LoggedPacket } from './nflog.js';

export interface DeniedDestination {
  protocol: LoggedPacket['protocol'];
  address: string;
  port?: number;
  /** Names the resolver answered with this address during the run. */
  names: string[];
  /** True when the fence refused it; false when audit mode let it through. */
  enforced: boolean;
  count: number;
  first: string;
  last: string;
  /** Refused by the name check (an address a name entry opened): why, in a word. */
  reason?: WireReason;
  /** The name the connection carried (TLS server_name or HTTP Host), when it carried one. */
  asked?: string;
  /** The name check's reason in words, for the first such connection. */
  detail?: string;
}

/** The name check's refusals as denied destinations, beside the packets the rules refused. */
export function wireDenied(decisions: WireDecision[]): DeniedDestination[] {
  return decisions.map((d) => ({
    protocol: 'tcp',
    address: d.address,
    port: d.port,
    names: d.learnedFor,
    enforced: d.enforced,
    count: d.count,
    first: d.first,
    last: d.last,
    reason: d.reason,
    ...(d.name !== undefined ? { asked: d.name } : {}),
    detail: d.detail,
  }));
}

/** Every denied destination, the most frequent first. */
export function allDenied(
  packets: LoggedPacket[],
  namesOf: ReadonlyMap<string, ReadonlySet<string>>,
  wire: WireDecision[],
): DeniedDestination[] {
  return [...aggregateDenied(packets, namesOf), ...wireDenied(wire)].sort(byCount);
}

function byCount(a: DeniedDestination, b: DeniedDestination): number {
  return b.count - a.count || a.address.localeCompare(b.address) || (a.port ?? 0) - (b.port ?? 0);
}

export function aggregateDenied(packets: LoggedPacket[], namesOf: ReadonlyMap<string, ReadonlySet<string>>): DeniedDestination[] {
  const byKey = new Map<string, DeniedDestination>();
  for (const p of packets) {
    const key = `${p.enforced} ${p.protocol} ${p.address} ${p.port ?? ''}`;
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
      count: 1,
      first: at,
      last: at,
    });
  }
  return [...byKey.values()].sort(byCount);
}

/**
 * Entries that would let through what audit mode recorded: the name where the build used one,
 * the address only where it did not. ICMP and other protocols have no entry form and are left out.
 */
export function suggestAllowlist(denied: DeniedDestination[]): string[] {
  const entries = new Set<string>();
  for (const d of denied) {
    if (d.enforced || d.port === undefined || (d.protocol !== 'tcp' && d.protocol !== 'udp')) continue;
    // The name check: the name the connection carried, or, where it carried none, the learned name opted out.
    if (d.reason !== undefined) {
      if (d.asked !== undefined && d.asked !== '*') entries.add(`${d.asked}:${d.port}`);
      else for (const n of d.names) entries.add(`opaque://${n}:${d.port}`);
      continue;
    }
    const hosts = d.names.length > 0 ? d.names : [d.address.includes(':') ? `[${d.address}]` : d.address];
    for (const host of hosts) entries.add(d.protocol === 'tcp' ? `${host}:${d.port}` : `udp://${host}:${d.port}`);
  }
  return [...entries].sort();
}

export function deniedTotal(denied: DeniedDestination[]): number {
  return denied.reduce((sum, d) => sum + d.count, 0);
}
