// The name check's fast path (issue 14): TCP connections to an address that only a name entry
// opened go to their destination directly, and the holder's rules queue every packet of one not
// checked yet (holder/wire-queue.c answers those without payload itself). Here the packets with
// payload are held, unverdicted, until the name they carry is read. A connection whose first byte
// starts a TLS record is TLS: its ClientHello is put together from its packets in sequence order
// and read; then they are all let through with the mark the rules save as "checked" (the rest of
// the connection runs in the kernel), or refused with the mark that resets the connection at
// every later packet. Any other is read as HTTP/1.x requests (wire/http-flow.ts): it stays queued,
// each packet let through once the request heads it carries are read and allowed. No payload byte
// reaches the destination before the name that covers it is read. Pure but for its timers: the
// caller feeds the queue's frames and writes the verdicts.
import type { Mode } from '../run/entry.js';
import { WIRE_MARK } from '../firewall/ruleset.js';
import { CLIENT_HELLO_LIMIT, ClientHelloReader } from './client-hello.js';
import type { NamePolicy, WireReason } from './check.js';
import { FIRST_BYTES_MS } from './checker.js';
import type { WireDecision, WireDecisionLog } from './decision-log.js';
import { HttpFlow } from './http-flow.js';
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
  /** How long a connection has, from its SYN, to send its first message whole (ms); an HTTP request head, from its first held packet. */
  helloMs?: number;
  /** Connections whose first message is being read at once, at most; past it the oldest is refused. */
  maxConnections?: number;
  /** HTTP connections open at once, at most; past it a new one is refused. */
  maxHttpConnections?: number;
  /** Packets held at once, at most, and per connection; past them the connection is refused. */
  maxHeld?: number;
  maxHeldPerConnection?: number;
  onDecision?(decision: WireDecision): void;
  onWarning?(message: string): void;
}

/** What the stream may hold before its ClientHello is read: the ClientHello's limit, its records' headers, some slack. */
export const STREAM_LIMIT = CLIENT_HELLO_LIMIT + 4 * 1024;
export const MAX_CONNECTIONS = 1024;
/** HTTP connections stay read for their whole life (a client keeps some open between requests). */
export const MAX_HTTP_CONNECTIONS = 4096;
/** Below the queue's own length (wire-queue.c's QUEUE_MAXLEN, 4096): past that the kernel drops. */
export const MAX_HELD = 3072;
/** A ClientHello or request head takes a few segments: TCP sends at most 10 before an acknowledgement, then retransmits. */
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

interface HttpConnection {
  key: string;
  destination: string;
  port: number;
  start: number;
  flow: HttpFlow;
  /** Runs while a packet is held: the head it is part of must be whole within the bound. */
  timer?: NodeJS.Timeout;
}

/** A decided connection's verdict for its late packets; a closed HTTP one lets through what it had let through. */
interface Decided {
  mark: number;
  start: number;
  until: number;
  passableSeq?: number;
}

export class FastPath {
  /** Connections whose first message is being read, oldest first. */
  private readonly reading = new Map<string, Connection>();
  /** HTTP connections, read at every packet until they end. */
  private readonly http = new Map<string, HttpConnection>();
  /** Decided connections: their verdict and until when it is kept, oldest first. */
  private readonly decided = new Map<string, Decided>();
  private held = 0;
  private warned = false;

  constructor(private readonly options: FastPathOptions) {}

  /** Connections whose first message is being read now. */
  get pending(): number {
    return this.reading.size;
  }

  /** HTTP connections open now. */
  get httpConnections(): number {
    return this.http.size;
  }

  /** Packets held now. */
  get heldPackets(): number {
    return this.held;
  }

  /** One packet (or notice) from the queue. */
  packet(p: QueuedPacket): void {
    const key = `${p.source} ${p.sourcePort} ${p.destination} ${p.destinationPort}`;
    let c = this.reading.get(key);
    let h = this.http.get(key);
    if (p.flags & TCP_FLAGS.syn) {
      const start = (p.seq + 1) >>> 0;
      const done = this.decided.get(key);
      // A retransmitted SYN keeps its connection; a new one on the same ports replaces one that ended.
      if (done && done.start !== start) this.decided.delete(key);
      if (h && h.start !== start) {
        this.forgetHttp(h);
        h = undefined;
      }
      if (!h && !(c ? c.start === start : done?.start === start)) c = this.open(key, p, start);
    }
    if (h) return this.httpPacket(h, p);
    if (p.id === 0) {
      if (c && (p.flags & (TCP_FLAGS.fin | TCP_FLAGS.rst)) !== 0) {
        // Closed before it sent a byte: no attempt to record (happy eyeballs closes the ones it does not use).
        if (c.held.length === 0) this.forget(c);
        else this.refuse(c, 'opaque', 'the client closed before its name could be read');
      }
      return;
    }
    if (!c) return this.late(key, p);
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
    const assembled = c.assembler.push(streamSeq(p), p.payload);
    if (assembled.kind === 'refused') return this.refuse(c, 'no-sni', assembled.detail);
    if (assembled.ready.length === 0) return;
    if (c.assembler.length === assembled.ready.length && assembled.ready[0] !== TLS_HANDSHAKE) return this.toHttp(c, p);
    c.reader ??= new ClientHelloReader();
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
    for (const h of this.http.values()) clearTimeout(h.timer);
    this.reading.clear();
    this.http.clear();
    this.decided.clear();
  }

  private get helloMs(): number {
    return this.options.helloMs ?? FIRST_BYTES_MS;
  }

  /** A packet of no connection being read: a decided one's late packet, or one whose opening was never seen. */
  private late(key: string, p: QueuedPacket): void {
    const d = this.decided.get(key);
    const done = d && d.until >= Date.now() ? d : undefined;
    if (done && done.passableSeq === undefined) return this.options.send(encodeVerdict(p.id, VERDICT.repeat, done.mark));
    // A closed HTTP connection's retransmission: what it let through, it lets through again.
    if (done && ((p.seq + p.payload.length - done.passableSeq!) | 0) <= 0) return this.options.send(encodeVerdict(p.id, VERDICT.accept));
    this.options.send(encodeVerdict(p.id, VERDICT.repeat, WIRE_MARK.refused));
    this.record(
      {
        reason: 'opaque',
        // Otherwise its opening was never seen (forgotten past the bound, or long decided): nothing to read it from.
        detail: done ? 'the client sent bytes after it closed the connection' : 'the fence did not see the connection open, or forgot it',
        address: p.destination,
        port: p.destinationPort,
      },
      true,
    );
  }

  /** The first byte is not TLS's: from here on the connection is read as HTTP requests, at every packet. */
  private toHttp(c: Connection, p: QueuedPacket): void {
    // Only this packet's bytes are read again, from the stream's start: those held before it (out
    // of order) are dropped, and TCP sends them again.
    this.drop(c.held.filter((id) => id !== p.id));
    this.held--;
    c.held = [];
    this.forget(c);
    const limit = this.options.maxHttpConnections ?? MAX_HTTP_CONNECTIONS;
    if (this.http.size >= limit) {
      this.warnFull(`${limit} HTTP connections are open at once`);
      c.held = [p.id];
      this.held++;
      return this.refuse(c, 'opaque', 'too many HTTP connections were open at once', true);
    }
    const h: HttpConnection = {
      key: c.key,
      destination: c.destination,
      port: c.port,
      start: c.start,
      flow: new HttpFlow(c.start, c.port, this.options.allows),
    };
    this.http.set(c.key, h);
    this.httpPacket(h, p);
  }

  private httpPacket(h: HttpConnection, p: QueuedPacket): void {
    if (p.id === 0) {
      if (p.flags & TCP_FLAGS.rst) return this.forgetHttp(h);
      if (p.flags & TCP_FLAGS.fin) return this.closeHttp(h);
      return;
    }
    const before = h.flow.holding;
    const step = h.flow.push(p.id, streamSeq(p), p.payload);
    if (step.kind === 'refused') {
      this.held -= before;
      return this.refuseHttp(h, step.held, step.reason, step.detail, false, step.name);
    }
    this.held += h.flow.holding - before;
    const verdicts = [
      ...(step.allow === undefined ? [] : [encodeVerdict(p.id, VERDICT.allow, step.allow)]),
      ...step.pass.map((id) => encodeVerdict(id, VERDICT.accept)),
      ...step.drop.map((id) => encodeVerdict(id, VERDICT.drop)),
    ];
    if (verdicts.length > 0) this.options.send(Buffer.concat(verdicts));
    const perConnection = this.options.maxHeldPerConnection ?? MAX_HELD_PER_CONNECTION;
    if (h.flow.holding > perConnection) return this.refuseHeld(h, 'host', `a request head came in more than ${perConnection} segments`);
    if (this.held > (this.options.maxHeld ?? MAX_HELD)) {
      this.warnFull(`${this.held - 1} packets are held at once`);
      return this.refuseHeld(h, 'opaque', 'too many packets were held at once', true);
    }
    if (h.flow.holding === 0) {
      clearTimeout(h.timer);
      h.timer = undefined;
    } else if (!h.timer) {
      h.timer = setTimeout(() => this.refuseHeld(h, 'host', `a request head was not whole within ${this.helloMs / 1000} s`), this.helloMs);
      h.timer.unref();
    }
    if (p.flags & TCP_FLAGS.rst) this.forgetHttp(h);
    else if (p.flags & TCP_FLAGS.fin) this.closeHttp(h);
  }

  /** The client's FIN: nothing new may follow, only what was let through, again. A head still incomplete never will be. */
  private closeHttp(h: HttpConnection): void {
    if (h.flow.holding > 0) return this.refuseHeld(h, 'host', 'the client closed before its request head was whole');
    this.forgetHttp(h);
    this.decide(h.key, { mark: 0, start: h.start, until: Date.now() + DECIDED_MS, passableSeq: h.flow.passableSeq });
  }

  /** Refuses an HTTP connection with the packets it holds (a bound, or the client's end). */
  private refuseHeld(h: HttpConnection, reason: WireReason, detail: string, always = false): void {
    const ids = h.flow.takeHeld();
    this.held -= ids.length;
    this.refuseHttp(h, ids, reason, detail, always);
  }

  private refuseHttp(h: HttpConnection, ids: number[], reason: WireReason, detail: string, always = false, name?: string): void {
    const enforced = always || this.options.mode === 'block';
    this.record({ reason, detail, address: h.destination, port: h.port, ...(name !== undefined ? { name } : {}) }, enforced);
    this.forgetHttp(h);
    this.settle(h.key, h.start, ids, enforced ? WIRE_MARK.refused : WIRE_MARK.checked);
  }

  /** Stops reading `h`; a packet it still held is dropped, never left in the queue. */
  private forgetHttp(h: HttpConnection): void {
    clearTimeout(h.timer);
    this.drop(h.flow.takeHeld());
    if (this.http.get(h.key) === h) this.http.delete(h.key);
  }

  /** Held packets dropped, no longer counted as held. */
  private drop(ids: number[]): void {
    if (ids.length === 0) return;
    this.options.send(Buffer.concat(ids.map((id) => encodeVerdict(id, VERDICT.drop))));
    this.held -= ids.length;
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

  /** Every held packet goes back with `mark`. */
  private release(c: Connection, mark: number): void {
    const ids = c.held;
    this.held -= ids.length;
    c.held = [];
    this.forget(c);
    this.settle(c.key, c.start, ids, mark);
  }

  /** A decided connection's held packets go back with `mark` (refused: only the first, which resets the connection; the rest are dropped). */
  private settle(key: string, start: number, ids: number[], mark: number): void {
    const verdicts = ids.map((id, i) =>
      mark !== WIRE_MARK.refused
        ? encodeVerdict(id, VERDICT.repeat, mark)
        : i === 0
          ? encodeVerdict(id, VERDICT.reset, mark)
          : encodeVerdict(id, VERDICT.drop),
    );
    if (verdicts.length > 0) this.options.send(Buffer.concat(verdicts));
    this.decide(key, { mark, start, until: Date.now() + DECIDED_MS });
  }

  private decide(key: string, d: Decided): void {
    this.decided.delete(key);
    this.decided.set(key, d);
    for (const old of this.decided.keys()) {
      if (this.decided.size <= DECIDED_LIMIT) break;
      this.decided.delete(old);
    }
  }

  /** Stops reading `c`; a packet it still held is dropped, never left in the queue. */
  private forget(c: Connection): void {
    clearTimeout(c.timer);
    this.drop(c.held);
    c.held = [];
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

/** Where a packet's payload starts in the stream: a SYN's own sequence number is the SYN's, its data follows. */
function streamSeq(p: QueuedPacket): number {
  return p.flags & TCP_FLAGS.syn ? (p.seq + 1) >>> 0 : p.seq;
}
