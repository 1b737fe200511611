// One plain HTTP connection on the name check's fast path (wire/fast-path.ts). The connection runs
// to its destination, and every packet the build sends on it is queued, so that each request head
// is read (HttpRequestReader) before any byte of it leaves: a packet goes once every byte it
// carries may pass (an allowed, complete head, or a body), and one that carries part of a head not
// whole yet waits for the rest. Bytes already read (a retransmission) pass again as they did; a
// packet past a gap (one before it never came) is dropped, and TCP sends both again. The build
// cannot make its kernel send other bytes under sequence numbers it sent once (that needs
// NET_RAW or TCP_REPAIR's NET_ADMIN, which it does not hold). Pure.
import type { NamePolicy, WireReason } from './check.js';
import { HttpRequestReader } from './http-request.js';

/** A body this much longer than what came of it is let through unread: below it, a round trip per packet costs little. */
export const ALLOW_MIN = 256 * 1024;

export type FlowStep =
  /**
   * `pass`: held packets (this one among them) that may go now, oldest first; `drop`: this one,
   * past a gap; `allow`: every byte before this sequence number is a body's and may go unread
   * (the caller tells the queue program, which then lets such packets through itself).
   */
  | { kind: 'ok'; pass: number[]; drop: number[]; allow?: number }
  /** Every packet still held is in `held` (this one too): the caller refuses the connection with them. */
  | { kind: 'refused'; reason: WireReason; detail: string; name?: string; held: number[] };

export class HttpFlow {
  private readonly reader = new HttpRequestReader();
  /** Stream offsets (from the first byte, unbounded): what the reader has read, and what may pass. */
  private read = 0;
  private passable = 0;
  private held: { id: number; end: number }[] = [];

  /** `start`: the sequence number of the stream's first byte (the SYN's plus one). */
  constructor(
    private readonly start: number,
    private readonly port: number,
    private readonly allows: NamePolicy,
  ) {}

  /** Packets held now. */
  get holding(): number {
    return this.held.length;
  }

  /** The sequence number up to which every byte may pass (what a retransmission after the end may carry). */
  get passableSeq(): number {
    return (this.start + this.passable) >>> 0;
  }

  push(id: number, seq: number, payload: Buffer): FlowStep {
    // Sequence numbers wrap every 4 GiB: a segment is placed by its distance from what was read.
    const at = this.read + ((seq - ((this.start + this.read) >>> 0)) | 0);
    const end = at + payload.length;
    if (end <= this.passable) return { kind: 'ok', pass: [id], drop: [] };
    if (at > this.read) return { kind: 'ok', pass: [], drop: [id] };
    this.held.push({ id, end });
    if (end > this.read) {
      const step = this.reader.push(payload.subarray(this.read - at));
      this.read = end;
      if (step.kind === 'refused') return this.refuse(step.reason, step.detail, step.host);
      for (const head of step.heads) {
        if (!this.allows(head.host, this.port))
          return this.refuse('host', `no entry allows ${head.host} on TCP port ${this.port}`, head.host);
      }
      this.passable += step.ready.length;
    }
    const pass = this.held.filter((h) => h.end <= this.passable).map((h) => h.id);
    this.held = this.held.filter((h) => h.end > this.passable);
    // A large body's rest: counted as read now (nothing is held inside a body), so what the
    // program still sends of it passes as a retransmission would.
    const ahead = this.reader.bodyAhead;
    if (ahead < ALLOW_MIN || this.held.length > 0) return { kind: 'ok', pass, drop: [] };
    this.reader.skipBody(ahead);
    this.read += ahead;
    this.passable = this.read;
    return { kind: 'ok', pass, drop: [], allow: this.passableSeq };
  }

  /** The packets held, no longer held: the caller refuses the connection with them. */
  takeHeld(): number[] {
    const ids = this.held.map((h) => h.id);
    this.held = [];
    return ids;
  }

  private refuse(reason: WireReason, detail: string, name?: string): FlowStep {
    return { kind: 'refused', reason, detail, ...(name !== undefined ? { name } : {}), held: this.takeHeld() };
  }
}
