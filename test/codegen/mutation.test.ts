/**
 * Property test: the bundled real specs, broken at random (a node deleted, set to null, given
 * another type, a `$ref` pointed nowhere), still generate: no throw, valid unique names, and
 * input schemas that strict ajv compiles with the validate stage's options. Only a document that
 * stopped being OpenAPI may fail whole.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import fc from "fast-check";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate } from "../../codegen/generate.js";
import { parseModuleFile } from "../../codegen/load.js";
import type { Manifest, ToolDescriptor } from "../../codegen/descriptor.js";
import { fixture, nameProblems } from "./helpers.js";

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Key = string | number;

/** Specs small enough to use whole, and large ones of which each run keeps a few paths. */
const WHOLE = ["awkward-swagger2-petstore.json.gz", "awkward-oas31-figma.yaml.gz", "fixture-scalar-galaxy-3.1.json.gz", "fixture-parameter-styles-3.0.json.gz", "fixture-circular-request-bodies.json.gz", "fixture-cookie-params.json.gz"];
const SLICED = ["stress-github-api.github.com.json.gz", "stripe.json.gz", "awkward-multipart-box.json.gz", "awkward-swagger2-kubernetes-1.13.json.gz"];
const PATHS_PER_SLICE = 6;
/** Runs per test; raise it (MUTATION_RUNS=1000) to search longer. */
const RUNS = Number(process.env.MUTATION_RUNS ?? 60);

/** What a whole-spec failure may say: the document is no longer OpenAPI. */
const WHOLE_SPEC_FAILURE = /not an OpenAPI document|unsupported (OpenAPI|Swagger) version|the spec is not an object/;

const ajv = addFormats(new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true, validateFormats: true }));

let dir: string;
const specs = new Map<string, Json>();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "countersign-mutation-"));
  for (const name of [...WHOLE, ...SLICED]) {
    const text = gunzipSync(await readFile(fixture(name))).toString("utf8");
    specs.set(name, (name.includes(".json") ? JSON.parse(text) : YAML.parse(text)) as Json);
  }
  specs.set("workspace.yaml", YAML.parse(await readFile(path.resolve("openapi/workspace.yaml"), "utf8")) as Json);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function children(v: Json): Key[] {
  if (Array.isArray(v)) return v.map((_, i) => i);
  if (v !== null && typeof v === "object") return Object.keys(v);
  return [];
}

function at(root: Json, keys: readonly Key[]): Json {
  let v: Json | undefined = root;
  for (const k of keys) v = v !== null && typeof v === "object" ? (v as Record<Key, Json>)[k] : undefined;
  return v as Json;
}

/** A copy of `root` with `change` applied to the node at `keys`; only the containers on the way are copied. */
function rewrite(root: Json, keys: readonly Key[], change: (parent: Json[] | Record<string, Json>, key: Key) => void): Json {
  const copy = (v: Json): Json[] | Record<string, Json> => (Array.isArray(v) ? [...v] : { ...(v as Record<string, Json>) });
  const top = copy(root);
  let parent = top;
  for (let i = 0; i < keys.length - 1; i++) {
    const next = copy((parent as Record<Key, Json>)[keys[i]!]!);
    (parent as Record<Key, Json>)[keys[i]!] = next;
    parent = next;
  }
  change(parent, keys[keys.length - 1]!);
  return top;
}

/** Walks down from `start` taking the child each choice picks; a choice of 0 stops early. */
function walk(root: Json, start: Key[], choices: readonly number[]): Key[] {
  const keys = [...start];
  for (const c of choices) {
    const ks = children(at(root, keys));
    if (ks.length === 0 || (c % 5 === 0 && keys.length > start.length)) break;
    keys.push(ks[c % ks.length]!);
  }
  return keys;
}

/** The first `$ref` at or under a node, as the keys of the object that holds it. */
function findRef(root: Json, keys: Key[]): Key[] | undefined {
  const stack: Key[][] = [keys];
  while (stack.length > 0) {
    const k = stack.pop()!;
    const v = at(root, k);
    if (v !== null && typeof v === "object" && !Array.isArray(v) && typeof v.$ref === "string") return k;
    for (const c of children(v).reverse()) stack.push([...k, c]);
  }
  return undefined;
}

const OTHER_TYPE: Record<string, Json[]> = { object: ["text", 7, []], array: [{}, "text", false], string: [7, {}, true], number: ["7", [], null], boolean: ["yes", 0, {}], null: [{}, "null"] };
const BROKEN_REFS = ["#/components/schemas/NoSuchSchema", "./no-such-file.yaml#/Thing", "#/paths", "not a pointer", "#/components/schemas/~2", "http://[bad"];

interface Mutation {
  readonly kind: "delete" | "null" | "retype" | "ref";
  readonly fromOperation: boolean;
  readonly choices: number[];
  readonly pick: number;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom("delete", "null", "retype", "ref"),
  fromOperation: fc.boolean(),
  choices: fc.array(fc.nat(1000), { minLength: 1, maxLength: 10 }),
  pick: fc.nat(1000),
});

function apply(root: Json, m: Mutation, operations: Key[][]): Json {
  const startAt = m.fromOperation && operations.length > 0 ? operations[m.pick % operations.length]! : [];
  const keys = walk(root, startAt, m.choices);
  if (m.kind === "ref") {
    const holder = findRef(root, keys);
    if (holder) return rewrite(root, [...holder, "$ref"], (p, k) => ((p as Record<Key, Json>)[k] = BROKEN_REFS[m.pick % BROKEN_REFS.length]!));
  }
  if (keys.length === 0) return m.kind === "delete" ? {} : null;
  return rewrite(root, keys, (p, k) => {
    if (m.kind === "delete") {
      if (Array.isArray(p)) p.splice(k as number, 1);
      else delete p[k as string];
    } else if (m.kind === "retype") {
      const v = (p as Record<Key, Json>)[k]!;
      const kind = v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
      const options = OTHER_TYPE[kind]!;
      (p as Record<Key, Json>)[k] = options[m.pick % options.length]!;
    } else (p as Record<Key, Json>)[k] = null;
  });
}

/**
 * Keeps a few paths of a large spec and the components they reach (security schemes always):
 * each run still exercises real shapes, at a fraction of the size.
 */
function slice(root: Json, picks: readonly number[]): Json {
  const doc = root as Record<string, Json>;
  const all = Object.keys(doc.paths as Record<string, Json>);
  const kept: Record<string, Json> = {};
  for (const p of picks) kept[all[p % all.length]!] = (doc.paths as Record<string, Json>)[all[p % all.length]!]!;
  // Reachable components, by `$ref` (`#/components/schemas/X`, Swagger's `#/definitions/X`).
  const reached = new Set<string>();
  const stack: Json[] = [kept];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (!Array.isArray(v) && typeof v.$ref === "string" && v.$ref.startsWith("#/")) {
      const tokens = v.$ref.slice(2).split("/");
      const depth = tokens[0] === "components" ? 3 : 2;
      const key = tokens.slice(0, depth).join("/");
      if (tokens.length >= depth && !reached.has(key)) {
        reached.add(key);
        const target = at(doc, tokens.slice(0, depth).map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~")));
        if (target !== undefined) stack.push(target);
      }
    }
    for (const c of Object.values(v)) stack.push(c);
  }
  const out: Record<string, Json> = { ...doc, paths: kept };
  const keep = (section: Record<string, Json>, prefix: string): Record<string, Json> =>
    Object.fromEntries(Object.entries(section).filter(([name]) => reached.has(`${prefix}/${name.replace(/~/g, "~0").replace(/\//g, "~1")}`)));
  for (const s of ["definitions", "parameters", "responses"]) if (isMap(doc[s])) out[s] = keep(doc[s], s);
  if (isMap(doc.components)) {
    out.components = Object.fromEntries(Object.entries(doc.components).map(([type, section]) => [type, type === "securitySchemes" || !isMap(section) ? section : keep(section, `components/${type}`)]));
  }
  return out;
}

function isMap(v: Json | undefined): v is Record<string, Json> {
  return v !== null && v !== undefined && typeof v === "object" && !Array.isArray(v);
}

function operationKeys(root: Json): Key[][] {
  const paths = (root as Record<string, Json>).paths;
  if (paths === null || typeof paths !== "object" || Array.isArray(paths)) return [];
  return Object.entries(paths).flatMap(([p, item]) => (item !== null && typeof item === "object" ? children(item).map((m) => ["paths", p, m]) : []));
}

/** Warnings plus operations excluded as invalid, from a manifest text. */
function problemCount(text: string): number {
  const m = JSON.parse(text) as Manifest;
  return (m.warnings?.length ?? 0) + m.excluded.filter((e) => e.reason.startsWith("invalid:")).length;
}

/** Compiled once per distinct schema text: unchanged tools repeat across runs. */
const verdicts = new Map<string, string | undefined>();

function inputProblems(tools: readonly ToolDescriptor[]): string[] {
  const out: string[] = [];
  for (const t of tools) {
    const key = JSON.stringify(t.inputSchema);
    if (!verdicts.has(key)) {
      try {
        ajv.compile(t.inputSchema);
        verdicts.set(key, undefined);
      } catch (err) {
        verdicts.set(key, (err as Error).message);
      }
    }
    const problem = verdicts.get(key);
    if (problem !== undefined) out.push(`${t.name}: ${problem}`);
  }
  return out;
}

describe("randomly broken real specs", () => {
  it("always generate valid tools (or fail whole only when no longer OpenAPI)", { timeout: 60_000 + RUNS * 1000 }, async () => {
    const names = [...specs.keys()];
    let run = 0;
    let generated = 0;
    let warned = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat(names.length * 100), fc.array(fc.nat(100_000), { minLength: PATHS_PER_SLICE, maxLength: PATHS_PER_SLICE }), fc.array(mutation, { minLength: 1, maxLength: 4 }), async (which, picks, mutations) => {
        const name = names[which % names.length]!;
        let doc: Json = specs.get(name)!;
        if (SLICED.includes(name) || name === "workspace.yaml") doc = slice(doc, picks);
        // Operations are listed again after each change: an earlier one may have removed them.
        for (const m of mutations) doc = apply(doc, m, operationKeys(doc));
        const file = path.join(dir, `run-${run++}.json`);
        await writeFile(file, JSON.stringify(doc));
        const outcome = await generate({ specPath: file, command: "countersign generate --spec mutated", upstreamTypes: false });
        if (!outcome.ok) {
          expect(outcome.error).toMatch(WHOLE_SPEC_FAILURE);
          return;
        }
        generated++;
        if (problemCount(outcome.files.get("manifest.json")!) > 0) warned++;
        const manifest = JSON.parse(outcome.files.get("manifest.json")!) as Manifest;
        const tools = manifest.modules.flatMap((m) => parseModuleFile(outcome.files.get(m.file)!, m.file));
        expect(nameProblems(tools)).toEqual([]);
        expect(inputProblems(tools)).toEqual([]);
        for (const w of manifest.warnings ?? []) expect(w.pointer).toMatch(/#/);
        for (const e of manifest.excluded) expect(e.reason).not.toBe("");
        await rm(file);
      }),
      { numRuns: RUNS },
    );
    // Most runs must reach the generator's output, or the property says little.
    expect(generated).toBeGreaterThan(RUNS / 2);
    // And the mutations must reach what the generator reads, not only prose it passes through.
    expect(warned).toBeGreaterThan(RUNS / 10);
  });
});
