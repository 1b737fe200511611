// What a person reads first: the job summary, annotations, and the CLI's closing lines. Pure.
// Names and addresses come from the build (it chooses what to query and where to send), so every
// string is shown through `presented` (DNS presentation escapes): the build must not be able to
// forge a line, a heading or a cell. Every list is capped, so that no run can bury the summary or
// push it past GitHub's 1 MiB for a step summary.
import { presented } from '../dns/presentation.js';
import { LOG_LIMIT } from '../firewall/ruleset.js';
import type { EvidenceRecord } from './record.js';
import { writeGrade } from '../policy/edit.js';
import type { DeniedDestination } from './evidence.js';
import type { DnsDecision } from '../dns/decision-log.js';
import { suggestEntries, suggestionComment, type Recorded } from './suggest.js';

const ANNOTATION_CAP = 10;
/**
 * Rows per table in the job summary, and lines per list in the CLI's closing lines: a build that
 * scans ports or tunnels data through names would otherwise make them too long to read (GitHub
 * drops a step summary over 1 MiB). The JSON record keeps more (README: Evidence).
 */
export const SUMMARY_CAP = 100;
export const TEXT_CAP = 30;
/** Names shown per denied destination. */
export const NAMES_SHOWN = 10;
/** Characters shown of one string, escapes included; past it, how many bytes more. */
export const SHOWN_LENGTH = 256;

/** A string as it may be shown anywhere: escaped, and cut to SHOWN_LENGTH at an escape's boundary. */
export function shown(text: string): string {
  const p = presented(text);
  if (p.length <= SHOWN_LENGTH) return p;
  let cut = SHOWN_LENGTH;
  const escape = p.lastIndexOf('\\', cut);
  if (escape > cut - 4) cut = escape;
  return `${p.slice(0, cut)}...(${Buffer.byteLength(text) - Buffer.byteLength(unescaped(p.slice(0, cut)))} more bytes)`;
}

// The bytes a prefix of presented() text stands for.
function unescaped(p: string): Buffer {
  return Buffer.from(
    p.replace(/\\(\d{3})/g, (_, d: string) => String.fromCharCode(Number(d))),
    'latin1',
  );
}

/** The most frequent first, then by name: the order in which capped lists are cut. */
function refusedNamesOf(r: EvidenceRecord) {
  return r.dns.filter((d) => d.verdict !== 'allowed').sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
}

const code = (text: string) => `<code>${shown(text)}</code>`;

/** What a query answered here for its form got, and why. */
const REASONS: Record<NonNullable<DnsDecision['reason']>, string> = {
  malformed: 'malformed: FORMERR',
  opcode: 'not a query: NOTIMP',
  class: 'class not IN: REFUSED',
  type: 'type not forwarded: REFUSED',
};
const typeOf = (d: DnsDecision) => `${shown(d.type)}${d.reason ? ` (${REASONS[d.reason]})` : ''}`;

/** Why buildfence failed, as shown: word by word, since the fault's own message may hold anything. */
export function failureShown(failure: string): string {
  return failure.split(' ').map(shown).join(' ');
}

/** `tcp 192.0.2.1:443`, `tcp [2001:db8::1]:443`; inbound: `inbound tcp from 192.0.2.9 to port 8080`. */
export function describeAttempt(d: DeniedDestination): string {
  const ports = d.folded ? ' (many ports)' : '';
  if (d.inbound) return `inbound ${d.protocol} from ${shown(d.address)}${d.port !== undefined ? ` to port ${d.port}` : ports}`;
  const host = d.address.includes(':') && d.port !== undefined ? `[${d.address}]` : d.address;
  return `${d.protocol} ${shown(host)}${d.port !== undefined ? `:${d.port}` : ports}`;
}

/** The names of a destination as a list: at most NAMES_SHOWN, then how many more. */
function namesOf(d: DeniedDestination, show: (name: string) => string, separator: string): string {
  const more = d.names.length - NAMES_SHOWN + (d.moreNames ?? 0);
  const names = d.names.slice(0, NAMES_SHOWN).map(show);
  return [...names, ...(more > 0 ? [`and ${more} more`] : [])].join(separator);
}

/** What refused it: the address rules, or the name check with its reason and the name asked for. */
function why(d: DeniedDestination, show: (name: string) => string = shown): string {
  if (d.reason === undefined) return d.inbound ? 'inbound' : 'address';
  return d.asked !== undefined ? `${d.reason}: asked for ${show(d.asked)}` : d.reason;
}

function table(head: string[], rows: string[][]): string {
  const tr = (cells: string[], tag: 'th' | 'td') => `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`;
  return `<table>${tr(head, 'th')}${rows.map((r) => tr(r, 'td')).join('')}</table>\n`;
}

/** Inbound rows name where the attempt came from and the build's port it tried. */
function verdictCell(d: DeniedDestination): string {
  const verdict = d.enforced ? 'refused' : 'let through, would be refused';
  return d.inbound ? `inbound from this address to the build's port: ${verdict}` : verdict;
}

/** What the totals rest on, in a sentence, or '' when the log holds every attempt. */
function countsNote(r: EvidenceRecord): string {
  const c = r.counts;
  if (c.source === 'log') return "The fence's counters could not be read: the totals are the log's, and may be short.";
  const parts: string[] = [];
  if (c.lost > 0)
    parts.push(
      `${c.lost} log entr${c.lost === 1 ? 'y was' : 'ies were'} lost (the log queue overflowed): destinations may be missing below.`,
    );
  const unlogged = r.deniedTotal - c.logged;
  if (unlogged > 0)
    parts.push(
      `${unlogged} attempt(s) past the log's limit per destination (the first ${LOG_LIMIT.burst}, then ${LOG_LIMIT.perSecond} a second) are in the total only: the counts below are the log's.`,
    );
  return parts.join(' ');
}

/** A warning for the step when the log lost entries; undefined when it did not. */
export function lostWarning(r: EvidenceRecord): string | undefined {
  if (r.counts.lost === 0) return undefined;
  return (
    `buildfence: ${r.counts.lost} of ${r.counts.logged} denied-attempt log entries were lost (the kernel's log queue overflowed, ` +
    `as under a flood of many destinations): the record and the summary may miss destinations. The total, ${r.deniedTotal}, is the kernel's count.`
  );
}

export function renderSummary(r: EvidenceRecord): string {
  const refusedNames = refusedNamesOf(r);
  const more = (total: number, what: string) =>
    total > SUMMARY_CAP
      ? `<p>${total - SUMMARY_CAP} more ${what}, the least frequent, are in the JSON report (output <code>report</code>).</p>\n`
      : '';
  const entries = (list: string[]) =>
    list.length === 0
      ? 'empty'
      : list.slice(0, SUMMARY_CAP).map(code).join(' ') +
        (list.length > SUMMARY_CAP ? ` and ${list.length - SUMMARY_CAP} more (in the report)` : '');
  const audit = r.mode === 'audit';
  const verb = audit ? 'let through that block mode would refuse' : 'denied';
  const namesVerb = audit ? 'forwarded that block mode would refuse' : 'refused by the resolver';
  const note = countsNote(r);
  const out: string[] = [
    `<h2>buildfence: grade ${shown(r.grade)}, ${r.mode} mode</h2>\n`,
    ...(r.failure !== undefined ? [`<p><strong>${failureShown(r.failure)}</strong></p>\n`] : []),
    `<p>The build exited with code ${r.exitCode}. ${r.deniedTotal} attempt(s) ${verb}; ${refusedNames.length} name(s) ${namesVerb}.${note ? ` ${note}` : ''}</p>\n`,
    table(
      ['', ''],
      [
        ['Grade', code(r.grade)],
        ['Mode', r.mode],
        ['Build image', `${code(r.images.build.name)} ${code(r.images.build.id)}`],
        ['Holder image', `${code(r.images.holder.name)} ${code(r.images.holder.id)}`],
        ['Allowlist', entries(r.allowlist)],
        ...(r.deny.length > 0 ? [['Deny', entries(r.deny)]] : []),
        ['Rules (sha256)', code(r.rules.sha256)],
        ['Run', `${code(r.runId)} ${shown(r.started)} to ${shown(r.ended)}`],
      ],
    ),
  ];
  if (r.denied.length > 0) {
    out.push(audit ? `<h3>Connections block mode would refuse</h3>\n` : `<h3>Denied destinations</h3>\n`);
    out.push(
      table(
        ['Name', 'Address', 'Port', 'Protocol', 'Count', 'Verdict', 'Why'],
        r.denied
          .slice(0, SUMMARY_CAP)
          .map((d) => [
            namesOf(d, (n) => (n === d.name ? `<b>${code(n)}</b>` : code(n)), ' '),
            code(d.address),
            d.port === undefined ? (d.folded ? 'many (folded: the log was full)' : '') : String(d.port),
            d.protocol,
            String(d.count),
            verdictCell(d),
            why(d, code),
          ]),
      ),
    );
    out.push(more(r.denied.length, 'denied destination(s)'));
  }
  if (refusedNames.length > 0) {
    out.push(
      audit
        ? `<h3>Names outside the allowlist (forwarded, would be refused in block mode)</h3>\n`
        : `<h3>Names refused by the resolver</h3>\n`,
    );
    out.push(
      table(
        ['Name', 'Type', 'Count', 'Forwarded'],
        refusedNames
          .slice(0, SUMMARY_CAP)
          .map((d) => [
            `${d.name ? code(d.name) : 'unreadable'}${d.folded ? ' (many names, folded: the log was full)' : ''}`,
            typeOf(d),
            String(d.count),
            d.forwarded ? 'yes, would be refused in block mode' : 'no',
          ]),
      ),
    );
    out.push(more(refusedNames.length, 'refused name(s)'));
  }
  if (audit) {
    out.push(
      `<h3>Suggested grade</h3>\n<p>A release grade that would let this build through, ready to paste under <code>grades:</code> ` +
        '(merge several runs with <code>buildfence suggest</code>); in bold above, the name each connection most likely used:</p>\n',
    );
    out.push(`<pre>${preText(suggestedGradeYaml([r], 'release', SUMMARY_CAP))}</pre>\n`);
    out.push(more(r.suggestedAllowlist.length, 'suggested entries'));
  }
  return out.join('');
}

/**
 * The release grade the records' builds would need, as YAML under `grades:`, each entry with its
 * comment; at most `cap` entries. Every name in it passed the allowlist grammar, so it holds
 * nothing the build could use to forge a line.
 */
export function suggestedGradeYaml(records: Recorded[], grade = 'release', cap = Infinity): string {
  const allow = suggestEntries(records)
    .slice(0, cap)
    .map((s) => ({ entry: s.entry, comment: suggestionComment(s) }));
  return writeGrade(
    undefined,
    grade,
    { mode: 'block', allow },
    `suggested by buildfence from ${records.length} run${records.length === 1 ? '' : 's'}`,
  );
}

/** Text for inside <pre>: HTML's specials as entities (the grammar already kept out everything else). */
function preText(text: string): string {
  return text.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** One warning per distinct destination, the most frequent first, capped; first, lost log entries. */
export function annotations(r: EvidenceRecord): string[] {
  const lost = lostWarning(r);
  const lines = r.denied.slice(0, ANNOTATION_CAP).map((d) => {
    const names = d.names.length > 0 ? ` (${namesOf(d, shown, ', ')})` : '';
    const what = d.enforced
      ? 'denied'
      : d.inbound
        ? 'let through what block mode would refuse:'
        : 'let through a connection block mode would refuse, to';
    const check = d.reason === undefined ? '' : ` by the name check (${why(d)})`;
    return `buildfence ${what} ${describeAttempt(d)}${names}${check}, ${d.count} time(s).`;
  });
  if (r.denied.length > ANNOTATION_CAP)
    lines.push(`buildfence: ${r.denied.length - ANNOTATION_CAP} more denied destination(s) in the job summary and the report.`);
  return lost ? [lost, ...lines] : lines;
}

/** The CLI's closing lines. */
export function textSummary(r: EvidenceRecord): string {
  const lines = [`buildfence: grade ${shown(r.grade)}, ${r.mode} mode, build exit code ${r.exitCode}, ${r.deniedTotal} denied attempt(s).`];
  if (r.failure !== undefined) lines.push(`  ${failureShown(r.failure)}`);
  const note = countsNote(r);
  if (note) lines.push(`  ${note}`);
  const more = (total: number, what: string) =>
    total > TEXT_CAP ? [`  ... and ${total - TEXT_CAP} more ${what} (all in the JSON report: --report FILE)`] : [];
  for (const d of r.denied.slice(0, TEXT_CAP)) {
    const names = d.names.length > 0 ? ` (${namesOf(d, shown, ', ')})` : '';
    const check = d.reason === undefined ? '' : ` [${why(d)}]`;
    lines.push(`  ${d.enforced ? 'denied' : 'let through, would be refused:'} ${describeAttempt(d)}${names}${check} x${d.count}`);
  }
  lines.push(...more(r.denied.length, 'denied destination(s)'));
  const refused = refusedNamesOf(r);
  for (const d of refused.slice(0, TEXT_CAP)) {
    lines.push(
      `  ${d.verdict === 'audited' ? 'name forwarded, would be refused in block mode:' : 'name refused:'} ${d.name ? shown(d.name) : 'unreadable'} ${typeOf(d)} x${d.count}${d.folded ? ' (many names, folded)' : ''}`,
    );
  }
  lines.push(...more(refused.length, 'refused name(s)'));
  if (r.mode === 'audit') {
    lines.push(
      '  suggested grade (buildfence suggest merges several runs):',
      ...suggestedGradeYaml([r], 'release', TEXT_CAP)
        .trimEnd()
        .split('\n')
        .map((l) => `    ${l}`),
    );
    lines.push(...more(r.suggestedAllowlist.length, 'suggested entries'));
  }
  return `${lines.join('\n')}\n`;
}
