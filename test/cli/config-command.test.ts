import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(COUNTERSIGN_|MCP_TOKEN$|PORT$|HOST$|LOG_LEVEL$|REDIS_URL$)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

describe("countersign config", () => {
  it("prints each setting with where it came from, secrets masked, in the setting's own unit", () => {
    const dir = mkdtempSync(join(tmpdir(), "cs-config-cmd-"));
    const file = join(dir, "gw.yaml");
    writeFileSync(file, "dataDir: state\nconfirm:\n  ttlSeconds: 120\nupstream:\n  token: hunter2\n");
    const key = Buffer.alloc(32, 1).toString("base64");
    const r = spawnSync(process.execPath, ["bin/countersign.js", "config", "--json", "--config", file, "--port", "1234"], {
      env: cleanEnv({ PORT: "9", COUNTERSIGN_SECRET_KEY: key, REDIS_URL: "redis://user:pw@r.example:6379" }),
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, { value: unknown; source: string }>;
    expect(out["http.port"]).toEqual({ value: 1234, source: "--port" });
    expect(out.dataDir).toEqual({ value: join(dir, "state"), source: "config file (dataDir)" });
    expect(out["confirm.ttlMs"]).toEqual({ value: 120_000, source: "config file (confirm.ttlSeconds)" });
    expect(out["http.host"]).toEqual({ value: "127.0.0.1", source: "default" });
    expect(out.secretKey).toEqual({ value: "***", source: "COUNTERSIGN_SECRET_KEY" });
    expect(out["upstream.token"].value).toBe("***");
    expect(out["redis.url"]).toEqual({ value: "redis://***@r.example:6379", source: "REDIS_URL" });
    expect(r.stdout).not.toContain("hunter2");
    expect(r.stdout).not.toContain(key);
    expect(r.stderr).toContain("config key 'confirm.ttlSeconds' is deprecated; use 'confirm.ttlMs'");
  });

  it("fails naming the key when the configuration does not resolve", () => {
    const r = spawnSync(process.execPath, ["bin/countersign.js", "config"], { env: cleanEnv({ COUNTERSIGN_PORTT: "1" }), encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("countersign config: unknown environment variable 'COUNTERSIGN_PORTT' (did you mean 'COUNTERSIGN_PORT'?)");
  });
});
