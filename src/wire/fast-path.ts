// The name check's fast path for TLS (issue 14): connections to port 443 of an address that only a
// name entry opened go to their destination directly, and the holder's rules queue every packet
// of one not checked yet (holder/wire-queue.c answers those without payload itself). Here the
// packets with payload are held, unverdicted, while the ClientHello is put together from them in
// sequence order and read; then they are all let through with the mark the rules save as
// "checked" (the rest of the connection runs in the kernel), or refused with the mark that resets
// the connection at every later packet. No payload byte reaches the destination before the name
// is read. Pure but for its timers: the caller feeds the queue's frames and writes the verdicts.
import type { Mode } from '../run/entry.js';
import { WIRE_MARK } from '../firewall/ruleset.js';
import { CLIENT_HELLO_LIMIT, ClientHelloReader } from './client-hello.js';
import type { NamePolicy, WireReason } from './check.js';
import { FIRST_BYTES_MS } from './checker.js';
import type { WireDecision, WireDecisionLog } from './decision-log.js';
import { StreamAssembler } from './reassembly.js';
import { encodeVerdict, TCP_FLAGS, VERDICT, type QueuedPacket } from './queue-frames.js';

export interface FastPathOptions {
  mode: Mode;
  allows: NamePolicy;
  /** The names the resolver gave an address for (the report shows them beside a refusal). */
  namesOf(address: string): Iterable<string>;
  log: WireDecisionLog;
  /** Verdicts for the queue program's input. */
  send(verdicts: Buffer): void;
  /** How long a connection has, from its SYN, to send its whole ClientHello (ms). */
  helloMs?: number;
  /** Connections being read at once, at most; past it the oldest is refused. */
  maxConnections?: number;
  /** Packets held at once, at most, and per connection; past them the connection is refused. */
  maxHeld?: number;
  maxHeldPerConnection?: number;
  onDecision?(decision: WireDecision): void;
  onWarning?(message: string): void;
}

/** What the stream may hold before its ClientHello is read: the ClientHello's limit, its records' headers, some slack. */
export const STREAM_LIMIT = CLIENT_HELLO_LIMIT + 4 * 1024;
export const MAX_CONNECTIONS = 1024;
/** Below the queue's own length (wire-queue.c's QUEUE_MAXLEN, 4096): past that the kernel drops. */
export const MAX_HELD = 3072;
/** A ClientHello takes a few segments: TCP sends at most 10 before an acknowledgement, then retransmits. */
export const MAX_HELD_PER_CONNECTION = 128;
/** Decisions kept for packets the kernel queued before it took the connection's mark: how long, how many. */
const DECIDED_MS = 30_000;
const DECIDED_LIMIT = 16_384;
const TLS_HANDSHAKE = 0x16;

interface Connection {
  key: string;
  destination: string;
  port: number;
  /** The sequence number of the stream's first byte. */
  start: number;
  /** Made at the first payload: a connection that sends nothing costs no buffer. */
  assembler?: StreamAssembler;
  reader?: ClientHelloReader;
  /** Packet ids held, in the order they came. */
  held: number[];
  /** Nothing came within the bound: the first payload is refused. */
  silent: boolean;
  timer: NodeJS.Timeout;
}

export class FastPath {
  /** Connections being read, oldest first. */
  private readonly reading = new Map<string, Connection>();
  /** Decided connections: their verdict and until when it is kept, oldest first. */
  private readonly decided = new Map<string, { mark: number; start: number; until: number }>();
  private held = 0;
  private warned = false;

  constructor(private readonly options: FastPathOptions) {}

  /** Connections being read now. */
  get pending(): number {
    return this.reading.size;
  }

  /** Packets held now. */
  get heldPackets(): number {
    return this.held;
  }

  /** One packet (or notice) from the queue. */
  packet(p: QueuedPacket): void {
    const key = `${p.source} ${p.sourcePort} ${p.destination} ${p.destinationPort}`;
    let c = this.reading.get(key);
    if (p.flags & TCP_FLAGS.syn) {
      const start = (p.seq + 1) >>> 0;
      const done = this.decided.get(key);
      // A retransmitted SYN keeps its connection; a new one on the same ports replaces one that ended.
      if (done && done.start !== start) this.decided.delete(key);
      if (!(c ? c.start === start : done?.start === start)) c = this.open(key, p, start);
    }
    if (p.id === 0) {
      if (c && (p.flags & (TCP_FLAGS.fin | TCP_FLAGS.rst)) !== 0) {
        // Closed before it sent a byte: no attempt to record (happy eyeballs closes the ones it does not use).
        if (c.held.length === 0) this.forget(c);
        else this.refuse(c, 'opaque', 'the client closed before its name could be read');
      }
      return;
    }
    if (!c) {
      const done = this.decided.get(key);
      if (done && done.until >= Date.now()) return this.options.send(encodeVerdict(p.id, VERDICT.repeat, done.mark));
      // Its opening was never seen (forgotten past the bound, or long decided): nothing to read it from.
      this.options.send(encodeVerdict(p.id, VERDICT.repeat, WIRE_MARK.refused));
      this.record(
        {
          reason: 'opaque',
          detail: 'the fence did not see the connection open, or forgot it',
          address: p.destination,
          port: p.destinationPort,
        },
        true,
      );
      return;
    }
    c.held.push(p.id);
    this.held++;
    if (c.silent) return this.refuse(c, 'opaque', `the client sent nothing for ${this.helloMs / 1000} s`);
    const perConnection = this.options.maxHeldPerConnection ?? MAX_HELD_PER_CONNECTION;
    if (c.held.length > perConnection) return this.refuse(c, 'no-sni', `the ClientHello came in more than ${perConnection} segments`);
    if (this.held > (this.options.maxHeld ?? MAX_HELD)) {
      this.warnFull(`${this.held - 1} packets are held at once`);
      return this.refuse(c, 'opaque', 'too many packets were held at once', true);
    }
    c.assembler ??= new StreamAssembler(c.start, STREAM_LIMIT);
    c.reader ??= new ClientHelloReader();
    const assembled = c.assembler.push(p.flags & TCP_FLAGS.syn ? (p.seq + 1) >>> 0 : p.seq, p.payload);
    if (assembled.kind === 'refused') return this.refuse(c, 'no-sni', assembled.detail);
    if (assembled.ready.length === 0) return;
    if (c.assembler.length === assembled.ready.length && assembled.ready[0] !== TLS_HANDSHAKE) {
      return this.refuse(
        c,
        'opaque',
        `not TLS: port ${c.port} of a name entry's address is read as TLS, and this connection's first byte is ${assembled.ready[0]}`,
      );
    }
    const verdict = c.reader.push(assembled.ready);
    if (verdict.kind === 'more') return;
    if (verdict.kind === 'refused') return this.refuse(c, verdict.reason, verdict.detail);
    if (!this.options.allows(verdict.name, c.port)) {
      return this.refuse(c, 'sni', `no entry allows ${verdict.name} on TCP port ${c.port}`, false, verdict.name);
    }
    this.release(c, WIRE_MARK.checked);
  }

  /** Every timer stopped (the run is over; the queue program ends with the holder). */
  close(): void {
    for (const c of this.reading.values()) clearTimeout(c.timer);
    this.reading.clear();
    this.decided.clear();
  }

  private get helloMs(): number {
    return this.options.helloMs ?? FIRST_BYTES_MS;
  }

  private open(key: string, p: QueuedPacket, start: number): Connection {
    const old = this.reading.get(key);
    if (old) this.forget(old);
    const limit = this.options.maxConnections ?? MAX_CONNECTIONS;
    for (const oldest of this.reading.values()) {
      if (this.reading.size < limit) break;
      this.warnFull(`${limit} connections are read at once`);
      if (oldest.held.length > 0) this.refuse(oldest, 'opaque', 'too many connections waited for their names', true);
      else this.forget(oldest);
    }
    const c: Connection = {
      key,
      destination: p.destination,
      port: p.destinationPort,
      start,
      held: [],
      silent: false,
      timer: setTimeout(() => {
        if (c.held.length === 0) return void (c.silent = true);
        this.refuse(
          c,
          'no-sni',
          `the ClientHello was not whole within ${this.helloMs / 1000} s (a client that splits it into more segments than TCP sends before an acknowledgement cannot finish it)`,
        );
      }, this.helloMs),
    };
    c.timer.unref();
    this.reading.set(key, c);
    return c;
  }

  /**
   * Refused: the build's socket is destroyed (the destination gets a reset) and the first held
   * packet goes back with the refused mark (the rules save it and reset the connection at every
   * later packet); the others are dropped. Audit mode records the refusal and lets it all through,
   * unless `always` (a bound, not a name).
   */
  private refuse(c: Connection, reason: WireReason, detail: string, always = false, name?: string): void {
    const enforced = always || this.options.mode === 'block';
    this.record({ reason, detail, address: c.destination, port: c.port, ...(name !== undefined ? { name } : {}) }, enforced);
    this.release(c, enforced ? WIRE_MARK.refused : WIRE_MARK.checked);
  }

  /** Every held packet goes back with `mark` (refused: only the first, which resets the connection; the rest are dropped). */
  private release(c: Connection, mark: number): void {
    const verdicts = c.held.map((id, i) =>
      mark !== WIRE_MARK.refused
        ? encodeVerdict(id, VERDICT.repeat, mark)
        : i === 0
          ? encodeVerdict(id, VERDICT.reset, mark)
          : encodeVerdict(id, VERDICT.drop),
    );
    this.held -= c.held.length;
    c.held = [];
    this.forget(c);
    if (verdicts.length > 0) this.options.send(Buffer.concat(verdicts));
    this.decided.set(c.key, { mark, start: c.start, until: Date.now() + DECIDED_MS });
    for (const key of this.decided.keys()) {
      if (this.decided.size <= DECIDED_LIMIT) break;
      this.decided.delete(key);
    }
  }

  /** Stops reading `c`; a packet it still held is dropped, never left in the queue. */
  private forget(c: Connection): void {
    clearTimeout(c.timer);
    if (c.held.length > 0) {
      this.options.send(Buffer.concat(c.held.map((id) => encodeVerdict(id, VERDICT.drop))));
      this.held -= c.held.length;
      c.held = [];
    }
    if (this.reading.get(c.key) === c) this.reading.delete(c.key);
  }

  private record(d: { reason: WireReason; detail: string; name?: string; address: string; port: number }, enforced: boolean): void {
    const row = this.options.log.refusal(d, enforced, (a) => this.options.namesOf(a));
    this.options.onDecision?.(row);
  }

  private warnFull(what: string): void {
    if (this.warned) return;
    this.warned = true;
    this.options.onWarning?.(`name check: ${what}, the most it holds; connections past that are refused`);
  }
}
