// The denied-attempt reader: tcpdump on the holder's NFLOG groups, started before the build so
// that its first packet is seen too.
import { execStream, type ExecStream } from '../docker/engine.js';
import { NFLOG_GROUP } from '../firewall/ruleset.js';
import { parseNflogLine, type LoggedPacket } from './nflog.js';

const READY_TIMEOUT_MS = 10_000;
/** How long after the build ends the reader may take to hand over its last lines. */
const DRAIN_MS = 200;

export class DeniedReader {
  readonly packets: LoggedPacket[] = [];
  private buffer = '';
  private closed = false;
  private stopping = false;
  private readonly ended: Promise<void>;
  /** Resolves if the reader ends on its own, before stop(): the holder is gone. */
  readonly lost: Promise<void>;

  private constructor(private readonly stream: ExecStream) {
    let lost: () => void = () => undefined;
    this.lost = new Promise<void>((resolve) => (lost = resolve));
    this.ended = new Promise<void>((resolve) =>
      stream.stdout.once('end', () => {
        this.closed = true;
        if (!this.stopping) lost();
        resolve();
      }),
    );
    stream.stdout.setEncoding('utf8');
    stream.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      const lines = this.buffer.split('\n');
      this.buffer = lines.pop() ?? '';
      for (const line of lines) {
        const packet = parseNflogLine(line);
        if (packet) this.packets.push(packet);
      }
    });
  }

  /** Resolves once tcpdump listens; throws (naming tcpdump's complaint) if it does not. */
  static async start(holder: string): Promise<DeniedReader> {
    const fail = (why: string) =>
      new Error(
        `Cannot start the denied-attempt reader in the holder: ${why}. The build was not started. ` +
          "The holder image needs tcpdump (buildfence's own image has it).",
      );
    const iface = `nflog:${NFLOG_GROUP.denied},${NFLOG_GROUP.audit}`;
    const stream = await execStream(holder, ['tcpdump', '-tt', '-q', '-n', '-l', '-e', '-i', iface]).catch((err: Error) => {
      throw fail(err.message);
    });
    const reader = new DeniedReader(stream);
    let stderr = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(fail('tcpdump did not start listening in time')), READY_TIMEOUT_MS);
        stream.stderr.setEncoding('utf8');
        stream.stderr.on('data', (chunk: string) => {
          stderr += chunk;
          if (/listening on/.test(stderr)) {
            clearTimeout(timer);
            resolve();
          }
        });
        stream.stderr.once('end', () => {
          clearTimeout(timer);
          reject(fail(stderr.trim().split('\n').pop() || 'tcpdump exited'));
        });
      });
    } catch (err) {
      stream.close();
      throw err;
    }
    return reader;
  }

  /** Stops reading after a short drain, and returns every packet seen. */
  async stop(): Promise<LoggedPacket[]> {
    this.stopping = true;
    if (!this.closed) {
      await new Promise((r) => setTimeout(r, DRAIN_MS));
      this.stream.close();
      await this.ended;
    }
    return this.packets;
  }
}
