// The rendered Pod, run for real by `podman kube play` (podman 4.3): init containers first,
// capabilities, allowPrivilegeEscalation, the shared network namespace, exit codes. Every probe
// targets a server on an --internal podman network created here. scripts/setup-podman prepares
// podman and copies the images into its store.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import type { V1Pod, V1SecurityContext } from '@kubernetes/client-node';
import { readRunSpec } from '../../src/inputs.js';
import { renderPod } from '../../src/kubernetes/pod.js';
import { CONTAINER, NOT_READY_EXIT, RESOLVER_UID } from '../../src/kubernetes/pod-layout.js';
import { DECISION_PREFIX, WIRE_PREFIX } from '../../src/kubernetes/agent.js';
import type { WireDecision } from '../../src/wire/decision-log.js';
import { parseNflogLine } from '../../src/report/nflog.js';
import { parseCountersLine } from '../../src/firewall/counters.js';
import { ROOT, verdicts } from '../integration/harness.js';
import type { DnsDecision } from '../../src/dns/decision-log.js';
import type { Ruleset } from '../../src/firewall/ruleset.js';

const exec = promisify(execFile);
const env = { ...process.env, CONTAINERS_CONF: path.join(ROOT, '.cache/podman/containers.conf') };
const IMAGES = {
  holder: 'localhost/buildfence/holder:0.1.0',
  // Another tag (loaded into podman as localhost/NAME) tests an agent built from a branch beside the shared one.
  agent: process.env.BUILDFENCE_TEST_AGENT_IMAGE ?? 'localhost/buildfence/agent:0.1.0',
  probe: `localhost/${process.env.BUILDFENCE_PROBE_TAG || 'buildfence-test/probe:latest'}`,
  client: 'localhost/buildfence-test/client:latest',
};

async function podman(args: string[]): Promise<string> {
  const { stdout } = await exec('podman', args, { env, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** stdout and stderr together, as the container wrote them; '' when the container is gone. */
async function logs(name: string): Promise<string> {
  const { stdout, stderr } = await exec('podman', ['logs', name], { env }).catch(() => ({ stdout: '', stderr: '' }));
  return stdout + stderr;
}

let net = '';
const servers: string[] = [];
let tmp = '';

before(async () => {
  try {
    await fs.access(env.CONTAINERS_CONF);
    for (const image of Object.values(IMAGES)) await podman(['image', 'exists', image]);
  } catch {
    throw new Error('podman is not ready: run scripts/build-agent-image and scripts/setup-podman.');
  }
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'bf-pod-'));
  net = `bftest-pod-${randomBytes(4).toString('hex')}`;
  await podman(['network', 'create', '--internal', '--label', 'buildfence-test=1', net]);
  for (let i = 0; i < 2; i++) {
    const name = `${net}-srv${i}`;
    // Port 53 plays the DNS upstream: it logs every datagram and connection it receives.
    await podman([
      'run',
      '--detach',
      '--name',
      name,
      '--network',
      net,
      '--label',
      'buildfence-test=1',
      IMAGES.probe,
      'sh',
      '-c',
      'probe serve 8080 & probe serve 53 & wait',
    ]);
    servers.push(await podman(['inspect', '--format', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, name]));
  }
});

after(async () => {
  await exec('podman', ['rm', '--force', '--time', '0', `${net}-srv0`, `${net}-srv1`], { env }).catch(() => undefined);
  await exec('podman', ['network', 'rm', '--force', net], { env }).catch(() => undefined);
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

interface Played {
  name: string;
  build: string;
  exitCode?: number;
  /** Seconds from the end of `kube play` to the end of the wait. */
  waited: number;
  log(container: string): Promise<string>;
}

/**
 * Renders a Pod (regular sidecars: podman 4.3 ignores native ones), lets `patch` change it, plays
 * it, and waits for the build to end or for `waitFor` (another container) when the build may never
 * start; `beside` runs meanwhile; `upstream` is the resolver's. The Pod is removed at the end of `use`.
 */
async function play(
  inputs: Record<string, string>,
  use: (p: Played) => Promise<void>,
  patch?: (pod: V1Pod) => void,
  waitFor: string = CONTAINER.build,
  beside?: (p: Played) => Promise<void>,
  upstream = servers[1],
): Promise<void> {
  const all: Record<string, string> = { 'holder-image': IMAGES.holder, image: IMAGES.probe, pull: 'never', shell: 'sh', ...inputs };
  const spec = readRunSpec((n) => all[n] ?? '', { workspace: tmp, via: 'cli' });
  const runId = randomBytes(6).toString('hex');
  const { pod } = renderPod({
    spec,
    id: { runId },
    upstreams: [{ address: upstream, port: 53 }],
    agentImage: IMAGES.agent,
    sidecars: 'regular',
  });
  patch?.(pod);
  const file = path.join(tmp, `${runId}.yaml`);
  await fs.writeFile(file, yaml.dump(pod));
  const name = pod.metadata!.name!;
  const played: Played = { name, build: `${name}-${CONTAINER.build}`, waited: 0, log: (c) => logs(`${name}-${c}`) };
  try {
    await exec('podman', ['kube', 'play', '--network', net, file], { env }).catch((err: { stderr?: string }) => {
      // kube play reports a failed init container; its log stays with the container.
      played.log = async (c) => `${String(err.stderr)}${await logs(`${name}-${c}`)}`;
    });
    const start = Date.now();
    const besides = beside?.(played);
    // The build gives up on its sidecars after 60 s; this bound is only for a Pod that hangs.
    const waited = await exec('podman', ['wait', `${name}-${waitFor}`], { env, timeout: 150_000 }).catch(() => undefined);
    await besides;
    played.waited = (Date.now() - start) / 1000;
    if (waited && waitFor === CONTAINER.build) played.exitCode = Number(waited.stdout.trim());
    try {
      await use(played);
      if (process.env.BUILDFENCE_POD_DIAGNOSE) process.stderr.write(await diagnose(name));
    } catch (err) {
      // Every container's state and log, and what the volumes held: a failure explains itself.
      process.stderr.write(await diagnose(name));
      throw err;
    }
  } finally {
    await exec('podman', ['pod', 'rm', '--force', '--time', '0', name], { env }).catch(() => undefined);
    // podman keeps an emptyDir as a named volume, and leaves it behind when only removed init
    // containers used it (bf-rules-*).
    const volumes = (pod.spec!.volumes ?? []).filter((v) => v.emptyDir).map((v) => v.name);
    await exec('podman', ['volume', 'rm', '--force', ...volumes], { env }).catch(() => undefined);
  }
}

/** Prepends shell to a sidecar's script (`sh -c SCRIPT`), to stand in for one of its tools. */
function prependScript(pod: V1Pod, container: string, shell: string): void {
  const c = pod.spec!.containers.find((x) => x.name === container)!;
  assert.deepEqual(c.command!.slice(0, 2), ['sh', '-c']);
  c.command![2] = `${shell}\n${c.command![2]}`;
}

/** A container `control` in the Pod beside the build, outside buildfence's confinement: what it can do, the build could without the fence. */
function addControl(pod: V1Pod, command: string[], securityContext?: V1SecurityContext): void {
  pod.spec!.containers.push({
    name: 'control',
    image: IMAGES.probe,
    imagePullPolicy: 'Never',
    command,
    ...(securityContext ? { securityContext } : {}),
  });
}

/** The state and log of every container of a Pod, and the files of its emptyDir volumes. */
async function diagnose(pod: string): Promise<string> {
  const out: string[] = [`---- diagnostics of pod ${pod} ----`];
  const names = (await podman(['ps', '--all', '--filter', `pod=${pod}`, '--format', '{{.Names}}']).catch((e) => `(ps failed: ${e})`))
    .split('\n')
    .filter(Boolean);
  const volumes = new Map<string, string>();
  for (const c of names) {
    const inspect = await podman(['inspect', c]).catch(() => '[]');
    const [info] = JSON.parse(inspect) as Array<{
      State?: Record<string, string | number | boolean | undefined>;
      Mounts?: Array<{ Destination: string; Source: string }>;
    }>;
    const st = info?.State ?? {};
    out.push(
      `== ${c}: ${st.Status} exit=${st.ExitCode} started=${st.StartedAt} finished=${st.FinishedAt} oom=${st.OOMKilled} error=${st.Error ?? ''}`,
    );
    for (const m of info?.Mounts ?? []) volumes.set(m.Destination, m.Source);
    out.push(
      (await logs(c))
        .trimEnd()
        .split('\n')
        .map((l) => `   | ${l}`)
        .join('\n'),
    );
  }
  for (const [dest, source] of volumes) {
    const list = await exec('ls', ['-la', '--time-style=full-iso', source]).then(
      (r) => r.stdout,
      (e) => String(e),
    );
    out.push(`== volume ${dest} (${source}):\n${list.trimEnd()}`);
  }
  return `${out.join('\n')}\n---- end of diagnostics ----\n`;
}

describe('the rendered Pod under podman kube play', () => {
  it('release: the allowed destination answers, others are refused and recorded, DNS only reaches the resolver', async () => {
    const [s0, s1] = servers;
    const script = [
      `probe tcp ${s0} 8080`,
      `probe tcp ${s1} 8080`,
      `probe udp ${s0} 8080`,
      // Straight to the upstream, as root: the nat rule hands it to buildfence's resolver.
      `probe dns ${s1} blocked.example`,
      `probe dns ${s1} blocked.example A tcp`,
      // The resolver's user is out of reach: no SETUID.
      `setpriv --reuid ${RESOLVER_UID} probe udp ${s1} 53; echo "setpriv=$?"`,
      'exit 7',
    ].join('\n');
    await play({ grade: 'release', allowlist: `${s0}:8080`, run: script }, async (p) => {
      const out = await p.log(CONTAINER.build);
      assert.equal(p.exitCode, 7, out);
      const v = verdicts(out);
      assert.equal(v.get(`tcp ${s0}:8080`), 'ok', out);
      assert.equal(v.get(`tcp ${s1}:8080`), 'refused', out);
      assert.equal(v.get(`udp ${s0}:8080`), 'refused', out);
      assert.equal((out.match(/rcode=3 answers=/g) ?? []).length, 2, out);
      assert.match(out, /setpriv=(?!0)\d+/);
      // The upstream never saw a packet from the Pod.
      assert.doesNotMatch(await logs(`${net}-srv1`), /(udp|tcp) from/);
      // Evidence: the fence's log holds the denied attempts, the resolver's the refused name.
      const denied = (await p.log(CONTAINER.fence))
        .split('\n')
        .map(parseNflogLine)
        .filter((x) => x !== undefined);
      assert.ok(
        denied.some((d) => d.address === s1 && d.port === 8080 && d.protocol === 'tcp' && d.enforced),
        JSON.stringify(denied),
      );
      assert.ok(
        denied.some((d) => d.address === s0 && d.port === 8080 && d.protocol === 'udp'),
        JSON.stringify(denied),
      );
      // The kernel's counters: the fence prints them every second; a line printed after the
      // build ended (the runtime takes the first such) counts what the log holds.
      const ended = Number(await podman(['inspect', '--format', '{{.State.FinishedAt.Unix}}', p.build]));
      let counted: ReturnType<typeof parseCountersLine>;
      for (let i = 0; i < 50 && !(counted && counted.time >= Math.floor(ended) + 1); i++) {
        await new Promise((r) => setTimeout(r, 200));
        const fence = (await p.log(CONTAINER.fence)).split('\n').map(parseCountersLine);
        counted = fence.filter((c) => c !== undefined).at(-1);
      }
      assert.ok(counted && counted.time >= Math.floor(ended) + 1, 'a counters line after the build ended');
      assert.deepEqual(counted.counts, { refused: denied.length, audited: 0, logged: denied.length }, JSON.stringify(denied));
      // Stopped (as the kubelet stops a native sidecar once the build ended), it prints them once more and exits.
      const fence = `${p.name}-${CONTAINER.fence}`;
      await podman(['stop', '--time', '10', fence]);
      assert.equal(await podman(['inspect', '--format', '{{.State.ExitCode}}', fence]), '0');
      const last = (await p.log(CONTAINER.fence)).trimEnd().split('\n').at(-1)!;
      assert.deepEqual(parseCountersLine(last)?.counts, counted.counts, last);
      const decisions = (await p.log(CONTAINER.resolver))
        .split('\n')
        .filter((l) => l.startsWith(DECISION_PREFIX))
        .map((l) => JSON.parse(l.slice(DECISION_PREFIX.length)) as DnsDecision);
      assert.ok(
        decisions.some((d) => d.name === 'blocked.example' && d.verdict === 'refused' && d.forwarded === false && d.count === 2),
        JSON.stringify(decisions),
      );
    });
  });

  it('the build cannot change the rules: iptables -F and ipset flush fail, and the fence holds', async () => {
    const s1 = servers[1];
    const script = [
      'iptables -F; echo "flush4=$?"',
      'ip6tables -F; echo "flush6=$?"',
      'ipset flush; echo "ipset=$?"',
      `nc -w 2 ${s1} 8080 </dev/null; echo "nc=$?"`,
    ].join('\n');
    await play({ grade: 'release', image: IMAGES.holder, run: script }, async (p) => {
      const out = await p.log(CONTAINER.build);
      assert.equal(p.exitCode, 0, out);
      for (const word of ['flush4', 'flush6', 'ipset', 'nc']) assert.match(out, new RegExp(`${word}=[1-9]`), out);
      const denied = (await p.log(CONTAINER.fence))
        .split('\n')
        .map(parseNflogLine)
        .filter((x) => x !== undefined);
      assert.ok(
        denied.some((d) => d.address === s1 && d.port === 8080),
        JSON.stringify(denied),
      );
    });
  });

  // Issue 12, hole 7a: a peer on the Pod's network must not reach a listener in the build.
  it('a peer on the network reaches no listener of the build, and the fence records each attempt', async () => {
    const port = 7070;
    let peer = '';
    let peerAddress = '';
    const script = [
      `probe serve ${port} &`,
      'sleep 0.5; echo BUILD-LISTENING',
      'i=0; while [ ! -e /tmp/stop ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done',
      `probe tcp ${servers[0]} 8080`,
    ].join('\n');
    await play(
      { grade: 'release', allowlist: `${servers[0]}:8080`, run: script },
      async (p) => {
        const out = await p.log(CONTAINER.build);
        assert.equal(p.exitCode, 0, out);
        const v = verdicts(peer);
        assert.equal(v.size, 2, peer);
        for (const [probe, verdict] of v) assert.notEqual(verdict, 'ok', `${probe} reached the build`);
        assert.doesNotMatch(out, /(tcp|udp) from/, 'the listener in the build saw a peer');
        assert.match(out, new RegExp(`^tcp ${servers[0]}:8080 ok`, 'm'), 'the build lost its own connection');
        const inbound = (await p.log(CONTAINER.fence))
          .split('\n')
          .map(parseNflogLine)
          .filter((x) => x?.inbound);
        for (const protocol of ['tcp', 'udp']) {
          assert.ok(
            inbound.some((d) => d?.protocol === protocol && d.address === peerAddress && d.port === port && d.enforced),
            `no inbound ${protocol} attempt from ${peerAddress} recorded: ${JSON.stringify(inbound)}`,
          );
        }
      },
      undefined,
      CONTAINER.build,
      async (p) => {
        const end = Date.now() + 60_000;
        while (!/BUILD-LISTENING/.test(await p.log(CONTAINER.build)) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
        const infra = await podman(['pod', 'inspect', '--format', '{{.InfraContainerID}}', p.name]);
        const address = await podman(['inspect', '--format', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, infra]);
        peer = await podman([
          'run',
          '--rm',
          '--network',
          net,
          '--label',
          'buildfence-test=1',
          IMAGES.probe,
          'sh',
          '-c',
          `ip addr show eth0 | awk '$1 == "inet" { print $2 }'; probe tcp ${address} ${port} 1500; probe udp ${address} ${port} 1500; true`,
        ]);
        peerAddress = peer.split('\n')[0].replace(/\/\d+$/, '');
        await podman(['exec', p.build, 'touch', '/tmp/stop']);
      },
    );
  });

  // Issue 12, hole 7b: the build runs behind buildfence's seccomp filter in the Pod too.
  it('AF_VSOCK, another non-IP family and io_uring fail with EPERM in the build; a control container without the filter opens them', async () => {
    const script = ['vsock', 'bluetooth', 'unix', 'inet', 'netlink'].map((f) => `probe family ${f}; echo "${f}=$?"`).join('\n');
    await play(
      { grade: 'release', run: `${script}\nprobe uring; echo "uring=$?"` },
      async (p) => {
        const out = await p.log(CONTAINER.build);
        assert.equal(p.exitCode, 0, out);
        for (const refused of ['vsock', 'bluetooth', 'uring']) assert.match(out, new RegExp(`^${refused}=1$`, 'm'), out);
        assert.match(out, /^family vsock refused \(Operation not permitted\)$/m, out);
        for (const open of ['unix', 'inet', 'netlink']) assert.match(out, new RegExp(`^${open}=0$`, 'm'), out);
        await exec('podman', ['wait', `${p.name}-control`], { env, timeout: 30_000 });
        assert.match(await p.log('control'), /^family vsock open$/m);
      },
      (pod) => addControl(pod, ['probe', 'family', 'vsock']),
    );
  });

  it('a packet socket cannot be opened in the build; a control container with NET_RAW can', async () => {
    await play(
      { grade: 'release', run: 'probe packet; echo "packet=$?"; probe raw; echo "raw=$?"' },
      async (p) => {
        const out = await p.log(CONTAINER.build);
        assert.match(out, /packet=1/, out);
        assert.match(out, /raw=1/, out);
        await exec('podman', ['wait', `${p.name}-control`], { env, timeout: 30_000 });
        assert.match(await p.log('control'), /packet=0/);
      },
      (pod) => addControl(pod, ['sh', '-c', 'probe packet; echo "packet=$?"'], { capabilities: { add: ['NET_RAW'] } }),
    );
  });

  it('a holder image that cannot load the rules keeps the build from starting', async () => {
    await play(
      { grade: 'release', 'holder-image': IMAGES.probe, run: 'echo started' },
      async (p) => {
        assert.match(await p.log(CONTAINER.holder), /the holder image has no ipset/);
        assert.doesNotMatch(await p.log(CONTAINER.build), /started/);
        assert.notEqual(await podman(['inspect', '--format', '{{.State.Status}}', p.build]).catch(() => 'absent'), 'exited');
      },
      undefined,
      CONTAINER.holder,
    );
  });

  it('rules read back different from the rendered ones stop the Pod at the verifier', async () => {
    await play(
      { grade: 'release', run: 'echo started' },
      async (p) => {
        assert.match(await p.log(CONTAINER.verify), /differ from the rules rendered/);
        assert.doesNotMatch(await p.log(CONTAINER.build), /started/);
        assert.notEqual(await podman(['inspect', '--format', '{{.State.Status}}', p.build]).catch(() => 'absent'), 'exited');
      },
      (pod) => {
        // The verifier expects one rule more than the holder loads.
        const verify = pod.spec!.initContainers!.find((c) => c.name === CONTAINER.verify)!;
        const rules = JSON.parse(verify.env![0].value!) as Ruleset;
        rules.v4 = rules.v4.replace('COMMIT', '-A OUTPUT -j ACCEPT\nCOMMIT');
        verify.env![0].value = JSON.stringify(rules);
      },
      CONTAINER.verify,
    );
  });

  // Issue 7: tcpdump drops to its own user before it prints 'listening on'. The fence used to
  // probe it with `kill -0`, which fails for a root without CAP_KILL once tcpdump has switched
  // users: a fence that looked in that window took tcpdump for dead and exited, the resolver
  // waited forever for its FIFO, and the build gave up after its wait. A stand-in for tcpdump
  // makes the window two seconds long, so the old fence failed this test every time.
  it('the fence gets ready when tcpdump drops its privileges before it says it listens', async () => {
    await play(
      { grade: 'release', run: 'echo built' },
      async (p) => {
        const out = await p.log(CONTAINER.build);
        assert.equal(p.exitCode, 0, out);
        assert.match(out, /^built$/m);
        assert.equal(await podman(['inspect', '--format', '{{.State.Status}}', `${p.name}-${CONTAINER.fence}`]), 'running');
      },
      (pod) =>
        prependScript(
          pod,
          CONTAINER.fence,
          `tcpdump() { exec su -s /bin/sh tcpdump -c 'sleep 2; echo "stand-in listening on nflog" >&2; exec sleep 100000'; }`,
        ),
    );
  });

  it('a fence that fails ends the build at once, with the reason', async () => {
    await play(
      { grade: 'release', run: 'echo started' },
      async (p) => {
        const out = await p.log(CONTAINER.build);
        assert.equal(p.exitCode, NOT_READY_EXIT, out);
        assert.match(
          out,
          /buildfence: the fence failed, so the build was not run: tcpdump ended \(exit 1\) before it listened: tcpdump: nflog:5,6: No such device/,
        );
        assert.doesNotMatch(out, /started/);
        assert.ok(p.waited < 30, `the build waited ${p.waited} s`);
      },
      (pod) => prependScript(pod, CONTAINER.fence, `tcpdump() { echo 'tcpdump: nflog:5,6: No such device' >&2; return 1; }`),
    );
  });

  it('a resolver that fails ends the build at once, with the reason', async () => {
    await play(
      { grade: 'release', run: 'echo started' },
      async (p) => {
        const out = await p.log(CONTAINER.build);
        assert.equal(p.exitCode, NOT_READY_EXIT, out);
        assert.match(out, /buildfence: the resolver failed, so the build was not run: BUILDFENCE_RESOLVER_0 is not set/);
        assert.doesNotMatch(out, /started/);
        assert.ok(p.waited < 30, `the build waited ${p.waited} s`);
      },
      (pod) => {
        // Without its configuration the resolver cannot start (and sends nothing anywhere).
        pod.spec!.containers.find((c) => c.name === CONTAINER.resolver)!.env![0].value = '';
      },
    );
  });

  describe('names checked on the wire', () => {
    let site = '';
    let dns = '';
    const started = async (name: string, args: string[]) => {
      await podman(['run', '--detach', '--name', name, '--network', net, '--label', 'buildfence-test=1', ...args]);
      for (let i = 0; i < 50 && !(await logs(name)).includes('listening'); i++) await new Promise((r) => setTimeout(r, 100));
      return podman(['inspect', '--format', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, name]);
    };
    before(async () => {
      const tls = path.join(ROOT, 'test/fixtures/tls');
      const mount = (f: string) => ['--volume', `${path.join(ROOT, 'test/images', f)}:/${f}:ro`];
      site = await started(`${net}-site`, [...mount('site.mjs'), '--volume', `${tls}:/tls:ro`, IMAGES.client, 'node', '/site.mjs']);
      dns = await started(`${net}-dns`, [
        ...mount('dns-zone.mjs'),
        '--env',
        `ZONE=npm.registry.test=${site},evil.test=${site}`,
        IMAGES.client,
        'node',
        '/dns-zone.mjs',
      ]);
    });
    after(async () => {
      await exec('podman', ['rm', '--force', '--time', '0', `${net}-site`, `${net}-dns`], { env }).catch(() => undefined);
    });

    it('the allowed name works; the co-tenant on its address is refused by SNI and by Host, and recorded', async () => {
      const script = [
        'c() { label=$1; shift; if out=$(curl -sSk --max-time 15 "$@" 2>/tmp/err); then echo "$label ok: $out"; else echo "$label failed: $(cat /tmp/err)"; fi; }',
        'c tls https://npm.registry.test/',
        'c http http://npm.registry.test/',
        `c sni --resolve evil.test:443:${site} https://evil.test/`,
        'c host -H "Host: evil.test" http://npm.registry.test/',
      ].join('\n');
      await play(
        { grade: 'release', allowlist: 'npm.registry.test:443, npm.registry.test:80', image: IMAGES.client, run: script },
        async (p) => {
          const out = await p.log(CONTAINER.build);
          assert.equal(p.exitCode, 0, out);
          assert.match(out, /^tls ok: site npm\.registry\.test$/m);
          assert.match(out, /^http ok: site npm\.registry\.test$/m);
          assert.match(out, /^sni failed/m);
          assert.match(out, /^host failed/m);
          const rows = (await p.log(CONTAINER.resolver))
            .split('\n')
            .filter((l) => l.startsWith(WIRE_PREFIX))
            .map((l) => JSON.parse(l.slice(WIRE_PREFIX.length)) as WireDecision)
            .map((d) => `${d.reason} ${d.name} ${d.address}:${d.port} for ${d.learnedFor.join(',')} enforced=${d.enforced}`);
          assert.deepEqual([...new Set(rows)].sort(), [
            `host evil.test ${site}:80 for npm.registry.test enforced=true`,
            `sni evil.test ${site}:443 for npm.registry.test enforced=true`,
          ]);
        },
        undefined,
        CONTAINER.build,
        undefined,
        dns,
      );
    });
  });
});
