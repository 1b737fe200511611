// Which runtime carries the fence: Docker (holder and build containers), Kubernetes (a Pod), or
// the host (the build on the runner itself, in a holder container's network namespace).
// The action and the CLI run, and the post step cleans up, through here.
import { ping } from './engine/engine.js';
import { removeRun } from './engine/resources.js';
import { runDocker } from './docker/runtime.js';
import { takeBack } from './host/ownership.js';
import { runHost } from './host/runtime.js';
import { deleteRunPod, runKubernetes } from './kubernetes/runtime.js';
import type { RunResult } from './report/record.js';
import type { RunHandle, RunHooks } from './run/identity.js';
import type { Log } from './run/log.js';
import type { RunSpec, RuntimeChoice, RuntimeName } from './run/spec.js';

/**
 * `auto`: kubernetes on a Kubernetes-mode runner (ACTIONS_RUNNER_POD_NAME set) where no Docker
 * engine answers, docker otherwise.
 */
export async function chooseRuntime(
  value: RuntimeChoice,
  env: NodeJS.ProcessEnv,
  dockerAnswers: () => Promise<boolean>,
): Promise<RuntimeName> {
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
export async function runFenced(spec: RunSpec, log: Log, hooks: RunHooks = {}): Promise<RunResult> {
  const runtime = await chooseRuntime(spec.runtime, process.env, engineAnswers);
  if (runtime === 'kubernetes') log.info('Runtime: kubernetes (the fence is a Pod).');
  if (runtime === 'host') log.info("Runtime: host (the build runs on the runner, in the holder's network namespace).");
  if (runtime === 'kubernetes') return runKubernetes(spec, log, hooks);
  return runtime === 'host' ? runHost(spec, log, hooks) : runDocker(spec, log, hooks);
}

/** Removes what a run left, whatever state it is in; returns what could not be removed. */
export async function cleanupRun(run: RunHandle): Promise<string[]> {
  if (run.runtime === 'docker') return removeRun(run.runId);
  if (run.runtime === 'host') {
    // The build's container first: the workspace is taken back once nothing of the build runs.
    const problems = await removeRun(run.runId);
    const problem = run.workspace === undefined ? undefined : await takeBack(run.workspace);
    return problem === undefined ? problems : [...problems, problem];
  }
  const problem = await deleteRunPod(run.runId, run.namespace ?? 'default');
  return problem === undefined ? [] : [problem];
}
