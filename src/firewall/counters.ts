// The kernel's own count of what the fence refused and logged, read from the rules' counters
// after the build: the record's totals, which no flood and no full log queue can change. Pure,
// but for the command text that prints them.
import { NFLOG_GROUP, COUNTER_RULES } from './ruleset.js';

export interface KernelCounts {
  /** Attempts the fence refused (both families), the build's and inbound ones. */
  refused: number;
  /** Attempts audit mode let through that block mode would refuse, the build's and inbound ones. */
  audited: number;
  /** Of these, how many the kernel put into the log (the rest were past LOG_LIMIT). */
  logged: number;
}

const FAMILY_MARK = '---buildfence-counters-v6---';

/** Prints both families' filter rules with their counters (run in the fence's namespace, with NET_ADMIN). */
export const COUNTERS_SCRIPT = `iptables-save -c -t filter && echo ${FAMILY_MARK} && ip6tables-save -c -t filter`;

const COUNTED = /^\[(\d+):\d+\] (-A .*)$/;
const LOGGED = new RegExp(
  `-j NFLOG .*--nflog-group (${[NFLOG_GROUP.denied, NFLOG_GROUP.audit, NFLOG_GROUP.inbound, NFLOG_GROUP.inboundAudit].join('|')})( |$)`,
);

/** The counts in COUNTERS_SCRIPT's output (or the lines of it that carry counters); undefined when a family is missing. */
export function parseCounters(text: string): KernelCounts | undefined {
  const families = text.split(FAMILY_MARK);
  if (families.length !== 2 || !families.every((f) => f.includes(COUNTER_RULES.refused))) return undefined;
  const counts: KernelCounts = { refused: 0, audited: 0, logged: 0 };
  for (const line of text.split('\n')) {
    const m = COUNTED.exec(line.trim());
    if (!m) continue;
    const packets = Number(m[1]);
    if (m[2] === COUNTER_RULES.refused || m[2] === COUNTER_RULES.inboundRefused) counts.refused += packets;
    else if (m[2] === COUNTER_RULES.audited || m[2] === COUNTER_RULES.inboundAudited) counts.audited += packets;
    else if (LOGGED.test(m[2])) counts.logged += packets;
  }
  return counts;
}

/** How a Pod's fence prints the counters: one line of its log, `PREFIX SECONDS LINES`, the lines joined by `|`. */
export const COUNTERS_LINE_PREFIX = 'buildfence-counters';

/** The shell that prints that line (only the lines parseCounters reads, so that it stays short). */
export const COUNTERS_LINE_SCRIPT =
  `printf '%s %s %s\\n' ${COUNTERS_LINE_PREFIX} "$(date +%s)" ` +
  `"$( (${COUNTERS_SCRIPT}) | grep -e '^${FAMILY_MARK}$' -e ' --comment bf-' -e ' -j NFLOG ' | tr '\\n' '|')"`;

/** A counters line of a Pod's fence log: when it was printed (seconds) and the counts. */
export function parseCountersLine(line: string): { time: number; counts: KernelCounts } | undefined {
  const m = new RegExp(`^${COUNTERS_LINE_PREFIX} (\\d+) (.*)$`).exec(line.trim());
  const counts = m ? parseCounters(m[2].replaceAll('|', '\n')) : undefined;
  return m && counts ? { time: Number(m[1]), counts } : undefined;
}
