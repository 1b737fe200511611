import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { holderSteps, isPinned, localTag, parseImageRef, prefetchable } from '../../src/engine/holder-source.js';

const digest = `sha256:${'0f'.repeat(32)}`;
const pinned = `ghcr.io/buildfence/buildfence-holder:1.2.0@${digest}`;

describe('image references', () => {
  for (const [ref, parsed] of [
    ['buildfence/holder:0.1.0', { name: 'buildfence/holder', tag: '0.1.0', digest: undefined }],
    [pinned, { name: 'ghcr.io/buildfence/buildfence-holder', tag: '1.2.0', digest }],
    [`127.0.0.1:5000/h@${digest}`, { name: '127.0.0.1:5000/h', tag: undefined, digest }],
    ['127.0.0.1:5000/h', { name: '127.0.0.1:5000/h', tag: undefined, digest: undefined }],
    ['ubuntu', { name: 'ubuntu', tag: undefined, digest: undefined }],
  ] as const) {
    it(`parses ${ref}`, () => assert.deepEqual(parseImageRef(ref), parsed));
  }

  it('is pinned only by a full sha256 digest', () => {
    assert.equal(isPinned(pinned), true);
    assert.equal(isPinned('buildfence/holder:0.1.0'), false);
    assert.equal(isPinned('h@sha256:abc'), false);
    assert.equal(isPinned(`h@sha512:${'0f'.repeat(64)}`), false);
  });

  it("a local build is tagged with the reference's name and tag", () => {
    assert.equal(localTag(pinned), 'ghcr.io/buildfence/buildfence-holder:1.2.0');
    assert.equal(localTag(`127.0.0.1:5000/h@${digest}`), '127.0.0.1:5000/h');
  });
});

describe('where the holder image comes from', () => {
  const cases: Array<[string, string, 'missing' | 'never', boolean, string[]]> = [
    ['the pinned default: pulled, built only when the pull fails', pinned, 'missing', true, ['present', 'local-build', 'pull', 'build']],
    ['the pinned default, pull never: the engine or a build', pinned, 'never', true, ['present', 'local-build', 'build']],
    [
      'a default by tag alone: never pulled (anyone could publish the name)',
      'buildfence/holder:0.1.0',
      'missing',
      true,
      ['present', 'build'],
    ],
    ["the user's image: pulled, never built", 'corp.example/holder:3', 'missing', false, ['present', 'pull']],
    ["the user's pinned image: pulled, never built, no stand-in", `corp.example/holder:3@${digest}`, 'missing', false, ['present', 'pull']],
    ["the user's image, pull never: only the engine's", 'corp.example/holder:3', 'never', false, ['present']],
  ];
  for (const [what, image, pull, isDefault, steps] of cases) {
    it(what, () => assert.deepEqual(holderSteps(image, { pull, isDefault }), steps));
  }
});

describe('the pre step prefetches', () => {
  it('a pinned holder image on Docker where pulls are allowed, nothing else', () => {
    assert.equal(prefetchable(pinned, 'missing', 'auto'), true);
    assert.equal(prefetchable(pinned, 'missing', 'docker'), true);
    assert.equal(prefetchable(pinned, 'never', 'auto'), false);
    assert.equal(prefetchable(pinned, 'missing', 'kubernetes'), false);
    // A tag could be rebuilt by an earlier step of the job; a pull finishing after it would replace it.
    assert.equal(prefetchable('corp.example/holder:3', 'missing', 'docker'), false);
  });
});
