// Which engine buildfence talks to. The API client reads DOCKER_HOST (and DOCKER_TLS_VERIFY,
// DOCKER_CERT_PATH); the docker CLI also follows a selected context. So that both reach the same
// engine, a selected context is turned into those variables once, before the first request, and
// the CLI processes inherit them.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface EngineEnv {
  DOCKER_HOST?: string;
  DOCKER_TLS_VERIFY?: string;
  DOCKER_CERT_PATH?: string;
}

interface Files {
  read(file: string): string | undefined;
  exists(file: string): boolean;
}

const disk: Files = {
  read: (file) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  },
  exists: (file) => fs.existsSync(file),
};

/**
 * The variables that point at the selected context's engine, or undefined when DOCKER_HOST is
 * set or no context other than `default` is selected (DOCKER_CONTEXT, then config.json).
 */
export function contextEngine(env: NodeJS.ProcessEnv, files: Files = disk): EngineEnv | undefined {
  if (env.DOCKER_HOST) return undefined;
  const configDir = env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
  let name = env.DOCKER_CONTEXT;
  if (!name) {
    const config = files.read(path.join(configDir, 'config.json'));
    try {
      name = config ? (JSON.parse(config) as { currentContext?: string }).currentContext : undefined;
    } catch {
      throw new Error(
        `${path.join(configDir, 'config.json')} is not valid JSON, so the Docker context cannot be read. Fix the file, or set DOCKER_HOST.`,
      );
    }
  }
  if (!name || name === 'default') return undefined;
  const hash = createHash('sha256').update(name).digest('hex');
  const metaFile = path.join(configDir, 'contexts', 'meta', hash, 'meta.json');
  const meta = files.read(metaFile);
  let endpoint: { Host?: string; SkipTLSVerify?: boolean } | undefined;
  try {
    endpoint = meta
      ? (JSON.parse(meta) as { Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } } }).Endpoints?.docker
      : undefined;
  } catch {
    endpoint = undefined;
  }
  if (!endpoint?.Host) {
    throw new Error(
      `Docker context '${name}' is selected, but ${metaFile} names no engine. Select another context (docker context use), or set DOCKER_HOST.`,
    );
  }
  const tls = path.join(configDir, 'contexts', 'tls', hash, 'docker');
  if (!files.exists(tls)) return { DOCKER_HOST: endpoint.Host };
  return { DOCKER_HOST: endpoint.Host, DOCKER_CERT_PATH: tls, ...(endpoint.SkipTLSVerify ? {} : { DOCKER_TLS_VERIFY: '1' }) };
}

/** Applies the selected context to the environment, for the API client and the CLI alike. */
export function pinEngine(env: NodeJS.ProcessEnv): void {
  Object.assign(env, contextEngine(env));
}
