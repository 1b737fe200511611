// buildfence's version, in one place: package.json's, bundled into dist/ at build time (a release
// tag must match it: scripts/release.ts checks).
import pkg from '../../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;
