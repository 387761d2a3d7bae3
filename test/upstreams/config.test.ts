import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config.js";
import { readSecret } from "../../src/upstreams/config.js";

const load = (upstreams: unknown) => resolveConfig({ env: {}, file: { upstreams }, fileDir: "/etc/cs" });

describe("upstreams: in the config file", () => {
  it("reads OpenAPI and MCP upstreams in file order, paths relative to the file", () => {
    const c = load({
      workspace: { generated: "generated/workspace", url: "http://127.0.0.1:4010/v1/", credential: { env: "WORKSPACE_API_TOKEN" } },
      github: { spec: "/specs/github.json", url: "https://api.github.com", prefix: "gh", timeoutMs: 5000 },
      everything: { mcp: { command: "npx", args: ["-y", "@modelcontextprotocol/server-everything"] }, tools: { readOnly: ["get_*"], write: ["add"] } },
      search: { mcp: { url: "http://127.0.0.1:9000/mcp", headers: { Authorization: { env: "SEARCH_MCP_AUTH" } } }, prefix: false },
    });
    expect(c.upstreams.map((u) => [u.name, u.kind, u.prefix])).toEqual([
      ["workspace", "openapi", "workspace"],
      ["github", "openapi", "gh"],
      ["everything", "mcp", "everything"],
      ["search", "mcp", ""],
    ]);
    expect(c.upstreams[0]).toMatchObject({ generated: "/etc/cs/generated/workspace", url: "http://127.0.0.1:4010/v1", credential: { env: "WORKSPACE_API_TOKEN" } });
    expect(c.upstreams[1]).toMatchObject({ spec: "/specs/github.json", timeoutMs: 5000 });
    expect(c.upstreams[2]).toMatchObject({ command: "npx", args: ["-y", "@modelcontextprotocol/server-everything"], readOnly: ["get_*"], write: ["add"] });
    expect(c.upstreams[3]).toMatchObject({ url: "http://127.0.0.1:9000/mcp", headers: { Authorization: { env: "SEARCH_MCP_AUTH" } } });
    expect(Object.isFrozen(c.upstreams[0])).toBe(true);
  });

  it("keeps an upstream's query string (unlike upstream.url) and drops trailing slashes", () => {
    const c = load({ w: { generated: "g", url: "https://api.test/v1/?tenant=7" }, e: { mcp: { url: "http://127.0.0.1:9000/mcp//" } } });
    expect(c.upstreams[0]).toMatchObject({ url: "https://api.test/v1/?tenant=7" });
    expect(c.upstreams[1]).toMatchObject({ url: "http://127.0.0.1:9000/mcp" });
  });

  it("is empty without the section (the one API of generatedDir and upstream)", () => {
    expect(resolveConfig({ env: {} }).upstreams).toEqual([]);
  });

  it.each([
    [{ workspace: { generated: "g", urll: "http://x" } }, /config upstreams\.workspace\.urll: unknown field .*did you mean 'url'/],
    [{ workspace: { url: "http://x" } }, /config upstreams\.workspace: needs exactly one of generated .* or spec/],
    [{ workspace: { generated: "g", spec: "s" } }, /config upstreams\.workspace: needs exactly one of generated/],
    [{ Work: { generated: "g" } }, /config upstreams\.Work: upstream names are \[a-z\]/],
    [{ w: { generated: "g", url: "ftp://x" } }, /config upstreams\.w\.url: must be an http\(s\) URL/],
    [{ w: { generated: "g", url: "x.test/v1" } }, /config upstreams\.w\.url: not a valid URL: "x\.test\/v1"/],
    [{ w: { generated: "g", url: "" } }, /config upstreams\.w\.url: expected a non-empty string, got ""/],
    [{ e: { mcp: { url: "file:///tmp/mcp" } } }, /config upstreams\.e\.mcp\.url: must be an http\(s\) URL, got file:/],
    [{ e: { mcp: { url: "not a url" } } }, /config upstreams\.e\.mcp\.url: not a valid URL/],
    [{ w: { generated: "g", prefix: "Bad-Prefix" } }, /config upstreams\.w\.prefix: expected \[a-z0-9_\]/],
    [{ w: { generated: "g", credential: { env: "1X" } } }, /config upstreams\.w\.credential\.env: not a variable name/],
    [{ w: { generated: "g", credential: { vault: "x" } } }, /config upstreams\.w\.credential\.vault: unknown field/],
    [{ e: { mcp: { command: "x", url: "http://y" } } }, /config upstreams\.e\.mcp: needs exactly one of command .* or url/],
    [{ e: { mcp: { url: "http://y", args: ["a"] } } }, /config upstreams\.e\.mcp\.args: only applies to a subprocess/],
    [{ e: { mcp: { command: "x", headers: { a: "b" } } } }, /config upstreams\.e\.mcp\.headers: only applies to an HTTP server/],
    [{ e: { mcp: { command: "x" }, url: "http://y" } }, /config upstreams\.e\.url: unknown field \(mcp, prefix, tools, rateLimits\)/],
    [{ e: { mcp: { command: "x" }, tools: { readonly: ["a"] } } }, /config upstreams\.e\.tools\.readonly: unknown field .*did you mean 'readOnly'/],
    [{}, /config upstreams: is empty/],
    [["a"], /config upstreams: expected a map/],
  ])("refuses %j naming the key", (upstreams, message) => {
    expect(() => load(upstreams)).toThrow(message);
  });

  it("still refuses unknown top-level keys next to it", () => {
    expect(() => resolveConfig({ env: {}, file: { upstream: { url: "http://x" }, upstreamz: {} } })).toThrow(/unknown config key 'upstreamz'/);
  });

  it("reads a credential from its variable, naming the variable when unset", () => {
    expect(readSecret({ env: "T" }, "upstreams.w.credential", { T: "s3cret" })).toBe("s3cret");
    expect(readSecret({ value: "v" }, "k", {})).toBe("v");
    expect(() => readSecret({ env: "T" }, "upstreams.w.credential", {})).toThrow("upstreams.w.credential: the variable T is not set");
  });
});

describe("countersign config with upstreams:", () => {
  it("shows each upstream, a secret written into the file masked and a variable's name kept", () => {
    const dir = mkdtempSync(join(tmpdir(), "cs-upstreams-config-"));
    const file = join(dir, "gw.yaml");
    writeFileSync(file, "upstreams:\n  api:\n    generated: g\n    credential: hunter2\n  search:\n    mcp: { url: http://x/mcp, headers: { Authorization: { env: SEARCH_AUTH }, X-Key: hunter3 } }\n");
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(COUNTERSIGN_|MCP_TOKEN$|PORT$|HOST$|LOG_LEVEL$|REDIS_URL$)/.test(k)));
    const r = spawnSync(process.execPath, ["bin/countersign.js", "config", "--json", "--config", file], { env, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, { value: any }>;
    expect(out.upstreams!.value[0]).toMatchObject({ name: "api", generated: join(dir, "g"), credential: { value: "***" } });
    expect(out.upstreams!.value[1].headers).toEqual({ Authorization: { env: "SEARCH_AUTH" }, "X-Key": { value: "***" } });
    expect(r.stdout).not.toMatch(/hunter/);
  });
});

