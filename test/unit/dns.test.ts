import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import { matchingEntries, nameMatches } from '../../src/dns/match.js';
import { NEGATIVE_TTL_MAX, readAnswer, replayReply, storeReply } from '../../src/dns/message.js';
import { FORWARDED_TYPES, localReply, readQuery, upstreamQuery } from '../../src/dns/query.js';
import { DECISION_LIMIT, FOLDED_LIMIT } from '../../src/dns/decision-log.js';
import { Resolver } from '../../src/dns/resolver.js';
import { parseUpstreams, resolvConfServers, type Forwarder } from '../../src/dns/upstream.js';
import type { TimedMember } from '../../src/dns/feed.js';
import { parseAllowlist } from '../../src/policy/allowlist.js';
import type { NameEntry } from '../../src/run/entry.js';
import { listInput } from '../../src/inputs.js';
import { header, opt, typeClass, wire } from './dns-wire.js';

const allowItems = (value: string) => listInput(value, { commas: true, comments: true });
const upstreamItems = (value: string) => listInput(value, { commas: true });

const entry = (text: string) => parseAllowlist(allowItems(text), 'test')[0] as NameEntry;
const HEADER_BYTES = 12;
const query = (name: string, type: dnsPacket.RecordType = 'A', id = 7) =>
  dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
const response = (q: Buffer, answers: dnsPacket.Answer[], rcode = 0) =>
  dnsPacket.encode({ type: 'response', id: q.readUInt16BE(0), flags: rcode, questions: dnsPacket.decode(q).questions, answers });

describe('name matching', () => {
  const cases: Array<[string, string, boolean]> = [
    ['example.com', 'example.com', true],
    ['example.com', 'EXAMPLE.com.', true],
    ['example.com', 'www.example.com', false],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'a.example.com', true],
    ['*.example.com', 'b.a.example.com', true],
    ['*.example.com', 'badexample.com', false],
    ['*.example.com', 'example.com.evil.test', false],
  ];
  for (const [pattern, name, expected] of cases) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${name}`, () => assert.equal(nameMatches(entry(pattern), name), expected));
  }
  it('ignores address entries', () => {
    assert.deepEqual(
      matchingEntries(parseAllowlist(allowItems('10.0.0.0/8, a.test'), 'test'), 'a.test').map((e) => e.text),
      ['a.test'],
    );
  });
});

const plainQuery = (name: Buffer, qtype = 1, id = 7) => Buffer.concat([header(id, 0x0100, [1, 0, 0, 0]), name, typeClass(qtype)]);

describe("reading the build's queries", () => {
  it('reads the one question of a query: its name lowered (escaped for the policy), its type, its EDNS', () => {
    assert.deepEqual(readQuery(query('API.Example.com.', 'AAAA', 99)), {
      question: {
        name: 'api.example.com',
        matchName: 'api.example.com',
        type: 'AAAA',
        qtype: 28,
        wireName: '\x03api\x07example\x03com\x00',
      },
    });
    const q = Buffer.concat([
      header(1, 0x0100, [1, 0, 0, 1]),
      wire('A.b', 'x\x00\xc9', '_s-1', 'Test'),
      typeClass(65),
      opt(1400, { dnssecOk: true }),
    ]);
    assert.deepEqual(readQuery(q), {
      question: {
        name: 'a.b.x\u0000\ufffd._s-1.test',
        matchName: 'a\\046b.x\\000\\201._s-1.test',
        type: 'HTTPS',
        qtype: 65,
        wireName: '\x03a.b\x03x\x00\xc9\x04_s-1\x04test\x00',
      },
      edns: { payload: 1400, dnssecOk: true },
    });
    // A payload size under 512 counts as 512 (RFC 6891 6.2.5).
    assert.deepEqual(readQuery(Buffer.concat([header(1, 0, [1, 0, 0, 1]), wire('a'), typeClass(1), opt(100)])).edns, {
      payload: 512,
      dnssecOk: false,
    });
    assert.equal(readQuery(plainQuery(wire())).question?.name, '.');
  });

  it('answers here whatever is not one plain question: FORMERR, NOTIMP, REFUSED', () => {
    const name = wire('api', 'test');
    const cases: Array<[string, Buffer, string | undefined, string]> = [
      ['empty', Buffer.alloc(0), undefined, 'FORMERR malformed'],
      ['shorter than a header', Buffer.from('nonsense'), undefined, 'FORMERR malformed'],
      ['a response', Buffer.concat([header(1, 0x8100, [1, 0, 0, 0]), name, typeClass(1)]), undefined, 'FORMERR malformed'],
      ['no question', header(1, 0x0100, [0, 0, 0, 0]), undefined, 'FORMERR malformed'],
      [
        'two questions',
        Buffer.concat([header(1, 0x0100, [2, 0, 0, 0]), name, typeClass(1), name, typeClass(1)]),
        undefined,
        'FORMERR malformed',
      ],
      [
        'a pointer in the question',
        Buffer.concat([header(1, 0x0100, [1, 0, 0, 0]), Buffer.from([0xc0, 12]), typeClass(1)]),
        undefined,
        'FORMERR malformed',
      ],
      ['a label over 63 bytes', plainQuery(wire('x'.repeat(64))), undefined, 'FORMERR malformed'],
      ['a name over 255 bytes', plainQuery(wire(...Array.from({ length: 5 }, () => 'x'.repeat(63)))), undefined, 'FORMERR malformed'],
      ['a name cut short', Buffer.concat([header(1, 0x0100, [1, 0, 0, 0]), Buffer.from([3, 0x61])]), undefined, 'FORMERR malformed'],
      ['no type and class', Buffer.concat([header(1, 0x0100, [1, 0, 0, 0]), name, Buffer.from([0, 1])]), undefined, 'FORMERR malformed'],
      ['an answer record', Buffer.concat([header(1, 0x0100, [1, 1, 0, 0]), name, typeClass(1)]), 'api.test', 'FORMERR malformed'],
      ['an authority record', Buffer.concat([header(1, 0x0100, [1, 0, 1, 0]), name, typeClass(1)]), 'api.test', 'FORMERR malformed'],
      [
        'two additional records',
        Buffer.concat([header(1, 0x0100, [1, 0, 0, 2]), name, typeClass(1), opt(), opt()]),
        'api.test',
        'FORMERR malformed',
      ],
      [
        'an additional record that is not OPT',
        Buffer.concat([header(1, 0x0100, [1, 0, 0, 1]), name, typeClass(1), Buffer.from([0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4])]),
        'api.test',
        'FORMERR malformed',
      ],
      [
        'an OPT with a name',
        Buffer.concat([header(1, 0x0100, [1, 0, 0, 1]), name, typeClass(1), Buffer.from([1, 0x61]), opt()]),
        'api.test',
        'FORMERR malformed',
      ],
      [
        'EDNS version 1',
        Buffer.concat([header(1, 0x0100, [1, 0, 0, 1]), name, typeClass(1), opt(4096, { version: 1 })]),
        'api.test',
        'FORMERR malformed',
      ],
      [
        'an option running past the OPT',
        Buffer.concat([
          header(1, 0x0100, [1, 0, 0, 1]),
          name,
          typeClass(1),
          opt(4096, { options: [[8, Buffer.alloc(4)]] }).subarray(0, -1),
        ]),
        'api.test',
        'FORMERR malformed',
      ],
      ['a trailing byte', Buffer.concat([plainQuery(name), Buffer.from([0])]), 'api.test', 'FORMERR malformed'],
      ['an announced OPT missing', Buffer.concat([header(1, 0x0100, [1, 0, 0, 1]), name, typeClass(1)]), 'api.test', 'FORMERR malformed'],
      ['opcode NOTIFY', Buffer.concat([header(1, 4 << 11, [1, 0, 0, 0]), name, typeClass(6)]), 'api.test', 'NOTIMP opcode'],
      ['opcode UPDATE, unreadable', header(1, 5 << 11, [3, 0, 0, 0]), undefined, 'NOTIMP opcode'],
      ['class CH', Buffer.concat([header(1, 0x0100, [1, 0, 0, 0]), name, typeClass(16, 3)]), 'api.test', 'REFUSED class'],
      ['type NULL', plainQuery(name, 10), 'api.test', 'REFUSED type'],
      ['type ANY', plainQuery(name, 255), 'api.test', 'REFUSED type'],
      ['type AXFR', plainQuery(name, 252), 'api.test', 'REFUSED type'],
      ['a private type', plainQuery(name, 65280), 'api.test', 'REFUSED type'],
    ];
    for (const [what, msg, questionName, expected] of cases) {
      const q = readQuery(msg);
      assert.equal(q.question?.name, questionName, what);
      assert.equal(q.local ? `${q.local.rcode} ${q.local.reason}` : 'forwarded', expected, what);
    }
    assert.equal(readQuery(plainQuery(name, 65280)).question?.type, 'TYPE65280');
    for (const type of Object.values(FORWARDED_TYPES)) assert.equal(readQuery(plainQuery(name, type)).local, undefined);
  });

  it('rebuilds what goes upstream from the question alone: lower case, class IN, its own OPT, nothing else', () => {
    const sent = Buffer.concat([
      header(0xbeef, 0x0110, [1, 0, 0, 1]),
      wire('ApI', 'TeSt'),
      typeClass(16),
      opt(4096, {
        dnssecOk: true,
        options: [
          [8, Buffer.from([0, 1, 24, 0, 10, 1, 2])],
          [10, Buffer.alloc(8, 0xaa)],
          [65001, Buffer.from('secret')],
        ],
      }),
    ]);
    const q = readQuery(sent);
    assert.deepEqual(
      upstreamQuery(q.question!, q.edns!.dnssecOk),
      Buffer.concat([
        header(0, 0x0100, [1, 0, 0, 1]),
        wire('api', 'test'),
        typeClass(16),
        Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0]),
      ]),
    );
    assert.equal(upstreamQuery(q.question!, false)[HEADER_BYTES + 10 + 4 + 7], 0, 'no DO bit when the build asked for none');
  });

  it('replies from the header and the question as sent, never re-encoding it; an unreadable question is left out', () => {
    const sent = Buffer.concat([header(4242, 0x0100, [1, 0, 0, 0]), wire('X', 'Test'), typeClass(1)]);
    const nx = localReply(sent, readQuery(sent), 'NXDOMAIN');
    assert.deepEqual(nx, Buffer.concat([header(4242, 0x8183, [1, 0, 0, 0]), wire('X', 'Test'), typeClass(1)]));
    const edns = Buffer.concat([
      header(9, 0x0000, [1, 0, 0, 1]),
      wire('x'),
      typeClass(10),
      opt(1232, { options: [[10, Buffer.alloc(8)]] }),
    ]);
    assert.deepEqual(
      localReply(edns, readQuery(edns), 'REFUSED'),
      Buffer.concat([header(9, 0x8085, [1, 0, 0, 1]), wire('x'), typeClass(10), Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0])]),
    );
    // 300 questions, each a pointer to one long name: one FORMERR header, not 300 names.
    const long = wire(...Array.from({ length: 4 }, () => 'y'.repeat(60)));
    const many = Buffer.concat([
      header(77, 0x0100, [300, 0, 0, 0]),
      long,
      typeClass(1),
      ...Array.from({ length: 299 }, () => Buffer.from([0xc0, 12, 0, 1, 0, 1])),
    ]);
    assert.deepEqual(localReply(many, readQuery(many), 'FORMERR'), header(77, 0x8181, [0, 0, 0, 0]));
    assert.deepEqual(localReply(Buffer.from([5]), readQuery(Buffer.from([5])), 'FORMERR'), header(0x0500, 0x8081, [0, 0, 0, 0]));
  });
});

describe("the upstream's replies", () => {
  it('follows a CNAME chain to the final addresses, whatever the record order', () => {
    const q = query('a.test');
    const r = response(q, [
      { type: 'A', name: 'c.test', ttl: 50, data: '192.0.2.1' },
      { type: 'CNAME', name: 'b.test', ttl: 300, data: 'c.test' },
      { type: 'CNAME', name: 'a.test', ttl: 300, data: 'b.test' },
      { type: 'A', name: 'unrelated.test', ttl: 300, data: '192.0.2.99' },
    ]);
    const a = readAnswer(r, 'a.test');
    assert.deepEqual(a.chain, ['a.test', 'b.test', 'c.test']);
    assert.deepEqual(a.addresses, [{ family: 4, address: '192.0.2.1', ttl: 50 }]);
    assert.equal(a.minTtl, 50);
  });
  it('cuts CNAME loops', () => {
    const q = query('a.test');
    const r = response(q, [
      { type: 'CNAME', name: 'a.test', ttl: 1, data: 'b.test' },
      { type: 'CNAME', name: 'b.test', ttl: 1, data: 'a.test' },
    ]);
    assert.deepEqual(readAnswer(r, 'a.test').addresses, []);
  });
  it('keeps answers without records as long as their SOA says, at most 5 minutes, and none without an SOA (RFC 2308)', () => {
    const q = query('a.test');
    const soa = (ttl: number, minimum: number): dnsPacket.Answer => ({
      type: 'SOA',
      name: 'test',
      ttl,
      data: { mname: 'ns.test', rname: 'h.test', serial: 1, refresh: 1, retry: 1, expire: 1, minimum },
    });
    const negative = (rcode: number, authorities: dnsPacket.Answer[], answers: dnsPacket.Answer[] = []) =>
      readAnswer(
        dnsPacket.encode({ type: 'response', id: 1, flags: rcode, questions: dnsPacket.decode(q).questions, answers, authorities }),
        'a.test',
      ).minTtl;
    assert.equal(negative(3, [soa(900, 60)]), 60, 'NXDOMAIN: the SOA minimum');
    assert.equal(negative(0, [soa(30, 600)]), 30, 'NODATA: the SOA TTL when lower');
    assert.equal(negative(0, [soa(86400, 86400)]), NEGATIVE_TTL_MAX);
    assert.equal(
      negative(3, [soa(600, 600)], [{ type: 'CNAME', name: 'a.test', ttl: 20, data: 'b.test' }]),
      20,
      'NXDOMAIN at the end of a CNAME',
    );
    assert.equal(negative(3, []), 0);
    assert.equal(negative(0, []), 0);
    assert.equal(negative(2, [soa(600, 600)]), 0, 'SERVFAIL is never kept');
    assert.equal(negative(5, [soa(600, 600)]), 0, 'nor REFUSED');
  });
  it('replays a stored reply with the query id, RD and question case, every TTL aged, the bytes otherwise as they came', () => {
    const r = dnsPacket.encode({
      type: 'response',
      id: 1,
      flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name: 'www.a.test' }],
      answers: [
        { type: 'CNAME', name: 'www.a.test', ttl: 300, data: 'a.test' },
        { type: 'A', name: 'a.test', ttl: 100, data: '192.0.2.1' },
      ],
      authorities: [{ type: 'NS', name: 'a.test', ttl: 30, data: 'ns.a.test' }],
      additionals: [
        {
          type: 'OPT',
          name: '.',
          udpPayloadSize: 1232,
          extendedRcode: 0,
          ednsVersion: 0,
          flags: dnsPacket.DNSSEC_OK,
          flag_do: true,
          options: [],
        },
      ],
    });
    const stored = storeReply(r, readQuery(query('www.a.test')).question!);
    assert.deepEqual(
      stored.ttls.map((t) => t.ttl),
      [300, 100, 30],
    );
    const client = Buffer.concat([header(555, 0x0100, [1, 0, 0, 1]), wire('WwW', 'A', 'test'), typeClass(1), opt(1232)]);
    const replay = replayReply(stored, client, readQuery(client), 40, 1232);
    const decoded = dnsPacket.decode(replay);
    assert.equal(decoded.id, 555);
    assert.equal(decoded.questions![0].name, 'WwW.A.test');
    assert.deepEqual(
      decoded.answers!.map((a) => (a as { ttl: number }).ttl),
      [260, 60],
    );
    assert.equal((decoded.authorities![0] as { ttl: number }).ttl, 0);
    assert.deepEqual(decoded.additionals![0], dnsPacket.decode(r).additionals![0]);
    assert.deepEqual(replay.subarray(2, 12), r.subarray(2, 12));
    assert.equal(replay.length, r.length);
  });
  it('leaves the OPT out for a client that sent none, keeps its RD, and cuts a reply larger than the client takes to a truncated one', () => {
    const r = dnsPacket.encode({
      type: 'response',
      id: 1,
      flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHORITATIVE_ANSWER,
      questions: [{ type: 'TXT', name: 'big.test' }],
      additionals: [
        { type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] },
        { type: 'A', name: 'ns.test', ttl: 70, data: '192.0.2.53' },
      ],
      answers: [{ type: 'TXT', name: 'big.test', ttl: 90, data: ['x'.repeat(250), 'y'.repeat(250)] }],
    });
    const stored = storeReply(r, readQuery(query('big.test', 'TXT')).question!);
    const plain = Buffer.concat([header(3, 0x0000, [1, 0, 0, 0]), wire('BIG', 'test'), typeClass(16)]);
    const replay = replayReply(stored, plain, readQuery(plain), 10, 65535);
    const decoded = dnsPacket.decode(replay);
    assert.equal(replay.length, r.length - 11);
    assert.deepEqual(
      decoded.additionals!.map((a) => [a.type, (a as { ttl: number }).ttl]),
      [['A', 60]],
    );
    assert.equal((decoded.answers![0] as { ttl: number }).ttl, 80);
    assert.equal(decoded.flags! & dnsPacket.RECURSION_DESIRED, 0, "the client's RD");
    const cut = replayReply(stored, plain, readQuery(plain), 10, 512);
    assert.deepEqual(cut, Buffer.concat([header(3, 0x8680, [1, 0, 0, 0]), wire('BIG', 'test'), typeClass(16)]));
  });
  it('finds the TTLs behind compressed names', () => {
    // www.a.test A 192.0.2.1 with its owner name a pointer to the question, TTL 0x00000e10 (3600).
    const q = query('www.a.test', 'A', 9);
    const r = Buffer.concat([
      Buffer.from([0, 9, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]),
      q.subarray(12),
      Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 1]),
    ]);
    const stored = storeReply(r, readQuery(q).question!);
    assert.deepEqual(stored.ttls, [{ offset: r.length - 10, ttl: 3600 }]);
    const again = query('WWW.a.test', 'A', 10);
    const replay = dnsPacket.decode(replayReply(stored, again, readQuery(again), 5, 512));
    assert.deepEqual(replay.answers, [{ name: 'WWW.a.test', type: 'A', class: 'IN', flush: false, ttl: 3595, data: '192.0.2.1' }]);
  });
  it('refuses to keep a reply to another question', () => {
    const q = readQuery(query('a.test')).question!;
    assert.throws(() => storeReply(response(query('b.test'), []), q), /another question/);
    assert.throws(() => storeReply(response(query('a.test', 'AAAA'), []), q), /another question/);
    assert.throws(() => storeReply(query('a.test'), q), /another question/);
    assert.throws(() => storeReply(Buffer.from([0, 1, 0x81]), q), /another question/);
  });
});

describe('upstream addresses', () => {
  it('parses addresses with and without ports', () => {
    assert.deepEqual(parseUpstreams(upstreamItems('192.0.2.53, 192.0.2.54:5353\n[2001:db8::53]:53,2001:db8::1'), 'x'), [
      { address: '192.0.2.53', port: 53 },
      { address: '192.0.2.54', port: 5353 },
      { address: '2001:db8::53', port: 53 },
      { address: '2001:db8::1', port: 53 },
    ]);
  });
  it('refuses names and bad ports, naming the input', () => {
    assert.throws(
      () => parseUpstreams(upstreamItems('dns.example.com'), "Input 'dns-upstream'"),
      /Input 'dns-upstream' has invalid resolver 'dns.example.com'/,
    );
    assert.throws(() => parseUpstreams(upstreamItems('192.0.2.1:0'), 'x'), /invalid resolver/);
  });
  it('reads nameservers from resolv.conf', () => {
    assert.deepEqual(resolvConfServers('# c\nsearch x\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\noptions edns0\n'), [
      { address: '127.0.0.53', port: 53 },
      { address: 'fe80::1', port: 53 },
    ]);
  });
});

/** A resolver with an in-memory upstream and sink: what it forwards and what it feeds. */
const SOA: dnsPacket.Answer = {
  type: 'SOA',
  name: 'test',
  ttl: 60,
  data: { mname: 'ns.test', rname: 'hostmaster.test', serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 60 },
};

/**
 * A resolver with an in-memory upstream and sink: what it forwards (names, and the messages as
 * sent) and what it feeds. The upstream answers the records of the type asked, else NODATA, and
 * NXDOMAIN for a name it does not hold, both with an SOA (negative TTL 60 s).
 */
function harness(mode: 'block' | 'audit', allow: string, deny = '', ttl = { ttlMin: 30, ttlMax: 300 }) {
  const forwarded: string[] = [];
  const sent: Buffer[] = [];
  const fed: TimedMember[][] = [];
  const zone: Record<string, dnsPacket.Answer[]> = {
    'api.test': [{ type: 'A', name: 'api.test', ttl: 10, data: '192.0.2.10' }],
    'long.test': [{ type: 'A', name: 'long.test', ttl: 99999, data: '192.0.2.11' }],
    'v6.test': [{ type: 'AAAA', name: 'v6.test', ttl: 100, data: '2001:db8::10' }],
    'gist.x.test': [{ type: 'A', name: 'gist.x.test', ttl: 100, data: '192.0.2.12' }],
    'api.x.test': [{ type: 'A', name: 'api.x.test', ttl: 100, data: '192.0.2.13' }],
  };
  const forwarder = {
    async forward(q: Buffer) {
      const { name, type } = readQuery(q).question!;
      forwarded.push(name);
      sent.push(q);
      const records = (zone[name] ?? []).filter((a) => a.type === type);
      const reply = dnsPacket.decode(response(q, records, zone[name] ? 0 : 3));
      return dnsPacket.encode({ ...reply, authorities: records.length > 0 ? [] : [SOA] });
    },
  } as unknown as Forwarder;
  const resolver = new Resolver({
    mode,
    allow: parseAllowlist(allowItems(allow), 'allow'),
    deny: parseAllowlist(allowItems(deny), 'deny'),
    ...ttl,
    forwarder,
  });
  resolver.serve([], { add: async (m) => void fed.push(m) }, new Set(['bf4-port 192.0.2.10/32,tcp:22']));
  return { resolver, forwarded, sent, fed, zone };
}

const rcode = (b: Buffer) => (dnsPacket.decode(b) as { rcode?: string }).rcode;

describe('the resolver', () => {
  it('block: an unlisted name gets NXDOMAIN and is never forwarded', async () => {
    const h = harness('block', 'api.test:443');
    assert.equal(rcode(await h.resolver.answer(query('secret-data.evil.test'), 'udp')), 'NXDOMAIN');
    assert.deepEqual(h.forwarded, []);
    assert.equal(h.resolver.decisionLog()[0].verdict, 'refused');
  });

  it('block: an allowed name is forwarded and its addresses are fed before the answer, with the entry ports', async () => {
    const h = harness('block', 'api.test:443');
    const reply = await h.resolver.answer(query('api.test'), 'udp');
    assert.equal(rcode(reply), 'NOERROR');
    assert.deepEqual(h.fed, [[{ set: 'bf4-name-port', element: '192.0.2.10/32,tcp:443', timeout: 30 }]]);
  });

  it('clamps the timeout to the floor and the ceiling', async () => {
    const h = harness('block', 'api.test, long.test', '', { ttlMin: 20, ttlMax: 60 });
    await h.resolver.answer(query('api.test'), 'udp');
    await h.resolver.answer(query('long.test'), 'udp');
    assert.deepEqual(
      h.fed.flat().map((m) => [m.element, m.timeout]),
      [
        ['192.0.2.10/32', 20],
        ['192.0.2.10/32', 20],
        ['192.0.2.11/32', 60],
        ['192.0.2.11/32', 60],
      ],
    );
  });

  it('fences AAAA answers like A answers', async () => {
    const h = harness('block', 'v6.test:443');
    await h.resolver.answer(query('v6.test', 'AAAA'), 'udp');
    assert.deepEqual(
      h.fed.flat().map((m) => `${m.set} ${m.element}`),
      ['bf6-name-port 2001:db8::10/128,tcp:443'],
    );
  });

  it('deny beats allow for names', async () => {
    const h = harness('block', '*.x.test', 'gist.x.test');
    assert.equal(rcode(await h.resolver.answer(query('gist.x.test'), 'udp')), 'NXDOMAIN');
    assert.equal(rcode(await h.resolver.answer(query('api.x.test'), 'udp')), 'NOERROR');
    assert.deepEqual(h.forwarded, ['api.x.test']);
  });

  it('audit: forwards every name, records it as audited, opens nothing, and remembers which address it led to', async () => {
    const h = harness('audit', '');
    assert.equal(rcode(await h.resolver.answer(query('api.test'), 'udp')), 'NOERROR');
    assert.deepEqual(h.forwarded, ['api.test']);
    assert.deepEqual(h.fed, []);
    assert.deepEqual(
      h.resolver.decisionLog().map((d) => [d.name, d.verdict, d.forwarded, d.addresses]),
      [['api.test', 'audited', true, ['192.0.2.10']]],
    );
    assert.deepEqual([...(h.resolver.namesOf.get('192.0.2.10')?.names.keys() ?? [])], ['api.test']);
  });

  it('answers repeats from its cache without forwarding or refeeding', async () => {
    const h = harness('block', 'api.test:443');
    await h.resolver.answer(query('api.test', 'A', 1), 'udp');
    const again = await h.resolver.answer(query('api.test', 'A', 2), 'udp');
    assert.equal(dnsPacket.decode(again).id, 2);
    assert.deepEqual(h.forwarded, ['api.test']);
    assert.equal(h.fed.length, 1);
    assert.equal(h.resolver.decisionLog()[0].count, 2);
  });

  it('keeps UDP and TCP answers apart: one fetched over TCP is never replayed to a UDP client', async () => {
    const h = harness('block', 'api.test:443');
    await h.resolver.answer(query('api.test', 'A', 1), 'tcp');
    await h.resolver.answer(query('api.test', 'A', 2), 'udp');
    await h.resolver.answer(query('api.test', 'A', 3), 'udp');
    await h.resolver.answer(query('api.test', 'A', 4), 'tcp');
    assert.deepEqual(h.forwarded, ['api.test', 'api.test']);
  });

  it('never puts a timeout on an element the rules hold permanently', async () => {
    // An opaque name's addresses go into the sets address entries use, where one may already be.
    const h = harness('block', 'opaque://api.test:22');
    await h.resolver.answer(query('api.test'), 'udp');
    assert.deepEqual(h.fed, []);
  });

  it('fails the lookup (SERVFAIL) when the fence cannot be opened for the answer', async () => {
    const h = harness('block', 'api.test:443');
    h.resolver.serve(
      [],
      {
        add: async () => {
          throw new Error('holder gone');
        },
      },
      new Set(),
    );
    assert.equal(rcode(await h.resolver.answer(query('api.test'), 'udp')), 'SERVFAIL');
  });

  it('reports name entries that were never resolved', async () => {
    const h = harness('block', 'api.test, unused.test');
    await h.resolver.answer(query('api.test'), 'udp');
    assert.deepEqual(
      h.resolver.unresolvedEntries().map((e) => e.text),
      ['unused.test'],
    );
  });

  it('answers malformed queries with FORMERR, every time they come', async () => {
    const h = harness('block', 'api.test');
    assert.equal(rcode(await h.resolver.answer(Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 'udp')), 'FORMERR');
    // A readable question, but an additional record announced and missing.
    const broken = query('api.test');
    broken[11] = 1;
    assert.equal(rcode(await h.resolver.answer(broken, 'udp')), 'FORMERR');
    assert.equal(rcode(await h.resolver.answer(broken, 'udp')), 'FORMERR');
    assert.deepEqual(h.forwarded, []);
    assert.equal(rcode(await h.resolver.answer(query('api.test'), 'udp')), 'NOERROR');
    assert.equal(rcode(await h.resolver.answer(broken, 'udp')), 'FORMERR');
  });

  it('replays a cached answer at once, with the query id, its question case and the TTLs aged', async (t) => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    t.mock.method(Date, 'now', () => clock);
    const h = harness('block', 'v6.test');
    await h.resolver.answer(query('v6.test', 'AAAA', 1), 'udp');
    clock += 40_500;
    const again = h.resolver.answer(query('V6.Test', 'AAAA', 2), 'udp');
    assert.ok(Buffer.isBuffer(again), 'answered without waiting');
    const reply = dnsPacket.decode(again);
    assert.equal(reply.id, 2);
    assert.equal(reply.questions![0].name, 'V6.Test');
    assert.deepEqual(
      reply.answers!.map((a) => [a.name, (a as { ttl: number }).ttl]),
      [['v6.test', 60]],
    );
    assert.deepEqual(h.forwarded, ['v6.test']);
    assert.deepEqual(h.fed.length, 1);
    const [d] = h.resolver.decisionLog();
    assert.deepEqual(
      [d.count, d.first, d.last, d.addresses],
      [2, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:40.500Z', ['2001:db8::10']],
    );
  });

  it('refreshes set timeouts from cache when they would end before the replayed TTLs, and only then', async (t) => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    t.mock.method(Date, 'now', () => clock);
    const h = harness('block', 'long.test', '', { ttlMin: 20, ttlMax: 60 });
    await h.resolver.answer(query('long.test'), 'udp');
    clock += 500;
    assert.ok(Buffer.isBuffer(h.resolver.answer(query('long.test'), 'udp')));
    assert.equal(h.fed.length, 1);
    // The ceiling counts from the last answer: 2 s on, the elements would end 2 s too early.
    clock += 1500;
    const refreshed = h.resolver.answer(query('long.test'), 'udp');
    assert.ok(!Buffer.isBuffer(refreshed));
    assert.equal(rcode(await refreshed), 'NOERROR');
    assert.deepEqual(
      h.fed.map((batch) => batch.map((m) => m.timeout)),
      [
        [60, 60],
        [60, 60],
      ],
    );
    assert.ok(Buffer.isBuffer(h.resolver.answer(query('long.test'), 'udp')));
    assert.equal(h.fed.length, 2);
  });

  it('answers no query before the holder holds its addresses, also one that finds them cached meanwhile', async () => {
    const h = harness('block', 'api.test:443');
    const batches: TimedMember[][] = [];
    let acknowledge = () => {};
    h.resolver.serve(
      [],
      {
        add: (m) =>
          new Promise<void>((resolve) => {
            batches.push(m);
            acknowledge = resolve;
          }),
      },
      new Set(),
    );
    const answered: number[] = [];
    const first = Promise.resolve(h.resolver.answer(query('api.test', 'A', 1), 'udp')).then(() => answered.push(1));
    await new Promise((r) => setImmediate(r));
    assert.equal(batches.length, 1);
    const second = Promise.resolve(h.resolver.answer(query('api.test', 'A', 2), 'udp')).then(() => answered.push(2));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(answered, []);
    assert.equal(batches.length, 1, 'the batch under way is not sent twice');
    acknowledge();
    await Promise.all([first, second]);
    assert.deepEqual(answered.sort(), [1, 2]);
  });

  it('sends the addresses again after the holder refused them', async () => {
    const h = harness('block', 'api.test:443');
    let refuse = true;
    const batches: TimedMember[][] = [];
    h.resolver.serve(
      [],
      {
        add: async (m) => {
          batches.push(m);
          if (refuse) throw new Error('ipset refused');
        },
      },
      new Set(),
    );
    assert.equal(rcode(await h.resolver.answer(query('api.test'), 'udp')), 'SERVFAIL');
    refuse = false;
    assert.equal(rcode(await h.resolver.answer(query('api.test'), 'udp')), 'NOERROR');
    assert.equal(batches.length, 2);
  });

  it('keeps at most 10,000 learned elements in memory; one forgotten is fed again when asked', async () => {
    const h = harness('block', '*.many.test');
    // 60 names of 100 addresses each, TCP and UDP: 12,000 elements.
    for (let n = 0; n < 60; n++) {
      h.zone[`n${n}.many.test`] = Array.from({ length: 100 }, (_, i) => ({
        type: 'A' as const,
        name: `n${n}.many.test`,
        ttl: 300,
        data: `10.${n}.${i >> 8}.${i & 255}`,
      }));
      assert.equal(rcode(await h.resolver.answer(query(`n${n}.many.test`), 'tcp')), 'NOERROR');
    }
    const elements = (h.resolver as unknown as { elements: Map<string, unknown> }).elements;
    assert.ok(elements.size <= 10_000, `${elements.size} elements kept`);
    // The first name's elements were forgotten: another name with the same addresses feeds them
    // again (a known element would be skipped; its kernel timeout is refreshed, nothing more).
    h.zone['again.many.test'] = h.zone['n0.many.test'].map((a) => ({ ...a, name: 'again.many.test' }));
    const before = h.fed.length;
    assert.equal(rcode(await h.resolver.answer(query('again.many.test'), 'tcp')), 'NOERROR');
    assert.equal(h.fed.length, before + 1);
    assert.equal(h.fed.at(-1)!.length, 200);
  });

  it('keeps the decision log bounded under DNS tunnelling: past its limit, new names count under their domain, then under *', async () => {
    const h = harness('block', 'api.test');
    const ask = async (name: string) => assert.equal(rcode(await h.resolver.answer(query(name), 'udp')), 'NXDOMAIN');
    for (let i = 0; i < DECISION_LIMIT; i++) await ask(`c${i}.t.evil.test`);
    // The log is full: more names under evil.test, and under other domains, fold.
    for (let i = 0; i < 50; i++) await ask(`more${i}.t.evil.test`);
    await ask('more0.t.evil.test');
    for (let i = 0; i < FOLDED_LIMIT + 20; i++) await ask(`x.d${i}.test`);
    const log = h.resolver.decisionLog();
    assert.equal(log.length, DECISION_LIMIT + FOLDED_LIMIT + 1);
    const evil = log.find((d) => d.name === '*.evil.test');
    assert.deepEqual(
      { ...evil, first: undefined, last: undefined },
      {
        name: '*.evil.test',
        type: 'A',
        verdict: 'refused',
        forwarded: false,
        addresses: [],
        count: 51,
        folded: true,
        first: undefined,
        last: undefined,
      },
    );
    assert.equal(log.find((d) => d.name === '*.d0.test')?.count, 1);
    // Past FOLDED_LIMIT rows, every new domain counts under '*'; a folded domain keeps its row.
    assert.equal(log.find((d) => d.name === '*')?.count, 21);
    // The type is the build's to choose too: the last row takes every one, as type '*'.
    for (const type of ['TXT', 'MX', 'SRV', 'CAA'] as const) await h.resolver.answer(query(`z.e${type}.test`, type), 'udp');
    assert.deepEqual(
      h.resolver
        .decisionLog()
        .filter((d) => d.name === '*')
        .map((d) => [d.type, d.count]),
      [['*', 25]],
    );
    await ask('y.d0.test');
    assert.equal(h.resolver.decisionLog().find((d) => d.name === '*.d0.test')?.count, 2);
    assert.equal(h.forwarded.length, 0);
  });

  it('forwards a rebuilt query, not the one sent: one question in lower case, its own EDNS; the reply takes the id and case asked', async () => {
    const h = harness('block', 'api.test');
    const sentByBuild = Buffer.concat([
      header(0x1234, 0x0130, [1, 0, 0, 1]),
      wire('aPi', 'TEST'),
      typeClass(1),
      opt(4096, {
        dnssecOk: true,
        options: [
          [8, Buffer.from([0, 1, 24, 0, 192, 0, 2])],
          [10, Buffer.from('cookie!!')],
          [12, Buffer.alloc(40)],
        ],
      }),
    ]);
    const reply = await h.resolver.answer(sentByBuild, 'udp');
    assert.deepEqual(h.sent, [upstreamQuery(readQuery(sentByBuild).question!, true)]);
    const decoded = dnsPacket.decode(reply);
    assert.equal(decoded.id, 0x1234);
    assert.equal(decoded.questions![0].name, 'aPi.TEST');
    assert.deepEqual(
      decoded.answers!.map((a) => (a as { data?: unknown }).data),
      ['192.0.2.10'],
    );
    // Every case and id of the same question shares the one query that went upstream.
    const again = Buffer.concat([header(7, 0x0100, [1, 0, 0, 1]), wire('API', 'test'), typeClass(1), opt(1232, { dnssecOk: true })]);
    assert.equal(dnsPacket.decode(await h.resolver.answer(again, 'udp')).questions![0].name, 'API.test');
    assert.equal(h.sent.length, 1);
  });

  it('judges a name by its labels: one label holding a dot is not the allowed name it spells', async () => {
    const h = harness('block', 'api.test, *.x.test');
    const oneLabel = (text: string) => Buffer.concat([header(5, 0x0100, [1, 0, 0, 0]), wire(text), typeClass(1)]);
    assert.equal(rcode(await h.resolver.answer(oneLabel('api.test'), 'udp')), 'NXDOMAIN');
    assert.equal(rcode(await h.resolver.answer(oneLabel('data.x.test'), 'udp')), 'NXDOMAIN');
    // (This upstream re-encodes the name it read as four labels: the reply is another question's, a SERVFAIL.)
    await h.resolver.answer(Buffer.concat([header(6, 0x0100, [1, 0, 0, 0]), wire('a.b', 'x', 'test'), typeClass(1)]), 'udp');
    assert.deepEqual(h.forwarded, ['a.b.x.test'], 'a dotted label under x.test is under x.test');
  });

  it('answers here, and records, what it does not forward: odd types, classes and opcodes, malformed messages', async () => {
    const h = harness('audit', 'api.test');
    const name = wire('api', 'test');
    const asked: Array<[Buffer, string]> = [
      [plainQuery(name, 10), 'REFUSED'],
      [plainQuery(name, 65280), 'REFUSED'],
      [Buffer.concat([header(1, 0x0100, [1, 0, 0, 0]), name, typeClass(1, 3)]), 'REFUSED'],
      [Buffer.concat([header(1, 2 << 11, [1, 0, 0, 0]), name, typeClass(1)]), 'NOTIMP'],
      [Buffer.concat([plainQuery(name), Buffer.from('trailing')]), 'FORMERR'],
      [Buffer.from([0, 1, 0, 0, 0]), 'FORMERR'],
    ];
    for (const [msg, expected] of asked) assert.equal(rcode(await h.resolver.answer(msg, 'udp')), expected);
    assert.deepEqual(h.forwarded, [], 'not even in audit mode');
    assert.deepEqual(
      h.resolver.decisionLog().map((d) => [d.name, d.type, d.verdict, d.forwarded, d.reason]),
      [
        ['api.test', 'TYPE10', 'refused', false, 'type'],
        ['api.test', 'TYPE65280', 'refused', false, 'type'],
        ['api.test', 'A', 'refused', false, 'class'],
        ['api.test', 'A', 'refused', false, 'opcode'],
        ['api.test', 'A', 'refused', false, 'malformed'],
        ['', '', 'refused', false, 'malformed'],
      ],
    );
    assert.deepEqual(
      h.resolver.unresolvedEntries().map((e) => e.text),
      ['api.test'],
    );
  });

  it('keeps answers without records (NXDOMAIN and NODATA of an allowed name) for their SOA TTL: repeats are not forwarded', async (t) => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    t.mock.method(Date, 'now', () => clock);
    const h = harness('block', '*.x.test, api.test');
    const ask = async (name: string, type: 'A' | 'AAAA' | 'TXT', id: number) => {
      const r = await h.resolver.answer(query(name, type, id), 'udp');
      const d = dnsPacket.decode(r);
      return `${d.id} ${rcode(r)} ${d.answers!.length} ${(d.authorities![0] as { ttl?: number } | undefined)?.ttl}`;
    };
    assert.equal(await ask('gone.x.test', 'A', 1), '1 NXDOMAIN 0 60');
    assert.equal(await ask('api.test', 'AAAA', 2), '2 NOERROR 0 60');
    assert.equal(await ask('api.test', 'TXT', 3), '3 NOERROR 0 60');
    clock += 59_000;
    assert.equal(await ask('Gone.X.test', 'A', 4), '4 NXDOMAIN 0 1');
    assert.equal(await ask('api.test', 'AAAA', 5), '5 NOERROR 0 1');
    assert.deepEqual(h.forwarded, ['gone.x.test', 'api.test', 'api.test']);
    clock += 1_000;
    await ask('api.test', 'AAAA', 6);
    assert.equal(h.forwarded.length, 4, 'forwarded again once the SOA TTL is over');
  });

  it('sends a UDP client no more than it takes: 512 bytes without EDNS, its own size with; TC beyond, all of it over TCP', async () => {
    const h = harness('block', 'big.test');
    h.zone['big.test'] = [{ type: 'TXT', name: 'big.test', ttl: 100, data: Array.from({ length: 4 }, () => 'z'.repeat(200)) }];
    const plain = query('big.test', 'TXT', 1);
    const edns = (size: number) => Buffer.concat([header(2, 0x0100, [1, 0, 0, 1]), wire('big', 'test'), typeClass(16), opt(size)]);
    const tc = (r: Buffer) => `${(r[2] & 0x02) !== 0 ? 'TC' : 'whole'} ${dnsPacket.decode(r).answers!.length}`;
    assert.equal(tc(await h.resolver.answer(plain, 'udp')), 'TC 0');
    assert.equal(tc(await h.resolver.answer(edns(600), 'udp')), 'TC 0');
    assert.equal(tc(await h.resolver.answer(edns(1232), 'udp')), 'whole 1');
    assert.equal(tc(await h.resolver.answer(plain, 'tcp')), 'whole 1');
    assert.ok((await h.resolver.answer(plain, 'udp')).length <= 512);
  });

  it('survives an error while answering (a bug): the query gets SERVFAIL on its socket, and the error goes to onError', async () => {
    const errors: unknown[] = [];
    const resolver = new Resolver({
      mode: 'block',
      allow: parseAllowlist(['api.test'], 'allow'),
      deny: [],
      ttlMin: 30,
      ttlMax: 300,
      forwarder: {} as Forwarder,
      onDecision: () => {
        throw new Error('a bug in a callback');
      },
      onError: (err) => errors.push(err),
    });
    const port = await resolver.listen('127.0.0.1');
    resolver.serve(['127.0.0.1'], { add: async () => undefined }, new Set());
    const sock = dgram.createSocket('udp4');
    try {
      const reply = await new Promise<Buffer>((resolve) => {
        sock.once('message', resolve);
        sock.send(query('evil.test', 'A', 31), port, '127.0.0.1');
      });
      assert.equal(rcode(reply), 'SERVFAIL');
      assert.equal(dnsPacket.decode(reply).id, 31);
      assert.deepEqual(
        errors.map((e) => (e as Error).message),
        ['a bug in a callback'],
      );
    } finally {
      sock.close();
      await resolver.close();
    }
  });
});
