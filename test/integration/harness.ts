// Shared fixtures for tests against the real Docker engine. Every probe targets a container on an
// --internal network created here: a broken fence must not send a packet off the machine.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const HOLDER_IMAGE = 'buildfence/holder:0.1.0';
export const PROBE_IMAGE = 'buildfence-test/probe:latest';
const TEST_LABEL = 'buildfence-test=1';
/** A closed loopback port as the DNS upstream, for tests that resolve nothing. */
export const LOOPBACK_UPSTREAM = '127.0.0.1:9';

export async function dockerText(args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
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
  const servers: Server[] = [];
  for (let i = 0; i < count; i++) {
    const server = `${name}-srv${i}`;
    await dockerText([
      'run', '--detach', '--name', server, '--network', name, '--label', TEST_LABEL, PROBE_IMAGE,
      'sh', '-c', ports.map((p) => `probe serve ${p} &`).join(' ') + ' wait',
    ]);
    const [ipv4, ipv6] = (
      await dockerText(['inspect', '--format', `{{(index .NetworkSettings.Networks "${name}").IPAddress}} {{(index .NetworkSettings.Networks "${name}").GlobalIPv6Address}}`, server])
    ).split(' ');
    servers.push({ name: server, ipv4, ipv6 });
  }
  return {
    name,
    servers,
    async remove() {
      await run('docker', ['rm', '--force', ...servers.map((s) => s.name)]).catch(() => undefined);
      await run('docker', ['network', 'rm', name]).catch(() => undefined);
    },
  };
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

/** Starts the CLI from src/ (through tsx) in `cwd`. */
export function startCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'src/cli.ts'), ...args], {
    cwd,
    env: { ...process.env, ...env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, pid: child.pid! }));
  });
  return { child, done };
}

export function cli(args: string[], cwd: string): Promise<CliResult> {
  return startCli(args, cwd).done;
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
