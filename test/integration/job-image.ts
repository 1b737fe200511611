// A job container's image for the tests, assembled from the host's files (no registry): busybox
// for the shell and `tail` the runner starts the job container with, and the libraries the node
// binary links. Like a real job image it has no docker CLI; node comes from the runner's externals
// directory, which the runner mounts at /__e and runs JavaScript actions with.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { dockerText } from './harness.js';

const run = promisify(execFile);
const INPUTS_LABEL = 'io.buildfence.test.inputs';

/** The libraries `binary` loads (ldd), the loader included. */
async function libraries(binary: string): Promise<string[]> {
  const { stdout } = await run('ldd', [binary]);
  return [...stdout.matchAll(/(?:=> )?(\/\S+) \(0x/g)].map((m) => m[1]);
}

/** The image's tag; built once for a set of inputs (busybox, the libraries), found by its label afterwards. */
export async function jobImage(node: string): Promise<string> {
  const busybox = '/bin/busybox';
  const files = [busybox, ...(await libraries(node))];
  const hash = createHash('sha256');
  for (const f of files) hash.update(f).update(await fs.readFile(f));
  const inputs = hash.digest('hex').slice(0, 16);
  const tag = `buildfence-test/job:${inputs}`;
  const label = await dockerText(['image', 'inspect', '--format', `{{index .Config.Labels "${INPUTS_LABEL}"}}`, tag]).catch(() => '');
  if (label === inputs) return tag;

  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'bftest-jobimage-'));
  try {
    for (const dir of ['bin', 'usr/bin', 'sbin', 'usr/sbin', 'etc', 'tmp', 'root'])
      await fs.mkdir(path.join(root, dir), { recursive: true });
    await fs.chmod(path.join(root, 'tmp'), 0o1777);
    for (const f of files) {
      await fs.mkdir(path.join(root, path.dirname(f)), { recursive: true });
      await fs.copyFile(await fs.realpath(f), path.join(root, f));
    }
    await fs.chmod(path.join(root, busybox), 0o755);
    const { stdout } = await run(busybox, ['--list-full']);
    for (const applet of stdout.split('\n').filter(Boolean)) {
      await fs.symlink('/bin/busybox', path.join(root, applet)).catch(() => undefined);
    }
    await fs.writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    await fs.writeFile(path.join(root, 'etc/group'), 'root:x:0:\n');
    await run('sh', [
      '-c',
      'tar -C "$1" --numeric-owner --owner=0 --group=0 -c . | docker import --change "ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin" --change "LABEL $2" - "$3"',
      'sh',
      root,
      `${INPUTS_LABEL}=${inputs}`,
      tag,
    ]);
    return tag;
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}
