// The TLS fast path's channel on Docker: the holder's packet queue program (holder/wire-queue.c)
// run in the holder by the engine, its stdin and output streamed.
import { WIRE_QUEUE_PROGRAM } from '../firewall/holder-script.js';
import { TLS_QUEUE } from '../firewall/ruleset.js';
import type { FastPathOptions } from '../wire/fast-path.js';
import { WireQueue } from '../wire/queue.js';
import { execStream } from './engine.js';

export async function openWireQueue(holder: string, options: Omit<FastPathOptions, 'send'>): Promise<WireQueue> {
  const stream = await execStream(holder, [WIRE_QUEUE_PROGRAM, String(TLS_QUEUE)], { stdin: true }).catch((err: Error) => {
    throw new Error(`Cannot start the name check's packet queue in the holder: ${err.message}`, { cause: err });
  });
  const queue = new WireQueue({ input: stream.stdin!, output: stream.stdout, errors: stream.stderr, close: () => stream.close() }, options);
  await queue.ready.catch((err: Error) => {
    queue.close();
    throw new Error(
      `The name check's packet queue did not start in the holder (${err.message}). ` +
        `The holder image needs ${WIRE_QUEUE_PROGRAM} (scripts/build-holder-image builds it).`,
      { cause: err },
    );
  });
  return queue;
}
