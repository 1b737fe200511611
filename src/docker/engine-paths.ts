// Where container engines and runtimes keep their control sockets and state on a host, and
// whether a host path handed to the build exposes one of them. Pure.
//
// A build that reaches an engine's socket (Docker's, containerd's and its shims', podman's,
// CRI-O's, BuildKit's) can exec into the holder and flush the fence, or start containers beside
// it; one that reaches an engine's state can change the images and containers it runs (the
// holder's among them) or read their files. So every mount source that is, contains, or lies
// inside one of these paths is refused, in every mode: audit's record is only true while the
// fence stands.

export interface Exposure {
  reason: string;
  /** What to do instead, when it is more than removing the option. */
  fix?: string;
}

type Kind = 'socket' | 'state' | 'host';

interface EnginePath {
  /** Lower case, /var/run written /run; `*` is any one path segment. */
  path: string;
  what: string;
  kind: Kind;
}

// Default locations, from each project's documentation and this machine (Debian 12: docker.io
// 20.10 with its own containerd under /run/docker, podman 4.3, runc 1.1). The first entry is the
// one a message names for a path that holds them all (/).
const ENGINE_PATHS: EnginePath[] = [
  { path: '/run/docker.sock', what: 'the Docker socket', kind: 'socket' },
  { path: '/run/docker', what: "Docker's run state: containerd's socket, runc's state, plugin sockets", kind: 'socket' },
  { path: '/var/lib/docker', what: "Docker's images, containers and volumes", kind: 'state' },
  { path: '/run/containerd', what: "containerd's sockets (containerd.sock, .ttrpc, the shims')", kind: 'socket' },
  { path: '/var/lib/containerd', what: "containerd's images and snapshots", kind: 'state' },
  { path: '/run/podman', what: "podman's API socket", kind: 'socket' },
  { path: '/run/libpod', what: "podman's run state", kind: 'state' },
  { path: '/run/containers', what: "podman's and CRI-O's container storage (run state)", kind: 'state' },
  { path: '/var/lib/containers', what: "podman's and CRI-O's images and containers", kind: 'state' },
  { path: '/run/crio', what: "CRI-O's socket", kind: 'socket' },
  { path: '/var/lib/crio', what: "CRI-O's state", kind: 'state' },
  { path: '/run/cri-dockerd.sock', what: "cri-dockerd's socket", kind: 'socket' },
  { path: '/run/buildkit', what: "BuildKit's socket", kind: 'socket' },
  { path: '/var/lib/buildkit', what: "BuildKit's state", kind: 'state' },
  { path: '/run/runc', what: "runc's container state", kind: 'state' },
  { path: '/run/crun', what: "crun's container state", kind: 'state' },
  { path: '/run/k3s', what: "k3s's containerd socket", kind: 'socket' },
  { path: '/var/lib/rancher', what: "k3s's and RKE2's state", kind: 'state' },
  { path: '/var/lib/kubelet', what: "the kubelet's sockets and its Pods' volumes and secrets", kind: 'state' },
  { path: '/var/lib/lxd', what: "LXD's socket", kind: 'socket' },
  { path: '/var/snap/lxd', what: "LXD's socket (snap)", kind: 'socket' },
  { path: '/var/snap/docker', what: "Docker's state (snap)", kind: 'state' },
  { path: '/var/lib/incus', what: "Incus's socket", kind: 'socket' },
  // Rootless engines keep their sockets in the user's runtime directory and their images in the
  // user's home.
  { path: '/run/user/*', what: "a user's runtime directory: rootless Docker's, podman's and BuildKit's sockets", kind: 'socket' },
  { path: '/home/*/.local/share/containers', what: "rootless podman's images and containers", kind: 'state' },
  { path: '/home/*/.local/share/docker', what: "rootless Docker's images and containers", kind: 'state' },
  { path: '/home/*/.local/share/buildkit', what: "rootless BuildKit's state", kind: 'state' },
  { path: '/root/.local/share/containers', what: "podman's images and containers (root's home)", kind: 'state' },
  { path: '/root/.local/share/docker', what: "Docker's images and containers (root's home)", kind: 'state' },
  // Not engines, but the same way out: systemd and its bus start services for a root client.
  { path: '/run/systemd', what: "systemd's private socket", kind: 'host' },
  { path: '/run/dbus', what: 'the system D-Bus socket', kind: 'host' },
];

/** Socket names refused wherever they are (Docker Desktop, colima, a DOCKER_HOST of one's own). */
const SOCKET_NAMES = ['docker.sock', 'containerd.sock', 'containerd.sock.ttrpc', 'podman.sock', 'crio.sock', 'buildkitd.sock'];

const WHY: Record<Kind, string> = {
  socket: 'which would let the build enter the holder or start containers outside the fence',
  state: 'which would let the build change the images and containers the engine runs (the holder among them) or read their files',
  host: 'which would let the build start processes on the runner, outside the fence',
};

const SOCKET_REASON = `the Docker socket (or another engine's), ${WHY.socket}`;

/**
 * Why a host path must not be mounted into the build, or undefined when it may be. Judges the
 * path as written (docker cleans it lexically); links are the caller's (see RealPath).
 */
export function engineExposure(source: string): Exposure | undefined {
  const lower = source.trim().toLowerCase();
  const absolute = lower.startsWith('/');
  const segments: string[] = [];
  for (const segment of lower.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment !== '..') segments.push(segment);
    else if (!absolute) {
      return { reason: "a relative path that climbs with '..' could reach an engine's socket", fix: 'Write the absolute path instead.' };
    } else segments.pop();
  }
  // docker resolves a relative source against its working directory, which is not a place of its own.
  if (!absolute) return SOCKET_NAMES.some((n) => segments.at(-1)?.endsWith(n)) ? { reason: SOCKET_REASON } : undefined;
  if (segments[0] === 'var' && segments[1] === 'run') segments.splice(0, 2, 'run');
  const path = `/${segments.join('/')}`;
  if (SOCKET_NAMES.some((n) => path.endsWith(n))) return { reason: SOCKET_REASON };
  // /proc/<pid>/root and /proc/<pid>/fd lead to the host's files, the sockets among them.
  if (segments[0] === 'proc') return { reason: `${source} leads to the host's files, the Docker socket among them` };
  for (const e of ENGINE_PATHS) {
    const pattern = e.path.split('/').slice(1);
    if (within(segments, pattern))
      return { reason: `${source} is ${pattern.length === segments.length ? '' : 'inside '}${e.what}, ${WHY[e.kind]}` };
    if (within(pattern, segments)) return { reason: `${source} holds ${e.path} (${e.what}), ${WHY[e.kind]}` };
  }
  return undefined;
}

/** Whether `path` is `base` or lies under it; `*` in either matches any one segment. */
function within(path: string[], base: string[]): boolean {
  return base.length <= path.length && base.every((s, i) => s === path[i] || s === '*' || path[i] === '*');
}
