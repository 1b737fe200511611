import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkDockerOptions, checkNamedVolumes, namedVolumes, parseDockerOptions as parseWith } from '../../src/docker/options-guard.js';

const LABEL = "Input 'docker-options'";
const parseDockerOptions = (value: string) => parseWith(value, LABEL);
import type { Mode } from '../../src/run/entry.js';

const MODES: Mode[] = ['block', 'audit'];

/** Parses like the action does, then checks; returns the error message, or undefined when accepted. */
function refusal(value: string, mode: Mode, grade = 'release'): string | undefined {
  try {
    checkDockerOptions(parseDockerOptions(value), mode, { label: LABEL, grade });
    return undefined;
  } catch (err) {
    assert.ok(err instanceof Error, String(err));
    return err.message;
  }
}

describe('parseDockerOptions', () => {
  const words: Array<[string, string[]]> = [
    ['', []],
    ['  \n ', []],
    ['--memory 2g', ['--memory', '2g']],
    ['-e "A=b c" --label \'k=v w\'', ['-e', 'A=b c', '--label', 'k=v w']],
    ["-e 'X=$HOME'", ['-e', 'X=$HOME']],
    ['-e X=\\$HOME', ['-e', 'X=$HOME']],
    ['--tmpfs /tmp\n--read-only', ['--tmpfs', '/tmp', '--read-only']],
    ['-e A=b\\ c', ['-e', 'A=b c']],
    ["-e 'A=`x`'", ['-e', 'A=`x`']],
  ];
  for (const [value, expected] of words) {
    it(`splits ${JSON.stringify(value)}`, () => assert.deepEqual(parseDockerOptions(value), expected));
  }

  const refused: Array<[string, RegExp]> = [
    ['--memory 2g; rm -rf /', /refuses ';': shell operators/],
    ['-e A=1 | cat', /refuses '\|'/],
    ['-e A=1 && true', /refuses '&&'/],
    ['-e A=1 & true', /refuses '&'/],
    ['-v /a:/b > out', /refuses '>'/],
    ['--env-file <(cat x)', /refuses '<\('/],
    ['-v /data/*:/x', /refuses '\/data\/\*:\/x': glob patterns are not expanded/],
    ['--memory 2g # why', /refuses '# why': comments are not allowed/],
    ['-e X=$HOME', /refuses '\$HOME': variables and command substitutions are not expanded/],
    ['-e "X=${HOME}"', /refuses '\$HOME'/],
    ['-e X=${A:-b}', /refuses '\$\{A:-b\}'/],
    ['-e X=$(id)', /refuses '\$'/],
    ['-e X=`id`', /refuses '`': command substitution is not run/],
    ['-e "X=`id`"', /refuses '`'/],
    ['-e "X=1', /unterminated " quote/],
    ["-e 'X=1", /unterminated ' quote/],
  ];
  for (const [value, pattern] of refused) {
    it(`refuses ${JSON.stringify(value)}`, () => {
      assert.throws(
        () => parseDockerOptions(value),
        (err: unknown) => {
          assert.ok(err instanceof Error);
          assert.match(err.message, /Input 'docker-options'/);
          assert.match(err.message, pattern);
          return true;
        },
      );
    });
  }

  it('reports a backtick inside double quotes once, not as an open quote', () => {
    assert.throws(
      () => parseDockerOptions('-e "X=`id`"'),
      (err: unknown) => {
        assert.ok(err instanceof Error);
        assert.equal(err.message.split('\n').length, 1);
        return true;
      },
    );
  });

  it('reports every variable, one line each', () => {
    assert.throws(
      () => parseDockerOptions('-e A=$X -e B=$Y'),
      (err: unknown) => {
        assert.ok(err instanceof Error);
        assert.deepEqual(
          err.message.split('\n').map((l) => /refuses '([^']*)'/.exec(l)?.[1]),
          ['$X', '$Y'],
        );
        return true;
      },
    );
  });
});

describe('checkDockerOptions refuses in every mode', () => {
  const cases: Array<[string, RegExp]> = [
    ['--privileged', /refuses '--privileged': a privileged build/],
    ['--privileged=true', /refuses '--privileged=true'/],
    ['--privileged=false', /refuses '--privileged=false'/],
    ['--use-api-socket', /Docker API socket/],
    ['--network host', /refuses '--network host': the build joins the holder's network/],
    ['--network=bridge', /holder's network/],
    ['--net host', /refuses '--net host'/],
    ['--net=container:other', /holder's network/],
    [
      '--cap-add NET_ADMIN',
      /^Input 'docker-options' refuses '--cap-add NET_ADMIN': the build must not hold NET_ADMIN \(it could rewrite the fence\)\. Remove it\.$/,
    ],
    ['--cap-add=net_admin', /refuses '--cap-add=net_admin': the build must not hold NET_ADMIN/],
    ['--cap-add CAP_NET_RAW', /NET_RAW \(a raw packet socket bypasses the fence\)/],
    ['--cap-add cap_net_raw', /NET_RAW/],
    ['--cap-add " net_admin "', /NET_ADMIN/],
    ['--cap-add ALL', /ALL includes NET_ADMIN/],
    ['--cap-add all', /ALL includes/],
    ['--cap-add SYS_ADMIN', /SYS_ADMIN/],
    ['--cap-add CAP_SYS_MODULE', /SYS_MODULE/],
    ['--cap-add CHOWN,NET_ADMIN', /NET_ADMIN/],
    ['-v /var/run/docker.sock:/var/run/docker.sock', /Docker socket/],
    ['-v=/var/run/docker.sock:/s', /refuses '-v=\/var\/run\/docker\.sock:\/s': the Docker socket/],
    ['-v/run/docker.sock:/s', /Docker socket/],
    ['--volume /run/docker.sock:/s:ro', /Docker socket/],
    ['--volume=/home/runner/.docker/run/docker.sock:/s', /Docker socket/],
    ['-v /run/containerd/containerd.sock:/c', /Docker socket/],
    ['-v /run/podman/podman.sock:/p', /Docker socket/],
    [
      '-v /:/host',
      /refuses '-v \/:\/host': \/ holds \/run\/docker\.sock \(the Docker socket\), which would let the build enter the holder/,
    ],
    ['-v /var/run:/r', /\/var\/run holds \/run\/docker\.sock/],
    ['-v /var/run/:/r', /holds \/run\/docker\.sock/],
    ['-v /run:/r', /holds \/run\/docker\.sock/],
    ['-v /var:/r', /\/var holds \/var\/lib\/docker \(Docker's images, containers and volumes\)/],
    ['-v /var/run/docker:/r', /\/var\/run\/docker is Docker's run state: containerd's socket/],
    ['-v /run/containerd:/r', /is containerd's sockets/],
    ['-v /run/user/1000:/r', /is a user's runtime directory: rootless Docker's/],
    ['-v //var//run/./:/r', /holds \/run\/docker\.sock/],
    ['-v /tmp/../var/run:/r', /holds \/run\/docker\.sock/],
    ['-v /var/run/docker.sock/..:/r', /holds \/run\/docker\.sock/],
    ['-v ../../../../var/run/docker.sock:/x', /climbs with '\.\.' .* Write the absolute path instead\./],
    ['-v ./docker.sock:/x', /Docker socket/],
    ['-v /proc/1/root:/host', /leads to the host's files/],
    [
      '--mount type=bind,source=/var/run/docker.sock,target=/x',
      /refuses '--mount type=bind,source=\/var\/run\/docker\.sock,target=\/x': the Docker socket/,
    ],
    ['--mount type=bind,src=/,dst=/host', /\/ holds \/run\/docker\.sock/],
    ['--mount=type=bind,SOURCE=/run,target=/x', /\/run holds \/run\/docker\.sock/],
    ['--mount \'"source=/var/run/docker.sock",target=/x\'', /Docker socket/],
    [
      '--mount type=volume,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/var/run,dst=/x',
      /\/var\/run holds \/run\/docker\.sock/,
    ],
    ['--security-opt no-new-privileges=false', /refuses '--security-opt no-new-privileges=false': the build must keep no-new-privileges/],
    ['--security-opt no-new-privileges:false', /no-new-privileges/],
    ['--security-opt=no-new-privileges=0', /no-new-privileges/],
    ['--security-opt no-new-privileges=FALSE', /no-new-privileges/],
    ['--dns 1.1.1.1', /refuses '--dns 1\.1\.1\.1': DNS is buildfence's/],
    ['--dns-search example.com', /DNS is buildfence's/],
    ['--dns-option ndots:1', /DNS is buildfence's/],
    ['--dns-opt=ndots:1', /DNS is buildfence's/],
    ['--entrypoint sh', /refuses '--entrypoint sh': buildfence runs the build's shell/],
    ['--entrypoint=', /entrypoint/],
    ['--rm', /refuses '--rm': buildfence creates, runs and removes the build container itself/],
    ['--name x', /removes the build container itself/],
    ['--detach', /removes the build container itself/],
    ['-d', /refuses '-d': buildfence creates/],
    ['-itd', /refuses '-d \(in -itd\)'/],
    ['--restart always', /removes the build container itself/],
    ['--help', /usage/],
    ['--pid host', /refuses '--pid host': the host's PID namespace/],
    ['--pid=HOST', /PID namespace/],
    ['--ipc host', /IPC namespace/],
    ['--uts host', /UTS namespace/],
    ['--userns host', /user-namespace remapping/],
    ['--cgroupns host', /cgroup namespace/],
    ['--volumes-from other', /another container's mounts/],
    ['--sysctl net.ipv4.ip_forward=1', /holder's network namespace/],
    ['--sysctl net/ipv6/conf/all/disable_ipv6=0', /holder's network namespace/],
    ['--label buildfence.run=other', /labels under 'buildfence'/],
  ];
  for (const [value, pattern] of cases) {
    for (const mode of MODES) {
      it(`${value} (${mode})`, () => {
        const message = refusal(value, mode);
        assert.ok(message, 'expected a refusal');
        assert.match(message, pattern);
        assert.match(message, /Remove it\.|Write the absolute path instead\./);
      });
    }
  }
});

describe('checkDockerOptions refuses in block mode only', () => {
  const cases: Array<[string, RegExp]> = [
    ['--cap-add SYS_PTRACE', /adding a capability \(SYS_PTRACE\)/],
    ['--cap-add=cap_chown', /adding a capability \(CHOWN\)/],
    ['--security-opt seccomp=unconfined', /replacing the build's seccomp profile \(seccomp unconfined\)/],
    ['--security-opt seccomp:unconfined', /seccomp unconfined/],
    ['--security-opt apparmor=unconfined', /apparmor unconfined/],
    ['--security-opt apparmor:unconfined', /apparmor unconfined/],
    ['--security-opt label=disable', /label disable/],
    ['--security-opt label:disable', /label disable/],
    ['--security-opt seccomp=/path/profile.json', /replacing the build's seccomp profile \(seccomp \/path\/profile\.json\)/],
    ['--security-opt seccomp=default', /seccomp profile \(seccomp default\)/],
    ['--security-opt apparmor=my-profile', /replacing the build's apparmor profile \(apparmor my-profile\)/],
    ['--security-opt label=type:spc_t', /replacing the build's label profile \(label type:spc_t\)/],
    ['--security-opt label=level:s0:c100,c200', /label profile/],
    ['--security-opt systempaths=unconfined', /systempaths unconfined/],
    ['--security-opt systempaths:unconfined', /systempaths unconfined/],
    ['--security-opt writable-cgroups=true', /writable-cgroups true/],
    ['--security-opt writable-cgroups=1', /writable-cgroups 1/],
    ['--cap-add constructor', /adding a capability \(CONSTRUCTOR\)/],
    ['--device /dev/kvm', /a host device/],
    ['--device=/dev/fuse', /a host device/],
    ['--device-cgroup-rule "c 1:3 mr"', /a device cgroup rule/],
    ['--pid container:other', /choosing the pid namespace/],
    ['--ipc private', /choosing the ipc namespace/],
    ['--uts=container:x', /choosing the uts namespace/],
    ['--userns ""', /choosing the userns namespace/],
    ['--cgroup-parent /x', /choosing the parent cgroup/],
  ];
  for (const [value, pattern] of cases) {
    it(`${value} is refused in block mode`, () => {
      const message = refusal(value, 'block', 'nightly');
      assert.ok(message, 'expected a refusal');
      assert.match(message, pattern);
      assert.match(message, /is refused in block mode \(grade nightly\); use a dev grade if the build truly needs it\.$/);
    });
    it(`${value} passes in audit mode`, () => assert.equal(refusal(value, 'audit'), undefined));
  }
});

describe('checkDockerOptions passes through', () => {
  const cases = [
    '--memory 2g',
    '-e FOO=1',
    '--user 1000',
    '--cpus=2',
    '-v /data:/data:ro',
    '--tmpfs /tmp',
    '--add-host x:1.2.3.4',
    '--read-only',
    '--cap-drop ALL',
    '--cap-drop=NET_ADMIN',
    '--security-opt no-new-privileges',
    '--security-opt seccomp=builtin',
    '--security-opt apparmor=docker-default',
    '--security-opt=apparmor:docker-default',
    '--security-opt no-new-privileges=true',
    '--security-opt=no-new-privileges:1',
    '--init -it --workdir /src -m 1g -c 512 -h host -l k=v -p 80:80 -u 1000 -w /x',
    '-itv /data:/data',
    '-e=A=1',
    '-eA=1',
    '--ulimit nofile=1024:1024 --pids-limit 100 --shm-size 1g',
    '--cgroupns private',
    '--sysctl kernel.shm_rmid_forced=1',
    '--label org.example=1',
    '-v cache:/cache',
    '-v ./cache:/cache',
    '-v /var/cache/apt:/var/cache/apt',
    '-v /run/mydata:/x:ro',
    // one path alone is an anonymous volume at that path in the container, not a host path
    '-v /var/run/docker.sock',
    '--mount type=bind,source=/data,target=/data,readonly',
    '--mount type=volume,source=cache,target=/cache',
    '--mount type=tmpfs,target=/tmp,tmpfs-size=64m',
    '--gpus all --runtime runc --platform linux/amd64',
    '--sig-proxy=false --oom-kill-disable --no-healthcheck -P',
    '--some-future-flag=value',
    '--security-opt writable-cgroups=false',
  ];
  for (const value of cases) {
    for (const mode of MODES) {
      it(`${value} (${mode})`, () => assert.equal(refusal(value, mode), undefined));
    }
  }
});

describe('checkDockerOptions reads values as docker does', () => {
  it('takes a flag-looking word as the value of -e and --label', () => {
    for (const mode of MODES) {
      assert.equal(refusal('-e --privileged', mode), undefined);
      assert.equal(refusal('--label --privileged', mode), undefined);
      assert.equal(refusal('--env --cap-add=NET_ADMIN', mode), undefined);
      assert.equal(refusal('-l --network', mode), undefined);
    }
  });

  it('still checks the option that follows a value', () => {
    assert.match(refusal('-e --privileged --privileged', 'audit')!, /refuses '--privileged'/);
    assert.match(refusal('-e FOO=1 --cap-add NET_ADMIN', 'audit')!, /NET_ADMIN/);
  });

  it('reads the rest of a short cluster as the value', () => {
    assert.match(refusal('-tv/var/run/docker.sock:/s', 'audit')!, /Docker socket/);
    assert.equal(refusal('-ev=/var/run/docker.sock:/s', 'audit'), undefined); // -e with value 'v=/var/...'
  });

  it('refuses an option without its value at the end', () => {
    for (const value of ['--memory', '-e', '-e FOO=1 --cap-add', '-it -v', '--network']) {
      assert.match(refusal(value, 'audit')!, /ends with '[^']+', which needs a value/);
    }
  });

  it('refuses words that are not options, since docker would take them for the image', () => {
    for (const value of ['alpine', '--read-only alpine', '-- --privileged', '-', '""']) {
      assert.match(refusal(value, 'audit')!, /only options are accepted here/);
    }
  });

  it('refuses flags it does not know unless written with =', () => {
    assert.match(refusal('--some-future-flag value', 'audit')!, /does not know this docker run option.*--some-future-flag=VALUE/);
    assert.match(refusal('-x', 'audit')!, /'-x' is not a docker run option/);
    assert.match(refusal('-iz', 'audit')!, /'-z' is not a docker run option/);
    assert.match(refusal('---privileged=1', 'audit')!, /it is not an option/);
    assert.match(refusal('--constructor x', 'audit')!, /does not know this docker run option/);
  });

  it('names every refused option in one error, one line each', () => {
    const message = refusal('--privileged --cap-add NET_RAW -v /:/host --device /dev/kvm --memory 1g', 'block', 'release')!;
    const lines = message.split('\n');
    assert.equal(lines.length, 4);
    assert.ok(lines.every((l) => l.startsWith("Input 'docker-options' refuses '")));
    assert.match(lines[3], /--device \/dev\/kvm/);
  });
});

describe('checkDockerOptions follows links in mount sources', () => {
  const links: Record<string, string> = {
    '/work/cache': '/run',
    './sock-dir': '/var/run/docker',
    '/work/data': '/srv/data',
    '/work/s': '/run/docker.sock',
  };
  const realPath = (source: string) => links[source];
  const check = (value: string) => {
    try {
      checkDockerOptions(parseDockerOptions(value), 'audit', { label: LABEL, grade: 'dev', realPath });
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  };

  for (const value of [
    '-v /work/cache:/cache',
    '--mount type=bind,src=./sock-dir,dst=/d',
    '-v /work/s:/s',
    '--mount type=volume,dst=/x,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/work/cache',
  ]) {
    it(`refuses ${value}: it leads to the socket`, () => {
      assert.match(
        check(value) ?? '',
        /leads to \/(var\/)?run.*(Docker socket|Docker's run state).*Mount the directory you mean by its own path\./,
      );
    });
  }

  it('passes a link to an ordinary directory, a path it cannot resolve, and a named volume', () => {
    assert.equal(check('-v /work/data:/data -v /work/new:/new -v cache:/cache'), undefined);
  });
});

// Every engine and runtime path, in each relation: the path itself, a path inside it, a directory
// that holds it. Judged in every mode, as written and where links lead.
const ENGINE_CASES: Array<[string, RegExp]> = [
  // Docker
  ['/var/run/docker.sock', /Docker socket/],
  ['/run/docker', /is Docker's run state/],
  ['/run/docker/containerd', /is inside Docker's run state: containerd's socket/],
  ['/run/docker/containerd/containerd.sock', /Docker socket \(or another engine's\)/],
  ['/run/docker/containerd/containerd.sock.ttrpc', /Docker socket \(or another engine's\)/],
  ['/run/docker/containerd/containerd-debug.sock', /is inside Docker's run state/],
  ['/run/docker/runtime-runc/moby', /is inside Docker's run state/],
  ['/run/docker/plugins', /is inside Docker's run state/],
  ['/var/lib/docker', /is Docker's images, containers and volumes, which would let the build change the images/],
  ['/var/lib/docker/volumes/cache/_data', /is inside Docker's images/],
  ['/var/lib', /\/var\/lib holds \/var\/lib\/docker/],
  // containerd, its shims and its runc
  ['/run/containerd', /is containerd's sockets/],
  ['/run/containerd/containerd.sock.ttrpc', /Docker socket \(or another engine's\)/],
  ['/run/containerd/s', /is inside containerd's sockets \(containerd\.sock, \.ttrpc, the shims'\)/],
  ['/run/containerd/runc/k8s.io', /is inside containerd's sockets/],
  ['/var/lib/containerd', /is containerd's images and snapshots/],
  ['/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs', /is inside containerd's images/],
  // podman
  ['/run/podman', /is podman's API socket/],
  ['/run/podman/podman.sock', /Docker socket \(or another engine's\)/],
  ['/run/libpod', /is podman's run state/],
  ['/run/containers/storage', /is inside podman's and CRI-O's container storage/],
  ['/var/lib/containers', /is podman's and CRI-O's images and containers/],
  ['/var/lib/containers/storage/overlay', /is inside podman's and CRI-O's images/],
  ['/run/user/1000/podman/podman.sock', /Docker socket \(or another engine's\)/],
  ['/run/user/1000/podman', /is inside a user's runtime directory/],
  ['/run/user', /\/run\/user holds \/run\/user\/\* \(a user's runtime directory/],
  ['/home/runner/.local/share/containers', /is rootless podman's images and containers/],
  ['/home/runner/.local/share/containers/storage', /is inside rootless podman's/],
  ['/home/runner/.local', /holds \/home\/\*\/\.local\/share\/containers/],
  ['/home/runner', /holds \/home\/\*\/\.local\/share\/containers/],
  ['/home', /holds \/home\/\*\/\.local\/share\/containers/],
  ['/root/.local/share/containers', /is podman's images and containers \(root's home\)/],
  ['/root', /holds \/root\/\.local\/share\/containers/],
  // CRI-O
  ['/var/run/crio', /is CRI-O's socket/],
  ['/var/run/crio/crio.sock', /Docker socket \(or another engine's\)/],
  ['/var/lib/crio', /is CRI-O's state/],
  ['/run/cri-dockerd.sock', /is cri-dockerd's socket/],
  // BuildKit
  ['/run/buildkit', /is BuildKit's socket/],
  ['/run/buildkit/buildkitd.sock', /Docker socket \(or another engine's\)/],
  ['/var/lib/buildkit', /is BuildKit's state/],
  ['/run/user/1001/buildkit', /is inside a user's runtime directory/],
  ['/home/ci/.local/share/buildkit', /is rootless BuildKit's state/],
  // runc, crun
  ['/run/runc', /is runc's container state/],
  ['/run/runc/abc', /is inside runc's container state/],
  ['/run/crun', /is crun's container state/],
  // rootless Docker, k3s, the kubelet, LXD, Incus, snaps
  ['/run/user/1000/docker.sock', /Docker socket/],
  ['/home/runner/.local/share/docker', /is rootless Docker's images/],
  ['/home/runner/.docker/run/docker.sock', /Docker socket/],
  ['/run/k3s/containerd', /is inside k3s's containerd socket/],
  ['/var/lib/rancher/k3s', /is inside k3s's and RKE2's state/],
  ['/var/lib/kubelet/pod-resources', /is inside the kubelet's sockets/],
  ['/var/lib/lxd/unix.socket', /is inside LXD's socket/],
  ['/var/snap/lxd/common/lxd', /is inside LXD's socket \(snap\)/],
  ['/var/snap', /holds \/var\/snap\/lxd/],
  ['/var/lib/incus', /is Incus's socket/],
  // the host's service manager
  ['/run/systemd', /is systemd's private socket, which would let the build start processes on the runner/],
  ['/run/systemd/private', /is inside systemd's private socket/],
  ['/var/run/dbus/system_bus_socket', /is inside the system D-Bus socket/],
  // the host's files
  ['/proc/1/root', /leads to the host's files/],
  ['/', /\/ holds \/run\/docker\.sock/],
  ['/run', /\/run holds \/run\/docker\.sock/],
  ['/var/run', /\/var\/run holds \/run\/docker\.sock/],
  // spelled otherwise
  ['/RUN/Containerd/s', /is inside containerd's sockets/],
  ['//run//containerd/./s/', /is inside containerd's sockets/],
  ['/tmp/../run/containerd', /is containerd's sockets/],
];

describe('checkDockerOptions refuses engine sockets and state in every mode', () => {
  const forms = (source: string) => [
    `-v ${source}:/x`,
    `--volume=${source}:/x:ro`,
    `--mount type=bind,source=${source},target=/x`,
    `--mount type=volume,dst=/x,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=${source}`,
  ];
  for (const [source, pattern] of ENGINE_CASES) {
    it(source, () => {
      for (const value of forms(source)) {
        for (const mode of MODES) {
          const message = refusal(value, mode);
          assert.ok(message, `${value} (${mode}) was accepted`);
          assert.match(message, pattern, value);
          assert.match(message, /\. Remove it\.$/, value);
        }
      }
    });
  }

  it('through links: a source that leads to any of them is refused', () => {
    for (const [target, pattern] of ENGINE_CASES.filter(([t]) => !t.includes('..'))) {
      const realPath = (source: string) => (source === '/work/innocent' ? target : undefined);
      for (const mode of MODES) {
        assert.throws(
          () => checkDockerOptions(parseDockerOptions('-v /work/innocent:/x'), mode, { label: LABEL, grade: 'release', realPath }),
          (err: unknown) => {
            assert.ok(err instanceof Error);
            assert.match(err.message, new RegExp(`leads to ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
            assert.match(err.message, pattern);
            assert.match(err.message, /Mount the directory you mean by its own path\.$/);
            return true;
          },
          `${target} (${mode})`,
        );
      }
    }
  });

  it('passes the neighbours of those paths', () => {
    for (const source of [
      '/run/dockerd-data',
      '/var/lib/dockerfiles',
      '/var/lib/apt/lists',
      '/home/runner/work/repo',
      '/home/runner/.cache',
      '/home/runner/.local/share/pnpm',
      '/run/users',
      '/var/cache/containers',
      '/srv/containerd-notes',
    ]) {
      for (const mode of MODES) assert.equal(refusal(`-v ${source}:/x`, mode), undefined, source);
    }
  });
});

describe("checkDockerOptions refuses mounts over buildfence's own files", () => {
  for (const value of [
    '-v /work/fake:/__buildfence',
    '-v /work/fake-exec:/__buildfence/seccomp-exec:ro',
    '-v /__buildfence/x',
    '--mount type=bind,src=/work/fake,dst=/__buildfence//seccomp-exec',
    '--mount type=tmpfs,destination=/__buildfence',
    '--tmpfs /__buildfence',
    '--tmpfs /__buildfence/./:size=1m',
  ]) {
    for (const mode of MODES) {
      it(`${value} (${mode})`, () =>
        assert.match(refusal(value, mode) ?? '', /\/__buildfence holds the build's script and buildfence's seccomp filter/));
    }
  }
  it('passes a mount beside them', () =>
    assert.equal(refusal('-v /work/x:/__buildfence-cache --tmpfs /__buildfenced', 'block'), undefined));
});

describe('named volumes, judged by what they were made from', () => {
  it('lists the volumes the options mount, each once, host paths and tmpfs aside', () => {
    const args = parseDockerOptions(
      '-v cache:/c -v /host:/h -v anon --mount type=volume,src=data,dst=/d --mount source=cache,target=/c2 ' +
        '--mount type=bind,src=/x,dst=/x --mount type=tmpfs,dst=/t -e V=x:/y',
    );
    assert.deepEqual(namedVolumes(args), ['cache', 'data']);
  });

  const bind = (device: string) => ({ type: 'none', o: 'bind', device });
  const check = (options: Record<string, string>, driver = 'local', realPath?: (s: string) => string | undefined) => {
    try {
      checkNamedVolumes([{ name: 'v', driver, options }], { label: LABEL, realPath });
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  };

  it("refuses a volume bound to an engine's socket or state, or made from a host device", () => {
    for (const [options, pattern] of [
      [
        bind('/run/docker/containerd'),
        /mounts volume 'v', which the local driver makes from \/run\/docker\/containerd: .* is inside Docker's run state/,
      ],
      [bind('/var/run'), /\/var\/run holds \/run\/docker\.sock/],
      [bind('/var/lib/docker/volumes'), /is inside Docker's images/],
      [{ type: 'ext4', device: '/dev/vda1' }, /\/dev\/vda1 is a host device, and a disk holds the engine's images and containers/],
    ] as const) {
      assert.match(check(options) ?? '', pattern);
      assert.match(check(options) ?? '', /\. Remove it\.$/);
    }
  });

  it('follows links in the device', () => {
    assert.match(
      check(bind('/work/link'), 'local', (s) => (s === '/work/link' ? '/run/containerd' : undefined)) ?? '',
      /leads to \/run\/containerd/,
    );
  });

  it('passes plain volumes, binds of ordinary directories, NFS and other drivers', () => {
    assert.equal(check({}), undefined);
    assert.equal(check(bind('/srv/cache')), undefined);
    assert.equal(check({ type: 'nfs', o: 'addr=10.0.0.1', device: ':/export' }), undefined);
    assert.equal(check({ device: '/run/docker' }, 'some-plugin'), undefined);
  });

  it('--mount volume-opt=device of a host device is refused in every mode', () => {
    for (const mode of MODES) {
      assert.match(
        refusal('--mount type=volume,dst=/x,volume-opt=type=ext4,volume-opt=device=/dev/vda1', mode) ?? '',
        /\/dev\/vda1 is a host device/,
      );
    }
  });
});
