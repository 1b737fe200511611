// The holder's process, watched from outside: it starts the denied-attempt reader (tcpdump on the
// NFLOG groups), loads the rules and prints them back, then passes the reader's lines on for the
// rest of the run (firewall/holder-script.ts). Its output is attached before it starts, so
// the read-back and every logged packet arrive here.
import { PassThrough, type Readable } from 'node:stream';
import { LOADED_MARK, holderScript } from '../firewall/holder-script.js';
import { readerCommand, RECORDED_GROUPS } from '../report/nflog.js';
import { lastLine } from './cli.js';
import { NFLOG_GROUP } from '../firewall/ruleset.js';
import { attach, waitExit } from './engine.js';
import { SECCOMP_EXEC } from '../run/build.js';

/** The denied-attempt reader: the refused, the audited and the end-of-run mark's groups. */
export const READER_COMMAND = readerCommand([...RECORDED_GROUPS, NFLOG_GROUP.mark, NFLOG_GROUP.wire].sort((a, b) => a - b));

/** The holder container's entrypoint and command. */
export function holderCommand(): { entrypoint: string[]; cmd: string[] } {
  return { entrypoint: ['sh', '-c'], cmd: [holderScript(READER_COMMAND)] };
}

export class HolderOutput {
  /** The read-back; rejects with the reason when the load fails (the holder then exits). */
  readonly loaded: Promise<string>;
  /** What the holder prints after the read-back: the reader's packets and its messages. */
  readonly reader: { stdout: Readable; stderr: Readable; close(): void };

  /** `exitCode` is asked only when the output ends before the read-back: the load failed. */
  constructor(output: { stdout: Readable; stderr: Readable; close(): void }, holderImage: string, exitCode: () => Promise<number>) {
    const after = new PassThrough();
    this.reader = { stdout: after, stderr: output.stderr, close: () => output.close() };
    let stderr = '';
    output.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4096)));
    this.loaded = new Promise<string>((resolve, reject) => {
      let text = '';
      let done = false;
      const marker = `${LOADED_MARK}\n`;
      output.stdout.on('data', (d: Buffer) => {
        if (done) return void after.write(d);
        text += d.toString();
        const at = text.indexOf(marker);
        if (at < 0) return;
        done = true;
        resolve(text.slice(0, at));
        const rest = text.slice(at + marker.length);
        if (rest) after.write(rest);
      });
      output.stdout.on('end', () => {
        after.end();
        if (!done) {
          void exitCode().then(
            (code) => reject(loadFailure(holderImage, stderr, code)),
            () => reject(loadFailure(holderImage, stderr, undefined)),
          );
        }
      });
    });
    // Whoever needs the load's outcome awaits it; teardown must not see an unhandled rejection.
    this.loaded.catch(() => undefined);
  }

  /** Attaches to a created holder; call before starting it. */
  static async attach(holder: string, holderImage: string): Promise<HolderOutput> {
    return new HolderOutput(await attach(holder, false), holderImage, async () => (await waitExit(holder)).exitCode);
  }
}

/** Why the load ended before its read-back: what the holder said last, or its exit code. */
export function loadFailure(holderImage: string, stderr: string, exitCode: number | undefined): Error {
  // The reader started beside the load and may have spoken since: its lines are not the reason.
  const said = lastLine(
    stderr
      .split('\n')
      .filter((l) => !/^(tcpdump: |listening on )/.test(l))
      .join('\n'),
  );
  return new Error(
    `Loading the fence into the holder (image ${holderImage}) failed: ${said || `exit code ${exitCode ?? 'unknown'}`}. ` +
      'The build was not started. The holder image needs sh, ipset, iptables and ip6tables (with their -save and -restore), ' +
      `tcpdump and buildfence's seccomp filter program at ${SECCOMP_EXEC.inHolderImage}; buildfence's own image has them (scripts/build-holder-image).`,
  );
}
