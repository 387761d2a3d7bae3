/**
 * Schema-driven value synthesis: produces values that validate against a JSON Schema / OpenAPI
 * schema, preferring the spec's own examples, enums and defaults, and realistic words for common
 * field names. Deterministic for a given random source.
 */
import { deref, refName, type Schema } from "./spec.js";

/** A deterministic random source (mulberry32). */
export interface Rng {
  next(): number;
  int(min: number, max: number): number;
  pick<T>(list: readonly T[]): T;
}

/** Creates a seeded random source. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
  };
}

/** The effective type of a schema (first non-null entry of a type array; inferred when absent). */
export function typeOf(s: Schema): string | undefined {
  const t = s.type;
  if (Array.isArray(t)) return (t as string[]).find((x) => x !== "null") ?? "null";
  if (typeof t === "string") return t;
  if (s.properties || s.additionalProperties) return "object";
  if (s.items) return "array";
  if (Array.isArray(s.enum) && s.enum.length > 0) return typeof s.enum[0] === "number" ? "number" : typeof s.enum[0];
  return undefined;
}

/** Whether `null` is allowed by the schema (3.1 type arrays or 3.0 `nullable`). */
export function allowsNull(s: Schema): boolean {
  return s.nullable === true || (Array.isArray(s.type) && (s.type as string[]).includes("null"));
}

/** Merges `allOf` parts (recursively) into one object schema; other schemas pass through dereferenced. */
export function flatten(doc: Schema, schema: unknown, depth = 0): Schema {
  if (depth === 0 && schema && typeof schema === "object") {
    // Schemas are immutable spec objects, so the merged view is computed once per object.
    const hit = flattenCache.get(schema as object);
    if (hit) return hit;
    const out = flattenUncached(doc, schema, 0);
    flattenCache.set(schema as object, out);
    return out;
  }
  return flattenUncached(doc, schema, depth);
}

const flattenCache = new WeakMap<object, Schema>();

function flattenUncached(doc: Schema, schema: unknown, depth: number): Schema {
  const s = deref(doc, schema);
  if (!Array.isArray(s.allOf) || depth > 8) return s;
  const { allOf, ...rest } = s;
  const out: Schema = { ...rest };
  const properties: Record<string, unknown> = { ...((rest.properties as Schema) ?? {}) };
  const required = new Set<string>((rest.required as string[]) ?? []);
  for (const part of allOf as unknown[]) {
    const p = flatten(doc, part, depth + 1);
    for (const [k, v] of Object.entries(p)) {
      if (k === "properties") {
        // allOf means every part applies: a property declared twice must satisfy both declarations.
        for (const [name, ps] of Object.entries(v as Schema)) properties[name] = name in properties ? { allOf: [properties[name], ps] } : ps;
      } else if (k === "required") for (const r of v as string[]) required.add(r);
      else if (k === "enum" && Array.isArray(out.enum)) out.enum = (out.enum as unknown[]).filter((x) => (v as unknown[]).includes(x));
      else if (!(k in out)) out[k] = v;
    }
  }
  if (Object.keys(properties).length > 0) out.properties = properties;
  if (required.size > 0) out.required = [...required];
  if (!out.type && out.properties) out.type = "object";
  return out;
}

/** Hints that make synthesized values read naturally. */
export interface SynthHints {
  /** Property name being generated. */
  name?: string;
  /** Component schema name of the enclosing resource (e.g. `Task`). */
  resource?: string;
  /** Index of the record (for seeded data), used to vary names. */
  index?: number;
  /** When true, optional properties are generated too (records); otherwise only required ones. */
  full?: boolean;
  /** Generating a request: readOnly properties are left out. */
  request?: boolean;
}

/** Clock for synthesized timestamps. */
export interface SynthClock {
  now(): Date;
}

const WORDS: Record<string, readonly string[]> = {
  Project: ["Website relaunch", "Mobile app v2", "Q3 onboarding revamp", "Data warehouse migration", "Customer portal", "Brand refresh"],
  Task: ["Draft launch email", "Review pricing page copy", "Fix login redirect loop", "Write API changelog", "Update onboarding checklist", "Prepare sprint demo", "Migrate CI to new runners", "Audit access permissions", "Design empty states", "Load-test search endpoint"],
  User: ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Linus Torvalds", "Margaret Hamilton"],
  Organization: ["Acme Robotics", "Northwind Labs"],
  Team: ["Platform", "Growth", "Design", "Customer Success"],
  WikiSpace: ["Engineering handbook", "Product specs", "Onboarding", "Support playbooks"],
  WikiPage: ["How we deploy", "On-call rotation", "Release checklist", "Architecture overview", "Coding guidelines", "Incident template"],
  Label: ["bug", "feature", "tech-debt", "design", "customer"],
  Milestone: ["Public beta", "v2.0 launch", "Q3 review", "GA release"],
  Sprint: ["Sprint 21", "Sprint 22", "Sprint 23", "Sprint 24"],
  Board: ["Delivery board", "Bug triage", "Design pipeline", "Roadmap"],
  ChatChannel: ["general", "releases", "support", "random"],
  Goal: ["Cut onboarding time in half", "Reach 99.95% uptime", "Ship the mobile app", "Grow weekly active teams 20%"],
  Product: ["Standing desk", "Monitor arm", "Desk lamp", "Cable tray"],
  Warehouse: ["Berlin central", "Hamburg port", "Munich south"],
  Document: ["Q3 plan", "Pricing proposal", "Security review", "Launch brief"],
  generic: ["Quarterly planning", "Design review", "Release checklist", "Team handbook", "Incident follow-up", "Roadmap notes", "Vendor evaluation", "Hiring pipeline"],
  sentence: [
    "Agreed in the weekly sync; owner to follow up by Friday.",
    "Blocked on the design review, expected to unblock tomorrow.",
    "Covers the happy path and the two known edge cases.",
    "Numbers are from last week's dashboard export.",
    "Please double-check the staging environment before merging.",
  ],
};

const FIRST = ["ada", "grace", "alan", "katherine", "linus", "margaret"];

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** Generates a string matching a simple regular expression (classes, groups, alternation, quantifiers). */
export function stringFromPattern(pattern: string, rng: Rng): string | undefined {
  let i = 0;
  const src = pattern;
  const classChars = (body: string): string[] => {
    const chars: string[] = [];
    let negate = false;
    let j = 0;
    if (body[0] === "^") {
      negate = true;
      j = 1;
    }
    while (j < body.length) {
      let c = body[j];
      if (c === "\\") {
        const e = body[j + 1];
        j += 2;
        chars.push(...escapeChars(e));
        continue;
      }
      if (body[j + 1] === "-" && j + 2 < body.length) {
        const end = body[j + 2];
        for (let k = c.charCodeAt(0); k <= end.charCodeAt(0); k++) chars.push(String.fromCharCode(k));
        j += 3;
        continue;
      }
      chars.push(c);
      j++;
      c = "";
    }
    if (negate) {
      const all = "abcdefghijklmnopqrstuvwxyz0123456789".split("");
      return all.filter((x) => !chars.includes(x));
    }
    return chars;
  };
  const escapeChars = (e: string): string[] => {
    if (e === "d") return "0123456789".split("");
    if (e === "w") return "abcdefghijklmnopqrstuvwxyz0123456789_".split("");
    if (e === "s") return [" "];
    return [e];
  };
  // Parses a sequence until ')' or end; returns generator closures.
  type Gen = () => string;
  const parseAlt = (): Gen => {
    const branches: Gen[][] = [[]];
    while (i < src.length && src[i] !== ")") {
      const c = src[i];
      if (c === "|") {
        branches.push([]);
        i++;
        continue;
      }
      let atom: Gen;
      if (c === "^" || c === "$") {
        i++;
        continue;
      } else if (c === "(") {
        i++;
        if (src.startsWith("?:", i)) i += 2;
        const inner = parseAlt();
        i++; // ')'
        atom = inner;
      } else if (c === "[") {
        const end = src.indexOf("]", i + 2);
        if (end < 0) throw new Error("bad class");
        const chars = classChars(src.slice(i + 1, end));
        i = end + 1;
        atom = () => rng.pick(chars);
      } else if (c === "\\") {
        const chars = escapeChars(src[i + 1]);
        i += 2;
        atom = () => rng.pick(chars);
      } else if (c === ".") {
        i++;
        atom = () => rng.pick("abcdefghijklmnopqrstuvwxyz".split(""));
      } else {
        i++;
        atom = () => c;
      }
      let min = 1;
      let max = 1;
      const q = src[i];
      if (q === "?") [min, max] = [0, 1];
      else if (q === "*") [min, max] = [0, 3];
      else if (q === "+") [min, max] = [1, 3];
      else if (q === "{") {
        const end = src.indexOf("}", i);
        const [a, b] = src.slice(i + 1, end).split(",");
        min = Number(a);
        max = b === undefined ? min : b === "" ? min + 3 : Number(b);
        i = end;
      }
      if (q === "?" || q === "*" || q === "+" || q === "{") {
        i++;
        if (src[i] === "?") i++;
      }
      const a = atom;
      const lo = min;
      const hi = max;
      branches[branches.length - 1].push(() => {
        const n = rng.int(lo, Math.min(hi, lo + 4));
        let s = "";
        for (let k = 0; k < n; k++) s += a();
        return s;
      });
    }
    return () => rng.pick(branches).map((g) => g()).join("");
  };
  try {
    const gen = parseAlt();
    const re = new RegExp(pattern, "u");
    for (let attempt = 0; attempt < 20; attempt++) {
      const s = gen();
      if (re.test(s)) return s;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Creates a synthesizer bound to a spec document, a random source and a clock. */
export function createSynth(doc: Schema, rng: Rng, clock: SynthClock) {
  function isoDate(d: Date): string {
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  }

  function stringFor(s: Schema, hints: SynthHints): string {
    const name = (hints.name ?? "").toLowerCase();
    const idx = hints.index ?? rng.int(0, 50);
    const format = s.format as string | undefined;
    const now = clock.now();
    const recent = new Date(now.getTime() - rng.int(0, 7 * 24 * 3600) * 1000);
    recent.setUTCMilliseconds(0);
    let v: string | undefined;
    switch (format) {
      case "date-time":
        v = recent.toISOString().replace(".000Z", "Z");
        break;
      case "date":
        v = isoDate(name.includes("due") ? new Date(now.getTime() + rng.int(1, 21) * 86400000) : recent);
        break;
      case "time":
        v = `${pad(rng.int(8, 18))}:${pad(rng.pick([0, 15, 30, 45]))}:00`;
        break;
      case "email":
      case "idn-email":
        v = `${FIRST[idx % FIRST.length]}${idx >= FIRST.length ? idx : ""}@example.com`;
        break;
      case "uri":
      case "url":
      case "iri":
      case "uri-reference":
        v = `https://example.com/${hints.resource?.toLowerCase() ?? "r"}/${idx}`;
        break;
      case "uuid": {
        const hex = () => Math.floor(rng.next() * 16).toString(16);
        const block = (n: number) => Array.from({ length: n }, hex).join("");
        v = `${block(8)}-${block(4)}-4${block(3)}-${rng.pick(["8", "9", "a", "b"])}${block(3)}-${block(12)}`;
        break;
      }
      case "hostname":
        v = "example.com";
        break;
      case "ipv4":
        v = `10.0.${rng.int(0, 255)}.${rng.int(1, 254)}`;
        break;
      case "ipv6":
        v = "2001:db8::1";
        break;
      case "byte":
        v = Buffer.from("sample").toString("base64");
        break;
      case "binary":
        v = "sample";
        break;
      case "password":
        v = "s3cret-Passw0rd";
        break;
      case "duration":
        v = "PT1H30M";
        break;
    }
    if (v === undefined && typeof s.pattern === "string") v = stringFromPattern(s.pattern, rng);
    if (v === undefined) {
      const res = hints.resource ?? "";
      if (/(^|_)(name|title|subject|label)$/.test(name) || name === "name") {
        const list = WORDS[res] ?? WORDS.generic;
        v = list[idx % list.length];
        if (idx >= list.length) v = `${v} ${Math.floor(idx / list.length) + 1}`;
      } else if (/description|body|content|text|message|summary|note|comment/.test(name)) v = rng.pick(WORDS.sentence);
      else if (name === "color" || name.endsWith("_color")) v = rng.pick(["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]);
      else if (name === "slug" || name === "key" || name.endsWith("_key")) v = `item-${idx}`;
      else if (name.includes("timezone")) v = "Europe/Berlin";
      else if (name === "locale" || name === "language") v = "en-US";
      else if (name === "currency") v = "EUR";
      else if (name.includes("country")) v = "DE";
      else if (name === "phone") v = "+49 30 1234567";
      else if (name === "domain" || name.endsWith("_domain")) v = "acme.example";
      else if (name === "sku") v = `SKU-${1000 + idx}`;
      else if (name === "url" || name.endsWith("_url")) v = `https://example.com/${res.toLowerCase() || "r"}/${idx}`;
      else if (name === "id" || name.endsWith("_id")) v = `${(res || name.replace(/_id$/, "") || "x").toLowerCase().slice(0, 4)}_${idx}`;
      else v = `${name || "value"}-${idx}`;
    }
    const min = (s.minLength as number | undefined) ?? 0;
    const max = s.maxLength as number | undefined;
    while ([...v].length < min) v += "x";
    if (max !== undefined && [...v].length > max) v = [...v].slice(0, max).join("");
    return v;
  }

  function numberFor(s: Schema, hints: SynthHints, integer: boolean): number {
    const name = (hints.name ?? "").toLowerCase();
    let lo = typeof s.minimum === "number" ? s.minimum : typeof s.exclusiveMinimum === "number" ? s.exclusiveMinimum + (integer ? 1 : 0.01) : 0;
    let hi = typeof s.maximum === "number" ? s.maximum : typeof s.exclusiveMaximum === "number" ? s.exclusiveMaximum - (integer ? 1 : 0.01) : lo + 100;
    if (/percent|progress|ratio/.test(name)) hi = Math.min(hi, lo + 100);
    if (/(^|_)version$/.test(name)) return Math.max(1, lo);
    if (/count|position|order|index/.test(name)) hi = Math.min(hi, lo + 20);
    if (/minutes/.test(name)) [lo, hi] = [Math.max(lo, 15), Math.min(hi, 240)];
    if (/hours/.test(name)) hi = Math.min(hi, lo + 16);
    if (hi < lo) hi = lo;
    let v = integer ? rng.int(Math.ceil(lo), Math.floor(hi)) : Math.round((lo + rng.next() * (hi - lo)) * 100) / 100;
    const step = s.multipleOf as number | undefined;
    if (step) v = Math.max(Math.ceil(lo / step), Math.min(Math.floor(hi / step), Math.round(v / step))) * step;
    return v;
  }

  /** Synthesizes one value valid against `schema`. */
  function synth(schema: unknown, hints: SynthHints = {}, depth = 0): unknown {
    if (schema === true || schema === undefined) return hints.name ? stringFor({}, hints) : {};
    const resource = refName(schema) ?? hints.resource;
    const s = flatten(doc, schema);
    if (s.const !== undefined) return structuredClone(s.const);
    if (Array.isArray(s.enum) && s.enum.length > 0) {
      const options = (s.enum as unknown[]).filter((x) => x !== null);
      return options.length > 0 ? rng.pick(options) : null;
    }
    if (s.example !== undefined && depth > 0 && typeOf(s) !== "object" && typeOf(s) !== "array") return structuredClone(s.example);
    if (Array.isArray(s.examples) && s.examples.length > 0 && depth > 0 && typeOf(s) !== "object") return structuredClone(s.examples[0]);
    if (s.default !== undefined && typeOf(s) !== "object") return structuredClone(s.default);
    const variants = (s.oneOf ?? s.anyOf) as unknown[] | undefined;
    if (Array.isArray(variants) && variants.length > 0) {
      const nonNull = variants.filter((v) => deref(doc, v).type !== "null");
      const pool = nonNull.length > 0 ? nonNull : variants;
      const choice = pool[(hints.index ?? 0) % pool.length];
      const { oneOf: _o, anyOf: _a, discriminator, ...base } = s;
      const merged = Object.keys(base).length > 0 ? { allOf: [base, choice] } : choice;
      const value = synth(merged, { ...hints, resource: refName(choice) ?? resource }, depth + 1);
      const disc = discriminator as { propertyName?: string; mapping?: Record<string, string> } | undefined;
      if (disc?.propertyName && value && typeof value === "object") {
        const target = (choice as Schema).$ref as string | undefined;
        const key = Object.entries(disc.mapping ?? {}).find(([, ref]) => ref === target)?.[0] ?? refName(choice);
        const prop = flatten(doc, choice).properties as Record<string, unknown> | undefined;
        const propSchema = prop?.[disc.propertyName] ? flatten(doc, prop[disc.propertyName]) : undefined;
        const allowed = propSchema?.enum as unknown[] | undefined;
        if (key && (!allowed || allowed.includes(key)) && propSchema?.const === undefined) (value as Schema)[disc.propertyName] = key;
      }
      return value;
    }
    const type = typeOf(s);
    switch (type) {
      case "object": {
        const out: Record<string, unknown> = {};
        const props = (s.properties ?? {}) as Record<string, unknown>;
        const required = new Set((s.required as string[]) ?? []);
        for (const [k, v] of Object.entries(props)) {
          const vs = deref(doc, v);
          if (!required.has(k) && (!hints.full || depth > 3)) continue;
          if (vs.writeOnly === true && !hints.request) continue;
          if (vs.readOnly === true && hints.request) continue;
          if (depth > 6 && !required.has(k)) continue;
          out[k] = synth(v, { name: k, resource: refName(v) ?? resource, index: hints.index, full: hints.full, request: hints.request }, depth + 1);
        }
        const minProps = (s.minProperties as number | undefined) ?? 0;
        const extra = s.additionalProperties;
        for (let n = 0; Object.keys(out).length < minProps && n < 10; n++) {
          const key = Object.keys(props).find((k) => !(k in out));
          if (key) out[key] = synth(props[key], { name: key, resource, index: hints.index }, depth + 1);
          else out[`key_${n}`] = synth(extra && typeof extra === "object" ? extra : {}, { name: `key_${n}` }, depth + 1);
        }
        return out;
      }
      case "array": {
        const min = (s.minItems as number | undefined) ?? 0;
        const max = (s.maxItems as number | undefined) ?? Infinity;
        let n = Math.max(min, depth > 3 ? 0 : 1);
        n = Math.min(n, max);
        const items: unknown[] = [];
        const itemSchema = flatten(doc, s.items);
        const enumItems = itemSchema.enum as unknown[] | undefined;
        for (let k = 0; k < n; k++) {
          if (enumItems && s.uniqueItems) items.push(enumItems[k % enumItems.length]);
          else items.push(synth(s.items, { name: hints.name?.replace(/s$/, ""), resource: refName(s.items), index: (hints.index ?? 0) + k, request: hints.request }, depth + 1));
        }
        return items;
      }
      case "integer":
        return numberFor(s, hints, true);
      case "number":
        return numberFor(s, hints, false);
      case "boolean":
        return /^(is_)?(archived|deleted|locked|disabled|private)$/.test(hints.name ?? "") ? false : rng.next() < 0.7;
      case "null":
        return null;
      case "string":
        return stringFor(s, { ...hints, resource });
      default:
        return hints.name ? stringFor(s, { ...hints, resource }) : {};
    }
  }

  return { synth, stringFor };
}

export type Synth = ReturnType<typeof createSynth>;
