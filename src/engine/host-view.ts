// The Docker host's own addresses, for a run in a job container, which sees only its own
// interfaces: a short-lived container on the host's network namespace (the holder image, no
// capabilities, a read-only root) prints the kernel's tables of local addresses, /proc/net/fib_trie
// and /proc/net/if_inet6, and is removed. The rules then guard every one of them, as on the runner.
import ipaddr from 'ipaddr.js';
import { attach, createContainer, removeContainer, startContainer, waitExit } from './engine.js';
import { runLabels, type RunIdentity } from '../run/identity.js';

/** Prints both tables with the shell's builtins only (the holder image promises a shell, not cat). */
const SCRIPT =
  'while IFS= read -r l; do printf "%s\\n" "$l"; done </proc/net/fib_trie; echo ---; ' +
  'while IFS= read -r l; do printf "%s\\n" "$l"; done </proc/net/if_inet6';

export function hostViewConfig(id: RunIdentity, image: string): object {
  return {
    Image: image,
    Entrypoint: ['sh', '-c'],
    Cmd: [SCRIPT],
    Labels: runLabels(id),
    HostConfig: { NetworkMode: 'host', CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], ReadonlyRootfs: true },
  };
}

/** The host's local addresses in `fib_trie` (`/32 host LOCAL` leaves) and `if_inet6`, loopback and link-local aside. */
export function localAddresses(text: string): string[] {
  const [trie, inet6 = ''] = text.split('\n---\n');
  const out = new Set<string>();
  let leaf: string | undefined;
  for (const line of trie.split('\n')) {
    const node = /^\s*\|-- (\S+)$/.exec(line);
    if (node) leaf = node[1];
    else if (leaf && /^\s*\/32 host LOCAL$/.test(line) && !leaf.startsWith('127.')) out.add(leaf);
  }
  for (const line of inet6.split('\n')) {
    const hex = /^([0-9a-f]{32})\s/.exec(line)?.[1];
    if (!hex) continue;
    const address = ipaddr.fromByteArray([...Buffer.from(hex, 'hex')]).toString();
    if (address !== '::1' && !address.startsWith('fe80:')) out.add(address);
  }
  return [...out];
}

/** Runs the host view as container `name` and returns the host's addresses; the container is removed whatever happens. */
export async function dockerHostAddresses(id: RunIdentity, name: string, image: string): Promise<string[]> {
  try {
    await createContainer(name, hostViewConfig(id, image));
    const output = await attach(name, false);
    const chunks: Buffer[] = [];
    output.stdout.on('data', (d: Buffer) => chunks.push(d));
    const ended = new Promise<void>((resolve) => output.stdout.on('end', resolve));
    await startContainer(name);
    const exit = await waitExit(name);
    await ended;
    if (exit.exitCode !== 0) throw new Error(`it exited with ${exit.exitCode}`);
    const addresses = localAddresses(Buffer.concat(chunks).toString());
    if (addresses.length === 0) throw new Error('it found no address');
    return addresses;
  } catch (err) {
    throw new Error(
      `Cannot read the Docker host's addresses (a container on the host's network, from image ${image}): ${(err as Error).message}. ` +
        'They are guarded from the build in a container job; the build was not started.',
      { cause: err },
    );
  } finally {
    await removeContainer(name).catch(() => undefined);
  }
}
