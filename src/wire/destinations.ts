// Where each checked connection was going. The nat rule that sends a connection to the checker
// rewrites its destination, and the checker sees it in another network namespace (Docker: on
// the host; a Pod: as another user), so the original destination comes from the NFLOG line the
// kernel logs for the connection's first packet, just before the rewrite, keyed by the source
// address and port the checker then sees. Bounded: a flood of lines nobody takes is forgotten.

export interface Destination {
  address: string;
  port: number;
}

/** The most lines kept waiting for their connection. */
const LIMIT = 4096;

export class DestinationBook {
  private readonly noted = new Map<string, Destination[]>();
  private readonly waiting = new Map<string, (d: Destination) => void>();
  private size = 0;

  /** A logged first packet: `source`:`sourcePort` was going to `destination`. */
  note(source: string, sourcePort: number, destination: Destination): void {
    const key = `${source} ${sourcePort}`;
    const waiter = this.waiting.get(key);
    if (waiter) {
      this.waiting.delete(key);
      waiter(destination);
      return;
    }
    if (this.size >= LIMIT) this.forgetOldest();
    this.noted.set(key, [...(this.noted.get(key) ?? []), destination]);
    this.size++;
  }

  /** The destination of the connection from `source`:`sourcePort`; undefined when no line came within `timeoutMs`. */
  take(source: string, sourcePort: number, timeoutMs: number): Promise<Destination | undefined> {
    const key = `${source} ${sourcePort}`;
    const queue = this.noted.get(key);
    if (queue) {
      // A source port is reused only after its last connection ended: the oldest line is this one's.
      const d = queue.shift()!;
      this.size--;
      if (queue.length === 0) this.noted.delete(key);
      return Promise.resolve(d);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.waiting.get(key) === done) this.waiting.delete(key);
        resolve(undefined);
      }, timeoutMs);
      const done = (d: Destination) => {
        clearTimeout(timer);
        resolve(d);
      };
      this.waiting.set(key, done);
    });
  }

  private forgetOldest(): void {
    const [key, queue] = this.noted.entries().next().value as [string, Destination[]];
    queue.shift();
    this.size--;
    if (queue.length === 0) this.noted.delete(key);
  }
}
