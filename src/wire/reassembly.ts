// A TCP stream's first bytes put back in order from its segments, as the fast path holds them
// (wire/fast-path.ts): out of order, retransmitted, overlapping, one byte each. Strict where it
// matters: two segments that disagree about a byte are refused, never resolved one way, since
// the server might resolve them the other. Pure.

export type Assembled =
  /** `ready`: the bytes that became contiguous from the stream's start with this segment (possibly none). */
  { kind: 'ok'; ready: Buffer } | { kind: 'refused'; detail: string };

const HALF = 2 ** 31;

export class StreamAssembler {
  private readonly data: Buffer;
  private readonly have: Uint8Array;
  /** The offset of the first byte not yet contiguous from the start. */
  private next = 0;

  /** `start`: the sequence number of the stream's first byte (the SYN's plus one); at most `limit` bytes are read. */
  constructor(
    private readonly start: number,
    private readonly limit: number,
  ) {
    this.data = Buffer.alloc(limit);
    this.have = new Uint8Array(limit);
  }

  /** Whether the stream starts at `seq` (a retransmitted SYN's stream does; another connection's does not). */
  startsAt(seq: number): boolean {
    return seq >>> 0 === this.start >>> 0;
  }

  /** The bytes contiguous from the start so far. */
  get length(): number {
    return this.next;
  }

  push(seq: number, payload: Buffer): Assembled {
    let offset = (seq - this.start) >>> 0;
    let bytes = payload;
    // Sequence numbers wrap: an offset past half the space lies before the start (a SYN's own byte).
    if (offset >= HALF) {
      const before = 2 ** 32 - offset;
      if (before >= bytes.length) return { kind: 'ok', ready: Buffer.alloc(0) };
      bytes = bytes.subarray(before);
      offset = 0;
    }
    if (offset + bytes.length > this.limit) {
      return { kind: 'refused', detail: `the client sent more than ${this.limit} bytes before its first message could be read` };
    }
    for (let i = 0; i < bytes.length; i++) {
      const at = offset + i;
      if (this.have[at] === 1) {
        if (this.data[at] !== bytes[i]) {
          return { kind: 'refused', detail: `two TCP segments disagree about byte ${at} of the stream` };
        }
        continue;
      }
      this.data[at] = bytes[i];
      this.have[at] = 1;
    }
    const from = this.next;
    while (this.next < this.limit && this.have[this.next] === 1) this.next++;
    return { kind: 'ok', ready: Buffer.from(this.data.subarray(from, this.next)) };
  }
}
