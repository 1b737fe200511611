// The frames of the holder's packet queue program (holder/wire-queue.c), read from its output,
// and the verdicts written to its input. Binary, big-endian: the exec stream carries any bytes.
// Pure.
import ipaddr from 'ipaddr.js';

/** A packet of a connection the fast path has not decided yet, or a notice that one opened or ended. */
export interface QueuedPacket {
  /** The kernel's packet id, awaiting a verdict; 0 for a notice (a packet without payload, already accepted). */
  id: number;
  family: 4 | 6;
  /** TCP flags (SYN 0x02, FIN 0x01, RST 0x04, ...). */
  flags: number;
  source: string;
  sourcePort: number;
  destination: string;
  destinationPort: number;
  /** The TCP sequence number of the segment (a SYN's is its connection's initial one). */
  seq: number;
  payload: Buffer;
}

export type QueueFrame = { kind: 'ready' } | ({ kind: 'packet' } & QueuedPacket);

export const TCP_FLAGS = { fin: 0x01, syn: 0x02, rst: 0x04 } as const;

/**
 * The kernel's verdicts (linux/netfilter.h), and the program's own: `reset` destroys the build's
 * socket of the packet's connection (the destination gets a reset), then repeats the packet;
 * `allow` is no verdict: the packet's connection may send every byte before the sequence number
 * given as the mark without asking (an HTTP body's), and the program lets such packets through.
 */
export const VERDICT = { drop: 0, accept: 1, repeat: 4, reset: 0x100, allow: 0x200 } as const;
export type Verdict = (typeof VERDICT)[keyof typeof VERDICT];

const LENGTH = 4;
/** A packet frame's bytes before its payload, after the length. */
const PACKET_HEADER = 47;
/** No frame is larger: the program copies at most 64 KiB of a packet. */
const FRAME_LIMIT = PACKET_HEADER + 0x10000;

/** One verdict for the program's input: id, verdict, the mark set on the packet (0: none). */
export function encodeVerdict(id: number, verdict: Verdict, mark = 0): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(id, 0);
  b.writeUInt32BE(verdict, 4);
  b.writeUInt32BE(mark >>> 0, 8);
  return b;
}

/** Splits the program's output into frames, however the stream cuts it. Throws on a frame it cannot read. */
export class QueueFrameReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): QueueFrame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: QueueFrame[] = [];
    let at = 0;
    while (this.pending.length - at >= LENGTH) {
      const length = this.pending.readUInt32BE(at);
      if (length === 0 || length > FRAME_LIMIT) throw new Error(`the packet queue sent a frame of ${length} bytes`);
      if (this.pending.length - at < LENGTH + length) break;
      frames.push(decode(this.pending.subarray(at + LENGTH, at + LENGTH + length)));
      at += LENGTH + length;
    }
    // What is left is copied: the frames' payloads keep their views of the rest.
    this.pending = at === 0 ? this.pending : Buffer.from(this.pending.subarray(at));
    return frames;
  }
}

function decode(f: Buffer): QueueFrame {
  const kind = String.fromCharCode(f[0]);
  if (kind === 'R' && f.length === 1) return { kind: 'ready' };
  if (kind !== 'P' || f.length < PACKET_HEADER)
    throw new Error(`the packet queue sent a frame it should not (kind ${f[0]}, ${f.length} bytes)`);
  const family = f[5];
  if (family !== 4 && family !== 6) throw new Error(`the packet queue sent a packet of IP version ${family}`);
  const address = (at: number) => ipaddr.fromByteArray([...f.subarray(at, at + (family === 4 ? 4 : 16))]).toString();
  return {
    kind: 'packet',
    id: f.readUInt32BE(1),
    family,
    flags: f[6],
    sourcePort: f.readUInt16BE(7),
    destinationPort: f.readUInt16BE(9),
    seq: f.readUInt32BE(11),
    source: address(15),
    destination: address(31),
    payload: f.subarray(PACKET_HEADER),
  };
}

/** A packet frame as the program writes it (for tests and stand-ins). */
export function encodePacket(p: QueuedPacket): Buffer {
  const f = Buffer.alloc(LENGTH + PACKET_HEADER);
  f.writeUInt32BE(PACKET_HEADER + p.payload.length, 0);
  f[4] = 'P'.charCodeAt(0);
  f.writeUInt32BE(p.id, 5);
  f[9] = p.family;
  f[10] = p.flags;
  f.writeUInt16BE(p.sourcePort, 11);
  f.writeUInt16BE(p.destinationPort, 13);
  f.writeUInt32BE(p.seq >>> 0, 15);
  Buffer.from(ipaddr.parse(p.source).toByteArray()).copy(f, 19);
  Buffer.from(ipaddr.parse(p.destination).toByteArray()).copy(f, 35);
  return Buffer.concat([f, p.payload]);
}
