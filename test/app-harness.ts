/**
 * A real gateway (createGateway, the real chain and stores) over the fixture tools and the
 * recording fixture upstream, with in-memory tokens minted for the test.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ToolDescriptor } from "../codegen/descriptor.js";
import { createGateway, type Deps, type Gateway } from "../src/app.js";
import { resolveConfig } from "../src/config.js";
import { createLog } from "../src/log.js";
import { createRegistry } from "../src/registry.js";
import { createMemoryTokenStore, type TokenRecord } from "../src/stores/tokens.js";
import { hashToken, mintToken } from "../src/tokens/format.js";
import { fixtureTools } from "./fixtures/tools/index.js";
import { startFixtureUpstream, type FixtureUpstream } from "./fixtures/upstream/server.mjs";

export interface AppHarness {
  gateway: Gateway;
  upstream: FixtureUpstream;
  /** A token with every module. */
  token: string;
  /** A second, independent token with every module. */
  otherToken: string;
  /** Mints another token with the given record fields. */
  mint(fields?: Partial<TokenRecord>): Promise<string>;
  close(): Promise<void>;
}

/** Starts a gateway over the fixture API; `env` adds configuration (COUNTERSIGN_* variables). */
export async function startAppHarness(options: { env?: Record<string, string>; tools?: ToolDescriptor[]; overrides?: Partial<Deps> } = {}): Promise<AppHarness> {
  const upstream = await startFixtureUpstream();
  const dataDir = mkdtempSync(join(tmpdir(), "cs-runtime-"));
  const config = resolveConfig({ env: { COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_UPSTREAM_URL: upstream.url, LOG_LEVEL: "silent", ...options.env } });
  const tokens = createMemoryTokenStore();
  let n = 0;
  async function mint(fields: Partial<TokenRecord> = {}): Promise<string> {
    const secret = mintToken();
    n++;
    await tokens.create({ id: `tok_test${n}`, hash: hashToken(secret), name: `tester-${n}`, modules: "all", readOnly: false, tier: "default", createdAt: new Date().toISOString(), ...fields });
    return secret;
  }
  const token = await mint();
  const otherToken = await mint();
  const gateway = await createGateway(config, {
    registry: createRegistry(options.tools ?? fixtureTools()),
    log: createLog("silent"),
    tokens,
    ...options.overrides,
  });
  return {
    gateway,
    upstream,
    token,
    otherToken,
    mint,
    async close() {
      await gateway.close();
      await upstream.close();
    },
  };
}
