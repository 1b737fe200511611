// Shared fixtures for tests against the real Docker engine. Every probe targets a container on an
// --internal network created here: a broken fence must not send a packet off the machine.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TestUpstream } from './upstream.js';

const run = promisify(execFile);

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * BUILDFENCE_HOLDER_TAG runs the tests with a holder built under another tag
 * (scripts/build-holder-image TAG): every `run` of the CLI that names no holder image gets it.
 */
export const HOLDER_IMAGE = process.env.BUILDFENCE_HOLDER_TAG || 'buildfence/holder:0.1.0';
/** BUILDFENCE_PROBE_TAG (as scripts/build-test-images reads it) runs the tests with a probe built under another tag. */
export const PROBE_IMAGE = process.env.BUILDFENCE_PROBE_TAG || 'buildfence-test/probe:latest';
/** buildfence's agent image: also a build image with node in it (no shell: `--shell node` runs the script). */
export const AGENT_IMAGE = 'buildfence/agent:0.1.0';
const TEST_LABEL = 'buildfence-test=1';
/** A closed loopback port as the DNS upstream, for tests that resolve nothing. */
export const LOOPBACK_UPSTREAM = '127.0.0.1:9';

/**
 * The CLI's arguments for a run of the local probe image under `sh` (without -e: a refused probe
 * does not end the script), on `network` (Docker's default bridge when undefined), then `more`.
 */
export function probeRunArgs(network: string | undefined, ...more: string[]): string[] {
  return [
    'run',
    ...(network === undefined ? [] : ['--network', network]),
    '--pull',
    'never',
    '--image',
    PROBE_IMAGE,
    '--shell',
    'sh',
    ...more,
  ];
}

export async function dockerText(args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/** Fails (never skips) when the agent image is missing: scripts/build-agent-image builds it. */
export async function requireAgentImage(): Promise<void> {
  await dockerText(['image', 'inspect', '--format', '{{.Id}}', AGENT_IMAGE]).catch(() => {
    throw new Error(`Image ${AGENT_IMAGE} is missing. Run scripts/build-agent-image.`);
  });
}

/** Fails (never skips) when the engine or an image is missing: .ci/run prepares them. */
export async function requireEngine(): Promise<void> {
  try {
    await dockerText(['info', '--format', '{{.ServerVersion}}']);
  } catch {
    throw new Error('No Docker engine answers. Run scripts/setup-engine first.');
  }
  for (const image of [HOLDER_IMAGE, PROBE_IMAGE]) {
    try {
      await dockerText(['image', 'inspect', '--format', '{{.Id}}', image]);
    } catch {
      throw new Error(`Image ${image} is missing. Run scripts/build-holder-image and scripts/build-test-images.`);
    }
  }
}

export interface TestNet {
  name: string;
  servers: Server[];
  remove(): Promise<void>;
}

export interface Server {
  name: string;
  ipv4: string;
  ipv6: string;
}

/** An internal network with IPv6 and `count` probe servers listening on `ports` (TCP and UDP). */
export async function internalNet(count: number, ports: number[] = [8080, 9090]): Promise<TestNet> {
  const tag = randomBytes(4).toString('hex');
  const name = `bftest-${tag}`;
  const v6 = `fd00:bf${tag.slice(0, 2)}:${tag.slice(2, 6)}::/64`;
  await dockerText(['network', 'create', '--internal', '--ipv6', '--subnet', v6, '--label', TEST_LABEL, name]);
  // Started side by side; servers[i] is named -srv<i>, its addresses are whatever docker gave it.
  const servers: Server[] = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const server = `${name}-srv${i}`;
      await dockerText([
        'run',
        '--detach',
        '--name',
        server,
        '--network',
        name,
        '--label',
        TEST_LABEL,
        PROBE_IMAGE,
        'sh',
        '-c',
        ports.map((p) => `probe serve ${p} &`).join(' ') + ' wait',
      ]);
      const [ipv4, ipv6] = (
        await dockerText([
          'inspect',
          '--format',
          `{{(index .NetworkSettings.Networks "${name}").IPAddress}} {{(index .NetworkSettings.Networks "${name}").GlobalIPv6Address}}`,
          server,
        ])
      ).split(' ');
      return { name: server, ipv4, ipv6 };
    }),
  );
  return {
    name,
    servers,
    async remove() {
      await run('docker', ['rm', '--force', ...servers.map((s) => s.name)]).catch(() => undefined);
      await run('docker', ['network', 'rm', name]).catch(() => undefined);
    },
  };
}

export interface Fixture {
  net: TestNet;
  /** The workspace (the CLI's cwd), holding the probe binary. */
  ws: string;
  /** Set only when asked for with `upstream: true`. */
  upstream: TestUpstream;
  /**
   * Settles when the `before` hook has filled the fields. A file's own hooks await it: Node 20
   * may run top-level hooks side by side.
   */
  ready: Promise<void>;
}

/**
 * The set-up most integration files share, registered as before/after hooks of the calling file:
 * the engine checked, an internal network with `servers` probe servers, a workspace, and with
 * `upstream` a loopback DNS upstream. The fields are filled in when the `before` hook has run.
 */
export function fixture(opts: { servers?: number; ports?: number[]; upstream?: boolean } = {}): Fixture {
  let settle!: (err?: unknown) => void;
  const fx = {
    ready: new Promise<void>(
      (ok, fail) => (settle = (err) => (err ? fail(err instanceof Error ? err : new Error(JSON.stringify(err))) : ok())),
    ),
  } as Fixture;
  fx.ready.catch(() => undefined);
  before(async () => {
    try {
      await requireEngine();
      const [net, ws, upstream] = await Promise.all([
        internalNet(opts.servers ?? 2, opts.ports),
        workspace(),
        opts.upstream ? new TestUpstream().start() : undefined,
      ]);
      Object.assign(fx, { net, ws, upstream });
      settle();
    } catch (err) {
      settle(err);
      throw err;
    }
  });
  after(async () => {
    await fx.ready.catch(() => undefined);
    await fx.net?.remove();
    await fx.upstream?.stop();
    if (fx.ws) await fs.rm(fx.ws, { recursive: true, force: true });
  });
  return fx;
}

/** A workspace directory holding the static probe binary, so any image can run it. */
export async function workspace(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bftest-ws-'));
  const container = await dockerText(['create', PROBE_IMAGE, 'true']);
  await run('docker', ['cp', `${container}:/usr/local/bin/probe`, path.join(dir, 'probe')]);
  await run('docker', ['rm', container]);
  return dir;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
}

/** Starts the CLI from src/ (through tsx) in `cwd`; NODE_OPTIONS only as `env` gives it. */
export function startCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const holder = process.env.BUILDFENCE_HOLDER_TAG && args[0] === 'run' && !args.includes('--holder-image');
  const argv = holder ? ['run', '--holder-image', HOLDER_IMAGE, ...args.slice(1)] : args;
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'src/cli.ts'), ...argv], {
    cwd,
    env: { ...process.env, ...env, NODE_OPTIONS: env.NODE_OPTIONS ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, pid: child.pid! }));
    // A process the CLI started that outlives it and holds its output would keep 'close' away
    // for ever (a test hung so once): the result comes anyway, saying so.
    child.on('exit', (code, signal) => {
      setTimeout(() => {
        const note = '\n[harness: the CLI exited 10 s ago, and a process it started still holds its stdout or stderr]';
        resolve({ code, signal, stdout, stderr: stderr + note, pid: child.pid! });
      }, 10_000).unref();
    });
  });
  return { child, done };
}

export function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return startCli(args, cwd, env).done;
}

/**
 * Starts the CLI and waits until its stdout or stderr shows `marker` (within `ms`). Throws with
 * what it printed when the marker does not come, or the CLI ends first; `output()` is everything
 * printed so far.
 */
export async function startCliUntil(
  args: string[],
  cwd: string,
  marker: string | RegExp,
  { env = {}, ms = 60_000 }: { env?: NodeJS.ProcessEnv; ms?: number } = {},
): Promise<{ child: ChildProcess; done: Promise<CliResult>; output(): string }> {
  const { child, done } = startCli(args, cwd, env);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  let ended = false;
  void done.then(() => (ended = true));
  const seen = () => (typeof marker === 'string' ? out.includes(marker) : marker.test(out));
  await until(() => seen() || ended, ms).catch(() => undefined);
  if (!seen()) {
    child.kill('SIGKILL');
    // What the killed run created, removed here rather than left for the next run's sweep.
    const { pid } = await done;
    for (const name of await resourcesOf(pid)) {
      await run('docker', ['rm', '--force', name])
        .catch(() => run('docker', ['network', 'rm', name]))
        .catch(() => undefined);
    }
    throw new Error(`The CLI ${ended ? 'ended' : `did not print ${String(marker)} within ${ms} ms`}; it printed:\n${out}`);
  }
  return { child, done, output: () => out };
}

/** Polls `cond` every 100 ms until it holds; throws after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Containers and networks labelled with a buildfence run started by process `pid`. */
export async function resourcesOf(pid: number): Promise<string[]> {
  const filter = ['--filter', `label=buildfence.pid=${pid}`, '--format', '{{.Names}}'];
  const containers = await dockerText(['ps', '--all', ...filter]);
  const networks = await dockerText(['network', 'ls', '--filter', `label=buildfence.pid=${pid}`, '--format', '{{.Name}}']);
  return [...containers.split('\n'), ...networks.split('\n')].filter(Boolean);
}

/**
 * Parses the probe's result lines (`tcp 1.2.3.4:80 ok`) into verdicts: `ok`, `refused` (any fast
 * rejection: a reset, an ICMP error, or EPERM when the local fence denies a UDP send), `timeout`.
 */
export function verdicts(output: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of output.split('\n')) {
    const m = /^(tcp|udp) (\S+) (\w+)/.exec(line.trim());
    if (!m) continue;
    const word = ['refused', 'reset', 'unreachable', 'denied'].includes(m[3]) ? 'refused' : m[3];
    map.set(`${m[1]} ${m[2]}`, word);
  }
  return map;
}

/** One line of a truth table: what a probe should see, and what it saw. */
export interface TruthRow {
  case: string;
  probe: string;
  expect: string;
  observed: string;
}

/** The rows as aligned columns (case, probe, expected, observed), each differing row marked ✗. */
export function truthTable(rows: TruthRow[]): string {
  const head = { case: 'case', probe: 'probe', expect: 'expected', observed: 'observed' };
  const all = [head, ...rows];
  const w = (k: keyof typeof head) => Math.max(...all.map((r) => r[k].length));
  return all
    .map(
      (r, i) =>
        `${i > 0 && r.expect !== r.observed ? '✗' : ' '} ${r.case.padEnd(w('case'))}  ${r.probe.padEnd(w('probe'))}  ${r.expect.padEnd(w('expect'))}  ${r.observed}`,
    )
    .join('\n');
}
