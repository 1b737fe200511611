// Which allowlist (or denylist) entries a queried name falls under. Pure.
import type { Entry, NameEntry } from '../run/entry.js';

/** Lower case, no trailing dot: the form entries are stored in. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** `example.com` matches exactly; `*.example.com` matches any subdomain at any depth, never the apex. */
export function nameMatches(entry: NameEntry, name: string): boolean {
  const n = normalizeName(name);
  return entry.wildcard ? n.endsWith(`.${entry.name}`) : n === entry.name;
}

export function matchingEntries(entries: Entry[], name: string): NameEntry[] {
  return entries.filter((e): e is NameEntry => e.kind === 'name' && nameMatches(e, name));
}
