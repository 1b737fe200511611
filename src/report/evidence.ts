// From raw packets and DNS decisions to what a person reads: denied destinations with counts and
// names, and for audit runs the allowlist that block mode would need. Pure.
import type { NamesOf } from '../dns/decision-log.js';
import type { LoggedPacket } from './nflog.js';

export interface DeniedDestination {
  protocol: LoggedPacket['protocol'];
  address: string;
  port?: number;
  /** Names the resolver answered with this address during the run (in audit mode too). */
  names: string[];
  /** Of those, the one asked last before the first attempt: the name that most likely led here. */
  name?: string;
  /** True when the fence refused it; false when audit mode let it through. */
  enforced: boolean;
  count: number;
  first: string;
  last: string;
}

export function aggregateDenied(packets: LoggedPacket[], namesOf: NamesOf): DeniedDestination[] {
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
      ...namesBefore(namesOf.get(p.address), p.time * 1000),
      enforced: p.enforced,
      count: 1,
      first: at,
      last: at,
    });
  }
  return [...byKey.values()].sort((a, b) => b.count - a.count || a.address.localeCompare(b.address) || (a.port ?? 0) - (b.port ?? 0));
}

export function deniedTotal(denied: DeniedDestination[]): number {
  return denied.reduce((sum, d) => sum + d.count, 0);
}

/** The names answered with an address, and the one answered last before `at` (ms), if any. */
function namesBefore(names: ReadonlyMap<string, number> | undefined, at: number): { names: string[]; name?: string } {
  if (!names) return { names: [] };
  let last: [string, number] | undefined;
  for (const [name, time] of names) if (time <= at && (!last || time >= last[1])) last = [name, time];
  return { names: [...names.keys()].sort(), ...(last ? { name: last[0] } : {}) };
}
