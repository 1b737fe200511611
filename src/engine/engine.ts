// The Docker Engine API, spoken over the engine's socket with docker-modem (which honours
// DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH as the CLI does). A request costs a few
// milliseconds where a docker CLI process costs 80-100 ms, and a run makes about fifteen of them.
// Paths carry no API version: the engine answers in its own, and the fields used here are stable
// from Docker 20.10 on. Every call has a deadline, except the streams that live as long as the build.
import { PassThrough, type Readable, type Writable } from 'node:stream';
import Modem from 'docker-modem';
import { DOCKER_TIMEOUT_MS } from './cli.js';
import { pinEngine } from './endpoint.js';

let modem: Modem | undefined;

function engine(): Modem {
  if (!modem) {
    pinEngine(process.env);
    modem = new Modem();
  }
  return modem;
}

interface Call {
  query?: Record<string, unknown>;
  body?: unknown;
  /** Statuses that are not an error (e.g. 404 for "already gone"); 2xx always are. */
  accept?: number[];
  /** 0 for none. */
  timeoutMs?: number;
}

/** Container and image names in a path: what a reference may hold stays readable. */
function seg(name: string): string {
  return encodeURIComponent(name).replace(/%2F/g, '/').replace(/%3A/gi, ':').replace(/%40/g, '@');
}

function statusCodes(accept: number[] = []): Record<number, boolean> {
  const codes: Record<number, boolean> = { 200: true, 201: true, 204: true, 304: true };
  for (const code of accept) codes[code] = true;
  return codes;
}

function failure(what: string, err: unknown, timeoutMs: number): Error {
  const e = err as { statusCode?: number; json?: { message?: string }; message?: string; name?: string; code?: string };
  if (e.name === 'AbortError' || e.code === 'ABORT_ERR') {
    return new Error(`The Docker engine did not answer ${what} within ${timeoutMs / 1000} s: is it hung? Check it, or DOCKER_HOST.`);
  }
  if (e.statusCode === undefined) {
    const at = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
    return new Error(
      `Cannot connect to the Docker engine at ${at} (${what}): ${e.message ?? String(err)}. Start it, or check DOCKER_HOST.`,
    );
  }
  const reason = e.json?.message ?? (e.message ?? '').replace(/^\(HTTP code \d+\) \S+ - /, '').trim();
  return Object.assign(new Error(reason), { statusCode: e.statusCode });
}

/** The engine's HTTP status for a failed request (404: no such container, image, network). */
export function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

function dialOptions(method: string, path: string, call: Call, signal?: AbortSignal) {
  const hasQuery = call.query !== undefined;
  return {
    path: hasQuery ? `${path}?` : path,
    method,
    options: method === 'POST' ? { _query: call.query ?? {}, _body: call.body ?? {} } : call.query,
    statusCodes: statusCodes(call.accept),
    abortSignal: signal,
  };
}

/** One request; resolves with the engine's JSON (or undefined for an empty reply), throws Error. */
export function api<T = unknown>(method: 'GET' | 'POST' | 'DELETE', path: string, call: Call = {}): Promise<T> {
  const timeoutMs = call.timeoutMs ?? DOCKER_TIMEOUT_MS;
  const signal = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
  const what = `${method} ${path}`;
  return new Promise<T>((resolve, reject) => {
    try {
      engine().dial(dialOptions(method, path, call, signal), (err, data) => {
        if (err) reject(failure(what, err, timeoutMs));
        else resolve((Buffer.isBuffer(data) && data.length === 0 ? undefined : data) as T);
      });
    } catch (err) {
      reject(failure(what, err, timeoutMs));
    }
  });
}

/** A hijacked connection (attach, exec start): the raw duplex socket. */
function hijack(
  path: string,
  query: Record<string, unknown>,
  body?: unknown,
  stdin = false,
): Promise<NodeJS.ReadWriteStream & { destroy(): void }> {
  return new Promise((resolve, reject) => {
    const what = `POST ${path}`;
    try {
      engine().dial(
        {
          path: `${path}?`,
          method: 'POST',
          options: { _query: query, _body: body ?? {} },
          hijack: true,
          openStdin: stdin,
          statusCodes: statusCodes([101]),
        },
        (err, data) =>
          err ? reject(failure(what, err, DOCKER_TIMEOUT_MS)) : resolve(data as NodeJS.ReadWriteStream & { destroy(): void }),
      );
    } catch (err) {
      reject(failure(what, err, DOCKER_TIMEOUT_MS));
    }
  });
}

/** Splits Docker's multiplexed stream (an 8-byte header per frame) into stdout and stderr; raw when `tty`. */
function demux(socket: NodeJS.ReadableStream, tty: boolean): { stdout: PassThrough; stderr: PassThrough } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  if (tty) socket.on('data', (d: Buffer) => stdout.write(d));
  else engine().demuxStream(socket, stdout, stderr);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    stdout.end();
    stderr.end();
  };
  socket.on('end', end);
  socket.on('close', end);
  socket.on('error', end);
  return { stdout, stderr };
}

/** An engine that does not answer its first contact this quickly fails the step before anything is created. */
export const ENGINE_TIMEOUT_MS = 10_000;

export async function ping(): Promise<void> {
  await api('GET', '/_ping', { timeoutMs: ENGINE_TIMEOUT_MS });
}

/** What the engine says of itself; `SecurityOptions` as `name=seccomp,profile=default`, `name=rootless`, `name=userns`. */
export interface EngineInfo {
  SecurityOptions?: string[] | null;
  DockerRootDir?: string;
}

export async function engineInfo(): Promise<EngineInfo> {
  return api('GET', '/info');
}

/** Imports a root filesystem (a tar) as REPO:TAG; resolves with the image's ID. */
export async function importImage(tar: Buffer, repo: string, tag: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    const what = 'POST /images/create (import)';
    engine().dial(
      {
        path: '/images/create?',
        method: 'POST',
        options: { _query: { fromSrc: '-', repo, tag } },
        file: tar,
        statusCodes: statusCodes(),
        abortSignal: AbortSignal.timeout(DOCKER_TIMEOUT_MS),
      },
      (err) => (err ? reject(failure(what, err, DOCKER_TIMEOUT_MS)) : resolve()),
    );
  });
  const id = await imageId(`${repo}:${tag}`);
  if (!id) throw new Error(`the engine took the import of ${repo}:${tag} but has no such image`);
  return id;
}

/** The engine's API version (`1.41` for Docker 20.10): what some create options need. */
export async function apiVersion(): Promise<string> {
  return (await api<{ ApiVersion: string }>('GET', '/version')).ApiVersion;
}

export interface Labelled {
  Id: string;
  Labels?: Record<string, string> | null;
}

export async function listContainers(label: string): Promise<Labelled[]> {
  return api('GET', '/containers/json', { query: { all: true, filters: JSON.stringify({ label: [label] }) } });
}

/** The local image's ID, or undefined when the engine does not have it. */
export async function imageId(image: string): Promise<string | undefined> {
  return (await inspectImage(image))?.Id;
}

/** The local image's ID and the registry digests the engine knows for it; undefined when absent. */
export async function inspectImage(image: string): Promise<{ Id: string; RepoDigests?: string[] | null } | undefined> {
  return api<{ Id: string; RepoDigests?: string[] | null } | undefined>('GET', `/images/${seg(image)}/json`, { accept: [404] });
}

export interface NetworkInspect {
  Name: string;
  Driver: string;
  IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> | null };
  /** The containers on it, by ID, with their addresses (`172.18.0.2/16`). */
  Containers?: Record<string, { Name: string; IPv4Address?: string; IPv6Address?: string }> | null;
}

/** The network, or undefined when the engine has none of that name. */
export async function inspectNetwork(network: string): Promise<NetworkInspect | undefined> {
  return api<NetworkInspect | undefined>('GET', `/networks/${seg(network)}`, { accept: [404] });
}

export interface VolumeInspect {
  Driver: string;
  Options?: Record<string, string> | null;
}

/** The volume, or undefined when the engine has none of that name (docker creates it then). */
export async function inspectVolume(volume: string): Promise<VolumeInspect | undefined> {
  return api<VolumeInspect | undefined>('GET', `/volumes/${seg(volume)}`, { accept: [404] });
}

export async function createContainer(name: string, config: object, platform?: string): Promise<string> {
  const created = await api<{ Id: string }>('POST', '/containers/create', {
    query: { name, ...(platform ? { platform } : {}) },
    body: config,
  });
  return created.Id;
}

export async function startContainer(container: string): Promise<void> {
  await api('POST', `/containers/${seg(container)}/start`);
}

export interface EndpointInspect {
  IPAddress?: string;
  GlobalIPv6Address?: string;
  Gateway?: string;
  Aliases?: string[] | null;
  /** The names the network's DNS answers for it (Engine API 1.44+). */
  DNSNames?: string[] | null;
}

export interface MountInspect {
  Type: string;
  /** A volume's name. */
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
}

export interface ContainerInspect {
  Id: string;
  /** With a leading '/'. */
  Name?: string;
  Image: string;
  Config: { Tty?: boolean; Labels?: Record<string, string> | null };
  State: { ExitCode: number; Error?: string; Running?: boolean };
  HostConfig?: { NetworkMode?: string };
  Mounts?: MountInspect[] | null;
  NetworkSettings: { Networks?: Record<string, EndpointInspect> | null };
}

export async function inspectContainer(container: string): Promise<ContainerInspect> {
  return api('GET', `/containers/${seg(container)}/json`);
}

/** Pulls an image through the engine (anonymously); resolves when the pull's progress stream ends without an error. */
export async function pullImage(query: { fromImage: string; tag: string; platform?: string }): Promise<void> {
  const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) => {
    const what = 'POST /images/create';
    try {
      engine().dial(
        { path: '/images/create?', method: 'POST', options: { _query: query, _body: {} }, isStream: true, statusCodes: statusCodes() },
        (err, data) => (err ? reject(failure(what, err, 0)) : resolve(data as NodeJS.ReadableStream)),
      );
    } catch (err) {
      reject(failure(what, err, 0));
    }
  });
  // One JSON object a line; a failed pull still answers 200, with an `error` in the stream.
  let rest = '';
  let error: string | undefined;
  for await (const chunk of stream) {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      try {
        error ??= (JSON.parse(line) as { error?: string }).error;
      } catch {
        // Progress the engine did not write as JSON says nothing about the outcome.
      }
    }
  }
  if (error) throw new Error(error);
}

/** Kills a running container; one that is gone or already stopped is not an error. */
export async function killContainer(container: string, timeoutMs = DOCKER_TIMEOUT_MS): Promise<void> {
  await api('POST', `/containers/${seg(container)}/kill`, { accept: [404, 409], timeoutMs });
}

/** Removes a container (running or not) with its anonymous volumes; one already gone is not an error. */
export async function removeContainer(container: string): Promise<void> {
  await api('DELETE', `/containers/${seg(container)}`, { query: { force: true, v: true }, accept: [404] });
}

export interface ExecStream {
  stdout: Readable;
  stderr: Readable;
  /** Present when started with `stdin`; ending it closes the command's stdin. */
  stdin?: Writable;
  /** Drops the connection (the command itself ends with its container). */
  close(): void;
}

/** Starts a command in a running container with its output (and stdin) streamed. */
export async function execStream(container: string, cmd: string[], options: { stdin?: boolean } = {}): Promise<ExecStream> {
  const stdin = options.stdin === true;
  const created = await api<{ Id: string }>('POST', `/containers/${seg(container)}/exec`, {
    body: { Cmd: cmd, AttachStdin: stdin, AttachStdout: true, AttachStderr: true, Tty: false },
  });
  const socket = await hijack(`/exec/${created.Id}/start`, {}, { Detach: false, Tty: false }, stdin);
  const { stdout, stderr } = demux(socket, false);
  return {
    stdout,
    stderr,
    stdin: stdin ? (socket as unknown as Writable) : undefined,
    close: () => socket.destroy(),
  };
}

/** Attaches to a created container's output before it starts, so nothing it prints is missed. */
export async function attach(container: string, tty: boolean): Promise<{ stdout: Readable; stderr: Readable; close(): void }> {
  const socket = await hijack(`/containers/${seg(container)}/attach`, { stream: true, stdout: true, stderr: true });
  return { ...demux(socket, tty), close: () => socket.destroy() };
}

/** Waits until a started container is no longer running; resolves with its exit code. */
export async function waitExit(container: string): Promise<{ exitCode: number; error?: string }> {
  const result = await api<{ StatusCode: number; Error?: { Message?: string } | null }>('POST', `/containers/${seg(container)}/wait`, {
    query: { condition: 'not-running' },
    timeoutMs: 0,
  });
  return { exitCode: result.StatusCode, error: result.Error?.Message || undefined };
}
