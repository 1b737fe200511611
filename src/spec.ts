// The validated description of one fenced run, built from action inputs or CLI flags.
import type { AddressEntry, Mode } from './types.js';

export interface RunSpec {
  grade: string;
  mode: Mode;
  /** Address entries in force (the allowlist input, later merged with the grade's policy). */
  entries: AddressEntry[];
  run: string;
  image: string;
  /** The shell as words, e.g. ['sh', '-e'] or ['bash', '-e', '{0}']. */
  shell: string[];
  /** Absolute; mounted at the same path in the build container. */
  workspace: string;
  /** Absolute path the script runs in. */
  workingDirectory: string;
  env: Array<[string, string]>;
  holderImage: string;
  /** An existing network to attach the holder to; absent means a fresh network for the run. */
  network?: string;
  dockerOptions: string[];
  pull: 'missing' | 'never';
}
