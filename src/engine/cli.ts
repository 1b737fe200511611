// The one place that runs the docker CLI. Callers get exit code and output; errors carry the
// tail of docker's stderr, which is where docker says what went wrong. Every call has a deadline
// unless it may pull an image or runs the build: an engine that hangs must not hang the step.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface DockerResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** How long a call that neither pulls nor runs the build may take. */
export const DOCKER_TIMEOUT_MS = 60_000;

export interface DockerCallOptions {
  /** Receives output as it arrives; the output is then not collected (a build log can be large). */
  onStdout?: (data: Buffer) => void;
  onStderr?: (data: Buffer) => void;
  /** Milliseconds before the call is killed and fails; 0 for none. */
  timeoutMs?: number;
}

/** Runs `docker ARGS` and returns what it did, whatever its exit code. */
export function docker(args: string[], options: DockerCallOptions = {}): Promise<DockerResult> {
  const timeoutMs = options.timeoutMs ?? DOCKER_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => (options.onStdout ? options.onStdout(d) : out.push(d)));
    child.stderr.on('data', (d: Buffer) => (options.onStderr ? options.onStderr(d) : err.push(d)));
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            child.kill('SIGKILL');
            reject(
              new Error(
                `docker ${args[0]} did not answer within ${timeoutMs / 1000} s: is the Docker engine hung? Check it, or DOCKER_HOST.`,
              ),
            );
          }, timeoutMs)
        : undefined;
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`Cannot run the docker CLI (${e.message}). Install Docker and make sure \`docker\` is on PATH.`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

/** Whether a `docker` executable is on PATH (a job container's image rarely has one). */
export function hasDockerCli(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir || '.', 'docker'), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The last line of docker's stderr that says something: not its "Run 'docker run --help' ..." hint. */
export function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(See|Run) 'docker [^']*--help'/.test(l));
  return lines[lines.length - 1] ?? '';
}
