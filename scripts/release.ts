// The release workflow's steps that read or change the repository (.github/workflows/release.yml):
//   check TAG           TAG is v<package.json's version> and CHANGELOG.md has that version's
//                       section; prints version= and major= lines for $GITHUB_OUTPUT
//   notes VERSION       that section's text: the GitHub release's notes
//   pin HOLDER AGENT    the pushed images (name:tag@sha256:...) as the holder-image and
//                       agent-image defaults, in action.yml and in src/run/defaults.ts
// The pure functions are exported for the unit tests; run as `node --import tsx scripts/release.ts`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const SEMVER = /^(\d+)\.(\d+)\.(\d+)$/;

/** The text under `## [VERSION] - YYYY-MM-DD` up to the next `## ` heading, trimmed. */
export function changelogSection(changelog: string, version: string): string {
  const lines = changelog.split('\n');
  const heading = new RegExp(`^## \\[${version.replaceAll('.', '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}$`);
  const start = lines.findIndex((l) => heading.test(l));
  if (start < 0)
    throw new Error(
      `CHANGELOG.md has no section '## [${version}] - YYYY-MM-DD'. Move the [Unreleased] entries under that heading before tagging.`,
    );
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  const body = lines
    .slice(start + 1, end < 0 ? undefined : end)
    .filter((l) => !/^\[[^\]]+\]: /.test(l))
    .join('\n')
    .trim();
  if (!body) throw new Error(`CHANGELOG.md's section for ${version} is empty; say what changed.`);
  return body;
}

/** The version and major version a release tag stands for, once tag, package.json and changelog agree. */
export function checkTag(tag: string, packageVersion: string, changelog: string): { version: string; major: string } {
  const m = SEMVER.exec(packageVersion);
  if (!m) throw new Error(`package.json's version '${packageVersion}' is not MAJOR.MINOR.PATCH.`);
  if (tag !== `v${packageVersion}`)
    throw new Error(
      `Tag '${tag}' does not match package.json's version ${packageVersion}: tag v${packageVersion}, or set the version first.`,
    );
  changelogSection(changelog, packageVersion);
  return { version: packageVersion, major: m[1] };
}

const PINNED = /^[a-z0-9][a-z0-9._/-]*(?::\d+)?\/[a-z0-9._/-]+:[\w][\w.-]*@sha256:[0-9a-f]{64}$/;

/** Replaces the one `default:` line of `input` in action.yml. */
export function pinActionInput(actionYml: string, input: string, value: string): string {
  const re = new RegExp(`(^  ${input}:\\n(?:    (?!default:).*\\n)*    default: ).*$`, 'm');
  if (!re.test(actionYml)) throw new Error(`action.yml has no default for input '${input}'.`);
  return actionYml.replace(re, `$1${value}`);
}

/** Replaces the one string literal assigned to `name` in src/run/defaults.ts. */
export function pinCodeDefault(defaults: string, name: string, value: string): string {
  const re = new RegExp(`(\\b${name}\\b[^=\\n]*=\\s*)'[^']*'`, 'g');
  const hits = defaults.match(re)?.length ?? 0;
  if (hits !== 1) throw new Error(`src/run/defaults.ts assigns ${name} ${hits} times; expected once.`);
  return defaults.replace(re, `$1'${value}'`);
}

export interface PinnedImages {
  holder: string;
  agent: string;
}

/** action.yml and src/run/defaults.ts with the images as their defaults. */
export function pinImages(files: { actionYml: string; defaults: string }, images: PinnedImages): { actionYml: string; defaults: string } {
  for (const which of ['holder', 'agent'] as const)
    if (!PINNED.test(images[which]))
      throw new Error(`The ${which} image '${images[which]}' is not REGISTRY/NAME:TAG@sha256:<64 hex digits>.`);
  let { actionYml, defaults } = files;
  actionYml = pinActionInput(pinActionInput(actionYml, 'holder-image', images.holder), 'agent-image', images.agent);
  defaults = pinCodeDefault(pinCodeDefault(defaults, 'HOLDER_IMAGE', images.holder), 'AGENT_IMAGE', images.agent);
  return { actionYml, defaults };
}

function main(argv: string[]): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');
  const [command, ...args] = argv;
  if (command === 'check' && args.length === 1) {
    const { version, major } = checkTag(args[0], (JSON.parse(read('package.json')) as { version: string }).version, read('CHANGELOG.md'));
    process.stdout.write(`version=${version}\nmajor=${major}\n`);
  } else if (command === 'notes' && args.length === 1) {
    process.stdout.write(changelogSection(read('CHANGELOG.md'), args[0]) + '\n');
  } else if (command === 'pin' && args.length === 2) {
    const pinned = pinImages({ actionYml: read('action.yml'), defaults: read('src/run/defaults.ts') }, { holder: args[0], agent: args[1] });
    fs.writeFileSync(path.join(root, 'action.yml'), pinned.actionYml);
    fs.writeFileSync(path.join(root, 'src/run/defaults.ts'), pinned.defaults);
  } else {
    throw new Error('usage: release.ts check TAG | notes VERSION | pin HOLDER_IMAGE AGENT_IMAGE');
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`release: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
