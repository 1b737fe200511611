// Which rule text goes into which file: the files the holder script restores (Docker mounts them,
// a Pod writes them from its env).
import type { Ruleset } from './ruleset.js';

export const RULE_FILES = { ipset: 'rules.ipset', v4: 'rules.v4', v6: 'rules.v6', resolvConf: 'resolv.conf' } as const;

/** Each file's text; each family's file holds its filter and nat tables, restored together. */
export function ruleFileTexts(rules: Ruleset): Record<keyof typeof RULE_FILES, string> {
  return { ipset: rules.ipset, v4: rules.v4 + rules.nat4, v6: rules.v6 + rules.nat6, resolvConf: rules.resolvConf };
}
