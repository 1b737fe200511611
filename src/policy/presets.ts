// Named bundles of allowlist entries for common ecosystems, written `preset:NAME` in a policy's
// allow or deny list and in the allowlist input. Data only: names and ports, never an address,
// so that the resolver decides what a name means at run time. Each entry says why it is needed,
// so that a reviewer can drop what a build does not use.

export interface PresetEntry {
  /** An allowlist entry (src/policy/allowlist.ts grammar). */
  entry: string;
  why: string;
}

export interface Preset {
  description: string;
  entries: PresetEntry[];
}

export const PRESETS: Readonly<Record<string, Preset>> = {
  github: {
    description: 'git over HTTPS, the API, archives and release downloads from github.com',
    entries: [
      { entry: 'github.com:443', why: 'git clone and fetch over HTTPS, and the web URLs that release downloads start from' },
      { entry: 'api.github.com:443', why: 'the REST and GraphQL API (gh, release look-ups, setup tools that resolve versions)' },
      { entry: 'codeload.github.com:443', why: 'source archives: github.com/OWNER/REPO/archive/... redirects here' },
      { entry: 'objects.githubusercontent.com:443', why: 'release assets and Git LFS objects are redirected here' },
      { entry: 'release-assets.githubusercontent.com:443', why: 'newer release asset downloads are redirected here' },
      { entry: 'raw.githubusercontent.com:443', why: 'raw file downloads (install scripts, single files from a repository)' },
    ],
  },
  npm: {
    description: 'the public npm registry',
    entries: [
      { entry: 'registry.npmjs.org:443', why: 'package metadata and tarballs for npm, pnpm and Yarn 2+' },
      { entry: 'registry.yarnpkg.com:443', why: 'Yarn 1 and its lockfiles address the npm registry by this name' },
    ],
  },
  pypi: {
    description: 'the Python Package Index',
    entries: [
      { entry: 'pypi.org:443', why: 'the package index pip, uv and Poetry read (https://pypi.org/simple)' },
      { entry: 'files.pythonhosted.org:443', why: 'wheels and source distributions are served from here' },
    ],
  },
  'maven-central': {
    description: 'Maven Central',
    entries: [
      { entry: 'repo.maven.apache.org:443', why: "Maven's and Gradle's default URL for Maven Central" },
      { entry: 'repo1.maven.org:443', why: 'the same repository under its older name, still written in many builds and POMs' },
    ],
  },
  gradle: {
    description: 'the Gradle wrapper and plugin portal (add maven-central for dependencies)',
    entries: [
      { entry: 'services.gradle.org:443', why: "the wrapper's distributionUrl points here" },
      { entry: 'downloads.gradle.org:443', why: 'services.gradle.org redirects distribution downloads here' },
      { entry: 'plugins.gradle.org:443', why: 'the Gradle Plugin Portal, where plugins { id(...) } are resolved' },
      { entry: 'plugins-artifacts.gradle.org:443', why: 'the plugin portal redirects artifact downloads here' },
    ],
  },
  'docker-hub': {
    description: 'pulling images from Docker Hub',
    entries: [
      { entry: 'registry-1.docker.io:443', why: 'the registry API: manifests and blob requests' },
      { entry: 'auth.docker.io:443', why: 'the token service every pull asks first, even for public images' },
      { entry: 'production.cloudflare.docker.com:443', why: 'image layers (blobs) are redirected to this CDN' },
    ],
  },
  debian: {
    description: "Debian's package archive for apt",
    entries: [
      { entry: 'deb.debian.org:80', why: "the default mirror in Debian images' apt sources, over plain HTTP (apt checks signatures)" },
      { entry: 'deb.debian.org:443', why: 'the same mirror when sources use https://' },
      { entry: 'security.debian.org:80', why: 'security updates, as older releases and some images name them' },
    ],
  },
  ubuntu: {
    description: "Ubuntu's package archive for apt",
    entries: [
      {
        entry: 'archive.ubuntu.com:80',
        why: "the default archive in Ubuntu images' apt sources (amd64), over plain HTTP (apt checks signatures)",
      },
      { entry: 'security.ubuntu.com:80', why: 'security updates (amd64)' },
      { entry: 'ports.ubuntu.com:80', why: 'the archive and security updates for arm64 and other non-x86 architectures' },
    ],
  },
  rubygems: {
    description: 'RubyGems.org for gem and Bundler',
    entries: [
      { entry: 'rubygems.org:443', why: 'the gem source (source "https://rubygems.org") and gem downloads' },
      { entry: 'index.rubygems.org:443', why: "Bundler's compact index (/versions, /info)" },
    ],
  },
  crates: {
    description: 'crates.io for Cargo',
    entries: [
      { entry: 'index.crates.io:443', why: "Cargo's sparse index, the default since Cargo 1.70" },
      { entry: 'static.crates.io:443', why: 'crate downloads' },
      { entry: 'crates.io:443', why: 'the API (cargo search, publish) and the download URL older Cargo versions use' },
    ],
  },
  'go-proxy': {
    description: "Go's module proxy and checksum database",
    entries: [
      { entry: 'proxy.golang.org:443', why: 'the default GOPROXY: module zips and versions, and toolchain downloads' },
      { entry: 'sum.golang.org:443', why: 'the default GOSUMDB: go verifies every new module against it' },
    ],
  },
};

export function presetNames(): string[] {
  return Object.keys(PRESETS).sort();
}
