// Whether a recorded run satisfies a grade of a policy file: one check per claim an auditor cares
// about, each passing or failing on a named field. Pure.
import { covers } from '../policy/coverage.js';
import { formatEntry, parseEntry } from '../policy/allowlist.js';
import type { Grade } from '../policy/grades.js';
import { rulesDigest, type EvidenceRecord } from '../report/record.js';
import { shown } from '../report/summary.js';
import type { Statement } from '../report/statement.js';
import type { Entry } from '../run/entry.js';

export interface Check {
  /** What is checked, in a word: mode, allowlist, ... */
  name: string;
  pass: boolean;
  /** The record's field and what was found, or what is wrong. */
  detail: string;
}

export interface VerifyInput {
  record: EvidenceRecord;
  statement?: Statement;
  /** The grade as the given policy file defines it. */
  grade: Grade;
  /** The given policy file, as named, and the sha256 of its bytes. */
  policy: { path: string; sha256: string };
  /** Artifacts handed to the auditor, with their sha256. */
  subjects: Array<{ file: string; sha256: string }>;
  /** Accept a run that had denied attempts (they were refused). */
  allowDenied: boolean;
}

const pass = (name: string, detail: string): Check => ({ name, pass: true, detail });
const fail = (name: string, detail: string): Check => ({ name, pass: false, detail });

export function verifyRun(v: VerifyInput): Check[] {
  const r = v.record;
  return [
    r.grade === v.grade.name
      ? pass('grade', `grade: ${shown(r.grade)}`)
      : fail('grade', `grade: the run says '${shown(r.grade)}', the check asks for '${v.grade.name}'`),
    r.mode === 'block'
      ? pass('mode', 'mode: block')
      : fail('mode', `mode: ${r.mode}, which lets everything through and only records it; a release must run in block mode`),
    policyCheck(v),
    allowlistCheck(r, v.grade),
    denyCheck(r, v.grade),
    r.rules.sha256 ===
    rulesDigest({
      ipset: r.rules.ipset,
      v4: r.rules.iptables,
      v6: r.rules.ip6tables,
      nat4: r.rules.iptablesNat,
      nat6: r.rules.ip6tablesNat,
      resolvConf: r.rules.resolvConf,
    })
      ? pass('rules', `rules.sha256: ${r.rules.sha256}, the digest of the rules the record holds`)
      : fail('rules', 'rules.sha256: does not match the rules the record holds (the record was altered)'),
    r.exitCode === 0 ? pass('exit code', 'exitCode: 0') : fail('exit code', `exitCode: ${r.exitCode}: the build failed`),
    deniedCheck(r, v.allowDenied),
    ...subjectChecks(v),
  ];
}

function policyCheck(v: VerifyInput): Check {
  const recorded = v.record.policy;
  if (!recorded) return fail('policy', 'policy: the run used no policy file (built-in grades only)');
  if (recorded.sha256 !== v.policy.sha256) {
    return fail(
      'policy',
      `policy.sha256: the run's ${shown(recorded.path)} was ${shown(recorded.sha256)}, the given ${v.policy.path} is ${v.policy.sha256}`,
    );
  }
  return pass('policy', `policy.sha256: ${recorded.sha256} (${shown(recorded.path)}), equal to ${v.policy.path}`);
}

/** The record's canonical entries, read back; an entry the grammar cannot read is the record's fault. */
function entries(texts: string[]): Array<{ text: string; entry?: Entry }> {
  return texts.flatMap((text) =>
    text.split(', ').map((part) => {
      try {
        return { text: part, entry: parseEntry(part) };
      } catch {
        return { text: part };
      }
    }),
  );
}

function allowlistCheck(r: EvidenceRecord, grade: Grade): Check {
  const beyond = entries(r.allowlist)
    .filter(({ entry }) => !entry || !grade.allow.some((g) => covers(g, entry)))
    .map(({ text }) => shown(text));
  return beyond.length === 0
    ? pass('allowlist', `allowlist: ${r.allowlist.length} entr${r.allowlist.length === 1 ? 'y' : 'ies'}, each within grade ${grade.name}`)
    : fail('allowlist', `allowlist: beyond grade ${grade.name}: ${beyond.join(', ')}`);
}

function denyCheck(r: EvidenceRecord, grade: Grade): Check {
  const recorded = entries(r.deny).flatMap(({ entry }) => (entry ? [entry] : []));
  const missing = grade.deny.filter((d) => !recorded.some((e) => covers(e, d))).map(formatEntry);
  return missing.length === 0
    ? pass(
        'deny',
        `deny: every one of grade ${grade.name}'s ${grade.deny.length} deny entr${grade.deny.length === 1 ? 'y' : 'ies'} was in force`,
      )
    : fail('deny', `deny: not in force: ${missing.join(', ')}`);
}

function deniedCheck(r: EvidenceRecord, allowDenied: boolean): Check {
  const names = r.dns.filter((d) => d.verdict === 'refused').reduce((n, d) => n + d.count, 0);
  const what = `deniedTotal: ${r.deniedTotal}, names refused: ${names}`;
  if (r.deniedTotal === 0 && names === 0) return pass('denied', what);
  return allowDenied
    ? pass('denied', `${what} (accepted: --allow-denied)`)
    : fail('denied', `${what}: the build tried to reach what the grade refuses`);
}

function subjectChecks(v: VerifyInput): Check[] {
  if (v.subjects.length === 0) return [];
  if (!v.statement)
    return [fail('subject', 'subject: a plain record names no artifact; check the attestation (statement or bundle) instead')];
  return v.subjects.map(({ file, sha256 }) => {
    const named = v.statement!.subject.find((s) => s.digest.sha256 === sha256);
    return named
      ? pass('subject', `subject ${shown(named.name)}: sha256 ${sha256} equals ${file}`)
      : fail(
          'subject',
          `subject: ${file} (sha256 ${sha256}) is not among the attested artifacts (${v.statement!.subject.map((s) => shown(s.name)).join(', ')})`,
        );
  });
}
