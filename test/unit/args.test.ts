import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildCreateArgs } from '../../src/docker/containers.js';
import { holderConfig } from '../../src/engine/containers.js';
import { runnerEnvNames, shellCommand } from '../../src/run/build.js';
import type { RunSpec } from '../../src/run/spec.js';

const id = { runId: 'abcdef012345', pid: 4242, host: 'runner-1' };
const spec: RunSpec = {
  via: 'action',
  grade: 'release',
  mode: 'block',
  allow: [],
  deny: [],
  failOnDenied: false,
  run: 'make',
  image: 'ubuntu:24.04',
  shell: ['sh', '-e'],
  workspace: '/home/runner/work/app',
  workingDirectory: '/home/runner/work/app/sub',
  env: [['A', '1']],
  holderImage: 'buildfence/holder:0.1.0',
  dockerOptions: ['--memory', '2g', '--cpus=2'],
  pull: 'never',
  runtime: 'docker',
  agentImage: 'buildfence/agent:0.1.0',
  subjectPaths: [],
  dns: { ttlMin: 60, ttlMax: 3600 },
};

function valueOf(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));
}

describe('holderConfig', () => {
  const config = holderConfig({
    id,
    image: 'buildfence/holder:0.1.0',
    network: 'net1',
    rulesDir: '/tmp/r',
    scriptDir: '/tmp/s',
    command: { entrypoint: ['sh', '-c'], cmd: ['x'] },
  }) as {
    Labels: Record<string, string>;
    HostConfig: { CapDrop: string[]; CapAdd: string[]; Privileged?: boolean; NetworkMode: string; Binds: string[]; SecurityOpt: string[] };
  };
  it('turns TCP autocorking off in the namespace only with the TLS fast path (its held packets would stall a ClientHello written in pieces)', () => {
    const args = { id, image: 'i', network: 'n', rulesDir: '/r', scriptDir: '/s', command: { entrypoint: ['sh'], cmd: [] } };
    const sysctls = (fastPath: boolean) => (holderConfig({ ...args, fastPath }) as { HostConfig: { Sysctls?: object } }).HostConfig.Sysctls;
    assert.deepEqual(sysctls(true), { 'net.ipv4.tcp_autocorking': '0' });
    assert.equal(sysctls(false), undefined);
  });
  it('gives the holder NET_ADMIN, NET_RAW, SETUID and SETGID, and nothing else', () => {
    assert.deepEqual(config.HostConfig.CapDrop, ['ALL']);
    assert.deepEqual(config.HostConfig.CapAdd, ['NET_ADMIN', 'NET_RAW', 'SETUID', 'SETGID']);
    assert.deepEqual(config.HostConfig.SecurityOpt, ['no-new-privileges']);
    assert.equal(config.HostConfig.Privileged, undefined);
  });
  it("labels it for this run, on its network, with the rules read-only and the build's script directory, for the filter program", () => {
    assert.deepEqual(config.Labels, {
      buildfence: '1',
      'buildfence.run': 'abcdef012345',
      'buildfence.pid': '4242',
      'buildfence.host': 'runner-1',
    });
    assert.equal(config.HostConfig.NetworkMode, 'net1');
    assert.deepEqual(config.HostConfig.Binds, ['/tmp/r:/__buildfence:ro', '/tmp/s:/__buildfence-script']);
  });
});

describe('buildCreateArgs', () => {
  const cmd = buildCreateArgs({ id, spec, scriptDir: '/tmp/s', envFile: '/tmp/env', passedEnv: ['GITHUB_SHA'] });
  const args = cmd.options;
  it("joins the holder's network namespace and drops what could change or bypass the rules", () => {
    assert.deepEqual(valueOf(args, '--network'), ['container:buildfence-abcdef012345-holder']);
    assert.deepEqual(valueOf(args, '--cap-drop'), ['NET_ADMIN', 'NET_RAW']);
    assert.deepEqual(valueOf(args, '--security-opt'), ['no-new-privileges']);
    assert.ok(!args.includes('--privileged'));
  });
  it("puts the user's options before the fence's own flags", () => {
    const user = args.indexOf('--memory');
    assert.ok(user > 0 && user < args.indexOf('--network') && user < args.indexOf('--cap-drop'));
    assert.ok(args.includes('--cpus=2'));
  });
  it('mounts the workspace at the same path and runs the script with the shell, behind the seccomp filter program', () => {
    assert.deepEqual(valueOf(args, '--volume'), ['/home/runner/work/app:/home/runner/work/app', '/tmp/s:/__buildfence:ro']);
    assert.deepEqual(valueOf(args, '--workdir'), ['/home/runner/work/app/sub']);
    assert.deepEqual(args.slice(args.indexOf('--entrypoint')), ['--entrypoint', '/__buildfence/seccomp-exec']);
    assert.deepEqual([cmd.image, ...cmd.command], ['ubuntu:24.04', 'sh', '-e', '/__buildfence/script.sh']);
  });
  it('passes variables by name, never their values', () => {
    assert.deepEqual(valueOf(args, '--env'), ['GITHUB_SHA']);
    assert.deepEqual(valueOf(args, '--env-file'), ['/tmp/env']);
    assert.ok(!args.some((a) => a.includes('A=1')));
  });
});

describe('shellCommand', () => {
  const cases: Array<[string[], string[]]> = [
    [
      ['sh', '-e'],
      ['sh', '-e', '/s.sh'],
    ],
    [
      ['bash', '-e', '{0}'],
      ['bash', '-e', '/s.sh'],
    ],
    [
      ['python3', '{0}', '--flag'],
      ['python3', '/s.sh', '--flag'],
    ],
  ];
  for (const [shell, expected] of cases) {
    it(shell.join(' '), () => assert.deepEqual(shellCommand(shell, '/s.sh'), expected));
  }
});

describe('runnerEnvNames', () => {
  it('passes GITHUB_* and RUNNER_* only', () => {
    assert.deepEqual(runnerEnvNames({ GITHUB_SHA: 'x', RUNNER_OS: 'Linux', HOME: '/root', ACTIONS_RUNTIME_TOKEN: 't', MY_GITHUB_X: 'y' }), [
      'GITHUB_SHA',
      'RUNNER_OS',
    ]);
  });
});
