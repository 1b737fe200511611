// Where the holder image comes from, decided before anything is fetched (pure): the engine's own
// copy, a pull by digest, or a build on the runner, in that order, and which of those an image
// reference allows.

/** `[registry/]name[:tag][@sha256:hex]`, as the engine reads it. */
export interface ImageRef {
  /** Repository, with its registry host and port when given. */
  name: string;
  tag?: string;
  digest?: string;
}

export function parseImageRef(ref: string): ImageRef {
  const at = ref.indexOf('@');
  const [named, digest] = at < 0 ? [ref, undefined] : [ref.slice(0, at), ref.slice(at + 1)];
  const colon = named.lastIndexOf(':');
  // A colon before the last slash belongs to a registry's port (127.0.0.1:5000/name).
  const tagged = colon > named.lastIndexOf('/');
  return { name: tagged ? named.slice(0, colon) : named, tag: tagged ? named.slice(colon + 1) : undefined, digest };
}

/** A reference by content: what it names cannot change, wherever it is pulled from. */
export function isPinned(ref: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(parseImageRef(ref).digest ?? '');
}

/** The reference without its digest (`name:tag`): what a local build of the image is tagged. */
export function localTag(ref: string): string {
  const { name, tag } = parseImageRef(ref);
  return tag ? `${name}:${tag}` : name;
}

export type HolderStep =
  /** The engine has the image by this exact reference (for a pinned one: by digest). */
  | 'present'
  /** The engine has the image's local tag: built here (scripts/build-holder-image or a fallback build). */
  | 'local-build'
  | 'pull'
  /** Built from holder/Dockerfile, tagged with the local tag. */
  | 'build';

/**
 * The steps to try, in order, for a holder image. Anything that names content by digest may be
 * pulled, and unless `pull` is `never` any image the user names is: it is theirs. buildfence's
 * own default is pulled only when pinned: a default by tag alone is a name anyone could publish
 * on a registry, so it is built, as it is when the pull of a pinned default fails (no registry).
 * An image built here under the default's tag stands in for the pinned one (offline machines).
 */
export function holderSteps(image: string, options: { pull: 'missing' | 'never'; isDefault: boolean }): HolderStep[] {
  const pinned = isPinned(image);
  const steps: HolderStep[] = ['present'];
  if (options.isDefault && pinned) steps.push('local-build');
  if (options.pull === 'missing' && (pinned || !options.isDefault)) steps.push('pull');
  if (options.isDefault) steps.push('build');
  return steps;
}

/**
 * Whether the action's pre step should start pulling the holder image while the job's first
 * steps run: only an image pinned by digest (a tag could be rebuilt locally by a later step, and
 * a late pull would replace it), only where pulls are allowed and the fence runs on Docker.
 */
export function prefetchable(image: string, pull: string, runtime: string): boolean {
  return isPinned(image) && pull !== 'never' && runtime !== 'kubernetes';
}
