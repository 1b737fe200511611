// What a person reads first: the job summary, annotations, and the CLI's closing lines. Pure.
// Names and addresses come from the build (it chooses what to query), so every one is escaped:
// the build must not be able to forge a line of the summary.
import type { EvidenceRecord } from './record.js';
import { writeGrade } from '../policy/edit.js';
import type { DeniedDestination } from './evidence.js';
import { suggestEntries, suggestionComment, type Recorded } from './suggest.js';

const ANNOTATION_CAP = 10;
/**
 * Rows per table in the job summary, and lines per list in the CLI's closing lines: a build that
 * scans ports or tunnels data through names would otherwise make them too long to read (GitHub
 * drops a step summary over 1 MiB). The JSON record keeps every one.
 */
export const SUMMARY_CAP = 100;
export const TEXT_CAP = 30;

/** The most frequent first, then by name: the order in which capped lists are cut. */
function refusedNamesOf(r: EvidenceRecord) {
  return r.dns.filter((d) => d.verdict !== 'allowed').sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`|\\[\]*_~#!-]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const code = (text: string) => `<code>${escapeHtml(text)}</code>`;

function destination(d: DeniedDestination): string {
  const host = d.address.includes(':') && d.port !== undefined ? `[${d.address}]` : d.address;
  return `${d.protocol} ${host}${d.port !== undefined ? `:${d.port}` : ''}`;
}

function table(head: string[], rows: string[][]): string {
  const tr = (cells: string[], tag: 'th' | 'td') => `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`;
  return `<table>${tr(head, 'th')}${rows.map((r) => tr(r, 'td')).join('')}</table>\n`;
}

export function renderSummary(r: EvidenceRecord): string {
  const refusedNames = refusedNamesOf(r);
  const more = (total: number, what: string) =>
    total > SUMMARY_CAP
      ? `<p>${total - SUMMARY_CAP} more ${what}, the least frequent, are in the JSON report (output <code>report</code>).</p>\n`
      : '';
  const audit = r.mode === 'audit';
  const verb = audit ? 'let through that block mode would refuse' : 'denied';
  const namesVerb = audit ? 'forwarded that block mode would refuse' : 'refused by the resolver';
  const out: string[] = [
    `<h2>buildfence: grade ${escapeHtml(r.grade)}, ${r.mode} mode</h2>\n`,
    `<p>The build exited with code ${r.exitCode}. ${r.deniedTotal} attempt(s) ${verb}; ${refusedNames.length} name(s) ${namesVerb}.</p>\n`,
    table(
      ['', ''],
      [
        ['Grade', code(r.grade)],
        ['Mode', r.mode],
        ['Build image', `${code(r.images.build.name)} ${code(r.images.build.id)}`],
        ['Holder image', `${code(r.images.holder.name)} ${code(r.images.holder.id)}`],
        ['Allowlist', r.allowlist.length > 0 ? r.allowlist.map(code).join(' ') : 'empty'],
        ...(r.deny.length > 0 ? [['Deny', r.deny.map(code).join(' ')]] : []),
        ['Rules (sha256)', code(r.rules.sha256)],
        ['Run', `${code(r.runId)} ${escapeHtml(r.started)} to ${escapeHtml(r.ended)}`],
      ],
    ),
  ];
  if (r.denied.length > 0) {
    out.push(audit ? `<h3>Connections block mode would refuse</h3>\n` : `<h3>Denied destinations</h3>\n`);
    out.push(
      table(
        ['Name', 'Address', 'Port', 'Protocol', 'Count', 'Verdict'],
        r.denied
          .slice(0, SUMMARY_CAP)
          .map((d) => [
            d.names.length > 0 ? d.names.map((n) => (n === d.name ? `<b>${code(n)}</b>` : code(n))).join(' ') : '',
            code(d.address),
            d.port === undefined ? '' : String(d.port),
            d.protocol,
            String(d.count),
            d.enforced ? 'refused' : 'let through, would be refused',
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
            `${code(d.name)}${d.folded ? ' (many names, folded: the log was full)' : ''}`,
            escapeHtml(d.type),
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
    out.push(`<pre>${escapeHtml(suggestedGradeYaml([r]))}</pre>\n`);
  }
  return out.join('');
}

/** The release grade the records' builds would need, as YAML under `grades:`, each entry with its comment. */
export function suggestedGradeYaml(records: Recorded[], grade = 'release'): string {
  const allow = suggestEntries(records).map((s) => ({ entry: s.entry, comment: suggestionComment(s) }));
  return writeGrade(
    undefined,
    grade,
    { mode: 'block', allow },
    `suggested by buildfence from ${records.length} run${records.length === 1 ? '' : 's'}`,
  );
}

/** One warning per distinct destination, the most frequent first, capped. */
export function annotations(r: EvidenceRecord): string[] {
  const lines = r.denied.slice(0, ANNOTATION_CAP).map((d) => {
    const names = d.names.length > 0 ? ` (${d.names.join(', ')})` : '';
    const what = d.enforced ? 'denied' : 'let through a connection block mode would refuse, to';
    return `buildfence ${what} ${destination(d)}${names}, ${d.count} time(s).`;
  });
  if (r.denied.length > ANNOTATION_CAP)
    lines.push(`buildfence: ${r.denied.length - ANNOTATION_CAP} more denied destination(s) in the job summary and the report.`);
  return lines;
}

// A name may carry terminal control sequences: show them, do not send them.
const printable = (text: string) => text.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** The CLI's closing lines. */
export function textSummary(r: EvidenceRecord): string {
  const lines = [`buildfence: grade ${r.grade}, ${r.mode} mode, build exit code ${r.exitCode}, ${r.deniedTotal} denied attempt(s).`];
  const more = (total: number, what: string) =>
    total > TEXT_CAP ? [`  ... and ${total - TEXT_CAP} more ${what} (all in the JSON report: --report FILE)`] : [];
  for (const d of r.denied.slice(0, TEXT_CAP)) {
    const names = d.names.length > 0 ? ` (${d.names.join(', ')})` : '';
    lines.push(`  ${d.enforced ? 'denied' : 'let through, would be refused:'} ${destination(d)}${names} x${d.count}`);
  }
  lines.push(...more(r.denied.length, 'denied destination(s)'));
  const refused = refusedNamesOf(r);
  for (const d of refused.slice(0, TEXT_CAP)) {
    lines.push(
      `  ${d.verdict === 'audited' ? 'name forwarded, would be refused in block mode:' : 'name refused:'} ${d.name} ${d.type} x${d.count}${d.folded ? ' (many names, folded)' : ''}`,
    );
  }
  lines.push(...more(refused.length, 'refused name(s)'));
  if (r.mode === 'audit')
    lines.push(
      '  suggested grade (buildfence suggest merges several runs):',
      ...suggestedGradeYaml([r])
        .trimEnd()
        .split('\n')
        .map((l) => `    ${l}`),
    );
  return `${lines.map(printable).join('\n')}\n`;
}
