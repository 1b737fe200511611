// Reads the rules the holder printed back and compares them with the rules rendered. Pure; the
// same check on Docker (the action's process) and in a Pod (the verify init container).
import { READBACK_MARK } from './holder-script.js';
import type { Ruleset } from './ruleset.js';

export interface SavedRules {
  ipset: string;
  v4: string;
  v6: string;
  /** `iptables-save -t nat`: Docker's chains and ours. */
  nat4: string;
  resolvConf: string;
  /** `ip6tables-save -t nat`: the name check's chains, when it has them. */
  nat6: string;
}

/** The read-back's parts, as the holder script prints them. */
export function parseReadback(stdout: string): SavedRules | undefined {
  const parts = stdout.split(`${READBACK_MARK}\n`);
  if (parts.length !== 7) return undefined;
  return { ipset: parts[1], v4: parts[2], v6: parts[3], nat4: parts[4], resolvConf: parts[5], nat6: parts[6] };
}

/** Every difference between the rules rendered and the read-back; empty when they are equal. */
export function readbackProblems(rules: Ruleset, readback: string): string[] {
  const saved = parseReadback(readback);
  return saved ? compareRules(rules, saved) : ['the holder did not print its rules back'];
}

/** Throws unless what the kernel holds (the read-back) equals what was rendered. */
export function verifyReadback(rules: Ruleset, readback: string): void {
  const diffs = readbackProblems(rules, readback);
  if (diffs.length > 0) {
    throw new Error(
      `The rules read back from the holder differ from the rules loaded, so the build was not started:\n  ${diffs.slice(0, 20).join('\n  ')}` +
        (diffs.length > 20 ? `\n  ... and ${diffs.length - 20} more` : ''),
    );
  }
}

/** Lists every difference between what was meant and what the kernel holds; empty when equal. */
export function compareRules(expected: Ruleset, saved: SavedRules): string[] {
  return [
    ...diffLines('iptables (IPv4)', normalizeFilter(expected.v4), normalizeFilter(saved.v4), true),
    ...diffLines('ip6tables (IPv6)', normalizeFilter(expected.v6), normalizeFilter(saved.v6), true),
    ...diffLines('ipset', normalizeIpset(expected.ipset), normalizeIpset(saved.ipset), false),
    ...natDiffs('iptables nat (IPv4)', expected.nat4, saved.nat4),
    ...natDiffs('ip6tables nat (IPv6)', expected.nat6, saved.nat6),
    ...diffLines('resolv.conf', expected.resolvConf.split('\n'), saved.resolvConf.split('\n'), true),
  ];
}

// Docker keeps its own nat chains for 127.0.0.11 in the namespace: what must hold is that our
// chains exist with exactly our rules, and that OUTPUT jumps to them before anything else.
function natDiffs(what: string, expected: string, saved: string): string[] {
  const want = normalizeFilter(expected);
  const chains = want.filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]);
  const jumps = want.filter((l) => l.startsWith('-I OUTPUT ')).length;
  const ours = (lines: string[]) => [
    ...lines.filter((l) => chains.some((c) => l.startsWith(`:${c} `))),
    ...lines
      .filter((l) => l.startsWith('-A OUTPUT ') || l.startsWith('-I OUTPUT '))
      .slice(0, jumps)
      .map((l, i) => `OUTPUT rule ${i + 1}: ${l.replace(/^-I OUTPUT \d+ /, '-A OUTPUT ')}`),
    ...lines.filter((l) => chains.some((c) => l.startsWith(`-A ${c} `))),
  ];
  return diffLines(what, ours(want), ours(normalizeFilter(saved)), true);
}

// iptables-save adds comments and packet counters; the rules themselves must match in order.
export function normalizeFilter(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => (l.startsWith(':') ? l.replace(/\s+\[\d+:\d+\]$/, '') : l));
}

// ipset save adds sizing options to sets and prints host networks without their prefix;
// element order is the hash's, so elements compare as a sorted list.
export function normalizeIpset(text: string): string[] {
  const creates: string[] = [];
  const adds: string[] = [];
  for (const raw of text.split('\n')) {
    const words = raw.trim().split(/\s+/);
    if (words[0] === 'create') creates.push(words.slice(0, 5).join(' '));
    if (words[0] === 'add') adds.push(`add ${words[1]} ${hostWithoutPrefix(words[2] ?? '')}`);
  }
  return [...creates.sort(), ...adds.sort()];
}

function hostWithoutPrefix(element: string): string {
  return element.replace(/\/(32|128)(?=,|$)/, '');
}

function diffLines(what: string, expected: string[], actual: string[], ordered: boolean): string[] {
  const diffs: string[] = [];
  if (ordered) {
    const n = Math.max(expected.length, actual.length);
    for (let i = 0; i < n; i++) {
      if (expected[i] !== actual[i]) {
        diffs.push(`${what} line ${i + 1}: expected ${show(expected[i])}, found ${show(actual[i])}`);
      }
    }
    return diffs;
  }
  const have = new Set(actual);
  const want = new Set(expected);
  for (const l of expected) if (!have.has(l)) diffs.push(`${what}: missing ${l}`);
  for (const l of actual) if (!want.has(l)) diffs.push(`${what}: unexpected ${l}`);
  return diffs;
}

function show(line: string | undefined): string {
  return line === undefined ? 'nothing' : `'${line}'`;
}
