import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A process that runs `body` with onCancel set up; resolves with its exit, its stderr and when it ended. */
function child(body: string, signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string; ms: number }> {
  const script = `
    import { onCancel } from './src/run/cancel.ts';
    const log = { warning: (m) => process.stderr.write(m + '\\n') };
    ${body}
    process.stderr.write('ready\\n');`;
  const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT });
  let stderr = '';
  let sent = 0;
  p.stderr.on('data', (d) => {
    stderr += d;
    if (!sent && stderr.includes('ready')) {
      sent = performance.now();
      p.kill(signal);
    }
  });
  return new Promise((resolve) => p.on('exit', (code) => resolve({ code, stderr, ms: performance.now() - sent })));
}

describe('onCancel', () => {
  it('a signal stops the build, refuses the next step, and exits with 128+signal once the run unwinds', async () => {
    const r = await child(
      `const cancel = onCancel(log, 'stopping the build', async () => process.stderr.write('stopped\\n'));
       setInterval(() => { try { cancel.check(); } catch (e) { process.stderr.write(e.message + '\\n'); cancel.done(); } }, 20);`,
      'SIGTERM',
    );
    assert.equal(r.code, 143, r.stderr);
    assert.match(r.stderr, /Received SIGTERM: stopping the build\.\nstopped\nCancelled by SIGTERM\./);
  });

  it('SIGINT exits 130; a run that never unwinds (a hung engine) still ends at the deadline', { timeout: 20_000 }, async () => {
    const r = await child(
      `onCancel(log, 'deleting the Pod', () => new Promise(() => undefined)); setInterval(() => undefined, 1000);`,
      'SIGINT',
    );
    assert.equal(r.code, 130, r.stderr);
    assert.ok(r.ms > 8_000 && r.ms < 10_000, `ended after ${r.ms} ms`);
  });
});
