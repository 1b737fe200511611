// What the resolver takes from a run, the same on both runtimes: the name entries (addresses are
// the rules' alone) and the clamp for learned addresses' timeouts.
import type { Entry, Mode } from '../run/entry.js';
import type { RunSpec } from '../run/spec.js';

export interface ResolverSettings {
  mode: Mode;
  allow: Entry[];
  deny: Entry[];
  /** Clamp for the timeout of learned addresses, in seconds. */
  ttlMin: number;
  ttlMax: number;
}

export function resolverSettings(spec: RunSpec): ResolverSettings {
  const names = (entries: Entry[]) => entries.filter((e) => e.kind === 'name');
  return { mode: spec.mode, allow: names(spec.allow), deny: names(spec.deny), ttlMin: spec.dns.ttlMin, ttlMax: spec.dns.ttlMax };
}
