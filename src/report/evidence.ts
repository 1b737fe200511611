// From logged packets and DNS decisions to what a person reads: denied destinations with counts
// and names, and for audit runs the allowlist that block mode would need. Pure.
import type { NamesOf } from '../dns/decision-log.js';
import type { WireReason } from '../wire/check.js';
import type { WireDecision } from '../wire/decision-log.js';
import type { LoggedPacket } from './nflog.js';

/** One destination as the log counted it (the reader keeps these, not the packets). */
export interface DeniedTally {
  protocol: LoggedPacket['protocol'];
  /** `*` in the last folded row: any address. */
  address: string;
  port?: number;
  /** True when the fence refused it; false when audit mode let it through. */
  enforced: boolean;
  /** A connection or datagram to the build from outside: `address` is where it came from, `port` the build's. */
  inbound?: true;
  /** Attempts the log holds for it (per destination the log is limited, see LOG_LIMIT). */
  count: number;
  /** Seconds since the epoch. */
  first: number;
  last: number;
  /** A row for many destinations: once the log holds DESTINATION_LIMIT, new ones count per address (then all in one). */
  folded?: true;
}

export interface DeniedDestination extends Omit<DeniedTally, 'first' | 'last'> {
  /** Names the resolver answered with this address during the run (in audit mode too), at most NAMES_PER_ROW. */
  names: string[];
  /** Of all its names, the one answered last before the first attempt: the name that most likely led here. */
  name?: string;
  /** How many more names it was answered for (the DNS decisions list them). */
  moreNames?: number;
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
    names: d.learnedFor.slice(0, NAMES_PER_ROW),
    ...(d.learnedFor.length > NAMES_PER_ROW ? { moreNames: d.learnedFor.length - NAMES_PER_ROW } : {}),
    enforced: d.enforced,
    count: d.count,
    first: d.first,
    last: d.last,
    reason: d.reason,
    ...(d.name !== undefined ? { asked: d.name } : {}),
    detail: d.detail,
  }));
}

/** Every denied destination, the name check's beside the log's, the most frequent first. */
export function allDenied(tallies: DeniedTally[], namesOf: NamesOf, wire: WireDecision[]): DeniedDestination[] {
  return [...deniedDestinations(tallies, namesOf), ...wireDenied(wire)].sort(
    (a, b) => b.count - a.count || a.address.localeCompare(b.address) || (a.port ?? 0) - (b.port ?? 0),
  );
}

/**
 * Destinations the log keeps one by one, then rows of folded destinations: a port scan sends to
 * millions, and the log is held in memory, written to the record and summarized. What is folded
 * is still counted, under its address, or past FOLDED_DESTINATION_LIMIT addresses under `*`.
 */
export const DESTINATION_LIMIT = 10_000;
export const FOLDED_DESTINATION_LIMIT = 1_000;
/** Names listed per denied destination, and in all denied destinations of a record. */
export const NAMES_PER_ROW = 10;
export const NAMES_PER_RECORD = 1_000;

export class DeniedLog {
  private readonly rows = new Map<string, DeniedTally>();
  private foldedRows = 0;

  static of(packets: Iterable<LoggedPacket>): DeniedLog {
    const log = new DeniedLog();
    for (const p of packets) log.add(p);
    return log;
  }

  add(p: LoggedPacket): void {
    const row = this.row(p);
    row.count++;
    row.first = Math.min(row.first, p.time);
    row.last = Math.max(row.last, p.time);
  }

  tallies(): DeniedTally[] {
    return [...this.rows.values()].map((t) => ({ ...t }));
  }

  private row(p: LoggedPacket): DeniedTally {
    const key = `${p.enforced} ${p.inbound ?? false} ${p.protocol} ${p.address} ${p.port ?? ''}`;
    const found = this.rows.get(key);
    if (found) return found;
    const fresh = (address: string, port: number | undefined, folded: boolean): DeniedTally => ({
      protocol: p.protocol,
      address,
      ...(port !== undefined ? { port } : {}),
      enforced: p.enforced,
      ...(p.inbound ? { inbound: true as const } : {}),
      count: 0,
      first: p.time,
      last: p.time,
      ...(folded ? { folded: true as const } : {}),
    });
    if (this.rows.size < DESTINATION_LIMIT) {
      const t = fresh(p.address, p.port, false);
      this.rows.set(key, t);
      return t;
    }
    const folded = (address: string) => `${p.enforced} ${p.inbound ?? false} ${p.protocol} ${address} folded`;
    const byAddress =
      this.rows.get(folded(p.address)) ?? (this.foldedRows >= FOLDED_DESTINATION_LIMIT ? this.rows.get(folded('*')) : undefined);
    if (byAddress) return byAddress;
    const address = this.foldedRows < FOLDED_DESTINATION_LIMIT ? p.address : '*';
    const t = fresh(address, undefined, true);
    this.rows.set(folded(address), t);
    this.foldedRows++;
    return t;
  }
}

/**
 * The denied destinations of a record, the most frequent first, each with the names its address
 * was answered for: at most NAMES_PER_ROW a row and NAMES_PER_RECORD in all, with how many more.
 */
export function deniedDestinations(tallies: DeniedTally[], namesOf: NamesOf): DeniedDestination[] {
  const sorted = [...tallies].sort(
    (a, b) =>
      b.count - a.count || a.address.localeCompare(b.address) || (a.port ?? 0) - (b.port ?? 0) || Number(b.enforced) - Number(a.enforced),
  );
  let budget = NAMES_PER_RECORD;
  return sorted.map((t) => {
    const answered = namesOf.get(t.address);
    const all = [...(answered?.names.keys() ?? [])].sort();
    const latest = lastBefore(answered?.names, t.first * 1000);
    const names = all.slice(0, Math.min(NAMES_PER_ROW, budget));
    budget -= names.length;
    // The name that led here counts against the record's budget of names like the listed ones.
    const led = latest !== undefined && (names.includes(latest) || budget-- > 0) ? latest : undefined;
    return {
      protocol: t.protocol,
      address: t.address,
      ...(t.port !== undefined ? { port: t.port } : {}),
      names,
      ...(led !== undefined ? { name: led } : {}),
      ...((answered?.total ?? 0) > names.length ? { moreNames: answered!.total - names.length } : {}),
      enforced: t.enforced,
      ...(t.inbound ? { inbound: true as const } : {}),
      count: t.count,
      first: new Date(t.first * 1000).toISOString(),
      last: new Date(t.last * 1000).toISOString(),
      ...(t.folded ? { folded: true as const } : {}),
    };
  });
}

/** Attempts the log holds, over all destinations. */
export function loggedTotal(denied: ReadonlyArray<{ count: number }>): number {
  return denied.reduce((sum, d) => sum + d.count, 0);
}

/** The name answered last at or before `at` (ms), if any. */
function lastBefore(names: ReadonlyMap<string, number> | undefined, at: number): string | undefined {
  let last: [string, number] | undefined;
  for (const [name, time] of names ?? []) if (time <= at && (!last || time >= last[1])) last = [name, time];
  return last?.[0];
}
