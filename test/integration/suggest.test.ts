// From audit to policy, end to end against the real engine: an audit build reaches a server by
// name and another by address; its record names the first and marks the second; `buildfence
// suggest` writes the release grade into a policy file; a release run with it lets the same build
// through and refuses what the build did not do in audit.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { ROOT, cli, fixture, probeRunArgs, verdicts } from './harness.js';
import type { EvidenceRecord } from '../../src/report/record.js';

const fx = fixture({ servers: 2, upstream: true });

before(async () => {
  await fx.ready;
  fx.upstream.zone.set('pkg.registry.test', { A: [fx.net.servers[0].ipv4] });
});

const build = (extra: string[] = []) => [
  "ns=$(awk '/^nameserver/{print $2; exit}' /etc/resolv.conf)",
  'a=$(probe dns "$ns" pkg.registry.test | sed -n \'s/^rcode=0 answers=\\([^,]*\\).*/\\1/p\')',
  // An HTTP request, whose Host the name check reads in the release run (the probe's own TCP
  // carries no name: a name entry would refuse it unless it were opaque://).
  // nc ends at the end of its input: the input stays open until the answer came and the server closed.
  `out=$( (printf 'GET / HTTP/1.1\\r\\nHost: pkg.registry.test\\r\\n\\r\\n'; sleep 2) | timeout 3 nc "$a" 8080)`,
  'case "$out" in *pong*) echo "tcp $a:8080 ok" ;; *) echo "tcp $a:8080 refused" ;; esac',
  `probe udp ${fx.net.servers[1].ipv4} 9090`,
  ...extra,
];

const run = (grade: string, script: string[], args: string[]) =>
  cli(
    probeRunArgs(
      fx.net.name,
      '--grade',
      grade,
      '--dns-upstream',
      fx.upstream.address,
      ...args,
      '--',
      ['export PATH="$PWD:$PATH"', ...script].join('\n'),
    ),
    fx.ws,
  );

describe('from audit to policy', () => {
  it('an audit run suggests names, marks addresses; suggest writes a grade that lets the same build through and nothing else', async () => {
    const [s0, s1] = fx.net.servers;
    const audit = await run('dev', build(), ['--report', 'audit.json']);
    assert.equal(audit.code, 0, audit.stderr);
    const record = JSON.parse(await fs.readFile(path.join(fx.ws, 'audit.json'), 'utf8')) as EvidenceRecord;
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats.default(ajv);
    const schema = JSON.parse(await fs.readFile(path.join(ROOT, 'schema/buildfence-report.schema.json'), 'utf8')) as object;
    assert.ok(ajv.validate(schema, record), JSON.stringify(ajv.errors));

    const byName = record.denied.find((d) => d.address === s0.ipv4 && d.port === 8080);
    assert.deepEqual([byName?.names, byName?.name, byName?.enforced], [['pkg.registry.test'], 'pkg.registry.test', false]);
    assert.deepEqual(record.dns.find((d) => d.name === 'pkg.registry.test')?.verdict, 'audited');
    assert.deepEqual(record.suggestedAllowlist, ['pkg.registry.test:8080', `udp://${s1.ipv4}:9090`]);
    assert.match(audit.stderr, /let through, would be refused: tcp [\d.]+:8080 \(pkg\.registry\.test\)/);
    assert.match(audit.stderr, /name forwarded, would be refused in block mode: pkg\.registry\.test A/);
    assert.match(audit.stderr, /^ {4} {6}- udp:\/\/[\d.]+:9090 # 1 of 1 run, 1 attempt; an address no name led to/m);

    await fs.writeFile(path.join(fx.ws, 'fence.yml'), '# ours\ngrades:\n  dev:\n    mode: audit\n');
    const suggest = await cli(['suggest', 'audit.json', '--write', 'fence.yml'], fx.ws);
    assert.equal(suggest.code, 0, suggest.stderr);
    const policy = await fs.readFile(path.join(fx.ws, 'fence.yml'), 'utf8');
    assert.match(policy, /^# ours$/m);
    assert.match(policy, /^ {6}- pkg\.registry\.test:8080 # 1 of 1 run, 1 attempt$/m);
    const check = await cli(['check-policy', 'fence.yml'], fx.ws);
    assert.equal(check.code, 0, check.stderr);

    // The same build, and one destination more it never touched in audit.
    const release = await run('release', build([`probe tcp ${s1.ipv4} 8080`]), ['--policy', 'fence.yml', '--report', 'release.json']);
    const v = verdicts(release.stdout);
    assert.equal(v.get(`tcp ${s0.ipv4}:8080`), 'ok', release.stdout + release.stderr);
    assert.equal(v.get(`udp ${s1.ipv4}:9090`), 'ok', release.stdout);
    assert.equal(v.get(`tcp ${s1.ipv4}:8080`), 'refused', release.stdout);
    const released = JSON.parse(await fs.readFile(path.join(fx.ws, 'release.json'), 'utf8')) as EvidenceRecord;
    assert.deepEqual(
      released.denied.map((d) => `${d.protocol} ${d.address}:${d.port}`),
      [`tcp ${s1.ipv4}:8080`],
    );
  });
});
