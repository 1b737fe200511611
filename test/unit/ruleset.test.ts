import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderRuleset } from '../../src/firewall/ruleset.js';
import type { AddressEntry } from '../../src/types.js';

const v4 = (cidr: string, rest: Partial<AddressEntry> = {}): AddressEntry => ({
  kind: 'address', text: cidr, family: 4, cidr, protocols: ['tcp', 'udp'], ...rest,
});
const v6 = (cidr: string, rest: Partial<AddressEntry> = {}): AddressEntry => ({
  kind: 'address', text: cidr, family: 6, cidr, protocols: ['tcp', 'udp'], ...rest,
});
const lines = (text: string) => text.split('\n');

describe('renderRuleset', () => {
  it('denies by default in block mode and rejects fast', () => {
    const r = renderRuleset({ mode: 'block', entries: [], gateways: ['172.18.0.1'] });
    for (const text of [r.v4, r.v6]) {
      assert.ok(lines(text).includes(':OUTPUT DROP [0:0]'));
      assert.equal(lines(text).filter((l) => l.startsWith('-A OUTPUT')).at(-1), '-A OUTPUT -j BF-DENY');
      assert.ok(lines(text).includes('-A BF-DENY -j BF-REJECT'));
      assert.ok(lines(text).includes('-A BF-REJECT -p tcp -j REJECT --reject-with tcp-reset'));
    }
  });

  it('lets audit mode through but still guards metadata and the Docker host', () => {
    const r = renderRuleset({ mode: 'audit', entries: [], gateways: ['172.18.0.1', 'fd00:1::1'] });
    assert.ok(lines(r.v4).includes('-A BF-DENY -j ACCEPT'));
    assert.ok(lines(r.v4).includes('-A OUTPUT -d 169.254.0.0/16 -j BF-GUARD'));
    assert.ok(lines(r.v4).includes('-A OUTPUT -d 172.18.0.1/32 -j BF-GUARD'));
    assert.ok(lines(r.v6).includes('-A OUTPUT -d fd00:1::1/128 -j BF-GUARD'));
    assert.ok(lines(r.v6).includes('-A OUTPUT -d fe80::/10 -j BF-GUARD'));
    assert.equal(lines(r.v4).filter((l) => l.startsWith('-A BF-GUARD')).join('\n'), '-A BF-GUARD -j BF-REJECT');
  });

  it('puts rules in a fixed order: established, embedded DNS, loopback, guards, sets, deny', () => {
    const r = renderRuleset({ mode: 'block', entries: [], gateways: ['172.18.0.1'] });
    const out = lines(r.v4).filter((l) => l.startsWith('-A OUTPUT'));
    assert.deepEqual(out, [
      '-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A OUTPUT -d 127.0.0.11/32 -j BF-DENY',
      '-A OUTPUT -o lo -j ACCEPT',
      '-A OUTPUT -d 169.254.0.0/16 -j BF-GUARD',
      '-A OUTPUT -d 168.63.129.16/32 -j BF-GUARD',
      '-A OUTPUT -d 172.18.0.1/32 -j BF-GUARD',
      '-A OUTPUT -p tcp -m set --match-set bf4-tcp dst -j ACCEPT',
      '-A OUTPUT -p udp -m set --match-set bf4-udp dst -j ACCEPT',
      '-A OUTPUT -m set --match-set bf4-port dst,dst -j ACCEPT',
      '-A OUTPUT -j BF-DENY',
    ]);
  });

  it('lets IPv6 neighbour discovery out, only with hop limit 255', () => {
    const r = renderRuleset({ mode: 'block', entries: [], gateways: [] });
    const nd = lines(r.v6).filter((l) => l.includes('ipv6-icmp'));
    assert.equal(nd.length, 3);
    for (const l of nd) assert.match(l, /--icmpv6-type 13[356] -m hl --hl-eq 255 -j ACCEPT$/);
  });

  it('places entries in the set for their protocol and ports', () => {
    const r = renderRuleset({
      mode: 'block',
      gateways: [],
      entries: [
        v4('10.0.0.0/8'),
        v4('203.0.113.7/32', { protocols: ['tcp'], ports: { from: 443, to: 443 } }),
        v4('203.0.113.8/32', { protocols: ['udp'], ports: { from: 5000, to: 5002 } }),
        v4('198.51.100.0/24', { protocols: ['tcp'] }),
        v6('2001:db8::/32', { protocols: ['tcp'], ports: { from: 443, to: 443 } }),
      ],
    });
    const adds = lines(r.ipset).filter((l) => l.startsWith('add'));
    assert.deepEqual(adds.sort(), [
      'add bf4-port 203.0.113.7/32,tcp:443 timeout 0',
      'add bf4-port 203.0.113.8/32,udp:5000 timeout 0',
      'add bf4-port 203.0.113.8/32,udp:5001 timeout 0',
      'add bf4-port 203.0.113.8/32,udp:5002 timeout 0',
      'add bf4-tcp 10.0.0.0/8 timeout 0',
      'add bf4-tcp 198.51.100.0/24 timeout 0',
      'add bf4-udp 10.0.0.0/8 timeout 0',
      'add bf6-port 2001:db8::/32,tcp:443 timeout 0',
    ]);
    assert.match(r.ipset, /^create bf6-port hash:net,port family inet6 timeout 0 maxelem \d+$/m);
  });

  it('stores everything (/0) as two halves, which hash:net accepts', () => {
    const r = renderRuleset({ mode: 'block', gateways: [], entries: [v4('0.0.0.0/0'), v6('::/0')] });
    for (const half of ['0.0.0.0/1', '128.0.0.0/1', '::/1', '8000::/1']) {
      assert.ok(r.ipset.includes(`add bf${half.includes(':') ? 6 : 4}-tcp ${half} timeout 0`), half);
    }
  });

  it('opens a guarded address only for an entry naming exactly that host', () => {
    const r = renderRuleset({
      mode: 'block',
      gateways: ['172.18.0.1'],
      entries: [
        v4('169.254.0.0/16'),
        v4('172.16.0.0/12'),
        v4('169.254.169.254/32', { protocols: ['tcp'], ports: { from: 80, to: 80 } }),
        v4('172.18.0.1/32', { protocols: ['tcp'], ports: { from: 8000, to: 8100 } }),
      ],
    });
    assert.deepEqual(lines(r.v4).filter((l) => l.startsWith('-A BF-GUARD')), [
      '-A BF-GUARD -d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j ACCEPT',
      '-A BF-GUARD -d 172.18.0.1/32 -p tcp -m tcp --dport 8000:8100 -j ACCEPT',
      '-A BF-GUARD -j BF-REJECT',
    ]);
  });

  it('keeps each family to its own addresses', () => {
    const r = renderRuleset({ mode: 'block', gateways: ['172.18.0.1', 'fd00::1'], entries: [v4('10.0.0.0/8'), v6('2001:db8::/32')] });
    assert.doesNotMatch(r.v4, /fd00|2001:db8/);
    assert.doesNotMatch(r.v6, /172\.18|10\.0\.0/);
  });
});
