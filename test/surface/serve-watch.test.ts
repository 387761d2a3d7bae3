/**
 * `countersign serve --watch` as a real process: a connected SDK client sees tools/list_changed
 * and the new tools after the generated folder is regenerated, on the same session.
 * Spawns bin/countersign.js, so it needs the build (the global setup runs it).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { generate } from "../../codegen/generate.js";
import { writeAtomically } from "../../codegen/output.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const CLI = join(ROOT, "bin/countersign.js");

function spec(paths: string[]): object {
  const op = (p: string) => ({
    get: { operationId: `get_${p}`, summary: `Get ${p}`, tags: ["things"], responses: { "200": { description: "ok", content: { "application/json": { schema: { type: "object" } } } } } },
  });
  return { openapi: "3.1.0", info: { title: "Watched", version: String(paths.length) }, paths: Object.fromEntries(paths.map((p) => [`/${p}`, op(p)])) };
}

async function generateInto(dir: string, work: string, paths: string[]): Promise<void> {
  const file = join(work, `spec-${paths.length}.json`);
  writeFileSync(file, JSON.stringify(spec(paths)));
  const out = await generate({ specPath: file, command: "test", api: "watched", upstreamTypes: false });
  if (!out.ok) throw new Error(out.error);
  await writeAtomically(dir, out.files);
}

let child: ChildProcess | undefined;
let url: string;
let token: string;
let work: string;
let dir: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "cs-watch-"));
  dir = join(work, "generated", "watched");
  await generateInto(dir, work, ["alpha", "beta"]);
  const env = { ...process.env, COUNTERSIGN_DATA_DIR: join(work, "data"), LOG_LEVEL: "warn" };
  token = (JSON.parse(execFileSync(process.execPath, [CLI, "tokens", "create", "--name", "watcher", "--json"], { env, encoding: "utf8" })) as { token: string }).token;
  child = spawn(process.execPath, [CLI, "serve", "--watch", "--generated", dir, "--port", "0", "--host", "127.0.0.1", "--upstream", "http://127.0.0.1:9"], { env, stdio: ["ignore", "ignore", "pipe"] });
  url = await new Promise<string>((resolve, reject) => {
    let err = "";
    child!.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /listening on (\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    child!.once("exit", (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}, 60_000);

afterAll(() => {
  child?.kill("SIGTERM");
});

describe("countersign serve --watch (real process)", () => {
  it("sends tools/list_changed after `generate` replaces the folder, on the same session", async () => {
    const client = new Client({ name: "watch-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}?mode=all`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      changed++;
    });
    const before = (await client.listTools()).tools.map((t) => t.name).filter((n) => /^get_(alpha|beta|gamma)$/.test(n));
    expect(before.sort()).toEqual(["get_alpha", "get_beta"]);

    await generateInto(dir, work, ["alpha", "beta", "gamma"]);
    await expect.poll(() => changed, { timeout: 15_000, interval: 100 }).toBeGreaterThanOrEqual(1);
    const after = (await client.listTools()).tools.map((t) => t.name).filter((n) => /^get_(alpha|beta|gamma)$/.test(n));
    expect(after.sort()).toEqual(["get_alpha", "get_beta", "get_gamma"]);
    await client.close();
  });
});
