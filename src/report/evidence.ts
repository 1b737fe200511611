// From logged packets and DNS decisions to what a person reads: denied destinations with counts
// and names, and for audit runs the allowlist that block mode would need. Pure.
import type { LoggedPacket } from './nflog.js';

/** One destination as the log counted it (the reader keeps these, not the packets). */
export interface DeniedTally {
  protocol: LoggedPacket['protocol'];
  /** `*` in the last folded row: any address. */
  address: string;
  port?: number;
  /** True when the fence refused it; false when audit mode let it through. */
  enforced: boolean;
  /** Attempts the log holds for it (per destination the log is limited, see LOG_LIMIT). */
  count: number;
  /** Seconds since the epoch. */
  first: number;
  last: number;
  /** A row for many destinations: once the log holds DESTINATION_LIMIT, new ones count per address (then all in one). */
  folded?: true;
}

export interface DeniedDestination extends Omit<DeniedTally, 'first' | 'last'> {
  /** Names the resolver answered with this address during the run, at most NAMES_PER_ROW. */
  names: string[];
  /** How many more names it was answered for (the DNS decisions list them). */
  moreNames?: number;
  first: string;
  last: string;
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
    const key = `${p.enforced} ${p.protocol} ${p.address} ${p.port ?? ''}`;
    const found = this.rows.get(key);
    if (found) return found;
    const fresh = (address: string, port: number | undefined, folded: boolean): DeniedTally => ({
      protocol: p.protocol,
      address,
      ...(port !== undefined ? { port } : {}),
      enforced: p.enforced,
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
    const folded = (address: string) => `${p.enforced} ${p.protocol} ${address} folded`;
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
export function deniedDestinations(tallies: DeniedTally[], namesOf: ReadonlyMap<string, ReadonlySet<string>>): DeniedDestination[] {
  const sorted = [...tallies].sort(
    (a, b) =>
      b.count - a.count || a.address.localeCompare(b.address) || (a.port ?? 0) - (b.port ?? 0) || Number(b.enforced) - Number(a.enforced),
  );
  let budget = NAMES_PER_RECORD;
  return sorted.map((t) => {
    const all = [...(namesOf.get(t.address) ?? [])].sort();
    const names = all.slice(0, Math.min(NAMES_PER_ROW, budget));
    budget -= names.length;
    return {
      protocol: t.protocol,
      address: t.address,
      ...(t.port !== undefined ? { port: t.port } : {}),
      names,
      ...(all.length > names.length ? { moreNames: all.length - names.length } : {}),
      enforced: t.enforced,
      count: t.count,
      first: new Date(t.first * 1000).toISOString(),
      last: new Date(t.last * 1000).toISOString(),
      ...(t.folded ? { folded: true as const } : {}),
    };
  });
}

/**
 * Entries that would let through what audit mode recorded: the name where the build used one,
 * the address only where it did not. ICMP and other protocols have no entry form and are left out,
 * and so are folded rows (many ports) and names the record does not list.
 */
export function suggestAllowlist(denied: DeniedDestination[]): string[] {
  const entries = new Set<string>();
  for (const d of denied) {
    if (d.enforced || d.folded || d.port === undefined || (d.protocol !== 'tcp' && d.protocol !== 'udp')) continue;
    const unnamed = d.names.length === 0 && !d.moreNames;
    const hosts = unnamed ? [d.address.includes(':') ? `[${d.address}]` : d.address] : d.names;
    for (const host of hosts) entries.add(d.protocol === 'tcp' ? `${host}:${d.port}` : `udp://${host}:${d.port}`);
  }
  return [...entries].sort();
}

/** Attempts the log holds, over all destinations. */
export function loggedTotal(denied: ReadonlyArray<{ count: number }>): number {
  return denied.reduce((sum, d) => sum + d.count, 0);
}
