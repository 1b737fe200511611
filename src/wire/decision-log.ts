// What the name check refused (or, in audit mode, would have refused), counted per name, address,
// port and reason. Bounded like the DNS decision log: the build chooses the names it sends, and a
// build that sends millions must not grow the record or the summary without end.
import type { WireReason } from './check.js';

export interface WireDecision {
  /** The name the connection carried (TLS server_name or HTTP Host); absent when it carried none. */
  name?: string;
  address: string;
  port: number;
  /** The names the resolver gave this address for, during the run. */
  learnedFor: string[];
  reason: WireReason;
  /** Why, in words, for the first connection counted here. */
  detail: string;
  /** False: audit mode let it through. */
  enforced: boolean;
  count: number;
  first: string;
  last: string;
  /** A row for many names: once the log is full, new ones count under their address, port and reason. */
  folded?: true;
}

/** Distinct rows kept one by one; past them, new names fold into one row per address, port and reason. */
export const WIRE_LOG_LIMIT = 10_000;

export class WireDecisionLog {
  private readonly rows = new Map<string, WireDecision>();

  record(d: Omit<WireDecision, 'count' | 'first' | 'last' | 'folded'>, at = new Date()): WireDecision {
    const time = at.toISOString();
    const key = `${d.enforced} ${d.reason} ${d.address} ${d.port} ${d.name ?? ''}`;
    const folded = `${d.enforced} ${d.reason} ${d.address} ${d.port} *`;
    let row = this.rows.get(key) ?? this.rows.get(folded);
    if (!row) {
      const fold = this.rows.size >= WIRE_LOG_LIMIT;
      row = {
        ...d,
        learnedFor: [...d.learnedFor],
        ...(fold ? { name: '*', folded: true as const } : {}),
        count: 0,
        first: time,
        last: time,
      };
      this.rows.set(fold ? folded : key, row);
    }
    row.count++;
    row.last = time;
    for (const n of d.learnedFor) if (!row.learnedFor.includes(n)) row.learnedFor.push(n);
    return row;
  }

  /** A refusal (or, not `enforced`, what audit mode let through), with the names the resolver gave its address. */
  refusal(
    d: { reason: WireReason; detail: string; name?: string; address: string; port: number },
    enforced: boolean,
    namesOf: (address: string) => Iterable<string>,
  ): WireDecision {
    return this.record({
      ...(d.name !== undefined ? { name: d.name } : {}),
      address: d.address,
      port: d.port,
      learnedFor: d.address ? [...namesOf(d.address)] : [],
      reason: d.reason,
      detail: d.detail,
      enforced,
    });
  }

  decisions(): WireDecision[] {
    return [...this.rows.values()].map((r) => ({ ...r, learnedFor: [...r.learnedFor].sort() }));
  }
}
