import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderRuleset, setMembers } from '../../src/firewall/ruleset.js';
import { parseEntry } from '../../src/policy/allowlist.js';
import type { AddressEntry, Protocol } from '../../src/run/entry.js';

const base = { deny: [], resolver: { address: '172.18.0.1', port: 40000 } };

const v4 = (cidr: string, rest: Partial<AddressEntry> = {}): AddressEntry => ({
  kind: 'address',
  text: cidr,
  family: 4,
  cidr,
  protocols: ['tcp', 'udp'],
  ...rest,
});
const v6 = (cidr: string, rest: Partial<AddressEntry> = {}): AddressEntry => ({
  kind: 'address',
  text: cidr,
  family: 6,
  cidr,
  protocols: ['tcp', 'udp'],
  ...rest,
});
const lines = (text: string) => text.split('\n');

describe('renderRuleset', () => {
  it('denies by default in block mode and rejects fast', () => {
    const r = renderRuleset({ ...base, mode: 'block', allow: [], gateways: ['172.18.0.1'] });
    for (const text of [r.v4, r.v6]) {
      assert.ok(lines(text).includes(':OUTPUT DROP [0:0]'));
      assert.equal(
        lines(text)
          .filter((l) => l.startsWith('-A OUTPUT'))
          .at(-1),
        '-A OUTPUT -j BF-DENY',
      );
      assert.ok(lines(text).includes('-A BF-DENY -j BF-REJECT'));
      // Counted, then logged within the limit per destination, then refused.
      assert.deepEqual(
        lines(text).filter((l) => l.startsWith('-A BF-REJECT')),
        [
          '-A BF-REJECT -m comment --comment bf-refused',
          '-A BF-REJECT -m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 5 --hashlimit-mode dstip,dstport --hashlimit-name bf-refused ' +
            '--hashlimit-htable-max 65536 --hashlimit-htable-expire 2000 -j NFLOG --nflog-prefix bf-deny --nflog-group 5 --nflog-threshold 1',
          '-A BF-REJECT -p tcp -j REJECT --reject-with tcp-reset',
          `-A BF-REJECT -j REJECT --reject-with ${text === r.v4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable'}`,
        ],
      );
    }
  });

  it('lets audit mode through but still guards metadata and the Docker host', () => {
    const r = renderRuleset({ ...base, mode: 'audit', allow: [], gateways: ['172.18.0.1', 'fd00:1::1'] });
    assert.deepEqual(
      lines(r.v4).filter((l) => l.startsWith('-A BF-DENY')),
      [
        '-A BF-DENY -m comment --comment bf-audited',
        '-A BF-DENY -m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 5 --hashlimit-mode dstip,dstport --hashlimit-name bf-audited ' +
          '--hashlimit-htable-max 65536 --hashlimit-htable-expire 2000 -j NFLOG --nflog-prefix bf-audit --nflog-group 6 --nflog-threshold 1',
        '-A BF-DENY -j ACCEPT',
      ],
    );
    assert.ok(lines(r.v4).includes('-A OUTPUT -d 169.254.0.0/16 -j BF-GUARD'));
    assert.ok(lines(r.v4).includes('-A OUTPUT -d 172.18.0.1/32 -j BF-GUARD'));
    assert.ok(lines(r.v6).includes('-A OUTPUT -d fd00:1::1/128 -j BF-GUARD'));
    assert.ok(lines(r.v6).includes('-A OUTPUT -d fe80::/10 -j BF-GUARD'));
    assert.equal(
      lines(r.v4)
        .filter((l) => l.startsWith('-A BF-GUARD'))
        .join('\n'),
      '-A BF-GUARD -j BF-REJECT',
    );
  });

  it('puts rules in a fixed order: established, embedded DNS, loopback, resolver, guards, deny, allow, DoT, deny', () => {
    const r = renderRuleset({ ...base, mode: 'block', allow: [], gateways: ['172.18.0.1'] });
    const out = lines(r.v4).filter((l) => l.startsWith('-A OUTPUT'));
    assert.deepEqual(out, [
      '-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A OUTPUT -d 127.0.0.11/32 -j BF-REJECT',
      '-A OUTPUT -o lo -j ACCEPT',
      '-A OUTPUT -d 172.18.0.1/32 -p udp -m udp --dport 40000 -j ACCEPT',
      '-A OUTPUT -d 172.18.0.1/32 -p tcp -m tcp --dport 40000 -j ACCEPT',
      '-A OUTPUT -d 169.254.0.0/16 -j BF-GUARD',
      '-A OUTPUT -d 168.63.129.16/32 -j BF-GUARD',
      '-A OUTPUT -d 172.18.0.1/32 -j BF-GUARD',
      '-A OUTPUT -p tcp -m set --match-set bf4-deny-tcp dst -j BF-DENY',
      '-A OUTPUT -p udp -m set --match-set bf4-deny-udp dst -j BF-DENY',
      '-A OUTPUT -m set --match-set bf4-deny-port dst,dst -j BF-DENY',
      '-A OUTPUT -p tcp -m set --match-set bf4-tcp dst -j ACCEPT',
      '-A OUTPUT -p udp -m set --match-set bf4-udp dst -j ACCEPT',
      '-A OUTPUT -m set --match-set bf4-port dst,dst -j ACCEPT',
      '-A OUTPUT -p tcp -m tcp --dport 853 -j BF-REJECT',
      '-A OUTPUT -j BF-DENY',
    ]);
  });

  it('refuses DNS over IPv6 and the embedded resolver in every mode, and sends IPv4 DNS to the resolver', () => {
    const r = renderRuleset({ ...base, mode: 'audit', allow: [], gateways: ['172.18.0.1'] });
    assert.ok(lines(r.v6).includes('-A OUTPUT -p udp -m udp --dport 53 -j BF-REJECT'));
    assert.ok(lines(r.v6).includes('-A OUTPUT -p tcp -m tcp --dport 53 -j BF-REJECT'));
    assert.ok(lines(r.v4).includes('-A OUTPUT -d 127.0.0.11/32 -j BF-REJECT'));
    assert.deepEqual(
      lines(r.nat4)
        .filter((l) => l.includes('BF-DNS'))
        .slice(1),
      [
        '-I OUTPUT 1 -j BF-DNS',
        '-A BF-DNS -d 127.0.0.0/8 -j RETURN',
        '-A BF-DNS -p udp -m udp --dport 53 -j DNAT --to-destination 172.18.0.1:40000',
        '-A BF-DNS -p tcp -m tcp --dport 53 -j DNAT --to-destination 172.18.0.1:40000',
      ],
    );
    assert.equal(r.resolvConf, 'nameserver 172.18.0.1\noptions ndots:0\n');
  });

  it("sends TCP to a name entry's addresses to the checker's range of ports, which the filter accepts after the rewrite", () => {
    const r = renderRuleset({
      ...base,
      mode: 'block',
      gateways: ['172.18.0.1'],
      allow: [parseEntry('npm.registry.test:443')],
      checker: { address4: '172.18.0.1', address6: 'fd00::1', port: 40100, ports: 8 },
    });
    assert.ok(lines(r.nat4).includes('-A BF-WIRE-TO -p tcp -j DNAT --to-destination 172.18.0.1:40100-40107'), r.nat4);
    assert.ok(lines(r.nat6).includes('-A BF-WIRE-TO -p tcp -j DNAT --to-destination [fd00::1]:40100-40107'), r.nat6);
    assert.ok(
      lines(r.v4).includes('-A OUTPUT -d 172.18.0.1/32 -p tcp -m tcp --dport 40100:40107 -m conntrack --ctstate DNAT -j ACCEPT'),
      r.v4,
    );
  });

  it('the fast path: TCP on every port of what name entries opened is marked and queued until checked, with no nat rewrite and no checker', () => {
    const allow = [parseEntry('npm.registry.test:443'), parseEntry('api.test:400-500'), parseEntry('other.test:80-90')];
    const r = renderRuleset({ ...base, mode: 'block', gateways: ['172.18.0.1'], allow, wireQueue: 443 });
    for (const [f, filter] of [
      [4, r.v4],
      [6, r.v6],
    ] as const) {
      const out = lines(filter).filter((l) => l.startsWith('-A OUTPUT') || l.startsWith('-A BF-CHECK'));
      // First in OUTPUT, before the established connections are let through: the build's own packets only.
      assert.deepEqual(out.slice(0, 3), [
        '-A OUTPUT -p tcp -m conntrack --ctdir ORIGINAL -m connmark --mark 0x10000000/0x30000000 -j BF-CHECK',
        '-A OUTPUT -p tcp -m conntrack --ctdir ORIGINAL -m connmark --mark 0x30000000/0x30000000 -m tcp ! --tcp-flags RST RST -j REJECT --reject-with tcp-reset',
        '-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      ]);
      // New connections to a name's addresses on its ports, after the deny, guard and address rules.
      assert.deepEqual(
        out.filter((l) => l.endsWith('-j BF-CHECK-NEW')),
        [
          `-A OUTPUT -p tcp -m set --match-set bf${f}-name-tcp dst -j BF-CHECK-NEW`,
          `-A OUTPUT -p tcp -m set --match-set bf${f}-name-port dst,dst -j BF-CHECK-NEW`,
          `-A OUTPUT -p tcp -m tcp --dport 400:500 -m set --match-set bf${f}-name-tcp-400-500 dst -j BF-CHECK-NEW`,
          `-A OUTPUT -p tcp -m tcp --dport 80:90 -m set --match-set bf${f}-name-tcp-80-90 dst -j BF-CHECK-NEW`,
        ],
      );
      assert.ok(
        out.indexOf(`-A OUTPUT -p tcp -m set --match-set bf${f}-name-port dst,dst -j BF-CHECK-NEW`) >
          out.findIndex((l) => l.includes('-j BF-GUARD')),
      );
      // No --queue-bypass: without a reader the kernel drops what is queued.
      assert.deepEqual(
        out.filter((l) => l.startsWith('-A BF-CHECK')),
        [
          '-A BF-CHECK -p tcp -m mark --mark 0x20000000/0x30000000 -j CONNMARK --set-xmark 0x20000000/0x30000000',
          '-A BF-CHECK -p tcp -m mark --mark 0x20000000/0x30000000 -j ACCEPT',
          '-A BF-CHECK -p tcp -m mark --mark 0x30000000/0x30000000 -j CONNMARK --set-xmark 0x30000000/0x30000000',
          '-A BF-CHECK -p tcp -m mark --mark 0x30000000/0x30000000 -j REJECT --reject-with tcp-reset',
          '-A BF-CHECK -p tcp -j NFQUEUE --queue-num 443',
          '-A BF-CHECK-NEW -p tcp -j CONNMARK --set-xmark 0x10000000/0x30000000',
          '-A BF-CHECK-NEW -p tcp -j BF-CHECK',
        ],
      );
      // Nothing else lets the build's TCP to those addresses out.
      assert.deepEqual(
        out.filter((l) => l.includes('-name-') && !l.endsWith('-j BF-CHECK-NEW')).filter((l) => !l.startsWith('-A OUTPUT -p udp')),
        [],
      );
    }
    assert.doesNotMatch(r.nat4, /BF-WIRE/);
    assert.equal(r.nat6, '');
    // Without the queue (a Pod), TCP goes to the checker, and no rule marks or queues.
    const checker = { address4: '172.18.0.1', address6: 'fd00::1', port: 40100, ports: 8 };
    const relay = renderRuleset({ ...base, mode: 'block', gateways: ['172.18.0.1'], allow, checker });
    for (const text of [relay.v4, relay.v6, relay.nat4, relay.nat6]) assert.doesNotMatch(text, /BF-CHECK|NFQUEUE|connmark/);
    assert.match(relay.nat4, /-j BF-WIRE-TO/);
  });

  it('puts deny entries in sets of their own, checked before the allow sets', () => {
    const r = renderRuleset({
      ...base,
      mode: 'block',
      gateways: [],
      allow: [v4('10.0.0.0/8')],
      deny: [v4('10.1.0.0/16', { protocols: ['tcp'], ports: { from: 22, to: 22 } })],
    });
    assert.ok(r.ipset.includes('add bf4-deny-port 10.1.0.0/16,tcp:22 timeout 0'));
    assert.ok(r.ipset.includes('add bf4-tcp 10.0.0.0/8 timeout 0'));
    const out = lines(r.v4);
    assert.ok(
      out.indexOf('-A OUTPUT -m set --match-set bf4-deny-port dst,dst -j BF-DENY') <
        out.indexOf('-A OUTPUT -p tcp -m set --match-set bf4-tcp dst -j ACCEPT'),
    );
  });

  it('lets IPv6 neighbour discovery out, only with hop limit 255', () => {
    const r = renderRuleset({ ...base, mode: 'block', allow: [], gateways: [] });
    const icmp = lines(r.v6).filter((l) => l.includes('ipv6-icmp') && l.startsWith('-A OUTPUT'));
    assert.equal(icmp.length, 4);
    for (const l of icmp.slice(0, 3)) assert.match(l, /--icmpv6-type 13[356] -m hl --hl-eq 255 -j ACCEPT$/);
    assert.equal(icmp[3], '-A OUTPUT -d ff02::16/128 -p ipv6-icmp -m icmp6 --icmpv6-type 143 -m hl --hl-eq 1 -j ACCEPT');
  });

  it('places entries in the set for their protocol and ports', () => {
    const r = renderRuleset({
      ...base,
      mode: 'block',
      gateways: [],
      allow: [
        v4('10.0.0.0/8'),
        v4('203.0.113.7/32', { protocols: ['tcp'], ports: { from: 443, to: 443 } }),
        v4('203.0.113.8/32', { protocols: ['udp'], ports: { from: 5000, to: 5002 } }),
        v4('198.51.100.0/24', { protocols: ['tcp'] }),
        v6('2001:db8::/32', { protocols: ['tcp'], ports: { from: 443, to: 443 } }),
      ],
    });
    const adds = lines(r.ipset).filter((l) => l.startsWith('add'));
    assert.deepEqual(
      adds.sort(),
      [
        'add bf4-port 203.0.113.7/32,tcp:443 timeout 0',
        'add bf4-tcp 10.0.0.0/8 timeout 0',
        'add bf4-tcp 198.51.100.0/24 timeout 0',
        'add bf4-udp 10.0.0.0/8 timeout 0',
        'add bf4-udp-5000-5002 203.0.113.8/32 timeout 0',
        'add bf6-port 2001:db8::/32,tcp:443 timeout 0',
      ].sort(),
    );
    assert.match(r.ipset, /^create bf6-port hash:net,port family inet6 timeout 0 maxelem \d+$/m);
  });

  it('gives each port range a set of its own, matched with the range: one element per address, not per port', () => {
    const wide = { protocols: ['tcp', 'udp'] as Protocol[], ports: { from: 1, to: 65535 } };
    const r = renderRuleset({
      ...base,
      mode: 'block',
      gateways: [],
      allow: [
        v4('203.0.113.0/24', wide),
        v6('2001:db8::/32', { protocols: ['tcp'], ports: { from: 8000, to: 8100 } }),
        // A name's range gets its sets in both families, empty until the resolver learns addresses.
        { kind: 'name', text: 'ci.test:8000-8100', name: 'ci.test', wildcard: false, protocols: ['tcp'], ports: { from: 8000, to: 8100 } },
      ],
      deny: [v4('203.0.113.9/32', { protocols: ['tcp'], ports: { from: 20, to: 21 } })],
    });
    const adds = lines(r.ipset).filter((l) => l.startsWith('add'));
    assert.deepEqual(adds.sort(), [
      'add bf4-deny-tcp-20-21 203.0.113.9/32 timeout 0',
      'add bf4-tcp-1-65535 203.0.113.0/24 timeout 0',
      'add bf4-udp-1-65535 203.0.113.0/24 timeout 0',
      'add bf6-tcp-8000-8100 2001:db8::/32 timeout 0',
    ]);
    // The name's range sets are the name check's: its addresses' TCP goes to the checker.
    for (const set of [
      'bf4-tcp-1-65535',
      'bf4-udp-1-65535',
      'bf4-name-tcp-8000-8100',
      'bf6-tcp-8000-8100',
      'bf6-name-tcp-8000-8100',
      'bf4-deny-tcp-20-21',
    ]) {
      assert.match(r.ipset, new RegExp(`^create ${set} hash:net family inet6? timeout 0 maxelem \\d+$`, 'm'), set);
    }
    const out4 = lines(r.v4).filter((l) => /--dport \d+:\d+ -m set/.test(l));
    assert.deepEqual(out4, [
      '-A OUTPUT -p tcp -m tcp --dport 20:21 -m set --match-set bf4-deny-tcp-20-21 dst -j BF-DENY',
      '-A OUTPUT -p tcp -m tcp --dport 1:65535 -m set --match-set bf4-tcp-1-65535 dst -j ACCEPT',
      '-A OUTPUT -p udp -m udp --dport 1:65535 -m set --match-set bf4-udp-1-65535 dst -j ACCEPT',
    ]);
    assert.deepEqual(setMembers(4, '192.0.2.1/32', ['tcp'], { from: 8000, to: 8100 }), [
      { set: 'bf4-tcp-8000-8100', element: '192.0.2.1/32' },
    ]);
  });

  it('stores everything (/0) as two halves, which hash:net accepts', () => {
    const r = renderRuleset({ ...base, mode: 'block', gateways: [], allow: [v4('0.0.0.0/0'), v6('::/0')] });
    for (const half of ['0.0.0.0/1', '128.0.0.0/1', '::/1', '8000::/1']) {
      assert.ok(r.ipset.includes(`add bf${half.includes(':') ? 6 : 4}-tcp ${half} timeout 0`), half);
    }
  });

  it('opens a guarded address only for an entry naming exactly that host', () => {
    const r = renderRuleset({
      ...base,
      mode: 'block',
      gateways: ['172.18.0.1'],
      allow: [
        v4('169.254.0.0/16'),
        v4('172.16.0.0/12'),
        v4('169.254.169.254/32', { protocols: ['tcp'], ports: { from: 80, to: 80 } }),
        v4('172.18.0.1/32', { protocols: ['tcp'], ports: { from: 8000, to: 8100 } }),
      ],
    });
    assert.deepEqual(
      lines(r.v4).filter((l) => l.startsWith('-A BF-GUARD')),
      [
        '-A BF-GUARD -d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j ACCEPT',
        '-A BF-GUARD -d 172.18.0.1/32 -p tcp -m tcp --dport 8000:8100 -j ACCEPT',
        '-A BF-GUARD -j BF-REJECT',
      ],
    );
  });

  it('keeps each family to its own addresses', () => {
    const r = renderRuleset({
      ...base,
      mode: 'block',
      gateways: ['172.18.0.1', 'fd00::1'],
      allow: [v4('10.0.0.0/8'), v6('2001:db8::/32')],
    });
    assert.doesNotMatch(r.v4, /fd00|2001:db8/);
    assert.doesNotMatch(r.v6, /172\.18|10\.0\.0/);
  });

  it("guards the default bridge's subnets like the gateway; only an entry naming exactly one host opens it", () => {
    const r = renderRuleset({
      ...base,
      mode: 'audit',
      gateways: ['172.17.0.1', 'fd00:d0c::1'],
      guardedNetworks: ['172.17.0.0/16', 'fd00:d0c::/64'],
      allow: [v4('172.16.0.0/12'), v4('172.17.0.9/32', { protocols: ['tcp'], ports: { from: 5432, to: 5432 } })],
    });
    const out4 = lines(r.v4).filter((l) => / -j BF-GUARD$/.test(l));
    assert.deepEqual(out4.slice(-2), ['-A OUTPUT -d 172.17.0.1/32 -j BF-GUARD', '-A OUTPUT -d 172.17.0.0/16 -j BF-GUARD']);
    assert.ok(lines(r.v6).includes('-A OUTPUT -d fd00:d0c::/64 -j BF-GUARD'));
    assert.deepEqual(
      lines(r.v4).filter((l) => l.startsWith('-A BF-GUARD')),
      ['-A BF-GUARD -d 172.17.0.9/32 -p tcp -m tcp --dport 5432 -j ACCEPT', '-A BF-GUARD -j BF-REJECT'],
    );
    // The guards come before the allow sets and audit mode's pass-through.
    const at = (re: RegExp) => lines(r.v4).findIndex((l) => re.test(l));
    assert.ok(at(/-d 172\.17\.0\.0\/16 -j BF-GUARD/) < at(/--match-set bf4-tcp dst -j ACCEPT/));
    assert.ok(at(/-d 172\.17\.0\.0\/16 -j BF-GUARD/) < at(/-j BF-DENY$/));
  });

  it('logs the end-of-run mark only from the Docker host, on eth0, to its port, and only in IPv4', () => {
    const r = renderRuleset({
      ...base,
      mode: 'block',
      gateways: ['172.18.0.1'],
      allow: [],
      drainMark: { from: '172.18.0.1', port: 41234 },
    });
    assert.deepEqual(
      lines(r.v4)
        .filter((l) => l.startsWith('-A INPUT'))
        .slice(0, 2),
      [
        '-A INPUT -s 172.18.0.1/32 -i eth0 -p udp -m udp --dport 41234 -j NFLOG --nflog-prefix bf-mark --nflog-group 7 --nflog-threshold 1',
        '-A INPUT -s 172.18.0.1/32 -i eth0 -p udp -m udp --dport 41234 -j DROP',
      ],
    );
    assert.doesNotMatch(r.v6, /bf-mark/);
    assert.doesNotMatch(renderRuleset({ ...base, mode: 'block', gateways: ['172.18.0.1'], allow: [] }).v4, /bf-mark/);
  });

  it('refuses and records new inbound connections and datagrams, in both families (issue 12, hole 7)', () => {
    const input = (text: string) => lines(text).filter((l) => l.startsWith('-A INPUT') || l.startsWith('-A BF-INBOUND'));
    const common = ['-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', '-A INPUT -i lo -j ACCEPT'];
    const tail = ['-A INPUT -m conntrack --ctstate INVALID -j DROP', '-A INPUT -j BF-INBOUND'];
    const discovery = [
      ...[133, 134, 135, 136].map((t) => `-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type ${t} -m hl --hl-eq 255 -j ACCEPT`),
      '-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 130 -m hl --hl-eq 1 -j ACCEPT',
    ];
    const block = renderRuleset({ ...base, mode: 'block', gateways: [], allow: [] });
    // Counted, then logged within the limit per sender and port of the build, then dropped.
    const limit = (name: string) =>
      `-m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 5 --hashlimit-mode srcip,dstport --hashlimit-name ${name} ` +
      '--hashlimit-htable-max 65536 --hashlimit-htable-expire 2000';
    const refused = [
      '-A BF-INBOUND -m comment --comment bf-in-refused',
      `-A BF-INBOUND ${limit('bf-in-refused')} -j NFLOG --nflog-prefix bf-inbound --nflog-group 8 --nflog-threshold 1`,
      '-A BF-INBOUND -j DROP',
    ];
    assert.deepEqual(input(block.v4), [...common, ...tail, ...refused]);
    assert.deepEqual(input(block.v6), [...common, ...discovery, ...tail, ...refused]);
    const audit = renderRuleset({ ...base, mode: 'audit', gateways: [], allow: [] });
    const recorded = [
      '-A BF-INBOUND -m comment --comment bf-in-audited',
      `-A BF-INBOUND ${limit('bf-in-audited')} -j NFLOG --nflog-prefix bf-inbound-audit --nflog-group 9 --nflog-threshold 1`,
      '-A BF-INBOUND -j ACCEPT',
    ];
    assert.deepEqual(input(audit.v4), [...common, ...tail, ...recorded]);
    assert.deepEqual(input(audit.v6), [...common, ...discovery, ...tail, ...recorded]);
    // Fail closed: the chain's policy drops whatever the rules did not decide.
    for (const text of [block.v4, block.v6, audit.v4, audit.v6]) assert.ok(lines(text).includes(':INPUT DROP [0:0]'));
  });
});
