// The channel to the holder's packet queue program (holder/wire-queue.c): its frames go to the
// fast path, the fast path's verdicts go back. The program must say it is ready before the build
// starts; once it ends (or its output cannot be read), the fast path can no longer let a
// connection to a name entry's address through, and `ended` says why: the caller fails the run (its packets are dropped
// meanwhile: the rules queue them with no bypass).
import type { Readable, Writable } from 'node:stream';
import { FastPath, type FastPathOptions } from './fast-path.js';
import { QueueFrameReader } from './queue-frames.js';

export interface QueueChannel {
  input: Writable;
  output: Readable;
  /** The program's stderr: its last line says why it ended. */
  errors: Readable;
  close(): void;
}

export class WireQueue {
  readonly fastPath: FastPath;
  /** Resolves once the program has bound the queue; rejects if it ends first. */
  readonly ready: Promise<void>;
  /** Resolves, with the reason, when the program ends or its output cannot be read; never while `close()` ends it. */
  readonly ended: Promise<string>;
  private closing = false;

  constructor(
    private readonly channel: QueueChannel,
    options: Omit<FastPathOptions, 'send'>,
  ) {
    this.fastPath = new FastPath({ ...options, send: (v) => void channel.input.write(v) });
    const reader = new QueueFrameReader();
    let errors = '';
    channel.errors.setEncoding('utf8');
    channel.errors.on('data', (d: string) => (errors = (errors + d).slice(-2000)));
    channel.input.on('error', () => undefined);
    let markReady!: () => void;
    let end!: (reason: string) => void;
    const ended = new Promise<string>((resolve) => (end = resolve));
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      void ended.then((reason) => reject(new Error(reason)));
    });
    this.ready.catch(() => undefined);
    const stop = (why: string) => {
      if (this.closing) return;
      const said = errors.trim().split('\n').pop();
      end(`${why}${said ? `: ${said}` : ''}`);
    };
    channel.output.on('data', (chunk: Buffer) => {
      try {
        for (const frame of reader.push(chunk)) {
          if (frame.kind === 'ready') markReady();
          else this.fastPath.packet(frame);
        }
      } catch (err) {
        stop(`the name check's packet queue sent what cannot be read (${(err as Error).message})`);
        channel.close();
      }
    });
    channel.output.on('error', (err) => stop(`the name check's packet queue failed (${err.message})`));
    // The errors arrive on their own stream: its last line is awaited a moment before the reason is given.
    channel.output.on('close', () => setTimeout(() => stop("the name check's packet queue in the holder ended"), 50));
    this.ended = ended;
  }

  close(): void {
    this.closing = true;
    this.fastPath.close();
    this.channel.input.end();
    this.channel.close();
  }
}
