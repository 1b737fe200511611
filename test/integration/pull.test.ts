// Where the holder image comes from (issue 17), against a local registry on loopback
// (test/integration/registry.ts): a pinned image absent from the engine is pulled by digest,
// never built; without a registry the default falls back to a build on the runner, which later
// steps reuse; a failure says what was tried and how to provide the image offline; the pre step
// (the bundled dist/pre.js) starts the pull in the background and leaves the image present. The
// fallback builds run a Dockerfile whose base image is already on the engine, so no build
// reaches for a registry off the machine.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ensureHolderImage } from '../../src/engine/holder-image.js';
import type { Log } from '../../src/run/log.js';
import { HOLDER_IMAGE, LOOPBACK_UPSTREAM, PROBE_IMAGE, ROOT, cli, dockerText, requireEngine, until, workspace } from './harness.js';
import { startRegistry, uniqueCopy, type LocalRegistry } from './registry.js';

const run = promisify(execFile);
const LABEL = 'buildfence-test=1';
const tag = randomBytes(4).toString('hex');

const holder = (holderImage: string, pull: 'missing' | 'never') => ({ holderImage, pull, via: 'action' as const });

function recordingLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(m),
    warning: (m) => lines.push(`warning: ${m}`),
    debug: () => undefined,
    group: (_name, fn) => fn(),
    untrusted: (fn) => fn(() => undefined),
  };
}

async function present(ref: string): Promise<boolean> {
  return dockerText(['image', 'inspect', '--format', '{{.Id}}', ref]).then(
    () => true,
    () => false,
  );
}

/** A build context whose Dockerfile starts from an image the engine has: built offline. */
async function context(from: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bf-holder-ctx-'));
  await fs.writeFile(path.join(dir, 'Dockerfile'), `FROM ${from}\nLABEL buildfence-test=1 buildfence-test.fallback=${tag}\n`);
  return dir;
}

describe('the holder image: pulled by digest, built only as the fallback', () => {
  let registry: LocalRegistry;
  /** Pushed to the registry, absent from the engine. */
  let pinned: string;
  const removeAfter: string[] = [];
  const dirs: string[] = [];

  before(async () => {
    await requireEngine();
    registry = await startRegistry(LABEL);
    await uniqueCopy(HOLDER_IMAGE, `buildfence-test/holder-copy:${tag}`);
    pinned = await registry.push(`buildfence-test/holder-copy:${tag}`, `buildfence/holder:${tag}`);
    removeAfter.push(pinned, `${registry.host}/buildfence/holder:${tag}`);
  });

  after(async () => {
    await registry?.stop();
    for (const image of removeAfter) await dockerText(['image', 'rm', image]).catch(() => '');
    for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
  });

  it('a pinned default absent from the engine is pulled, not built; the next step finds it present', async () => {
    assert.equal(await present(pinned), false);
    const log = recordingLog();
    const ctx = await context(`${registry.host}/nothing-to-build-from:1`);
    dirs.push(ctx);
    const id = await ensureHolderImage(holder(pinned, 'missing'), log, { defaultImage: pinned, buildContext: ctx });
    assert.equal(id, await dockerText(['image', 'inspect', '--format', '{{.Id}}', pinned]));
    assert.match(log.lines.join('\n'), /pulling it by digest/);
    assert.doesNotMatch(log.lines.join('\n'), /building/i);

    const again = recordingLog();
    assert.equal(await ensureHolderImage(holder(pinned, 'missing'), again, { defaultImage: pinned, buildContext: ctx }), id);
    assert.deepEqual(again.lines, []);
  });

  it('the CLI runs a fenced step with a holder image pulled by digest from the registry', async () => {
    const copy = `buildfence-test/holder-copy2:${tag}`;
    await uniqueCopy(HOLDER_IMAGE, copy);
    const ref = await registry.push(copy, `buildfence/holder2:${tag}`);
    removeAfter.push(ref);
    const ws = await workspace();
    dirs.push(ws);
    const r = await cli(
      [
        'run',
        '--grade',
        'release',
        '--holder-image',
        ref,
        '--image',
        PROBE_IMAGE,
        '--dns-upstream',
        LOOPBACK_UPSTREAM,
        '--',
        'echo fenced',
      ],
      ws,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /fenced/);
    assert.equal(await present(ref), true);
  });

  it('without a registry, the pinned default is built on the runner under its tag, and later steps reuse that build', async () => {
    const offline = `127.0.0.1:9/buildfence/holder:${tag}@${pinned.slice(pinned.indexOf('@') + 1)}`;
    const built = `127.0.0.1:9/buildfence/holder:${tag}`;
    removeAfter.push(built);
    const ctx = await context(HOLDER_IMAGE);
    dirs.push(ctx);
    const log = recordingLog();
    const id = await ensureHolderImage(holder(offline, 'missing'), log, { defaultImage: offline, buildContext: ctx });
    const text = log.lines.join('\n');
    assert.match(text, /pulling it by digest/);
    assert.match(text, /could not be pulled/);
    assert.match(text, new RegExp(`building it from .*as ${built.replace(/[.:/]/g, '\\$&')}`));
    assert.equal(id, await dockerText(['image', 'inspect', '--format', '{{.Id}}', built]));
    assert.equal(await dockerText(['image', 'inspect', '--format', '{{index .Config.Labels "buildfence-test.fallback"}}', built]), tag);

    // The next step: the local build stands in, and nothing is pulled (the registry is still absent).
    const next = recordingLog();
    assert.equal(await ensureHolderImage(holder(offline, 'missing'), next, { defaultImage: offline, buildContext: ctx }), id);
    assert.doesNotMatch(next.lines.join('\n'), /pulling/);
    assert.match(next.lines.join('\n'), /built on this machine/);
  });

  it('when the pull and the build both fail, the error says what was tried and how to provide the image offline', async () => {
    const missing = `127.0.0.1:9/buildfence/holder:none-${tag}@sha256:${'0'.repeat(64)}`;
    const ctx = await context('127.0.0.1:9/no-base:1');
    dirs.push(ctx);
    await assert.rejects(
      ensureHolderImage(holder(missing, 'missing'), recordingLog(), { defaultImage: missing, buildContext: ctx }),
      (err: Error) => {
        assert.match(err.message, new RegExp(`holder image ${missing.replace(/[.:/@]/g, '\\$&')}`));
        assert.match(err.message, /not on the Docker engine/);
        assert.match(err.message, /docker pull failed: .*127\.0\.0\.1:9/);
        assert.match(err.message, /building it from .*Dockerfile failed/);
        assert.match(err.message, /scripts\/build-holder-image/);
        assert.match(err.message, /docker load/);
        assert.match(err.message, /input 'holder-image'/);
        return true;
      },
    );
  });

  it("a user's pinned image that cannot be pulled is never built", async () => {
    const theirs = `127.0.0.1:9/corp/holder:1@sha256:${'1'.repeat(64)}`;
    await assert.rejects(ensureHolderImage(holder(theirs, 'missing'), recordingLog()), (err: Error) => {
      assert.match(err.message, /Cannot pull the holder image/);
      assert.doesNotMatch(err.message, /Dockerfile/);
      return true;
    });
    await assert.rejects(ensureHolderImage(holder(theirs, 'never'), recordingLog()), /input 'pull' is 'never'/);
  });

  it("the action's pre step (dist/pre.js) pulls the pinned holder image in the background and returns at once", async () => {
    const copy = `buildfence-test/holder-copy3:${tag}`;
    await uniqueCopy(HOLDER_IMAGE, copy);
    const ref = await registry.push(copy, `buildfence/holder3:${tag}`);
    removeAfter.push(ref);
    const temp = await fs.mkdtemp(path.join(os.tmpdir(), 'bf-prefetch-'));
    dirs.push(temp);
    const env = { ...process.env, RUNNER_TEMP: temp, 'INPUT_HOLDER-IMAGE': ref, INPUT_PULL: 'missing', INPUT_RUNTIME: 'auto' };
    const started = Date.now();
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'dist/pre.js')], { env });
    assert.match(stdout, new RegExp(`Fetching the holder image ${ref.replace(/[.:/@]/g, '\\$&')} in the background`));
    await until(() => present(ref), 30_000);
    const log = await fs.readFile(path.join(temp, 'buildfence-prefetch.log'), 'utf8');
    assert.match(log, new RegExp(ref.slice(ref.indexOf('@') + 1)));
    // A step that comes after finds the image; one that came during the pull would have joined it.
    assert.equal(
      await ensureHolderImage(holder(ref, 'missing'), recordingLog()),
      await dockerText(['image', 'inspect', '--format', '{{.Id}}', ref]),
    );
    assert.ok(Date.now() - started < 30_000);

    // Nothing is fetched for a holder image by tag alone, or with pull never.
    for (const inputs of [{ 'INPUT_HOLDER-IMAGE': copy }, { INPUT_PULL: 'never' }]) {
      const quiet = await run(process.execPath, [path.join(ROOT, 'dist/pre.js')], { env: { ...env, ...inputs } });
      assert.equal(quiet.stdout, '');
    }
  });
});
