/**
 * Bundles the runtime commands (`stdio`, `serve`) from the compiled dist/ into dist/bundle/, one
 * file per command plus shared chunks. A starting gateway then reads a handful of files instead
 * of some six hundred (the MCP SDK and zod alone are most of them): module resolution and loading
 * were the largest part of a cold start. tsc stays the compiler and typechecker; bin/countersign.js
 * uses the bundle only while it is newer than dist/ and falls back to dist/ otherwise.
 *
 *   node scripts/bundle.js        (after `tsc -p tsconfig.build.json`; `make build` runs both)
 */
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const ROOT = new URL("..", import.meta.url).pathname;
const OUT = join(ROOT, "dist/bundle");

try {
  statSync(join(ROOT, "dist/src/cli/main.js"));
} catch {
  process.stderr.write("bundle: dist/ is missing; run `npx tsc -p tsconfig.build.json` first\n");
  process.exit(1);
}

rmSync(OUT, { recursive: true, force: true });
const t0 = performance.now();
await build({
  entryPoints: { stdio: join(ROOT, "dist/src/cli/stdio.js"), serve: join(ROOT, "dist/src/cli/serve.js") },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Packages loaded on demand at run time stay in node_modules: ioredis only in the distributed
  // mode (a dynamic import, so its chunk is loaded then), prom-client and yaml through require.
  external: ["ioredis", "prom-client", "yaml"],
  // Bundled CommonJS packages call require() for Node built-ins; an ES module has no require of its own.
  banner: { js: 'import { createRequire as __bundleRequire } from "node:module"; const require = __bundleRequire(import.meta.url);' },
  chunkNames: "chunks/[name]-[hash]",
  legalComments: "none",
  logLevel: "warning",
});
process.stderr.write(`bundle: dist/bundle/{stdio,serve}.js in ${Math.round(performance.now() - t0)} ms\n`);
