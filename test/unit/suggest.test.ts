// From audit records to a release grade: presets when they cover every use of their names,
// exact names, wildcards only over several subdomains of one registrable domain (never over a
// public suffix), addresses last; merged over runs with their counts; written as YAML that the
// policy loader reads back, into a file whose comments and other grades stay.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseEntry } from '../../src/policy/allowlist.js';
import { covers } from '../../src/policy/coverage.js';
import { writeGrade } from '../../src/policy/edit.js';
import { gradeOf, parsePolicy } from '../../src/policy/policy.js';
import type { DeniedDestination } from '../../src/report/evidence.js';
import { suggestEntries, suggestionComment, type Recorded } from '../../src/report/suggest.js';
import { suggestedGradeYaml } from '../../src/report/summary.js';

const at = '2026-12-01T10:00:00.000Z';

/** An audit row: a connection let through that block mode would refuse. */
function row(address: string, port: number, names: string[] = [], count = 1, protocol: 'tcp' | 'udp' = 'tcp'): DeniedDestination {
  return { protocol, address, port, names, ...(names.length > 0 ? { name: names[0] } : {}), enforced: false, count, first: at, last: at };
}
const run = (...denied: DeniedDestination[]): Recorded => ({ allowlist: [], denied, dns: [] });
const entries = (records: Recorded[]) => suggestEntries(records).map((s) => s.entry);

describe('suggestEntries', () => {
  it('names where a name led to the address, with the port and protocol used; addresses where none did', () => {
    assert.deepEqual(
      entries([run(row('192.0.2.1', 443, ['pkg.registry.test']), row('192.0.2.2', 53, [], 1, 'udp'), row('2001:db8::1', 8080))]),
      ['pkg.registry.test:443', '[2001:db8::1]:8080', 'udp://192.0.2.2:53'],
    );
  });

  it('takes the name answered last before the connection, not every name that shared the address', () => {
    const shared = { ...row('192.0.2.1', 443, ['a.cdn.test', 'b.cdn.test']), name: 'b.cdn.test' };
    assert.deepEqual(entries([run(shared)]), ['b.cdn.test:443']);
  });

  it("the name check's rows: the name the connection carried, opaque:// for the learned name where it carried none, never the address", () => {
    const checked = (asked: string | undefined, reason: DeniedDestination['reason'], names = ['npm.registry.test']): DeniedDestination => ({
      ...row('192.0.2.20', 443),
      names,
      reason,
      ...(asked !== undefined ? { asked } : {}),
    });
    assert.deepEqual(entries([run(checked('a.evil.test', 'sni'), checked(undefined, 'no-sni'), checked('*', 'host'))]), [
      'a.evil.test:443',
      'opaque://npm.registry.test:443',
    ]);
    // Three opted-out names under one domain stay three: a wildcard has no opaque:// form.
    const opaque = ['a', 'b', 'c'].map((l) => checked(undefined, 'opaque', [`${l}.pkg.cdn.test`]));
    assert.deepEqual(entries([run(...opaque)]), [
      'opaque://a.pkg.cdn.test:443',
      'opaque://b.pkg.cdn.test:443',
      'opaque://c.pkg.cdn.test:443',
    ]);
  });

  it('leaves out what block mode refused, ICMP, and rows without a port', () => {
    const refused = { ...row('192.0.2.9', 22, ['x.test']), enforced: true };
    const icmp: DeniedDestination = { protocol: 'icmp', address: '192.0.2.8', names: [], enforced: false, count: 1, first: at, last: at };
    assert.deepEqual(entries([run(refused, icmp)]), []);
  });

  it('a preset when it covers every use of its names; exact names when one use falls outside it', () => {
    assert.deepEqual(entries([run(row('192.0.2.1', 443, ['registry.npmjs.org']))]), ['preset:npm']);
    const suggestions = suggestEntries([run(row('192.0.2.1', 443, ['registry.npmjs.org']), row('192.0.2.1', 80, ['registry.npmjs.org']))]);
    assert.deepEqual(
      suggestions.map((s) => s.entry),
      ['registry.npmjs.org:443', 'registry.npmjs.org:80'],
    );
  });

  it('a wildcard from three subdomains of one registrable domain on one port, never fewer, never over a public suffix', () => {
    const two = run(row('192.0.2.1', 443, ['a.cdn.test']), row('192.0.2.2', 443, ['b.cdn.test']));
    assert.deepEqual(entries([two]), ['a.cdn.test:443', 'b.cdn.test:443']);
    const three = run(
      row('192.0.2.1', 443, ['a.pkg.cdn.test']),
      row('192.0.2.2', 443, ['b.pkg.cdn.test']),
      row('192.0.2.3', 443, ['c.pkg.cdn.test']),
    );
    assert.deepEqual(entries([three]), ['*.pkg.cdn.test:443']);
    const otherPort = run(
      row('192.0.2.1', 443, ['a.cdn.test']),
      row('192.0.2.2', 443, ['b.cdn.test']),
      row('192.0.2.3', 80, ['c.cdn.test']),
    );
    assert.deepEqual(entries([otherPort]), ['a.cdn.test:443', 'b.cdn.test:443', 'c.cdn.test:80']);
    // Three owners' sites under github.io: each its own, github.io is a public suffix.
    const pages = run(
      row('192.0.2.1', 443, ['a.github.io']),
      row('192.0.2.2', 443, ['b.github.io']),
      row('192.0.2.3', 443, ['c.github.io']),
    );
    assert.deepEqual(entries([pages]), ['a.github.io:443', 'b.github.io:443', 'c.github.io:443']);
    // Under one owner's site they fold to the site, not to github.io.
    const site = run(
      row('192.0.2.1', 443, ['x.me.github.io']),
      row('192.0.2.2', 443, ['y.me.github.io']),
      row('192.0.2.3', 443, ['z.me.github.io']),
    );
    assert.deepEqual(entries([site]), ['*.me.github.io:443']);
  });

  it('keeps the apex beside a wildcard of its subdomains', () => {
    const r = run(row('192.0.2.1', 443, ['cdn.test']), ...['a', 'b', 'c'].map((n, i) => row(`192.0.2.${i + 2}`, 443, [`${n}.cdn.test`])));
    assert.deepEqual(entries([r]), ['cdn.test:443', '*.cdn.test:443']);
  });

  it('merges runs: counts runs and attempts, and flags what only some runs used', () => {
    const records = [
      run(row('192.0.2.1', 443, ['a.test'], 5)),
      run(row('192.0.2.7', 443, ['a.test'], 2), row('192.0.2.2', 443, ['b.test'])),
      run(),
    ];
    const [a, b] = suggestEntries(records);
    assert.deepEqual([a.entry, a.runs, a.totalRuns, a.attempts], ['a.test:443', 2, 3, 7]);
    assert.equal(suggestionComment(a), 'only 2 of 3 runs: review, 7 attempts');
    assert.deepEqual([b.entry, b.runs, b.attempts], ['b.test:443', 1, 1]);
    const all = suggestEntries([run(row('192.0.2.1', 443, ['a.test'])), run(row('192.0.2.1', 443, ['a.test']))])[0];
    assert.equal(suggestionComment(all), '2 of 2 runs, 2 attempts');
  });

  it("keeps the audited grade's name entries the build used", () => {
    const record: Recorded = {
      allowlist: ['tcp://api.test:443', 'tcp://unused.test:443'],
      denied: [],
      dns: [{ name: 'api.test', type: 'A', verdict: 'allowed', forwarded: true, addresses: ['192.0.2.1'], count: 4, first: at, last: at }],
    };
    const [kept] = suggestEntries([record]);
    assert.deepEqual([kept.entry, kept.kind, kept.attempts], ['tcp://api.test:443', 'kept', 4]);
  });

  it('falls back to the address for a name the grammar cannot take (the build chooses what it asks)', () => {
    assert.deepEqual(entries([run(row('192.0.2.1', 443, ['bad name\n## forged']))]), ['192.0.2.1:443']);
  });

  it('is stable: the same records in any order give the same entries', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 1, max: 9 }), fc.constantFrom('a.x.test', 'b.x.test', 'c.x.test', 'registry.npmjs.org', 'y.test', '')),
          { maxLength: 12 },
        ),
        (rows) => {
          const denied = rows.map(([n, name]) => row(`192.0.2.${n}`, 443, name ? [name] : []));
          assert.deepEqual(entries([run(...denied)]), entries([run(...[...denied].reverse())]));
        },
      ),
    );
  });

  it('every suggestion covers what the runs did, and parses as an entry', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 1, max: 20 }),
            fc.constantFrom(443, 80, 8080),
            fc.constantFrom('a.p.test', 'b.p.test', 'c.p.test', 'd.q.test', 'github.com', ''),
          ),
          { maxLength: 15 },
        ),
        (rows) => {
          const denied = rows.map(([n, port, name]) => row(`192.0.2.${n}`, port, name ? [name] : []));
          const suggested = suggestEntries([run(...denied)]).flatMap((s) => (s.entry.startsWith('preset:') ? [] : [parseEntry(s.entry)]));
          const presets = suggestEntries([run(...denied)]).filter((s) => s.entry.startsWith('preset:'));
          for (const d of denied) {
            const used = parseEntry(d.name ? `${d.name}:${d.port}` : `${d.address}:${d.port}`);
            const byPreset = presets.some((p) => p.names?.includes(d.name ?? ''));
            assert.ok(byPreset || suggested.some((s) => covers(s, used)), `${JSON.stringify(d)} is not covered`);
          }
        },
      ),
    );
  });
});

describe('the suggested grade as YAML', () => {
  const records = [run(row('192.0.2.1', 443, ['registry.npmjs.org'], 3), row('192.0.2.2', 8080), row('192.0.2.3', 443, ['api.test']))];

  it('reads back through the policy loader as a blocking grade with exactly the suggested entries', () => {
    const text = suggestedGradeYaml(records);
    const grade = gradeOf(parsePolicy(text, 'suggested.yml'), 'release', '--grade');
    assert.equal(grade.mode, 'block');
    assert.deepEqual(
      grade.allow.map((e) => e.text),
      ['preset:npm', 'preset:npm', 'api.test:443', '192.0.2.2:8080'],
    );
    assert.match(text, /^ {6}- preset:npm # 1 of 1 run, 3 attempts; used registry\.npmjs\.org$/m);
    assert.match(text, /^ {6}- 192\.0\.2\.2:8080 # 1 of 1 run, 1 attempt; an address no name led to: it breaks when the address changes$/m);
  });

  it("--write keeps the file's comments and other grades, and replaces only the grade it writes", () => {
    const existing = [
      "# The team's policy: reviewed by security.",
      'grades:',
      '  # What every grade may reach.',
      '  base:',
      '    allow: ["artifacts.example.com:443"] # our mirror',
      '  release:',
      '    mode: block',
      '    allow: ["old.test:443"]',
      '  dev:',
      '    extends: base',
      '    mode: audit',
      '',
    ].join('\n');
    const text = writeGrade(existing, 'release', { mode: 'block', allow: [{ entry: 'api.test:443', comment: '1 of 1 run' }] }, 'suggested');
    for (const kept of ["# The team's policy: reviewed by security.", '# What every grade may reach.', '# our mirror', 'extends: base']) {
      assert.ok(text.includes(kept), `lost: ${kept}`);
    }
    assert.doesNotMatch(text, /old\.test/);
    const policy = parsePolicy(text, 'p.yml');
    assert.deepEqual([...policy.grades.keys()].slice(0, 3), ['base', 'release', 'dev']);
    assert.deepEqual(
      gradeOf(policy, 'release', 'g').allow.map((e) => e.text),
      ['api.test:443'],
    );
    assert.deepEqual(
      gradeOf(policy, 'dev', 'g').allow.map((e) => e.text),
      ['artifacts.example.com:443'],
    );
    const added = writeGrade(existing, 'nightly', { mode: 'block', allow: [] }, 'suggested');
    assert.deepEqual([...parsePolicy(added, 'p.yml').grades.keys()].slice(0, 4), ['base', 'release', 'dev', 'nightly']);
  });
});
