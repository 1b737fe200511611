// The name checker of a Pod (on Docker and the runner, the fast path reads the holder's packet
// queue instead: wire/fast-path.ts): the nat rule sends every TCP connection to an address that
// only a name entry opened here. It reads the connection's first bytes (a TLS ClientHello, HTTP request heads),
// lets it through only when the name they carry is allowed on its port, and then connects to the
// connection's original destination itself and relays. It runs outside the build's network
// namespace (Docker: on the host, beside the resolver; a Pod: as the resolver's user), so the
// build cannot reach the checker's own way out.
import * as net from 'node:net';
import type { Mode } from '../run/entry.js';
import { ConnectionCheck, type NamePolicy, type WireReason } from './check.js';
import { WireDecisionLog, type WireDecision } from './decision-log.js';
import type { Destination, DestinationBook } from './destinations.js';

export interface CheckerOptions {
  mode: Mode;
  allows: NamePolicy;
  /** Where each connection was going (the NFLOG lines of their first packets). */
  destinations: DestinationBook;
  /** The names the resolver gave an address for (the report shows them beside a refusal). */
  namesOf(address: string): Iterable<string>;
  /** Addresses the checker never connects to (metadata, the Docker host): the nat rule leaves them to the filter. */
  guarded(address: string): boolean;
  /** How long a connection may stay silent before it is refused as opaque (ms). */
  firstBytesMs?: number;
  /** How long to wait for a connection's destination line (ms). */
  destinationMs?: number;
  /** Connections still being checked, at most; past it the oldest is refused to make room. */
  maxPending?: number;
  /** Connections relayed at once, at most (MAX_RELAYS), and how many of them with a buffer of their own (BUFFERED_RELAYS). */
  maxRelays?: number;
  bufferedRelays?: number;
  onWarning?(message: string): void;
  /** Where refusals are counted (the caller's); one of its own by default. */
  log?: WireDecisionLog;
  /** Every refusal as it is counted (a Pod's resolver prints them for the runtime). */
  onDecision?(decision: WireDecision): void;
}

export const FIRST_BYTES_MS = 5_000;
const DESTINATION_MS = 2_000;
const MAX_PENDING = 512;
const CONNECT_MS = 30_000;
/** Each buffered relay reads the destination's bytes into a buffer of this size, reused between reads. */
const RELAY_BUFFER = 256 * 1024;
/** Relays with a buffer of their own at once; past them a relay goes through streams (slower, no fixed memory). */
export const BUFFERED_RELAYS = 64;
/** Connections relayed at once, at most (each holds two sockets); past it a new connection is refused. */
export const MAX_RELAYS = 4096;
const ADDRESS_WAIT_MS = 5_000;
/**
 * Ports the checker listens on, consecutive, each the same. Connections from one source port to
 * two destinations, both sent to one checker port, would clash in the holder's conntrack, which
 * then gives the second another source port: its logged first packet would not be found.
 * Given a range, the nat rule takes the next port instead (measured: 5 of 324 connections lost
 * their line with one port).
 */
export const CHECKER_PORTS = 8;
const LISTEN_ATTEMPTS = 20;

interface Pending {
  socket: net.Socket;
  refuse(reason: WireReason, detail: string): void;
}

export class Checker {
  private readonly log: WireDecisionLog;
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();
  /** Connections not decided yet, oldest first. */
  private readonly pending = new Set<Pending>();
  private clients = new Set<string>();
  private serving = false;
  /** Connections being relayed, and how many of them hold a buffer; the buffers of ended ones, for the next. */
  private relays = 0;
  private buffered = 0;
  private readonly spare: Buffer[] = [];
  private refusedFull = 0;

  constructor(private readonly options: CheckerOptions) {
    this.log = options.log ?? new WireDecisionLog();
  }

  /**
   * Listens on CHECKER_PORTS consecutive ports from `port` (or from a free one) on every address;
   * returns the first. The nat rule spreads connections over them only where one port would clash.
   */
  async listen(addresses: string[], port = 0): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const opened: net.Server[] = [];
      try {
        let base = port;
        for (const address of addresses) {
          for (let i = 0; i < CHECKER_PORTS; i++) {
            const server = await this.listenOne(address, base === 0 ? 0 : base + i);
            opened.push(server);
            if (base === 0) base = (server.address() as net.AddressInfo).port;
          }
        }
        this.servers.push(...opened);
        return base;
      } catch (err) {
        await Promise.all(opened.map((s) => new Promise((r) => s.close(r))));
        // A free first port may have taken ports after it: another try, from another free one.
        const taken = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (port !== 0 || !taken || attempt >= LISTEN_ATTEMPTS) throw err;
      }
    }
  }

  private async listenOne(address: string, port: number): Promise<net.Server> {
    const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (s) => this.accept(s));
    // A network made moments ago may still be checking its new IPv6 address (duplicate address
    // detection): it cannot be bound until then, for a second or two.
    for (let waited = 0; ; waited += 100) {
      const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
        server.once('error', resolve);
        server.listen(port, address, () => {
          server.off('error', resolve);
          resolve(undefined);
        });
      });
      if (!err) break;
      if (err.code === 'EADDRINUSE')
        throw Object.assign(new Error(`Cannot start the name checker on ${address} port ${port}: ${err.message}`), { code: err.code });
      if (err.code !== 'EADDRNOTAVAIL' || waited >= ADDRESS_WAIT_MS)
        throw new Error(`Cannot start the name checker on ${address}: ${err.message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    server.on('error', (err) => this.options.onWarning?.(`name checker: ${err.message}`));
    return server;
  }

  /** Starts checking: only connections from the holder's addresses are served. */
  serve(clients: string[]): void {
    this.clients = new Set(clients);
    this.serving = true;
  }

  decisionLog(): WireDecision[] {
    return this.log.decisions();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  private accept(client: net.Socket): void {
    const source = (client.remoteAddress ?? '').replace(/^::ffff:/, '');
    if (!this.serving || !this.clients.has(source)) {
      client.destroy();
      return;
    }
    if (this.relays >= (this.options.maxRelays ?? MAX_RELAYS)) {
      // Not a name refused: the checker is full. Said once; the build sees the connection reset.
      if (this.refusedFull++ === 0)
        this.options.onWarning?.(
          `name checker: ${this.relays} connections are relayed at once, the most it holds; new ones are refused until some end`,
        );
      client.resetAndDestroy();
      return;
    }
    this.track(client);
    const sourcePort = client.remotePort ?? 0;
    const block = this.options.mode === 'block';
    let destination: Destination | undefined;
    let decided = false;
    const held: Buffer[] = [];
    const settle = () => {
      decided = true;
      clearTimeout(firstBytes);
      this.pending.delete(pending);
    };
    const refuse = (reason: WireReason, detail: string, name?: string) => {
      if (decided) return;
      settle();
      if (!destination) return void client.resetAndDestroy();
      this.record({ reason, detail, name, ...destination }, block);
      if (block) return void client.resetAndDestroy();
      // Audit mode: recorded, and let through unchecked from here on.
      client.removeAllListeners('data');
      this.relay(client, destination, Buffer.concat(held), true);
    };
    const firstBytes = setTimeout(
      () => refuse('opaque', 'the client sent nothing to read a name from'),
      this.options.firstBytesMs ?? FIRST_BYTES_MS,
    );
    const pending: Pending = { socket: client, refuse };
    this.admit(pending);
    client.on('end', () => {
      // A connection closed before it sent a byte tried to reach nothing (happy eyeballs closes
      // the attempts it does not use): not an attempt to record. One closed mid-way is.
      if (held.length === 0 && !decided) {
        settle();
        return void client.destroy();
      }
      refuse('opaque', 'the client closed before its name could be read');
    });

    void this.options.destinations.take(source, sourcePort, this.options.destinationMs ?? DESTINATION_MS).then((d) => {
      if (decided) return;
      if (!d || this.options.guarded(d.address)) {
        settle();
        this.options.onWarning?.(
          d
            ? `name checker: a connection to guarded address ${d.address} reached the checker; refused`
            : `name checker: no destination was logged for the connection from port ${sourcePort}; refused`,
        );
        return void client.resetAndDestroy();
      }
      destination = d;
      const check = new ConnectionCheck(d.port, this.options.allows);
      const first = (chunk: Buffer) => {
        held.push(chunk);
        const step = check.push(chunk);
        if (step.kind === 'more') return;
        if (step.kind === 'refused') return refuse(step.reason, step.detail, step.name);
        settle();
        client.off('data', first);
        const upstream = this.relay(client, d, step.forward, false);
        // TLS: the rest is encrypted and passes as it is; HTTP: every further request head is checked.
        client.on('data', (more: Buffer) => this.further(client, upstream, check, d, more));
      };
      client.on('data', first);
      client.resume();
    });
  }

  /** Bytes after the first pass: what the check lets through goes on, a refused request ends the connection (block). */
  private further(client: net.Socket, upstream: net.Socket, check: ConnectionCheck, d: Destination, chunk: Buffer): void {
    const step = check.push(chunk);
    if (step.kind === 'more') return;
    if (step.kind === 'pass') {
      if (step.forward.length > 0 && !upstream.write(step.forward)) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
      return;
    }
    this.record({ reason: step.reason, detail: step.detail, name: step.name, ...d }, this.options.mode === 'block');
    client.removeAllListeners('data');
    if (this.options.mode === 'block') {
      client.resetAndDestroy();
      upstream.destroy();
      return;
    }
    upstream.write(chunk);
    client.pipe(upstream);
  }

  /** Connects to the destination, sends what the check let through, and relays both ways. */
  private relay(client: net.Socket, destination: Destination, first: Buffer, unchecked: boolean): net.Socket {
    const buffer =
      this.buffered < (this.options.bufferedRelays ?? BUFFERED_RELAYS)
        ? (this.spare.pop() ?? Buffer.allocUnsafeSlow(RELAY_BUFFER))
        : undefined;
    const upstream: net.Socket = net.connect({
      host: destination.address,
      port: destination.port,
      noDelay: true,
      ...(buffer ? { onread: { buffer, callback: this.relayRead(client, () => upstream) } } : {}),
    });
    if (!buffer) upstream.pipe(client, { end: false });
    this.relays++;
    if (buffer) this.buffered++;
    let open = 2;
    const ended = () => {
      if (--open > 0) return;
      // Both sockets are closed: no write still holds the buffer, the next relay may take it.
      this.relays--;
      if (buffer) {
        this.buffered--;
        this.spare.push(buffer);
      }
    };
    client.once('close', ended);
    upstream.once('close', ended);
    upstream.on('end', () => client.end());
    this.track(upstream);
    upstream.setTimeout(CONNECT_MS, () => upstream.destroy());
    upstream.once('connect', () => upstream.setTimeout(0));
    if (first.length > 0) upstream.write(first);
    if (unchecked) client.pipe(upstream);
    client.on('end', () => upstream.end());
    upstream.on('error', () => client.resetAndDestroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    client.resume();
    return upstream;
  }

  /**
   * The destination's bytes, read into the relay's buffer, written to the client: no buffer per
   * read to allocate and collect (measured: about 1.5x the rate of pipe()). A write the kernel
   * took at once (the usual case) frees the buffer for the next read; one it did not stops the
   * reads until it is done, so nothing is overwritten before it was sent.
   */
  private relayRead(client: net.Socket, upstream: () => net.Socket): (n: number, b: Buffer) => boolean {
    let waiting = false;
    const written = () => {
      if (!waiting) return;
      waiting = false;
      upstream().resume();
    };
    return (n, b) => {
      client.write(b.subarray(0, n), written);
      if (client.writableLength === 0) return true;
      waiting = true;
      return false;
    };
  }

  private record(d: { reason: WireReason; detail: string; name?: string; address: string; port: number }, enforced: boolean): void {
    const row = this.log.refusal(d, enforced, (a) => this.options.namesOf(a));
    this.options.onDecision?.(row);
  }

  /** A new connection to check; past the bound the oldest undecided one is refused, so a flood of silent ones cannot crowd out the rest. */
  private admit(p: Pending): void {
    const limit = this.options.maxPending ?? MAX_PENDING;
    while (this.pending.size >= limit) {
      const oldest = this.pending.values().next().value as Pending;
      oldest.refuse('opaque', 'the client sent nothing while newer connections waited');
    }
    this.pending.add(p);
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
  }
}
