// The JSON evidence record of one run: what was in force, what happened. Pure; its shape is
// schema/buildfence-report.schema.json.
import { createHash } from 'node:crypto';
import { formatEntry } from '../policy/allowlist.js';
import type { DnsDecision } from '../dns/decision-log.js';
import type { Ruleset } from '../firewall/ruleset.js';
import type { Mode } from '../run/entry.js';
import type { RunHandle } from '../run/identity.js';
import type { RunSpec } from '../run/spec.js';
import { aggregateDenied, deniedTotal, suggestAllowlist, type DeniedDestination } from './evidence.js';
import type { LoggedPacket } from './nflog.js';

export const REPORT_FORMAT = 'buildfence-report/1';

export interface ImageRef {
  name: string;
  id: string;
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
  namesOf: ReadonlyMap<string, ReadonlySet<string>>;
  /** Set when buildfence itself failed during the run (the build was stopped): why. The facts are what was recorded until then. */
  failure?: string;
}

/** A runtime's result: the run's handle and what it observed. */
export interface RunResult extends RunHandle, RunFacts {}

export interface EvidenceRecord {
  format: typeof REPORT_FORMAT;
  runId: string;
  grade: string;
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
  /** Why buildfence itself failed during the run, when it did: the record holds what was recorded until then. */
  failure?: string;
}

export function buildRecord(spec: RunSpec, facts: RunFacts): EvidenceRecord {
  const denied = aggregateDenied(facts.packets, facts.namesOf);
  const r = facts.rules;
  return {
    format: REPORT_FORMAT,
    runId: facts.runId,
    grade: spec.grade,
    mode: spec.mode,
    started: facts.started,
    ended: facts.ended,
    exitCode: facts.exitCode,
    images: facts.images,
    rules: { ipset: r.ipset, iptables: r.v4, ip6tables: r.v6, iptablesNat: r.nat4, resolvConf: r.resolvConf, sha256: rulesDigest(r) },
    allowlist: spec.allow.map(formatEntry),
    deny: spec.deny.map(formatEntry),
    denied,
    deniedTotal: deniedTotal(denied),
    dns: facts.dns,
    suggestedAllowlist: spec.mode === 'audit' ? suggestAllowlist(denied) : [],
    ...(facts.failure !== undefined ? { failure: facts.failure } : {}),
  };
}

/** sha256 over the rules exactly as loaded, in load order. */
export function rulesDigest(r: Ruleset): string {
  return createHash('sha256').update(r.ipset).update(r.v4).update(r.nat4).update(r.v6).update(r.resolvConf).digest('hex');
}
