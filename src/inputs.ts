// Turns action inputs or CLI flags into a RunSpec. Every error names the input, the value and
// the expected form; nothing is silently dropped or widened.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllowlist, uniqueEntries } from './policy/allowlist.js';
import { loadPolicy } from './policy/load.js';
import { gradeOf } from './policy/policy.js';
import { checkDockerOptions, isHostPath, parseDockerOptions } from './docker/options-guard.js';
import { splitWords } from './words.js';
import type { RunSpec } from './spec.js';
import { parseUpstreams } from './dns/upstream.js';
import { DEFAULT_AGENT_IMAGE } from './kubernetes/pod.js';
import type { Mode } from './types.js';

export const DEFAULT_HOLDER_IMAGE = 'buildfence/holder:0.1.0';

export const INPUT_DEFAULTS = {
  grade: 'dev',
  image: 'ubuntu:24.04',
  shell: 'sh -e',
  'holder-image': DEFAULT_HOLDER_IMAGE,
  pull: 'missing',
  runtime: 'auto',
  'agent-image': DEFAULT_AGENT_IMAGE,
} as const;

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Reads one input by its action.yml name; returns '' when unset. */
export type InputReader = (name: string) => string;

export interface InputContext {
  /** The directory mounted into the build: GITHUB_WORKSPACE, or the CLI's current directory. */
  workspace: string;
  /** How the allowlist was given, for messages: `input 'allowlist'` or `--allow`. */
  allowlistSource: string;
}

export function readRunSpec(read: InputReader, ctx: InputContext): RunSpec {
  const get = (name: keyof typeof INPUT_DEFAULTS) => read(name).trim() || INPUT_DEFAULTS[name];
  const workspace = checkWorkspace(path.resolve(ctx.workspace));
  const policy = guarded(() => loadPolicy(read('policy').trim(), workspace, "Input 'policy'"));
  const grade = guarded(() => gradeOf(policy, get('grade')));
  const mode = readMode(read('mode').trim(), grade.mode);
  const run = read('run');
  if (run.trim() === '') throw new InputError("Input 'run' is required: the script to run in the build container.");

  const dockerOptions = guarded(() => parseDockerOptions(read('docker-options')));
  guarded(() => checkDockerOptions(dockerOptions, mode, undefined, hostRealPath));

  const network = read('network').trim() || undefined;
  if (network !== undefined) checkNetwork(network);

  return {
    grade: grade.name,
    mode,
    // The allowlist input adds to the grade's allow list; the grade's deny list beats both.
    allow: uniqueEntries([...grade.allow, ...guarded(() => parseAllowlist(read('allowlist'), ctx.allowlistSource))]),
    deny: grade.deny,
    // The input when it is set, else the grade's.
    failOnDenied: readBoolean(read('fail-on-denied'), 'fail-on-denied') ?? grade.failOnDenied,
    run,
    image: get('image'),
    shell: readShell(get('shell')),
    workspace,
    workingDirectory: path.resolve(workspace, read('working-directory').trim() || '.'),
    env: readEnv(read('env')),
    holderImage: get('holder-image'),
    network,
    dockerOptions,
    pull: readPull(get('pull')),
    runtime: readRuntime(get('runtime')),
    agentImage: get('agent-image'),
    dns: readDns(read),
  };
}

export const DNS_TTL_DEFAULTS = { min: 60, max: 3600 } as const;
// ipset's largest timeout.
const TTL_LIMIT = 2147483;

function readDns(read: InputReader): RunSpec['dns'] {
  const upstream = read('dns-upstream').trim();
  const ttlMin = readSeconds(read('dns-ttl-min'), 'dns-ttl-min', DNS_TTL_DEFAULTS.min);
  const ttlMax = readSeconds(read('dns-ttl-max'), 'dns-ttl-max', DNS_TTL_DEFAULTS.max);
  if (ttlMax < ttlMin) {
    throw new InputError(`Input 'dns-ttl-max' (${ttlMax}) is below 'dns-ttl-min' (${ttlMin}). The ceiling must be at least the floor.`);
  }
  return {
    upstreams: upstream === '' ? undefined : guarded(() => parseUpstreams(upstream, "Input 'dns-upstream'")),
    ttlMin,
    ttlMax,
  };
}

/** `true` or `false` as GitHub writes booleans; '' means unset (the policy decides). */
function readBoolean(value: string, input: string): boolean | undefined {
  const text = value.trim().toLowerCase();
  if (text === '') return undefined;
  if (text === 'true' || text === 'false') return text === 'true';
  throw new InputError(`Input '${input}' has invalid value '${value.trim()}'. Expected 'true' or 'false'.`);
}

function readSeconds(value: string, input: string, fallback: number): number {
  const text = value.trim();
  if (text === '') return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > TTL_LIMIT) {
    throw new InputError(`Input '${input}' has invalid value '${text}'. Expected whole seconds from 1 to ${TTL_LIMIT}.`);
  }
  return Number(text);
}

function readMode(value: string, gradeMode: Mode): Mode {
  if (value === '') return gradeMode;
  if (value === 'block' || value === 'audit') return value;
  throw new InputError(
    `Input 'mode' has invalid value '${value}'. Expected 'block' or 'audit' (or leave it empty to use the grade's mode).`,
  );
}

function readShell(value: string): string[] {
  const words = guarded(() => splitWords(value, 'shell'));
  if (words.length === 0) throw new InputError("Input 'shell' is empty. Expected a command such as 'sh -e' or 'bash -e {0}'.");
  return words;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function readEnv(value: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const raw of value.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line.trim() : line.slice(0, eq).trim();
    if (eq < 0 || !ENV_NAME.test(key)) {
      throw new InputError(
        `Input 'env' has invalid line '${line}'. Expected KEY=VALUE, one per line, KEY made of letters, digits and '_'.`,
      );
    }
    pairs.push([key, line.slice(eq + 1)]);
  }
  return pairs;
}

function readRuntime(value: string): RunSpec['runtime'] {
  if (value === 'auto' || value === 'docker' || value === 'kubernetes') return value;
  throw new InputError(`Input 'runtime' has invalid value '${value}'. Expected 'auto', 'docker' or 'kubernetes'.`);
}

function readPull(value: string): RunSpec['pull'] {
  if (value === 'missing' || value === 'never') return value;
  throw new InputError(`Input 'pull' has invalid value '${value}'. Expected 'missing' (pull images that are not present) or 'never'.`);
}

// The workspace is mounted into the build: a directory that holds the Docker socket would hand
// the build the engine, and with it every other container.
const SOCKET_PARENTS = ['/', '/var', '/run', '/var/run'];

function checkWorkspace(dir: string): string {
  if (SOCKET_PARENTS.includes(dir)) {
    throw new InputError(
      `The workspace '${dir}' would be mounted into the build and contains the Docker socket. Run from a project directory.`,
    );
  }
  return dir;
}

function checkNetwork(network: string): void {
  if (network === 'host' || network === 'none' || network.startsWith('container:')) {
    throw new InputError(
      `Input 'network' cannot be '${network}': the holder needs a network namespace of its own ` +
        "(with host it would rewrite the runner's firewall). Name a bridge network, or leave it empty for Docker's default bridge.",
    );
  }
}

function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(err instanceof Error ? err.message : String(err));
  }
}

/**
 * Where a mount source leads on this host, as the engine will mount it: the docker CLI that
 * creates the build runs here, in this directory. Undefined when it does not exist (yet).
 */
function hostRealPath(source: string): string | undefined {
  if (!isHostPath(source)) return undefined;
  try {
    return fs.realpathSync.native(path.resolve(source));
  } catch {
    return undefined;
  }
}
