import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "../../src/cli/tokens.js";
import { createTokenFileStore } from "../../src/stores/token-file-store.js";
import { createAuthenticator } from "../../src/tokens/authenticate.js";
import { readSecretKey } from "../../src/tokens/sealed-credential.js";

const root = mkdtempSync(join(tmpdir(), "cs-cli-tokens-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cli(env: Record<string, string> = {}) {
  const dataDir = join(root, randomBytes(4).toString("hex"));
  const fullEnv = { COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_GENERATED_DIR: join(root, "no-generated"), ...env };
  return {
    dataDir,
    env: fullEnv,
    async run(...argv: string[]) {
      let stdout = "";
      let stderr = "";
      const code = await run(argv, {
        stdout: (t) => void (stdout += t),
        stderr: (t) => void (stderr += t),
        env: fullEnv,
        now: () => new Date(),
        stdin: async () => "from-stdin-credential\n",
      });
      return { code, stdout, stderr };
    },
  };
}

describe("countersign tokens", () => {
  it("create --json prints the secret once; list never shows it; the file holds only its hash", async () => {
    const c = cli();
    const made = await c.run("create", "--name", "ci-bot", "--modules", "tasks,projects", "--read-only", "--expires", "30d", "--json");
    expect(made.code).toBe(0);
    const out = JSON.parse(made.stdout);
    expect(out).toMatchObject({ name: "ci-bot", modules: ["tasks", "projects"], readOnly: true, tier: "default", revokedAt: null, hasUpstreamCredential: false });
    expect(out.id).toMatch(/^tok_[0-9A-Za-z]+$/);
    expect(out.token).toMatch(/^csk_[0-9A-Za-z]{36}$/);
    expect(Date.parse(out.expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);

    const listed = await c.run("list", "--json");
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(out.token);
    expect(listed.stdout).not.toContain("hash");
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: out.id, name: "ci-bot", status: "active", lastUsedAt: null })]);
    const human = await c.run("list");
    expect(human.stdout).toMatch(/ID\s+NAME\s+MODULES\s+ACCESS\s+TIER\s+CREATED\s+LAST USED\s+EXPIRES\s+STATUS/);
    expect(human.stdout).toContain("tasks,projects");
    expect(human.stdout).not.toContain(out.token);

    for (const f of readdirSync(c.dataDir)) {
      expect(readFileSync(join(c.dataDir, f), "utf8")).not.toContain(out.token);
      expect(statSync(join(c.dataDir, f)).mode & 0o777).toBe(0o600);
    }

    // The minted token authenticates against the same store a gateway opens.
    const auth = createAuthenticator({ store: createTokenFileStore({ dir: c.dataDir }), secretKey: readSecretKey({}) });
    expect(await auth.authenticate(out.token)).toMatchObject({ tokenId: out.id, subject: "ci-bot", readOnly: true });
  });

  it("revoke takes effect for a running authenticator, and is idempotent", async () => {
    const c = cli();
    const out = JSON.parse((await c.run("create", "--name", "alice", "--json")).stdout);
    const auth = createAuthenticator({ store: createTokenFileStore({ dir: c.dataDir }), secretKey: readSecretKey({}) });
    await auth.authenticate(out.token);
    const revoked = await c.run("revoke", out.id, "--json");
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ id: out.id, status: "revoked", alreadyRevoked: false });
    await expect(auth.authenticate(out.token)).rejects.toMatchObject({ details: { reason: "revoked" } });
    const again = await c.run("revoke", out.id);
    expect(again.stdout).toMatch(/already revoked/);
    const unknown = await c.run("revoke", "tok_missing");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no token with id tok_missing/);
  });

  it("human create output shows the token once with a warning", async () => {
    const c = cli();
    const made = await c.run("create", "--name", "bob");
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/Created tok_\S+ for bob: modules all, read-write, tier default, never expires\./);
    expect(made.stdout).toMatch(/\n {2}csk_[0-9A-Za-z]{36}\n/);
    expect(made.stdout).toMatch(/only time the token is shown/);
  });

  it("encrypts an upstream credential with COUNTERSIGN_SECRET_KEY, and refuses without it", async () => {
    const noKey = cli();
    const refused = await noKey.run("create", "--name", "x", "--upstream-credential", "pat-123");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--upstream-credential needs an encryption key: COUNTERSIGN_SECRET_KEY is not set/);
    expect(JSON.parse((await noKey.run("list", "--json")).stdout)).toEqual([]);

    const key = randomBytes(32).toString("base64");
    const c = cli({ COUNTERSIGN_SECRET_KEY: key });
    const out = JSON.parse((await c.run("create", "--name", "y", "--upstream-credential", "pat-abcdef123", "--json")).stdout);
    expect(out.hasUpstreamCredential).toBe(true);
    expect(readFileSync(join(c.dataDir, "tokens.json"), "utf8")).not.toContain("pat-abcdef123");
    const auth = createAuthenticator({ store: createTokenFileStore({ dir: c.dataDir }), secretKey: readSecretKey({ COUNTERSIGN_SECRET_KEY: key }) });
    expect((await auth.authenticate(out.token)).upstreamCredential).toBe("pat-abcdef123");

    const fromStdin = JSON.parse((await c.run("create", "--name", "z", "--upstream-credential", "-", "--json")).stdout);
    expect((await auth.authenticate(fromStdin.token)).upstreamCredential).toBe("from-stdin-credential");
  });

  it("checks --modules against the generated API and --tier against the config", async () => {
    const generated = join(root, "gen");
    mkdirSync(generated, { recursive: true });
    writeFileSync(join(generated, "manifest.json"), JSON.stringify({ modules: [{ name: "tasks" }, { name: "people" }] }));
    const config = join(root, "countersign.yaml");
    writeFileSync(config, "rateLimits:\n  tiers:\n    gold: { normal: 5000 }\n");
    const c = cli({ COUNTERSIGN_GENERATED_DIR: generated, COUNTERSIGN_CONFIG: config });
    const bad = await c.run("create", "--name", "a", "--modules", "tasks,billing");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--modules: unknown module billing \(the API has tasks, people\)/);
    const tier = await c.run("create", "--name", "a", "--tier", "platinum");
    expect(tier.code).toBe(2);
    expect(tier.stderr).toMatch(/--tier platinum: not defined in the config \(rateLimits\.tiers has default, gold\)/);
    const ok = await c.run("create", "--name", "a", "--modules", "people", "--tier", "gold", "--json");
    expect(JSON.parse(ok.stdout)).toMatchObject({ modules: ["people"], tier: "gold" });
  });

  it("answers bad usage with exit 2 and a message naming the problem", async () => {
    const c = cli();
    const cases: [string[], RegExp][] = [
      [["create"], /create needs --name/],
      [["create", "--name", "a", "--expires", "soon"], /--expires soon: expected a duration/],
      [["create", "--name", "a", "--modules", ","], /--modules needs at least one module name/],
      [["create", "--name", "a", "--bogus"], /Unknown option '--bogus'/],
      [["revoke"], /revoke takes exactly one token id/],
      [["frobnicate"], /unknown subcommand 'frobnicate'/],
    ];
    for (const [argv, message] of cases) {
      const r = await c.run(...argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect((await c.run("list")).stdout).toMatch(/No tokens yet/);
  });
});
