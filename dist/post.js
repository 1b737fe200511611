#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; const require = __bfCreateRequire(import.meta.url);
import {
  cleanupAction
} from "./chunks/chunk-MD4LGCSY.js";
import {
  warning
} from "./chunks/chunk-OKQVMQD4.js";

// src/post.ts
cleanupAction().catch((err) => warning(`buildfence cleanup: ${err instanceof Error ? err.message : String(err)}`));
