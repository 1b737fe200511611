// From what audit runs recorded to a release grade's allow list: merged over many runs, in names
// wherever a name led to the address, a preset where one covers every use of its names, a
// wildcard only where several subdomains of one registrable domain were used (never over a
// public suffix), addresses last. Pure.
import { getDomain } from 'tldts';
import { formatEntry, parseEntry } from '../policy/allowlist.js';
import { covers } from '../policy/coverage.js';
import { PRESET_PREFIX } from '../policy/allowlist.js';
import { PRESETS } from '../policy/presets.js';
import type { Entry, Protocol } from '../run/entry.js';
import type { DnsDecision } from '../dns/decision-log.js';
import type { DeniedDestination } from './evidence.js';

/** What a suggestion reads of a record. */
export interface Recorded {
  allowlist: string[];
  denied: DeniedDestination[];
  dns: DnsDecision[];
}

/** How many distinct subdomains of one registrable domain, on one port, make a wildcard. */
export const WILDCARD_MIN = 3;

export interface Suggestion {
  entry: string;
  kind: 'preset' | 'name' | 'wildcard' | 'address' | 'kept';
  /** Runs it came from, of `totalRuns`. */
  runs: number;
  totalRuns: number;
  attempts: number;
  /** The names a preset or a wildcard stands for. */
  names?: string[];
}

/** One destination a build used: a name (or an address no name led to), a protocol and a port. */
interface Use {
  host: string;
  byName: boolean;
  /** The name opted out of the name check (`opaque://`): its connections carried no name. */
  opaque: boolean;
  protocol: Protocol;
  port: number;
  runs: Set<number>;
  attempts: number;
}

/** The grade's allow list that would let the recorded builds through, and nothing they did not use. */
export function suggestEntries(records: Recorded[]): Suggestion[] {
  const total = records.length;
  const uses = new Map<string, Use>();
  const kept = new Map<string, { runs: Set<number>; attempts: number }>();
  records.forEach((record, run) => {
    for (const d of record.denied) {
      // Folded rows stand for many ports: no entry form says what they were. Inbound attempts
      // are no way out of the build, which is all an allowlist opens.
      if (d.enforced || d.folded || d.inbound || d.port === undefined || (d.protocol !== 'tcp' && d.protocol !== 'udp')) continue;
      const { protocol, port } = { protocol: d.protocol, port: d.port };
      // The name check's rows: the name the connection carried, or, where it carried none, the
      // learned names opted out of the check. Never the address: that would open every co-tenant.
      // A row of many names folded (`*`) says no one name.
      const checked = d.reason !== undefined;
      if (checked && d.asked === '*') continue;
      const opaque = checked && d.asked === undefined;
      const candidates = checked && !opaque ? [d.asked!] : d.name !== undefined ? [d.name] : d.names;
      // A name the grammar cannot take (the build chooses what it asks) leaves the address.
      const named = candidates.filter((n) => isEntryName(n, protocol, port));
      const hosts = named.length > 0 || checked ? named : [d.address];
      for (const host of hosts) {
        const key = `${d.protocol} ${opaque ? 'opaque ' : ''}${host} ${d.port}`;
        const use = uses.get(key) ?? { host, byName: host !== d.address, opaque, protocol, port, runs: new Set(), attempts: 0 };
        use.runs.add(run);
        use.attempts += d.count;
        uses.set(key, use);
      }
    }
    for (const [text, attempts] of usedEntries(record)) {
      const k = kept.get(text) ?? { runs: new Set(), attempts: 0 };
      k.runs.add(run);
      k.attempts += attempts;
      kept.set(text, k);
    }
  });
  const out: Suggestion[] = [];
  const remaining = new Set(uses.values());
  const stats = (group: Use[]) => ({
    runs: new Set(group.flatMap((u) => [...u.runs])).size,
    totalRuns: total,
    attempts: group.reduce((n, u) => n + u.attempts, 0),
  });

  for (const [name, preset] of Object.entries(PRESETS).sort(([a], [b]) => a.localeCompare(b))) {
    const entries = preset.entries.map((p) => parseEntry(p.entry));
    const names = new Set(entries.flatMap((e) => (e.kind === 'name' ? [e.name] : [])));
    const mine = [...remaining].filter((u) => u.byName && !u.opaque && names.has(u.host));
    if (mine.length === 0 || !mine.every((u) => entries.some((e) => covers(e, useEntry(u))))) continue;
    out.push({ entry: `${PRESET_PREFIX}${name}`, kind: 'preset', ...stats(mine), names: [...new Set(mine.map((u) => u.host))].sort() });
    for (const u of mine) remaining.delete(u);
  }

  for (const group of wildcardGroups([...remaining])) {
    out.push({
      entry: formatUse(group.base, group.uses[0], true),
      kind: 'wildcard',
      ...stats(group.uses),
      names: group.uses.map((u) => u.host).sort(),
    });
    for (const u of group.uses) remaining.delete(u);
  }
  for (const u of remaining) out.push({ entry: formatUse(u.host, u, false), kind: u.byName ? 'name' : 'address', ...stats([u]) });
  for (const [text, k] of kept) {
    if (!out.some((s) => s.entry === text))
      out.push({ entry: text, kind: 'kept', runs: k.runs.size, totalRuns: total, attempts: k.attempts });
  }
  const order = ['preset', 'kept', 'name', 'wildcard', 'address'];
  return out.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.entry.localeCompare(b.entry));
}

/**
 * Entries of the audited grade that the build used, which a release grade needs as well: name
 * entries whose names were answered, with the queries counted; address entries cannot be told
 * used or not (an allowed connection is not logged), so none is kept: what the build reached by
 * address shows among the destinations only when no entry allowed it.
 */
function usedEntries(record: Recorded): Map<string, number> {
  const used = new Map<string, number>();
  const entries = record.allowlist.flatMap((text) => text.split(', ').map((t) => parseEntry(t)));
  for (const d of record.dns) {
    if (d.verdict !== 'allowed' || d.folded) continue;
    for (const e of entries) {
      if (e.kind === 'name' && (e.wildcard ? d.name.endsWith(`.${e.name}`) : d.name === e.name)) {
        const text = formatEntry(e);
        used.set(text, (used.get(text) ?? 0) + d.count);
      }
    }
  }
  return used;
}

/** Name uses of one protocol and port under one registrable domain, with enough distinct subdomains to fold. */
function wildcardGroups(uses: Use[]): Array<{ base: string; uses: Use[] }> {
  const groups = new Map<string, Use[]>();
  for (const u of uses) {
    if (!u.byName || u.opaque) continue;
    const domain = getDomain(u.host, { allowPrivateDomains: true });
    // The registrable domain itself, or a name without one, is never folded.
    if (!domain || domain === u.host) continue;
    const key = `${u.protocol} ${u.port} ${domain}`;
    groups.set(key, [...(groups.get(key) ?? []), u]);
  }
  const out: Array<{ base: string; uses: Use[] }> = [];
  for (const group of groups.values()) {
    if (new Set(group.map((u) => u.host)).size < WILDCARD_MIN) continue;
    const base = commonSuffix(group.map((u) => u.host));
    // A name equal to the base is not under the wildcard: it stays an exact name.
    const under = group.filter((u) => u.host !== base);
    if (new Set(under.map((u) => u.host)).size >= WILDCARD_MIN) out.push({ base, uses: under });
  }
  return out;
}

/** The longest run of trailing labels the names share (at least their registrable domain). */
function commonSuffix(names: string[]): string {
  const split = names.map((n) => n.split('.').reverse());
  const shared: string[] = [];
  for (let i = 0; split.every((labels) => i < labels.length && labels[i] === split[0][i]); i++) shared.push(split[0][i]);
  return shared.reverse().join('.');
}

function formatUse(host: string, u: Pick<Use, 'protocol' | 'port' | 'byName' | 'opaque'>, wildcard: boolean): string {
  const shown = wildcard ? `*.${host}` : !u.byName && host.includes(':') ? `[${host}]` : host;
  if (u.opaque) return `opaque://${shown}:${u.port}`;
  return u.protocol === 'tcp' ? `${shown}:${u.port}` : `udp://${shown}:${u.port}`;
}

function isEntryName(name: string, protocol: Protocol, port: number): boolean {
  try {
    return parseEntry(formatUse(name, { protocol, port, byName: true, opaque: false }, false)).kind === 'name';
  } catch {
    return false;
  }
}

function useEntry(u: Use): Entry {
  return parseEntry(formatUse(u.host, u, false));
}

/** The comment a suggestion carries in the YAML: where it came from, and what a reviewer should know. */
export function suggestionComment(s: Suggestion): string {
  const runs =
    s.runs === s.totalRuns
      ? `${s.runs} of ${s.totalRuns} run${s.totalRuns === 1 ? '' : 's'}`
      : `only ${s.runs} of ${s.totalRuns} runs: review`;
  const what = `${runs}, ${s.attempts} attempt${s.attempts === 1 ? '' : 's'}`;
  switch (s.kind) {
    case 'preset':
      return `${what}; used ${s.names!.join(', ')}`;
    case 'wildcard':
      return `${what}; ${s.names!.length} names: ${s.names!.join(', ')}`;
    case 'address':
      return `${what}; an address no name led to: it breaks when the address changes`;
    case 'kept':
      return `${what}; in the audited grade, and used`;
    default:
      return what;
  }
}
