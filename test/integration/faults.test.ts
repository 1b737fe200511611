// Fault injection (issue 6): what the step does when something breaks. Rules that do not load,
// holder images without the tools, an engine that does not answer, images that do not exist,
// a cancelled runner, a killed one, a fault in buildfence's own process during the build. Each
// time: a clear error, a bounded exit, nothing left. (The holder removed during the build is in
// fence.test.ts.)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import {
  LOOPBACK_UPSTREAM,
  PROBE_IMAGE,
  cli,
  dockerText,
  fixture,
  probeRunArgs,
  resourcesOf,
  startCli,
  startCliUntil,
  until,
  type CliResult,
} from './harness.js';
import type { EvidenceRecord } from '../../src/report/record.js';

const run = promisify(execFile);
const fx = fixture({ servers: 1 });
const tag = randomBytes(3).toString('hex');

// Holder images that look right from the outside: sh, sleep and the tools by name, each one
// a script, and a reader that says it listens. Assembled with `docker import`, like every test image.
const OK = '#!/bin/sh\nexit 0\n';
const READER = '#!/bin/sh\necho "listening on nflog (a stub)" >&2\nexec sleep 2147483647\n';
const HOLDERS = {
  brokenIpset: {
    ipset: '#!/bin/sh\necho "ipset v7.17: Kernel error received: set type not supported (broken on purpose)" >&2\nexit 1\n',
    'iptables-restore': OK,
    'ip6tables-restore': OK,
    'iptables-save': OK,
    'ip6tables-save': OK,
  },
  // Every tool "succeeds" and loads nothing: only the read-back can tell.
  silent: { ipset: OK, 'iptables-restore': OK, 'ip6tables-restore': OK, 'iptables-save': OK, 'ip6tables-save': OK },
  noIptables: { ipset: OK },
  noIpset: { 'iptables-restore': OK, 'ip6tables-restore': OK, 'iptables-save': OK, 'ip6tables-save': OK },
} as const;
type HolderKind = keyof typeof HOLDERS;
const holderTag = (kind: HolderKind) => `buildfence-test/holder-${kind.toLowerCase()}:${tag}`;

async function importHolder(kind: HolderKind, busybox: string): Promise<void> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'bftest-holder-'));
  try {
    for (const dir of ['bin', 'usr/sbin', 'usr/lib/buildfence', 'etc', 'tmp']) await fs.mkdir(path.join(root, dir), { recursive: true });
    await fs.copyFile(busybox, path.join(root, 'bin/busybox'));
    await fs.chmod(path.join(root, 'bin/busybox'), 0o755);
    for (const applet of ['sh', 'sleep', 'cat', 'echo', 'mkfifo', 'cp']) await fs.symlink('busybox', path.join(root, 'bin', applet));
    // The build's seccomp filter program, which the holder copies beside the build's script.
    await fs.writeFile(path.join(root, 'usr/lib/buildfence/seccomp-exec'), OK, { mode: 0o755 });
    for (const [tool, text] of Object.entries({ ...HOLDERS[kind], tcpdump: READER })) {
      await fs.writeFile(path.join(root, 'usr/sbin', tool), text, { mode: 0o755 });
    }
    const tarball = `${root}.tar`;
    await run('tar', ['-C', root, '--numeric-owner', '--owner=0', '--group=0', '-cf', tarball, '.']);
    await run('docker', ['import', '--change', 'ENV PATH=/usr/sbin:/bin', '--change', 'LABEL buildfence-test=1', tarball, holderTag(kind)]);
    await fs.rm(tarball, { force: true });
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

before(async () => {
  await fx.ready;
  // The static busybox of the probe image.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bftest-busybox-'));
  const name = `bftest-busybox-${tag}`;
  await dockerText(['create', '--name', name, PROBE_IMAGE, 'true']);
  try {
    await run('docker', ['cp', '--follow-link', `${name}:/bin/busybox`, path.join(dir, 'busybox')]);
  } finally {
    await run('docker', ['rm', name]).catch(() => undefined);
  }
  await Promise.all((Object.keys(HOLDERS) as HolderKind[]).map((k) => importHolder(k, path.join(dir, 'busybox'))));
  await fs.rm(dir, { recursive: true, force: true });
});

after(async () => {
  for (const k of Object.keys(HOLDERS) as HolderKind[]) await run('docker', ['image', 'rm', holderTag(k)]).catch(() => undefined);
});

const base = (...extra: string[]) => probeRunArgs(undefined, '--grade', 'release', '--dns-upstream', LOOPBACK_UPSTREAM, ...extra);

/** Runs the CLI and kills it if it has not ended after `ms`: nothing may hang. */
async function bounded(args: string[], ms: number, env: NodeJS.ProcessEnv = {}): Promise<CliResult & { seconds: number }> {
  const t0 = Date.now();
  const { child, done } = startCli(args, fx.ws, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const r = await done;
  clearTimeout(timer);
  const seconds = (Date.now() - t0) / 1000;
  assert.ok(r.signal !== 'SIGKILL', `the CLI had not ended after ${ms} ms:\n${r.stderr}`);
  return { ...r, seconds };
}

async function leftoversOfRun(runId: string): Promise<string[]> {
  return (await dockerText(['ps', '--all', '--filter', `label=buildfence.run=${runId}`, '--format', '{{.Names}}']))
    .split('\n')
    .filter(Boolean);
}

const marker = (name: string) => path.join(fx.ws, name);

describe('faults', { timeout: 240_000 }, () => {
  it('rules that fail to load, or load as something else, fail the step with the reason; the build never starts', async () => {
    const cases: Array<[HolderKind, RegExp]> = [
      [
        'brokenIpset',
        /Loading the fence into the holder \(image [^)]*holder-brokenipset[^)]*\) failed: ipset v7\.17: Kernel error received: set type not supported \(broken on purpose\)\. The build was not started\./,
      ],
      ['silent', /The rules read back from the holder differ from the rules loaded, so the build was not started:\n {2}\S/],
      ['noIptables', /failed: the holder image has no iptables-restore\. The build was not started\./],
      ['noIpset', /failed: the holder image has no ipset\. The build was not started\./],
    ];
    const results = await Promise.all(
      cases.map(([kind]) =>
        bounded([...base('--network', fx.net.name, '--holder-image', holderTag(kind)), '--', `touch started-${kind}`], 60_000),
      ),
    );
    for (const [i, [kind, reason]] of cases.entries()) {
      const r = results[i];
      assert.equal(r.code, 2, `${kind}: ${r.stderr}`);
      assert.match(r.stderr, reason, kind);
      assert.doesNotMatch(r.stderr, /Running the build/, kind);
      await assert.rejects(fs.access(marker(`started-${kind}`)), `${kind}: the build ran`);
      assert.deepEqual(await resourcesOf(r.pid), [], kind);
    }
  });

  it('the Docker engine unreachable: a clear error, exit 2, quickly; no docker CLI: the run needs none', async () => {
    const unreachable = await bounded([...base(), '--', 'true'], 30_000, { DOCKER_HOST: 'unix:///nonexistent.sock' });
    assert.equal(unreachable.code, 2, unreachable.stderr);
    assert.match(
      unreachable.stderr,
      /^buildfence: Cannot connect to the Docker engine at unix:\/\/\/nonexistent\.sock .*Start it, or check DOCKER_HOST\./m,
    );
    // Generous: a loaded 2-core machine takes seconds just to start node; the point is that nothing hangs.
    assert.ok(unreachable.seconds < 20, `took ${unreachable.seconds} s`);
    assert.deepEqual(await resourcesOf(unreachable.pid), []);

    // The build is created through the Engine API as the holder is, its options read as docker reads them.
    const noCli = await bounded(
      [...base(), '--docker-options=--env=FROM_OPTIONS=1 --read-only', '--', 'test "$FROM_OPTIONS" = 1 && ! touch /x'],
      30_000,
      {
        PATH: '/nonexistent',
      },
    );
    assert.equal(noCli.code, 0, noCli.stderr);
    assert.deepEqual(await resourcesOf(noCli.pid), []);
  });

  it('an engine that accepts connections and never answers: the step fails in bounded time, and SIGTERM still ends it', async () => {
    // A "daemon" on loopback that accepts and says nothing, like a hung dockerd.
    const sockets = new Set<import('node:net').Socket>();
    const server = (await import('node:net')).createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as import('node:net').AddressInfo).port;
    try {
      const t0 = Date.now();
      const { child, done } = startCli([...base(), '--', 'true'], fx.ws, { DOCKER_HOST: `tcp://127.0.0.1:${port}` });
      let ended = false;
      void done.then(() => (ended = true));
      await until(() => ended, 15_000).catch(() => undefined);
      const hung = !ended;
      if (hung) child.kill('SIGTERM');
      await until(() => ended, 5_000).catch(() => child.kill('SIGKILL'));
      const r = await done;
      assert.ok(
        !hung,
        `no answer from the engine: still running after 15 s; after SIGTERM it ${r.signal === 'SIGKILL' ? 'had to be killed (SIGKILL)' : `exited ${r.code}`}`,
      );
      assert.equal(r.code, 2, r.stderr);
      assert.ok(Date.now() - t0 < 15_000);
    } finally {
      // The docker commands the CLI left behind end when their connections close.
      for (const s of sockets) s.destroy();
      await new Promise((ok) => server.close(ok));
    }
  });

  it('an image that does not exist (--pull never): a clear error naming it, and nothing left', async () => {
    const missing = `buildfence-test/does-not-exist:${tag}`;
    const [build, holder] = await Promise.all([
      bounded([...base('--network', fx.net.name), '--image', missing, '--', 'true'], 60_000),
      bounded([...base('--network', fx.net.name), '--holder-image', missing, '--', 'touch started-missing-holder'], 60_000),
    ]);
    assert.equal(build.code, 2, build.stderr);
    assert.match(
      build.stderr,
      new RegExp(`^buildfence: Cannot create the build container from image ${missing}: .*No such image: ${missing}`, 'm'),
    );
    assert.deepEqual(await resourcesOf(build.pid), []);
    assert.equal(holder.code, 2, holder.stderr);
    assert.match(
      holder.stderr,
      new RegExp(`^buildfence: Holder image ${missing} is not on the Docker engine and --pull is 'never'\\. Pull or build it first`, 'm'),
    );
    await assert.rejects(fs.access(marker('started-missing-holder')));
    assert.deepEqual(await resourcesOf(holder.pid), []);
  });

  it('the runner cancelled (SIGINT, then SIGTERM): the build stops and everything is removed within 10 seconds', async (t) => {
    const { child, done } = await startCliUntil([...base(), '--', 'echo started; sleep 120'], fx.ws, /^started$/m);
    const t0 = Date.now();
    const before = await resourcesOf(child.pid!);
    assert.equal(before.length, 2, `holder and build while running: ${before.join(' ')}`);
    child.kill('SIGINT');
    const term = setTimeout(() => child.kill('SIGTERM'), 500);
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const r = await done;
    clearTimeout(term);
    clearTimeout(kill);
    const seconds = (Date.now() - t0) / 1000;
    assert.ok([130, 143].includes(r.code ?? -1), `exit ${r.code} ${r.signal}\n${r.stderr}`);
    assert.match(r.stderr, /Received SIGINT: stopping the build and removing the fence/);
    assert.ok(seconds < 10, `took ${seconds} s`);
    assert.deepEqual(await resourcesOf(r.pid), []);
    t.diagnostic(`exit ${r.code}, ${seconds.toFixed(1)} s after SIGINT`);
  });

  it("a killed run's leftovers are swept by the next run, which says so", async (t) => {
    // Any run on this engine sweeps what dead runs left, other people's test runs too: when one
    // of them got there first, the scenario is tried again (at most three times).
    for (let attempt = 1; ; attempt++) {
      const { child, done } = await startCliUntil([...base(), '--', 'echo started; sleep 120'], fx.ws, /^started$/m);
      const names = await resourcesOf(child.pid!);
      const runId = /^buildfence-([0-9a-f]+)/.exec(names[0] ?? '')?.[1];
      assert.ok(runId, `no resources of the run: ${names.join(' ')}`);
      child.kill('SIGKILL');
      await done;
      // Right away, so that no other run on this engine sweeps them first.
      const next = cli([...base(), '--', 'true'], fx.ws);
      const left = await leftoversOfRun(runId);
      const r = await next;
      assert.equal(r.code, 0, r.stderr);
      assert.ok(left.length >= 2, `the killed run should have left its holder and build: ${left.join(' ')}`);
      const said = new RegExp(`Removing \\d+ resource\\(s\\) left by ended run\\(s\\) [0-9a-f, ]*${runId}`).test(r.stderr);
      assert.deepEqual(await leftoversOfRun(runId), []);
      assert.deepEqual(await resourcesOf(r.pid), []);
      if (said) return;
      t.diagnostic(`attempt ${attempt}: another run swept ${runId} first`);
      assert.ok(attempt < 3, `the next run never said it removed the leftovers:\n${r.stderr}`);
    }
  });

  it('cancelled while the set-up creates the holder: nothing left', async () => {
    // The engine behind a proxy that holds every container create for 2 s, so that the signal
    // lands while the request is in flight, every time.
    const shim = await fs.mkdtemp(path.join(os.tmpdir(), 'bftest-shim-'));
    const net = await import('node:net');
    const open = new Set<import('node:net').Socket>();
    const proxy = net.createServer((client) => {
      const engine = net.connect('/var/run/docker.sock');
      // An attach outlives the CLI until the engine ends it: closed with the proxy, so that
      // nothing keeps this test's process alive.
      for (const s of [client, engine]) {
        open.add(s);
        s.on('close', () => open.delete(s));
      }
      client.on('error', () => engine.destroy());
      engine.on('error', () => client.destroy());
      engine.pipe(client);
      client.on('data', (chunk: Buffer) => {
        if (!/^POST \S*\/containers\/create/.test(chunk.toString('latin1'))) return void engine.write(chunk);
        client.pause();
        void fs.writeFile(path.join(shim, 'in-flight'), '');
        setTimeout(() => {
          engine.write(chunk);
          client.resume();
        }, 2000);
      });
      client.on('end', () => engine.end());
    });
    const socket = path.join(shim, 'engine.sock');
    await new Promise<void>((ok) => proxy.listen(socket, ok));
    let r: CliResult | undefined;
    try {
      const { child, done } = startCli([...base(), '--', 'true'], fx.ws, { DOCKER_HOST: `unix://${socket}` });
      const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await until(
        () =>
          fs.access(path.join(shim, 'in-flight')).then(
            () => true,
            () => false,
          ),
        30_000,
      );
      child.kill('SIGINT');
      r = await done;
      clearTimeout(kill);
      // The command in flight finishes after the CLI has ended.
      await new Promise((ok) => setTimeout(ok, 4000));
      const left = await resourcesOf(r.pid);
      assert.deepEqual(left, [], `left after a SIGINT during set-up (exit ${r.code}):\n${r.stderr}`);
    } finally {
      // Leave the engine clean whatever the verdict.
      if (r)
        for (const n of await resourcesOf(r.pid))
          await run('docker', ['rm', '--force', n])
            .catch(() => run('docker', ['network', 'rm', n]))
            .catch(() => undefined);
      for (const s of open) s.destroy();
      await new Promise((ok) => proxy.close(ok));
      await fs.rm(shim, { recursive: true, force: true });
    }
  });

  for (const kind of ['exception', 'rejection'] as const) {
    it(`an uncaught ${kind} in buildfence's process during the build: the build is stopped, the report keeps what was recorded, nothing left, exit 2`, async () => {
      const [s0] = fx.net.servers;
      const report = path.join(fx.ws, `fault-${kind}.json`);
      const inject = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), 'inject-fault.mjs')).href;
      const t0 = Date.now();
      const { child, done } = await startCliUntil(
        [...base('--network', fx.net.name, '--report', report), '--', `probe tcp ${s0.ipv4} 8080; echo fault-now; sleep 120`],
        fx.ws,
        'fault-now',
        { env: { NODE_OPTIONS: `--import ${inject}`, BUILDFENCE_TEST_FAULT: kind } },
      );
      const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.kill('SIGUSR2');
      const r = await done;
      clearTimeout(kill);
      try {
        assert.equal(r.code, 2, r.stderr);
        assert.ok(Date.now() - t0 < 60_000, 'the build was not stopped');
        const reason = `buildfence failed in its own process: injected ${kind}. The build was stopped and the evidence recorded until then is kept.`;
        assert.ok(r.stderr.includes(`buildfence: ${reason}`), r.stderr);
        const record = JSON.parse(await fs.readFile(report, 'utf8')) as EvidenceRecord;
        assert.equal(record.failure, reason);
        assert.notEqual(record.exitCode, 0);
        assert.deepEqual(
          record.denied.map((d) => `${d.protocol} ${d.address}:${d.port}`),
          [`tcp ${s0.ipv4}:8080`],
        );
        assert.deepEqual(await resourcesOf(r.pid), []);
      } finally {
        for (const n of await resourcesOf(r.pid)) await run('docker', ['rm', '--force', n]).catch(() => undefined);
      }
    });
  }
});
