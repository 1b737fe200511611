// The `kubernetes` runtime: creates the rendered Pod, waits for the fence, streams the build's
// log, takes its exit code, collects the evidence from the fence's and the resolver's logs, and
// deletes the Pod. The API is behind PodApi (client.ts adapts @kubernetes/client-node), so this
// logic is tested with a fake.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { WireDecision } from '../wire/decision-log.js';
import { decisionKey, type DnsDecision, type NamesOf } from '../dns/decision-log.js';
import type { Log } from '../run/log.js';
import type { ImageRef, RunFacts } from '../report/record.js';
import { parseCountersLine, type KernelCounts } from '../firewall/counters.js';
import { DeniedLog } from '../report/evidence.js';
import { parseNflogLine, type LoggedPacket } from '../report/nflog.js';
import { DECISION_PREFIX, FAULT_PREFIX, WIRE_PREFIX } from './agent.js';
import { CONTAINER, NOT_READY_EXIT } from './pod-layout.js';
import type { RenderedPod } from './pod.js';

export interface PodApi {
  createPod(namespace: string, pod: V1Pod): Promise<void>;
  readPod(namespace: string, name: string): Promise<V1Pod>;
  /** Follows a container's log until the container ends. */
  followLog(namespace: string, name: string, container: string, write: (data: Buffer) => void): Promise<void>;
  readLog(namespace: string, name: string, container: string): Promise<string>;
  deletePod(namespace: string, name: string): Promise<void>;
}

/** The Role a runner's service account needs, as the README documents it. */
export const RBAC_RULES = {
  create: "apiGroups: [''], resources: [pods], verbs: [create]",
  get: "apiGroups: [''], resources: [pods], verbs: [get]",
  delete: "apiGroups: [''], resources: [pods], verbs: [delete]",
  log: "apiGroups: [''], resources: [pods/log], verbs: [get]",
} as const;

const IMAGE_ERRORS = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName']);

export interface WaitOptions {
  pollMs: number;
  /** How long the Pod may take to get its build running (scheduling, pulls, the fence). */
  startTimeoutMs: number;
  /** How long to wait for the fence's counters once the build ended (default 15 s). */
  countersTimeoutMs?: number;
}

/** Runs the Pod to the end of its build; the caller deletes it (deletePod) in `finally`. */
export async function runPod(
  api: PodApi,
  namespace: string,
  rendered: RenderedPod,
  log: Log,
  options: WaitOptions = { pollMs: 1000, startTimeoutMs: 600_000 },
): Promise<Omit<RunFacts, 'runId' | 'started' | 'ended'>> {
  const name = rendered.pod.metadata!.name!;
  await call(() => api.createPod(namespace, rendered.pod), 'create', namespace, `create Pod ${name}`);
  log.info(`Pod ${namespace}/${name} created; waiting for the fence.`);
  const deadline = Date.now() + options.startTimeoutMs;
  for (;;) {
    const pod = await call(() => api.readPod(namespace, name), 'get', namespace, `read Pod ${name}`);
    await checkPod(api, namespace, pod);
    const build = statusOf(pod, CONTAINER.build);
    if (build?.state?.running || build?.state?.terminated) break;
    if (Date.now() > deadline)
      throw new Error(
        `Pod ${name} did not start its build within ${options.startTimeoutMs / 1000} s (phase ${pod.status?.phase ?? 'unknown'}).`,
      );
    await sleep(options.pollMs);
  }
  await log.untrusted((write) =>
    call(() => api.followLog(namespace, name, CONTAINER.build, (d) => write(d, 'stdout')), 'log', namespace, 'read the build log'),
  );
  let terminated;
  for (;;) {
    const pod = await call(() => api.readPod(namespace, name), 'get', namespace, `read Pod ${name}`);
    await checkPod(api, namespace, pod);
    terminated = statusOf(pod, CONTAINER.build)?.state?.terminated;
    if (terminated) break;
    await sleep(options.pollMs);
  }
  if (terminated.exitCode === NOT_READY_EXIT) {
    // The build's last line names the sidecar that failed and its reason (or the one that hung).
    const why = await tails(api, namespace, name, [CONTAINER.build, CONTAINER.fence, CONTAINER.resolver]);
    throw new Error(`The fence or the resolver of Pod ${name} did not get ready, so the build was not run.${why}`);
  }
  const [{ fence, kernel }, resolver, final] = await Promise.all([
    fenceEvidence(api, namespace, name, terminated.finishedAt, options),
    call(() => api.readLog(namespace, name, CONTAINER.resolver), 'log', namespace, "read the resolver's decisions"),
    call(() => api.readPod(namespace, name), 'get', namespace, `read Pod ${name}`),
  ]);
  if (!kernel) {
    log.warning(
      `The fence of Pod ${name} printed no counters after the build ended (within ${(options.countersTimeoutMs ?? COUNTERS_TIMEOUT_MS) / 1000} s): the totals are the log's.`,
    );
  }
  const decisions = readDecisions(resolver);
  const faults = readFaults(resolver);
  return {
    exitCode: terminated.exitCode,
    images: {
      holder: imageRef(imageOf(rendered.pod, CONTAINER.holder), statusOf(final, CONTAINER.holder)?.imageID ?? ''),
      build: imageRef(imageOf(rendered.pod, CONTAINER.build), statusOf(final, CONTAINER.build)?.imageID ?? ''),
    },
    rules: rendered.rules,
    denied: DeniedLog.of(
      fence
        .split('\n')
        .map(parseNflogLine)
        .filter((p): p is LoggedPacket => p !== undefined),
    ).tallies(),
    ...(kernel ? { kernel } : {}),
    dns: decisions,
    namesOf: namesOf(decisions),
    wire: readWireDecisions(resolver),
    ...(faults.length > 0
      ? {
          failure: `The resolver of Pod ${name} failed in its own process ${faults.length === 1 ? 'once' : `${faults.length} times`}, first: ${faults[0]}. It went on answering and the step fails.`,
        }
      : {}),
  };
}

/** The faults the resolver printed: the messages of what it did not catch. */
export function readFaults(logText: string): string[] {
  return logText
    .split('\n')
    .filter((line) => line.startsWith(FAULT_PREFIX))
    .map((line) => String(JSON.parse(line.slice(FAULT_PREFIX.length))));
}

/** How long after the build the runtime waits for the fence's counters (it prints them every second). */
const COUNTERS_TIMEOUT_MS = 15_000;

/**
 * The fence's log once it holds a counters line printed after the build ended (no packet of the
 * build can come after it), and the last counts in it; without one in time, the log as it is.
 */
async function fenceEvidence(
  api: PodApi,
  namespace: string,
  name: string,
  finishedAt: Date | string | undefined,
  options: WaitOptions,
): Promise<{ fence: string; kernel?: KernelCounts }> {
  // finishedAt has whole seconds: a line from the next second on is surely later.
  const after = Math.floor(new Date(finishedAt ?? 0).getTime() / 1000) + 1;
  const deadline = Date.now() + (options.countersTimeoutMs ?? COUNTERS_TIMEOUT_MS);
  for (;;) {
    const fence = await call(() => api.readLog(namespace, name, CONTAINER.fence), 'log', namespace, 'read the denied attempts');
    const printed = fence
      .split('\n')
      .map(parseCountersLine)
      .filter((c) => c !== undefined);
    if (printed.some((c) => c.time >= after)) return { fence, kernel: printed[printed.length - 1].counts };
    if (Date.now() > deadline) return { fence };
    await sleep(options.pollMs);
  }
}

/** Deletes the Pod; a Pod already gone is fine. Returns a problem to warn about, if any. */
export async function deletePod(api: PodApi, namespace: string, name: string): Promise<string | undefined> {
  try {
    await api.deletePod(namespace, name);
    return undefined;
  } catch (err) {
    if (statusCode(err) === 404) return undefined;
    return describe(err, 'delete', namespace, `delete Pod ${name}`).message;
  }
}

/** The resolver prints each decision as it changes: the last line per name, type and verdict is the total. */
export function readDecisions(logText: string): DnsDecision[] {
  const byKey = new Map<string, DnsDecision>();
  for (const line of logText.split('\n')) {
    if (!line.startsWith(DECISION_PREFIX)) continue;
    const d = JSON.parse(line.slice(DECISION_PREFIX.length)) as DnsDecision;
    byKey.set(decisionKey(d), d);
  }
  return [...byKey.values()];
}

/** The name checker's refusals from the resolver's log: the last line of each row wins. */
export function readWireDecisions(logText: string): WireDecision[] {
  const byKey = new Map<string, WireDecision>();
  for (const line of logText.split('\n')) {
    if (!line.startsWith(WIRE_PREFIX)) continue;
    const d = JSON.parse(line.slice(WIRE_PREFIX.length)) as WireDecision;
    byKey.set(`${d.enforced} ${d.reason} ${d.address} ${d.port} ${d.name ?? ''}`, d);
  }
  return [...byKey.values()];
}

// The same map the resolver keeps on Docker: the names each answered address was given for, and when last.
function namesOf(decisions: DnsDecision[]): NamesOf {
  const map = new Map<string, Map<string, number>>();
  for (const d of decisions) {
    for (const a of d.addresses) map.set(a, (map.get(a) ?? new Map<string, number>()).set(d.name, Date.parse(d.last)));
  }
  return new Map([...map].map(([address, names]) => [address, { names, total: names.size }]));
}

async function checkPod(api: PodApi, namespace: string, pod: V1Pod): Promise<void> {
  const name = pod.metadata!.name!;
  if (pod.status?.reason === 'Evicted') {
    throw new Error(`Pod ${name} was evicted: ${pod.status.message ?? 'no message'}. The build did not finish.`);
  }
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const waiting = s.state?.waiting;
    if (waiting?.reason && IMAGE_ERRORS.has(waiting.reason)) {
      throw new Error(`Image ${s.image} of container ${s.name} cannot be pulled (${waiting.reason}): ${waiting.message ?? ''}`.trim());
    }
  }
  for (const init of [CONTAINER.holder, CONTAINER.verify]) {
    const done = statusOf(pod, init)?.state?.terminated;
    if (done && done.exitCode !== 0) {
      const tail = await tails(api, namespace, name, [init]);
      const what = init === CONTAINER.holder ? 'loading the rules' : 'verifying the rules read back';
      throw new Error(
        `Init container ${init} of Pod ${name} failed ${what} (exit code ${done.exitCode}), so the build was not started.${tail}`,
      );
    }
  }
  if (pod.status?.phase === 'Failed' && !statusOf(pod, CONTAINER.build)?.state?.terminated) {
    throw new Error(`Pod ${name} failed: ${pod.status.reason ?? ''} ${pod.status.message ?? ''}`.trim());
  }
}

async function tails(api: PodApi, namespace: string, name: string, containers: string[]): Promise<string> {
  const parts = await Promise.all(
    containers.map(async (c) => {
      const text = await api.readLog(namespace, name, c).catch(() => '');
      const lines = text.trim().split('\n').filter(Boolean).slice(-10);
      return lines.length > 0 ? `\n${c}: ${lines.join(`\n${c}: `)}` : '';
    }),
  );
  return parts.join('');
}

function statusOf(pod: V1Pod, container: string): V1ContainerStatus | undefined {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find((s) => s.name === container);
}

/** The kubelet reports a pulled image as `[scheme://]repo@sha256:...`: that is its registry digest. */
function imageRef(name: string, imageID: string): ImageRef {
  const digest = imageID.replace(/^[a-z-]+:\/\//, '');
  return { name, id: imageID, repoDigests: /@sha256:[0-9a-f]{64}$/.test(digest) ? [digest] : [] };
}

function imageOf(pod: V1Pod, container: string): string {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === container)?.image ?? '';
}

async function call<T>(fn: () => Promise<T>, rule: keyof typeof RBAC_RULES, namespace: string, what: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw describe(err, rule, namespace, what);
  }
}

function describe(err: unknown, rule: keyof typeof RBAC_RULES, namespace: string, what: string): Error {
  const status = statusCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  if (status === 403) {
    return new Error(
      `Kubernetes refused to ${what} in namespace ${namespace}: the service account lacks the Role rule {${RBAC_RULES[rule]}}. ` +
        "Add it to the runner's Role (README: Kubernetes, RBAC).",
    );
  }
  if (status === 401) return new Error(`Kubernetes did not accept the credentials to ${what}: ${detail}`);
  return new Error(`Cannot ${what} in namespace ${namespace}${status ? ` (HTTP ${status})` : ''}: ${detail}`);
}

/** The HTTP status of an API error: client-node's ApiException has `code`. */
export function statusCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown; statusCode?: unknown }).code ?? (err as { statusCode?: unknown }).statusCode;
  return typeof code === 'number' ? code : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
