// The one orchestration behind the action and the CLI: up, seal, verify, run, down.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  buildCreateArgs,
  holderRunArgs,
  networkCreateArgs,
  resourceNames,
  runnerEnvNames,
  type RunIdentity,
} from './docker/args.js';
import { docker, dockerOk, lastLine } from './docker/cli.js';
import { ensureHolderImage } from './docker/holder-image.js';
import { inspectGateways } from './docker/network.js';
import { findLeftovers, processAlive, removeLeftovers, removeRun } from './docker/resources.js';
import { loadAndVerify, writeRuleFiles } from './firewall/load.js';
import { renderRuleset, type Ruleset } from './firewall/ruleset.js';
import type { Log } from './log.js';
import type { RunSpec } from './spec.js';
import type { AddressEntry, Entry } from './types.js';

export interface RunHandle {
  runId: string;
  /** True when the run creates its own network (and so must remove it). */
  ownNetwork: boolean;
}

export interface SandboxHooks {
  /** Called before anything is created, so a post step can clean up even if this process dies. */
  onStart?(run: RunHandle): void;
}

export interface RunResult extends RunHandle {
  exitCode: number;
  rules: Ruleset;
}

const SCRIPT_NAME = 'script.sh';

export async function runSandbox(spec: RunSpec, log: Log, hooks: SandboxHooks = {}): Promise<RunResult> {
  const id: RunIdentity = { runId: randomBytes(6).toString('hex'), pid: process.pid, host: os.hostname() };
  const handle: RunHandle = { runId: id.runId, ownNetwork: spec.network === undefined };
  const names = resourceNames(id.runId);
  hooks.onStart?.(handle);

  const tmp = await fs.mkdtemp(path.join(process.env.RUNNER_TEMP || os.tmpdir(), `buildfence-${id.runId}-`));
  let teardown: Promise<void> | undefined;
  const down = () => (teardown ??= tearDown(handle, tmp, log));
  const cancellation = onCancel(log, down);
  try {
    const rules = await log.group('Fence up', async () => {
      await sweep(id, log);
      await ensureHolderImage(spec.holderImage, log);
      const dirs = await prepareDirs(tmp, spec);
      const network = spec.network ?? names.network;
      if (handle.ownNetwork) await dockerOk(networkCreateArgs(id));
      const gateways = await inspectGateways(network);
      const rules = renderRuleset({ mode: spec.mode, entries: addressEntries(spec.allow), gateways });
      await writeRuleFiles(dirs.rules, rules);
      await startHolder(holderRunArgs({ id, image: spec.holderImage, network, rulesDir: dirs.rules, pull: spec.pull }), spec.holderImage);
      await loadAndVerify(names.holder, spec.holderImage, rules);
      log.info(
        `Grade ${spec.grade}, mode ${spec.mode}: ${spec.allow.length} allowlist entr${spec.allow.length === 1 ? 'y' : 'ies'}; ` +
          `rules loaded and verified in holder ${names.holder}.`,
      );
      return rules;
    });
    const exitCode = await runBuild(spec, id, tmp, log);
    return { ...handle, exitCode, rules };
  } finally {
    await down();
    cancellation.dispose();
  }
}

async function sweep(id: RunIdentity, log: Log): Promise<void> {
  const leftovers = await findLeftovers(id, processAlive);
  if (leftovers.length === 0) return;
  const runs = [...new Set(leftovers.map((l) => l.runId))];
  log.info(`Removing ${leftovers.length} resource(s) left by ended run(s) ${runs.join(', ')}.`);
  await removeLeftovers(leftovers);
}

async function prepareDirs(tmp: string, spec: RunSpec): Promise<{ rules: string; script: string; envFile: string }> {
  const rules = path.join(tmp, 'rules');
  const script = path.join(tmp, 'script');
  await fs.mkdir(rules, { mode: 0o755 });
  await fs.mkdir(script, { mode: 0o755 });
  await fs.writeFile(path.join(script, SCRIPT_NAME), spec.run.endsWith('\n') ? spec.run : `${spec.run}\n`, { mode: 0o644 });
  const envFile = path.join(tmp, 'env');
  await fs.writeFile(envFile, spec.env.map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
  return { rules, script, envFile };
}

async function startHolder(args: string[], image: string): Promise<void> {
  const result = await docker(args);
  if (result.exitCode !== 0) {
    throw new Error(`Cannot start the holder container from image ${image}: ${lastLine(result.stderr)}. The build was not started.`);
  }
}

async function runBuild(spec: RunSpec, id: RunIdentity, tmp: string, log: Log): Promise<number> {
  const names = resourceNames(id.runId);
  const created = await docker(
    buildCreateArgs({
      id,
      spec,
      scriptDir: path.join(tmp, 'script'),
      scriptName: SCRIPT_NAME,
      envFile: path.join(tmp, 'env'),
      passedEnv: runnerEnvNames(process.env),
    }),
  );
  if (created.exitCode !== 0) {
    throw new Error(`Cannot create the build container from image ${spec.image}: ${lastLine(created.stderr)}`);
  }
  log.info(`Running the build in ${spec.image} (${names.build}).`);
  await log.untrusted((write) =>
    docker(['start', '--attach', names.build], {
      onStdout: (d) => write(d, 'stdout'),
      onStderr: (d) => write(d, 'stderr'),
    }),
  );
  const state = await dockerOk(['inspect', '--format', '{{.State.ExitCode}} {{.State.Error}}', names.build]);
  const [code, ...error] = state.trim().split(' ');
  if (error.join(' ').trim()) log.warning(`The build container reported: ${error.join(' ').trim()}`);
  return Number(code);
}

async function tearDown(handle: RunHandle, tmp: string, log: Log): Promise<void> {
  const problems = await removeRun(handle.runId, handle.ownNetwork);
  for (const p of problems) log.warning(`Teardown of run ${handle.runId}: ${p}`);
  await fs.rm(tmp, { recursive: true, force: true });
}

// A cancelled job gets SIGINT, then SIGTERM: stop the build and remove everything, then exit.
function onCancel(log: Log, down: () => Promise<void>): { dispose(): void } {
  const handler = (signal: NodeJS.Signals) => {
    log.warning(`Received ${signal}: stopping the build and removing the fence.`);
    void down().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return {
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

function addressEntries(entries: Entry[]): AddressEntry[] {
  return entries.filter((e): e is AddressEntry => e.kind === 'address');
}
