// The denied-attempt reader: tcpdump on the holder's NFLOG groups (the holder's own process
// after the rule load, see docker/holder.ts), listening before the build starts so that its
// first packet is seen too.
import type { Readable } from 'node:stream';
import type { DrainMark } from './drain-mark.js';
import { DeniedLog, type DeniedTally } from './evidence.js';
import { parseMarkLine, parseNflogLine, parseWireLine, type WireLine } from './nflog.js';

const READY_TIMEOUT_MS = 10_000;
/** How long after the build ends the reader may take to hand over its last lines, without a mark. */
export const DRAIN_MS = 200;

/** tcpdump's output, and a way to stop reading it. */
export interface ReaderOutput {
  stdout: Readable;
  stderr: Readable;
  close(): void;
}

export class DeniedReader {
  /** Counted per destination as they come, in bounded memory: a flood of them may come. */
  readonly log = new DeniedLog();
  private buffer = '';
  private closed = false;
  private stopping = false;
  private stderr = '';
  private stderrEnded = false;
  private markPort?: number;
  private marked: () => void = () => undefined;
  /** Whether stop()'s mark came back (false: the reader waited DRAIN_MS instead). */
  markSeen = false;
  private readonly ended: Promise<void>;
  /** Resolves if the reader ends on its own, before stop(): the holder is gone. */
  readonly lost: Promise<void>;

  private constructor(
    private readonly output: ReaderOutput,
    onWire?: (line: WireLine) => void,
  ) {
    let lost: () => void = () => undefined;
    this.lost = new Promise<void>((resolve) => (lost = resolve));
    this.ended = new Promise<void>((resolve) =>
      output.stdout.once('end', () => {
        this.closed = true;
        if (!this.stopping) lost();
        resolve();
      }),
    );
    output.stdout.setEncoding('utf8');
    output.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      const lines = this.buffer.split('\n');
      this.buffer = lines.pop() ?? '';
      for (const line of lines) {
        const packet = parseNflogLine(line);
        if (packet) {
          this.log.add(packet);
          continue;
        }
        const wire = onWire && parseWireLine(line);
        if (wire) onWire(wire);
        else if (this.markPort !== undefined && parseMarkLine(line) === this.markPort) this.marked();
      }
    });
  }

  /**
   * Starts watching the reader's output: call before the holder starts, so that no line is missed.
   * `onWire` gets each checked connection's first packet (where the name checker learns its destination).
   */
  static watch(output: ReaderOutput, onWire?: (line: WireLine) => void): DeniedReader {
    const reader = new DeniedReader(output, onWire);
    output.stderr.on('data', (chunk: Buffer) => (reader.stderr = (reader.stderr + chunk.toString()).slice(-4096)));
    output.stderr.once('end', () => (reader.stderrEnded = true));
    return reader;
  }

  /**
   * Resolves once tcpdump listens; throws (naming tcpdump's complaint) if it does not. Call once
   * the holder runs: the deadline counts from here, not from a slow container start.
   */
  async listening(): Promise<void> {
    const fail = (why: string) =>
      new Error(
        `Cannot start the denied-attempt reader in the holder: ${why}. The build was not started. ` +
          "The holder image needs tcpdump (buildfence's own image has it).",
      );
    const stderr = this.output.stderr;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (/listening on/.test(this.stderr)) done(resolve);
        else if (this.stderrEnded) done(() => reject(fail(this.stderr.trim().split('\n').pop() || 'tcpdump exited')));
      };
      const timer = setTimeout(() => done(() => reject(fail('tcpdump did not start listening in time'))), READY_TIMEOUT_MS);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        stderr.off('data', later);
        stderr.off('end', later);
        settle();
      };
      // After the listeners of watch(), which keep this.stderr.
      const later = () => setImmediate(check);
      stderr.on('data', later);
      stderr.on('end', later);
      check();
    });
  }

  /**
   * Stops reading once the build's last packets are through, and returns what the log held, per
   * destination: when `mark`'s line comes back (sent now, so logged after all of them), else
   * after DRAIN_MS.
   */
  async stop(mark?: DrainMark): Promise<DeniedTally[]> {
    this.stopping = true;
    if (!this.closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, DRAIN_MS);
        void this.ended.then(() => {
          clearTimeout(timer);
          resolve();
        });
        if (!mark) return;
        this.markPort = mark.port;
        this.marked = () => {
          this.markSeen = true;
          clearTimeout(timer);
          resolve();
        };
        // A mark that cannot be sent leaves the fixed drain.
        mark.send().catch(() => undefined);
      });
      this.output.close();
      await this.ended;
    }
    return this.log.tallies();
  }
}
