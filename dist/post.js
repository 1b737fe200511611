#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; const require = __bfCreateRequire(import.meta.url);
import {
  cleanupAction
} from "./chunks/chunk-LK5YZACT.js";
import {
  warning
} from "./chunks/chunk-YBXC6F3L.js";
import "./chunks/chunk-KRGBTQFY.js";
import "./chunks/chunk-5CBOWLYC.js";

// src/post.ts
cleanupAction().catch((err) => warning(`buildfence cleanup: ${err instanceof Error ? err.message : String(err)}`));
