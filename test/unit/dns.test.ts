import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as dnsPacket from 'dns-packet';
import { matchingEntries, nameMatches } from '../../src/dns/match.js';
import { errorReply, parseQuery, readAnswer, replayAnswer } from '../../src/dns/message.js';
import { Resolver } from '../../src/dns/resolver.js';
import { parseUpstreams, resolvConfServers, type Forwarder } from '../../src/dns/upstream.js';
import type { TimedMember } from '../../src/dns/feed.js';
import { parseAllowlist } from '../../src/policy/allowlist.js';
import type { NameEntry } from '../../src/types.js';

const entry = (text: string) => parseAllowlist(text, 'test')[0] as NameEntry;
const query = (name: string, type: 'A' | 'AAAA' | 'TXT' = 'A', id = 7) =>
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
    assert.deepEqual(matchingEntries(parseAllowlist('10.0.0.0/8, a.test', 'test'), 'a.test').map((e) => e.text), ['a.test']);
  });
});

describe('DNS messages', () => {
  it('reads the one question of a query', () => {
    assert.deepEqual(parseQuery(query('API.Example.com.', 'AAAA', 99)), { id: 99, name: 'api.example.com', type: 'AAAA' });
  });
  it('refuses garbage and multi-question queries', () => {
    assert.throws(() => parseQuery(Buffer.from('nonsense')));
    const two = dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name: 'a' }, { type: 'A', name: 'b' }] });
    assert.throws(() => parseQuery(two));
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
  it('replays a cached answer with the new id and aged TTLs', () => {
    const r = response(query('a.test'), [{ type: 'A', name: 'a.test', ttl: 100, data: '192.0.2.1' }]);
    const replay = dnsPacket.decode(replayAnswer(r, 555, 40));
    assert.equal(replay.id, 555);
    assert.equal((replay.answers![0] as { ttl: number }).ttl, 60);
  });
});

describe('upstream addresses', () => {
  it('parses addresses with and without ports', () => {
    assert.deepEqual(parseUpstreams('192.0.2.53, 192.0.2.54:5353\n[2001:db8::53]:53,2001:db8::1', 'x'), [
      { address: '192.0.2.53', port: 53 },
      { address: '192.0.2.54', port: 5353 },
      { address: '2001:db8::53', port: 53 },
      { address: '2001:db8::1', port: 53 },
    ]);
  });
  it('refuses names and bad ports, naming the input', () => {
    assert.throws(() => parseUpstreams('dns.example.com', "Input 'dns-upstream'"), /Input 'dns-upstream' has invalid resolver 'dns.example.com'/);
    assert.throws(() => parseUpstreams('192.0.2.1:0', 'x'), /invalid resolver/);
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
  const resolver = new Resolver({ mode, allow: parseAllowlist(allow, 'allow'), deny: parseAllowlist(deny, 'deny'), ...ttl, forwarder });
  resolver.serve([], { add: async (m) => void fed.push(m) }, new Set(['bf4-port 192.0.2.10/32,tcp:22']));
  return { resolver, forwarded, fed };
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
    assert.deepEqual(h.fed, [[{ kind: 'port', set: 'bf4-port', element: '192.0.2.10/32,tcp:443', timeout: 30 }]]);
  });

  it('clamps the timeout to the floor and the ceiling', async () => {
    const h = harness('block', 'api.test, long.test', '', { ttlMin: 20, ttlMax: 60 });
    await h.resolver.answer(query('api.test'), 'udp');
    await h.resolver.answer(query('long.test'), 'udp');
    assert.deepEqual(h.fed.flat().map((m) => [m.element, m.timeout]), [
      ['192.0.2.10/32', 20], ['192.0.2.10/32', 20], ['192.0.2.11/32', 60], ['192.0.2.11/32', 60],
    ]);
  });

  it('fences AAAA answers like A answers', async () => {
    const h = harness('block', 'v6.test:443');
    await h.resolver.answer(query('v6.test', 'AAAA'), 'udp');
    assert.deepEqual(h.fed.flat().map((m) => `${m.set} ${m.element}`), ['bf6-port 2001:db8::10/128,tcp:443']);
  });

  it('deny beats allow for names', async () => {
    const h = harness('block', '*.x.test', 'gist.x.test');
    assert.equal(rcode(await h.resolver.answer(query('gist.x.test'), 'udp')), 'NXDOMAIN');
    assert.equal(rcode(await h.resolver.answer(query('api.x.test'), 'udp')), 'NOERROR');
    assert.deepEqual(h.forwarded, ['api.x.test']);
  });

  it('audit: forwards every name, records the policy verdict, opens nothing', async () => {
    const h = harness('audit', '');
    assert.equal(rcode(await h.resolver.answer(query('api.test'), 'udp')), 'NOERROR');
    assert.deepEqual(h.forwarded, ['api.test']);
    assert.deepEqual(h.fed, []);
    assert.deepEqual(h.resolver.decisionLog().map((d) => [d.name, d.verdict, d.forwarded, d.addresses]), [['api.test', 'refused', true, ['192.0.2.10']]]);
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

  it('never puts a timeout on an element the rules hold permanently', async () => {
    const h = harness('block', 'api.test:22');
    await h.resolver.answer(query('api.test'), 'udp');
    assert.deepEqual(h.fed, []);
  });

  it('fails the lookup (SERVFAIL) when the fence cannot be opened for the answer', async () => {
    const h = harness('block', 'api.test:443');
    h.resolver.serve([], { add: async () => { throw new Error('holder gone'); } }, new Set());
    assert.equal(rcode(await h.resolver.answer(query('api.test'), 'udp')), 'SERVFAIL');
  });

  it('reports name entries that were never resolved', async () => {
    const h = harness('block', 'api.test, unused.test');
    await h.resolver.answer(query('api.test'), 'udp');
    assert.deepEqual(h.resolver.unresolvedEntries().map((e) => e.text), ['unused.test']);
  });

  it('answers malformed queries with FORMERR', async () => {
    const h = harness('block', '');
    assert.equal(rcode(await h.resolver.answer(Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 'udp')), 'FORMERR');
  });
});
