#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; const require = __bfCreateRequire(import.meta.url);
import {
  cleanupAction
} from "./chunks/chunk-CHG75IKY.js";
import {
  warning
} from "./chunks/chunk-MTC7SU6M.js";

// src/post.ts
cleanupAction().catch((err) => warning(`buildfence cleanup: ${err instanceof Error ? err.message : String(err)}`));
