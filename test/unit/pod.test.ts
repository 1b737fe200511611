// The Pod renderer: every rendered object is validated against the Kubernetes API schema
// (kubernetes-models), and the fence's properties are checked field by field.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import yaml from 'js-yaml';
import { Pod } from 'kubernetes-models/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { readRunSpec } from '../../src/inputs.js';
import { podVerify } from '../../src/kubernetes/agent.js';
import { ENV_PIECE } from '../../src/kubernetes/env-pieces.js';
import { renderNetworkPolicy } from '../../src/kubernetes/network-policy.js';
import { podRuleset, renderPod, type PodInput } from '../../src/kubernetes/pod.js';
import { CONTAINER, RESOLVER_UID } from '../../src/kubernetes/pod-layout.js';
import { renderPodManifest } from '../../src/kubernetes/render.js';

let ws: string;
before(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'bf-pod-'));
});
after(() => fs.rmSync(ws, { recursive: true, force: true }));

function spec(inputs: Record<string, string>) {
  const all: Record<string, string> = { run: 'make', ...inputs };
  return readRunSpec((name) => all[name] ?? '', { workspace: ws, via: 'cli' });
}

const UPSTREAM = [{ address: '10.96.0.10', port: 53 }];

function input(inputs: Record<string, string>, extra: Partial<PodInput> = {}): PodInput {
  return {
    spec: spec(inputs),
    id: { runId: 'abc123' },
    upstreams: UPSTREAM,
    agentImage: 'buildfence/agent:0.1.0',
    sidecars: 'regular',
    ...extra,
  };
}

function validPod(pod: V1Pod): void {
  new Pod(pod as ConstructorParameters<typeof Pod>[0]).validate();
}

function allContainers(pod: V1Pod): V1Container[] {
  return [...(pod.spec!.initContainers ?? []), ...pod.spec!.containers];
}

function container(pod: V1Pod, name: string): V1Container {
  const c = allContainers(pod).find((x) => x.name === name);
  assert.ok(c, `no container ${name}`);
  return c;
}

/** A value the Pod carries in pieces (NAME_0, NAME_1, ...), joined. */
const env = (c: V1Container, name: string) => {
  const pieces = (c.env ?? []).filter((e) => new RegExp(`^${name}_\\d+$`).test(e.name));
  return pieces.length ? pieces.map((e) => e.value).join('') : undefined;
};

const cases: Array<{ name: string; input: () => PodInput; init: string[]; containers: string[] }> = [
  {
    name: 'release, regular sidecars',
    input: () => input({ grade: 'release', allowlist: '192.0.2.10:443\n10.20.0.0/16' }),
    init: ['holder', 'verify'],
    containers: ['fence', 'resolver', 'build'],
  },
  {
    name: 'release, native sidecars',
    input: () => input({ grade: 'release', allowlist: 'example.com:443' }, { sidecars: 'native' }),
    init: ['holder', 'verify', 'fence', 'resolver'],
    containers: ['build'],
  },
  {
    name: 'audit, names, the runner claim, node and environment',
    input: () =>
      input(
        { grade: 'dev', allowlist: '*.example.com', env: 'A=$(HOME)\nB=plain', 'working-directory': 'sub', shell: 'bash -e {0}' },
        {
          claimName: 'runner-work',
          nodeName: 'node-7',
          runnerEnv: [['GITHUB_SHA', 'f00']],
          id: { runId: 'abc123', pid: 42, host: 'runner-0' },
          namespace: 'ci',
        },
      ),
    init: ['holder', 'verify'],
    containers: ['fence', 'resolver', 'build'],
  },
  {
    name: 'release with an IPv6 upstream beside the IPv4 one',
    input: () =>
      input({ grade: 'release', allowlist: '[2001:db8::1]:443' }, { upstreams: [...UPSTREAM, { address: 'fd00::53', port: 5353 }] }),
    init: ['holder', 'verify'],
    containers: ['fence', 'resolver', 'build'],
  },
];

describe('renderPod', () => {
  for (const c of cases) {
    it(`${c.name}: valid against the Kubernetes schema, and fenced`, () => {
      const i = c.input();
      const { pod, rules } = renderPod(i);
      validPod(pod);
      assert.deepEqual(
        pod.spec!.initContainers!.map((x) => x.name),
        c.init,
      );
      assert.deepEqual(
        pod.spec!.containers.map((x) => x.name),
        c.containers,
      );
      const s = pod.spec!;
      assert.equal(s.restartPolicy, 'Never');
      assert.equal(s.automountServiceAccountToken, false);
      assert.equal(s.hostNetwork, false);
      assert.equal(s.hostPID, false);
      assert.equal(s.hostIPC, false);
      assert.equal(s.shareProcessNamespace, false);
      assert.deepEqual(pod.metadata!.labels!['buildfence.run'], 'abc123');
      for (const x of allContainers(pod)) {
        assert.equal(x.securityContext?.privileged, false, `${x.name} privileged`);
        assert.equal(x.securityContext?.allowPrivilegeEscalation, false, `${x.name} may escalate`);
      }
      // Only the holder and the fence hold NET_ADMIN; the build drops what would open the fence.
      for (const x of allContainers(pod)) {
        const added = x.securityContext?.capabilities?.add ?? [];
        assert.equal(added.includes('NET_ADMIN'), x.name === CONTAINER.holder || x.name === CONTAINER.fence, x.name);
      }
      const build = container(pod, CONTAINER.build);
      assert.deepEqual(build.securityContext!.capabilities, { drop: ['NET_ADMIN', 'NET_RAW', 'SETUID'] });
      // The runtime's default seccomp profile, and buildfence's filter on top, before anything else runs.
      assert.deepEqual(build.securityContext!.seccompProfile, { type: 'RuntimeDefault' });
      assert.deepEqual(build.command!.slice(0, 3), ['/__buildfence/seccomp-exec', 'sh', '-c']);
      const init = container(pod, CONTAINER.holder).command![2].split('\n');
      assert.equal(init.at(-1), 'cp /usr/lib/buildfence/seccomp-exec /__buildfence-script/seccomp-exec');
      assert.match(init.at(-2)!, /^\[ -x \/usr\/lib\/buildfence\/seccomp-exec \] \|\| \{ echo "the holder image has no/);
      assert.equal(build.securityContext!.runAsUser, undefined);
      // The resolver runs as its own user, with nothing.
      const resolver = container(pod, CONTAINER.resolver);
      assert.equal(resolver.securityContext!.runAsUser, RESOLVER_UID);
      assert.deepEqual(resolver.securityContext!.capabilities, { drop: ['ALL'] });
      // The same rules the verifier compares with, and the same as podRuleset renders.
      const holder = container(pod, CONTAINER.holder);
      assert.equal(env(holder, 'BF_V4'), rules.v4 + rules.nat4);
      assert.equal(env(holder, 'BF_V6'), rules.v6 + rules.nat6);
      assert.equal(env(holder, 'BF_IPSET'), rules.ipset);
      assert.deepEqual(JSON.parse(env(container(pod, CONTAINER.verify), 'BUILDFENCE_RULES')!), rules);
      assert.deepEqual(rules, podRuleset(i.spec, i.upstreams));
      assert.equal(Buffer.from(env(holder, 'BF_SCRIPT')!, 'base64').toString(), i.spec.run.endsWith('\n') ? i.spec.run : `${i.spec.run}\n`);
      assert.deepEqual(s.dnsConfig!.nameservers, ['10.96.0.10']);
      assert.equal(rules.resolvConf, 'nameserver 10.96.0.10\noptions ndots:0\n');
    });
  }

  it('native sidecars are init containers that restart and have a startup probe', () => {
    const { pod } = renderPod(cases[1].input());
    for (const name of [CONTAINER.fence, CONTAINER.resolver]) {
      const c = container(pod, name);
      assert.equal(c.restartPolicy, 'Always');
      assert.ok(c.startupProbe?.exec?.command?.length);
    }
  });

  it('the claim, the node, the working directory and env (with $ escaped for Kubernetes)', () => {
    const i = cases[2].input();
    const { pod } = renderPod(i);
    assert.equal(pod.spec!.nodeName, 'node-7');
    assert.equal(pod.metadata!.namespace, 'ci');
    assert.deepEqual(pod.metadata!.labels, {
      buildfence: '1',
      'buildfence.run': 'abc123',
      'buildfence.pid': '42',
      'buildfence.host': 'runner-0',
    });
    assert.deepEqual(pod.spec!.volumes!.find((v) => v.name === 'workspace')!.persistentVolumeClaim, { claimName: 'runner-work' });
    const build = container(pod, CONTAINER.build);
    assert.ok(build.volumeMounts!.some((m) => m.name === 'workspace' && m.mountPath === ws));
    assert.equal(build.workingDir, path.join(ws, 'sub'));
    assert.deepEqual(build.env, [
      { name: 'GITHUB_SHA', value: 'f00' },
      { name: 'A', value: '$$(HOME)' },
      { name: 'B', value: 'plain' },
    ]);
    assert.deepEqual(build.command!.slice(-3), ['bash', '-e', '/__buildfence/script.sh']);
    assert.ok(build.volumeMounts!.every((m) => m.name === 'workspace' || m.readOnly === true));
  });

  it('without a claim there is no workspace volume and no working directory', () => {
    const { pod } = renderPod(cases[0].input());
    assert.equal(
      pod.spec!.volumes!.some((v) => v.name === 'workspace'),
      false,
    );
    assert.equal(container(pod, CONTAINER.build).workingDir, undefined);
  });

  const refusals: Array<{ name: string; input: () => PodInput; message: RegExp }> = [
    {
      name: 'a loopback upstream',
      input: () => input({ grade: 'release' }, { upstreams: [{ address: '127.0.0.53', port: 53 }] }),
      message: /loopback.*--dns-upstream.*kube-dns/,
    },
    { name: 'no upstream', input: () => input({ grade: 'release' }, { upstreams: [] }), message: /needs a DNS upstream/ },
    {
      name: 'only IPv6 upstreams',
      input: () => input({ grade: 'release' }, { upstreams: [{ address: 'fd00::53', port: 53 }] }),
      message: /IPv4 DNS upstream/,
    },
    { name: 'docker-options', input: () => input({ grade: 'release', 'docker-options': '--memory=1g' }), message: /docker-options/ },
    { name: 'network', input: () => input({ grade: 'release', network: 'bridge' }), message: /--network has no meaning/ },
    {
      name: 'a service container by name',
      input: () => input({ grade: 'release', allowlist: 'postgres:5432' }),
      message: /'postgres:5432' is a single-label name.*postgres\.NAMESPACE\.svc\.cluster\.local:5432/,
    },
  ];
  for (const r of refusals) {
    it(`refuses ${r.name}`, () => {
      assert.throws(
        () => renderPod(r.input()),
        (err: Error) => err instanceof Error && r.message.test(err.message),
      );
    });
  }
});

describe('the Pod rules', () => {
  it('only the resolver user reaches the upstream, before the guards, and the nat rule leaves it alone', () => {
    const rules = podRuleset(spec({ grade: 'release' }), [
      { address: '169.254.20.10', port: 53 },
      { address: 'fd00::53', port: 5353 },
    ]);
    const v4 = rules.v4.split('\n');
    const own = v4.indexOf(`-A OUTPUT -d 169.254.20.10/32 -p udp -m owner --uid-owner ${RESOLVER_UID} -m udp --dport 53 -j ACCEPT`);
    assert.ok(own > 0);
    assert.ok(own < v4.indexOf('-A OUTPUT -d 169.254.0.0/16 -j BF-GUARD'));
    assert.ok(rules.v6.includes(`-A OUTPUT -d fd00::53/128 -p tcp -m owner --uid-owner ${RESOLVER_UID} -m tcp --dport 5353 -j ACCEPT`));
    assert.ok(rules.v6.indexOf('--uid-owner') < rules.v6.indexOf('-A OUTPUT -p udp -m udp --dport 53 -j BF-REJECT'));
    assert.match(
      rules.nat4,
      new RegExp(
        `-A BF-DNS -m owner --uid-owner ${RESOLVER_UID} -j RETURN\\n-A BF-DNS -p udp -m udp --dport 53 -j DNAT --to-destination 127.0.0.53:5353`,
      ),
    );
    // No Docker host in a Pod: only the metadata guards.
    assert.deepEqual(
      v4.filter((l) => l.endsWith('-j BF-GUARD')),
      ['-A OUTPUT -d 169.254.0.0/16 -j BF-GUARD', '-A OUTPUT -d 168.63.129.16/32 -j BF-GUARD'],
    );
  });
});

describe('renderNetworkPolicy', () => {
  it('opens the address entries with their ports, deny entries inside as exceptions, and the upstreams', () => {
    const s = spec({ grade: 'release', allowlist: '10.0.0.0/8\n192.0.2.10:443\ntcp://10.20.0.0/16:8000-8100\nudp://[2001:db8::1]:53' });
    s.deny = spec({ grade: 'release', allowlist: '10.1.0.0/16' }).allow;
    const np = renderNetworkPolicy(s, { runId: 'abc123' }, UPSTREAM);
    new NetworkPolicy(np as ConstructorParameters<typeof NetworkPolicy>[0]).validate();
    assert.deepEqual(np.spec!.podSelector, { matchLabels: { 'buildfence.run': 'abc123' } });
    assert.deepEqual(np.spec!.policyTypes, ['Egress']);
    assert.deepEqual(np.spec!.egress, [
      { to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ protocol: 'TCP' }, { protocol: 'UDP' }] },
      { to: [{ ipBlock: { cidr: '192.0.2.10/32' } }], ports: [{ protocol: 'TCP', port: 443 }] },
      // 10.1.0.0/16 is not inside 10.20.0.0/16: no exception there.
      { to: [{ ipBlock: { cidr: '10.20.0.0/16' } }], ports: [{ protocol: 'TCP', port: 8000, endPort: 8100 }] },
      { to: [{ ipBlock: { cidr: '2001:db8::1/128' } }], ports: [{ protocol: 'UDP', port: 53 }] },
      {
        to: [{ ipBlock: { cidr: '10.96.0.10/32' } }],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
    ]);
  });

  it('refuses names and audit mode, saying why', () => {
    assert.throws(
      () => renderNetworkPolicy(spec({ grade: 'release', allowlist: 'example.com:443' }), { runId: 'x' }, UPSTREAM),
      /cannot name hosts.*'example.com:443'/,
    );
    assert.throws(() => renderNetworkPolicy(spec({ grade: 'dev' }), { runId: 'x' }, UPSTREAM), /audit mode/);
  });
});

describe('render-pod output', () => {
  it('is YAML whose every document is a valid object, the NetworkPolicy after the Pod', async () => {
    const text = await renderPodManifest(
      spec({ grade: 'release', allowlist: '192.0.2.10:443', 'dns-upstream': '10.96.0.10' }),
      { networkPolicy: true, sidecars: 'native' },
      'abc123',
    );
    const docs = yaml.loadAll(text) as Array<{ kind: string }>;
    assert.deepEqual(
      docs.map((d) => d.kind),
      ['Pod', 'NetworkPolicy'],
    );
    validPod(docs[0]);
    new NetworkPolicy(docs[1] as ConstructorParameters<typeof NetworkPolicy>[0]).validate();
  });
});

describe('pod-verify', () => {
  const rules = podRuleset(spec({ grade: 'release', allowlist: '192.0.2.10:443' }), UPSTREAM);
  const mark = '---buildfence-readback---\n';
  const readback = (v4: string) => ['', rules.ipset, v4, rules.v6, rules.nat4, rules.resolvConf, rules.nat6].join(mark);
  const run = (text: string) => {
    const file = path.join(ws, 'readback');
    fs.writeFileSync(file, text);
    return podVerify(file, { BUILDFENCE_RULES_0: JSON.stringify(rules) });
  };

  it('passes when the kernel holds the rules rendered', () => {
    assert.equal(run(readback(rules.v4)), 0);
  });

  it('fails when a rule is missing, so the build never starts', () => {
    assert.equal(run(readback(rules.v4.replace(/^-A OUTPUT -j BF-DENY\n/m, ''))), 1);
  });
});

describe('a large allowlist in a Pod', () => {
  const hosts = (n: number) => Array.from({ length: n }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.${1 + (i >> 16)}`).join('\n');

  it('travels in env pieces under the kernel limit, which the holder script and the agent join again', () => {
    const { pod, rules } = renderPod(input({ grade: 'release', allowlist: hosts(1500) }));
    const holder = container(pod, CONTAINER.holder);
    const pieces = holder.env!.filter((e) => /^BF_IPSET_\d+$/.test(e.name));
    assert.ok(pieces.length > 1, `${pieces.length} piece(s)`);
    for (const e of allContainers(pod).flatMap((c) => c.env ?? [])) assert.ok(e.value!.length <= ENV_PIECE, e.name);
    // The holder's own shell line, run by a real sh with those variables, writes the file whole.
    const dir = fs.mkdtempSync(path.join(ws, 'pieces-'));
    const line = holder.command![2].split('\n').find((l) => l.startsWith('printf %s "$BF_IPSET_0"'))!;
    execFileSync('sh', ['-c', line.replace(/> \S+$/, `> ${dir}/ipset`)], {
      env: Object.fromEntries(holder.env!.map((e) => [e.name, e.value!])),
    });
    assert.equal(fs.readFileSync(path.join(dir, 'ipset'), 'utf8'), rules.ipset);
    assert.deepEqual(JSON.parse(env(container(pod, CONTAINER.verify), 'BUILDFENCE_RULES')!), rules);
    validPod(pod);
  });

  it('gives the resolver its name entries and the permanent host elements a learned address could land on, nothing more', () => {
    const { pod } = renderPod(input({ grade: 'release', allowlist: '10.0.0.0/8\n192.0.2.7:443\n198.51.100.9\napi.test:443' }));
    const config = JSON.parse(env(container(pod, CONTAINER.resolver), 'BUILDFENCE_RESOLVER')!) as {
      allow: Array<{ text: string }>;
      deny: Array<{ text: string }>;
      staticElements: string[];
    };
    assert.deepEqual(
      config.allow.map((e) => e.text),
      ['api.test:443'],
    );
    assert.deepEqual(config.deny, []);
    assert.deepEqual(config.staticElements.sort(), ['bf4-port 192.0.2.7/32,tcp:443', 'bf4-tcp 198.51.100.9/32', 'bf4-udp 198.51.100.9/32']);
  });

  it('that would not fit in a Pod is refused before anything is created, saying what to do', () => {
    assert.throws(
      () => renderPod(input({ grade: 'release', allowlist: hosts(20_000) })),
      (err: Error) =>
        err instanceof Error &&
        /^The Pod would carry \d+ KiB of rules, script and settings, more than the 1024 KiB a Pod can hold .*The allowlist has 20000 entries: merge neighbouring addresses into networks/.test(
          err.message,
        ),
    );
  });

  it('pod-verify joins the rules from their pieces', () => {
    const rules = podRuleset(spec({ grade: 'release', allowlist: '192.0.2.10:443' }), UPSTREAM);
    const text = JSON.stringify(rules);
    const file = path.join(ws, 'readback-pieces');
    const mark = '---buildfence-readback---\n';
    fs.writeFileSync(file, ['', rules.ipset, rules.v4, rules.v6, rules.nat4, rules.resolvConf, rules.nat6].join(mark));
    assert.equal(podVerify(file, { BUILDFENCE_RULES_0: text.slice(0, 100), BUILDFENCE_RULES_1: text.slice(100) }), 0);
  });
});
