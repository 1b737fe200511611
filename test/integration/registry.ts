// A local image registry for the pull tests and the first-step benchmark: Debian's
// docker-registry (scripts/build-registry-image) in a container on the host's network, listening
// on a loopback port only. The engine pulls from 127.0.0.1:PORT over plain HTTP, as it does for
// every loopback registry, and nothing leaves the machine.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REGISTRY_IMAGE = 'buildfence-test/registry:latest';

async function docker(args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

export interface LocalRegistry {
  /** 127.0.0.1:PORT */
  host: string;
  /**
   * Pushes a local image as host/repo:tag and removes it from the engine (both tags: a copy of
   * uniqueCopy's is then absent down to its layer); returns host/repo:tag@sha256:...
   */
  push(image: string, repoTag: string): Promise<string>;
  stop(): Promise<void>;
}

/** A loopback port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/** Starts a registry on a loopback port (labelled, removed by stop). */
export async function startRegistry(label: string): Promise<LocalRegistry> {
  try {
    await docker(['image', 'inspect', '--format', '{{.Id}}', REGISTRY_IMAGE]);
  } catch {
    throw new Error(`Image ${REGISTRY_IMAGE} is missing. Run scripts/build-registry-image.`);
  }
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const name = `bfreg-${randomBytes(4).toString('hex')}`;
  await docker([
    'run',
    '--detach',
    '--name',
    name,
    '--label',
    label,
    '--network',
    'host',
    '--env',
    `REGISTRY_HTTP_ADDR=${host}`,
    REGISTRY_IMAGE,
  ]);
  const stop = async () => void (await docker(['rm', '--force', '--volumes', name]).catch(() => ''));
  const deadline = Date.now() + 10_000;
  while (!(await answers(`http://${host}/v2/`))) {
    if (Date.now() > deadline) {
      const logs = await docker(['logs', '--tail', '20', name]).catch(() => '');
      await stop();
      throw new Error(`the local registry on ${host} did not answer within 10 s:\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    stop,
    push: async (image, repoTag) => {
      const target = `${host}/${repoTag}`;
      await docker(['tag', image, target]);
      await docker(['push', '--quiet', target]);
      const digests = (await docker(['image', 'inspect', '--format', '{{join .RepoDigests "\\n"}}', target])).split('\n');
      const repo = target.slice(0, target.lastIndexOf(':'));
      const digest = digests.find((d) => d.startsWith(`${repo}@`))?.slice(repo.length + 1);
      if (!digest) throw new Error(`no digest for ${target} after the push: ${digests.join(', ')}`);
      await docker(['image', 'rm', target, image]);
      return `${target}@${digest}`;
    },
  };
}

/**
 * A copy of `image` whose one layer shares nothing with it (its files and one file of random
 * bytes), tagged `tag`: pushed and removed, it is absent from the engine down to its layers, so
 * a pull of it fetches every byte, as on a fresh runner.
 */
export async function uniqueCopy(image: string, tag: string): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bf-copy-'));
  const container = await docker(['create', image]);
  try {
    const tar = path.join(dir, 'rootfs.tar');
    await run('sh', ['-c', `docker export "$1" >"$2"`, 'sh', container, tar]);
    await fs.writeFile(path.join(dir, 'copy-marker'), randomBytes(16).toString('hex'));
    await run('tar', ['-rf', tar, '-C', dir, 'copy-marker']);
    const config = JSON.parse(await docker(['image', 'inspect', '--format', '{{json .Config}}', image])) as {
      Cmd?: string[] | null;
      Env?: string[] | null;
      Entrypoint?: string[] | null;
    };
    const changes = [
      ...(config.Env ?? []).map((e) => `ENV ${e.replace('=', ' ')}`),
      ...(config.Entrypoint ? [`ENTRYPOINT ${JSON.stringify(config.Entrypoint)}`] : []),
      ...(config.Cmd ? [`CMD ${JSON.stringify(config.Cmd)}`] : []),
    ];
    await docker(['import', ...changes.flatMap((c) => ['--change', c]), tar, tag]);
  } finally {
    await docker(['rm', container]).catch(() => '');
    await fs.rm(dir, { recursive: true, force: true });
  }
}
