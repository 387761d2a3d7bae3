/**
 * Oracle: the gateway in front of a Prism mock server of the same spec. Every request the
 * gateway builds from schema-valid sample arguments must be one Prism accepts (no
 * `sl-violations` header, a route and security requirement Prism recognises). Reads go through
 * the whole chain; writes through the chain and then confirm_action, as a client would.
 *
 * Petstore (Swagger 2.0) always runs, every tool. GitHub (1,223 operations; Prism needs tens of
 * seconds to load it) runs a fixed sample of at least 200 tools; COUNTERSIGN_ORACLE_GITHUB=0 skips it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { generate } from "../../codegen/generate.js";
import { parseModuleFile } from "../../codegen/load.js";
import { createGateway, type Gateway } from "../../src/app.js";
import { resolveConfig } from "../../src/config.js";
import type { ToolResult } from "../../src/context.js";
import { createLog } from "../../src/log.js";
import { createRegistry } from "../../src/registry.js";
import { createArgumentValidator } from "../../src/stages/validate.js";
import { createMemoryTokenStore } from "../../src/stores/tokens.js";
import { hashToken, mintToken } from "../../src/tokens/format.js";
import { createUpstreamClient } from "../../src/upstream/upstream-client.js";
import { sampleArguments } from "./sample-args.js";
import type { UpstreamFetch } from "../../src/upstream/node-fetch.js";
import { callAs } from "../support/call.js";

const SPECS = join(process.cwd(), "test/fixtures/specs");
const PRISM = join(process.cwd(), "node_modules/.bin/prism");

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startPrism(specFile: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(PRISM, ["mock", specFile, "-h", "127.0.0.1", "-p", String(port), "--errors=false"], { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    let seen = "";
    const onData = (c: Buffer) => {
      seen += c.toString();
      if (seen.includes("Prism is listening")) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`prism exited ${code}: ${seen.slice(-2000)}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

interface Exchange {
  method: string;
  url: string;
  status: number;
  violations?: string;
  problem?: string;
}

/** Runs every given tool once through the gateway and returns what Prism said about each request. */
async function exercise(specGz: string, pick: (tools: ToolDescriptor[]) => ToolDescriptor[]) {
  const work = mkdtempSync(join(tmpdir(), "cs-oracle-"));
  const specFile = join(work, "spec.json");
  const spec = JSON.parse(gunzipSync(readFileSync(join(SPECS, specGz))).toString("utf8")) as Record<string, unknown>;
  // Swagger 2.0 operations without `consumes` leave the body's media type unstated; the generator
  // assumes application/json (as swagger2openapi does), and Prism's copy states that assumption.
  if (spec.swagger === "2.0" && !spec.consumes) spec.consumes = ["application/json"];
  writeFileSync(specFile, JSON.stringify(spec));
  const outcome = await generate({ specPath: join(SPECS, specGz), command: "oracle", upstreamTypes: false });
  if (!outcome.ok) throw new Error(outcome.error);
  const all = [...outcome.files].filter(([f]) => f.endsWith(".ts") && f !== "index.ts" && f !== "types.ts" && f !== "upstream.d.ts").flatMap(([f, text]) => parseModuleFile(text, f));

  const prism = await startPrism(specFile);
  const exchanges: Exchange[] = [];
  // Prism's verdicts are read from fetch's Response; the request is the one the gateway built.
  const recordingFetch: UpstreamFetch = async (input, init) => {
    const res = await fetch(input, { ...init, body: init.body as BodyInit | undefined, redirect: "manual" });
    const type = res.headers.get("content-type") ?? "";
    let problem: string | undefined;
    if (type.includes("problem+json")) {
      const body = (await res.clone().json().catch(() => ({}))) as { type?: string; detail?: string };
      if (body.type?.includes("stoplight.io/prism/errors")) problem = `${body.type}: ${body.detail ?? ""}`;
    }
    // Prism also reports where its own generated mock answer breaks the spec's response schema
    // (GitHub's spec trips it); only violations located in the request judge the gateway.
    const all = JSON.parse(res.headers.get("sl-violations") ?? "[]") as { location?: string[] }[];
    const request = all.filter((v) => v.location?.[0] === "request");
    exchanges.push({ method: init.method, url: String(input), status: res.status, violations: request.length ? JSON.stringify(request) : undefined, problem });
    return res;
  };
  const config = resolveConfig({
    env: {
      COUNTERSIGN_UPSTREAM_URL: prism.url,
      COUNTERSIGN_UPSTREAM_BASE_PATH: "/",
      COUNTERSIGN_UPSTREAM_TOKEN: "oracle-token",
      COUNTERSIGN_DATA_DIR: join(work, "data"),
      COUNTERSIGN_RATE_NORMAL: "1000000",
      COUNTERSIGN_RATE_SENSITIVE: "1000000",
      COUNTERSIGN_MODE: "all",
    },
  });
  const secret = mintToken();
  const tokens = createMemoryTokenStore([{ id: "tok_oracle", hash: hashToken(secret), name: "oracle", modules: "all", readOnly: false, tier: "default", createdAt: new Date().toISOString() }]);
  const gateway: Gateway = await createGateway(config, {
    registry: createRegistry(all),
    tokens,
    log: createLog("silent"),
    upstream: createUpstreamClient(config.upstream, { fetch: recordingFetch }),
  });
  const validator = createArgumentValidator();

  const chosen = pick(all.filter((t) => t.policy.excluded === false));
  const checked: { tool: string; exchange: Exchange }[] = [];
  const unsampled: string[] = [];
  const failures: string[] = [];
  for (const tool of chosen) {
    const args = sampleArguments(tool.inputSchema as Record<string, unknown>);
    if (!validator.validate(tool, args).ok) {
      unsampled.push(tool.name);
      continue;
    }
    const before = exchanges.length;
    const signal = new AbortController().signal;
    let result: ToolResult = await callAs(gateway, secret, tool.name, args, { signal });
    const pending = result.structuredContent as { status?: string; confirm_token?: string } | undefined;
    if (pending?.status === "pending_confirmation") {
      result = await callAs(gateway, secret, "confirm_action", { confirm_token: pending.confirm_token }, { signal });
    }
    // The write's own request is the last one (a preview may have read the current state first).
    const exchange = exchanges.slice(before).at(-1);
    if (!exchange) {
      failures.push(`${tool.name}: no request reached Prism (${JSON.stringify(result.content).slice(0, 300)})`);
      continue;
    }
    checked.push({ tool: tool.name, exchange });
    // Prism's own refusals (no route, unmet security, invalid request) carry sl-violations or a Prism problem type;
    // other statuses are the mock answers the spec declares (Petstore's add_pet only declares a 405).
    if (exchange.violations || exchange.problem) {
      failures.push(`${tool.name}: ${exchange.method} ${exchange.url} → ${exchange.status} ${exchange.violations ?? exchange.problem ?? ""}`);
    }
  }
  process.stderr.write(`oracle ${specGz}: ${checked.length} tools checked, ${unsampled.length} without a sample, ${failures.length} refused\n`);
  return {
    checked,
    unsampled,
    failures,
    async close() {
      await gateway.close();
      prism.child.kill("SIGKILL");
    },
  };
}

describe("Prism oracle: Petstore (Swagger 2.0)", () => {
  let run: Awaited<ReturnType<typeof exercise>>;
  beforeAll(async () => {
    run = await exercise("awkward-swagger2-petstore.json.gz", (tools) => tools);
  }, 60_000);
  afterAll(() => run?.close());

  it("builds a request Prism accepts for every tool", () => {
    expect(run.unsampled).toEqual([]);
    expect(run.failures).toEqual([]);
    expect(run.checked.length).toBeGreaterThanOrEqual(18);
  });
});

describe.skipIf(process.env.COUNTERSIGN_ORACLE_GITHUB === "0")("Prism oracle: GitHub (sample)", () => {
  let run: Awaited<ReturnType<typeof exercise>>;
  beforeAll(async () => {
    // A fixed, spread-out sample: every fifth tool in name order (about 240 tools).
    run = await exercise("stress-github-api.github.com.json.gz", (tools) => [...tools].sort((a, b) => (a.name < b.name ? -1 : 1)).filter((_, i) => i % 5 === 0));
  }, 600_000);
  afterAll(() => run?.close());

  it("builds requests Prism accepts for at least 200 sampled tools", () => {
    expect(run.failures).toEqual([]);
    expect(run.checked.length).toBeGreaterThanOrEqual(200);
  }, 600_000);
});
