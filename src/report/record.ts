// The JSON evidence record of one run: what was in force, what happened. Pure; its shape is
// schema/buildfence-report.schema.json.
import { createHash } from 'node:crypto';
import { formatEntry } from '../policy/allowlist.js';
import type { DnsDecision, NamesOf } from '../dns/decision-log.js';
import type { GithubRun } from './github-run.js';
import type { Ruleset } from '../firewall/ruleset.js';
import type { Mode } from '../run/entry.js';
import type { RunHandle } from '../run/identity.js';
import type { RunSpec } from '../run/spec.js';
import { aggregateDenied, deniedTotal, type DeniedDestination } from './evidence.js';
import { suggestEntries } from './suggest.js';
import type { LoggedPacket } from './nflog.js';

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
  packets: LoggedPacket[];
  dns: DnsDecision[];
  namesOf: NamesOf;
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
  rules: { ipset: string; iptables: string; ip6tables: string; iptablesNat: string; resolvConf: string; sha256: string };
  allowlist: string[];
  deny: string[];
  denied: DeniedDestination[];
  deniedTotal: number;
  dns: DnsDecision[];
  /** For audit runs: the entries block mode would need for what was recorded. */
  suggestedAllowlist: string[];
  buildfence: { version: string };
  /** The workflow run, when the step ran on GitHub Actions. */
  github?: GithubRun;
}

export function buildRecord(spec: RunSpec, facts: RunFacts, context: RunContext): EvidenceRecord {
  const denied = aggregateDenied(facts.packets, facts.namesOf);
  const allowlist = spec.allow.map(formatEntry);
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
    rules: { ipset: r.ipset, iptables: r.v4, ip6tables: r.v6, iptablesNat: r.nat4, resolvConf: r.resolvConf, sha256: rulesDigest(r) },
    allowlist,
    deny: spec.deny.map(formatEntry),
    denied,
    deniedTotal: deniedTotal(denied),
    dns: facts.dns,
    suggestedAllowlist: spec.mode === 'audit' ? suggestEntries([{ allowlist, denied, dns: facts.dns }]).map((s) => s.entry) : [],
    buildfence: { version: context.version },
    ...(context.github ? { github: context.github } : {}),
  };
}

/** sha256 over the rules exactly as loaded, in load order. */
export function rulesDigest(r: Ruleset): string {
  return createHash('sha256').update(r.ipset).update(r.v4).update(r.nat4).update(r.v6).update(r.resolvConf).digest('hex');
}
