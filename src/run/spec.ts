// The validated description of one fenced run, built from action inputs or CLI flags.
import type { Entry, Mode } from './entry.js';

/** The runtimes that carry a fence (host: the build on the runner itself); `auto` picks docker or kubernetes (src/choose-runtime.ts). */
export type RuntimeName = 'docker' | 'kubernetes' | 'host';
export type RuntimeChoice = 'auto' | RuntimeName;

/** A DNS server: where allowed names are resolved. */
export interface Upstream {
  address: string;
  port: number;
}

/** Where the run's settings came from: action inputs, or the CLI's flags. */
export type InputVia = 'action' | 'cli';

/** CLI flags whose name differs from the action input's. */
const FLAG_OF: Record<string, string> = { allowlist: '--allow', run: "the command after '--'" };

/**
 * How a message names an input: "Input 'network'" in the action ("input 'network'" inside a
 * sentence), "--network" in the CLI.
 */
export function inputLabel(via: InputVia, name: string, inSentence = false): string {
  return via === 'action' ? `${inSentence ? 'input' : 'Input'} '${name}'` : (FLAG_OF[name] ?? `--${name}`);
}

export interface RunSpec {
  /** For messages: they name the input in the action and the flag in the CLI. */
  via: InputVia;
  grade: string;
  /** The policy file the grade came from (path as named, relative to the workspace) and its digest; absent for built-in grades without a file. */
  policyFile?: { path: string; sha256: string };
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
  runtime: RuntimeChoice;
  /** Artifacts the attestation names, relative to the workspace; hashed once the build has ended. */
  subjectPaths: string[];
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
