import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {
  HOLDER_IMAGE,
  LOOPBACK_UPSTREAM,
  PROBE_IMAGE,
  cli,
  dockerText,
  fixture,
  probeRunArgs,
  resourcesOf,
  startCli,
  until,
  verdicts,
} from './harness.js';

const fx = fixture({ servers: 2 });

// DNS upstream on a closed loopback port: nothing a test resolves may leave the machine.
const base = () => probeRunArgs(fx.net.name, '--dns-upstream', LOOPBACK_UPSTREAM);
const probes = (...lines: string[]) => ['--', lines.join('\n')];

describe('the fenced build step', () => {
  it('release: reaches the allowed address and port, and is refused another port, protocol, address and IPv6', async () => {
    const [s0, s1] = fx.net.servers;
    const r = await cli(
      [
        ...base(),
        '--grade',
        'release',
        '--allow',
        `${s0.ipv4}:8080`,
        ...probes(
          `probe tcp ${s0.ipv4} 8080`,
          `probe tcp ${s0.ipv4} 9090`,
          `probe udp ${s0.ipv4} 8080`,
          `probe tcp ${s1.ipv4} 8080`,
          `probe tcp ${s0.ipv6} 8080`,
          'true',
        ),
      ],
      fx.ws,
    );
    assert.equal(r.code, 0, r.stderr);
    const v = verdicts(r.stdout);
    assert.equal(v.get(`tcp ${s0.ipv4}:8080`), 'ok');
    assert.equal(v.get(`tcp ${s0.ipv4}:9090`), 'refused');
    assert.equal(v.get(`udp ${s0.ipv4}:8080`), 'refused');
    assert.equal(v.get(`tcp ${s1.ipv4}:8080`), 'refused');
    assert.equal(v.get(`tcp [${s0.ipv6}]:8080`), 'refused');
  });

  it('release: a bare address opens TCP and UDP on every port; an IPv6 entry opens IPv6 alone', async () => {
    const [s0, s1] = fx.net.servers;
    const r = await cli(
      [
        ...base(),
        '--grade',
        'release',
        '--allow',
        s0.ipv4,
        '--allow',
        `[${s1.ipv6}]:8080`,
        ...probes(
          `probe tcp ${s0.ipv4} 9090`,
          `probe udp ${s0.ipv4} 8080`,
          `probe tcp ${s1.ipv6} 8080`,
          `probe tcp ${s1.ipv4} 8080`,
          `probe tcp ${s1.ipv6} 9090`,
          'true',
        ),
      ],
      fx.ws,
    );
    assert.equal(r.code, 0, r.stderr);
    const v = verdicts(r.stdout);
    assert.equal(v.get(`tcp ${s0.ipv4}:9090`), 'ok');
    assert.equal(v.get(`udp ${s0.ipv4}:8080`), 'ok');
    assert.equal(v.get(`tcp [${s1.ipv6}]:8080`), 'ok');
    assert.equal(v.get(`tcp ${s1.ipv4}:8080`), 'refused');
    assert.equal(v.get(`tcp [${s1.ipv6}]:9090`), 'refused');
  });

  it('dev: audit mode lets everything through', async () => {
    const [s0, s1] = fx.net.servers;
    const r = await cli(
      [...base(), '--grade', 'dev', ...probes(`probe tcp ${s1.ipv4} 9090`, `probe udp ${s0.ipv4} 8080`, `probe tcp ${s0.ipv6} 8080`)],
      fx.ws,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...verdicts(r.stdout).values()], ['ok', 'ok', 'ok']);
  });

  it('the build cannot change the rules: iptables -F, ip6tables -F and ipset flush fail, and the fence holds', async () => {
    const s1 = fx.net.servers[1];
    const r = await cli(
      [
        ...base(),
        '--image',
        HOLDER_IMAGE,
        '--grade',
        'release',
        ...probes(
          'iptables -F; echo "flush4=$?"',
          'ip6tables -F; echo "flush6=$?"',
          'ipset flush; echo "ipset=$?"',
          'iptables -P OUTPUT ACCEPT; echo "policy=$?"',
          `./probe tcp ${s1.ipv4} 8080`,
          'true',
        ),
      ],
      fx.ws,
    );
    assert.equal(r.code, 0, r.stderr);
    for (const what of ['flush4', 'flush6', 'ipset', 'policy']) {
      assert.match(r.stdout, new RegExp(`^${what}=[1-9]`, 'm'), `${what} should have failed`);
    }
    assert.equal(verdicts(r.stdout).get(`tcp ${s1.ipv4}:8080`), 'refused');
  });

  it('the build cannot open a packet socket or a raw socket', async () => {
    const r = await cli([...base(), '--grade', 'dev', ...probes('probe packet; echo "packet=$?"', 'probe raw; echo "raw=$?"')], fx.ws);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^packet=1$/m);
    assert.match(r.stdout, /^raw=1$/m);
    assert.match(r.stdout, /packet socket: Operation not permitted/);
  });

  it("passes the build's exit code through", async () => {
    const r = await cli([...base(), '--grade', 'release', '--shell', 'sh -e', '--', 'false; exit 0'], fx.ws);
    assert.equal(r.code, 1, r.stderr);
    const seven = await cli([...base(), '--grade', 'release', '--', 'exit 7'], fx.ws);
    assert.equal(seven.code, 7, seven.stderr);
  });

  it('fails closed: a holder image without iptables fails the step and the build never starts', async () => {
    const r = await cli([...base(), '--grade', 'release', '--holder-image', PROBE_IMAGE, '--', 'touch started-anyway'], fx.ws);
    assert.equal(r.code, 2);
    assert.ok(
      r.stderr.includes(`Loading the fence into the holder (image ${PROBE_IMAGE}) failed: the holder image has no ipset`),
      r.stderr,
    );
    assert.match(r.stderr, /The build was not started/);
    await assert.rejects(fs.access(path.join(fx.ws, 'started-anyway')));
    assert.deepEqual(await resourcesOf(r.pid), []);
  });

  it('refuses docker options that would weaken the fence, before creating anything', async () => {
    const r = await cli([...base(), '--grade', 'release', '--docker-options=--cap-add NET_ADMIN', '--', 'true'], fx.ws);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /docker-options.*NET_ADMIN/);
    assert.deepEqual(await resourcesOf(r.pid), []);
  });

  it("on Docker's default bridge, guards the bridge's other addresses; removes its containers after success and after failure", async () => {
    const report = path.join(fx.ws, `report-bridge-${Date.now()}.json`);
    const ok = await cli(
      [
        'run',
        '--pull',
        'never',
        '--image',
        PROBE_IMAGE,
        '--grade',
        'release',
        '--dns-upstream',
        LOOPBACK_UPSTREAM,
        '--report',
        report,
        '--',
        'true',
      ],
      fx.ws,
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(await resourcesOf(ok.pid), []);
    // The rules as loaded and read back: every subnet of the default bridge is guarded like the gateway.
    const subnets = (await dockerText(['network', 'inspect', 'bridge', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{end}}']))
      .split(' ')
      .filter(Boolean);
    const rules = (JSON.parse(await fs.readFile(report, 'utf8')) as { rules: { iptables: string; ip6tables: string } }).rules;
    for (const subnet of subnets)
      assert.match(`${rules.iptables}${rules.ip6tables}`, new RegExp(`^-A OUTPUT -d ${subnet.replaceAll('.', '\\.')} -j BF-GUARD$`, 'm'));
    assert.ok(subnets.length > 0);
    const failed = await cli([...base(), '--grade', 'release', '--', 'exit 3'], fx.ws);
    assert.equal(failed.code, 3);
    assert.deepEqual(await resourcesOf(failed.pid), []);
  });

  it('SIGTERM stops the build and removes everything within 10 seconds', async () => {
    const { child, done } = startCli([...base(), '--grade', 'release', '--', 'echo started; sleep 60'], fx.ws);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await until(() => out.includes('started'), 30_000);
    const t0 = Date.now();
    child.kill('SIGTERM');
    const r = await done;
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(r.code, 143);
    assert.ok(seconds < 10, `took ${seconds} s`);
    assert.deepEqual(await resourcesOf(r.pid), []);
  });

  it('the holder removed during the build stops the build and fails the step, leaving nothing', async () => {
    const { child, done } = startCli([...base(), '--grade', 'release', '--', 'echo started; sleep 60'], fx.ws);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await until(() => out.includes('started'), 30_000);
    const t0 = Date.now();
    const holder = (await resourcesOf(child.pid!)).find((n) => n.endsWith('-holder'));
    assert.ok(holder);
    await dockerText(['rm', '--force', holder]);
    const r = await done;
    assert.equal(r.code, 2);
    assert.match(r.stderr, /stopped during the build/);
    assert.ok(Date.now() - t0 < 10_000);
    assert.deepEqual(await resourcesOf(r.pid), []);
  });

  it('two runs at once each see only their own rules', async () => {
    const [s0, s1] = fx.net.servers;
    const both = (mine: string) => probes(`sleep 1`, `probe tcp ${s0.ipv4} 8080`, `probe tcp ${s1.ipv4} 8080`, `echo ${mine}`);
    const [a, b] = await Promise.all([
      cli([...base(), '--grade', 'release', '--allow', `${s0.ipv4}:8080`, ...both('a')], fx.ws),
      cli([...base(), '--grade', 'release', '--allow', `${s1.ipv4}:8080`, ...both('b')], fx.ws),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual([...verdicts(a.stdout).values()], ['ok', 'refused']);
    assert.deepEqual([...verdicts(b.stdout).values()], ['refused', 'ok']);
  });
});
