#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; const require = __bfCreateRequire(import.meta.url);
import {
  cleanupAction
} from "./chunks/chunk-5GKBWLWB.js";
import {
  warning
} from "./chunks/chunk-XDX6YX26.js";
import "./chunks/chunk-RCICVK4R.js";
import "./chunks/chunk-5CBOWLYC.js";

// src/post.ts
cleanupAction().catch((err) => warning(`buildfence cleanup: ${err instanceof Error ? err.message : String(err)}`));
