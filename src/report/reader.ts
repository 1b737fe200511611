// The denied-attempt reader: tcpdump on the holder's NFLOG groups, started before the build so
// that its first packet is seen too.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { NFLOG_GROUP } from '../firewall/ruleset.js';
import { parseNflogLine, type LoggedPacket } from './nflog.js';

const READY_TIMEOUT_MS = 10_000;
/** How long after the build ends the reader may take to hand over its last lines. */
const DRAIN_MS = 200;

export class DeniedReader {
  readonly packets: LoggedPacket[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private buffer = '';
  private stderr = '';
  private closed = false;
  private stopping = false;
  /** Resolves if the reader ends on its own, before stop(): the holder is gone. */
  readonly lost: Promise<void>;

  private constructor(holder: string) {
    const iface = `nflog:${NFLOG_GROUP.denied},${NFLOG_GROUP.audit}`;
    this.child = spawn('docker', ['exec', holder, 'tcpdump', '-tt', '-q', '-n', '-l', '-e', '-i', iface], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdin.end();
    let lost: () => void = () => undefined;
    this.lost = new Promise<void>((resolve) => (lost = resolve));
    this.child.on('close', () => {
      this.closed = true;
      if (!this.stopping) lost();
    });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
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
    const reader = new DeniedReader(holder);
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(
          new Error(
            `Cannot start the denied-attempt reader in the holder: ${why}. The build was not started. ` +
              "The holder image needs tcpdump (buildfence's own image has it).",
          ),
        );
      };
      const timer = setTimeout(() => fail('tcpdump did not start listening in time'), READY_TIMEOUT_MS);
      reader.child.stderr.setEncoding('utf8');
      reader.child.stderr.on('data', (chunk: string) => {
        reader.stderr += chunk;
        if (/listening on/.test(reader.stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
      reader.child.on('error', (err) => fail(err.message));
      reader.child.on('close', () => fail(reader.stderr.trim().split('\n').pop() || 'tcpdump exited'));
    });
    return reader;
  }

  /** Stops reading after a short drain, and returns every packet seen. */
  async stop(): Promise<LoggedPacket[]> {
    this.stopping = true;
    if (!this.closed) {
      await new Promise((r) => setTimeout(r, DRAIN_MS));
      const closed = new Promise((r) => this.child.once('close', r));
      this.child.kill();
      await closed;
    }
    return this.packets;
  }
}
