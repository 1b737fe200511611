// DNS messages: reading queries, building refusals, reading answers, replaying cached ones.
// Pure, on dns-packet.
import * as dnsPacket from 'dns-packet';
import { normalizeName } from './match.js';

/** dns-packet's record-level decoders, which its type definitions leave out; `bytes` is the length just read. */
type Decoder = ((buf: Buffer, offset: number) => unknown) & { bytes: number };
const records = dnsPacket as unknown as Record<'name' | 'question' | 'answer', { decode: Decoder }>;

const HEADER_BYTES = 12;
const OPT = 41;

export interface Query {
  id: number;
  name: string;
  type: string;
  /**
   * The question's name as sent (its wire bytes, as latin1, lower case). Equal for two messages
   * only when their names have the same labels at the same offsets, whatever their case.
   */
  wireName: string;
}

export class MalformedQuery extends Error {}

/** The one question of a standard query; anything else is malformed. */
export function parseQuery(buf: Buffer): Query {
  let packet: dnsPacket.DecodedPacket;
  try {
    packet = dnsPacket.decode(buf);
  } catch {
    throw new MalformedQuery('undecodable');
  }
  const questions = packet.questions ?? [];
  const opcode = ((packet.flags ?? 0) >> 11) & 0xf;
  if (packet.type !== 'query' || questions.length !== 1 || opcode !== 0) {
    throw new MalformedQuery('not a standard query with one question');
  }
  return { id: packet.id ?? 0, name: normalizeName(questions[0].name), type: String(questions[0].type), wireName: wireName(buf) };
}

function wireName(buf: Buffer): string {
  records.name.decode(buf, HEADER_BYTES);
  return buf.toString('latin1', HEADER_BYTES, HEADER_BYTES + records.name.decode.bytes).toLowerCase();
}

const RCODE = { FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

/** A reply carrying only a response code, echoing the question when there was a readable one. */
export function errorReply(query: Buffer, rcode: keyof typeof RCODE): Buffer {
  const id = query.length >= 2 ? query.readUInt16BE(0) : 0;
  let questions: dnsPacket.Question[] = [];
  let rd = 0;
  try {
    const q = dnsPacket.decode(query);
    questions = q.questions ?? [];
    rd = (q.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
  } catch {
    // An undecodable query gets a reply without a question section.
  }
  return dnsPacket.encode({
    type: 'response',
    id,
    flags: rd | dnsPacket.RECURSION_AVAILABLE | RCODE[rcode],
    questions,
  });
}

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
  /** The smallest TTL in the answer section (how long the whole answer may be cached). */
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
  const ttls = answers.map((a) => a.ttl ?? 0);
  return {
    rcode: (packet as { rcode?: string }).rcode ?? 'NOERROR',
    truncated: ((packet.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) !== 0,
    addresses,
    chain,
    minTtl: ttls.length > 0 ? Math.min(...ttls) : 0,
  };
}

/**
 * A reply kept for later queries of the same question: replayed by patching its bytes (the id,
 * the question's case, the TTLs), so the upstream's reply goes out as it came, never re-encoded.
 */
export interface StoredReply {
  bytes: Buffer;
  /** The question's name, as in `Query.wireName` ('' when the reply has no question). */
  wireName: string;
  /** Where each record's TTL is and what it was (OPT has none: that field holds EDNS flags). */
  ttls: Array<{ offset: number; ttl: number }>;
}

/** Finds the TTLs of a reply dns-packet decodes, walking it with its decoders (which give lengths, not offsets). */
export function storeReply(buf: Buffer): StoredReply {
  let offset = HEADER_BYTES;
  const questions = buf.readUInt16BE(4);
  for (let i = 0; i < questions; i++) {
    records.question.decode(buf, offset);
    offset += records.question.decode.bytes;
  }
  const ttls: StoredReply['ttls'] = [];
  const count = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10);
  for (let i = 0; i < count; i++) {
    records.name.decode(buf, offset);
    const type = offset + records.name.decode.bytes;
    if (buf.readUInt16BE(type) !== OPT) ttls.push({ offset: type + 4, ttl: buf.readUInt32BE(type + 4) });
    records.answer.decode(buf, offset);
    offset += records.answer.decode.bytes;
  }
  return { bytes: buf, wireName: questions > 0 ? wireName(buf) : '', ttls };
}

/**
 * The stored reply for `query`, whose question's `wireName` is the stored one: with the query's
 * id and the case of its question (a client may check both), every TTL lowered by `elapsed` seconds.
 */
export function replayReply(stored: StoredReply, query: Buffer, elapsed: number): Buffer {
  const reply = Buffer.from(stored.bytes);
  reply[0] = query[0];
  reply[1] = query[1];
  query.copy(reply, HEADER_BYTES, HEADER_BYTES, HEADER_BYTES + stored.wireName.length);
  for (const { offset, ttl } of stored.ttls) reply.writeUInt32BE(Math.max(0, ttl - elapsed), offset);
  return reply;
}
