// Issue 12, hole 1: a docker-options mount that hands the build the container runtime. With
// containerd's socket directory mounted, containerd's own client (ctr, copied into the
// workspace as a build could carry it) finds the holder, execs `iptables -P OUTPUT ACCEPT;
// iptables -F` in it and the build reaches a server the grade refuses. The options guard must
// refuse the step before anything is created: no container, no packet.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { HOLDER_IMAGE, LOOPBACK_UPSTREAM, cli, dockerText, fixture, resourcesOf } from './harness.js';

const run = promisify(execFile);
const fx = fixture({ servers: 1, ports: [8080] });

/** Where this engine's containerd listens: Debian's docker.io runs its own under /run/docker. */
async function containerdDir(): Promise<string> {
  for (const dir of ['/run/containerd', '/run/docker/containerd']) {
    if (await fs.stat(path.join(dir, 'containerd.sock')).catch(() => undefined)) return dir;
  }
  throw new Error("No containerd socket under /run/containerd or /run/docker/containerd: where does this engine's containerd listen?");
}

async function serverLog(name: string): Promise<string> {
  const { stdout, stderr } = await run('docker', ['logs', name]);
  return stdout + stderr;
}

describe('a mount of the container runtime (issue 12, hole 1)', () => {
  let dir: string;
  let fifos: string;
  before(async () => {
    await fx.ready;
    dir = await containerdDir();
    // ctr is containerd's own client (Debian's containerd package, which docker.io depends on).
    const ctr = (await run('sh', ['-c', 'command -v ctr'])).stdout.trim();
    await fs.copyFile(ctr, path.join(fx.ws, 'ctr'));
    await fs.chmod(path.join(fx.ws, 'ctr'), 0o755);
    // The client's FIFOs must be where the shim on the host finds them: the same path on both sides.
    fifos = path.join(dir, `bftest-fifo-${randomBytes(4).toString('hex')}`);
  });

  it('refuses the step before anything is created: the holder is never reached', async (t) => {
    t.after(() => fs.rm(fifos, { recursive: true, force: true }));
    const server = fx.net.servers[0];
    const ctr = `./ctr --address ${dir}/containerd.sock -n moby`;
    const script = [
      // With --network container:, the build's hostname is the holder's short id.
      `id=$(${ctr} containers ls -q | grep "^$(hostname)")`,
      `${ctr} tasks exec --fifo-dir ${fifos} --exec-id bftest "$id" sh -c 'iptables -P OUTPUT ACCEPT; iptables -F; ip6tables -P OUTPUT ACCEPT; ip6tables -F' && echo FLUSHED`,
      `./probe tcp ${server.ipv4} 8080 || true`,
      `./probe tcp ${server.ipv6} 8080 || true`,
    ].join('\n');
    const r = await cli(
      [
        'run',
        '--grade',
        'release',
        '--network',
        fx.net.name,
        '--dns-upstream',
        LOOPBACK_UPSTREAM,
        '--image',
        HOLDER_IMAGE,
        '--shell',
        'sh -e',
        `--docker-options=-v ${dir}:${dir}`,
        '--',
        script,
      ],
      fx.ws,
    );
    const out = r.stdout + r.stderr;
    assert.doesNotMatch(out, /FLUSHED/, `the build flushed the holder's rules:\n${out}`);
    assert.notEqual(r.code, 0, out);
    assert.match(r.stderr, new RegExp(`--docker-options refuses '-v ${dir}:${dir}': ${dir} is (inside )?.*containerd`), r.stderr);
    assert.deepEqual(await resourcesOf(r.pid), [], 'the refused run created containers');
    assert.doesNotMatch(await serverLog(server.name), /(tcp|udp) from/, 'the refused server saw a connection');
  });

  it('refuses every other way to the same sockets and state, also in audit mode', async () => {
    await fs.symlink(dir, path.join(fx.ws, 'cd'));
    const cases: Array<[string, RegExp]> = [
      [`-v ${dir}/containerd.sock.ttrpc:/t`, /Docker socket \(or another engine's\)/],
      [`-v ${fx.ws}/cd:/cd`, new RegExp(`leads to ${dir}: `)],
      [`--mount type=bind,src=${fx.ws}/cd/containerd.sock,dst=/c`, /the Docker socket \(or another engine's\)/],
      [`-v ${fx.ws}/cd/daemon:/d`, new RegExp(`leads to ${dir}/daemon: `)],
      ['-v /var/lib/docker:/d', /Docker's images, containers and volumes/],
      ['--mount type=bind,src=/run/containerd,dst=/s', /containerd's sockets/],
      ['-v /run/docker/runtime-runc:/r', /inside Docker's run state/],
    ];
    for (const [options, reason] of cases) {
      for (const grade of ['release', 'dev']) {
        const r = await cli(
          [
            'run',
            '--grade',
            grade,
            '--dns-upstream',
            LOOPBACK_UPSTREAM,
            '--image',
            HOLDER_IMAGE,
            `--docker-options=${options}`,
            '--',
            'true',
          ],
          fx.ws,
        );
        assert.notEqual(r.code, 0, `${options} (${grade}) was accepted:\n${r.stderr}`);
        assert.match(r.stderr, reason, `${options} (${grade})`);
        assert.deepEqual(await resourcesOf(r.pid), [], `${options} (${grade}) created containers`);
      }
    }
    // A named volume that an earlier step made from the same directory.
    const volume = `bftest-cd-${randomBytes(4).toString('hex')}`;
    await dockerText([
      'volume',
      'create',
      '--label',
      'buildfence-test=1',
      '-o',
      'type=none',
      '-o',
      'o=bind',
      '-o',
      `device=${dir}`,
      volume,
    ]);
    try {
      const r = await cli(
        [
          'run',
          '--grade',
          'dev',
          '--dns-upstream',
          LOOPBACK_UPSTREAM,
          '--image',
          HOLDER_IMAGE,
          `--docker-options=-v ${volume}:/cd`,
          '--',
          'true',
        ],
        fx.ws,
      );
      assert.notEqual(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`mounts volume '${volume}', which the local driver makes from ${dir}: `));
      assert.deepEqual(await resourcesOf(r.pid), []);
    } finally {
      await dockerText(['volume', 'rm', volume]);
    }
    // The control: the same step without the mount runs.
    const ok = await cli(['run', '--grade', 'release', '--dns-upstream', LOOPBACK_UPSTREAM, '--image', HOLDER_IMAGE, '--', 'true'], fx.ws);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(await dockerText(['ps', '--all', '--quiet', '--filter', `label=buildfence.pid=${ok.pid}`]), '');
  });
});
