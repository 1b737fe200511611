// Parses allowlist entries: addresses, networks and names, each with optional protocol and ports,
// and `preset:NAME` references to bundles of them.
// Refuses anything ambiguous instead of guessing, because a guess here widens the fence.
import ipaddr from 'ipaddr.js';
import { parse as parseDomain } from 'tldts';
import { PRESETS, presetNames } from './presets.js';
import type { Entry, PortRange, Protocol } from '../run/entry.js';

export class AllowlistError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AllowlistError';
  }
}

const ACCEPTED_FORMS =
  'Accepted forms: 203.0.113.7, 10.0.0.0/8, [2001:db8::1]:443, 10.0.0.0/8:8000-8100, ' +
  'udp://203.0.113.7:5000, example.com, *.example.com:443, opaque://git.example.com:22, preset:npm.';

/** Written before a preset's name; a hostname cannot contain ':' without a numeric port after it. */
export const PRESET_PREFIX = 'preset:';

/** Why one entry is refused; parseEntry and parseAllowlist turn it into an AllowlistError. */
class Refusal extends Error {}

function refuse(reason: string): never {
  throw new Refusal(reason);
}

/** `source` names where the entry came from (`input 'allowlist'`, `--allow`) in the message. */
export function parseEntry(text: string, source?: string): Entry {
  try {
    return parse(text);
  } catch (err) {
    if (err instanceof Refusal) throw new AllowlistError(`${problem(text, err.message, source)} ${ACCEPTED_FORMS}`);
    throw err;
  }
}

/**
 * One entry, or a preset reference (`preset:npm`) expanded to the preset's entries, each of which
 * then carries the reference as its `text`.
 */
export function parseItem(text: string): Entry[] {
  try {
    return parseOne(text);
  } catch (err) {
    if (err instanceof Refusal) throw new AllowlistError(`${problem(text, err.message)} ${ACCEPTED_FORMS}`);
    throw err;
  }
}

/** Entries in order, each kept once (by canonical text), the first occurrence winning. */
export function uniqueEntries(entries: Entry[]): Entry[] {
  const seen = new Set<string>();
  return entries.filter((e) => {
    const key = formatEntry(e);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Entries and preset references, as the list input gives them (one item each). Every bad entry is
 * reported in one error, one line each. Identical entries are kept once.
 */
export function parseAllowlist(items: string[], source: string): Entry[] {
  const entries: Entry[] = [];
  const problems: string[] = [];
  for (const text of items) {
    try {
      entries.push(...parseOne(text));
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      problems.push(problem(text, err.message, source));
    }
  }
  if (problems.length === 1) throw new AllowlistError(`${problems[0]} ${ACCEPTED_FORMS}`);
  if (problems.length > 1) {
    throw new AllowlistError([`${problems.length} invalid entries in ${source}:`, ...problems, ACCEPTED_FORMS].join('\n'));
  }
  // The canonical text is unique per (kind, network or name, wildcard, protocols, ports).
  return uniqueEntries(entries);
}

/**
 * Canonical text of an entry, for reports; parseEntry reads it back to an equal entry (`text`
 * aside). TCP and UDP on every port is the bare host: `10.0.0.0/8`, `2001:db8::/32`,
 * `*.example.com`. One protocol always carries its scheme, then the port or range:
 * `tcp://203.0.113.7/32:443`, `udp://[2001:db8::1/128]:53`, `tcp://example.com`. Addresses
 * always show their prefix. The grammar has no single form for both protocols on some ports
 * (parseEntry never produces one), so such an entry is written as one entry per protocol,
 * joined by `, ` (parseAllowlist reads that back).
 */
export function formatEntry(e: Entry): string {
  const host = e.kind === 'name' ? `${e.wildcard ? '*.' : ''}${e.name}` : e.cidr;
  if (e.kind === 'name' && e.opaque)
    return `opaque://${host}${e.ports ? `:${e.ports.from}${e.ports.from === e.ports.to ? '' : `-${e.ports.to}`}` : ''}`;
  const protocols = [...new Set(e.protocols)].sort();
  if (!e.ports && protocols.length === 2) return host;
  if (!e.ports) return protocols.map((p) => `${p}://${host}`).join(', ');
  const bracketed = e.kind === 'address' && e.family === 6 ? `[${host}]` : host;
  const ports = e.ports.from === e.ports.to ? `${e.ports.from}` : `${e.ports.from}-${e.ports.to}`;
  return protocols.map((p) => `${p}://${bracketed}:${ports}`).join(', ');
}

function problem(text: string, reason: string, source?: string): string {
  const where = source === undefined ? '' : ` in ${source}`;
  return `Invalid entry '${visible(text)}'${where}: ${reason}${/[.?]$/.test(reason) ? '' : '.'}`;
}

/** Control and format characters (bidi overrides, zero-width) would hide what the entry says. */
function visible(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

function parseOne(text: string): Entry[] {
  if (!text.toLowerCase().startsWith(PRESET_PREFIX)) return [parse(text)];
  const name = text.slice(PRESET_PREFIX.length).toLowerCase();
  const preset = Object.hasOwn(PRESETS, name) ? PRESETS[name] : undefined;
  if (!preset) refuse(`unknown preset '${visible(name)}'; known presets: ${presetNames().join(', ')}`);
  return preset.entries.map((p) => ({ ...parse(p.entry), text: `${PRESET_PREFIX}${name}` }));
}

function parse(text: string): Entry {
  if (text === '') refuse('the entry is empty');
  if (/\s/u.test(text)) refuse('whitespace inside an entry; separate entries with commas or newlines');
  const foreign = /[^\x21-\x7e]/u.exec(text);
  if (foreign) {
    const code = foreign[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    refuse(`only ASCII letters, digits and punctuation are allowed (found U+${code}); write an internationalized name in its xn-- form`);
  }
  if (text.includes('@')) refuse("user info ('name@') is not allowed; an entry names a host, not a URL");
  if (/[?#]/.test(text)) refuse('a query or fragment is not allowed; an entry names a host, not a URL');

  let rest = text;
  let scheme: Protocol | 'opaque' | undefined;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
  if (m) {
    const name = m[1].toLowerCase();
    if (name !== 'tcp' && name !== 'udp' && name !== 'opaque') {
      refuse(`unknown scheme '${m[1]}://'; only tcp://, udp:// and opaque:// are accepted`);
    }
    scheme = name;
    rest = text.slice(m[0].length);
  } else if (text.includes('://')) {
    refuse("'://' needs a scheme before it: tcp://, udp:// or opaque://");
  }

  const { host, bracketed, port } = splitHostPort(rest);
  const ports = port === undefined ? undefined : parsePorts(port);
  const target = parseHost(host, bracketed);
  if (scheme === 'opaque') {
    // The check reads names off the wire; an address entry is never checked, so opaque:// means nothing there.
    if (target.kind !== 'name')
      refuse('opaque:// is for names (their TCP is then not checked on the wire); an address entry is never checked');
    return { ...target, text, protocols: ['tcp'], opaque: true, ...(ports ? { ports } : {}) };
  }
  // A bare `host:port` means TCP, as in most allowlists; UDP must be asked for by name.
  const protocols: Protocol[] = scheme ? [scheme] : ports ? ['tcp'] : ['tcp', 'udp'];
  return { ...target, text, protocols, ...(ports ? { ports } : {}) };
}

function splitHostPort(rest: string): { host: string; bracketed: boolean; port?: string } {
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close === -1) refuse("'[' has no closing ']'");
    const host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after === '') return { host, bracketed: true };
    if (!after.startsWith(':')) {
      refuse(
        after.startsWith('/')
          ? 'a path is not allowed; a prefix goes inside the brackets: [2001:db8::/32]:443'
          : `unexpected '${after}' after ']'`,
      );
    }
    return { host, bracketed: true, port: after.slice(1) };
  }
  if (rest.includes(']')) refuse("']' without an opening '['");
  const colons = rest.split(':').length - 1;
  // Two or more colons can only be IPv6, which carries no port unless bracketed.
  if (colons !== 1) return { host: rest, bracketed: false };
  const colon = rest.indexOf(':');
  return { host: rest.slice(0, colon), bracketed: false, port: rest.slice(colon + 1) };
}

function parsePorts(text: string): PortRange {
  if (text === '') refuse("the port after ':' is empty");
  if (text.includes('/')) refuse('a path is not allowed; an entry names a host, not a URL');
  const parts = text.split('-');
  if (parts.length > 2 || parts.includes('')) refuse(`'${text}' is not a port (1-65535) or a range of ports (8000-8100)`);
  const from = parsePort(parts[0]);
  const to = parts[1] === undefined ? from : parsePort(parts[1]);
  if (from > to) refuse(`the port range ${text} runs backwards; write ${to}-${from}`);
  return { from, to };
}

function parsePort(text: string): number {
  if (!/^[0-9]+$/.test(text)) refuse(`port '${text}' is not a number from 1 to 65535`);
  if (text.length > 1 && text.startsWith('0')) refuse(`port '${text}' has a leading zero; write ${Number(text)}`);
  const port = Number(text);
  if (port === 0) refuse('port 0 is not a port; ports are 1 to 65535 (leave the port out to allow every port)');
  if (port > 65535) refuse(`port ${text} is above 65535`);
  return port;
}

/**
 * A wildcard over a public suffix (the Public Suffix List, ICANN and private sections: co.uk,
 * github.io, s3.amazonaws.com) opens a space anyone can register names in. An exact name under
 * one (mybucket.s3.amazonaws.com) is fine.
 */
function refusePublicSuffix(base: string): void {
  const parsed = parseDomain(base, { allowPrivateDomains: true });
  if (parsed.publicSuffix !== base || parsed.domain !== null) return;
  const section = parsed.isPrivate ? 'private section' : 'ICANN section';
  refuse(
    `'${base}' is a public suffix (Public Suffix List, ${section}): anyone can register a name under it, ` +
      `so '*.${base}' would open hosts an attacker can create; name the exact hosts instead, such as myname.${base}`,
  );
}

type Target = { kind: 'address'; family: 4 | 6; cidr: string } | { kind: 'name'; name: string; wildcard: boolean };

function parseHost(host: string, bracketed: boolean): Target {
  if (host === '') refuse('the host is empty');
  if (host.includes(':')) return parseIPv6(host, bracketed);
  if (bracketed) refuse(`brackets are only for IPv6 addresses; write '${host}' without them`);
  const address = host.split('/')[0];
  // ipaddr.js also reads `10.1`, `0x0a.0.0.1` and `010.0.0.1` as IPv4; they are addresses gone wrong, not names.
  if (/^[0-9.]+$/.test(address) || ipaddr.IPv4.isValid(address)) return parseIPv4(host);
  return parseName(host);
}

function splitPrefix(host: string): { address: string; prefix?: string } {
  const [address, prefix, ...extra] = host.split('/');
  if (extra.length > 0) refuse('a path is not allowed; an entry names a host, not a URL');
  return { address, prefix };
}

function parsePrefix(text: string, max: number): number {
  if (!/^(0|[1-9][0-9]*)$/.test(text) || Number(text) > max) {
    refuse(`the prefix length '/${text}' must be a number from 0 to ${max}`);
  }
  return Number(text);
}

function parseIPv4(host: string): Target {
  const { address, prefix: prefixText } = splitPrefix(host);
  if (!ipaddr.IPv4.isValidFourPartDecimal(address)) {
    refuse(`'${address}' is not an IPv4 address; write four decimal numbers from 0 to 255 without leading zeros, e.g. 10.0.0.1`);
  }
  const prefix = prefixText === undefined ? 32 : parsePrefix(prefixText, 32);
  const network = ipaddr.IPv4.networkAddressFromCIDR(`${address}/${prefix}`).toString();
  if (network !== ipaddr.IPv4.parse(address).toString()) refuse(`host bits are set; did you mean ${network}/${prefix}?`);
  return { kind: 'address', family: 4, cidr: `${network}/${prefix}` };
}

function hexGroups(v4: string): string {
  const [a, b, c, d] = ipaddr.IPv4.parse(v4).octets;
  return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

function parseIPv6(host: string, bracketed: boolean): Target {
  if (host.includes('%')) refuse("zone ids ('%eth0') are not allowed; a zone only means something on one machine");
  const { address: written, prefix: prefixText } = splitPrefix(host);
  // ipaddr.js reads an embedded `010.0.0.1` as decimal; refuse what other tools read as octal.
  const dotted = /:([^:]*\.[^:]*)$/.exec(written);
  if (dotted && !ipaddr.IPv4.isValidFourPartDecimal(dotted[1])) {
    refuse(`'${dotted[1]}' inside '${written}' is not an IPv4 address in four decimal parts`);
  }
  // ipaddr.js also reads any embedded dotted quad as IPv4-mapped (`::10.0.0.1` as
  // `::ffff:10.0.0.1`); the kernel reads the bits as written. Two hex groups say the same bits.
  const address = dotted ? written.slice(0, -dotted[1].length) + hexGroups(dotted[1]) : written;
  if (!ipaddr.IPv6.isValid(address)) {
    refuse(
      bracketed
        ? `'${address}' is not an IPv6 address`
        : `'${address}' is not an IPv6 address (with more than one ':' and no brackets an entry is read as IPv6; ` +
            'a port after an IPv6 address needs brackets: [2001:db8::1]:443)',
    );
  }
  const ip = ipaddr.IPv6.parse(address);
  const prefix = prefixText === undefined ? 128 : parsePrefix(prefixText, 128);
  // The fence keeps the families apart; an IPv4 destination belongs in the IPv4 rules.
  if (ip.isIPv4MappedAddress() && prefix >= 96) {
    const v4 = ip.toIPv4Address().toString();
    refuse(`IPv4-mapped IPv6 addresses are not accepted; write the IPv4 address ${prefixText === undefined ? v4 : `${v4}/${prefix - 96}`}`);
  }
  const network = ipaddr.IPv6.networkAddressFromCIDR(`${address}/${prefix}`).toRFC5952String();
  if (network !== ip.toRFC5952String()) refuse(`host bits are set; did you mean ${network}/${prefix}?`);
  return { kind: 'address', family: 6, cidr: `${network}/${prefix}` };
}

function parseName(host: string): Target {
  if (host.includes('/')) refuse('a path is not allowed; an entry names a host, not a URL');
  let name = host.endsWith('.') ? host.slice(0, -1) : host;
  const wildcard = name.startsWith('*.');
  if (wildcard) name = name.slice(2);
  if (name.includes('*')) refuse("'*' is allowed only as the whole leftmost label, as in *.example.com");
  const labels = name.split('.');
  if (wildcard && labels.length < 2) {
    refuse("a wildcard needs at least two labels after '*.', as in *.example.com, so that it cannot open a whole top-level domain");
  }
  for (const label of labels) {
    if (label === '') refuse('the name has an empty label (a leading dot or two dots in a row)');
    if (label.length > 63) refuse(`the label '${label.slice(0, 16)}...' is longer than 63 characters`);
    if (!/^[A-Za-z0-9_-]+$/.test(label)) refuse(`the label '${label}' may hold only letters, digits, '-' and '_'`);
    if (label.startsWith('-') || label.endsWith('-')) refuse(`the label '${label}' starts or ends with '-'`);
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1])) {
    refuse('the last label is all digits, so this is neither a name nor an IPv4 address');
  }
  if (name.length > 253) refuse('the name is longer than 253 characters');
  if (wildcard) refusePublicSuffix(name.toLowerCase());
  return { kind: 'name', name: name.toLowerCase(), wildcard };
}
