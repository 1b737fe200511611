// Property-based tests of the allowlist grammar. Every input, generated or mutated, must be read
// exactly as a small reference reading of the grammar (written here, from the README, without
// ipaddr.js) reads it, or refused with an AllowlistError that quotes the entry and lists the
// accepted forms. Never another exception, and never a network, port or protocol the text
// does not say: that would silently widen the fence.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parse as parseDomain } from 'tldts';
import { AllowlistError, formatEntry, parseAllowlist, parseEntry } from '../../src/policy/allowlist.js';
import type { Entry, Protocol } from '../../src/run/entry.js';
import { listInput } from '../../src/inputs.js';

const allowItems = (value: string) => listInput(value, { commas: true, comments: true });

// ---- the reference reading ----

type Ports = { from: number; to: number };
type Meaning =
  | { kind: 'address'; family: 4 | 6; network: bigint; prefix: number; protocols: Protocol[]; ports?: Ports }
  | { kind: 'name'; name: string; wildcard: boolean; protocols: Protocol[]; ports?: Ports };
/**
 * A host such as `0x0a.1` or `10.1`, which tools read as IPv4, is never an address here; it may
 * be refused, or read as the name it also is (`asName`).
 */
type Reading = Meaning | 'refused' | { kind: 'numeric'; asName: Meaning | 'refused' };

const V4_MAX = 0xffffffffn;
const V6_MAX = (1n << 128n) - 1n;

function decimalV4(s: string): bigint | null {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return null;
  return parts.reduce((n, p) => (n << 8n) | BigInt(p), 0n);
}

/**
 * RFC 4291 text: hex groups, at most one `::` standing for one or more zero groups, an optional
 * dotted IPv4 tail (its bits as written, `::a.b.c.d` included).
 */
function parseV6(s: string): bigint | null {
  let text = s;
  const tail = s.slice(s.lastIndexOf(':') + 1);
  if (tail.includes('.')) {
    const v4 = decimalV4(tail);
    if (v4 === null) return null;
    text = `${s.slice(0, s.length - tail.length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const [head, rest] = [groups(halves[0]), halves.length === 2 ? groups(halves[1]) : []];
  const all = [...head, ...rest];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  if (halves.length === 2 ? all.length > 7 : all.length !== 8) return null;
  const full = [...head, ...Array<string>(8 - all.length).fill('0'), ...rest];
  return full.reduce((n, g) => (n << 16n) | BigInt(`0x${g}`), 0n);
}

const hostMask = (bits: number, prefix: number) => (1n << BigInt(bits - prefix)) - 1n;

function readPrefix(text: string | undefined, max: number): number | null {
  if (text === undefined) return max;
  return /^(0|[1-9][0-9]*)$/.test(text) && Number(text) <= max ? Number(text) : null;
}

function readPorts(text: string): Ports | null {
  const m = /^([1-9][0-9]*)(?:-([1-9][0-9]*))?$/.exec(text);
  if (!m) return null;
  const [from, to] = [Number(m[1]), Number(m[2] ?? m[1])];
  return to <= 65535 && from <= to ? { from, to } : null;
}

/** Parts that C's inet_aton (and ipaddr.js) read as numbers: `10.1`, `0x0a.0.0.1`, `4294967295`. */
const looksNumeric = (host: string) => /^[0-9.]+$/.test(host) || /^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$/i.test(host);

/** co.uk, github.io, a.se: a wildcard over one of these is refused (the Public Suffix List, both sections). */
function isPublicSuffix(name: string): boolean {
  const parsed = parseDomain(name, { allowPrivateDomains: true });
  return parsed.publicSuffix === name && parsed.domain === null;
}

function readName(host: string): { name: string; wildcard: boolean } | null {
  let name = host.endsWith('.') ? host.slice(0, -1) : host;
  const wildcard = name.startsWith('*.');
  if (wildcard) name = name.slice(2);
  const labels = name.split('.');
  const ok =
    labels.every((l) => /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(l)) &&
    !/^[0-9]+$/.test(labels[labels.length - 1]) &&
    name.length <= 253 &&
    (!wildcard || (labels.length >= 2 && !isPublicSuffix(name.toLowerCase())));
  return ok ? { name: name.toLowerCase(), wildcard } : null;
}

function reference(text: string): Reading {
  if (!/^[\x21-\x7e]+$/.test(text) || /[@?#]/.test(text)) return 'refused';
  let rest = text;
  let scheme: Protocol | undefined;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
  if (m) {
    const s = m[1].toLowerCase();
    if (s !== 'tcp' && s !== 'udp') return 'refused';
    scheme = s;
    rest = text.slice(m[0].length);
  } else if (text.includes('://')) {
    return 'refused';
  }

  let host: string;
  let portText: string | undefined;
  let bracketed = false;
  const b = /^\[([^\]]*)\](?::(.*))?$/.exec(rest);
  if (b) [host, portText, bracketed] = [b[1], b[2], true];
  else if (/[[\]]/.test(rest)) return 'refused';
  else if (rest.split(':').length === 2) [host, portText] = rest.split(':');
  else host = rest;

  const ports = portText === undefined ? undefined : readPorts(portText);
  if (ports === null) return 'refused';
  const protocols: Protocol[] = scheme ? [scheme] : ports ? ['tcp'] : ['tcp', 'udp'];
  const withPorts = ports ? { ports } : {};

  const [address, prefixText, ...extra] = host.split('/');
  if (extra.length > 0 || host === '') return 'refused';
  if (host.includes(':')) {
    const network = parseV6(address);
    const prefix = readPrefix(prefixText, 128);
    if (network === null || prefix === null || (network & hostMask(128, prefix)) !== 0n) return 'refused';
    if (prefix >= 96 && network >> 32n === 0xffffn) return 'refused'; // IPv4-mapped
    return { kind: 'address', family: 6, network, prefix, protocols, ...withPorts };
  }
  if (bracketed) return 'refused';
  if (looksNumeric(address)) {
    const network = decimalV4(address);
    const prefix = readPrefix(prefixText, 32);
    if (network === null) {
      const name = prefixText === undefined ? readName(host) : null;
      return { kind: 'numeric', asName: name ? { kind: 'name', ...name, protocols, ...withPorts } : 'refused' };
    }
    if (prefix === null || (network & hostMask(32, prefix)) !== 0n) return 'refused';
    return { kind: 'address', family: 4, network, prefix, protocols, ...withPorts };
  }
  if (prefixText !== undefined) return 'refused';
  const name = readName(host);
  return name ? { kind: 'name', ...name, protocols, ...withPorts } : 'refused';
}

/** RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups (the first of equals) as `::`. */
function rfc5952(n: bigint): string {
  const g = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  return best.at < 0 ? hex(g) : `${hex(g.slice(0, best.at))}::${hex(g.slice(best.at + best.len))}`;
}

const dotted = (n: bigint) => [24n, 16n, 8n, 0n].map((s) => (n >> s) & 255n).join('.');

/** What an accepted entry means, read from its canonical cidr by the reference, which must agree. */
function meaningOf(e: Entry): Meaning {
  const rest = { protocols: [...e.protocols].sort(), ...(e.ports ? { ports: e.ports } : {}) };
  if (e.kind === 'name') return { kind: 'name', name: e.name, wildcard: e.wildcard, ...rest };
  const [address, prefixText] = e.cidr.split('/');
  const network = e.family === 4 ? decimalV4(address) : parseV6(address);
  assert.ok(network !== null, `the cidr ${e.cidr} is not an address`);
  const canonical = e.family === 4 ? dotted(network) : rfc5952(network);
  assert.equal(address, canonical, `the cidr ${e.cidr} is not canonical (${canonical})`);
  return { kind: 'address', family: e.family, network, prefix: Number(prefixText), ...rest };
}

const sorted = (m: Meaning): Meaning => ({ ...m, protocols: [...m.protocols].sort() });

function visible(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

function assertRefusal(err: unknown, text: string): void {
  if (!(err instanceof AllowlistError)) throw err;
  assert.ok(err.message.startsWith(`Invalid entry '${visible(text)}'`), `the message does not quote the entry: ${err.message}`);
  assert.ok(err.message.includes('Accepted forms: '), `the message does not list the accepted forms: ${err.message}`);
}

/** JSON.stringify cannot write a bigint. */
const big = (_: string, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v);

/** The property every input must have: parseEntry agrees with the reference, or refuses as it does. */
function agrees(text: string): void {
  let entry: Entry | undefined;
  try {
    entry = parseEntry(text);
  } catch (err) {
    assertRefusal(err, text);
  }
  const ref = reference(text);
  if (entry === undefined) {
    assert.ok(ref === 'refused' || ref.kind === 'numeric', `refused, but the reference reads ${JSON.stringify(ref, big)}`);
    return;
  }
  assert.equal(entry.text, text);
  const want = ref !== 'refused' && ref.kind === 'numeric' ? ref.asName : ref;
  assert.ok(want !== 'refused', `accepted as ${JSON.stringify(entry)}, but the reference refuses it`);
  assert.deepEqual(meaningOf(entry), sorted(want), `read differently from the reference: ${JSON.stringify(entry)}`);
}

// ---- generators ----

const portsArb: fc.Arbitrary<Ports | undefined> = fc.option(
  fc.oneof(
    fc.integer({ min: 1, max: 65535 }).map((p) => ({ from: p, to: p })),
    fc
      .tuple(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 }))
      .map(([a, b]) => ({ from: Math.min(a, b), to: Math.max(a, b) })),
    fc.constantFrom({ from: 1, to: 65535 }, { from: 65535, to: 65535 }, { from: 1, to: 1 }),
  ),
  { nil: undefined },
);
const schemeArb = fc.constantFrom(undefined, 'tcp', 'udp', 'TCP', 'Udp');
/** `443`, or `443-443` when asked for (a range of one port means the same). */
const portText = (p: Ports, asRange: boolean) => (p.from === p.to && !asRange ? `${p.from}` : `${p.from}-${p.to}`);

interface Generated {
  text: string;
  expected: Entry;
}

function expectedEntry(
  text: string,
  host: Pick<Entry, 'kind'> & Record<string, unknown>,
  scheme: string | undefined,
  ports: Ports | undefined,
): Entry {
  const protocols: Protocol[] = scheme ? [scheme.toLowerCase() as Protocol] : ports ? ['tcp'] : ['tcp', 'udp'];
  return { ...host, text, protocols, ...(ports ? { ports } : {}) } as Entry;
}

const v4Arb: fc.Arbitrary<Generated> = fc
  .record({
    address: fc.oneof(fc.nat({ max: 0xffffffff }), fc.constantFrom(0, 0xffffffff, 0x0a000000, 0xa9fea9fe)),
    prefix: fc.integer({ min: 0, max: 32 }),
    writePrefix: fc.boolean(),
    scheme: schemeArb,
    ports: portsArb,
    asRange: fc.boolean(),
  })
  .map(({ address, prefix, writePrefix, scheme, ports, asRange }) => {
    const network = BigInt(address) & (V4_MAX ^ hostMask(32, prefix));
    const host = prefix < 32 || writePrefix ? `${dotted(network)}/${prefix}` : dotted(network);
    const text = `${scheme ? `${scheme}://` : ''}${host}${ports ? `:${portText(ports, asRange)}` : ''}`;
    return { text, expected: expectedEntry(text, { kind: 'address', family: 4, cidr: `${dotted(network)}/${prefix}` }, scheme, ports) };
  });

/** Any valid RFC 4291 spelling of n: `::` over any zero run or none, case, leading zeros, a dotted tail. */
function v6Text(n: bigint, choice: { compress: number; upper: boolean; pad: boolean; dottedTail: boolean }): string {
  const g = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  const words = g
    .map((x) => x.toString(16))
    .map((w) => (choice.pad ? w.padStart(4, '0') : w))
    .map((w) => (choice.upper ? w.toUpperCase() : w));
  const tail = choice.dottedTail ? [dotted(n & V4_MAX)] : [];
  const hexWords = choice.dottedTail ? words.slice(0, 6) : words;
  const runs: Array<[number, number]> = [];
  for (let i = 0; i < hexWords.length; i++) {
    if (g[i] !== 0) continue;
    for (let j = i + 1; j <= hexWords.length && g[j - 1] === 0; j++) runs.push([i, j]);
  }
  if (runs.length === 0 || choice.compress === 0) return [...hexWords, ...tail].join(':');
  const [from, to] = runs[choice.compress % runs.length];
  const left = hexWords.slice(0, from).join(':');
  const right = [...hexWords.slice(to), ...tail].join(':');
  return `${left}::${right}`;
}

const v6Arb: fc.Arbitrary<Generated> = fc
  .record({
    groups: fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }),
    prefix: fc.oneof(fc.integer({ min: 0, max: 128 }), fc.constantFrom(0, 64, 96, 127, 128)),
    writePrefix: fc.boolean(),
    spelling: fc.record({ compress: fc.nat({ max: 40 }), upper: fc.boolean(), pad: fc.boolean(), dottedTail: fc.boolean() }),
    bracket: fc.boolean(),
    scheme: schemeArb,
    ports: portsArb,
    asRange: fc.boolean(),
  })
  .map(({ groups, prefix, writePrefix, spelling, bracket, scheme, ports, asRange }) => {
    const address = groups.reduce((n, x) => (n << 16n) | BigInt(x), 0n);
    const network = address & (V6_MAX ^ hostMask(128, prefix));
    const spelled = v6Text(network, spelling);
    const host = prefix < 128 || writePrefix ? `${spelled}/${prefix}` : spelled;
    const hostPart = ports || bracket ? `[${host}]` : host;
    const text = `${scheme ? `${scheme}://` : ''}${hostPart}${ports ? `:${portText(ports, asRange)}` : ''}`;
    const expected = expectedEntry(text, { kind: 'address', family: 6, cidr: `${rfc5952(network)}/${prefix}` }, scheme, ports);
    return { text, expected, refused: parseV6(spelled) === null || (prefix >= 96 && network >> 32n === 0xffffn) };
  })
  // IPv4-mapped networks of /96 or longer are refused: see below.
  .filter((g) => !g.refused)
  .map(({ text, expected }) => ({ text, expected }));

const labelArb = fc.stringMatching(/^[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,14}[a-zA-Z0-9_])?$/);
const tldArb = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9-]{0,8}[a-zA-Z0-9]$/);
const nameArb: fc.Arbitrary<Generated> = fc
  .record({
    labels: fc.array(labelArb, { minLength: 0, maxLength: 4 }),
    tld: tldArb,
    wildcard: fc.boolean(),
    dot: fc.boolean(),
    scheme: schemeArb,
    ports: portsArb,
    asRange: fc.boolean(),
  })
  .filter(({ labels, tld, wildcard }) => !wildcard || (labels.length >= 1 && !isPublicSuffix([...labels, tld].join('.').toLowerCase())))
  .map(({ labels, tld, wildcard, dot, scheme, ports, asRange }) => {
    const name = [...labels, tld].join('.');
    const text = `${scheme ? `${scheme}://` : ''}${wildcard ? '*.' : ''}${name}${dot ? '.' : ''}${ports ? `:${portText(ports, asRange)}` : ''}`;
    return { text, expected: expectedEntry(text, { kind: 'name', name: name.toLowerCase(), wildcard }, scheme, ports) };
  });

const entryArb = fc.oneof(v4Arb, v6Arb, nameArb);

/** Characters that matter to the grammar, and some that must never pass as one of them. */
const interesting = fc.constantFrom(
  ...'0123456789abcdefxX.:/-[]*,%@?#_ '.split(''),
  '::',
  '://',
  '0x',
  '/0',
  ':0',
  '-0',
  '\t',
  '\n',
  '\u200b',
  '\u202e',
  '\u00a0',
  '\uff14',
  '\u0661',
  'ﬀ',
  'K',
);
const mutation = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), s: interesting }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), s: fc.constant('') }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), s: interesting }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), s: fc.constant('') }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(text: string, ms: Mutation[]): string {
  let t = text;
  for (const m of ms) {
    const at = t.length === 0 ? 0 : m.at % (t.length + 1);
    if (m.op === 'insert') t = t.slice(0, at) + m.s + t.slice(at);
    if (m.op === 'delete') t = t.slice(0, at) + t.slice(at + 1);
    if (m.op === 'replace') t = t.slice(0, at) + m.s + t.slice(at + 1);
    if (m.op === 'duplicate') t = t.slice(0, at) + t.slice(at, at + 3) + t.slice(at);
  }
  return t;
}

const RUNS = 3000;

// ---- properties ----

describe('allowlist grammar, generated entries', () => {
  for (const [kind, arb] of [
    ['IPv4', v4Arb],
    ['IPv6', v6Arb],
    ['name', nameArb],
  ] as const) {
    it(`reads every generated ${kind} entry as exactly the network, ports and protocols it was made from`, () => {
      fc.assert(
        fc.property(arb, ({ text, expected }) => {
          assert.deepEqual(parseEntry(text), expected);
          agrees(text);
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('reads back what formatEntry writes, and formatEntry is stable', () => {
    fc.assert(
      fc.property(entryArb, ({ expected }) => {
        const text = formatEntry(expected);
        const [again, ...more] = parseAllowlist(allowItems(text), '--allow');
        assert.equal(more.length, 0);
        assert.deepEqual({ ...again, text: '' }, { ...expected, text: '' });
        assert.equal(formatEntry(again), text);
      }),
      { numRuns: RUNS },
    );
  });

  it('writes TCP and UDP on some ports as two entries that together mean exactly that', () => {
    fc.assert(
      fc.property(entryArb, portsArb, ({ expected }, ports) => {
        const both = { ...expected, protocols: ['tcp', 'udp'] as Protocol[], ports: ports ?? { from: 443, to: 443 } } as Entry;
        const read = parseAllowlist(allowItems(formatEntry(both)), '--allow');
        assert.deepEqual(read.flatMap((e) => e.protocols).sort(), ['tcp', 'udp']);
        for (const e of read) assert.deepEqual({ ...e, protocols: both.protocols, text: '' }, { ...both, text: '' });
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a network with host bits set and suggests the network that contains it', () => {
    const arb = fc
      .record({ v6: fc.boolean(), hi: fc.bigInt({ min: 0n, max: V6_MAX }), prefix: fc.nat({ max: 127 }) })
      .map(({ v6, hi, prefix }) => {
        const bits = v6 ? 128 : 32;
        const p = prefix % bits;
        const address = (hi & (v6 ? V6_MAX : V4_MAX)) | (1n << BigInt(bits - p - 1)); // one host bit at least
        return { v6, p, address, network: address & ((v6 ? V6_MAX : V4_MAX) ^ hostMask(bits, p)) };
      })
      // An IPv4-mapped address is refused for that first, and says so.
      .filter(({ v6, address }) => !(v6 && address >> 32n === 0xffffn));
    fc.assert(
      fc.property(arb, ({ v6, p, address, network }) => {
        const text = `${v6 ? rfc5952(address) : dotted(address)}/${p}`;
        const want = `${v6 ? rfc5952(network) : dotted(network)}/${p}`;
        assert.throws(
          () => parseEntry(text),
          (err: unknown) => {
            assertRefusal(err, text);
            assert.ok((err as Error).message.includes(`host bits are set; did you mean ${want}?`), (err as Error).message);
            return true;
          },
        );
        const suggested = parseEntry(want);
        assert.ok(suggested.kind === 'address' && suggested.cidr === want);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses IPv4-mapped IPv6 addresses and networks of /96 or longer, in any spelling', () => {
    const arb = fc.record({
      v4: fc.nat({ max: 0xffffffff }),
      prefix: fc.integer({ min: 96, max: 128 }),
      spelling: fc.record({ compress: fc.nat({ max: 40 }), upper: fc.boolean(), pad: fc.boolean(), dottedTail: fc.boolean() }),
    });
    fc.assert(
      fc.property(arb, ({ v4, prefix, spelling }) => {
        const network = ((0xffffn << 32n) | BigInt(v4)) & (V6_MAX ^ hostMask(128, prefix));
        const text = `${v6Text(network, spelling)}/${prefix}`;
        assert.throws(
          () => parseEntry(text),
          (err: unknown) => {
            assertRefusal(err, text);
            assert.match((err as Error).message, /IPv4-mapped IPv6 addresses are not accepted/);
            return true;
          },
        );
      }),
      { numRuns: RUNS },
    );
  });
});

describe('allowlist grammar, IPv4-compatible spelling', () => {
  // ipaddr.js alone reads `::a.b.c.d` as `::ffff:a.b.c.d`; the grammar reads the bits as written.
  const cases: Array<[string, string]> = [
    ['::1.2.3.4', '::102:304/128'],
    ['::0.0.0.0/0', '::/0'],
    ['[::10.0.0.0/120]:443', '::a00:0/120'],
  ];
  for (const [text, cidr] of cases) {
    it(`reads ${text} as ${cidr}`, () => assert.equal((parseEntry(text) as { cidr: string }).cidr, cidr));
  }
});

describe('allowlist grammar, mutated and random entries', () => {
  it('reads a mutated entry as the reference does, or refuses it with an AllowlistError', () => {
    fc.assert(
      fc.property(entryArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), ({ text }, ms) => agrees(mutate(text, ms))),
      { numRuns: RUNS * 3 },
    );
  });

  it('reads random text as the reference does, or refuses it with an AllowlistError', () => {
    const arb = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'0123456789abcdef.:/-[]*_xtcpud'.split('')), maxLength: 40 }),
      fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
    );
    fc.assert(
      fc.property(arb, (text) => agrees(text)),
      { numRuns: RUNS },
    );
  });

  it('refuses a list with bad entries by naming each of them once, and otherwise keeps every good entry', () => {
    const item = fc.oneof(
      entryArb.map((g) => g.text),
      fc.tuple(entryArb, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([g, ms]) => mutate(g.text, ms)),
    );
    // Separators and comments are the list's, and leading or trailing blanks are trimmed: keep items free of them.
    const clean = item.map((t) => t.replace(/[,#\r\n]/g, '').trim()).filter((t) => t !== '');
    fc.assert(
      fc.property(fc.array(clean, { minLength: 1, maxLength: 8 }), fc.constantFrom(', ', '\n', ' # note\n'), (items, sep) => {
        const bad = items.filter((t) => !isAccepted(t));
        try {
          const entries = parseAllowlist(allowItems(items.join(sep)), "input 'allowlist'");
          assert.equal(bad.length, 0, `accepted a list with bad entries ${JSON.stringify(bad)}`);
          const keys = [...new Set(items.map((t) => formatEntry(parseEntry(t))))];
          assert.deepEqual(entries.map(formatEntry), keys);
        } catch (err) {
          if (!(err instanceof AllowlistError)) throw err;
          assert.ok(bad.length > 0, `refused a good list: ${err.message}`);
          for (const t of new Set(bad)) assert.ok(err.message.includes(`Invalid entry '${visible(t)}' in input 'allowlist'`), err.message);
          if (bad.length > 1) assert.ok(err.message.startsWith(`${bad.length} invalid entries in input 'allowlist':`), err.message);
          assert.ok(err.message.includes('Accepted forms: '));
        }
      }),
      { numRuns: RUNS / 3 },
    );
  });
});

function isAccepted(text: string): boolean {
  try {
    parseEntry(text);
    return true;
  } catch {
    return false;
  }
}
