/** One generator feature per assertion, on a small hand-written spec (test/fixtures/specs/features-3.0.yaml). */
import { beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../codegen/config.js";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { byOperationId, expectSound, fixture, generateSpec, type Generated } from "./helpers.js";

let gen: Generated;
const tool = (name: string): ToolDescriptor => {
  const t = gen.tools.find((x) => x.name === name);
  if (!t) throw new Error(`no tool ${name}`);
  return t;
};
const props = (t: ToolDescriptor): Record<string, Record<string, unknown>> => t.inputSchema.properties as Record<string, Record<string, unknown>>;

beforeAll(async () => {
  gen = await generateSpec(fixture("features-3.0.yaml"));
});

describe("features fixture", () => {
  it("is sound: valid unique names, strict schemas", () => {
    expectSound(gen.tools);
  });

  it("names tools from operationIds, else method + path, resolving collisions in path order", () => {
    expect(byOperationId(gen.tools, "listPets").name).toBe("list_pets");
    expect(gen.tools.find((t) => t.binding.path === "/things")?.name).toBe("get_things");
    expect(byOperationId(gen.tools, "things-get").name).toBe("things_get");
    expect(byOperationId(gen.tools, "thingsGet").name).toBe("things_get_2");
    expect(tool("upload_pet_photo").module).toBe("media_files");
  });

  it("flattens an object body, drops readOnly from input and writeOnly from output, merges allOf", () => {
    const create = tool("create_pet");
    expect(create.binding.body).toMatchObject({ mode: "flat", mediaType: "application/json", required: true });
    expect(Object.keys(props(create))).not.toContain("id");
    expect(Object.keys(props(create))).toContain("secret");
    expect(create.inputSchema.required).toEqual(["name"]);
    const out = create.outputSchema!;
    expect(Object.keys(out.properties as object)).toContain("id");
    expect(Object.keys(out.properties as object)).not.toContain("secret");
    expect(out.required).toEqual(["id", "name"]);
    expect(JSON.stringify(create)).not.toContain("allOf");
  });

  it("translates nullable, exclusiveMinimum, unknown formats, bad regexes and OpenAPI-only keywords", () => {
    const create = tool("create_pet");
    expect(props(create).nickname).toEqual({ type: ["string", "null"] });
    expect(props(create).species).toEqual({ type: ["string", "null"], enum: ["cat", "dog", null] });
    expect(props(create).weird).toEqual({ type: "string" });
    expect(props(tool("list_pets")).limit).toEqual({ description: "Page size.", type: "integer", maximum: 100, exclusiveMinimum: 0 });
    const text = JSON.stringify(gen.tools);
    for (const k of ["example", "xml", "discriminator", "x-internal", "x-note", "nullable", "readOnly", "writeOnly"]) expect(text).not.toContain(`"${k}":`);
  });

  it("keeps oneOf and resolves relative-file $refs", () => {
    const create = tool("create_pet");
    expect((props(create).shape!.oneOf as unknown[]).length).toBe(2);
    expect(props(create).address).toEqual({ type: "object", properties: { street: { type: "string" }, city: { type: "string" } } });
  });

  it("wraps a body whose properties clash with parameters under `body`", () => {
    const replace = tool("replace_pet");
    expect(replace.binding.body).toMatchObject({ mode: "wrapped", argument: "body" });
    expect(Object.keys(props(replace))).toEqual(["petId", "If-Match", "body"]);
    expect(replace.inputSchema.required).toEqual(["petId", "If-Match"]);
    expect(replace.annotations).toMatchObject({ readOnlyHint: false, idempotentHint: true, destructiveHint: false });
  });

  it("binds every parameter location with its style, and cleans argument names", () => {
    const list = tool("list_pets");
    const args = Object.fromEntries(list.binding.arguments.map((a) => [a.wireName, a]));
    expect(args.session).toMatchObject({ in: "cookie", style: "form", explode: true });
    expect(args["X-Trace"]).toMatchObject({ in: "header", style: "simple", explode: false });
    expect(args["filter[status]"]).toMatchObject({ name: "filter_status", in: "query", style: "deepObject", explode: true });
    expect(args.where).toMatchObject({ in: "query", contentType: "application/json" });
    expect(args.Accept).toBeUndefined();
    expect(list.binding.serverPath).toBe("/v2");
    expect(list.binding.security).toEqual([[{ name: "apiKey", type: "apiKey", in: "header", paramName: "X-API-Key", scopes: [] }]]);
  });

  it("describes concisely and keeps the full prose in details", () => {
    const list = tool("list_pets");
    expect(list.description).toBe("List pets.");
    expect(list.title).toBe("List pets");
    expect(list.details).toContain("Long explanation");
    const pets = gen.manifest.modules.find((m) => m.name === "pets")!;
    expect(pets.description).toBe("Pets in the store.");
  });

  it("multipart: file parts, encodings with defaults", () => {
    const upload = tool("upload_pet_photo");
    expect(upload.binding.body).toMatchObject({
      mediaType: "multipart/form-data",
      mode: "flat",
      fileProperties: ["photo"],
      encoding: { photo: { contentType: "image/png", style: "form", explode: true, allowReserved: false } },
    });
    expect(props(upload).photo!.format).toBeUndefined();
  });

  it("x-mcp-write, x-mcp-annotations, x-mcp-sensitive (operation and tag), rules", () => {
    const search = tool("search_pets");
    expect(search.policy.write).toBe(false);
    expect(search.annotations.readOnlyHint).toBe(true);
    expect(search.binding.body?.mediaType).toBe("application/x-www-form-urlencoded");
    const del = tool("delete_pet");
    expect(del.annotations).toMatchObject({ title: "Release a pet", destructiveHint: false, idempotentHint: true });
    expect(del.policy).toEqual({ write: true, sensitive: true, excluded: false });
    expect(tool("read_audit").policy.sensitive).toBe(true);
    // x-mcp-exclude: false opts out of default exclusions; the webhooks rule still marks it sensitive.
    const hook = tool("create_hook");
    expect(hook.policy.sensitive).toBe(true);
    expect(hook.binding.security).toEqual([[{ name: "oauth", type: "oauth2", scopes: ["pets:write"] }], []]);
  });

  it("picks the JSON success response for outputSchema and lists media types best first", () => {
    const stream = tool("stream_events");
    expect(stream.binding.responseMediaTypes).toEqual(["application/json", "text/event-stream"]);
    expect(stream.outputSchema).toEqual({ type: "object", properties: { done: { type: "boolean" } } });
  });

  it("lists exclusions with reasons: operation, path, tag, default rules", () => {
    const reasons = Object.fromEntries(gen.manifest.excluded.map((e) => [e.operationId, e.reason]));
    expect(reasons.purgeEverything).toBe("destructive maintenance endpoint");
    expect(reasons.health).toBe("x-mcp-exclude on the path");
    expect(reasons.openVault).toBe("x-mcp-exclude on tag secret");
    expect(reasons.listPlans).toMatch(/\(rule billing\)$/);
    expect(reasons.issueToken2).toMatch(/\(rule token-management\)$/);
    for (const file of gen.files.keys()) if (file.endsWith(".ts") && file !== "types.ts") expect(gen.files.get(file)).not.toContain("purgeEverything");
  });

  it("config rules: disable by id, add, override", async () => {
    const config = parseConfig(
      {
        rules: [
          { id: "token-management", disabled: true },
          { id: "billing", action: "exclude", reason: "plans are private", match: { tagWords: ["billing"], methods: ["GET"] } },
          { id: "no-streams", action: "exclude", reason: "streams need a client that reads SSE", anyOf: [{ mediaTypes: ["text/event-stream"] }] },
        ],
      },
      "test config",
    );
    const g = await generateSpec(fixture("features-3.0.yaml"), { rules: config.rules });
    const reasons = Object.fromEntries(g.manifest.excluded.map((e) => [e.operationId, e.reason]));
    // With token management disabled, the OAuth token endpoint falls to the oauth-flows rule.
    expect(reasons.issueToken2).toMatch(/\(rule oauth-flows\)$/);
    expect(reasons.listPlans).toBe("plans are private (rule billing)");
    expect(reasons.streamEvents).toMatch(/\(rule no-streams\)$/);
  });

  it("config errors name the key", () => {
    expect(() => parseConfig({ rules: [{ id: "x", action: "hide", reason: "r", match: { words: ["a"] } }] }, "c.yaml")).toThrow(/c\.yaml: rules\[0\]\.action must be/);
    expect(() => parseConfig({ rules: [{ id: "nope", disabled: true }] }, "c.yaml")).toThrow(/names no rule to disable/);
    expect(() => parseConfig({ rulez: [] }, "c.yaml")).toThrow(/c\.yaml: rulez is not a known key/);
    expect(() => parseConfig({ rules: [{ id: "x", action: "exclude", reason: "r", match: { colour: ["a"] } }] }, "c.yaml")).toThrow(/match\.colour is not a known match field/);
  });

  it("is deterministic: two runs give identical files", async () => {
    const again = await generateSpec(fixture("features-3.0.yaml"));
    expect([...again.files.entries()]).toEqual([...gen.files.entries()]);
  });
});

describe("duplicate operationIds", () => {
  it("get distinct tool names; openapi-typescript's refusal becomes a note and a comment-only upstream.d.ts", async () => {
    const { mkdtemp, writeFile, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const dir = await mkdtemp(path.join(tmpdir(), "countersign-dup-"));
    try {
      const spec = path.join(dir, "dup.json");
      const op = { operationId: "getThing", responses: { "200": { description: "ok" } } };
      await writeFile(spec, JSON.stringify({ openapi: "3.0.3", info: { title: "dup", version: "1" }, paths: { "/a": { get: op }, "/b": { get: op } } }));
      const g = await generateSpec(spec, { upstreamTypes: true });
      expect(g.tools.map((t) => [t.name, t.binding.path])).toEqual([
        ["get_thing", "/a"],
        ["get_thing_2", "/b"],
      ]);
      const upstream = g.files.get("upstream.d.ts")!;
      expect(upstream).toMatch(/^\/\/ Generated by countersign/);
      expect(upstream).toContain("// No upstream types:");
      expect(upstream).toContain("export {};");
      expect((g.manifest as { notes?: string[] }).notes?.join("\n")).toMatch(/upstream\.d\.ts: openapi-typescript failed/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
