// The host runtime's build needs an image only as the engine's place to mount the runner's
// directories: one made here of the runner's top-level layout (empty directories, and its links
// such as bin -> usr/bin; the same for the directories above the engine's own root, which are
// mounted child by child), a few kilobytes, named by its content so that every later step on the
// runner finds it. Nothing of it is pulled; nothing in it runs.
import { createHash } from 'node:crypto';
import { pack } from 'tar-stream';
import { imageId, importImage } from '../engine/engine.js';

export const ROOT_IMAGE_REPO = 'buildfence/host-root';

/** A directory (a mount point, with the runner's mode: /tmp's is 1777) or a link of the layout; `path` is relative to /. */
export type LayoutEntry = { path: string; mode: number; link?: undefined } | { path: string; link: string };

/** The entries in a canonical order: parents before children. Pure. */
function sorted(entries: LayoutEntry[]): LayoutEntry[] {
  return [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The image's tag: the layout's digest. Pure. */
export function rootImageTag(entries: LayoutEntry[]): string {
  return createHash('sha256')
    .update(JSON.stringify(sorted(entries)))
    .digest('hex')
    .slice(0, 16);
}

/** The layout as a tar: empty directories, and the links as they are. */
export function rootImageTar(entries: LayoutEntry[]): Promise<Buffer> {
  const tar = pack();
  const mtime = new Date(0);
  for (const e of sorted(entries)) {
    // A tmpfs mounted on a directory of the image takes its mode (the engine copies it up).
    if (e.link === undefined) tar.entry({ name: `${e.path}/`, type: 'directory', mode: e.mode, uid: 0, gid: 0, mtime });
    else tar.entry({ name: e.path, type: 'symlink', linkname: e.link, mode: 0o777, uid: 0, gid: 0, mtime });
  }
  tar.finalize();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    tar.on('data', (c: unknown) => chunks.push(c as Buffer));
    tar.on('end', () => resolve(Buffer.concat(chunks)));
    tar.on('error', reject);
  });
}

/** The root image's ID: the engine's copy, or imported now. */
export async function ensureRootImage(entries: LayoutEntry[]): Promise<{ name: string; id: string }> {
  const tag = rootImageTag(entries);
  const name = `${ROOT_IMAGE_REPO}:${tag}`;
  const present = await imageId(name);
  if (present) return { name, id: present };
  const id = await importImage(await rootImageTar(entries), ROOT_IMAGE_REPO, tag).catch((err: Error) => {
    throw new Error(
      `Cannot make the image the host runtime mounts the runner's directories in (${name}): ${err.message}. The build was not started.`,
    );
  });
  return { name, id };
}
