// The two job shapes of release pipelines, laid out on this engine as GitHub's runner lays them
// out. A container job: the job container on the job's network, the engine's socket mounted, the
// runner's work directory at /__w (its _temp, _actions and the home directory mounted on their
// own), the runner's externals (node) at /__e, and no docker CLI in it; the bundled action runs in
// it with `docker exec`, INPUT_* and the runner's file-command variables, as the runner runs a
// JavaScript action there. A job with service containers: the services on the job's network with
// their key as an alias, buildfence on the runner with `network` set to that network.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import {
  HOLDER_IMAGE,
  PROBE_IMAGE,
  ROOT,
  cli,
  dockerText,
  internalNet,
  probeRunArgs,
  requireEngine,
  verdicts,
  workspace,
  type Server,
  type TestNet,
} from './harness.js';
import { jobImage } from './job-image.js';
import { CLIENT_IMAGE, TLS_DIR, startSite } from './sites.js';
import { TestUpstream } from './upstream.js';
import type { EvidenceRecord } from '../../src/report/record.js';

const run = promisify(execFile);
const TEST_LABEL = 'buildfence-test=1';

interface Shapes {
  net: TestNet;
  gateway: string;
  upstream: TestUpstream;
  /** Services as the runner starts them: a name of its own, the service's key as the alias. */
  db: Server;
  cache: Server;
  image: string;
  /** The runner's directories on the host: the work folder (/__w) and the externals (/__e). */
  work: string;
  externals: string;
  nodeDir: string;
  probeDir: string;
}

const fx = {} as Shapes;
const tag = randomBytes(3).toString('hex');

/** `docker run --detach` of a container named `name` on the test's network, labelled for cleanup. */
function detached(name: string, args: string[]): Promise<string> {
  return dockerText(['run', '--detach', '--name', name, '--label', TEST_LABEL, '--network', fx.net.name, ...args]);
}

async function service(net: string, key: string, ports: number[]): Promise<Server> {
  const name = `bftest-${tag}_${key}`;
  await detached(name, ['--network-alias', key, PROBE_IMAGE, 'sh', '-c', ports.map((p) => `probe serve ${p} &`).join(' ') + ' wait']);
  const ipv4 = await dockerText(['inspect', '--format', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, name]);
  return { name, ipv4, ipv6: '' };
}

before(async () => {
  await requireEngine();
  const [net, image, probeDir] = await Promise.all([internalNet(2), jobImage(process.execPath), workspace()]);
  fx.net = net;
  fx.image = image;
  fx.probeDir = probeDir;
  fx.gateway = await dockerText(['network', 'inspect', '--format', '{{(index .IPAM.Config 0).Gateway}}', net.name]);
  // The upstream sits where a resolver in the job container reaches the host: the network's gateway.
  fx.upstream = await new TestUpstream().start(fx.gateway);
  [fx.db, fx.cache] = await Promise.all([service(net.name, 'db', [5432, 6379]), service(net.name, 'cache', [6379])]);

  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'bftest-runner-'));
  fx.work = path.join(base, 'work');
  fx.externals = path.join(base, 'externals');
  fx.nodeDir = `node${process.versions.node.split('.')[0]}`;
  for (const dir of [
    'repo/repo',
    '_temp/_runner_file_commands',
    '_temp/_github_home',
    '_temp/_github_workflow',
    '_actions/buildfence/buildfence',
  ]) {
    await fs.mkdir(path.join(fx.work, dir), { recursive: true });
  }
  await fs.mkdir(path.join(fx.externals, fx.nodeDir, 'bin'), { recursive: true });
  const node = path.join(fx.externals, fx.nodeDir, 'bin', 'node');
  await fs.link(process.execPath, node).catch(() => fs.copyFile(process.execPath, node));
  // The action as the runner downloads it: action.yml and dist/.
  const action = path.join(fx.work, '_actions/buildfence/buildfence/v1');
  await fs.cp(path.join(ROOT, 'dist'), path.join(action, 'dist'), { recursive: true });
  await fs.copyFile(path.join(ROOT, 'action.yml'), path.join(action, 'action.yml'));
  const repo = path.join(fx.work, 'repo/repo');
  await fs.copyFile(path.join(probeDir, 'probe'), path.join(repo, 'probe'));
  await fs.writeFile(path.join(repo, 'marker.txt'), 'the checked-out workspace\n');
  // A real client: node's own net.connect, which resolves through the build's resolv.conf.
  await fs.writeFile(
    path.join(repo, 'client.js'),
    [
      "const net = require('net');",
      'const [host, port] = process.argv.slice(2);',
      'const s = net.connect({ host, port: Number(port), timeout: 3000 });',
      'const say = (what) => { console.log(`node ${host}:${port} ${what}`); s.destroy(); };',
      "s.on('connect', () => say('ok'));",
      "s.on('timeout', () => say('timeout'));",
      "s.on('error', (e) => say(e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' ? 'unresolved' : e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' ? 'refused' : e.code));",
    ].join('\n'),
  );
});

after(async () => {
  const services = [fx.db?.name, fx.cache?.name].filter((n): n is string => n !== undefined);
  await run('docker', ['rm', '--force', ...services]).catch(() => undefined);
  await fx.net?.remove();
  await fx.upstream?.stop();
  if (fx.work) await fs.rm(path.dirname(fx.work), { recursive: true, force: true });
  if (fx.probeDir) await fs.rm(fx.probeDir, { recursive: true, force: true });
});

interface JobOptions {
  /** The engine's socket mounted at /var/run/docker.sock, as the runner mounts it (default). */
  socket?: boolean;
  /** More `docker run` options (the job's `container: options:`). */
  options?: string[];
}

/** Starts a job container as the runner does (`tail -f /dev/null` as its process). */
async function jobContainer({ socket = true, options = [] }: JobOptions = {}): Promise<string> {
  const name = `bftest-${tag}-job-${randomBytes(2).toString('hex')}`;
  const mount = (host: string, inside: string, ro = false) => ['-v', `${host}:${inside}${ro ? ':ro' : ''}`];
  await detached(name, [
    '--workdir',
    '/__w/repo/repo',
    '-e',
    'HOME=/github/home',
    '-e',
    'GITHUB_ACTIONS=true',
    '-e',
    'CI=true',
    ...(socket ? mount('/var/run/docker.sock', '/var/run/docker.sock') : []),
    ...mount(fx.work, '/__w'),
    ...mount(fx.externals, '/__e', true),
    ...mount(path.join(fx.work, '_temp'), '/__w/_temp'),
    ...mount(path.join(fx.work, '_actions'), '/__w/_actions'),
    ...mount(path.join(fx.work, '_temp/_github_home'), '/github/home'),
    ...mount(path.join(fx.work, '_temp/_github_workflow'), '/github/workflow'),
    ...options,
    '--entrypoint',
    'tail',
    fx.image,
    '-f',
    '/dev/null',
  ]);
  return name;
}

/**
 * A job container that the engine behind its socket did not start (a rootless engine's job, with
 * the system engine's socket mounted): the engine's per-container files it shows the kernel name
 * a container ID the engine does not know, and its cgroups name none.
 */
async function strangerJobContainer(): Promise<string> {
  const files = path.join(fx.work, '_temp', `containers/${randomBytes(32).toString('hex')}`);
  await fs.mkdir(files, { recursive: true });
  await fs.writeFile(path.join(files, 'hostname'), 'stranger\n');
  await fs.writeFile(path.join(files, 'hosts'), '127.0.0.1 localhost\n');
  await fs.writeFile(path.join(files, 'resolv.conf'), 'nameserver 127.0.0.11\n');
  const over = ['hostname', 'hosts', 'resolv.conf'].flatMap((f) => ['-v', `${path.join(files, f)}:/etc/${f}`]);
  return jobContainer({ options: ['--cgroupns', 'private', ...over] });
}

interface Step {
  code: number;
  stdout: string;
  output: Record<string, string>;
  state: Record<string, string>;
}

/** Reads `name<<DELIM\nvalue\nDELIM` records that @actions/core writes to GITHUB_OUTPUT and GITHUB_STATE. */
function fileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) out[m[1]] = m[3];
  return out;
}

/** One step of the action in the job container, with the runner's variables (paths as the job container sees them). */
async function actionStep(
  job: string,
  entry: 'main' | 'post',
  inputs: Record<string, string>,
  state: Record<string, string> = {},
): Promise<Step> {
  const id = randomBytes(4).toString('hex');
  const commands = '/__w/_temp/_runner_file_commands';
  const files = {
    GITHUB_OUTPUT: `set_output_${id}`,
    GITHUB_STATE: `save_state_${id}`,
    GITHUB_STEP_SUMMARY: `step_summary_${id}`,
    GITHUB_ENV: `set_env_${id}`,
    GITHUB_PATH: `add_path_${id}`,
  };
  for (const f of Object.values(files)) await fs.writeFile(path.join(fx.work, '_temp/_runner_file_commands', f), '');
  const env: Record<string, string> = {
    GITHUB_WORKSPACE: '/__w/repo/repo',
    RUNNER_TEMP: '/__w/_temp',
    RUNNER_TOOL_CACHE: '/__t',
    RUNNER_OS: 'Linux',
    GITHUB_REPOSITORY: 'owner/repo',
    GITHUB_EVENT_PATH: '/github/workflow/event.json',
    ...Object.fromEntries(Object.entries(files).map(([k, f]) => [k, `${commands}/${f}`])),
    // BUILDFENCE_HOLDER_TAG: the holder under test, as for the CLI's runs (harness.ts).
    ...(process.env.BUILDFENCE_HOLDER_TAG ? { 'INPUT_HOLDER-IMAGE': HOLDER_IMAGE } : {}),
    ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
    ...Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v])),
  };
  const argv = ['exec', '--workdir', '/__w/repo/repo', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`])];
  const node = `/__e/${fx.nodeDir}/bin/node`;
  const r = await run('docker', [...argv, job, node, `/__w/_actions/buildfence/buildfence/v1/dist/${entry}.js`], {
    maxBuffer: 16 << 20,
  }).then(
    (ok) => ({ code: 0, stdout: ok.stdout }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({
      code: err.code ?? 1,
      stdout: `${err.stdout ?? ''}${err.stderr ?? ''}`,
    }),
  );
  const read = (f: string) => fs.readFile(path.join(fx.work, '_temp/_runner_file_commands', f), 'utf8');
  return { ...r, output: fileCommands(await read(files.GITHUB_OUTPUT)), state: fileCommands(await read(files.GITHUB_STATE)) };
}

/** The build's script: the workspace file, servers by address, the services by name (node) and by address (probe). */
function script(): string {
  const [s0, s1] = fx.net.servers;
  return [
    'cat marker.txt',
    `./probe tcp ${s0.ipv4} 8080`,
    `./probe tcp ${s0.ipv4} 9090`,
    `./probe tcp ${s1.ipv4} 8080`,
    `./probe tcp ${fx.db.ipv4} 6379`,
    `./probe tcp ${fx.cache.ipv4} 6379`,
    ...['db 5432', 'db 6379', 'cache 6379'].map((hp) => `/__e/${fx.nodeDir}/bin/node client.js ${hp}`),
    'true',
  ].join('\n');
}

async function leftovers(label: string): Promise<string[]> {
  return (await dockerText(['ps', '--all', '--filter', `label=${label}`, '--format', '{{.Names}}'])).split('\n').filter(Boolean);
}

describe('job shapes', { timeout: 180_000 }, () => {
  it('a container job: a release build sees the workspace, reaches the allowed server and service, is refused the rest; nothing is left', async () => {
    const job = await jobContainer();
    try {
      const hostname = await dockerText(['exec', job, 'hostname']);
      const main = await actionStep(job, 'main', {
        grade: 'release',
        allowlist: `${fx.net.servers[0].ipv4}:8080\ndb:5432`,
        image: fx.image,
        pull: 'never',
        shell: 'sh',
        // The build runs node from the runner's externals, as the job container does: a path of the job container, mounted from the host's.
        'docker-options': '-v /__e:/__e:ro',
        'dns-upstream': fx.upstream.address,
        run: script(),
      });
      assert.equal(main.code, 0, main.stdout);
      const jobAddress = await dockerText(['inspect', '--format', `{{(index .NetworkSettings.Networks "${fx.net.name}").IPAddress}}`, job]);
      assert.match(main.stdout, new RegExp(`DNS answered by buildfence at ${jobAddress.replaceAll('.', '\\.')}:\\d+`));
      // db:5432 is a name entry: its connections are checked on the fast path, and the service (by address) does not pass it.
      assert.match(main.stdout, /names checked on the wire \(netfilter queue 443\)/);
      assert.match(main.stdout, /the checked-out workspace/);
      // The end-of-run mark, sent from the job container's address, reached the holder.
      assert.doesNotMatch(main.stdout, /end-of-run mark did not reach the holder/);
      const [s0, s1] = fx.net.servers;
      const seen = verdicts(main.stdout);
      assert.deepEqual(
        {
          allowed: seen.get(`tcp ${s0.ipv4}:8080`),
          otherPort: seen.get(`tcp ${s0.ipv4}:9090`),
          otherServer: seen.get(`tcp ${s1.ipv4}:8080`),
          serviceOtherPort: seen.get(`tcp ${fx.db.ipv4}:6379`),
          otherService: seen.get(`tcp ${fx.cache.ipv4}:6379`),
        },
        { allowed: 'ok', otherPort: 'refused', otherServer: 'refused', serviceOtherPort: 'refused', otherService: 'refused' },
        main.stdout,
      );
      assert.match(main.stdout, /^node db:5432 ok$/m);
      assert.match(main.stdout, /^node db:6379 refused$/m);
      assert.match(main.stdout, /^node cache:6379 unresolved$/m);
      assert.equal(main.output['exit-code'], '0');

      const record = JSON.parse(
        await fs.readFile(path.join(fx.work, main.output.report.replace(/^\/__w\//, '')), 'utf8'),
      ) as EvidenceRecord;
      const db = record.dns.find((d) => d.name === 'db' && d.type === 'A');
      assert.deepEqual([db?.verdict, db?.forwarded, db?.addresses], ['allowed', false, [fx.db.ipv4]]);
      assert.equal(record.dns.find((d) => d.name === 'cache')?.verdict, 'refused');
      assert.deepEqual(
        fx.upstream.log.filter((q) => /^(db|cache)(\.|$)/.test(q.name)),
        [],
        'a service name reached the upstream',
      );

      const post = await actionStep(job, 'post', {}, main.state);
      assert.equal(post.code, 0, post.stdout);
      assert.deepEqual(await leftovers(`buildfence.host=${hostname}`), []);
      const temp = await fs.readdir(path.join(fx.work, '_temp'));
      assert.deepEqual(
        temp.filter((f) => f.startsWith('buildfence-') && !f.startsWith('buildfence-report')),
        [],
        'a temporary directory of the run was left',
      );
    } finally {
      await run('docker', ['rm', '--force', job]);
    }
  });

  it('a container job: a name entry is checked on the wire, the allowed name over TLS and HTTP works, the co-tenant on its address is refused and recorded', async () => {
    const [job, site] = await Promise.all([jobContainer(), startSite(fx.net.name)]);
    try {
      for (const name of ['npm.registry.test', 'evil.test']) fx.upstream.zone.set(name, { A: [site.ipv4] });
      await fs.copyFile(path.join(TLS_DIR, 'ca.pem'), path.join(fx.work, 'repo/repo/ca.pem'));
      const main = await actionStep(job, 'main', {
        grade: 'release',
        allowlist: 'npm.registry.test:443\nnpm.registry.test:80',
        image: CLIENT_IMAGE,
        pull: 'never',
        shell: 'sh',
        'dns-upstream': fx.upstream.address,
        run: [
          'c() { label=$1; shift; if out=$(curl -sS --max-time 15 --cacert ca.pem "$@" 2>/dev/null); then echo "$label ok: $out"; else echo "$label failed"; fi; }',
          'c tls https://npm.registry.test/',
          'c http http://npm.registry.test/',
          `c sni --resolve evil.test:443:${site.ipv4} https://evil.test/`,
          'c host -H "Host: evil.test" http://npm.registry.test/',
        ].join('\n'),
      });
      assert.equal(main.code, 0, main.stdout);
      const jobAddress = await dockerText(['inspect', '--format', `{{(index .NetworkSettings.Networks "${fx.net.name}").IPAddress}}`, job]);
      assert.match(
        main.stdout,
        new RegExp(`DNS answered by buildfence at ${jobAddress.replaceAll('.', '\\.')}:\\d+; names checked on the wire`),
      );
      for (const ok of ['tls', 'http']) assert.match(main.stdout, new RegExp(`^${ok} ok: site npm\\.registry\\.test$`, 'm'), ok);
      for (const refused of ['sni', 'host']) assert.match(main.stdout, new RegExp(`^${refused} failed$`, 'm'), refused);
      const record = JSON.parse(
        await fs.readFile(path.join(fx.work, main.output.report.replace(/^\/__w\//, '')), 'utf8'),
      ) as EvidenceRecord;
      assert.deepEqual(
        record.denied
          .filter((d) => d.reason !== undefined)
          .map((d) => `${d.reason} ${d.asked} ${d.address}:${d.port}`)
          .sort(),
        [`host evil.test ${site.ipv4}:80`, `sni evil.test ${site.ipv4}:443`],
      );
      const post = await actionStep(job, 'post', {}, main.state);
      assert.equal(post.code, 0, post.stdout);
    } finally {
      await run('docker', ['rm', '--force', job, site.name]);
    }
  });

  it("a container job: an allowlisted range over the job's network leaves the Docker host and the job container closed", async () => {
    const job = await jobContainer();
    // The Docker host on the job's network (its gateway), and a listener beside buildfence's process in the job container.
    const host = net.createServer((s) => s.end('host\n'));
    await new Promise<void>((resolve) => host.listen(0, fx.gateway, resolve));
    const hostPort = (host.address() as net.AddressInfo).port;
    try {
      const hostname = await dockerText(['exec', job, 'hostname']);
      const jobAddress = await dockerText(['inspect', '--format', `{{(index .NetworkSettings.Networks "${fx.net.name}").IPAddress}}`, job]);
      const subnet = await dockerText(['network', 'inspect', '--format', '{{(index .IPAM.Config 0).Subnet}}', fx.net.name]);
      await run('docker', [
        'exec',
        '--detach',
        job,
        `/__e/${fx.nodeDir}/bin/node`,
        '-e',
        "require('net').createServer((s) => s.end('job\\n')).listen(7777)",
      ]);
      const [s0] = fx.net.servers;
      const targets = [`${s0.ipv4} 8080`, `${fx.gateway} ${hostPort}`, `${jobAddress} 7777`];
      // Without the fence, both answer (a plain container on the job's network).
      const control = await dockerText([
        'run',
        '--rm',
        '--label',
        TEST_LABEL,
        '--network',
        fx.net.name,
        PROBE_IMAGE,
        'sh',
        '-c',
        `sleep 1; ${targets.map((t) => `probe tcp ${t}`).join('; ')}`,
      ]);
      const seenControl = verdicts(control);
      assert.deepEqual(
        [seenControl.get(`tcp ${fx.gateway}:${hostPort}`), seenControl.get(`tcp ${jobAddress}:7777`)],
        ['ok', 'ok'],
        control,
      );
      const main = await actionStep(job, 'main', {
        grade: 'release',
        allowlist: subnet,
        image: fx.image,
        pull: 'never',
        shell: 'sh',
        'dns-upstream': fx.upstream.address,
        run: [...targets.map((t) => `./probe tcp ${t}`), 'true'].join('\n'),
      });
      assert.equal(main.code, 0, main.stdout);
      const seen = verdicts(main.stdout);
      assert.deepEqual(
        {
          inRange: seen.get(`tcp ${s0.ipv4}:8080`),
          dockerHost: seen.get(`tcp ${fx.gateway}:${hostPort}`),
          jobContainer: seen.get(`tcp ${jobAddress}:7777`),
        },
        { inRange: 'ok', dockerHost: 'refused', jobContainer: 'refused' },
        main.stdout,
      );
      const post = await actionStep(job, 'post', {}, main.state);
      assert.equal(post.code, 0, post.stdout);
      assert.deepEqual(await leftovers(`buildfence.host=${hostname}`), []);
    } finally {
      host.close();
      await run('docker', ['rm', '--force', job]);
    }
  });

  it("a container job: a network that is not the job's, no engine socket, a container the engine does not know, runtime host: each says what to set", async () => {
    const [job, noSocket, stranger] = await Promise.all([jobContainer(), jobContainer({ socket: false }), strangerJobContainer()]);
    try {
      const inputs = { image: fx.image, pull: 'never', 'dns-upstream': fx.upstream.address, run: 'true' };
      const [other, unreachable, unknown] = await Promise.all([
        actionStep(job, 'main', { ...inputs, network: 'bridge' }),
        actionStep(noSocket, 'main', inputs),
        actionStep(stranger, 'main', inputs),
      ]);
      assert.notEqual(other.code, 0);
      assert.match(
        other.stdout,
        new RegExp(`Input 'network' is 'bridge', which is not a network of job container ${job} \\(it is on ${fx.net.name}\\)`),
      );
      assert.match(other.stdout, /network: \$\{\{ job\.container\.network \}\}/);
      assert.notEqual(unreachable.code, 0);
      assert.match(unreachable.stdout, /Cannot connect to the Docker engine at unix:\/\/\/var\/run\/docker\.sock/);
      assert.match(unreachable.stdout, /the runner mounts the engine's socket at \/var\/run\/docker\.sock/);
      assert.notEqual(unknown.code, 0);
      assert.match(
        unknown.stdout,
        /This step runs in job container [0-9a-f]{12} \(from \/proc\/self\/mountinfo\), which the Docker engine at unix:\/\/\/var\/run\/docker\.sock does not know/,
      );
      assert.match(
        unknown.stdout,
        /mount its socket into the job container \(container: options: -v \/run\/user\/UID\/docker\.sock:\/var\/run\/docker\.sock\)/,
      );
      const host = await actionStep(job, 'main', { runtime: 'host', 'dns-upstream': fx.upstream.address, run: 'true' });
      assert.notEqual(host.code, 0);
      assert.match(host.stdout, new RegExp(`Input 'runtime' is host, but buildfence runs in job container ${job}`));
      assert.match(host.stdout, /set image to the job's container image/);
      for (const r of [other, unreachable, unknown, host]) assert.doesNotMatch(r.stdout, /Running the build/);
    } finally {
      await run('docker', ['rm', '--force', job, noSocket, stranger]);
    }
  });

  it("a container job: a mount that is the engine's socket or state on the host is refused, however the job container names it", async () => {
    // The job's `container: options: -v /var/run:/host-run -v /var/lib:/host-lib`.
    const job = await jobContainer({ options: ['-v', '/var/run:/host-run:ro', '-v', '/var/lib:/host-lib:ro'] });
    try {
      const hostname = await dockerText(['exec', job, 'hostname']);
      const inputs = { image: fx.image, pull: 'never', 'dns-upstream': fx.upstream.address, run: 'true' };
      const steps = await Promise.all(
        ['-v /host-run/docker:/x', '--mount type=bind,src=/host-lib/docker,dst=/x,readonly', '-v /host-run:/x:ro'].map((o) =>
          actionStep(job, 'main', { ...inputs, 'docker-options': o }),
        ),
      );
      const [run0, lib, runDir] = steps;
      assert.match(
        run0.stdout,
        /'\/host-run\/docker:\/x' mounts \/host-run\/docker, which is \/var\/run\/docker on the engine's host: .*Docker's run state/,
      );
      assert.match(
        lib.stdout,
        /mounts \/host-lib\/docker, which is \/var\/lib\/docker on the engine's host: .*Docker's images, containers and volumes/,
      );
      assert.match(runDir.stdout, /which is \/var\/run on the engine's host: \/var\/run holds \/run\/docker\.sock/);
      for (const r of steps) {
        assert.notEqual(r.code, 0, r.stdout);
        assert.doesNotMatch(r.stdout, /Running the build/);
      }
      assert.deepEqual(await leftovers(`buildfence.host=${hostname}`), []);
    } finally {
      await run('docker', ['rm', '--force', job]);
    }
  });

  const lookup = [
    'ns=$(sed -n "s/^nameserver //p" /etc/resolv.conf)',
    'lookup() { ./probe dns "$ns" "$1" A | sed -n "s/^rcode=0 answers=\\([^,]*\\).*/\\1/p"; }',
    'echo "db=$(lookup db)"',
    'echo "cache=$(lookup cache)"',
    './probe tcp "$(lookup db)" 5432',
    './probe tcp "$(lookup db)" 6379',
    `./probe tcp ${fx.cache?.ipv4 ?? 'CACHE'} 6379`,
    'true',
  ];

  it('service containers by name, buildfence on the runner with network set: the allowed service and port only, nothing asked upstream', async () => {
    const ws = fx.probeDir;
    const r = await cli(
      probeRunArgs(
        fx.net.name,
        '--grade',
        'release',
        '--allow',
        'db:5432',
        '--dns-upstream',
        fx.upstream.address,
        '--',
        ...[lookup.join('\n').replace('CACHE', fx.cache.ipv4)],
      ),
      ws,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^db=${fx.db.ipv4.replaceAll('.', '\\.')}$`, 'm'));
    assert.match(r.stdout, /^cache=$/m);
    const seen = verdicts(r.stdout);
    assert.equal(seen.get(`tcp ${fx.db.ipv4}:5432`), 'ok', r.stdout);
    assert.equal(seen.get(`tcp ${fx.db.ipv4}:6379`), 'refused', r.stdout);
    assert.equal(seen.get(`tcp ${fx.cache.ipv4}:6379`), 'refused', r.stdout);
    assert.deepEqual(
      fx.upstream.log.filter((q) => /^(db|cache)(\.|$)/.test(q.name)),
      [],
    );
  });

  it('audit mode answers every service name from the network, records it and suggests it; a name no container has fails the step', async () => {
    const ws = fx.probeDir;
    const report = path.join(ws, `audit-${tag}.json`);
    const audit = await cli(
      probeRunArgs(
        fx.net.name,
        '--grade',
        'dev',
        '--dns-upstream',
        fx.upstream.address,
        '--report',
        report,
        '--',
        lookup.join('\n').replace('CACHE', fx.cache.ipv4),
      ),
      ws,
    );
    assert.equal(audit.code, 0, audit.stderr);
    assert.match(audit.stdout, new RegExp(`^cache=${fx.cache.ipv4.replaceAll('.', '\\.')}$`, 'm'));
    const record = JSON.parse(await fs.readFile(report, 'utf8')) as EvidenceRecord;
    const cache = record.dns.find((d) => d.name === 'cache' && d.type === 'A');
    assert.deepEqual([cache?.verdict, cache?.forwarded], ['audited', false]);
    assert.ok(record.suggestedAllowlist?.includes('cache:6379'), JSON.stringify(record.suggestedAllowlist));
    assert.deepEqual(
      fx.upstream.log.filter((q) => /^(db|cache)(\.|$)/.test(q.name)),
      [],
    );

    const missing = await cli(
      [
        'run',
        '--grade',
        'release',
        '--network',
        fx.net.name,
        '--allow',
        'postgres:5432',
        '--image',
        PROBE_IMAGE,
        '--pull',
        'never',
        '--',
        'true',
      ],
      ws,
    );
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(
      missing.stderr,
      new RegExp(
        `Allowlist entry 'postgres:5432' names no container on network '${fx.net.name}' \\(its containers answer to [^)]*\\bdb\\b[^)]*\\)`,
      ),
    );
    assert.doesNotMatch(missing.stdout + missing.stderr, /Running the build/);
  });
});
