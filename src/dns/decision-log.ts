// The resolver's evidence: every DNS decision counted, per name, type and verdict, in bounded
// memory. Past DECISION_LIMIT names, new names count in folded rows under their domain.
import type { Unforwarded } from './query.js';

export interface DnsDecision {
  name: string;
  type: string;
  /**
   * What happened: allowed (an entry allows the name), refused (block mode: NXDOMAIN, never sent
   * upstream) or audited (audit mode: no entry allows it, forwarded anyway; block mode would refuse it).
   */
  verdict: 'allowed' | 'refused' | 'audited';
  forwarded: boolean;
  addresses: string[];
  count: number;
  first: string;
  last: string;
  /** A row for many names: once the log is full, new names count under `*.` and their last two labels (then under `*`, of type `*`). */
  folded?: true;
  /**
   * Set when the query was answered here for its form, whatever its name: `malformed` (FORMERR;
   * name and type are empty when unreadable), `opcode` (NOTIMP), `class` or `type` (REFUSED).
   */
  reason?: Unforwarded;
}

/** The decision one query got: what a row is keyed and described by. */
export interface Decided {
  name: string;
  type: string;
  verdict: DnsDecision['verdict'];
  forwarded: boolean;
  reason?: Unforwarded;
}

/** A decision as it is counted; `DnsDecision` is what it reads as. */
export interface Tally extends Decided {
  addresses: Set<string>;
  count: number;
  first: number;
  last: number;
  folded?: true;
}

/**
 * Distinct names the decision log keeps one by one, then rows of folded names it keeps: a build
 * that tunnels data through names asks millions, and the log is held in memory, written to the
 * record and summarized. What is folded is still counted, under the domain it went to.
 */
export const DECISION_LIMIT = 10_000;
export const FOLDED_LIMIT = 1_000;

export class DecisionLog {
  private readonly rows = new Map<string, Tally>();
  private foldedRows = 0;

  /** The row `decided` counts in, made on first use; callers may keep it for the next query of the same bytes. */
  row(decided: Decided, now: number): Tally {
    return this.rows.get(keyOf(decided, decided.name)) ?? this.newRow(decided, now);
  }

  /** Counts one more query in `row`, with the addresses it was answered with. */
  count(row: Tally, now: number, addresses: ReadonlyArray<{ address: string }>): void {
    row.count++;
    row.last = now;
    for (const a of addresses) row.addresses.add(a.address);
  }

  decisions(): DnsDecision[] {
    return [...this.rows.values()].map(asDecision);
  }

  /** A new row for the name, or, once the log is full, the row its name folds into. */
  private newRow(decided: Decided, now: number): Tally {
    const row = (name: string, folded: boolean): Tally => ({
      ...decided,
      name,
      addresses: new Set(),
      count: 0,
      first: now,
      last: now,
      ...(folded ? { folded: true as const } : {}),
    });
    if (this.rows.size < DECISION_LIMIT) {
      const t = row(decided.name, false);
      this.rows.set(keyOf(decided, decided.name), t);
      return t;
    }
    const folded = (domain: string) => `${keyOf(decided, domain)} folded`;
    const domain = `*.${decided.name.split('.').slice(-2).join('.')}`;
    // The last row takes any name of any type (one per verdict): types are the build's to choose.
    const last = `${decided.verdict} * * folded`;
    const found = this.rows.get(folded(domain)) ?? (this.foldedRows >= FOLDED_LIMIT ? this.rows.get(last) : undefined);
    if (found) return found;
    if (this.foldedRows >= FOLDED_LIMIT) {
      // Of any reason too: the first query's does not name the row.
      const t: Tally = { ...row('*', true), type: '*', reason: undefined };
      this.rows.set(last, t);
      return t;
    }
    const t = row(domain, true);
    this.rows.set(folded(domain), t);
    this.foldedRows++;
    return t;
  }
}

/** The names an address was answered for: the latest ones with when last (ms), and how many there were in all. */
export interface Answered {
  readonly names: ReadonlyMap<string, number>;
  readonly total: number;
}

/** Which names were answered with each address: a connection's names in the record. */
export type NamesOf = ReadonlyMap<string, Answered>;

/** Addresses the log remembers names for, and names per address: tunnelling through names cannot grow it without bound. */
export const NAMED_ADDRESS_LIMIT = 10_000;
export const NAMES_PER_ADDRESS = 64;

/** The names each answered address was given for, in every mode (audit too), bounded. */
export class AddressNames {
  readonly map = new Map<string, { names: Map<string, number>; total: number }>();

  note(addresses: ReadonlyArray<{ address: string }>, name: string, now: number): void {
    for (const { address } of addresses) {
      let answered = this.map.get(address);
      if (!answered) {
        // The oldest address goes first: its names matter least to what the build does next.
        if (this.map.size >= NAMED_ADDRESS_LIMIT) this.map.delete(this.map.keys().next().value!);
        this.map.set(address, (answered = { names: new Map<string, number>(), total: 0 }));
      }
      // A name forgotten past NAMES_PER_ADDRESS and asked again counts again: `total` is at least the distinct names.
      if (!answered.names.delete(name)) answered.total++;
      answered.names.set(name, now);
      if (answered.names.size > NAMES_PER_ADDRESS) answered.names.delete(answered.names.keys().next().value!);
    }
  }
}

function keyOf(d: Decided, name: string): string {
  return `${d.verdict} ${d.type} ${name}${d.reason ? ` ${d.reason}` : ''}`;
}

/** What tells one row from another: a row printed again (a Pod's resolver prints each change) replaces the one before. */
export function decisionKey(d: DnsDecision): string {
  return `${keyOf(d, d.name)}${d.folded ? ' folded' : ''}`;
}

export function asDecision(t: Tally): DnsDecision {
  return {
    name: t.name,
    type: t.type,
    verdict: t.verdict,
    forwarded: t.forwarded,
    addresses: [...t.addresses],
    count: t.count,
    first: new Date(t.first).toISOString(),
    last: new Date(t.last).toISOString(),
    ...(t.folded ? { folded: true as const } : {}),
    ...(t.reason ? { reason: t.reason } : {}),
  };
}
