/**
 * Shared by the surface benches: the generated tools of the bundled and GitHub specs (through the
 * generator's API), and a real gateway whose tools/list is measured per mode and profile.
 * Needs the build: `npx tsc -p tsconfig.build.json`.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dist = (p) => join(ROOT, "dist", p);

if (!existsSync(dist("src/app.js"))) {
  process.stderr.write("bench: dist/ is missing; run `npx tsc -p tsconfig.build.json` first\n");
  process.exit(2);
}

const { loadSpec } = await import(dist("codegen/load-spec.js"));
const { buildTools } = await import(dist("codegen/operations.js"));
const { DEFAULT_RULES } = await import(dist("codegen/rules.js"));
const { createGateway } = await import(dist("src/app.js"));
const { resolveConfig } = await import(dist("src/config.js"));
const { createRegistry } = await import(dist("src/registry.js"));
const { createMemoryTokenStore } = await import(dist("src/stores/tokens.js"));
const { createLog } = await import(dist("src/log.js"));
export const { toolSearchFor, createToolSearch } = await import(dist("src/surface/search.js"));

export const SPECS = {
  workspace: join(ROOT, "openapi/workspace.yaml"),
  github: join(ROOT, "test/fixtures/specs/stress-github-api.github.com.json.gz"),
  // Every operation (no exclusion rules), as a team serving Stripe would set it.
  stripe: join(ROOT, "test/fixtures/specs/stripe.json.gz"),
};

/** The loaded spec and the generator's build for one API. */
export async function build(api) {
  const spec = await loadSpec(SPECS[api]);
  return { spec, build: buildTools(spec, api === "stripe" ? [] : DEFAULT_RULES) };
}

/** A real gateway over `tools` (in-memory tokens, a throwaway data dir, silent log); `env` adds COUNTERSIGN_* settings. */
export async function gatewayFor(tools, env = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "cs-bench-"));
  const config = resolveConfig({ env: { COUNTERSIGN_DATA_DIR: dataDir, LOG_LEVEL: "silent", ...env } });
  return createGateway(config, { registry: createRegistry(tools), tokens: createMemoryTokenStore(), log: createLog("silent") });
}

/** What tools/list answers for a full-scope session with these connection parameters. */
export function listFor(gateway, params) {
  const session = {
    principal: { tokenId: "tok_bench", subject: "bench", modules: "all", readOnly: false, tier: "default" },
    transport: "http",
    signal: new AbortController().signal,
    gateway,
    enabledModules: new Set(),
    params,
    notifyToolsChanged: async () => {},
  };
  return gateway.listTools(session);
}
