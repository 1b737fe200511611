// runtime host against the real engine: the build runs on this machine with its own files and
// tools, in the holder's network namespace. A stand-in runner (its installation with _diag and the
// node that runs the action, a work directory with _actions, _temp and its workflow command files,
// a tool cache with a node put on PATH the way setup-node does) lives under a temporary directory;
// the CLI runs with that node and the runner's variables. Every probe targets a probe server on
// the fixture's --internal network, or loopback.
//
// This machine runs as root, so the first tests are a root runner's (the build as uid 65533);
// the last one makes a runner user of GitHub's kind (the docker group as its primary group,
// passwordless sudo) and runs the CLI as that user: npm ci on the runner, through the fence.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { AGENT_IMAGE } from '../../src/run/defaults.js';
import { ROOT, dockerText, fixture, resourcesOf, truthTable, until, type CliResult, type TruthRow } from './harness.js';

const run = promisify(execFile);
const fx = fixture({ servers: 2, upstream: true });
const tag = randomBytes(3).toString('hex');

/** The stand-in runner's paths. */
interface FakeRunner {
  root: string;
  runner: string;
  node: string;
  work: string;
  workspace: string;
  temp: string;
  toolNode: string;
  toolCache: string;
  home: string;
  setEnv: string;
  addPath: string;
  event: string;
  actions: string;
  env: NodeJS.ProcessEnv;
}

/** A runner's layout under a temporary directory, owned by `owner` (the runner user) when given. */
async function fakeRunner(owner?: { uid: number; gid: number; home: string }): Promise<FakeRunner> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'bftest-runner-'));
  await fs.chmod(root, 0o755);
  const runner = path.join(root, 'runner');
  const work = path.join(root, 'work');
  const temp = path.join(work, '_temp');
  const toolCache = path.join(root, 'toolcache');
  const toolBin = path.join(toolCache, 'node', '20.0.0', 'x64', 'bin');
  const f: FakeRunner = {
    root,
    runner,
    node: path.join(runner, 'externals', 'node20', 'bin', 'node'),
    work,
    workspace: path.join(work, 'app', 'app'),
    temp,
    toolNode: path.join(toolBin, 'node'),
    toolCache,
    home: owner?.home ?? path.join(root, 'home'),
    setEnv: path.join(temp, '_runner_file_commands', `set_env_${tag}`),
    addPath: path.join(temp, '_runner_file_commands', `add_path_${tag}`),
    event: path.join(temp, '_github_workflow', 'event.json'),
    actions: path.join(work, '_actions', 'actions', 'checkout', 'v4'),
    env: {},
  };
  for (const d of [
    path.dirname(f.node),
    path.join(runner, 'bin'),
    path.join(runner, '_diag'),
    f.workspace,
    f.actions,
    path.dirname(f.setEnv),
    path.dirname(f.event),
    toolBin,
    f.home,
  ])
    await fs.mkdir(d, { recursive: true });
  // The runner's node runs the action: a link to this node, so the CLI below runs as a runner's would.
  await fs.link(process.execPath, f.node).catch(() => fs.copyFile(process.execPath, f.node));
  await fs.writeFile(path.join(runner, 'bin', 'Runner.Worker'), '#!/bin/sh\n', { mode: 0o755 });
  await fs.writeFile(path.join(runner, '_diag', 'Worker_1.log'), `diag-secret-${tag}\n`);
  await fs.writeFile(path.join(runner, '.credentials_rsaparams'), `runner-key-${tag}\n`, { mode: 0o600 });
  await fs.writeFile(path.join(f.actions, 'index.js'), `// later step ${tag}\n`);
  await fs.writeFile(f.setEnv, '');
  await fs.writeFile(f.addPath, '');
  await fs.writeFile(f.event, '{"action":"opened"}\n');
  // setup-node's layout: TOOL_CACHE/node/VERSION/ARCH/bin with node and npm, that bin first on PATH.
  await fs.copyFile(process.execPath, f.toolNode);
  // npm's own script, wherever this machine's npm is (Debian's /usr/bin, a hosted runner's /usr/local/bin).
  const npm = (await run('sh', ['-c', 'command -v npm'])).stdout.trim();
  await fs.symlink(await fs.realpath(npm), path.join(toolBin, 'npm'));
  await fs.copyFile(path.join(fx.ws, 'probe'), path.join(f.workspace, 'probe'));
  if (owner) {
    for (const p of [work, toolCache, f.home]) await run('chown', ['-R', `${owner.uid}:${owner.gid}`, p]);
    await run('chown', [`${owner.uid}:${owner.gid}`, runner, path.join(runner, '_diag'), path.join(runner, '_diag', 'Worker_1.log')]);
  }
  f.env = {
    PATH: `${toolBin}:${process.env.PATH}`,
    HOME: f.home,
    RUNNER_TEMP: temp,
    RUNNER_WORKSPACE: path.dirname(f.workspace),
    RUNNER_TOOL_CACHE: toolCache,
    GITHUB_WORKSPACE: f.workspace,
    GITHUB_ENV: f.setEnv,
    GITHUB_PATH: f.addPath,
    GITHUB_EVENT_PATH: f.event,
    GITHUB_ACTIONS: 'true',
  };
  return f;
}

/** The CLI, run with the stand-in runner's node, in its workspace, as `user` when given. */
function hostCli(
  f: FakeRunner,
  args: string[],
  opts: { user?: { uid: number; gid: number }; env?: NodeJS.ProcessEnv } = {},
): { child: ReturnType<typeof spawn>; done: Promise<CliResult> } {
  // `sh` without -e: a probe that fails is a verdict, not the end of the script.
  const command = [
    f.node,
    '--import',
    import.meta.resolve('tsx'),
    path.join(ROOT, 'src/cli.ts'),
    'run',
    '--runtime',
    'host',
    '--shell',
    'sh',
    ...args,
  ];
  const [file, ...argv] = opts.user
    ? ['setpriv', `--reuid=${opts.user.uid}`, `--regid=${opts.user.gid}`, '--init-groups', '--', ...command]
    : command;
  const env: NodeJS.ProcessEnv = { ...process.env, ...f.env, ...opts.env, NODE_OPTIONS: opts.env?.NODE_OPTIONS ?? '' };
  // Not a runner's: `npm run` gives its children npm_config_cache (root's ~/.npm) and the like.
  for (const k of Object.keys(env)) if (/^(INPUT_|GITHUB_OUTPUT|GITHUB_STATE|GITHUB_STEP_SUMMARY|npm_)/i.test(k)) delete env[k];
  const child = spawn(file, argv, { cwd: f.workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, pid: child.pid! })),
  );
  return { child, done };
}

// ---- probes: `c KEY 'command'` prints "@@ KEY ok|fails DETAIL" ----

interface Probe {
  probe: string;
  command: string;
  expect: 'ok' | 'fails';
}
const ok = (probe: string, command: string): Probe => ({ probe, command, expect: 'ok' });
const fails = (probe: string, command: string): Probe => ({ probe, command, expect: 'fails' });

function sq(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function probeScript(probes: Probe[], before = '', afterwards = ''): string {
  return [
    'export PATH="$PWD:$PATH"',
    "export ns=$(awk '/^nameserver/{print $2; exit}' /etc/resolv.conf)",
    'c() { k=$1; o=$(sh -c "$2" 2>&1); r=$?; if [ $r = 0 ]; then w=ok; else w=fails; fi; printf "@@ %s %s %s\\n" "$k" "$w" "$(printf %s "rc=$r $o" | tr "\\n" " " | cut -c1-300)"; }',
    before,
    ...probes.map((p, i) => `c p${i} ${sq(p.command)}`),
    afterwards,
    'true',
  ].join('\n');
}

function rowsOf(probes: Probe[], stdout: string, caseName: string): Array<TruthRow & { detail: string }> {
  const seen = new Map<string, { verdict: string; detail: string }>();
  for (const l of stdout.split('\n')) {
    const m = /^@@ (p\d+) (\S+) ?(.*)$/.exec(l);
    if (m) seen.set(m[1], { verdict: m[2], detail: m[3] });
  }
  return probes.map((p, i) => ({
    case: caseName,
    probe: p.probe,
    expect: p.expect,
    observed: seen.get(`p${i}`)?.verdict ?? 'missing',
    detail: seen.get(`p${i}`)?.detail ?? '',
  }));
}

function assertRows(rows: Array<TruthRow & { detail: string }>, r: CliResult): void {
  const wrong = rows.filter((x) => x.expect !== x.observed);
  if (wrong.length === 0) return;
  assert.fail(
    `${wrong.length} of ${rows.length} verdicts differ (✗):\n${truthTable(rows)}\n\n` +
      wrong.map((x) => `  ${x.probe}: ${x.detail}`).join('\n') +
      `\n\nCLI stderr:\n${r.stderr}`,
  );
}

/** Processes on this machine whose command line holds `marker`. */
async function processesWith(marker: string): Promise<string[]> {
  const { stdout } = await run('ps', ['-eo', 'pid=,args=']);
  return stdout.split('\n').filter((l) => l.includes(marker) && !l.includes('ps -eo'));
}

/** A release build on the fixture's network, names resolved by its upstream. */
const release = () => ['--grade', 'release', '--network', fx.net.name, '--dns-upstream', fx.upstream.address];

let a: { ipv4: string; ipv6: string };
let b: { ipv4: string; ipv6: string };
const removers: Array<() => Promise<unknown>> = [];

before(async () => {
  await fx.ready;
  [a, b] = fx.net.servers;
});
after(async () => {
  for (const r of removers.reverse()) await r().catch(() => undefined);
});

describe('runtime host, on a runner that runs as root', { timeout: 240_000 }, () => {
  it("runs the build with the runner's tools behind the fence, and every way out it tries fails", async () => {
    const f = await fakeRunner();
    removers.push(() => fs.rm(f.root, { recursive: true, force: true }));
    // A setuid-root program the build can reach (the tool cache is not handed to the build).
    const suid = path.join(f.toolCache, 'suid-id');
    await fs.copyFile('/usr/bin/id', suid);
    await fs.chmod(suid, 0o4755);
    await fs.symlink('/var/run/docker.sock', path.join(f.workspace, 'docker.sock'));
    await fs.symlink('/run', path.join(f.workspace, 'run-link'));
    const hostTmpFile = path.join(os.tmpdir(), `bftest-host-tmp-${tag}`);
    await fs.writeFile(hostTmpFile, '');
    removers.push(() => fs.rm(hostTmpFile, { force: true }));
    // A process of the runner's that the build must not see.
    const outside = spawn('sleep', [`4242.${parseInt(tag, 16)}`], { stdio: 'ignore' });
    removers.push(async () => outside.kill());
    const marker = `${parseInt(tag, 16) % 1000}`;
    const exfil = `${randomBytes(20).toString('hex')}.exfil-${tag}.test`;
    const nodeConnect = (host: string) =>
      `node -e 'const s=require("net").connect(8080,"${host}",()=>s.write("ping\\n"));s.on("data",d=>{console.log(String(d).trim());process.exit(0)});s.on("error",e=>{console.log(e.code);process.exit(1)});setTimeout(()=>process.exit(2),5000)'`;
    const probes: Probe[] = [
      ok('runs as uid and gid 65533, no other group', '[ "$(id -u):$(id -g):$(id -G)" = 65533:65533:65533 ]'),
      ok('no capability in any set', '! grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb):" /proc/self/status | grep -v "0000000000000000"'),
      ok(
        'no_new_privs, two seccomp filters (the engine default and buildfence)',
        'grep -q "^NoNewPrivs:.1" /proc/self/status && grep -q "^Seccomp_filters:.2" /proc/self/status',
      ),
      ok(
        "node is the tool cache's, from PATH",
        `[ "$(command -v node)" = ${f.toolNode} ] && node -e 'process.exit(process.execPath === "${f.toolNode}" ? 0 : 1)'`,
      ),
      ok('node reaches the allowed server', nodeConnect(a.ipv4)),
      fails('node to another server', nodeConnect(b.ipv4)),
      ok('tcp allowed a:8080', `probe tcp ${a.ipv4} 8080`),
      fails('tcp other port a:9090', `probe tcp ${a.ipv4} 9090`),
      fails('tcp other host b:8080', `probe tcp ${b.ipv4} 8080`),
      ok('tcp allowed [a]:8080', `probe tcp ${a.ipv6} 8080`),
      fails('tcp other host [b]:8080', `probe tcp ${b.ipv6} 8080`),
      fails('udp a:8080 (tcp entry)', `probe udp ${a.ipv4} 8080`),
      ok('unlisted name: NXDOMAIN from buildfence', `probe dns "$ns" ${exfil} | grep -q rcode=3`),
      ok('the same sent to b:53: buildfence answers', `probe dns ${b.ipv4} x.${exfil} | grep -q rcode=3`),
      fails('DNS over IPv6 to [b]:53', `probe dns ${b.ipv6} y.${exfil}`),
      fails('sudo', 'sudo -n true'),
      fails('a setuid-root program', `[ "$(${suid} -u)" = 0 ]`),
      fails('iptables -F', 'iptables -F'),
      fails('ip6tables -F', 'ip6tables -F'),
      fails('ipset flush', 'ipset flush'),
      fails('unshare -n', 'unshare -n true'),
      fails('unshare -r -n, then a probe', `unshare -r -n probe tcp ${b.ipv4} 8080`),
      fails('nsenter into pid 1', 'nsenter -t 1 -n true'),
      fails('a packet socket', 'probe packet'),
      fails('a raw socket', 'probe raw'),
      fails('the Docker socket', 'curl -sf --unix-socket /var/run/docker.sock http://d/_ping'),
      fails('/run/docker.sock', 'curl -sf --unix-socket /run/docker.sock http://d/_ping'),
      fails('the socket through a link in the workspace', 'curl -sf --unix-socket ./docker.sock http://d/_ping'),
      fails('the socket through a link to /run', 'curl -sf --unix-socket ./run-link/docker.sock http://d/_ping'),
      fails('the socket through /proc/1/root', 'curl -sf --unix-socket /proc/1/root/var/run/docker.sock http://d/_ping'),
      fails("containerd's socket", 'curl -sf --unix-socket /run/containerd/containerd.sock http://d/'),
      ok('/run is empty', '[ -z "$(ls -A /run)" ]'),
      fails("the runner's processes through /proc/PID/root", `ls /proc/${process.pid}/root/`),
      fails('any /proc/*/root reaching the socket', 'ls /proc/[0-9]*/root/var/run/docker.sock'),
      ok(
        'ps sees the build only',
        `! ps -eo args | grep -q -e '[4]242' -e '[d]ockerd' -e '[c]ontainerd' -e '[t]sx' && [ "$(ps -o args= -p 1)" != "" ]`,
      ),
      ok('GITHUB_ENV and GITHUB_PATH are unset', '[ -z "${GITHUB_ENV-}${GITHUB_PATH-}${GITHUB_OUTPUT-}" ]'),
      fails('writing the GITHUB_ENV file', `echo LEAK=1 >> ${f.setEnv}`),
      fails('writing the GITHUB_PATH file', `echo /evil >> ${f.addPath}`),
      ok("a later step's action is readable", `grep -q "later step" ${f.actions}/index.js`),
      fails("changing a later step's action", `echo "evil()" >> ${f.actions}/index.js`),
      fails('adding to _actions', `touch ${path.dirname(path.dirname(f.actions))}/evil`),
      fails("the runner's _diag", `cat ${f.runner}/_diag/Worker_1.log`),
      fails("the runner's credentials", `cat ${f.runner}/.credentials_rsaparams`),
      fails("the runner's binaries", `ls ${f.runner}/bin/Runner.Worker`),
      ok('the event payload is readable', `grep -q opened ${f.event}`),
      fails('the event payload is not writable', `echo x >> ${f.event}`),
      ok('the workspace is writable', 'touch ./made-by-build && mkdir -p ./dir/sub'),
      ok('HOME is writable', 'touch "$HOME/.made-by-build"'),
      ok("a private /tmp, none of the runner's", `touch /tmp/t-${tag} && [ ! -e ${hostTmpFile} ]`),
      fails('/usr/local', 'touch /usr/local/bf-x'),
      fails('/etc', 'touch /etc/bf-x'),
      fails('/var/tmp', 'touch /var/tmp/bf-x'),
      fails('/var/lib/docker', 'ls /var/lib/docker/containers'),
    ];
    const script = probeScript(
      probes,
      '',
      [
        // Left behind: a setuid copy in the workspace, and processes that try to outlive the step.
        'cp "$(command -v id)" ./left-suid && chmod 4755 ./left-suid',
        `setsid sh -c 'exec sleep 3331.${marker}' </dev/null >/dev/null 2>&1 &`,
        `nohup sleep 3332.${marker} </dev/null >/dev/null 2>&1 &`,
        'sleep 0.2',
      ].join('\n'),
    );
    const report = path.join(f.root, 'report.json');
    const r = await hostCli(f, [...release(), '--allow', `${a.ipv4}:8080`, '--allow', `[${a.ipv6}]:8080`, '--report', report, '--', script])
      .done;
    assert.equal(r.code, 0, r.stderr);
    assertRows(rowsOf(probes, r.stdout, 'root runner'), r);
    // Outside the build: what it could not change, what it left, what it may not outlive.
    assert.equal(await fs.readFile(f.setEnv, 'utf8'), '');
    assert.equal(await fs.readFile(f.addPath, 'utf8'), '');
    assert.equal(await fs.readFile(path.join(f.actions, 'index.js'), 'utf8'), `// later step ${tag}\n`);
    assert.ok(!fx.upstream.asked(exfil) && !fx.upstream.asked(`x.${exfil}`), 'an unlisted name reached the upstream');
    const made = await fs.stat(path.join(f.workspace, 'made-by-build'));
    assert.deepEqual([made.uid, made.gid], [0, 0], 'what the build made is given back to root');
    const dir = await fs.stat(path.join(f.workspace, 'dir', 'sub'));
    assert.deepEqual([dir.uid, dir.gid], [0, 0]);
    const left = await fs.stat(path.join(f.workspace, 'left-suid'));
    assert.equal(left.uid, 0);
    assert.equal(left.mode & 0o6000, 0, 'a setuid program the build left must not become root setuid');
    assert.deepEqual((await fs.stat(f.workspace)).uid, 0);
    assert.deepEqual(await processesWith(`3331.${marker}`), []);
    assert.deepEqual(await processesWith(`3332.${marker}`), []);
    assert.deepEqual(await resourcesOf(r.pid), []);
    const record = JSON.parse(await fs.readFile(report, 'utf8')) as {
      images: { build: { name: string } };
      denied: Array<{ address: string }>;
    };
    assert.equal(record.images.build.name, 'host');
    assert.ok(record.denied.some((d) => d.address === b.ipv4));
  });

  it('a cancelled step leaves no process behind', async () => {
    const f = await fakeRunner();
    removers.push(() => fs.rm(f.root, { recursive: true, force: true }));
    const marker = `${Date.now() % 100000}`;
    const script = [
      `setsid sh -c 'exec sleep 5551.${marker}' </dev/null >/dev/null 2>&1 &`,
      `(sleep 5552.${marker} &) &`,
      'echo build-started',
      `sleep 5553.${marker}`,
    ].join('\n');
    const { child, done } = hostCli(f, [...release(), '--', script]);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await until(() => out.includes('build-started'), 60_000);
    await until(async () => (await processesWith(`.${marker}`)).length >= 3, 10_000);
    const t0 = Date.now();
    child.kill('SIGTERM');
    const r = await done;
    assert.notEqual(r.code, 0);
    assert.ok(Date.now() - t0 < 10_000, `the run took ${Date.now() - t0} ms to end`);
    assert.deepEqual(await processesWith(`.${marker}`), []);
    assert.deepEqual(await resourcesOf(r.pid), []);
    assert.equal((await fs.stat(f.workspace)).uid, 0, 'the workspace is given back after a cancel too');
  });

  it("a fault in buildfence's process during the build stops it, keeps the evidence, leaves nothing, exit 2", async () => {
    const f = await fakeRunner();
    removers.push(() => fs.rm(f.root, { recursive: true, force: true }));
    const marker = `${Date.now() % 100000}`;
    const report = path.join(f.root, 'fault.json');
    const inject = pathToFileURL(path.join(ROOT, 'test/integration/inject-fault.mjs')).href;
    const { child, done } = hostCli(
      f,
      [...release(), '--report', report, '--', `./probe tcp ${b.ipv4} 8080; echo fault-now; sleep 6661.${marker}`],
      { env: { NODE_OPTIONS: `--import ${inject}`, BUILDFENCE_TEST_FAULT: 'exception' } },
    );
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await until(() => out.includes('fault-now'), 60_000);
    child.kill('SIGUSR2');
    const r = await done;
    assert.equal(r.code, 2, r.stderr);
    const reason =
      'buildfence failed in its own process: injected exception. The build was stopped and the evidence recorded until then is kept.';
    assert.ok(r.stderr.includes(reason), r.stderr);
    const record = JSON.parse(await fs.readFile(report, 'utf8')) as { failure?: string; denied: Array<{ address: string }> };
    assert.equal(record.failure, reason);
    assert.deepEqual(
      record.denied.map((d) => d.address),
      [b.ipv4],
    );
    assert.deepEqual(await processesWith(`6661.${marker}`), []);
    assert.deepEqual(await resourcesOf(r.pid), []);
    assert.equal((await fs.stat(f.workspace)).uid, 0);
  });
});

describe('runtime host fails closed when it cannot isolate the build', { timeout: 120_000 }, () => {
  const script = `echo BUILD-RAN-${tag}`;

  it('an engine on another machine (DOCKER_HOST tcp://)', async () => {
    const f = await fakeRunner();
    removers.push(() => fs.rm(f.root, { recursive: true, force: true }));
    // Nothing listens there: the check comes before the first request.
    const r = await hostCli(f, ['--', script], { env: { DOCKER_HOST: 'tcp://127.0.0.1:9' } }).done;
    assert.equal(r.code, 2);
    assert.match(r.stderr, /host runtime cannot isolate the build here: DOCKER_HOST is tcp:\/\/127\.0\.0\.1:9/);
    assert.doesNotMatch(r.stdout, /BUILD-RAN/);
  });

  it('an engine that applies no seccomp profile: nothing is created', async () => {
    const f = await fakeRunner();
    removers.push(() => fs.rm(f.root, { recursive: true, force: true }));
    // A stand-in engine that answers ping and info (seccomp off) and logs any other request.
    const asked: string[] = [];
    const sock = path.join(f.root, 'engine.sock');
    const server = http.createServer((req, res) => {
      asked.push(`${req.method} ${req.url}`);
      const body = req.url?.endsWith('/_ping')
        ? 'OK'
        : req.url?.endsWith('/info')
          ? JSON.stringify({ SecurityOptions: ['name=apparmor'] })
          : '{}';
      res
        .writeHead(req.url?.endsWith('/_ping') || req.url?.endsWith('/info') ? 200 : 500, { 'content-type': 'application/json' })
        .end(body);
    });
    await new Promise<void>((r) => server.listen(sock, r));
    removers.push(() => new Promise((r) => server.close(r)));
    const r = await hostCli(f, ['--', script], { env: { DOCKER_HOST: `unix://${sock}` } }).done;
    assert.equal(r.code, 2);
    assert.match(r.stderr, /the Docker engine applies no seccomp profile; the build must run behind Docker's default one at least/);
    assert.deepEqual(
      asked.map((q) => q.replace(/\?.*/, '')),
      ['GET /_ping', 'GET /info'],
    );
    assert.doesNotMatch(r.stdout, /BUILD-RAN/);
  });

  it("the engine refuses the build's sandbox: the step fails before the build, naming why, and the holder is removed", async () => {
    const f = await fakeRunner();
    removers.push(() => fs.rm(f.root, { recursive: true, force: true }));
    // The real engine behind a proxy that answers the build's create with the engine's kind of refusal.
    const sock = path.join(f.root, 'proxy.sock');
    const open = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      const engine = net.connect('/var/run/docker.sock');
      for (const s of [client, engine]) {
        open.add(s);
        s.on('close', () => open.delete(s));
        s.on('error', () => undefined);
      }
      engine.pipe(client);
      client.on('data', (chunk: Buffer) => {
        if (!/^POST \S*\/containers\/create\?name=buildfence-[0-9a-f]{12}-build /.test(chunk.toString('latin1')))
          return void engine.write(chunk);
        const body = JSON.stringify({ message: 'OCI runtime create failed: unshare: operation not permitted (stand-in)' });
        client.write(
          `HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        );
      });
      client.on('end', () => engine.end());
    });
    await new Promise<void>((r) => proxy.listen(sock, r));
    removers.push(async () => {
      for (const s of open) s.destroy();
      await new Promise((r) => proxy.close(r));
    });
    const r = await hostCli(f, ['--network', fx.net.name, '--dns-upstream', fx.upstream.address, '--', script], {
      env: { DOCKER_HOST: `unix://${sock}` },
    }).done;
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /Cannot set up the build on the runner: the engine refused its sandbox \(OCI runtime create failed: unshare: operation not permitted \(stand-in\)\)\. The build was not started\./,
    );
    assert.doesNotMatch(r.stdout, /BUILD-RAN/);
    assert.deepEqual(await resourcesOf(r.pid), []);
    assert.equal((await fs.stat(f.workspace)).uid, 0);
  });
});

describe("runtime host for a runner user of GitHub's kind (docker group, passwordless sudo)", { timeout: 240_000 }, () => {
  const name = 'bftest-runner';
  let user: { uid: number; gid: number; home: string };

  before(async () => {
    await run('id', [name]).catch(() => run('useradd', ['--create-home', '--gid', 'docker', '--shell', '/bin/sh', name]));
    const [, , uid, gid, , home] = (await run('getent', ['passwd', name])).stdout.trim().split(':');
    user = { uid: Number(uid), gid: Number(gid), home };
    await fs.writeFile(`/etc/sudoers.d/${name}`, `${name} ALL=(ALL) NOPASSWD:ALL\n`, { mode: 0o440 });
    removers.push(() => fs.rm(`/etc/sudoers.d/${name}`, { force: true }));
  });

  it('npm ci with the tool cache node reaches the registry the grade allows, as the runner user without its groups', async () => {
    const f = await fakeRunner(user);
    removers.push(() => fs.rm(f.root, { recursive: true, force: true }));
    const as = { uid: user.uid, gid: user.gid };
    // Outside the fence the user is what GitHub's is: docker's group, sudo without a password.
    const outside = await run('setpriv', [
      `--reuid=${as.uid}`,
      `--regid=${as.gid}`,
      '--init-groups',
      '--',
      'sh',
      '-c',
      'id -gn; sudo -n true && echo sudo-ok',
    ]);
    assert.match(outside.stdout, /^docker\nsudo-ok$/m);

    // The registry stand-in: two packages, on the internal network, served by the agent image's node.
    const srv = path.join(f.root, 'srv');
    const lock: Record<string, unknown> = { '': { name: 'app', version: '1.0.0', dependencies: {} } };
    const registry = `bftest-registry-${tag}`;
    const pkgs = ['bf-left', 'bf-right'];
    const deps: Record<string, string> = {};
    await fs.mkdir(srv, { recursive: true });
    await fs.copyFile(path.join(ROOT, 'test/images/plain-registry.mjs'), path.join(srv, 'registry.mjs'));
    await dockerText([
      'run',
      '--detach',
      '--name',
      registry,
      '--network',
      fx.net.name,
      '--label',
      'buildfence-test=1',
      '--entrypoint',
      '/usr/local/bin/node',
      '-v',
      `${srv}:/srv:ro`,
      AGENT_IMAGE,
      '/srv/registry.mjs',
    ]);
    removers.push(() => run('docker', ['rm', '--force', registry]));
    const ip = await dockerText(['inspect', '--format', `{{(index .NetworkSettings.Networks "${fx.net.name}").IPAddress}}`, registry]);
    for (const p of pkgs) {
      const tgz = await packageTarball(p);
      await fs.mkdir(path.join(srv, p, '-'), { recursive: true });
      await fs.writeFile(path.join(srv, p, '-', `${p}-1.0.0.tgz`), tgz);
      const integrity = `sha512-${createHash('sha512').update(tgz).digest('base64')}`;
      const tarball = `http://${ip}:8080/${p}/-/${p}-1.0.0.tgz`;
      await fs.writeFile(
        path.join(srv, p, 'index.json'),
        JSON.stringify({
          name: p,
          'dist-tags': { latest: '1.0.0' },
          versions: { '1.0.0': { name: p, version: '1.0.0', dist: { tarball, integrity } } },
        }),
      );
      deps[p] = '1.0.0';
      lock[`node_modules/${p}`] = { version: '1.0.0', resolved: tarball, integrity };
    }
    (lock[''] as { dependencies: Record<string, string> }).dependencies = deps;
    await fs.writeFile(path.join(f.workspace, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', dependencies: deps }));
    await fs.writeFile(
      path.join(f.workspace, 'package-lock.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages: lock }),
    );
    await run('chown', ['-R', `${as.uid}:${as.gid}`, f.workspace]);
    await until(async () => (await dockerText(['logs', registry])).includes('listening'), 20_000);

    const probes: Probe[] = [
      ok(
        'runs as the runner uid, its group not docker, no other group',
        `[ "$(id -u)" = ${as.uid} ] && [ "$(id -g)" = ${as.uid} ] && [ "$(id -G)" = ${as.uid} ]`,
      ),
      fails('sudo (passwordless outside)', 'sudo -n true'),
      fails('the Docker socket (the docker group is gone too)', 'curl -sf --unix-socket /var/run/docker.sock http://d/_ping'),
      ok("node is the tool cache's", `[ "$(command -v node)" = ${f.toolNode} ]`),
      ok(
        'npm ci installs from the allowed registry',
        `npm ci --registry http://${ip}:8080/ --no-audit --no-fund --no-update-notifier && node -e 'require("bf-left"); require("bf-right")'`,
      ),
      ok('HOME is writable (npm cache)', `[ -d "$HOME/.npm" ] && [ "$HOME" = ${f.home} ]`),
      ok('the tool cache is writable', `touch ${f.toolCache}/made-by-build`),
      ok('RUNNER_TEMP is writable', 'touch "$RUNNER_TEMP/made-by-build"'),
      fails("the runner's _diag", `cat ${f.runner}/_diag/Worker_1.log`),
      fails('writing the GITHUB_ENV file', `echo LEAK=1 >> ${f.setEnv}`),
      fails('a registry the grade does not allow', `probe tcp ${b.ipv4} 8080`),
    ];
    const r = await hostCli(f, [...release(), '--allow', `${ip}:8080`, '--', probeScript(probes)], {
      user: as,
    }).done;
    assert.equal(r.code, 0, r.stderr);
    assertRows(rowsOf(probes, r.stdout, 'runner user'), r);
    const installed = await fs.stat(path.join(f.workspace, 'node_modules', 'bf-left', 'index.js'));
    assert.equal(installed.uid, as.uid, "what the build made is the runner user's, with no ownership change");
    assert.equal(await fs.readFile(f.setEnv, 'utf8'), '');
    assert.match(await dockerText(['logs', registry]), /GET \/bf-left\/-\/bf-left-1\.0\.0\.tgz/);
    assert.deepEqual(await resourcesOf(r.pid), []);
  });
});

/** An npm package tarball: package/package.json and package/index.js. */
async function packageTarball(name: string): Promise<Buffer> {
  const tar = pack();
  tar.entry({ name: 'package/package.json' }, JSON.stringify({ name, version: '1.0.0', main: 'index.js' }));
  tar.entry({ name: 'package/index.js' }, `module.exports = ${JSON.stringify(name)};\n`);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const c of tar) chunks.push(c as Buffer);
  return gzipSync(Buffer.concat(chunks));
}
