#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; import { fileURLToPath as __bfFileURLToPath } from 'node:url'; const require = __bfCreateRequire(import.meta.url); const __dirname = __bfFileURLToPath(new URL(".", import.meta.url));

// src/engine/holder-source.ts
function parseImageRef(ref) {
  const at = ref.indexOf("@");
  const [named, digest] = at < 0 ? [ref, void 0] : [ref.slice(0, at), ref.slice(at + 1)];
  const colon = named.lastIndexOf(":");
  const tagged = colon > named.lastIndexOf("/");
  return { name: tagged ? named.slice(0, colon) : named, tag: tagged ? named.slice(colon + 1) : void 0, digest };
}
function isPinned(ref) {
  return /^sha256:[0-9a-f]{64}$/.test(parseImageRef(ref).digest ?? "");
}
function localTag(ref) {
  const { name, tag } = parseImageRef(ref);
  return tag ? `${name}:${tag}` : name;
}
function holderSteps(image, options) {
  const pinned = isPinned(image);
  const steps = ["present"];
  if (options.isDefault && pinned) steps.push("local-build");
  if (options.pull === "missing" && (pinned || !options.isDefault)) steps.push("pull");
  if (options.isDefault) steps.push("build");
  return steps;
}
function prefetchable(image, pull, runtime) {
  return isPinned(image) && pull !== "never" && runtime !== "kubernetes";
}

export {
  parseImageRef,
  isPinned,
  localTag,
  holderSteps,
  prefetchable
};
