// The kubernetes runtime end to end: the rendered Pod stands where the holder and build
// containers stand on Docker. Same RunSpec in, same facts out, so the report is the same.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import { upstreamsFor } from '../dns/upstream.js';
import type { RunResult } from '../report/record.js';
import { runnerEnvNames } from '../run/build.js';
import { onCancel } from '../run/cancel.js';
import { newRunId, type RunHooks } from '../run/identity.js';
import type { Log } from '../run/log.js';
import type { RunSpec } from '../run/spec.js';
import { renderPod } from './pod.js';
import { podName } from './pod-layout.js';
import { deletePod, runPod, type PodApi, type WaitOptions } from './pod-lifecycle.js';

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The runner pod's namespace (the Pod goes beside it), else `default`. */
export async function clusterNamespace(): Promise<string> {
  return (await fs.readFile(SERVICE_ACCOUNT_NAMESPACE, 'utf8').catch(() => '')).trim() || 'default';
}

async function loadApi(): Promise<PodApi> {
  try {
    const { kubernetesApi } = await import('./client.js');
    return await kubernetesApi();
  } catch (err) {
    throw new Error(
      `Cannot load the Kubernetes client (${err instanceof Error ? err.message : String(err)}). ` +
        'The kubernetes runtime needs Node 22.19 or later (the action runs on node24) and an in-cluster config or KUBECONFIG.',
      { cause: err },
    );
  }
}

/** `api` and `wait` are for tests: the real client and the default polling otherwise. */
export async function runKubernetes(spec: RunSpec, log: Log, hooks: RunHooks = {}, api?: PodApi, wait?: WaitOptions): Promise<RunResult> {
  const runId = newRunId();
  const namespace = await clusterNamespace();
  hooks.onStart?.({ runId, runtime: 'kubernetes', namespace });
  const started = new Date().toISOString();
  const client = api ?? (await loadApi());
  const claimName = process.env.ACTIONS_RUNNER_CLAIM_NAME || undefined;
  const runnerPod = process.env.ACTIONS_RUNNER_POD_NAME;
  // The workspace claim is mounted on the runner's node: the build must run there too.
  const nodeName = claimName && runnerPod ? (await client.readPod(namespace, runnerPod)).spec?.nodeName : undefined;
  const rendered = renderPod({
    spec,
    id: { runId, pid: process.pid, host: os.hostname() },
    upstreams: await upstreamsFor(spec),
    agentImage: spec.agentImage,
    sidecars: 'native',
    namespace,
    claimName,
    nodeName,
    runnerEnv: runnerEnvNames(process.env).map((name) => [name, process.env[name] ?? '']),
  });
  const name = rendered.pod.metadata!.name!;
  let deleted: Promise<string | undefined> | undefined;
  const remove = () => (deleted ??= deletePod(client, namespace, name));
  const cancel = onCancel(log, `deleting Pod ${namespace}/${name}`, remove);
  try {
    const facts = await runPod(client, namespace, rendered, log, wait);
    return { runId, runtime: 'kubernetes', namespace, started, ended: new Date().toISOString(), ...facts };
  } finally {
    const problem = await remove();
    if (problem) log.warning(problem);
    cancel.done();
  }
}

/** What the post step does for a kubernetes run: delete its Pod, whatever state it is in. */
export async function deleteRunPod(runId: string, namespace: string): Promise<string | undefined> {
  return deletePod(await loadApi(), namespace, podName(runId));
}
