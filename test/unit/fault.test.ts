import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A process that runs `body` with onFault set up; resolves with its exit code and stderr. */
function child(body: string): Promise<{ code: number | null; stderr: string }> {
  const script = `
    import { onFault } from './src/run/fault.ts';
    const log = { warning: (m) => process.stderr.write('warning: ' + m + '\\n'), debug: () => undefined };
    ${body}`;
  const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT });
  let stderr = '';
  p.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => p.on('exit', (code) => resolve({ code, stderr })));
}

describe('onFault', () => {
  it('the first uncaught exception or unhandled rejection stops the build once, fails the next step, and the process lives on', async () => {
    const r = await child(`
      const fault = onFault(log, async () => process.stderr.write('stopped\\n'));
      setImmediate(() => { throw new Error('first'); });
      setTimeout(() => void Promise.reject(new Error('second')), 50);
      setTimeout(() => {
        try { fault.check(); } catch (e) { process.stderr.write('check: ' + e.message + '\\n'); }
        process.stderr.write('reason: ' + fault.reason() + '\\n');
        fault.done();
        process.exit(0);
      }, 150);`);
    assert.equal(r.code, 0, r.stderr);
    const reason = 'buildfence failed in its own process: first. The build was stopped and the evidence recorded until then is kept.';
    assert.equal(r.stderr, `warning: ${reason}\nstopped\ncheck: ${reason}\nreason: ${reason}\n`);
  });

  it("after done(), a fault is Node's again: the process ends", async () => {
    const r = await child(`
      const fault = onFault(log, async () => undefined);
      fault.done();
      setImmediate(() => { throw new Error('late'); });
      setTimeout(() => process.exit(0), 500);`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error: late/);
  });
});
