import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, resolveConfig } from "../src/config.js";

describe("resolveConfig", () => {
  it("fills defaults and freezes the result", () => {
    const c = resolveConfig({ env: {} });
    expect(c.http).toMatchObject({ host: "127.0.0.1", port: 8787, stateless: false, allowedHosts: ["localhost", "127.0.0.1", "[::1]"] });
    expect(c.upstream.timeoutMs).toBe(30_000);
    expect(c.mcp.pageSize).toBe(500);
    expect(c.dataDir).toBe(join(process.cwd(), ".data"));
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.http)).toBe(true);
    expect(() => {
      (c.http as { port: number }).port = 1;
    }).toThrow();
  });

  it("lets flags win over the environment and the environment over the file", () => {
    const file = { upstream: { url: "http://file.test" }, http: { port: 1111, host: "10.0.0.1" }, mcp: { pageSize: 7 } };
    const env = { COUNTERSIGN_UPSTREAM_URL: "http://env.test/", PORT: "2222" };
    const c = resolveConfig({ flags: { port: "3333" }, env, file });
    expect(c.http.port).toBe(3333);
    expect(c.upstream.url).toBe("http://env.test");
    expect(c.http.host).toBe("10.0.0.1");
    expect(c.mcp.pageSize).toBe(7);
  });

  it("fails fast naming the key", () => {
    expect(() => resolveConfig({ env: { PORT: "http" } })).toThrow(/config http.port: expected an integer/);
    expect(() => resolveConfig({ env: { PORT: "70000" } })).toThrow(/config http.port: must be between 0 and 65535/);
    expect(() => resolveConfig({ env: { COUNTERSIGN_UPSTREAM_URL: "ftp://x" } })).toThrow(/config upstream.url: must be an http\(s\) URL/);
    expect(() => resolveConfig({ env: { COUNTERSIGN_UPSTREAM_URL: "not a url" } })).toThrow(/config upstream.url: not a valid URL/);
    expect(() => resolveConfig({ flags: { stateless: "maybe" } })).toThrow(/config http.stateless: expected a boolean/);
    expect(() => resolveConfig({ file: { http: { allowedHosts: [1] } } })).toThrow(/config http.allowedHosts/);
    expect(() => resolveConfig({ env: { LOG_LEVEL: "loud" } })).toThrow(/config logLevel/);
  });

  it("reads comma lists from the environment", () => {
    expect(resolveConfig({ env: { COUNTERSIGN_ALLOWED_HOSTS: "gw.example.com, localhost" } }).http.allowedHosts).toEqual(["gw.example.com", "localhost"]);
  });

  it("loads a YAML config file named by --config", () => {
    const dir = mkdtempSync(join(tmpdir(), "cs-config-"));
    const path = join(dir, "countersign.yaml");
    writeFileSync(path, "upstream:\n  timeoutMs: 1234\nhttp:\n  maxSessions: 3\n");
    const c = loadConfig({ config: path }, {});
    expect(c.upstream.timeoutMs).toBe(1234);
    expect(c.http.maxSessions).toBe(3);
    writeFileSync(path, "- a list\n");
    expect(() => loadConfig({ config: path }, {})).toThrow(/must hold an object/);
  });
});
