// What a person reads first: the job summary, annotations, and the CLI's closing lines. Pure.
// Names and addresses come from the build (it chooses what to query), so every one is escaped:
// the build must not be able to forge a line of the summary.
import type { EvidenceRecord } from './record.js';
import type { DeniedDestination } from './evidence.js';
import type { DnsDecision } from '../dns/decision-log.js';

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
  return r.dns.filter((d) => d.verdict === 'refused').sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`|\\[\]*_~#!-]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const code = (text: string) => `<code>${escapeHtml(text)}</code>`;

/** What a query answered here for its form got, and why. */
const REASONS: Record<NonNullable<DnsDecision['reason']>, string> = {
  malformed: 'malformed: FORMERR',
  opcode: 'not a query: NOTIMP',
  class: 'class not IN: REFUSED',
  type: 'type not forwarded: REFUSED',
};
const typeOf = (d: DnsDecision) => `${d.type}${d.reason ? ` (${REASONS[d.reason]})` : ''}`;

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
  const verb = r.mode === 'audit' ? 'would be denied in block mode' : 'denied';
  const out: string[] = [
    `<h2>buildfence: grade ${escapeHtml(r.grade)}, ${r.mode} mode</h2>\n`,
    ...(r.failure !== undefined ? [`<p><strong>${escapeHtml(r.failure)}</strong></p>\n`] : []),
    `<p>The build exited with code ${r.exitCode}. ${r.deniedTotal} attempt(s) ${verb}; ${refusedNames.length} name(s) refused by the resolver.</p>\n`,
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
    out.push(`<h3>Denied destinations</h3>\n`);
    out.push(
      table(
        ['Name', 'Address', 'Port', 'Protocol', 'Count', 'Verdict'],
        r.denied
          .slice(0, SUMMARY_CAP)
          .map((d) => [
            d.names.length > 0 ? d.names.map(code).join(' ') : '',
            code(d.address),
            d.port === undefined ? '' : String(d.port),
            d.protocol,
            String(d.count),
            d.enforced ? 'refused' : 'recorded (audit)',
          ]),
      ),
    );
    out.push(more(r.denied.length, 'denied destination(s)'));
  }
  if (refusedNames.length > 0) {
    out.push(`<h3>Names refused by the resolver</h3>\n`);
    out.push(
      table(
        ['Name', 'Type', 'Count', 'Forwarded'],
        refusedNames
          .slice(0, SUMMARY_CAP)
          .map((d) => [
            `${d.name ? code(d.name) : 'unreadable'}${d.folded ? ' (many names, folded: the log was full)' : ''}`,
            escapeHtml(typeOf(d)),
            String(d.count),
            d.forwarded ? 'yes (audit)' : 'no',
          ]),
      ),
    );
    out.push(more(refusedNames.length, 'refused name(s)'));
  }
  if (r.suggestedAllowlist.length > 0) {
    out.push(`<h3>Suggested allowlist</h3>\n<p>Entries a release build would need for what this run did:</p>\n`);
    out.push(`<pre>${r.suggestedAllowlist.map(escapeHtml).join('\n')}</pre>\n`);
  }
  return out.join('');
}

/** One warning per distinct destination, the most frequent first, capped. */
export function annotations(r: EvidenceRecord): string[] {
  const lines = r.denied.slice(0, ANNOTATION_CAP).map((d) => {
    const names = d.names.length > 0 ? ` (${d.names.join(', ')})` : '';
    const what = d.enforced ? 'denied' : 'recorded a connection block mode would deny to';
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
  if (r.failure !== undefined) lines.push(`  ${r.failure}`);
  const more = (total: number, what: string) =>
    total > TEXT_CAP ? [`  ... and ${total - TEXT_CAP} more ${what} (all in the JSON report: --report FILE)`] : [];
  for (const d of r.denied.slice(0, TEXT_CAP)) {
    const names = d.names.length > 0 ? ` (${d.names.join(', ')})` : '';
    lines.push(`  ${d.enforced ? 'denied  ' : 'recorded'} ${destination(d)}${names} x${d.count}`);
  }
  lines.push(...more(r.denied.length, 'denied destination(s)'));
  const refused = refusedNamesOf(r);
  for (const d of refused.slice(0, TEXT_CAP)) {
    lines.push(
      `  name refused: ${d.name || 'unreadable'} ${typeOf(d)} x${d.count}${d.folded ? ' (many names, folded)' : ''}${d.forwarded ? ' (forwarded: audit)' : ''}`,
    );
  }
  lines.push(...more(refused.length, 'refused name(s)'));
  if (r.suggestedAllowlist.length > 0) lines.push('  suggested allowlist:', ...r.suggestedAllowlist.map((e) => `    ${e}`));
  return `${lines.map(printable).join('\n')}\n`;
}
