// The end of the reader's drain: once the build has ended, one UDP packet from this process (at
// the Docker host's gateway address, or in a job container at the job container's address) to
// the holder, which the holder logs (and drops) after every packet the build sent. When its line
// comes through, the reader has everything; without it (an engine on another machine) the reader
// waits its fixed drain instead.
import { randomInt } from 'node:crypto';
import * as dgram from 'node:dgram';

export interface DrainMark {
  port: number;
  send(): Promise<void>;
}

/** A port for the mark's rule, chosen before the holder (and so its address) exists. */
export function pickMarkPort(): number {
  return randomInt(20_000, 60_000);
}

/** The mark, sent from `from` (the address the holder's rule expects it from: the resolver's) to the holder's address. */
export function drainMark(holder: string, port: number, from?: string): DrainMark {
  return {
    port,
    send: () =>
      new Promise<void>((resolve, reject) => {
        const socket = dgram.createSocket('udp4');
        socket.once('error', (err) => {
          socket.close();
          reject(err);
        });
        const send = () =>
          socket.send('buildfence drain mark', port, holder, (err) => {
            socket.close();
            if (err) reject(err);
            else resolve();
          });
        if (from) socket.bind({ address: from }, send);
        else send();
      }),
  };
}
