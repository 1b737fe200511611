// The one place that runs the docker CLI. Callers get exit code and output; errors carry the
// tail of docker's stderr, which is where docker says what went wrong.
import * as exec from '@actions/exec';

export interface DockerResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface DockerCallOptions {
  /** Bytes for docker's stdin. */
  input?: Buffer;
  /** Environment for the docker process (defaults to this process's). */
  env?: Record<string, string>;
  /** Receives output as it arrives; the output is then not collected (a build log can be large). */
  onStdout?: (data: Buffer) => void;
  onStderr?: (data: Buffer) => void;
}

export class DockerError extends Error {
  constructor(
    message: string,
    readonly result?: DockerResult,
  ) {
    super(message);
    this.name = 'DockerError';
  }
}

/** Runs `docker ARGS` and returns what it did, whatever its exit code. */
export async function docker(args: string[], options: DockerCallOptions = {}): Promise<DockerResult> {
  const base = { ignoreReturnCode: true, silent: true, input: options.input, env: options.env };
  try {
    if (options.onStdout || options.onStderr) {
      const listeners = { stdout: options.onStdout, stderr: options.onStderr };
      return { exitCode: await exec.exec('docker', args, { ...base, listeners }), stdout: '', stderr: '' };
    }
    return await exec.getExecOutput('docker', args, base);
  } catch (err) {
    throw new DockerError(
      `Cannot run the docker CLI (${err instanceof Error ? err.message : String(err)}). ` +
        'Install Docker and make sure `docker` is on PATH.',
    );
  }
}

/** Runs `docker ARGS` and throws `docker <verb> failed: <last stderr line>` unless it exits 0. */
export async function dockerOk(args: string[], options: DockerCallOptions = {}): Promise<string> {
  const result = await docker(args, options);
  if (result.exitCode !== 0) {
    throw new DockerError(`docker ${args[0]} failed: ${lastLine(result.stderr) || `exit code ${result.exitCode}`}`, result);
  }
  return result.stdout;
}

/** The last line of docker's stderr that says something: not its "Run 'docker run --help' ..." hint. */
export function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(See|Run) 'docker [^']*--help'/.test(l));
  return lines[lines.length - 1] ?? '';
}
