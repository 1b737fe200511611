// Long values (rules, the script, the resolver's settings) travel in a Pod's env, cut into
// pieces the kernel accepts and joined again inside the Pod.
import type { V1EnvVar } from '@kubernetes/client-node';

/**
 * The most one env value holds: the kernel refuses to start a process when one env string
 * exceeds 128 KiB, so a long value travels as NAME_0, NAME_1, ... joined again inside the Pod.
 */
export const ENV_PIECE = 96 * 1024;
/** What all env values of a Pod may add up to: the API server refuses objects over about 1.5 MiB. */
export const POD_ENV_BUDGET = 1024 * 1024;

/** `value` as NAME_0, NAME_1, ..., each at most ENV_PIECE characters (one, possibly empty, at least). */
export function envPieces(name: string, value: string): V1EnvVar[] {
  const pieces: V1EnvVar[] = [];
  for (let at = 0; at === 0 || at < value.length; at += ENV_PIECE) {
    pieces.push({ name: `${name}_${pieces.length}`, value: value.slice(at, at + ENV_PIECE) });
  }
  return pieces;
}

/** The shell words that join the pieces again: "$NAME_0" "$NAME_1" ... (for printf %s). */
export function joinedInShell(pieces: V1EnvVar[]): string {
  return pieces.map((p) => `"$${p.name}"`).join(' ');
}

/** A value the Pod carries in pieces, joined again (the agent's side); '' when there is none. */
export function joinedFromEnv(env: NodeJS.ProcessEnv, name: string): string {
  let value = '';
  for (let i = 0; env[`${name}_${i}`] !== undefined; i++) value += env[`${name}_${i}`];
  return value;
}
