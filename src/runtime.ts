// Which engine carries the fence: Docker (holder and build containers) or Kubernetes (a Pod).
import { ping } from './docker/engine.js';
import { runInCluster } from './kubernetes/cluster.js';
import type { Log } from './log.js';
import { runSandbox, type RunResult, type SandboxHooks } from './sandbox.js';
import type { RunSpec } from './spec.js';

export type Runtime = 'docker' | 'kubernetes';

/**
 * `auto`: kubernetes on a Kubernetes-mode runner (ACTIONS_RUNNER_POD_NAME set) where no Docker
 * engine answers, docker otherwise.
 */
export async function chooseRuntime(
  value: RunSpec['runtime'],
  env: NodeJS.ProcessEnv,
  dockerAnswers: () => Promise<boolean>,
): Promise<Runtime> {
  if (value !== 'auto') return value;
  if (!env.ACTIONS_RUNNER_POD_NAME) return 'docker';
  return (await dockerAnswers()) ? 'docker' : 'kubernetes';
}

export async function engineAnswers(): Promise<boolean> {
  return ping().then(
    () => true,
    () => false,
  );
}

/** The fenced run on the chosen runtime: what the action and the CLI call. */
export async function runFenced(spec: RunSpec, log: Log, hooks: SandboxHooks = {}): Promise<RunResult> {
  const runtime = await chooseRuntime(spec.runtime, process.env, engineAnswers);
  if (runtime === 'kubernetes') log.info('Runtime: kubernetes (the fence is a Pod).');
  return runtime === 'kubernetes' ? runInCluster(spec, log, hooks) : runSandbox(spec, log, hooks);
}
