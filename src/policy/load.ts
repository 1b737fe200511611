// Finds and reads the policy file: the one named, or .github/buildfence.yml when it exists.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { POLICY_FILE } from '../run/defaults.js';
import { sha256Text } from '../run/digest.js';
import { builtinPolicy, parsePolicy, type Policy } from './policy.js';

/**
 * `named` is the path as given (relative to `dir`), or '' for the default. `source` names where
 * it was given, for messages: "Input 'policy'".
 */
export function loadPolicy(named: string, dir: string, source: string): Policy {
  const shown = named || POLICY_FILE;
  const file = path.resolve(dir, shown);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && named === '') return builtinPolicy();
    if (code === 'ENOENT') {
      throw new Error(
        `${source} names '${named}', which does not exist (${file}). Give a policy file's path relative to ${dir}, or leave it empty to use ${POLICY_FILE} when it exists.`,
        { cause: err },
      );
    }
    if (code === 'EISDIR')
      throw new Error(`${source}: '${shown}' is a directory (${file}). Expected a policy file (YAML).`, { cause: err });
    throw new Error(`${source}: cannot read '${shown}' (${file}): ${(err as Error).message}`, { cause: err });
  }
  return { ...parsePolicy(bytes.toString('utf8'), shown), sha256: sha256Text(bytes) };
}
