// The name check's channel on Docker: the holder's packet queue program (holder/wire-queue.c),
// started in the holder by the engine, connects to a unix socket this process listens on in the
// rules directory (which only the holder mounts), so that the queued packets and their verdicts
// pass no process between the two; its stderr comes through the exec stream.
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as path from 'node:path';
import { WIRE_QUEUE_PROGRAM, WIRE_QUEUE_SOCKET } from '../firewall/holder-script.js';
import { WIRE_QUEUE } from '../firewall/ruleset.js';
import { RULES_MOUNT } from '../run/build.js';
import type { FastPathOptions } from '../wire/fast-path.js';
import { WireQueue } from '../wire/queue.js';
import { execStream } from './engine.js';

/** How long the program may take to connect. */
const CONNECT_MS = 10_000;

export async function openWireQueue(holder: string, rulesDir: string, options: Omit<FastPathOptions, 'send'>): Promise<WireQueue> {
  const at = path.join(rulesDir, WIRE_QUEUE_SOCKET);
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(at, resolve));
  const fail = (why: string) =>
    new Error(
      `The name check's packet queue did not start in the holder (${why}). ` +
        `The holder image needs ${WIRE_QUEUE_PROGRAM} (scripts/build-holder-image builds it).`,
    );
  try {
    // The holder holds no CAP_DAC_OVERRIDE: its root connects as anyone. Only the holder mounts the directory.
    await fs.chmod(at, 0o777);
    const connected = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const stream = await execStream(holder, [WIRE_QUEUE_PROGRAM, String(WIRE_QUEUE), `${RULES_MOUNT}/${WIRE_QUEUE_SOCKET}`]).catch(
      (err: Error) => {
        throw fail(err.message);
      },
    );
    let said = '';
    stream.stdout.on('data', (d: Buffer) => (said = (said + d.toString()).slice(-2000)));
    stream.stderr.on('data', (d: Buffer) => (said = (said + d.toString()).slice(-2000)));
    const gone = new Promise<undefined>((resolve) => stream.stdout.once('close', () => setTimeout(() => resolve(undefined), 50)));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), CONNECT_MS)));
    const socket = await Promise.race([connected, gone, late]);
    clearTimeout(timer);
    if (!socket) {
      stream.close();
      throw fail(socket === null ? `it did not connect within ${CONNECT_MS / 1000} s` : said.trim().split('\n').pop() || 'it ended');
    }
    stream.stderr.removeAllListeners('data');
    const queue = new WireQueue(
      {
        input: socket,
        output: socket,
        errors: stream.stderr,
        close: () => {
          socket.destroy();
          stream.close();
        },
      },
      options,
    );
    await queue.ready.catch((err: Error) => {
      queue.close();
      throw fail(err.message);
    });
    return queue;
  } finally {
    // One connection: no one else may speak for the queue.
    server.close();
  }
}
