#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; const require = __bfCreateRequire(import.meta.url);
import {
  cleanupAction
} from "./chunks/chunk-MJWVW6C5.js";
import {
  warning
} from "./chunks/chunk-WIJQJBCM.js";
import "./chunks/chunk-RFD47U6Q.js";
import "./chunks/chunk-5CBOWLYC.js";

// src/post.ts
cleanupAction().catch((err) => warning(`buildfence cleanup: ${err instanceof Error ? err.message : String(err)}`));
