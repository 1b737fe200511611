// An image as the run's record binds it: the name it was asked for by, its local ID and the
// registry digests the engine knows for it.
import { inspectImage } from './engine.js';
import type { ImageRef } from '../report/record.js';

export async function imageRef(name: string, id: string): Promise<ImageRef> {
  const digests = (await inspectImage(id).catch(() => undefined))?.RepoDigests ?? [];
  return { name, id, repoDigests: [...digests].sort() };
}
