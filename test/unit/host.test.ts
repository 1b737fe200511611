// The host runtime's pure parts: what the build sees of the runner (the mount plan, path by path),
// who it runs as, its environment, its container body, what the runner check refuses, the root
// image, and the inputs it refuses.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { extract } from 'tar-stream';
import { buildEnv, buildUser, hostBuildConfig, ROOT_RUNNER_BUILD_ID } from '../../src/host/build-container.js';
import { mountPoints } from '../../src/host/mountinfo.js';
import { engineMounts, planMounts, type Mount, type RunnerLayout } from '../../src/host/mounts.js';
import { rootImageTag, rootImageTar } from '../../src/host/root-image.js';
import { checkEngine, idTaken, runnerRootOf } from '../../src/host/runner.js';
import { getInputs } from '../../src/inputs.js';
import { savedRun, saveRun } from '../../src/state.js';
import type { RunSpec } from '../../src/run/spec.js';

/** A GitHub-hosted Ubuntu runner, as runner.ts would read it. */
const hosted: RunnerLayout = {
  topDirs: ['boot', 'dev', 'etc', 'home', 'mnt', 'opt', 'proc', 'root', 'run', 'snap', 'srv', 'sys', 'tmp', 'usr', 'var'],
  split: [
    { dir: '/var', dirs: ['cache', 'lib', 'log', 'tmp'], files: [] },
    { dir: '/var/lib', dirs: ['apt', 'docker', 'containerd', 'dpkg'], files: ['shells.state'] },
  ],
  mountPoints: [
    '/',
    '/proc',
    '/run',
    '/run/user/1001',
    '/boot',
    '/boot/efi',
    '/mnt',
    '/snap/core20/2434',
    '/var/lib/docker/overlay2/abc/merged',
    '/home/runner/mounted',
    '/etc/resolv.conf',
  ],
  engineState: ['/var/lib/docker', '/var/lib/containerd', '/home/runner/.local/share/docker'],
  varRunIsDir: false,
  workspace: '/home/runner/work/app/app',
  home: '/home/runner',
  temp: '/home/runner/work/_temp',
  toolCaches: ['/opt/hostedtoolcache'],
  runnerRoot: '/home/runner/runners/2.330.0',
  workDir: '/home/runner/work',
  commandFiles: ['/home/runner/work/_temp/_runner_file_commands/set_env_1', '/home/runner/work/_temp/_runner_file_commands/add_path_1'],
  eventPath: '/home/runner/work/_temp/_github_workflow/event.json',
  own: ['/home/runner/work/_temp/buildfence-abc-x'],
  scriptDir: '/home/runner/work/_temp/buildfence-abc-x/script',
};

/** What the build finds at `p`: the deepest mount at or above it decides. */
function seen(plan: Mount[], p: string): string {
  const m = plan.filter((x) => p === x.target || p.startsWith(`${x.target}/`)).sort((a, b) => b.target.length - a.target.length)[0];
  if (!m) return 'the root image';
  if (m.type === 'tmpfs') return 'empty';
  if (m.type === 'scratch') return 'private';
  if (m.source !== m.target) return `${m.readOnly ? 'ro' : 'rw'} from ${m.source}`;
  return m.readOnly ? 'ro' : 'rw';
}

describe('planMounts: what the build sees of a GitHub-hosted runner', () => {
  const plan = planMounts(hosted);
  const cases: Array<[string, string]> = [
    ['/usr/bin/node', 'ro'],
    ['/etc/passwd', 'ro'],
    ['/opt/microsoft', 'ro'],
    ['/home/other', 'ro'],
    ['/root/.ssh', 'ro'],
    ['/home/runner/.npm', 'rw'],
    ['/home/runner/.local/share/docker', 'empty'],
    ['/home/runner/work/app/app/package.json', 'rw'],
    ['/home/runner/work/_actions/actions/checkout/v4/dist/index.js', 'ro'],
    ['/home/runner/work/_PipelineMapping', 'ro'],
    ['/home/runner/work/other-repo', 'ro'],
    ['/home/runner/work/_temp/anything', 'rw'],
    ['/home/runner/work/_temp/_runner_file_commands/set_env_1', 'empty'],
    ['/home/runner/work/_temp/_github_workflow/event.json', 'ro'],
    ['/home/runner/work/_temp/buildfence-abc-x/rules', 'empty'],
    ['/home/runner/runners/2.330.0/bin/Runner.Worker', 'empty'],
    ['/home/runner/runners/2.330.0/_diag/Worker_1.log', 'empty'],
    ['/opt/hostedtoolcache/node/20.19.0/x64/bin/node', 'rw'],
    ['/run/docker.sock', 'empty'],
    ['/run/systemd/resolve/io.systemd.Resolve', 'empty'],
    ['/run/user/1001/docker.sock', 'empty'],
    ['/var/run/docker.sock', 'the root image'],
    ['/var/lib/docker/overlay2/abc/merged', 'empty'],
    ['/var/lib/containerd/io.containerd.content.v1.content', 'empty'],
    ['/var/lib/dpkg/status', 'ro'],
    ['/var/lib/shells.state', 'ro'],
    ['/var/cache/apt', 'ro'],
    ['/tmp/x', 'private'],
    ['/__buildfence/script.sh', 'ro from /home/runner/work/_temp/buildfence-abc-x/script'],
    ['/boot/efi/EFI', 'ro'],
    ['/mnt/swapfile', 'ro'],
    ['/home/runner/mounted/x', 'rw'],
  ];
  for (const [p, expected] of cases) it(`${p}: ${expected}`, () => assert.equal(seen(plan, p), expected));

  it('never binds a directory that holds the engine, nor /var, /proc, /sys, /dev or the runner /', () => {
    const binds = plan.filter((m) => m.type === 'bind').map((m) => m.target);
    for (const p of ['/', '/var', '/var/lib', '/var/lib/docker', '/proc', '/sys', '/dev', '/run']) assert.ok(!binds.includes(p), p);
  });

  it('binds a mount below a read-only one read-only again (a bind is read-only at its top only), none below a writable one', () => {
    const targets = plan.filter((m) => m.type === 'bind' && m.readOnly).map((m) => m.target);
    for (const p of ['/boot/efi', '/snap/core20/2434']) assert.ok(targets.includes(p), p);
    assert.ok(!plan.some((m) => m.target === '/home/runner/mounted'));
    // Docker mounts the holder's resolv.conf there: a second mount would be refused.
    assert.ok(!plan.some((m) => m.target === '/etc/resolv.conf'));
  });

  it('orders parents before children, as the engine mounts them', () => {
    const depth = (p: string) => p.split('/').filter(Boolean).length;
    for (let i = 1; i < plan.length; i++) assert.ok(depth(plan[i - 1].target) <= depth(plan[i].target));
  });

  it('a command file outside its own directory is masked by itself', () => {
    const p = planMounts({ ...hosted, commandFiles: ['/home/runner/work/app/app/env-file'] });
    const m = p.find((x) => x.target === '/home/runner/work/app/app/env-file');
    assert.deepEqual(m, { type: 'bind', source: '/dev/null', target: '/home/runner/work/app/app/env-file', readOnly: true });
  });

  it('a self-hosted runner whose work directory is inside its installation: the installation is empty, the work directory read-only', () => {
    const p = planMounts({
      ...hosted,
      home: '/home/ci',
      runnerRoot: '/actions-runner',
      workDir: '/actions-runner/_work',
      workspace: '/actions-runner/_work/app/app',
      temp: '/actions-runner/_work/_temp',
      toolCaches: ['/actions-runner/_work/_tool'],
      commandFiles: [],
      eventPath: undefined,
    });
    assert.equal(seen(p, '/actions-runner/.credentials_rsaparams'), 'empty');
    assert.equal(seen(p, '/actions-runner/_diag/Runner_1.log'), 'empty');
    assert.equal(seen(p, '/actions-runner/_work/_actions/x'), 'ro');
    assert.equal(seen(p, '/actions-runner/_work/_tool/node'), 'rw');
    assert.equal(seen(p, '/actions-runner/_work/app/app/src'), 'rw');
  });

  it('in the Engine API form: binds rprivate, empty places a small tmpfs only root may write, /tmp a large one for all', () => {
    assert.deepEqual(
      engineMounts(
        [
          { type: 'bind', source: '/usr', target: '/usr', readOnly: true },
          { type: 'tmpfs', target: '/run' },
          { type: 'scratch', target: '/tmp' },
        ],
        4096,
      ),
      {
        Mounts: [{ Type: 'bind', Source: '/usr', Target: '/usr', ReadOnly: true, BindOptions: { Propagation: 'rprivate' } }],
        Tmpfs: { '/run': 'rw,noexec,nosuid,nodev,mode=755,size=1m', '/tmp': 'rw,exec,nosuid,nodev,mode=1777,size=4096' },
      },
    );
  });
});

describe('the build user', () => {
  it("is the runner's uid and primary group", () => assert.deepEqual(buildUser(1001, 1001, [118]), { uid: 1001, gid: 1001 }));
  it("takes the uid's number for a group when the primary group opens the engine's socket (docker)", () =>
    assert.deepEqual(buildUser(1001, 118, [118]), { uid: 1001, gid: 1001 }));
  it("never root's group", () => assert.deepEqual(buildUser(1001, 0, []), { uid: 1001, gid: 1001 }));
  it('is 65533 on a runner that runs as root', () => assert.deepEqual(buildUser(0, 0, []), { uid: 65533, gid: 65533 }));
});

const spec = {
  via: 'action',
  shell: ['bash', '-e', '{0}'],
  workingDirectory: '/home/runner/work/app/app/web',
  env: [['NODE_ENV', 'production']],
} as unknown as RunSpec;

describe('buildEnv', () => {
  const env = buildEnv(
    {
      PATH: '/opt/hostedtoolcache/node/20.19.0/x64/bin:/usr/bin',
      GITHUB_SHA: 'abc',
      RUNNER_TOOL_CACHE: '/opt/hostedtoolcache',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc',
      INPUT_RUN: 'npm ci',
      STATE_run_id: 'x',
      ACTIONS_RUNTIME_TOKEN: 'secret',
      ACTIONS_RUNTIME_URL: 'u',
      ACTIONS_CACHE_URL: 'u',
      ACTIONS_RESULTS_URL: 'u',
      GITHUB_ENV: '/f/env',
      GITHUB_PATH: '/f/path',
      GITHUB_OUTPUT: '/f/out',
      GITHUB_STATE: '/f/state',
      GITHUB_STEP_SUMMARY: '/f/summary',
      HOME: '/root',
      NODE_ENV: 'development',
    },
    spec,
    '/tmp/home',
  );
  it('keeps what a run: step has: PATH with the tool cache, GITHUB_*, the OIDC request token', () => {
    for (const v of [
      'PATH=/opt/hostedtoolcache/node/20.19.0/x64/bin:/usr/bin',
      'GITHUB_SHA=abc',
      'RUNNER_TOOL_CACHE=/opt/hostedtoolcache',
      'ACTIONS_ID_TOKEN_REQUEST_TOKEN=oidc',
    ])
      assert.ok(env.includes(v), v);
  });
  it("drops the action's inputs and state, the runtime's tokens and the workflow command files", () => {
    const names = env.map((e) => e.split('=')[0]);
    for (const n of [
      'INPUT_RUN',
      'STATE_run_id',
      'ACTIONS_RUNTIME_TOKEN',
      'ACTIONS_RUNTIME_URL',
      'ACTIONS_CACHE_URL',
      'ACTIONS_RESULTS_URL',
      'GITHUB_ENV',
      'GITHUB_PATH',
      'GITHUB_OUTPUT',
      'GITHUB_STATE',
      'GITHUB_STEP_SUMMARY',
    ])
      assert.ok(!names.includes(n), n);
  });
  it('sets HOME, and the env input has the last word', () => {
    assert.ok(env.includes('HOME=/tmp/home'));
    assert.ok(env.includes('NODE_ENV=production') && !env.includes('NODE_ENV=development'));
  });
});

describe('hostBuildConfig', () => {
  const config = hostBuildConfig({
    id: { runId: 'abcdef012345', pid: 1, host: 'h' },
    spec,
    image: 'sha256:root',
    holder: 'buildfence-abcdef012345-holder',
    user: { uid: 1001, gid: 1001 },
    env: ['A=1'],
    mounts: [],
    shmBytes: 1024,
  }) as { User: string; Entrypoint: string[]; Cmd: string[]; WorkingDir: string; HostConfig: Record<string, unknown> };
  it("runs as uid:gid (no supplementary group), in the holder's network namespace, behind the filter program", () => {
    assert.equal(config.User, '1001:1001');
    assert.equal(config.HostConfig.NetworkMode, 'container:buildfence-abcdef012345-holder');
    assert.deepEqual([...config.Entrypoint, ...config.Cmd], ['/__buildfence/seccomp-exec', 'bash', '-e', '/__buildfence/script.sh']);
    assert.equal(config.WorkingDir, '/home/runner/work/app/app/web');
  });
  it("drops every capability, sets no_new_privs, keeps the engine's seccomp and its own PID and IPC namespaces, a read-only root", () => {
    const h = config.HostConfig;
    assert.deepEqual(h.CapDrop, ['ALL']);
    assert.equal(h.CapAdd, undefined);
    assert.deepEqual(h.SecurityOpt, ['no-new-privileges']);
    assert.equal(h.Privileged, false);
    assert.equal(h.ReadonlyRootfs, true);
    assert.equal(h.IpcMode, 'private');
    for (const k of ['PidMode', 'UsernsMode', 'GroupAdd', 'Devices', 'Binds']) assert.equal(h[k], undefined, k);
  });
});

describe('the runner check', () => {
  const ok = ['name=apparmor', 'name=seccomp,profile=default', 'name=cgroupns'];
  it("takes this machine's engine with Docker's default seccomp profile", () => {
    checkEngine(undefined, ok);
    checkEngine('unix:///var/run/docker.sock', ['name=seccomp,profile=builtin']);
  });
  const refused: Array<[string | undefined, string[], RegExp]> = [
    ['tcp://10.0.0.5:2376', ok, /DOCKER_HOST is tcp:\/\/10\.0\.0\.5:2376.*another machine/],
    ['ssh://ci@builder', ok, /DOCKER_HOST is ssh:/],
    [undefined, ['name=seccomp,profile=default', 'name=rootless'], /runs rootless/],
    [undefined, ['name=seccomp,profile=default', 'name=userns'], /user namespace remapping/],
    [undefined, ['name=apparmor'], /applies no seccomp profile/],
    [undefined, ['name=seccomp,profile=/etc/docker/mine.json'], /other than its default/],
  ];
  for (const [host, options, message] of refused) {
    it(`refuses ${host ?? options.join(' ')}`, () => assert.throws(() => checkEngine(host, options), message));
  }
  it('finds an account or a group that has the root runner build id', () => {
    assert.equal(idTaken('root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n', 'nogroup:x:65534:\n', 65533), undefined);
    assert.equal(idTaken('x:x:65533:100::/:/bin/sh\n', '', ROOT_RUNNER_BUILD_ID), 'user x');
    assert.equal(idTaken('', 'g:x:65533:\n', ROOT_RUNNER_BUILD_ID), 'group g');
  });
  it("finds the runner's installation from the node that runs the action", () => {
    assert.equal(runnerRootOf('/home/runner/runners/2.330.0/externals/node24/bin/node'), '/home/runner/runners/2.330.0');
    assert.equal(runnerRootOf('/usr/bin/node'), undefined);
  });
  it('reads mount points with their escapes decoded', () => {
    const info = '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n90 22 8:2 / /mnt/my\\040disk rw - ext4 /dev/sdb rw\n';
    assert.deepEqual(mountPoints(info), ['/', '/mnt/my disk']);
  });
});

describe('the root image', () => {
  const layout = [
    { path: 'usr', mode: 0o755 },
    { path: 'bin', link: 'usr/bin' },
    { path: 'tmp', mode: 0o1777 },
    { path: 'var/run', link: '/run' },
  ];
  it('is named by its layout, whatever the order it was read in', () => {
    assert.equal(rootImageTag(layout), rootImageTag([...layout].reverse()));
    assert.notEqual(rootImageTag(layout), rootImageTag(layout.slice(1)));
  });
  it("holds empty directories with the runner's modes and the links, nothing else", async () => {
    const tar = await rootImageTar(layout);
    const seenEntries: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const x = extract();
      x.on('entry', (h, stream, next) => {
        seenEntries.push(`${h.type} ${h.name}${h.linkname ? ` -> ${h.linkname}` : ''} ${(h.mode ?? 0).toString(8)} ${h.size ?? 0}`);
        stream.resume();
        stream.on('end', next);
      });
      x.on('finish', resolve);
      x.on('error', reject);
      x.end(tar);
    });
    assert.deepEqual(seenEntries, [
      'symlink bin -> usr/bin 777 0',
      'directory tmp/ 1777 0',
      'directory usr/ 755 0',
      'symlink var/run -> /run 777 0',
    ]);
  });
});

describe('runtime host inputs', () => {
  const read = (values: Record<string, string>) => (name: string) => values[name] ?? '';
  it('takes runtime host with working-directory, env and shell', () => {
    const inputs = getInputs(
      read({ run: 'npm ci', runtime: 'host', 'working-directory': 'web', env: 'A=1', shell: 'bash -e {0}' }),
      'action',
    );
    assert.equal(inputs.runtime, 'host');
  });
  it('refuses image, docker-options and pull, naming each', () => {
    assert.throws(
      () => getInputs(read({ run: 'x', runtime: 'host', image: 'node:22', 'docker-options': '--cpus=2', pull: 'never' }), 'action'),
      /Input 'runtime' is 'host', which runs the script on the runner itself.*input 'image', input 'docker-options', input 'pull' apply to a build container only/,
    );
    assert.throws(() => getInputs(read({ run: 'x', runtime: 'host', image: 'node:22' }), 'cli'), /--runtime is 'host'.*--image applies/);
  });
  it('leaves image and pull to the docker runtime when empty', () => {
    const inputs = getInputs(read({ run: 'x' }), 'action');
    assert.equal(inputs.image, 'ubuntu:24.04');
    assert.equal(inputs.pull, 'missing');
  });
});

describe('post-step state of a host run', () => {
  it('keeps the runtime and, on a root runner, the workspace', () => {
    const store = new Map<string, string>();
    const s = { saveState: (k: string, v: string) => store.set(k, v), getState: (k: string) => store.get(k) ?? '' };
    saveRun(s, { runId: 'abcdef012345', runtime: 'host', workspace: '/w' });
    assert.deepEqual(savedRun(s), { runId: 'abcdef012345', runtime: 'host', namespace: undefined, workspace: '/w' });
  });
});
