import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { agentToken, loadConfig, resolveConfig, resolveConfigWithWarnings } from "../src/config.js";
import { defaultPaths, packageRoot } from "../src/config/paths.js";
import { SETTINGS } from "../src/config/settings.js";
import { editDistance, nearest } from "../src/config/suggest.js";
import { httpUrl } from "../src/config/url.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

describe("resolveConfig", () => {
  it("fills defaults and freezes the result", () => {
    const c = resolveConfig({ env: {} });
    expect(c.http).toMatchObject({ host: "127.0.0.1", port: 8787, stateless: false, allowedHosts: ["localhost", "127.0.0.1", "[::1]"] });
    expect(c.upstream.timeoutMs).toBe(30_000);
    expect(c.mcp.pageSize).toBe(500);
    expect(c.dataDir).toBe(join(ROOT, ".data"));
    expect(c.confirm.ttlSeconds).toBe(600);
    expect(c.rateLimits.windowSeconds).toBe(60);
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
    expect(() => resolveConfig({ env: { PORT: "http" } })).toThrow(/config http.port \(PORT\): expected an integer/);
    expect(() => resolveConfig({ env: { PORT: "70000" } })).toThrow(/config http.port \(PORT\): must be between 0 and 65535/);
    expect(() => resolveConfig({ file: { http: { port: 70000 } } })).toThrow(/^config http.port: must be between 0 and 65535, got 70000$/);
    expect(() => resolveConfig({ env: { COUNTERSIGN_UPSTREAM_URL: "ftp://x" } })).toThrow(/config upstream.url \(COUNTERSIGN_UPSTREAM_URL\): must be an http\(s\) URL/);
    expect(() => resolveConfig({ env: { COUNTERSIGN_UPSTREAM_URL: "not a url" } })).toThrow(/config upstream.url \(COUNTERSIGN_UPSTREAM_URL\): not a valid URL/);
    expect(() => resolveConfig({ env: { COUNTERSIGN_UPSTREAM_URL: "http://x/v1?key=1" } })).toThrow(/^config upstream.url \(COUNTERSIGN_UPSTREAM_URL\): must not carry a query string or fragment$/);
    expect(() => resolveConfig({ file: { upstream: { url: "https://x/v1#top" } } })).toThrow(/^config upstream.url: must not carry a query string or fragment$/);
    expect(() => resolveConfig({ file: { upstream: { url: 42 } } })).toThrow(/^config upstream.url: expected a string, got number$/);
    expect(() => resolveConfig({ flags: { stateless: "maybe" } })).toThrow(/config http.stateless \(--stateless\): expected a boolean/);
    expect(() => resolveConfig({ file: { http: { allowedHosts: [1] } } })).toThrow(/config http.allowedHosts/);
    expect(() => resolveConfig({ env: { COUNTERSIGN_LOG_LEVEL: "loud" } })).toThrow(/config logLevel \(COUNTERSIGN_LOG_LEVEL\): must be one of fatal, error/);
    expect(() => resolveConfig({ env: { COUNTERSIGN_MODE: "dynamc" } })).toThrow(/config surface.mode \(COUNTERSIGN_MODE\): .*did you mean 'dynamic'/);
    expect(() => resolveConfig({ file: { http: 5 } })).toThrow(/config http: expected a section/);
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

describe("unknown names", () => {
  it("refuses an unknown config file key, naming it and the nearest valid one", () => {
    expect(() => resolveConfig({ file: { http: { prot: 9 } } })).toThrow("unknown config key 'http.prot' (did you mean 'http.port'?)");
    expect(() => resolveConfig({ file: { upstream: { timeout: 5 } } })).toThrow("unknown config key 'upstream.timeout' (did you mean 'upstream.timeoutMs'?)");
    expect(() => resolveConfig({ file: { confirm: { ttl: 5 } } })).toThrow(/unknown config key 'confirm.ttl' \(did you mean 'confirm.ttlMs'\?\)/);
    expect(() => resolveConfig({ file: { dataDri: "x" } })).toThrow("unknown config key 'dataDri' (did you mean 'dataDir'?)");
    expect(() => resolveConfig({ file: { telemetry: { on: true } } })).toThrow("unknown config key 'telemetry' (see docs/configuration.md for the keys)");
    expect(() => resolveConfig({ file: { rateLimits: { tiers: { gold: { normall: 3 } } } } })).toThrow(/rateLimits.tiers.gold.normall: unknown field .*did you mean 'normal'/);
    expect(() => resolveConfig({ file: { rateLimits: { tiers: { default: { sensitve: 3 } } } } })).toThrow(/rateLimits.tiers.default.sensitve: unknown field .*did you mean 'sensitive'/);
    expect(resolveConfig({ file: { rateLimits: { tiers: { default: { normal: 7 } } } } }).rateLimits.tiers.default).toEqual({ normal: 7, sensitive: 100 });
  });

  it("refuses an unknown config file key read through loadConfig too (a typo no longer starts on the default)", () => {
    const dir = mkdtempSync(join(tmpdir(), "cs-config-"));
    const path = join(dir, "gateway.yaml");
    writeFileSync(path, "http:\n  prot: 9\n");
    expect(() => loadConfig({ config: path }, {})).toThrow("unknown config key 'http.prot' (did you mean 'http.port'?)");
  });

  it("refuses an unknown COUNTERSIGN_ variable, naming the nearest known one", () => {
    expect(() => resolveConfig({ env: { COUNTERSIGN_UPSTREM_URL: "http://x" } })).toThrow(
      "unknown environment variable 'COUNTERSIGN_UPSTREM_URL' (did you mean 'COUNTERSIGN_UPSTREAM_URL'?)",
    );
    expect(() => resolveConfig({ env: { COUNTERSIGN_DATADIR: "/x" } })).toThrow(/did you mean 'COUNTERSIGN_DATA_DIR'/);
    expect(() => resolveConfig({ env: { COUNTERSIGN_WHATEVER_ELSE_ENTIRELY: "1" } })).toThrow(/unknown environment variable 'COUNTERSIGN_WHATEVER_ELSE_ENTIRELY' \(see docs/);
    // Variables of other programs, and the toolchain's own, are left alone.
    expect(() => resolveConfig({ env: { HOME: "/root", UPSTREM: "x", COUNTERSIGN_SKIP_BUILD: "1", COUNTERSIGN_HEAP_TUNING: "off", MCP_TOKEN: "t" } })).not.toThrow();
  });

  it("suggests only what is close", () => {
    expect(editDistance("prot", "port")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(nearest("http.prot", ["http.port", "http.host"])).toBe("http.port");
    expect(nearest("zzzz", ["http.port", "dataDir"])).toBeUndefined();
  });
});

describe("aliases and units", () => {
  it("keeps PORT and REDIS_URL as aliases, the COUNTERSIGN_ name winning when both are set", () => {
    expect(resolveConfig({ env: { PORT: "9000" } }).http.port).toBe(9000);
    expect(resolveConfig({ env: { PORT: "9000", COUNTERSIGN_PORT: "9001" } }).http.port).toBe(9001);
    expect(resolveConfig({ env: { REDIS_URL: "redis://a:6379" } }).redis.url).toBe("redis://a:6379");
    expect(resolveConfig({ env: { REDIS_URL: "redis://a:6379", COUNTERSIGN_REDIS_URL: "redis://b:6379" } }).redis.url).toBe("redis://b:6379");
    expect(agentToken({ MCP_TOKEN: " csk_a " })).toBe("csk_a");
    expect(agentToken({ MCP_TOKEN: "csk_a", COUNTERSIGN_MCP_TOKEN: "csk_b" })).toBe("csk_b");
  });

  it("takes HOST and LOG_LEVEL as deprecated aliases, with a warning naming the new variable", () => {
    const { config, warnings } = resolveConfigWithWarnings({ env: { HOST: "0.0.0.0", LOG_LEVEL: "debug" } });
    expect(config.http.host).toBe("0.0.0.0");
    expect(config.logLevel).toBe("debug");
    expect(warnings).toEqual(["LOG_LEVEL is deprecated; use COUNTERSIGN_LOG_LEVEL", "HOST is deprecated; use COUNTERSIGN_HOST"]);
    expect(resolveConfigWithWarnings({ env: { COUNTERSIGN_HOST: "::1" } })).toMatchObject({ config: { http: { host: "::1" } }, warnings: [] });
  });

  it("reads durations in milliseconds, and the old seconds names converted", () => {
    expect(resolveConfig({ env: { COUNTERSIGN_CONFIRM_TTL_MS: "300000" } }).confirm.ttlSeconds).toBe(300);
    expect(resolveConfig({ file: { confirm: { ttlMs: 120_000 } } }).confirm.ttlSeconds).toBe(120);
    expect(resolveConfig({ env: { COUNTERSIGN_RATE_WINDOW_MS: "10000" } }).rateLimits.windowSeconds).toBe(10);
    const old = resolveConfigWithWarnings({ env: { COUNTERSIGN_CONFIRM_TTL_SECONDS: "300" }, file: { rateLimits: { windowSeconds: 30 } } });
    expect(old.config.confirm.ttlSeconds).toBe(300);
    expect(old.config.rateLimits.windowSeconds).toBe(30);
    expect(old.warnings).toEqual([
      "config key 'rateLimits.windowSeconds' is deprecated; use 'rateLimits.windowMs' (in milliseconds)",
      "COUNTERSIGN_CONFIRM_TTL_SECONDS is deprecated; use COUNTERSIGN_CONFIRM_TTL_MS (in milliseconds)",
    ]);
    // The new name wins over the old one in the same source.
    expect(resolveConfig({ file: { confirm: { ttlMs: 5000, ttlSeconds: 900 } } }).confirm.ttlSeconds).toBe(5);
    // Bounds are given in the unit of the name used.
    expect(() => resolveConfig({ env: { COUNTERSIGN_CONFIRM_TTL_MS: "500" } })).toThrow(/confirm.ttlMs \(COUNTERSIGN_CONFIRM_TTL_MS\): must be between 1000 and 86400000, got 500/);
    expect(() => resolveConfig({ env: { COUNTERSIGN_CONFIRM_TTL_SECONDS: "0" } })).toThrow(/COUNTERSIGN_CONFIRM_TTL_SECONDS\): must be between 1 and 86400, got 0/);
    expect(() => resolveConfig({ env: { COUNTERSIGN_CONFIRM_TTL_MS: "1500" } })).toThrow(/must be a whole number of seconds/);
  });

  it("reads the console's idle time in milliseconds, its minutes names converted, and --console on|off", () => {
    expect(resolveConfig({ env: {} }).console).toEqual({ enabled: true, idleMinutes: 30, trustProxy: false, auditIndex: "sqlite" });
    expect(resolveConfig({ env: { COUNTERSIGN_CONSOLE_IDLE_MS: "600000" } }).console.idleMinutes).toBe(10);
    expect(resolveConfig({ env: { COUNTERSIGN_CONSOLE_IDLE_MINUTES: "45" } }).console.idleMinutes).toBe(45);
    expect(resolveConfig({ file: { console: { idleMinutes: 5 } } }).console.idleMinutes).toBe(5);
    expect(() => resolveConfig({ env: { COUNTERSIGN_CONSOLE_IDLE_MS: "90000" } })).toThrow(/must be a whole number of minutes/);
    expect(resolveConfig({ flags: { console: "off" }, env: { COUNTERSIGN_CONSOLE: "on" } }).console.enabled).toBe(false);
    expect(() => resolveConfig({ env: { COUNTERSIGN_CONSOLE_AUDIT_INDEX: "postgres" } })).toThrow(/console.auditIndex \(COUNTERSIGN_CONSOLE_AUDIT_INDEX\): must be one of sqlite, memory/);
  });

  it("names every duration in milliseconds, outside", () => {
    for (const s of SETTINGS.filter((row) => row.unit === "ms")) {
      expect(s.key).toMatch(/Ms$/);
      expect(s.env).toMatch(/_MS$/);
    }
  });
});

describe("precedence", () => {
  it("flag > environment > file > default, setting by setting", () => {
    const file = { http: { port: 1111, host: "10.0.0.1" }, generatedDir: "gen-file", logLevel: "error" };
    const env = { COUNTERSIGN_PORT: "2222", COUNTERSIGN_LOG_LEVEL: "warn", COUNTERSIGN_GENERATED_DIR: "/env/gen" };
    const flags = { port: "3333", generated: "/flag/gen" };
    const all = resolveConfig({ flags, env, file, fileDir: "/etc/cs" });
    expect(all.http.port).toBe(3333);
    expect(all.generatedDir).toBe("/flag/gen");
    expect(all.logLevel).toBe("warn");
    expect(all.http.host).toBe("10.0.0.1");
    const noFlags = resolveConfig({ env, file, fileDir: "/etc/cs" });
    expect(noFlags.http.port).toBe(2222);
    expect(noFlags.generatedDir).toBe("/env/gen");
    const fileOnly = resolveConfig({ env: {}, file, fileDir: "/etc/cs" });
    expect(fileOnly.http.port).toBe(1111);
    expect(fileOnly.logLevel).toBe("error");
    expect(resolveConfig({ env: {} }).http.port).toBe(8787);
    // A per-command default (demo's warn) sits under the file, not over it.
    expect(resolveConfig({ env: {}, defaults: { logLevel: "warn" } }).logLevel).toBe("warn");
    expect(resolveConfig({ env: {}, file, defaults: { logLevel: "warn" } }).logLevel).toBe("error");
  });
});

describe("paths", () => {
  it("resolves defaults against the package root, wherever the command runs", () => {
    expect(packageRoot()).toBe(ROOT);
    const elsewhere = mkdtempSync(join(tmpdir(), "cs-cwd-"));
    const c = resolveConfig({ env: {}, cwd: elsewhere });
    expect(c.dataDir).toBe(join(ROOT, ".data"));
    expect(c.generatedDir).toBe(join(ROOT, "generated", "workspace"));
    expect(defaultPaths({}, "/")).toEqual({ root: ROOT, dataDir: join(ROOT, ".data") });
  });

  it("resolves given paths against the working directory (flags, env) or the config file's folder", () => {
    const cwd = mkdtempSync(join(tmpdir(), "cs-cwd-"));
    expect(resolveConfig({ env: { COUNTERSIGN_DATA_DIR: "d" }, cwd }).dataDir).toBe(join(cwd, "d"));
    expect(resolveConfig({ flags: { "data-dir": "f" }, env: {}, cwd }).dataDir).toBe(join(cwd, "f"));
    const confDir = join(cwd, "conf");
    mkdirSync(confDir);
    const path = join(confDir, "gw.yaml");
    writeFileSync(path, "dataDir: state\naudit:\n  dir: ../trail\n");
    const c = loadConfig({ config: path }, {});
    expect(c.dataDir).toBe(join(confDir, "state"));
    expect(c.audit.dir).toBe(join(cwd, "trail"));
  });
});

describe("secret key", () => {
  it("goes through the config and is checked at start-up", () => {
    const key = Buffer.alloc(32, 7).toString("base64");
    expect(resolveConfig({ env: { COUNTERSIGN_SECRET_KEY: key } }).secretKey).toBe(key);
    expect(resolveConfig({ env: {} }).secretKey).toBeUndefined();
    expect(() => resolveConfig({ env: { COUNTERSIGN_SECRET_KEY: "c2hvcnQ=" } })).toThrow(/config secretKey \(COUNTERSIGN_SECRET_KEY\): must be 32 bytes .* decodes to 5 bytes/);
  });
});


describe("httpUrl, the one http(s) URL check", () => {
  const refuse = (problem: string): never => {
    throw new Error(problem);
  };
  it("accepts http and https, dropping trailing slashes; a query string or fragment only when not refused", () => {
    expect(httpUrl("http://127.0.0.1:4010/v1///", refuse)).toBe("http://127.0.0.1:4010/v1");
    expect(httpUrl("https://api.test/v1?tenant=7#x", refuse)).toBe("https://api.test/v1?tenant=7#x");
    expect(httpUrl("https://api.test/v1/", refuse, { refuseQuery: true })).toBe("https://api.test/v1");
  });
  it("hands every problem to the caller's refusal", () => {
    expect(() => httpUrl("", refuse)).toThrow('not a valid URL: ""');
    expect(() => httpUrl("api.test/v1", refuse)).toThrow('not a valid URL: "api.test/v1"');
    expect(() => httpUrl("javascript:alert(1)", refuse)).toThrow("must be an http(s) URL, got javascript:");
    expect(() => httpUrl("ws://api.test", refuse)).toThrow("must be an http(s) URL, got ws:");
    expect(() => httpUrl("https://api.test/v1?key=1", refuse, { refuseQuery: true })).toThrow("must not carry a query string or fragment");
    expect(() => httpUrl("https://api.test/v1#top", refuse, { refuseQuery: true })).toThrow("must not carry a query string or fragment");
  });
});
