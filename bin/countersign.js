#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (`make build`). `stdio` and `serve` start from the
// bundled runtime in dist/bundle/ (scripts/bundle.js) when it is at least as new as dist/: one
// file read instead of hundreds is most of a cold start's module loading. A missing or stale
// bundle (dist/ rebuilt after it), or COUNTERSIGN_NO_BUNDLE=1, runs the same command from dist/.
import { statSync } from "node:fs";

const argv = process.argv.slice(2);
const dist = new URL("../dist/", import.meta.url);

function bundleFor(command) {
  if ((command !== "stdio" && command !== "serve") || process.env.COUNTERSIGN_NO_BUNDLE === "1") return undefined;
  const entry = new URL(`bundle/${command}.js`, dist);
  try {
    const built = statSync(entry).mtimeMs;
    return built >= statSync(new URL("src/cli/main.js", dist)).mtimeMs ? entry : undefined;
  } catch {
    return undefined;
  }
}

async function start() {
  const bundled = bundleFor(argv[0]);
  if (bundled) return (await import(bundled.href)).run(argv.slice(1));
  const { main } = await import(new URL("src/cli/main.js", dist).href);
  return main(argv);
}

start().then(
  (code) => {
    if (typeof code === "number") process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`countersign: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
