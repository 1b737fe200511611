// buildfence's version, in one place: package.json's, bundled into dist/ at build time.
import pkg from '../../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;
