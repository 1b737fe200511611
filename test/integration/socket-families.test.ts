// Issue 12, hole 7b: socket families the fence cannot see. Under Docker's default seccomp profile
// (20.10) a build opened an AF_VSOCK socket, a channel to the hypervisor that no netfilter rule
// sees, and could set up io_uring, which creates sockets without the socket syscall. The build
// runs behind buildfence's own filter on top of the default: those fail with EPERM, in every
// mode, also when audit mode lets the user replace the default profile; the families a build
// uses still open.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { HOLDER_IMAGE, PROBE_IMAGE, cli, dockerText, fixture, probeRunArgs, resourcesOf } from './harness.js';

const fx = fixture({ servers: 1, ports: [8080] });

const SCRIPT = [
  ...['vsock', 'bluetooth', 'alg', 'tipc', 'packet', 'unix', 'inet', 'inet6', 'netlink'].map((f) => `probe family ${f} || true`),
  'probe uring || true',
  // A 32-bit program: socketcall's arguments lie in memory a filter cannot read.
  'if command -v probe32 >/dev/null; then probe32; else echo "no probe32 (not x86_64)"; fi',
].join('\n');

async function families(grade: string, options: string[] = []): Promise<Map<string, string>> {
  await fx.ready;
  const r = await cli(probeRunArgs(undefined, '--grade', grade, '--dns-upstream', '127.0.0.1:9', ...options, '--', SCRIPT), fx.ws);
  assert.equal(r.code, 0, r.stderr);
  const seen = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(family \S+|uring|socketcall \S+|socket \S+) (open|refused|error|errno \d+)/.exec(line);
    if (m) seen.set(m[1], m[2]);
  }
  return seen;
}

function check(seen: Map<string, string>): void {
  const expected: Record<string, string> = {
    'family vsock': 'refused',
    'family bluetooth': 'refused',
    'family alg': 'refused',
    'family tipc': 'refused',
    'family packet': 'refused',
    uring: 'refused',
    'family unix': 'open',
    'family inet': 'open',
    'family inet6': 'open',
    'family netlink': 'open',
  };
  if (process.arch === 'x64') {
    // EPERM is errno 1.
    Object.assign(expected, {
      'socketcall inet': 'errno 1',
      'socketcall vsock': 'errno 1',
      'socket inet': 'open',
      'socket vsock': 'errno 1',
    });
  }
  const rows = Object.entries(expected).map(
    ([k, v]) => `${seen.get(k) === v ? ' ' : '✗'} ${k.padEnd(18)} expected ${v.padEnd(8)} saw ${seen.get(k)}`,
  );
  assert.ok(
    Object.entries(expected).every(([k, v]) => seen.get(k) === v),
    rows.join('\n'),
  );
}

describe('socket families the fence cannot see (issue 12, hole 7b)', () => {
  it('release: AF_VSOCK and every other non-IP family but unix and netlink fail with EPERM, and so does io_uring', async () => {
    check(await families('release'));
  });

  it('audit, with the default profile replaced by unconfined: the filter still holds', async () => {
    check(await families('dev', ['--docker-options=--security-opt seccomp=unconfined']));
  });

  it('a holder image without the filter program fails the step before the build starts', async () => {
    await fx.ready;
    const tag = `buildfence-test/holder-nofilter:${randomBytes(4).toString('hex')}`;
    const maker = await dockerText(['create', '--label', 'buildfence-test=1', HOLDER_IMAGE, 'rm', '/usr/lib/buildfence/seccomp-exec']);
    try {
      await dockerText(['start', '--attach', maker]);
      await dockerText(['commit', maker, tag]);
      const r = await cli(
        ['run', '--grade', 'dev', '--holder-image', tag, '--image', PROBE_IMAGE, '--dns-upstream', '127.0.0.1:9', '--', 'echo BUILD-RAN'],
        fx.ws,
      );
      assert.notEqual(r.code, 0);
      assert.doesNotMatch(r.stdout, /BUILD-RAN/);
      assert.match(r.stderr, /the holder image has no \/usr\/lib\/buildfence\/seccomp-exec \(buildfence's seccomp filter for the build\)/);
      assert.deepEqual(await resourcesOf(r.pid), []);
    } finally {
      await dockerText(['rm', maker]);
      await dockerText(['image', 'rm', tag]).catch(() => undefined);
    }
  });
});
