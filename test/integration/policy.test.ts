// A policy file end to end, against the real engine: its grades decide what the build reaches.
// Addresses of the test servers only, on an --internal network this test creates.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { LOOPBACK_UPSTREAM, cli, dockerText, fixture, probeRunArgs, verdicts } from './harness.js';

const fx = fixture({ servers: 2 });

before(async () => {
  await fx.ready;
  const subnet = (await dockerText(['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{end}}', fx.net.name]))
    .split(' ')
    .find((s) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(s));
  assert.ok(subnet, 'the test network has no IPv4 subnet');
  const [s0, s1] = fx.net.servers;
  // The whole test network on 8080 is allowed; the release grade denies s1 inside it.
  await fs.mkdir(path.join(fx.ws, 'policies'));
  await fs.writeFile(
    path.join(fx.ws, 'policies/fence.yml'),
    [
      'grades:',
      '  base:',
      `    allow: ["${subnet}:8080"]`,
      '  release:',
      '    extends: base',
      `    deny: ["${s1.ipv4}"]`,
      '  qa:',
      '    extends: base',
      `    allow: ["${s0.ipv4}:9090"]`,
      '',
    ].join('\n'),
  );
});

const run = (...args: string[]) =>
  cli(probeRunArgs(fx.net.name, '--policy', 'policies/fence.yml', '--dns-upstream', LOOPBACK_UPSTREAM, ...args), fx.ws);

describe('a policy file, end to end', () => {
  it("release: the grade's allow reaches one server, its deny refuses the other, even when the allowlist input adds it", async () => {
    const [s0, s1] = fx.net.servers;
    const r = await run(
      '--grade',
      'release',
      '--allow',
      `${s1.ipv4}:8080`,
      '--',
      [`./probe tcp ${s0.ipv4} 8080`, `./probe tcp ${s1.ipv4} 8080`, `./probe tcp ${s0.ipv4} 9090`, 'true'].join('\n'),
    );
    assert.equal(r.code, 0, r.stderr);
    const v = verdicts(r.stdout);
    assert.equal(v.get(`tcp ${s0.ipv4}:8080`), 'ok', 'allowed by the policy');
    assert.equal(v.get(`tcp ${s0.ipv4}:9090`), 'refused', 'a port the policy does not allow');
    assert.equal(v.get(`tcp ${s1.ipv4}:8080`), 'refused', 'denied by the policy, which beats allow and the allowlist input');
  });

  it('a custom grade from the file: extends base and adds its own entry, blocking by default', async () => {
    const [s0, s1] = fx.net.servers;
    const r = await run(
      '--grade',
      'qa',
      '--',
      [`./probe tcp ${s0.ipv4} 9090`, `./probe tcp ${s1.ipv4} 8080`, `./probe tcp ${s1.ipv4} 9090`, 'true'].join('\n'),
    );
    assert.equal(r.code, 0, r.stderr);
    const v = verdicts(r.stdout);
    assert.equal(v.get(`tcp ${s0.ipv4}:9090`), 'ok');
    assert.equal(v.get(`tcp ${s1.ipv4}:8080`), 'ok');
    assert.equal(v.get(`tcp ${s1.ipv4}:9090`), 'refused');
  });

  it('a grade the file does not have fails before anything starts, listing the known ones', async () => {
    const r = await run('--grade', 'staging', '--', 'true');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown grade 'staging'\. Known grades: base, dev, qa, release \(the policy file policies\/fence\.yml/);
  });
});
