// The set feed's channel on Docker: `ipset -` run in the holder by the engine, its stdin and
// output streamed.
import { SetFeed } from '../dns/feed.js';
import { execStream } from './engine.js';

export async function openSetFeed(holder: string): Promise<SetFeed> {
  const stream = await execStream(holder, ['sh', '-c', 'exec ipset - 2>&1 >/dev/null'], { stdin: true }).catch((err: Error) => {
    throw new Error(`Cannot start the set feed in the holder: ${err.message}`, { cause: err });
  });
  stream.stderr.resume();
  return new SetFeed({ input: stream.stdin!, output: stream.stdout, close: () => stream.close() });
}
