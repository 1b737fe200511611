// The upstream's replies: reading their answers, keeping them, replaying them to the build.
// Pure, on dns-packet.
import * as dnsPacket from 'dns-packet';
import { normalizeName } from './match.js';
import { localReply, type Query, type Question } from './query.js';

/** dns-packet's record-level decoders, which its type definitions leave out; `bytes` is the length just read. */
type Decoder = ((buf: Buffer, offset: number) => unknown) & { bytes: number };
const records = dnsPacket as unknown as Record<'name' | 'question' | 'answer', { decode: Decoder }>;

const HEADER = 12;
const OPT = 41;

/** RFC 2308 5: how long an answer without records may be kept, at most (its SOA says how long otherwise). */
export const NEGATIVE_TTL_MAX = 300;

export interface Learned {
  family: 4 | 6;
  address: string;
  ttl: number;
}

export interface Answer {
  rcode: string;
  truncated: boolean;
  /** A and AAAA addresses at the end of the CNAME chain that starts at the queried name. */
  addresses: Learned[];
  /** The names the chain passed through, queried name first. */
  chain: string[];
  /**
   * How long the whole reply may be kept (s): the smallest TTL in its answer section; for an
   * answer without records (NXDOMAIN, or NOERROR with an empty answer section) also its SOA's
   * negative TTL, at most NEGATIVE_TTL_MAX, and 0 without an SOA (RFC 2308 5). 0 for other rcodes.
   */
  minTtl: number;
}

/** Reads a response for `name`, following CNAMEs (in any order, loops cut). */
export function readAnswer(buf: Buffer, name: string): Answer {
  const packet = dnsPacket.decode(buf);
  const answers = (packet.answers ?? []).filter((a): a is Exclude<dnsPacket.Answer, dnsPacket.OptAnswer> => a.type !== 'OPT');
  const chain = [normalizeName(name)];
  for (;;) {
    const current = chain[chain.length - 1];
    const cname = answers.find((a) => a.type === 'CNAME' && normalizeName(a.name) === current);
    if (!cname) break;
    const target = normalizeName(cname.data as string);
    if (chain.includes(target)) break;
    chain.push(target);
  }
  const end = chain[chain.length - 1];
  const addresses: Learned[] = [];
  for (const a of answers) {
    if ((a.type === 'A' || a.type === 'AAAA') && normalizeName(a.name) === end) {
      addresses.push({ family: a.type === 'A' ? 4 : 6, address: String(a.data), ttl: a.ttl ?? 0 });
    }
  }
  const rcode = (packet as { rcode?: string }).rcode ?? 'NOERROR';
  const ttls = answers.map((a) => a.ttl ?? 0);
  if (rcode === 'NXDOMAIN' || (rcode === 'NOERROR' && answers.length === 0)) {
    const soa = (packet.authorities ?? []).find((a): a is dnsPacket.SoaAnswer => a.type === 'SOA');
    ttls.push(soa ? Math.min(NEGATIVE_TTL_MAX, soa.ttl ?? 0, soa.data.minimum ?? 0) : 0);
  } else if (rcode !== 'NOERROR') {
    ttls.push(0);
  }
  return {
    rcode,
    truncated: ((packet.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) !== 0,
    addresses,
    chain,
    minTtl: ttls.length > 0 ? Math.min(...ttls) : 0,
  };
}

/**
 * A reply kept for later queries of the same question: replayed by patching its bytes (the id,
 * RD, the question's case, the TTLs; its OPT left out for a client that sent none), so the
 * upstream's reply goes out as it came, never re-encoded.
 */
export interface StoredReply {
  bytes: Buffer;
  /** Length of the question's name, which the replay overwrites with the query's. */
  nameBytes: number;
  /** Where each record's TTL is and what it was (OPT has none: that field holds EDNS flags). */
  ttls: Array<{ offset: number; ttl: number }>;
  /** Where its OPT record is, if it has one. */
  opt?: { offset: number; length: number };
}

/**
 * Finds the TTLs and the OPT of a reply to `question`, walking it with dns-packet's decoders
 * (which give lengths, not offsets). Throws unless it is a response whose one question is
 * `question` (in any case), with at most one OPT.
 */
export function storeReply(buf: Buffer, question: Question): StoredReply {
  const nameBytes = question.wireName.length;
  const ours =
    buf.length >= HEADER + nameBytes + 4 &&
    (buf[2] & 0x80) !== 0 &&
    buf.readUInt16BE(4) === 1 &&
    lower(buf.subarray(HEADER, HEADER + nameBytes)) === question.wireName &&
    buf.readUInt16BE(HEADER + nameBytes) === question.qtype;
  if (!ours) throw new Error('the upstream answered another question');
  let offset = HEADER + nameBytes + 4;
  const ttls: StoredReply['ttls'] = [];
  let opt: StoredReply['opt'];
  const count = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10);
  for (let i = 0; i < count; i++) {
    records.name.decode(buf, offset);
    const type = offset + records.name.decode.bytes;
    const isOpt = buf.readUInt16BE(type) === OPT;
    if (!isOpt) ttls.push({ offset: type + 4, ttl: buf.readUInt32BE(type + 4) });
    records.answer.decode(buf, offset);
    if (isOpt) {
      if (opt) throw new Error('the upstream sent two OPT records');
      opt = { offset, length: records.answer.decode.bytes };
    }
    offset += records.answer.decode.bytes;
  }
  return { bytes: buf, nameBytes, ttls, ...(opt ? { opt } : {}) };
}

/** The bytes with A-Z lowered, as latin1 (a name's case is ASCII only). */
function lower(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/**
 * The stored reply for `query` (whose question is the stored one, in any case), read as `q`:
 * with the query's id, RD and the case of its question (a client may check all three), every
 * TTL lowered by `elapsed` seconds, without the OPT for a client that sent none; and when it
 * holds more than `limit` bytes, only its header and question, marked truncated (TC).
 */
export function replayReply(stored: StoredReply, query: Buffer, q: Query, elapsed: number, limit: number): Buffer {
  const { bytes, opt } = stored;
  const strip = opt !== undefined && q.edns === undefined;
  let reply: Buffer;
  if (strip) {
    reply = Buffer.allocUnsafe(bytes.length - opt.length);
    bytes.copy(reply, 0, 0, opt.offset);
    bytes.copy(reply, opt.offset, opt.offset + opt.length);
    reply.writeUInt16BE(reply.readUInt16BE(10) - 1, 10);
  } else {
    reply = Buffer.from(bytes);
  }
  reply[0] = query[0];
  reply[1] = query[1];
  reply[2] = (reply[2] & 0xfe) | (query[2] & 0x01);
  query.copy(reply, HEADER, HEADER, HEADER + stored.nameBytes);
  if (reply.length > limit) {
    const truncated = localReply(query, q, 'NOERROR', { tc: true });
    truncated[2] |= reply[2] & 0x04;
    truncated[3] = reply[3];
    return truncated;
  }
  for (const { offset, ttl } of stored.ttls) {
    reply.writeUInt32BE(Math.max(0, ttl - elapsed), strip && offset > opt.offset ? offset - opt.length : offset);
  }
  return reply;
}
