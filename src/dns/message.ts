// DNS messages: reading queries, building refusals, reading answers. Pure, on dns-packet.
import * as dnsPacket from 'dns-packet';
import { normalizeName } from './match.js';

export interface Query {
  id: number;
  name: string;
  type: string;
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
  return { id: packet.id ?? 0, name: normalizeName(questions[0].name), type: String(questions[0].type) };
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
    const target = normalizeName(String(cname.data));
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

/** The same response for another query id, with every TTL lowered by `elapsed` seconds (from a cache). */
export function replayAnswer(buf: Buffer, id: number, elapsed: number): Buffer {
  if (elapsed <= 0) {
    const copy = Buffer.from(buf);
    copy.writeUInt16BE(id, 0);
    return copy;
  }
  const packet = dnsPacket.decode(buf);
  const age = (records: dnsPacket.Answer[] | undefined) =>
    records?.map((r) => (r.type === 'OPT' ? r : { ...r, ttl: Math.max(0, ((r as { ttl?: number }).ttl ?? 0) - elapsed) }));
  return dnsPacket.encode({
    ...packet,
    id,
    answers: age(packet.answers),
    authorities: age(packet.authorities),
    additionals: age(packet.additionals),
  } as dnsPacket.Packet);
}
