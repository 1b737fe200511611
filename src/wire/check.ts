// The name check of one connection: its first bytes say TLS (a ClientHello) or HTTP/1.x (request
// heads); the name they carry must be one the policy allows on the connection's port. TLS is
// decided once, on the ClientHello; HTTP on every request head, before the head is passed on.
// Pure: the caller feeds the client's bytes and passes on what the check lets through.
import { ClientHelloReader } from './client-hello.js';
import { HttpRequestReader } from './http-request.js';

/** Why a connection was refused: the TLS name, no TLS name, the HTTP Host, or neither TLS nor HTTP. */
export type WireReason = 'sni' | 'no-sni' | 'host' | 'opaque';

export type WireStep =
  | { kind: 'more' }
  /** `forward`: the bytes that may go on now (possibly none). */
  | { kind: 'pass'; forward: Buffer; names: string[] }
  /** `name`: the name the connection asked for, when it named one. */
  | { kind: 'refused'; reason: WireReason; detail: string; name?: string };

/** Whether a name may be reached on a TCP port: some allow entry covers it there, no deny entry covers it. */
export type NamePolicy = (name: string, port: number) => boolean;

const TLS_HANDSHAKE = 0x16;

export class ConnectionCheck {
  private tls?: ClientHelloReader;
  private http?: HttpRequestReader;
  /** Once the ClientHello is allowed, the rest is TLS records the check cannot read: passed as they come. */
  private through = false;
  private held: Buffer[] = [];
  private ended?: Extract<WireStep, { kind: 'refused' }>;

  constructor(
    private readonly port: number,
    private readonly allows: NamePolicy,
  ) {}

  push(chunk: Buffer): WireStep {
    if (this.ended) return this.ended;
    if (this.through) return { kind: 'pass', forward: chunk, names: [] };
    if (!this.tls && !this.http) {
      if (chunk.length === 0) return { kind: 'more' };
      if (chunk[0] === TLS_HANDSHAKE) this.tls = new ClientHelloReader();
      else this.http = new HttpRequestReader();
    }
    return this.tls ? this.hello(chunk) : this.requests(chunk);
  }

  private hello(chunk: Buffer): WireStep {
    this.held.push(chunk);
    const verdict = this.tls!.push(chunk);
    if (verdict.kind === 'more') return verdict;
    if (verdict.kind === 'refused') return this.refuse({ kind: 'refused', reason: verdict.reason, detail: verdict.detail });
    if (!this.allows(verdict.name, this.port)) {
      return this.refuse({
        kind: 'refused',
        reason: 'sni',
        name: verdict.name,
        detail: `no entry allows ${verdict.name} on TCP port ${this.port}`,
      });
    }
    this.through = true;
    const forward = Buffer.concat(this.held);
    this.held = [];
    return { kind: 'pass', forward, names: [verdict.name] };
  }

  private requests(chunk: Buffer): WireStep {
    const step = this.http!.push(chunk);
    if (step.kind === 'refused') {
      return this.refuse({
        kind: 'refused',
        reason: step.reason,
        detail: step.detail,
        ...(step.host !== undefined ? { name: step.host } : {}),
      });
    }
    for (const head of step.heads) {
      if (!this.allows(head.host, this.port)) {
        return this.refuse({
          kind: 'refused',
          reason: 'host',
          name: head.host,
          detail: `no entry allows ${head.host} on TCP port ${this.port}`,
        });
      }
    }
    return { kind: 'pass', forward: step.ready, names: step.heads.map((h) => h.host) };
  }

  private refuse(step: Extract<WireStep, { kind: 'refused' }>): WireStep {
    this.ended = step;
    this.held = [];
    return step;
  }
}
