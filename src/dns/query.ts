// The build's DNS queries: read strictly, rebuilt for the upstream, or answered here. Pure.
//
// Queries are read by hand, not with dns-packet: a query that is forwarded must be exactly one
// question of a listed type, class IN, and at most an OPT record, with nothing after them, and
// dns-packet decodes far more than that (compression pointers, any count, trailing bytes),
// spending time and memory on what the build chose to send. Nothing the build wrote is ever
// re-encoded: a reply echoes the question by copying its bytes (at most 259), and the query sent
// upstream is built from the parsed question alone, so every other bit of the build's message
// stays on the machine.

import ipaddr from 'ipaddr.js';

const HEADER = 12;
const OPT = 41;
const OPT_BYTES = 11;
const CLASS_IN = 1;
/** A name's wire form holds at most 255 bytes (RFC 1035 2.3.4), its root label included. */
const NAME_MAX = 255;

/** The payload size buildfence advertises upstream (DNS flag day 2020: no fragmented replies). */
export const EDNS_PAYLOAD = 1232;
/** A UDP reply to a client that sent no EDNS holds at most this many bytes (RFC 1035 4.2.1). */
export const UDP_PLAIN_LIMIT = 512;

/** The query types that are forwarded: what builds ask for. Any other type is answered REFUSED here. */
export const FORWARDED_TYPES: Readonly<Record<string, number>> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  DS: 43,
  DNSKEY: 48,
  SVCB: 64,
  HTTPS: 65,
  CAA: 257,
};
const TYPE_NAMES = new Map(Object.entries(FORWARDED_TYPES).map(([name, code]) => [code, name]));

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export type Rcode = keyof typeof RCODE;

/** Why a query is answered here whatever its name: its form, not the policy. */
export type Unforwarded = 'malformed' | 'opcode' | 'class' | 'type';

export interface Question {
  /** The name as the record and the decision log keep it: its labels as UTF-8, lower case, no trailing dot ('.' for the root). */
  name: string;
  /**
   * The name the policy judges: presentation form (RFC 1035 5.1), lower case, letters, digits,
   * '-' and '_' as they are and every other byte as \DDD, so that a label holding a dot cannot
   * pass for two labels, nor any byte for a character of an allowlist entry.
   */
  matchName: string;
  /** The type's mnemonic for the listed types, else RFC 3597's TYPEnnn. */
  type: string;
  qtype: number;
  /** The name's wire bytes (uncompressed, from offset 12) with A-Z lowered, as latin1: what goes upstream. */
  wireName: string;
}

export interface Query {
  /** The first question, when it is readable: replies echo it (its bytes, in the build's case). */
  question?: Question;
  /** The client's EDNS (payload size, at least 512; the DO bit), when it sent a valid OPT. */
  edns?: { payload: number; dnssecOk: boolean };
  /** Set when the query is answered here, whatever its name: with what and why. */
  local?: { rcode: Extract<Rcode, 'FORMERR' | 'NOTIMP' | 'REFUSED'>; reason: Unforwarded };
}

/** Reads a message the build sent. Never throws: whatever is not a plain query is `local`. */
export function readQuery(buf: Buffer): Query {
  const malformed = (question?: Question): Query => ({ question, local: { rcode: 'FORMERR', reason: 'malformed' } });
  if (buf.length < HEADER || (buf[2] & 0x80) !== 0) return malformed();
  const questions = buf.readUInt16BE(4);
  const question = questions === 1 ? readQuestion(buf) : undefined;
  if (((buf[2] >> 3) & 0x0f) !== 0) return { question, local: { rcode: 'NOTIMP', reason: 'opcode' } };
  if (!question) return malformed();
  if (buf.readUInt16BE(6) !== 0 || buf.readUInt16BE(8) !== 0 || buf.readUInt16BE(10) > 1) return malformed(question);
  let offset = HEADER + question.wireName.length + 4;
  let edns: Query['edns'];
  if (buf.readUInt16BE(10) === 1) {
    const opt = readOpt(buf, offset);
    if (!opt) return malformed(question);
    ({ edns, end: offset } = opt);
  }
  if (offset !== buf.length) return malformed(question);
  const read = edns ? { question, edns } : { question };
  if (buf.readUInt16BE(HEADER + question.wireName.length + 2) !== CLASS_IN)
    return { ...read, local: { rcode: 'REFUSED', reason: 'class' } };
  if (!TYPE_NAMES.has(question.qtype)) return { ...read, local: { rcode: 'REFUSED', reason: 'type' } };
  return read;
}

/** The question at offset 12, its name uncompressed (nothing precedes it that a pointer could name). */
function readQuestion(buf: Buffer): Question | undefined {
  let offset = HEADER;
  const labels: string[] = [];
  const texts: string[] = [];
  for (;;) {
    if (offset >= buf.length) return undefined;
    const len = buf[offset];
    if (len === 0) break;
    // 64 and up: a compression pointer or a reserved label type.
    if (len > 63 || offset + 1 + len >= buf.length || offset + 1 + len - HEADER >= NAME_MAX) return undefined;
    labels.push(presentLabel(buf, offset + 1, len));
    texts.push(buf.toString('utf8', offset + 1, offset + 1 + len).toLowerCase());
    offset += 1 + len;
  }
  const end = offset + 1;
  if (end + 4 > buf.length) return undefined;
  const wire = Buffer.from(buf.subarray(HEADER, end));
  for (let i = 0; i < wire.length; i++) if (wire[i] >= 0x41 && wire[i] <= 0x5a) wire[i] |= 0x20;
  const qtype = buf.readUInt16BE(end);
  return {
    name: texts.length > 0 ? texts.join('.') : '.',
    matchName: labels.length > 0 ? labels.join('.') : '.',
    type: TYPE_NAMES.get(qtype) ?? `TYPE${qtype}`,
    qtype,
    wireName: wire.toString('latin1'),
  };
}

function presentLabel(buf: Buffer, start: number, len: number): string {
  let label = '';
  for (let i = start; i < start + len; i++) {
    const c = buf[i] >= 0x41 && buf[i] <= 0x5a ? buf[i] | 0x20 : buf[i];
    const plain = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
    label += plain ? String.fromCharCode(c) : `\\${String(c).padStart(3, '0')}`;
  }
  return label;
}

/** An OPT record at `offset` (RFC 6891 6.1.2): root owner, version 0, options framed to its end. */
function readOpt(buf: Buffer, offset: number): { edns: NonNullable<Query['edns']>; end: number } | undefined {
  if (offset + OPT_BYTES > buf.length || buf[offset] !== 0 || buf.readUInt16BE(offset + 1) !== OPT) return undefined;
  if (buf[offset + 6] !== 0) return undefined;
  const end = offset + OPT_BYTES + buf.readUInt16BE(offset + 9);
  if (end > buf.length) return undefined;
  let option = offset + OPT_BYTES;
  while (option + 4 <= end) option += 4 + buf.readUInt16BE(option + 2);
  if (option !== end) return undefined;
  const payload = Math.max(UDP_PLAIN_LIMIT, buf.readUInt16BE(offset + 3));
  return { edns: { payload, dnssecOk: (buf[offset + 7] & 0x80) !== 0 }, end };
}

/**
 * The query buildfence sends upstream for `question`: id 0 (the forwarder gives each a fresh
 * one), RD, the one question in lower case, class IN, and buildfence's own OPT (payload size,
 * the DO bit when the build asked for DNSSEC records), no options, nothing else.
 */
export function upstreamQuery(question: Question, dnssecOk: boolean): Buffer {
  const nameEnd = HEADER + question.wireName.length;
  const out = Buffer.alloc(nameEnd + 4 + OPT_BYTES);
  out[2] = 0x01;
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(1, 10);
  out.write(question.wireName, HEADER, 'latin1');
  out.writeUInt16BE(question.qtype, nameEnd);
  out.writeUInt16BE(CLASS_IN, nameEnd + 2);
  writeOpt(out, nameEnd + 4, dnssecOk);
  return out;
}

function writeOpt(out: Buffer, offset: number, dnssecOk: boolean): void {
  out[offset] = 0;
  out.writeUInt16BE(OPT, offset + 1);
  out.writeUInt16BE(EDNS_PAYLOAD, offset + 3);
  out.writeUInt32BE(dnssecOk ? 0x8000 : 0, offset + 5);
  out.writeUInt16BE(0, offset + 9);
}

/**
 * A reply made here, from the query's header (id, opcode, RD) and, when it has a readable
 * question, that question's bytes; with buildfence's OPT when the query had one. At most 282
 * bytes, whatever the query held. `tc` marks a reply too large for the client's UDP size.
 */
export function localReply(query: Buffer, q: Query, rcode: Rcode, { tc = false } = {}): Buffer {
  const echo = q.question ? q.question.wireName.length + 4 : 0;
  const out = Buffer.alloc(HEADER + echo + (q.edns ? OPT_BYTES : 0));
  query.copy(out, 0, 0, Math.min(2, query.length));
  out[2] = 0x80 | ((query.length > 2 ? query[2] : 0) & 0x79) | (tc ? 0x02 : 0);
  out[3] = 0x80 | RCODE[rcode];
  if (echo > 0) {
    out.writeUInt16BE(1, 4);
    query.copy(out, HEADER, HEADER, HEADER + echo);
  }
  if (q.edns) {
    out.writeUInt16BE(1, 10);
    writeOpt(out, HEADER + echo, q.edns.dnssecOk);
  }
  return out;
}

/** How large a reply to `q` may be: over UDP the client's EDNS size (512 without EDNS); over TCP a frame's 65,535. */
export function replyLimit(q: Query, transport: 'udp' | 'tcp'): number {
  return transport === 'tcp' ? 0xffff : (q.edns?.payload ?? UDP_PLAIN_LIMIT);
}

/** An address record's owner: a compression pointer to the question's name, at offset 12. */
const QUESTION_POINTER = 0xc000 | HEADER;

/**
 * A NOERROR reply made here that answers the query's question with address records (A for an
 * IPv4 address, AAAA for IPv6), as localReply makes its header and echoes the question; truncated
 * (TC, no records) when they would not fit in `limit`. The query must have a readable question.
 */
export function addressReply(query: Buffer, q: Query, records: Array<{ address: string; ttl: number }>, limit: number): Buffer {
  const rrs = records.map((r) => {
    const data = Buffer.from(ipaddr.parse(r.address).toByteArray());
    const rr = Buffer.alloc(12 + data.length);
    rr.writeUInt16BE(QUESTION_POINTER, 0);
    rr.writeUInt16BE(data.length === 4 ? 1 : 28, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(r.ttl, 6);
    rr.writeUInt16BE(data.length, 10);
    data.copy(rr, 12);
    return rr;
  });
  const head = localReply(query, { ...q, edns: undefined }, 'NOERROR');
  const opt = q.edns ? OPT_BYTES : 0;
  if (head.length + rrs.reduce((n, rr) => n + rr.length, 0) + opt > limit) return localReply(query, q, 'NOERROR', { tc: true });
  const out = Buffer.concat([head, ...rrs, Buffer.alloc(opt)]);
  out.writeUInt16BE(rrs.length, 6);
  if (q.edns) {
    out.writeUInt16BE(1, 10);
    writeOpt(out, out.length - OPT_BYTES, q.edns.dnssecOk);
  }
  return out;
}
