// The validated description of one fenced run, built from action inputs or CLI flags.
import type { Upstream } from './dns/upstream.js';
import type { Entry, Mode } from './types.js';

export interface RunSpec {
  grade: string;
  mode: Mode;
  /** What the build may reach: the grade's policy (when there is one) plus the allowlist input. */
  allow: Entry[];
  /** What it may never reach, even where `allow` covers it (from the policy). */
  deny: Entry[];
  /** Fail the step when anything was denied, even if the build passed. */
  failOnDenied: boolean;
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
  /** An existing network to attach the holder to; absent means Docker's default bridge, its other addresses guarded. */
  network?: string;
  dockerOptions: string[];
  pull: 'missing' | 'never';
  /** Where the fence runs: `auto` picks kubernetes on a Kubernetes-mode runner without Docker. */
  runtime: 'auto' | 'docker' | 'kubernetes';
  /** The kubernetes runtime's verifier and resolver image. */
  agentImage: string;
  dns: {
    /** Where allowed names are resolved; absent means the host's own resolvers. */
    upstreams?: Upstream[];
    /** Floor and ceiling, in seconds, for how long a learned address stays open. */
    ttlMin: number;
    ttlMax: number;
  };
}
