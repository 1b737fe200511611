// The JSON evidence record of one run: what was in force, what happened. Pure; its shape is
// schema/buildfence-report.schema.json.
import { createHash } from 'node:crypto';
import { formatEntry } from '../policy/allowlist.js';
import type { WireDecision } from '../wire/decision-log.js';
import type { DnsDecision, NamesOf } from '../dns/decision-log.js';
import type { KernelCounts } from '../firewall/counters.js';
import type { GithubRun } from './github-run.js';
import type { Ruleset } from '../firewall/ruleset.js';
import type { Mode } from '../run/entry.js';
import type { RunHandle } from '../run/identity.js';
import type { RunSpec } from '../run/spec.js';
import { allDenied, loggedTotal, type DeniedDestination, type DeniedTally } from './evidence.js';
import { suggestEntries } from './suggest.js';

export const REPORT_FORMAT = 'buildfence-report/2';

export interface ImageRef {
  name: string;
  /** The local image ID (sha256 of its configuration). */
  id: string;
  /** Registry digests (name@sha256:...) the engine knows for it; empty for an image built or imported locally. */
  repoDigests?: string[];
}

/** Who and what ran, beyond the spec: the run's place on GitHub, and buildfence's version. */
export interface RunContext {
  github?: GithubRun;
  version: string;
}

/** What a run observed, as a runtime returns it. */
export interface RunFacts {
  runId: string;
  started: string;
  ended: string;
  exitCode: number;
  images: { holder: ImageRef; build: ImageRef };
  rules: Ruleset;
  /** The denied-attempt log, per destination. */
  denied: DeniedTally[];
  /** The kernel's counters, read after the build; undefined when they could not be read (the step warns). */
  kernel?: KernelCounts;
  dns: DnsDecision[];
  namesOf: NamesOf;
  /** What the name checker refused (audit: would have refused); absent where no checker ran. */
  wire?: WireDecision[];
  /** Set when buildfence itself failed during the run (the build was stopped): why. The facts are what was recorded until then. */
  failure?: string;
}

/** A runtime's result: the run's handle and what it observed. */
export interface RunResult extends RunHandle, RunFacts {}

export interface EvidenceRecord {
  format: typeof REPORT_FORMAT;
  runId: string;
  grade: string;
  /** The policy file the grade came from, as named, and the sha256 of its bytes; absent for a built-in grade without a file. */
  policy?: { path: string; sha256: string };
  mode: Mode;
  started: string;
  ended: string;
  exitCode: number;
  images: { holder: ImageRef; build: ImageRef };
  rules: {
    ipset: string;
    iptables: string;
    ip6tables: string;
    iptablesNat: string;
    ip6tablesNat: string;
    resolvConf: string;
    sha256: string;
  };
  allowlist: string[];
  deny: string[];
  denied: DeniedDestination[];
  /** Every denied attempt (in audit mode: every one block mode would deny), as the kernel counted them. */
  deniedTotal: number;
  counts: Counts;
  dns: RecordedDecision[];
  /** For audit runs: the entries block mode would need for what was recorded. */
  suggestedAllowlist: string[];
  buildfence: { version: string };
  /** The workflow run, when the step ran on GitHub Actions. */
  github?: GithubRun;
  /** Why buildfence itself failed during the run, when it did: the record holds what was recorded until then. */
  failure?: string;
}

/** Where the totals come from, and how much of the log the record holds. */
export interface Counts {
  /** `kernel`: the rules' counters; `log`: the counters could not be read, so the log's entries. */
  source: 'kernel' | 'log';
  refused: number;
  audited: number;
  /** Log entries the kernel wrote: per destination, LOG_LIMIT keeps a flood's first attempts, then a trickle. */
  logged: number;
  /** Log entries the record holds (the counts of `denied`). */
  read: number;
  /** Log entries written but never read (a full log queue): destinations may be missing from `denied`. */
  lost: number;
  /** Connections the name checker refused, and (audit) would have refused: it counts them, not the kernel. */
  nameCheck: { refused: number; audited: number };
}

/** A DNS decision as the record holds it: at most ADDRESSES_PER_ROW addresses. */
export interface RecordedDecision extends DnsDecision {
  moreAddresses?: number;
}

/** Addresses listed per DNS decision, and in all of a record's: one row may collect millions in audit mode. */
export const ADDRESSES_PER_ROW = 100;
export const ADDRESSES_PER_RECORD = 100_000;

export function buildRecord(spec: RunSpec, facts: RunFacts, context: RunContext): EvidenceRecord {
  const denied = allDenied(facts.denied, facts.namesOf, facts.wire ?? []);
  const counts = countsOf(facts.denied, facts.kernel, facts.wire ?? []);
  const allowlist = spec.allow.map(formatEntry);
  const dns = boundedDecisions(facts.dns);
  const r = facts.rules;
  return {
    format: REPORT_FORMAT,
    runId: facts.runId,
    grade: spec.grade,
    ...(spec.policyFile ? { policy: spec.policyFile } : {}),
    mode: spec.mode,
    started: facts.started,
    ended: facts.ended,
    exitCode: facts.exitCode,
    images: facts.images,
    rules: {
      ipset: r.ipset,
      iptables: r.v4,
      ip6tables: r.v6,
      iptablesNat: r.nat4,
      ip6tablesNat: r.nat6,
      resolvConf: r.resolvConf,
      sha256: rulesDigest(r),
    },
    allowlist,
    deny: spec.deny.map(formatEntry),
    denied,
    deniedTotal: counts.refused + counts.audited + counts.nameCheck.refused + counts.nameCheck.audited,
    counts,
    dns,
    suggestedAllowlist: spec.mode === 'audit' ? suggestEntries([{ allowlist, denied, dns }]).map((s) => s.entry) : [],
    buildfence: { version: context.version },
    ...(context.github ? { github: context.github } : {}),
    ...(facts.failure !== undefined ? { failure: facts.failure } : {}),
  };
}

function countsOf(denied: DeniedTally[], kernel: KernelCounts | undefined, wire: WireDecision[]): Counts {
  const read = loggedTotal(denied);
  const sum = (rows: WireDecision[]) => rows.reduce((n, d) => n + d.count, 0);
  const nameCheck = { refused: sum(wire.filter((d) => d.enforced)), audited: sum(wire.filter((d) => !d.enforced)) };
  if (!kernel) {
    const refused = loggedTotal(denied.filter((d) => d.enforced));
    return { source: 'log', refused, audited: read - refused, logged: read, read, lost: 0, nameCheck };
  }
  return { source: 'kernel', ...kernel, read, lost: Math.max(0, kernel.logged - read), nameCheck };
}

function boundedDecisions(dns: DnsDecision[]): RecordedDecision[] {
  let budget = ADDRESSES_PER_RECORD;
  return dns.map((d) => {
    const addresses = d.addresses.slice(0, Math.min(ADDRESSES_PER_ROW, budget));
    budget -= addresses.length;
    return addresses.length < d.addresses.length ? { ...d, addresses, moreAddresses: d.addresses.length - addresses.length } : d;
  });
}

/** sha256 over the rules exactly as loaded, in load order. */
export function rulesDigest(r: Ruleset): string {
  return createHash('sha256').update(r.ipset).update(r.v4).update(r.nat4).update(r.v6).update(r.nat6).update(r.resolvConf).digest('hex');
}
