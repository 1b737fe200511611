// Where a host path leads on this machine, as the engine will mount it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isHostPath } from './options-guard.js';

/**
 * Where a mount source leads on this host: the docker CLI that creates the build runs here, in
 * this directory. The path is cleaned as docker cleans it; when its end does not exist (yet), the
 * part that does is followed, since docker creates the rest there. Undefined for a volume name,
 * or when nothing of it can be followed.
 */
export function hostRealPath(source: string): string | undefined {
  if (!isHostPath(source)) return undefined;
  const rest: string[] = [];
  for (let dir = path.resolve(source); ; dir = path.dirname(dir)) {
    try {
      return path.join(fs.realpathSync.native(dir), ...rest);
    } catch {
      if (dir === path.dirname(dir)) return undefined;
      rest.unshift(path.basename(dir));
    }
  }
}
