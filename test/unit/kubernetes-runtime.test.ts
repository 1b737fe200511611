// The kubernetes runtime's logic against a fake API: create, wait, logs, exit code, evidence,
// delete, and errors that say what failed (the missing RBAC rule, the image, the init container).
// The last test runs @kubernetes/client-node itself against a fake API server on loopback.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { readRunSpec } from '../../src/inputs.js';
import { COUNTERS_LINE_PREFIX } from '../../src/firewall/counters.js';
import type { Log } from '../../src/run/log.js';
import { DECISION_PREFIX, FAULT_PREFIX } from '../../src/kubernetes/agent.js';
import { renderPod } from '../../src/kubernetes/pod.js';
import { NOT_READY_EXIT } from '../../src/kubernetes/pod-layout.js';
import { deletePod, runPod, type PodApi } from '../../src/kubernetes/pod-lifecycle.js';
import { runKubernetes } from '../../src/kubernetes/runtime.js';
import { chooseRuntime } from '../../src/choose-runtime.js';

const spec = readRunSpec((n) => ({ run: 'make', grade: 'release', allowlist: 'example.com:443' })[n] ?? '', {
  workspace: os.tmpdir(),
  via: 'cli',
});
const rendered = renderPod({
  spec,
  id: { runId: 'r1' },
  upstreams: [{ address: '10.96.0.10', port: 53 }],
  agentImage: 'buildfence/agent:0.1.0',
  sidecars: 'native',
});
const NAME = 'buildfence-r1';

/** The counters output of a fence whose rules refused and logged `n` attempts. */
const countersText = (n: number) =>
  [
    `[${n}:0] -A BF-REJECT -m comment --comment bf-refused`,
    `[${n}:0] -A BF-REJECT -m hashlimit --hashlimit-name bf-refused -j NFLOG --nflog-prefix bf-deny --nflog-group 5 --nflog-threshold 1`,
    '---buildfence-counters-v6---',
    '[0:0] -A BF-REJECT -m comment --comment bf-refused',
  ].join('\n');
const FAST = { pollMs: 1, startTimeoutMs: 1000, countersTimeoutMs: 30 };

const status = (name: string, state: V1ContainerStatus['state']): V1ContainerStatus => ({
  name,
  state,
  image: name === 'build' ? 'ubuntu:24.04' : 'buildfence/holder:0.1.0',
  imageID: `sha256:${name}`,
  ready: false,
  restartCount: 0,
});

function podWith(init: V1ContainerStatus[], containers: V1ContainerStatus[], extra: Partial<V1Pod['status']> = {}): V1Pod {
  return { metadata: { name: NAME }, status: { phase: 'Pending', initContainerStatuses: init, containerStatuses: containers, ...extra } };
}

const ok = status('holder', { terminated: { exitCode: 0 } });
const verified = status('verify', { terminated: { exitCode: 0 } });

class FakeApi implements PodApi {
  calls: string[] = [];
  logs: Record<string, string> = {};
  failures: Partial<Record<keyof PodApi, unknown>> = {};
  constructor(private readonly pods: V1Pod[]) {}
  private fail(what: keyof PodApi) {
    // The client throws ApiException-like objects ({ code: 403 }), not always Errors.
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    if (this.failures[what]) throw this.failures[what];
  }
  async createPod(namespace: string, pod: V1Pod) {
    this.calls.push(`create ${namespace}/${pod.metadata!.name}`);
    this.fail('createPod');
  }
  async readPod() {
    this.fail('readPod');
    return this.pods.length > 1 ? this.pods.shift()! : this.pods[0];
  }
  async followLog(_ns: string, _name: string, container: string, write: (d: Buffer) => void) {
    this.fail('followLog');
    write(Buffer.from(this.logs[container] ?? ''));
  }
  async readLog(_ns: string, _name: string, container: string) {
    return this.logs[container] ?? '';
  }
  async deletePod(namespace: string, name: string) {
    this.calls.push(`delete ${namespace}/${name}`);
    this.fail('deletePod');
  }
}

function fakeLog(): Log & { output: string; infos: string[]; warnings: string[] } {
  const log = {
    output: '',
    infos: [] as string[],
    warnings: [] as string[],
    info: (m: string) => log.infos.push(m),
    warning: (m: string) => log.warnings.push(m),
    debug: () => undefined,
    group: <T>(_n: string, fn: () => Promise<T>) => fn(),
    untrusted: <T>(fn: (w: (d: Buffer) => void) => Promise<T>) => fn((d) => (log.output += d.toString())),
  };
  return log;
}

const forbidden = Object.assign(new Error('HTTP-Code: 403 Message: Forbidden'), { code: 403 });

describe('runPod', () => {
  it('creates the Pod, waits for the build, streams its log, takes its exit code and the evidence', async () => {
    const api = new FakeApi([
      podWith([status('holder', { running: {} })], []),
      podWith([ok, verified], [status('build', { running: {} })]),
      podWith([ok, verified], [status('build', { terminated: { exitCode: 3 } })]),
    ]);
    const decision = (count: number) =>
      JSON.stringify({
        name: 'example.com',
        type: 'A',
        verdict: 'allowed',
        forwarded: true,
        addresses: ['192.0.2.7'],
        count,
        first: 't',
        last: 't',
      });
    api.logs = {
      build: 'hello from the build\n',
      fence:
        'tcpdump: listening on nflog:5,6\n1700000000.5 version 0, resource ID 5, IPv4, length 60: 10.0.0.9.40000 > 192.0.2.7.80: tcp 0\n',
      resolver: `warning: x\n${DECISION_PREFIX}${decision(1)}\n${DECISION_PREFIX}${decision(2)}\n`,
    };
    const log = fakeLog();
    const facts = await runPod(api, 'ci', rendered, log, FAST);
    assert.deepEqual(api.calls, [`create ci/${NAME}`]);
    assert.equal(log.output, 'hello from the build\n');
    assert.equal(facts.exitCode, 3);
    assert.deepEqual(facts.denied, [
      { protocol: 'tcp', address: '192.0.2.7', port: 80, enforced: true, count: 1, first: 1700000000.5, last: 1700000000.5 },
    ]);
    assert.equal(facts.dns.length, 1);
    assert.equal(facts.dns[0].count, 2);
    assert.deepEqual([...facts.namesOf.get('192.0.2.7')!.names.keys()], ['example.com']);
    assert.deepEqual(facts.images.build, { name: 'ubuntu:24.04', id: 'sha256:build', repoDigests: [] });
    assert.equal(facts.rules, rendered.rules);
    assert.equal(facts.failure, undefined);
  });

  it('fails the run when the resolver reported a fault in its own process (it went on answering), with the evidence', async () => {
    const api = new FakeApi([podWith([ok, verified], [status('build', { terminated: { exitCode: 0 } })])]);
    const decision = JSON.stringify({
      name: '',
      type: '',
      verdict: 'refused',
      forwarded: false,
      addresses: [],
      count: 1,
      first: 't',
      last: 't',
      reason: 'malformed',
    });
    api.logs = {
      resolver: `${DECISION_PREFIX}${decision}\nbuildfence resolver: Error: boom\n${FAULT_PREFIX}"boom"\n${FAULT_PREFIX}"bang"\n`,
    };
    const facts = await runPod(api, 'ci', rendered, fakeLog(), FAST);
    assert.equal(
      facts.failure,
      `The resolver of Pod ${NAME} failed in its own process 2 times, first: boom. It went on answering and the step fails.`,
    );
    assert.deepEqual(
      facts.dns.map((d) => d.reason),
      ['malformed'],
    );
  });

  it("takes the kernel's counters from the fence's first counters line printed after the build ended", async () => {
    const end = '2026-11-27T10:00:05Z';
    const at = (seconds: number) =>
      `${COUNTERS_LINE_PREFIX} ${Date.parse(end) / 1000 + seconds} ${countersText(seconds + 10).replaceAll('\n', '|')}`;
    const built = (fence: string) => {
      const api = new FakeApi([podWith([ok, verified], [status('build', { terminated: { exitCode: 0, finishedAt: new Date(end) } })])]);
      api.logs = { fence };
      return api;
    };
    // Printed during the build and in its last second: they may miss its last attempts.
    const early = built(`${at(-1)}\n${at(0)}\n`);
    const log = fakeLog();
    assert.equal((await runPod(early, 'ci', rendered, log, FAST)).kernel, undefined);
    assert.match(log.warnings.join('\n'), /printed no counters after the build ended .*the totals are the log's/);
    // The line of the next second is after the build's end: the last line of the log is taken.
    const facts = await runPod(built(`${at(0)}\n${at(1)}\n${at(2)}\n`), 'ci', rendered, fakeLog(), FAST);
    assert.deepEqual(facts.kernel, { refused: 12, audited: 0, logged: 12 });
  });

  const failures: Array<{ name: string; api: () => FakeApi; message: RegExp }> = [
    {
      name: 'no permission to create Pods names the missing Role rule',
      api: () => Object.assign(new FakeApi([]), { failures: { createPod: forbidden } }),
      message: /refused to create Pod buildfence-r1 in namespace ci: .*resources: \[pods\], verbs: \[create\]/,
    },
    {
      name: 'no permission to read logs names pods/log',
      api: () =>
        Object.assign(new FakeApi([podWith([ok, verified], [status('build', { running: {} })])]), { failures: { followLog: forbidden } }),
      message: /resources: \[pods\/log\], verbs: \[get\]/,
    },
    {
      name: 'a holder that fails its rules, with its log',
      api: () =>
        Object.assign(new FakeApi([podWith([status('holder', { terminated: { exitCode: 127 } })], [])]), {
          logs: { holder: 'the holder image has no ipset\n' },
        }),
      message:
        /Init container holder .* failed loading the rules \(exit code 127\), so the build was not started\.\nholder: the holder image has no ipset/,
    },
    {
      name: 'a read-back that differs',
      api: () => new FakeApi([podWith([ok, status('verify', { terminated: { exitCode: 1 } })], [])]),
      message: /Init container verify .* failed verifying the rules read back/,
    },
    {
      name: 'an image that cannot be pulled',
      api: () =>
        new FakeApi([podWith([ok, verified], [status('build', { waiting: { reason: 'ImagePullBackOff', message: 'not found' } })])]),
      message: /Image ubuntu:24.04 of container build cannot be pulled \(ImagePullBackOff\): not found/,
    },
    {
      name: 'an evicted Pod',
      api: () =>
        new FakeApi([
          podWith([ok, verified], [status('build', { running: {} })], { phase: 'Failed', reason: 'Evicted', message: 'low on memory' }),
        ]),
      message: /evicted: low on memory/,
    },
    {
      name: 'a fence that never got ready',
      api: () => new FakeApi([podWith([ok, verified], [status('build', { terminated: { exitCode: NOT_READY_EXIT } })])]),
      message: /did not get ready, so the build was not run/,
    },
    {
      name: 'a Pod that never starts its build',
      api: () => new FakeApi([podWith([status('holder', { waiting: { reason: 'PodInitializing' } })], [])]),
      message: /did not start its build within 0.05 s/,
    },
  ];
  for (const f of failures) {
    it(f.name, async () => {
      await assert.rejects(runPod(f.api(), 'ci', rendered, fakeLog(), { pollMs: 1, startTimeoutMs: 50 }), f.message);
    });
  }
});

describe('deletePod', () => {
  it('deletes; a Pod already gone is fine; a refusal names the rule', async () => {
    const api = new FakeApi([]);
    assert.equal(await deletePod(api, 'ci', NAME), undefined);
    assert.deepEqual(api.calls, [`delete ci/${NAME}`]);
    api.failures.deletePod = Object.assign(new Error('gone'), { code: 404 });
    assert.equal(await deletePod(api, 'ci', NAME), undefined);
    api.failures.deletePod = forbidden;
    assert.match((await deletePod(api, 'ci', NAME))!, /verbs: \[delete\]/);
  });
});

// @kubernetes/client-node 2.x needs Node 22.19+; .ci/run runs the unit tests again on Node 24.
const [major, minor] = process.versions.node.split('.').map(Number);
describe('the client-node adapter', { skip: major < 22 || (major === 22 && minor < 19) ? 'needs Node 22.19+' : false }, () => {
  it('creates, reads and deletes through a real API client, and maps a 403 to the RBAC rule', async () => {
    const seen: string[] = [];
    let allowCreate = true;
    const server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url?.split('?')[0]}`);
      req.resume();
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST' && !allowCreate) {
        res.statusCode = 403;
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403 }));
        return;
      }
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: NAME } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bf-kube-'));
    const kubeconfig = path.join(dir, 'config');
    const port = (server.address() as { port: number }).port;
    fs.writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u, namespace: ci}}]\ncurrent-context: x\n`,
    );
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = kubeconfig;
    try {
      const { kubernetesApi } = await import('../../src/kubernetes/client.js');
      const api = await kubernetesApi();
      await api.createPod('ci', rendered.pod);
      assert.equal((await api.readPod('ci', NAME)).metadata!.name, NAME);
      assert.equal(await deletePod(api, 'ci', NAME), undefined);
      assert.deepEqual(seen, [
        `POST /api/v1/namespaces/ci/pods`,
        `GET /api/v1/namespaces/ci/pods/${NAME}`,
        `DELETE /api/v1/namespaces/ci/pods/${NAME}`,
      ]);
      allowCreate = false;
      await assert.rejects(
        runPod(api, 'ci', rendered, fakeLog(), FAST),
        /lacks the Role rule \{apiGroups: \[''\], resources: \[pods\], verbs: \[create\]\}/,
      );
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the kubernetes runtime, end to end against the fake API', () => {
  const podSpec = { ...spec, dns: { ...spec.dns, upstreams: [{ address: '10.96.0.10', port: 53 }] } };
  it('reports the run before creating anything, and deletes the Pod after a build that failed', async () => {
    const started: string[] = [];
    const api = new FakeApi([
      podWith([ok, verified], [status('build', { running: {} })]),
      podWith([ok, verified], [status('build', { terminated: { exitCode: 3 } })]),
    ]);
    const result = await runKubernetes(
      podSpec,
      fakeLog(),
      { onStart: (h) => started.push(`${h.runtime} ${h.namespace} ${h.runId}`) },
      api,
      FAST,
    );
    assert.equal(result.exitCode, 3);
    assert.equal(result.runtime, 'kubernetes');
    assert.match(started[0], /^kubernetes default [0-9a-f]{12}$/);
    assert.deepEqual(api.calls, [`create default/buildfence-${result.runId}`, `delete default/buildfence-${result.runId}`]);
  });

  it('deletes the Pod when creating it was refused, and names the RBAC rule', async () => {
    const api = new FakeApi([podWith([], [])]);
    api.failures.createPod = forbidden;
    await assert.rejects(runKubernetes(podSpec, fakeLog(), {}, api, FAST), /verbs: \[create\]/);
    assert.equal(api.calls.filter((c) => c.startsWith('delete')).length, 1);
  });
});

describe('chooseRuntime', () => {
  const yes = async () => true;
  const no = async () => false;
  const cases: Array<[string, 'auto' | 'docker' | 'kubernetes', NodeJS.ProcessEnv, () => Promise<boolean>, string]> = [
    ['explicit docker', 'docker', { ACTIONS_RUNNER_POD_NAME: 'r' }, no, 'docker'],
    ['explicit kubernetes', 'kubernetes', {}, yes, 'kubernetes'],
    ['auto on an ordinary runner', 'auto', {}, no, 'docker'],
    ['auto on a Kubernetes-mode runner without Docker', 'auto', { ACTIONS_RUNNER_POD_NAME: 'r' }, no, 'kubernetes'],
    ['auto on a Kubernetes-mode runner with Docker (dind)', 'auto', { ACTIONS_RUNNER_POD_NAME: 'r' }, yes, 'docker'],
  ];
  for (const [what, value, env, answers, expected] of cases) {
    it(what, async () => assert.equal(await chooseRuntime(value, env, answers), expected));
  }
});
