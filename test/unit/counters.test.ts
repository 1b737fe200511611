// The kernel's counters as the holder prints them (iptables-save -c), and a Pod fence's line of them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { COUNTERS_LINE_PREFIX, parseCounters, parseCountersLine } from '../../src/firewall/counters.js';
import { renderRuleset } from '../../src/firewall/ruleset.js';

const rules = renderRuleset({ mode: 'audit', allow: [], deny: [], gateways: ['172.18.0.1'], resolver: { address: '172.18.0.1', port: 1 } });
/** The rendered rules as iptables-save -c prints them, each rule's packet counter from `counts` (by its text), else 0. */
const saved = (text: string, counts: Record<string, number>) =>
  text
    .split('\n')
    .map((l) => (l.startsWith('-A ') ? `[${counts[l] ?? 0}:${(counts[l] ?? 0) * 60}] ${l}` : l))
    .join('\n');
const ruleWith = (text: string, part: string) => text.split('\n').find((l) => l.includes(part))!;

describe('parseCounters', () => {
  const v4 = saved(rules.v4, {
    '-A BF-REJECT -m comment --comment bf-refused': 7,
    '-A BF-DENY -m comment --comment bf-audited': 1000,
    [ruleWith(rules.v4, '--nflog-prefix bf-deny')]: 5,
    [ruleWith(rules.v4, '--nflog-prefix bf-audit')]: 40,
    // The end-of-run mark's log is not the build's.
    [ruleWith(rules.v4, '--nflog-prefix bf-mark')]: 3,
    '-A BF-REJECT -p tcp -j REJECT --reject-with tcp-reset': 7,
  });
  const v6 = saved(rules.v6, { '-A BF-REJECT -m comment --comment bf-refused': 2, [ruleWith(rules.v6, '--nflog-prefix bf-deny')]: 2 });
  const output = `${v4}\n---buildfence-counters-v6---\n${v6}`;

  it('adds up both families: refused, audited, and what was logged of them', () => {
    assert.deepEqual(parseCounters(output), { refused: 9, audited: 1000, logged: 47 });
  });

  it('counts inbound attempts in the same totals, and their log entries as logged', () => {
    const block = renderRuleset({
      mode: 'block',
      allow: [],
      deny: [],
      gateways: ['172.18.0.1'],
      resolver: { address: '172.18.0.1', port: 1 },
    });
    const b4 = saved(block.v4, {
      '-A BF-REJECT -m comment --comment bf-refused': 3,
      '-A BF-INBOUND -m comment --comment bf-in-refused': 20,
      [ruleWith(block.v4, '--nflog-prefix bf-deny')]: 3,
      [ruleWith(block.v4, '--nflog-prefix bf-inbound ')]: 5,
    });
    const b6 = saved(block.v6, {
      '-A BF-INBOUND -m comment --comment bf-in-refused': 1,
      [ruleWith(block.v6, '--nflog-prefix bf-inbound ')]: 1,
    });
    assert.deepEqual(parseCounters(`${b4}\n---buildfence-counters-v6---\n${b6}`), { refused: 24, audited: 0, logged: 9 });
    const a4 = saved(rules.v4, {
      '-A BF-INBOUND -m comment --comment bf-in-audited': 4,
      [ruleWith(rules.v4, '--nflog-prefix bf-inbound-audit')]: 4,
    });
    assert.deepEqual(parseCounters(`${a4}\n---buildfence-counters-v6---\n${rules.v6}`), { refused: 0, audited: 4, logged: 4 });
  });

  it('refuses output without both families', () => {
    assert.equal(parseCounters(v4), undefined);
    assert.equal(parseCounters(`${v4}\n---buildfence-counters-v6---\n`), undefined);
    assert.equal(parseCounters(''), undefined);
  });

  it("reads a Pod fence's line: the time it was printed and the counts", () => {
    const line = `${COUNTERS_LINE_PREFIX} 1800000000 ${output.replaceAll('\n', '|')}`;
    assert.deepEqual(parseCountersLine(line), { time: 1800000000, counts: { refused: 9, audited: 1000, logged: 47 } });
    assert.equal(parseCountersLine(`${COUNTERS_LINE_PREFIX} 1800000000 `), undefined);
    assert.equal(
      parseCountersLine('1700000000.5 version 0, resource ID 5, IPv4, length 60: 10.0.0.9.40000 > 192.0.2.7.80: tcp 0'),
      undefined,
    );
  });
});
