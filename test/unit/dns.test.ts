import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as dnsPacket from 'dns-packet';
import { matchingEntries, nameMatches } from '../../src/dns/match.js';
import { errorReply, MalformedQuery, parseQuery, readAnswer, replayReply, storeReply } from '../../src/dns/message.js';
import { DECISION_LIMIT, FOLDED_LIMIT } from '../../src/dns/decision-log.js';
import { Resolver } from '../../src/dns/resolver.js';
import { parseUpstreams, resolvConfServers, type Forwarder } from '../../src/dns/upstream.js';
import type { TimedMember } from '../../src/dns/feed.js';
import { parseAllowlist } from '../../src/policy/allowlist.js';
import type { NameEntry } from '../../src/run/entry.js';
import { listInput } from '../../src/inputs.js';

const allowItems = (value: string) => listInput(value, { commas: true, comments: true });
const upstreamItems = (value: string) => listInput(value, { commas: true });

const entry = (text: string) => parseAllowlist(allowItems(text), 'test')[0] as NameEntry;
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

describe('DNS messages', () => {
  it('reads the one question of a query', () => {
    assert.deepEqual(parseQuery(query('API.Example.com.', 'AAAA', 99)), {
      id: 99,
      name: 'api.example.com',
      type: 'AAAA',
      wireName: '\x03api\x07example\x03com\x00',
    });
  });
  it('refuses garbage and multi-question queries', () => {
    assert.throws(() => parseQuery(Buffer.from('nonsense')), MalformedQuery);
    const two = dnsPacket.encode({
      type: 'query',
      id: 1,
      questions: [
        { type: 'A', name: 'a' },
        { type: 'A', name: 'b' },
      ],
    });
    assert.throws(
      () => parseQuery(two),
      (err: unknown) => err instanceof MalformedQuery && err.message === 'not a standard query with one question',
    );
  });
  it('builds NXDOMAIN with the query id and question', () => {
    const reply = dnsPacket.decode(errorReply(query('x.test', 'A', 4242), 'NXDOMAIN'));
    assert.equal(reply.id, 4242);
    assert.equal((reply as { rcode?: string }).rcode, 'NXDOMAIN');
    assert.equal(reply.questions?.[0].name, 'x.test');
  });
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
  it('replays a stored reply with the query id and question case, every TTL aged, the bytes otherwise as they came', () => {
    const r = dnsPacket.encode({
      type: 'response',
      id: 1,
      flags: dnsPacket.RECURSION_AVAILABLE,
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
    const stored = storeReply(r);
    assert.deepEqual(
      stored.ttls.map((t) => t.ttl),
      [300, 100, 30],
    );
    const replay = replayReply(stored, query('WwW.A.test', 'A', 555), 40);
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
  it('finds the TTLs behind compressed names', () => {
    // www.a.test A 192.0.2.1 with its owner name a pointer to the question, TTL 0x00000e10 (3600).
    const q = query('www.a.test', 'A', 9);
    const r = Buffer.concat([
      Buffer.from([0, 9, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]),
      q.subarray(12),
      Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 1]),
    ]);
    const stored = storeReply(r);
    assert.deepEqual(stored.ttls, [{ offset: r.length - 10, ttl: 3600 }]);
    const replay = dnsPacket.decode(replayReply(stored, query('WWW.a.test', 'A', 10), 5));
    assert.deepEqual(replay.answers, [{ name: 'WWW.a.test', type: 'A', class: 'IN', flush: false, ttl: 3595, data: '192.0.2.1' }]);
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
function harness(mode: 'block' | 'audit', allow: string, deny = '', ttl = { ttlMin: 30, ttlMax: 300 }) {
  const forwarded: string[] = [];
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
      const { name } = parseQuery(q);
      forwarded.push(name);
      return response(q, zone[name] ?? [], zone[name] ? 0 : 3);
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
  return { resolver, forwarded, fed, zone };
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
});
