// The one long-lived channel that adds learned addresses to the holder's sets: an interactive
// `ipset -` inside the holder. ipset's prompt is not flushed on a pipe, so each batch ends with a
// `test` of a marker address, whose answer (on unbuffered stderr) says the batch is done; errors
// of the batch arrive before it, in order.
import type { Readable, Writable } from 'node:stream';
import { setName, type SetMember } from '../firewall/ruleset.js';

export interface TimedMember extends SetMember {
  /** Seconds until the kernel removes the element. */
  timeout: number;
}

interface Batch {
  marker: string;
  errors: string[];
  resolve(): void;
  reject(err: Error): void;
}

/** Where the batches go and the answers come from, and a way to end both. */
export interface FeedChannel {
  input: Writable;
  output: Readable;
  close(): void;
}

export class SetFeed {
  private readonly channel: FeedChannel;
  private readonly pending: Batch[] = [];
  private counter = 0;
  private buffer = '';
  private ended?: Error;

  /** A channel to an `ipset -`: an exec in the holder container (docker/set-feed.ts), or a Pod's FIFOs. */
  constructor(channel: FeedChannel) {
    this.channel = channel;
    this.channel.output.setEncoding('utf8');
    this.channel.output.on('data', (chunk: string) => this.read(chunk));
    this.channel.input.on('error', () => undefined);
    this.channel.output.on('error', (err) => this.fail(new Error(`the set feed failed: ${err.message}`)));
    this.channel.output.on('close', () => this.fail(new Error('the set feed into the holder ended (is the holder gone?)')));
  }

  /** Resolves once the kernel holds every element (with its new timeout). */
  add(members: TimedMember[]): Promise<void> {
    if (members.length === 0) return Promise.resolve();
    if (this.ended) return Promise.reject(this.ended);
    this.counter = (this.counter % 0xfffffe) + 1;
    const marker = `0.${(this.counter >> 16) & 255}.${(this.counter >> 8) & 255}.${this.counter & 255}`;
    const lines = members.map((m) => `add ${m.set} ${m.element} timeout ${m.timeout} -exist\n`).join('');
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ marker, errors: [], resolve, reject });
      this.channel.input.write(`${lines}test ${setName(4, 'tcp')} ${marker}\n`);
    });
  }

  close(): void {
    this.channel.input.end();
    this.channel.close();
  }

  private read(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      const head = this.pending[0];
      if (!head) continue;
      if (line.startsWith(`${head.marker} is `)) {
        this.pending.shift();
        if (head.errors.length > 0) head.reject(new Error(`ipset refused: ${head.errors.join('; ')}`));
        else head.resolve();
      } else if (line.trim()) {
        head.errors.push(line.trim());
      }
    }
  }

  private fail(err: Error): void {
    this.ended ??= err;
    for (const batch of this.pending.splice(0)) batch.reject(err);
  }
}
