import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstream, type RunningUpstream } from "../../examples/upstream/server.js";
import { callEveryOperation } from "./call-every-op.js";

const TOKEN = "pets-token";

describe("sample upstream engine on an OpenAPI 3.0 spec", () => {
  let dir: string;
  let up: RunningUpstream;
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${up.baseUrl}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "upstream-30-"));
    up = await startUpstream({ spec: "test/fixtures/upstream/petstore-30.yaml", port: 0, dataDir: dir, token: TOKEN });
  });
  afterAll(async () => {
    await up?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves under the relative server path and answers every operation with a valid response", async () => {
    expect(up.baseUrl).toMatch(/\/api$/);
    const outcomes = await callEveryOperation(up, TOKEN);
    expect(outcomes.filter((o) => o.problems.length > 0)).toEqual([]);
    expect(outcomes).toHaveLength(10);
  });

  it("uses page pagination, form-encoded creates, integer ids and nested pets", async () => {
    const form = await fetch(`${up.baseUrl}/owners`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/x-www-form-urlencoded" }, body: "name=Jo&city=Oslo" });
    expect(form.status).toBe(201);
    const owner = (await form.json()) as { id: number; name: string; city: string | null };
    expect(owner).toMatchObject({ name: "Jo", city: "Oslo" });
    expect(Number.isInteger(owner.id)).toBe(true);
    const page = (await (await call("GET", "/owners?per_page=2&page=1")).json()) as { items: unknown[]; total: number; page: number; per_page: number };
    expect(page).toMatchObject({ page: 1, per_page: 2 });
    expect(page.items).toHaveLength(2);
    expect((await (await call("GET", "/owners?city=Oslo")).json()) as { total: number }).toMatchObject({ total: 1 });
    const pet = (await (await call("POST", `/owners/${owner.id}/pets`, { name: "Rex", kind: "dog", details: null })).json()) as { id: number; ownerId: number; details: unknown };
    expect(pet).toMatchObject({ ownerId: owner.id, details: null });
    const pets = (await (await call("GET", `/owners/${owner.id}/pets`)).json()) as { id: number }[];
    expect(pets.map((p) => p.id)).toEqual([pet.id]);
    expect((await call("GET", "/owners/abc")).status).toBe(400);
    expect((await call("GET", "/owners/999999")).status).toBe(404);
  });
});
