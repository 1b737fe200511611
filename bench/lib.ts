// What the benchmarks share: timed processes, the CLI under test, an internal network with a
// probe source, phase timing (strace for processes, a recording proxy for Engine API calls), medians. Every byte of benchmark traffic goes to a
// container on an --internal network created here; allowlist entries beyond it are rules only.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** BUILDFENCE_HOLDER_TAG measures a holder built under another tag (scripts/build-holder-image TAG). */
export const HOLDER_IMAGE = process.env.BUILDFENCE_HOLDER_TAG || 'buildfence/holder:0.1.0';
/** The test image built under a tag of the benchmarks' own (see buildProbeImage). */
export const PROBE_IMAGE = 'buildfence-bench/probe:latest';
/** On everything the benchmarks create themselves (the CLI labels its own resources). */
export const BENCH_LABEL = 'buildfence-bench=1';
/** Long enough for a 10,000-entry run; a hung step is killed rather than waited for. */
const STEP_TIMEOUT_MS = 120_000;

export interface Result {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Told the process id once it is spawned. */
  onSpawn?: (pid: number) => void;
}

/** Runs a command to its end and times it from spawn to exit. */
export function timed(command: string, args: string[], options: RunOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const { timeoutMs = STEP_TIMEOUT_MS, onSpawn, ...spawnOptions } = options;
    const child = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    if (child.pid !== undefined) onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, code, stdout, stderr }));
  });
}

/** Like timed, but a non-zero exit is an error that shows the command's output. */
export async function must(command: string, args: string[], options: RunOptions = {}): Promise<Result> {
  const r = await timed(command, args, options);
  if (r.code !== 0) {
    throw new Error(`${command} ${args.slice(0, 4).join(' ')} ... exited with ${r.code}:\n${(r.stdout + r.stderr).trim().slice(-2000)}`);
  }
  return r;
}

export async function docker(args: string[]): Promise<string> {
  return (await must('docker', args)).stdout.trim();
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * The median of per-round ratios a[i] / b[i]. A round runs every variant back to back, so both
 * sides of each ratio saw about the same load from whatever else shares the machine.
 */
export function pairedRatio(a: number[], b: number[]): number {
  return median(a.map((x, i) => x / b[i]));
}

export const fmtMs = (ms: number) => `${Math.round(ms)} ms`;
export const fmtDeltaMs = (ms: number) => `${ms < 0 ? '-' : '+'}${Math.abs(Math.round(ms))} ms`;
export const fmtRatio = (r: number) => `${r.toFixed(2)}x`;
export const fmtPct = (r: number) => `${(r * 100).toFixed(1)} %`;

/** Runs `fn` once per variant per repetition, rotating the order so that no variant always goes first. */
export async function interleave<K extends string, T>(
  variants: K[],
  reps: number,
  fn: (variant: K) => Promise<T>,
): Promise<Record<K, T[]>> {
  const out = Object.fromEntries(variants.map((v) => [v, [] as T[]])) as Record<K, T[]>;
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(i + rep) % variants.length];
      out[v].push(await fn(v));
    }
  }
  return out;
}

/**
 * The probe test image (scripts/build-test-images) under the benchmarks' own tag: other
 * checkouts on this engine rebuild buildfence-test/probe:latest from their own probe.c, which
 * may lack the benchmark subcommands.
 */
export async function buildProbeImage(): Promise<{ remove(): Promise<void> }> {
  await must('bash', [path.join(ROOT, 'scripts/build-test-images')], { env: { ...process.env, BUILDFENCE_PROBE_TAG: PROBE_IMAGE } });
  return { remove: async () => void (await timed('docker', ['image', 'rm', PROBE_IMAGE])) };
}

/** The buildfence CLI as a command line: through tsx from src/, or a fresh bundle of src/. */
export interface Cli {
  name: string;
  argv: string[];
}

export interface Clis {
  tsx: Cli;
  bundle: Cli;
  /** Whether dist/ equals the fresh bundle, i.e. whether the bundle measured is what dist/cli.js is. */
  distCurrent: boolean;
  workspace: string;
  remove(): Promise<void>;
}

/**
 * dist/ may lag src/, so the bundled CLI measured is a fresh bundle of src/ in a temporary
 * directory (scripts/bundle.mjs, as the dist test does); it equals dist/cli.js when dist/ is current.
 */
export async function prepareClis(): Promise<Clis> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'bfbench-'));
  const bundleDir = path.join(tmp, 'bundle');
  const workspace = path.join(tmp, 'workspace');
  await fs.mkdir(workspace);
  await must(process.execPath, ['scripts/bundle.mjs', bundleDir], { cwd: ROOT });
  return {
    tsx: { name: 'src/cli.ts via tsx', argv: [process.execPath, '--import', import.meta.resolve('tsx'), path.join(ROOT, 'src/cli.ts')] },
    bundle: { name: 'bundled cli.js', argv: [process.execPath, path.join(bundleDir, 'cli.js')] },
    distCurrent: await sameTree(bundleDir, path.join(ROOT, 'dist')),
    workspace,
    remove: () => fs.rm(tmp, { recursive: true, force: true }),
  };
}

async function sameTree(a: string, b: string): Promise<boolean> {
  const files = async (dir: string) => {
    const names = await fs.readdir(dir, { recursive: true });
    const isFile = await Promise.all(names.map(async (n) => (await fs.stat(path.join(dir, n))).isFile()));
    return names.filter((_, i) => isFile[i]).sort();
  };
  try {
    const [fa, fb] = [await files(a), await files(b)];
    if (fa.join('\n') !== fb.join('\n')) return false;
    for (const f of fa) {
      if (!(await fs.readFile(path.join(a, f))).equals(await fs.readFile(path.join(b, f)))) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** `buildfence run` arguments for a release build of `script` in the probe image (or `image`, with `extra` arguments). */
export function runArgs(
  allow: string[],
  script: string,
  network?: string,
  dockerOptions?: string,
  { image = PROBE_IMAGE, extra = [] }: { image?: string; extra?: string[] } = {},
): string[] {
  return [
    'run',
    '--grade',
    'release',
    ...allow.flatMap((a) => ['--allow', a]),
    ...(network ? ['--network', network] : []),
    ...(dockerOptions ? [`--docker-options=${dockerOptions}`] : []),
    ...extra,
    '--pull',
    'never',
    '--image',
    image,
    '--shell',
    'sh',
    '--',
    script,
  ];
}

export interface BenchNet {
  name: string;
  /** The probe source's IPv4 address and port. */
  server: string;
  port: number;
  remove(): Promise<void>;
}

/** An --internal network (no route off the machine) with one `probe source` container. */
export async function benchNet(port = 7000): Promise<BenchNet> {
  const name = `bfbench-${randomBytes(4).toString('hex')}`;
  const container = `${name}-source`;
  await docker(['network', 'create', '--internal', '--label', BENCH_LABEL, name]);
  const remove = async () => {
    await timed('docker', ['rm', '--force', container]);
    await timed('docker', ['network', 'rm', name]);
  };
  try {
    await docker([
      'run',
      '--detach',
      '--name',
      container,
      '--network',
      name,
      '--label',
      BENCH_LABEL,
      PROBE_IMAGE,
      'probe',
      'source',
      String(port),
    ]);
    const server = await docker(['inspect', '--format', `{{(index .NetworkSettings.Networks "${name}").IPAddress}}`, container]);
    return { name, server, port, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/**
 * A container that stays up while the benchmark runs probes in it with docker exec, so that
 * fenced and unfenced measurements can alternate second by second, under the same load.
 */
export interface Session {
  /** The container the session's commands run in. */
  container: string;
  /** The buildfence process of a fenced session that runs untraced. */
  pid?: number;
  probe(args: string[]): Promise<string>;
  /** Any command in the session's container; its stdout. */
  exec(argv: string[]): Promise<string>;
  /** Ends the session; a fenced one returns the trace of its CLI run. */
  stop(): Promise<Trace | undefined>;
}

const STOP_FILE = '/tmp/bfbench-stop';
/** The fenced build waits for the stop file, for 10 minutes at most. */
const WAIT_SCRIPT = `i=0; while [ ! -e ${STOP_FILE} ] && [ $i -lt 3000 ]; do sleep 0.2; i=$((i+1)); done`;
/** The session's CLI outlives a step: the build's 10 minutes, then its teardown. */
const SESSION_TIMEOUT_MS = 600_000 + STEP_TIMEOUT_MS;

/** A release build through the CLI (traced), waiting while probes run in it. */
export async function fencedSession(
  cli: Cli,
  allow: string[],
  net: { name: string },
  cwd: string,
  options: { image?: string; extra?: string[]; untraced?: boolean } = {},
): Promise<Session> {
  const tag = randomBytes(4).toString('hex');
  let ended = false;
  const argv = [...cli.argv, ...runArgs(allow, WAIT_SCRIPT, net.name, `--label=bfbench.session=${tag}`, options)];
  // Untraced: no strace, no recorder in front of the engine (whose stream then carries the
  // name check's NFLOG lines through this process too), only the CLI's output.
  let pid: number | undefined;
  const run = (
    options.untraced
      ? timed(argv[0], argv.slice(1), { cwd, timeoutMs: SESSION_TIMEOUT_MS, onSpawn: (p) => (pid = p) }).then((r): Trace => ({
          totalMs: r.ms,
          docker: [],
          stdout: r.stdout,
          stderr: r.stderr,
        }))
      : traced(argv, cwd, SESSION_TIMEOUT_MS)
  ).finally(() => (ended = true));
  run.catch(() => undefined); // awaited in stop(), or reported below if the build never comes up
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  let id = '';
  while (!id) {
    if (ended) await run;
    if (Date.now() > deadline) throw new Error('the fenced build did not come up');
    await new Promise((r) => setTimeout(r, 200));
    id = await docker(['ps', '--quiet', '--filter', `label=bfbench.session=${tag}`, '--filter', 'status=running']);
  }
  return {
    container: id,
    pid,
    probe: async (args) => (await must('docker', ['exec', id, 'probe', ...args])).stdout,
    exec: async (argv) => (await must('docker', ['exec', id, ...argv])).stdout,
    stop: async () => {
      await timed('docker', ['exec', id, 'touch', STOP_FILE]);
      return run;
    },
  };
}

/** The probe image (or `image`, with `runOptions` for docker run) on the same internal network, without buildfence. */
export async function unfencedSession(net: { name: string }, image = PROBE_IMAGE, runOptions: string[] = []): Promise<Session> {
  const id = await docker(['run', '--detach', '--network', net.name, '--label', BENCH_LABEL, ...runOptions, image, 'sleep', '600']);
  return {
    container: id,
    probe: async (args) => (await must('docker', ['exec', id, 'probe', ...args])).stdout,
    exec: async (argv) => (await must('docker', ['exec', id, ...argv])).stdout,
    stop: async () => {
      await timed('docker', ['rm', '--force', id]);
      return undefined;
    },
  };
}

/** One process the traced CLI started (from its execve to its exit), or one Engine API call. */
export interface Phase {
  /** A process's argv, or `['api', METHOD, PATH]` with run-specific names replaced. */
  argv: string[];
  start: number;
  end: number;
}

export interface Trace {
  /** Wall time of the traced command, from its execve to its exit (ms). */
  totalMs: number;
  /** The docker processes and Engine API calls, in order of their start, in ms from the command's start. */
  docker: Phase[];
  /** When the holder's process began the load, and printed the end of its read-back, in ms from the start. */
  loadingAt?: number;
  loadedAt?: number;
  stdout: string;
  stderr: string;
}

/** Printed by the holder before its load and after its read-back (src/firewall/load.ts). */
const LOADING_MARK = '---buildfence-loading---';
const LOADED_MARK = '---buildfence-loaded---';

/**
 * Runs a command under `strace -f -e trace=execve`, which stops the tracee only at exec and
 * exit, with DOCKER_HOST pointing at a proxy in front of the engine that notes when each API
 * request starts and when its last answer byte passes (a stream's end for attach and exec).
 * buildfence prints no timings, so this is how the setup is broken down without changing it.
 */
export async function traced(argv: string[], cwd: string, timeoutMs?: number, env: NodeJS.ProcessEnv = {}): Promise<Trace> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bfbench-strace-'));
  const recorder = await engineRecorder(path.join(dir, 'engine.sock'));
  try {
    const out = path.join(dir, 'trace');
    const r = await timed(
      'strace',
      ['-f', '--seccomp-bpf', '-q', '-e', 'trace=execve', '-e', 'signal=none', '-ttt', '-s', '64', '-o', out, ...argv],
      {
        cwd,
        timeoutMs,
        env: { ...process.env, ...env, DOCKER_HOST: `unix://${recorder.socket}` },
      },
    );
    if (r.code !== 0) throw new Error(`traced run exited with ${r.code}:\n${(r.stdout + r.stderr).trim().slice(-2000)}`);
    const trace = parseTrace(await fs.readFile(out, 'utf8'));
    const rel = (t: number) => t - trace.startedAt;
    const api = recorder.calls.map((c) => ({ argv: ['api', c.method, c.path], start: rel(c.start), end: rel(c.end) }));
    return {
      totalMs: trace.totalMs,
      docker: [...trace.docker, ...api].sort((x, y) => x.start - y.start),
      loadingAt: recorder.marks.get(LOADING_MARK) === undefined ? undefined : rel(recorder.marks.get(LOADING_MARK)!),
      loadedAt: recorder.marks.get(LOADED_MARK) === undefined ? undefined : rel(recorder.marks.get(LOADED_MARK)!),
      stdout: r.stdout,
      stderr: r.stderr,
    };
  } finally {
    await recorder.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

interface ApiCall {
  method: string;
  path: string;
  start: number;
  end: number;
}

/** A unix socket that passes every byte to the engine's and notes each request's start and last answer byte. */
async function engineRecorder(
  socket: string,
): Promise<{ socket: string; calls: ApiCall[]; marks: Map<string, number>; close(): Promise<void> }> {
  const now = () => performance.timeOrigin + performance.now();
  const engine = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice('unix://'.length) : '/var/run/docker.sock';
  const recorder = { socket, calls: [] as ApiCall[], marks: new Map<string, number>(), close: async () => undefined };
  const conns = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(engine);
    conns.add(client).add(upstream);
    let current: ApiCall | undefined;
    client.on('data', (d: Buffer) => {
      // A request's first chunk starts with its request line (HTTP/1.1, one request at a time).
      const line = /^(GET|POST|DELETE|PUT|HEAD) (\S+) HTTP\/1\.1/.exec(d.toString('latin1', 0, Math.min(d.length, 2048)));
      if (line) {
        current = { method: line[1], path: apiPath(line[2]), start: now(), end: now() };
        if (current.path === '/containers/create')
          current.path += /[?&]name=buildfence-[0-9a-f]{12}-holder/.test(line[2]) ? ' (holder)' : ' (build)';
        recorder.calls.push(current);
      }
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (current) current.end = now();
      // The holder's output only: an inspect of the holder also shows the marks, in its command.
      if (current?.path === '/containers/{holder}/attach') {
        for (const mark of [LOADING_MARK, LOADED_MARK]) if (!recorder.marks.has(mark) && d.includes(mark)) recorder.marks.set(mark, now());
      }
      client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  recorder.close = async () => {
    for (const c of conns) c.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return recorder;
}

/** `/containers/buildfence-0a1b…-holder/start?x=1` as `/containers/{holder}/start`: the same call in every run. */
export function apiPath(raw: string): string {
  return raw
    .replace(/\?.*$/, '')
    .replace(/^\/v\d+\.\d+/, '')
    .replace(/buildfence-[0-9a-f]{12}-(holder|build)/, '{$1}')
    .replace(/buildfence-[0-9a-f]{12}/, '{network}')
    .replace(/\/exec\/[0-9a-f]{64}/, '/exec/{id}')
    .replace(/^\/images\/.+\/json$/, '/images/{image}/json');
}

function parseTrace(text: string): { totalMs: number; startedAt: number; docker: Phase[] } {
  const procs = new Map<number, Phase>();
  let root: number | undefined;
  for (const line of text.split('\n')) {
    const exec = /^(\d+) +(\d+\.\d+) execve\("[^"]*", \[(.*?)\](?:, 0x| <unfinished)/.exec(line);
    if (exec) {
      const pid = Number(exec[1]);
      root ??= pid;
      const argv = [...exec[3].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);
      procs.set(pid, { argv, start: procs.get(pid)?.start ?? Number(exec[2]) * 1000, end: NaN });
      continue;
    }
    const exit = /^(\d+) +(\d+\.\d+) \+\+\+ (?:exited|killed)/.exec(line);
    const proc = exit && procs.get(Number(exit[1]));
    if (proc) proc.end = Number(exit[2]) * 1000;
  }
  const top = root === undefined ? undefined : procs.get(root);
  if (!top || Number.isNaN(top.end)) throw new Error('strace output has no start or end of the traced command');
  const rel = (p: Phase): Phase => ({ argv: p.argv, start: p.start - top.start, end: p.end - top.start });
  return {
    totalMs: top.end - top.start,
    startedAt: top.start,
    docker: [...procs.values()]
      .filter((p) => p !== top && /(^|\/)docker$/.test(p.argv[0] ?? ''))
      .map(rel)
      .sort((a, b) => a.start - b.start),
  };
}

/** `docker network create`, `docker exec tcpdump`: a docker call's verb (and what an exec runs), for the breakdown. */
export function dockerVerb(argv: string[]): string {
  if (argv[0] === 'api') return `${argv[1]} ${argv[2]}`;
  const words = argv.slice(1);
  if (words[0] === 'exec') {
    // docker exec [OPTIONS] CONTAINER COMMAND: the command is the second word that is not an option.
    const [, command] = words.slice(1).filter((w) => !w.startsWith('-'));
    return `docker exec ${command ?? ''}`.trim();
  }
  return ['network', 'image', 'container', 'volume'].includes(words[0]) ? `docker ${words[0]} ${words[1]}` : `docker ${words[0]}`;
}

export async function describeMachine(): Promise<string> {
  const [server, client] = (await docker(['version', '--format', '{{.Server.Version}} {{.Client.Version}}'])).split(' ');
  const commit = await timed('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  const dirty = await timed('git', ['-C', ROOT, 'status', '--porcelain', 'src']);
  const others = (await docker(['ps', '--quiet'])).split('\n').filter(Boolean).length;
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const code =
    commit.code === 0
      ? `commit ${commit.stdout.trim()}${dirty.stdout.trim() ? ' with uncommitted changes in src/' : ''}`
      : 'not a git checkout';
  return (
    `${code}; ${os.availableParallelism()} CPUs (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
    `kernel ${os.release()}, Docker engine ${server} (client ${client}), Node ${process.version}; ` +
    `${others} other container(s) running at the start`
  );
}

/** "load average 0.31 before, 1.52 after (1 min)": the machine is shared, so say how busy it was. */
export function loadNote(before: number): string {
  return `load average ${before.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after (1 min)`;
}

/** Removes what a killed benchmark run left (the CLI sweeps its own leftovers at its next start). */
export async function sweepBench(): Promise<void> {
  const containers = (await docker(['ps', '--all', '--quiet', '--filter', `label=${BENCH_LABEL}`])).split('\n').filter(Boolean);
  if (containers.length) await timed('docker', ['rm', '--force', ...containers]);
  const networks = (await docker(['network', 'ls', '--quiet', '--filter', `label=${BENCH_LABEL}`])).split('\n').filter(Boolean);
  if (networks.length) await timed('docker', ['network', 'rm', ...networks]);
}
