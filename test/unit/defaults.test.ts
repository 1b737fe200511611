// action.yml's defaults and the code's (src/run/defaults.ts) are one set: every input, the images
// (before a release and after scripts/release.ts pins them by digest), and the version in them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import yaml from 'js-yaml';
import { AGENT_IMAGE, HOLDER_IMAGE, INPUT_DEFAULTS } from '../../src/run/defaults.js';
import { VERSION } from '../../src/run/version.js';
import { parseImageRef } from '../../src/engine/holder-source.js';
import { pinImages } from '../../scripts/release.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');
type Action = { inputs: Record<string, { default?: string; required?: boolean }> };
const pkg = JSON.parse(read('package.json')) as { version: string };

/** action.yml's default of every input but `run`, '' where it writes none. */
function writtenDefaults(actionYml: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries((yaml.load(actionYml) as Action).inputs)
      .filter(([name]) => name !== 'run')
      .map(([name, input]) => [name, input.default ?? '']),
  );
}

describe('defaults', () => {
  it("every input's default in action.yml is the code's, and the code has none action.yml lacks", () => {
    assert.deepEqual(writtenDefaults(read('action.yml')), INPUT_DEFAULTS);
  });

  it('the images are the ones the code falls back to, tagged with the version', () => {
    assert.equal(INPUT_DEFAULTS['holder-image'], HOLDER_IMAGE);
    assert.equal(INPUT_DEFAULTS['agent-image'], AGENT_IMAGE);
    for (const image of [HOLDER_IMAGE, AGENT_IMAGE]) assert.equal(parseImageRef(image).tag, pkg.version, image);
  });

  it('the version is set once, in package.json: the code and `buildfence --version` read it from there', () => {
    assert.equal(VERSION, pkg.version);
    const printed = execFileSync(process.execPath, [path.join(root, 'dist/cli.js'), '--version'], { encoding: 'utf8' });
    assert.equal(printed, `buildfence ${pkg.version}\n`);
  });

  it('the offline image builds tag what action.yml names (without a digest)', () => {
    for (const [script, input] of [
      ['scripts/build-holder-image', 'holder-image'],
      ['scripts/build-agent-image', 'agent-image'],
    ]) {
      assert.match(read(script), new RegExp(`sed -n '/\\^  ${input}:\\$/,/\\^    default:/s/\\^    default: //p' "\\$repo/action.yml"`));
    }
  });

  it('after the release pins the images by digest, action.yml and the code still agree', async () => {
    const digest = (c: string) => `sha256:${c.repeat(64)}`;
    const images = {
      holder: `ghcr.io/buildfence/buildfence-holder:${pkg.version}@${digest('a')}`,
      agent: `ghcr.io/buildfence/buildfence-agent:${pkg.version}@${digest('b')}`,
    };
    const pinned = pinImages({ actionYml: read('action.yml'), defaults: read('src/run/defaults.ts') }, images);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bf-pinned-'));
    try {
      const file = path.join(dir, 'defaults.ts');
      fs.writeFileSync(file, pinned.defaults);
      const code = (await import(pathToFileURL(file).href)) as {
        INPUT_DEFAULTS: Record<string, string>;
        HOLDER_IMAGE: string;
        AGENT_IMAGE: string;
      };
      assert.equal(code.HOLDER_IMAGE, images.holder);
      assert.equal(code.AGENT_IMAGE, images.agent);
      assert.deepEqual(writtenDefaults(pinned.actionYml), code.INPUT_DEFAULTS);
      assert.deepEqual({ ...code.INPUT_DEFAULTS, 'holder-image': HOLDER_IMAGE, 'agent-image': AGENT_IMAGE }, INPUT_DEFAULTS);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
