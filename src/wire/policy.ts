// Which names the check lets through on which TCP port: the allowlist's name entries, less the
// names a deny entry covers (deny beats allow, as in the resolver). Pure.
import { matchingEntries } from '../dns/match.js';
import type { Entry } from '../run/entry.js';
import type { NamePolicy } from './check.js';

export function namePolicy(allow: Entry[], deny: Entry[]): NamePolicy {
  return (name, port) =>
    matchingEntries(deny, name).length === 0 &&
    matchingEntries(allow, name).some((e) => e.protocols.includes('tcp') && (!e.ports || (e.ports.from <= port && port <= e.ports.to)));
}
