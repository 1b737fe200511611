#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; const require = __bfCreateRequire(import.meta.url);
import {
  cleanupAction
} from "./chunks/chunk-K7QXXDB2.js";
import {
  warning
} from "./chunks/chunk-WEERDOOH.js";

// src/post.ts
cleanupAction().catch((err) => warning(`buildfence cleanup: ${err instanceof Error ? err.message : String(err)}`));
