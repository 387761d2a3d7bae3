import { describe, expect, it } from "vitest";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { schemaForProfile, toStrictSchema } from "../../src/surface/schema-profile.js";
import { inspectorLint, strictProfileLint } from "./portability-lint.js";
import { rng, sample } from "./sample-args.js";

type Obj = Record<string, unknown>;
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

function validator(): Ajv2020 {
  return addFormats(new Ajv2020({ strict: false, allowUnionTypes: true, logger: false }));
}

/** Samples argument sets valid under the original schema; asserts each also validates under strict. */
export function assertStrictAcceptsValidSamples(schema: Obj, samples = 40, seed = 1): { valid: number; tried: number } {
  const ajv = validator();
  const original = ajv.compile(schema);
  const strict = ajv.compile(toStrictSchema(schema));
  const next = rng(seed);
  let valid = 0;
  for (let i = 0; i < samples; i++) {
    const args = sample(schema, schema, next);
    if (!original(args)) continue;
    valid++;
    const ok = strict(args);
    if (!ok) throw new Error(`strict rejects ${JSON.stringify(args)}: ${JSON.stringify(strict.errors)}`);
  }
  return { valid, tried: samples };
}

const recursive: Obj = {
  type: "object",
  properties: {
    name: { type: "string", minLength: 1 },
    parent: { $ref: "#/$defs/Folder" },
  },
  required: ["name"],
  $defs: {
    Folder: {
      type: "object",
      description: "A folder.",
      properties: { id: { type: "integer" }, children: { type: "array", items: { $ref: "#/$defs/Folder" } } },
      required: ["id"],
    },
  },
};

const composite: Obj = {
  type: "object",
  oneOf: [
    { properties: { email: { type: "string", format: "email" }, role: { type: "string", enum: ["admin", "member"] } }, required: ["email", "role"] },
    { properties: { user_id: { type: "integer" }, role: { type: "string", enum: ["admin", "member"] } }, required: ["user_id", "role"] },
  ],
  properties: {
    workspace_id: { type: "string" },
    note: { type: ["string", "null"], maxLength: 20 },
    due: { type: ["string", "null"], format: "date-time", description: "When it is due." },
    size: { type: ["integer", "string"] },
    level: { type: ["string", "null"], enum: ["low", "high", null] },
    meta: {
      allOf: [
        { type: "object", properties: { a: { type: "string" } }, required: ["a"] },
        { properties: { b: { type: "integer" } } },
      ],
    },
  },
  required: ["workspace_id"],
};

describe("strict schema profile", () => {
  it("leaves the default profile untouched", () => {
    expect(schemaForProfile(recursive, "default")).toBe(recursive);
  });

  it("inlines $defs and cuts recursion at depth 1 with a permissive, described stand-in", () => {
    const s = toStrictSchema(recursive) as any;
    expect(s.$defs).toBeUndefined();
    expect(s.properties.parent.type).toBe("object");
    expect(s.properties.parent.required).toEqual(["id"]);
    const cut = s.properties.parent.properties.children.items;
    expect(cut).toEqual({ type: "object", description: expect.stringContaining("recursive") });
    expect(strictProfileLint(s)).toEqual([]);
    expect(inspectorLint(s)).toEqual([]);
  });

  it("flattens top-level oneOf into one object: union of properties, intersection of required", () => {
    const s = toStrictSchema(composite) as any;
    expect(s.oneOf).toBeUndefined();
    expect(Object.keys(s.properties).sort()).toEqual(["due", "email", "level", "meta", "note", "role", "size", "user_id", "workspace_id"]);
    expect(s.required.sort()).toEqual(["role", "workspace_id"]);
    expect(s.description).toMatch(/2 alternative/);
  });

  it("relaxes type arrays, moves formats into descriptions and merges allOf", () => {
    const s = toStrictSchema(composite) as any;
    expect(s.properties.note).toEqual({ type: "string", nullable: true, maxLength: 20 });
    expect(s.properties.due).toEqual({ type: "string", nullable: true, description: "When it is due. (format: date-time)" });
    expect(s.properties.email.description).toBe("(format: email)");
    expect(s.properties.size).toEqual({ anyOf: [{ type: "integer" }, { type: "string" }] });
    expect(s.properties.meta).toEqual({ type: "object", properties: { a: { type: "string" }, b: { type: "integer" } }, required: ["a"] });
    expect(strictProfileLint(s)).toEqual([]);
    expect(inspectorLint(s)).toEqual([]);
  });

  it("memoises per schema object", () => {
    expect(schemaForProfile(composite, "strict")).toBe(schemaForProfile(composite, "strict"));
  });

  it("accepts every sampled argument set the original schema accepts", () => {
    for (const [i, schema] of [recursive, composite].entries()) {
      const { valid } = assertStrictAcceptsValidSamples(schema, 200, i + 7);
      expect(valid).toBeGreaterThan(50);
    }
  });

  it("still rejects what breaks a constraint it keeps", () => {
    const ajv = validator();
    const strict = ajv.compile(toStrictSchema(composite));
    expect(strict({ role: "admin" })).toBe(false); // workspace_id stays required
    expect(strict({ workspace_id: "w", role: "owner" })).toBe(false); // enums survive
    expect(strict({ workspace_id: "w", role: "admin", note: "x".repeat(21) })).toBe(false);
  });
});
