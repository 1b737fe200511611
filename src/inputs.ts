// Action inputs or CLI flags to a RunSpec, in two steps: getInputs reads every input into one
// typed Inputs, each value checked on its own; toRunSpec combines them with the policy file and
// checks what depends on more than one. Every error names the input (the flag in the CLI), the
// value and the expected form; nothing is silently dropped or widened.
import * as path from 'node:path';
import { parseUpstreams } from './dns/upstream.js';
import { engineExposure } from './docker/engine-paths.js';
import { hostRealPath } from './docker/host-path.js';
import { checkDockerOptions, parseDockerOptions, type RealPath } from './docker/options-guard.js';
import { parseAllowlist, uniqueEntries } from './policy/allowlist.js';
import { loadPolicy } from './policy/load.js';
import { gradeOf } from './policy/policy.js';
import { BUILD_IMAGE, DNS_TTL, INPUT_DEFAULTS, PULL, type DefaultedInput } from './run/defaults.js';
import type { Mode } from './run/entry.js';
import { splitWords } from './run/shell-words.js';
import { inputLabel, type InputVia, type RunSpec, type RuntimeChoice, type Upstream } from './run/spec.js';

/** Reads one input by its action.yml name; returns '' when unset. */
export type InputReader = (name: string) => string;

/** Every input, read and checked one by one; what depends on the policy file is toRunSpec's. */
export interface Inputs {
  grade: string;
  /** The policy file as named, relative to the workspace; '' for the default file when it exists. */
  policy: string;
  /** Allowlist entries and preset references, one item each, as written. */
  allowlist: string[];
  run: string;
  image: string;
  shell: string[];
  /** Relative to the workspace; '' for the workspace itself. */
  workingDirectory: string;
  env: Array<[string, string]>;
  /** Absent: the grade's. */
  mode?: Mode;
  holderImage: string;
  /** Absent: Docker's default bridge. */
  network?: string;
  /** Unparsed docker run options as words; they are judged with the mode in toRunSpec. */
  dockerOptions: string[];
  pull: 'missing' | 'never';
  /** Absent: the grade's. */
  failOnDenied?: boolean;
  /** Absent: the host's resolvers. */
  dnsUpstream?: Upstream[];
  dnsTtlMin: number;
  dnsTtlMax: number;
  runtime: RuntimeChoice;
  agentImage: string;
  /** Artifacts to attest, relative to the workspace. */
  subjectPaths: string[];
}

// ipset's largest timeout.
const TTL_LIMIT = 2147483;

export function getInputs(read: InputReader, via: InputVia): Inputs {
  const label = (name: string) => inputLabel(via, name);
  const get = (name: DefaultedInput) => read(name).trim() || INPUT_DEFAULTS[name];
  const run = read('run');
  if (run.trim() === '') throw new Error(`${label('run')} is required: the script to run in the build container.`);
  const upstream = listInput(read('dns-upstream'), { commas: true });
  const inputs: Inputs = {
    grade: get('grade'),
    policy: read('policy').trim(),
    allowlist: listInput(read('allowlist'), { commas: true, comments: true }),
    run,
    image: get('image') || BUILD_IMAGE,
    shell: readShell(get('shell'), label('shell')),
    workingDirectory: read('working-directory').trim(),
    env: readEnv(listInput(read('env')), label('env')),
    mode: readMode(read('mode').trim(), label('mode')),
    holderImage: get('holder-image'),
    network: readNetwork(read('network').trim(), label('network')),
    dockerOptions: parseDockerOptions(read('docker-options'), label('docker-options')),
    pull: readChoice(get('pull') || PULL, label('pull'), ['missing', 'never'], "'missing' (pull images that are not present) or 'never'"),
    failOnDenied: readBoolean(read('fail-on-denied'), label('fail-on-denied')),
    dnsUpstream: upstream.length === 0 ? undefined : parseUpstreams(upstream, label('dns-upstream')),
    dnsTtlMin: readSeconds(read('dns-ttl-min'), label('dns-ttl-min'), DNS_TTL.min),
    dnsTtlMax: readSeconds(read('dns-ttl-max'), label('dns-ttl-max'), DNS_TTL.max),
    runtime: readChoice(
      get('runtime'),
      label('runtime'),
      ['auto', 'docker', 'kubernetes', 'host'],
      "'auto', 'docker', 'kubernetes' or 'host'",
    ),
    agentImage: get('agent-image'),
    subjectPaths: readSubjectPaths(listInput(read('subject-path'), { commas: true }), label('subject-path')),
  };
  if (inputs.runtime === 'host') refuseForHost(read, via);
  if (inputs.dnsTtlMax < inputs.dnsTtlMin) {
    throw new Error(
      `${label('dns-ttl-max')} (${inputs.dnsTtlMax}) is below ${label('dns-ttl-min')} (${inputs.dnsTtlMin}). The ceiling must be at least the floor.`,
    );
  }
  return inputs;
}

/** The host runtime runs the script on the runner: there is no build image, nor docker options for it. */
function refuseForHost(read: InputReader, via: InputVia): void {
  const given = (['image', 'docker-options', 'pull'] as const).filter((name) => read(name).trim() !== '');
  if (given.length === 0) return;
  const names = given.map((n) => inputLabel(via, n, true)).join(', ');
  throw new Error(
    `${inputLabel(via, 'runtime')} is 'host', which runs the script on the runner itself, with its own files and tools: ` +
      `${names} ${given.length === 1 ? 'applies' : 'apply'} to a build container only. Remove ${given.length === 1 ? 'it' : 'them'}, or use runtime 'docker'.`,
  );
}

export interface SpecContext {
  /** The directory mounted into the build: GITHUB_WORKSPACE, or the CLI's current directory. */
  workspace: string;
  via: InputVia;
}

export function toRunSpec(inputs: Inputs, ctx: SpecContext): RunSpec {
  const label = (name: string) => inputLabel(ctx.via, name);
  const workspace = checkWorkspace(path.resolve(ctx.workspace));
  const policy = loadPolicy(inputs.policy, workspace, label('policy'));
  const grade = gradeOf(policy, inputs.grade, label('grade'));
  const mode = inputs.mode ?? grade.mode;
  checkDockerOptions(inputs.dockerOptions, mode, { label: label('docker-options'), grade: grade.name, realPath: hostRealPath });
  return {
    via: ctx.via,
    grade: grade.name,
    ...(policy.file !== undefined && policy.sha256 !== undefined ? { policyFile: { path: policy.file, sha256: policy.sha256 } } : {}),
    mode,
    // The allowlist input adds to the grade's allow list; the grade's deny list beats both.
    allow: uniqueEntries([...grade.allow, ...parseAllowlist(inputs.allowlist, inputLabel(ctx.via, 'allowlist', true))]),
    deny: grade.deny,
    failOnDenied: inputs.failOnDenied ?? grade.failOnDenied,
    run: inputs.run,
    image: inputs.image,
    shell: inputs.shell,
    workspace,
    workingDirectory: path.resolve(workspace, inputs.workingDirectory || '.'),
    env: inputs.env,
    holderImage: inputs.holderImage,
    network: inputs.network,
    dockerOptions: inputs.dockerOptions,
    pull: inputs.pull,
    runtime: inputs.runtime,
    agentImage: inputs.agentImage,
    subjectPaths: inputs.subjectPaths,
    dns: { upstreams: inputs.dnsUpstream, ttlMin: inputs.dnsTtlMin, ttlMax: inputs.dnsTtlMax },
  };
}

/** Both steps: what the action and the CLI call. */
export function readRunSpec(read: InputReader, ctx: SpecContext): RunSpec {
  return toRunSpec(getInputs(read, ctx.via), ctx);
}

/**
 * A list input's items: one per line, or (`commas`) also comma-separated; with `comments`, `#`
 * starts a comment that runs to the end of the line. Items are trimmed; empty ones are dropped.
 */
export function listInput(value: string, options: { commas?: boolean; comments?: boolean } = {}): string[] {
  return value
    .split(/\r\n|\n|\r/)
    .map((line) => (options.comments && line.includes('#') ? line.slice(0, line.indexOf('#')) : line))
    .flatMap((line) => (options.commas ? line.split(',') : [line]))
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** `true` or `false` as GitHub writes booleans; '' means unset (the policy decides). */
export function readBoolean(value: string, label: string): boolean | undefined {
  const text = value.trim().toLowerCase();
  if (text === '') return undefined;
  if (text === 'true' || text === 'false') return text === 'true';
  throw new Error(`${label} has invalid value '${value.trim()}'. Expected 'true' or 'false'.`);
}

export function readSeconds(value: string, label: string, fallback: number): number {
  const text = value.trim();
  if (text === '') return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > TTL_LIMIT) {
    throw new Error(`${label} has invalid value '${text}'. Expected whole seconds from 1 to ${TTL_LIMIT}.`);
  }
  return Number(text);
}

export function readMode(value: string, label: string): Mode | undefined {
  if (value === '') return undefined;
  if (value === 'block' || value === 'audit') return value;
  throw new Error(`${label} has invalid value '${value}'. Expected 'block' or 'audit' (or leave it empty to use the grade's mode).`);
}

export function readChoice<T extends string>(value: string, label: string, choices: readonly T[], expected: string): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new Error(`${label} has invalid value '${value}'. Expected ${expected}.`);
}

export function readShell(value: string, label: string): string[] {
  const words = splitWords(value, label);
  if (words.length === 0) throw new Error(`${label} is empty. Expected a command such as 'sh -e' or 'bash -e {0}'.`);
  return words;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `KEY=VALUE` lines; the value is kept as written (spaces, '=' and '#' included). */
export function readEnv(lines: string[], label: string): Array<[string, string]> {
  return lines.map((line) => {
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq).trim();
    if (eq < 0 || !ENV_NAME.test(key)) {
      throw new Error(`${label} has invalid line '${line}'. Expected KEY=VALUE, one per line, KEY made of letters, digits and '_'.`);
    }
    return [key, line.slice(eq + 1)];
  });
}

/** Paths inside the workspace: an attestation names artifacts the build made, not the runner's files. */
export function readSubjectPaths(items: string[], label: string): string[] {
  for (const item of items) {
    const normal = path.posix.normalize(item);
    if (path.isAbsolute(item) || normal === '..' || normal.startsWith('../')) {
      throw new Error(
        `${label} has invalid path '${item}'. Expected a file inside the workspace, written relative to it (dist/app.tar.gz).`,
      );
    }
  }
  return items;
}

export function readNetwork(value: string, label: string): string | undefined {
  if (value === '') return undefined;
  if (value === 'host' || value === 'none' || value.startsWith('container:')) {
    throw new Error(
      `${label} cannot be '${value}': the holder needs a network namespace of its own ` +
        "(with host it would rewrite the runner's firewall). Name a bridge network, or leave it empty for Docker's default bridge.",
    );
  }
  return value;
}

/**
 * The workspace is mounted into the build: one that is, holds or lies inside an engine's socket
 * or state (judged as written and where its links lead) would hand the build the engine, and
 * with it every other container.
 */
export function checkWorkspace(dir: string, realPath: RealPath = hostRealPath): string {
  for (const where of new Set([dir, realPath(dir) ?? dir])) {
    const exposure = engineExposure(where);
    if (exposure) {
      const through = where === dir ? '' : ` (it leads to ${where})`;
      throw new Error(
        `The workspace '${dir}' would be mounted into the build${through}: ${exposure.reason}. Run from a project directory.`,
      );
    }
  }
  return dir;
}
