// sha256 of files and text, as attestations name them: lower-case hex.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export function sha256Text(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Streams the file, so a large artifact is not held in memory. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
