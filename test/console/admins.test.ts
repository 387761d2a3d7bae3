/**
 * Admins and console sessions: credentials hashed at rest in a 0600 file, one-time links that
 * expire after ten minutes, sessions that end when idle, and the `countersign admins` CLI.
 */
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ADMIN_FILE, createAdminFileStore, LINK_TTL_MS } from "../../src/console/admins.js";
import { createSessionStore } from "../../src/console/sessions.js";
import { run } from "../../src/cli/admins.js";

const dir = () => mkdtempSync(join(tmpdir(), "cs-admins-"));

describe("admin store", () => {
  it("keeps only the credential's hash, in a file only its owner can read", async () => {
    const d = dir();
    const store = createAdminFileStore({ dir: d });
    const { credential, admin } = await store.create("alice");
    expect(credential).toMatch(/^csa_[0-9A-Za-z]{32}$/);
    const text = readFileSync(join(d, ADMIN_FILE), "utf8");
    expect(text).not.toContain(credential);
    expect(text).toContain(admin.hash);
    expect(statSync(join(d, ADMIN_FILE)).mode & 0o777).toBe(0o600);
    expect(await store.authenticate(credential)).toEqual({ id: admin.id, name: "alice" });
    expect(await store.authenticate(credential.slice(0, -1) + (credential.endsWith("a") ? "b" : "a"))).toBeUndefined();
    await expect(store.create("alice")).rejects.toThrow(/already exists/);
    await expect(store.create("<script>")).rejects.toThrow(/admin name/);
  });

  it("a sign-in link works once and not after ten minutes", async () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const store = createAdminFileStore({ dir: dir(), now: () => now });
    await expect(store.createLink()).rejects.toThrow(/no admins yet/);
    await store.create("alice");
    const once = await store.createLink();
    expect(once.admin.name).toBe("alice");
    expect(await store.consumeLink(once.secret)).toMatchObject({ ok: true, admin: { name: "alice" } });
    expect(await store.consumeLink(once.secret)).toMatchObject({ ok: false, reason: expect.stringMatching(/already used/) });
    const late = await store.createLink("alice");
    now += LINK_TTL_MS + 1;
    expect(await store.consumeLink(late.secret)).toMatchObject({ ok: false });
    await store.create("bob");
    await expect(store.createLink()).rejects.toThrow(/pass --name/);
    await expect(store.createLink("carol")).rejects.toThrow(/no admin named 'carol'/);
  });

  it("two stores on one file (the CLI and a gateway) see each other's writes", async () => {
    const d = dir();
    const cli = createAdminFileStore({ dir: d });
    const server = createAdminFileStore({ dir: d });
    await cli.create("alice");
    const { secret } = await cli.createLink();
    expect(await server.consumeLink(secret)).toMatchObject({ ok: true });
    expect(await cli.consumeLink(secret)).toMatchObject({ ok: false });
  });
});

describe("console sessions", () => {
  it("end after the idle timeout, and each use moves the deadline", () => {
    let now = 0;
    const store = createSessionStore({ idleMs: 1000, now: () => now });
    const { id, session } = store.open({ id: "adm_1", name: "alice" });
    expect(session.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    now = 900;
    expect(store.get(id)?.admin.name).toBe("alice");
    now = 1800;
    expect(store.get(id)).toBeDefined();
    now = 2700;
    expect(store.alive(id)).toBe(true);
    now = 2900;
    expect(store.alive(id)).toBe(false); // looking does not keep it alive
    expect(store.get(id)).toBeUndefined();
    expect(store.get("not-a-session")).toBeUndefined();
  });
});

describe("countersign admins", () => {
  function io(env: Record<string, string>) {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), env } };
  }

  it("create shows the credential once; link prints a sign-in URL; list names the admins", async () => {
    const env = { COUNTERSIGN_DATA_DIR: dir(), PORT: "9999" };
    const a = io(env);
    expect(await run(["create", "--name", "alice", "--json"], a.io)).toBe(0);
    const created = JSON.parse(a.out.join("")) as { credential: string; name: string };
    expect(created.credential).toMatch(/^csa_/);
    const b = io(env);
    expect(await run(["link"], b.io)).toBe(0);
    expect(b.out.join("")).toMatch(/http:\/\/127\.0\.0\.1:9999\/console\/signin\?t=csl_[0-9A-Za-z]{32}/);
    const c = io(env);
    expect(await run(["list"], c.io)).toBe(0);
    expect(c.out.join("")).toContain("alice");
    expect(c.out.join("")).not.toContain(created.credential);
  });

  it("usage errors name what is missing", async () => {
    const env = { COUNTERSIGN_DATA_DIR: dir() };
    const a = io(env);
    expect(await run(["create"], a.io)).toBe(2);
    expect(a.err.join("")).toMatch(/create needs --name/);
    const b = io(env);
    expect(await run(["link"], b.io)).toBe(1);
    expect(b.err.join("")).toMatch(/no admins yet/);
  });
});
