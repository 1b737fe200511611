import { it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

it('dist/ is a fresh bundle of src/ (run `npm run bundle` and commit dist/)', () => {
  const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'bf-dist-'));
  try {
    execFileSync(process.execPath, ['scripts/bundle.mjs', fresh], { cwd: root });
    const names = (dir: string) =>
      (fs.readdirSync(dir, { recursive: true }) as string[]).filter((n) => fs.statSync(path.join(dir, n)).isFile()).sort();
    assert.deepEqual(names(path.join(root, 'dist')), names(fresh));
    for (const name of names(fresh)) {
      const same = fs.readFileSync(path.join(root, 'dist', name)).equals(fs.readFileSync(path.join(fresh, name)));
      assert.ok(same, `dist/${name} is stale`);
    }
  } finally {
    fs.rmSync(fresh, { recursive: true, force: true });
  }
});
