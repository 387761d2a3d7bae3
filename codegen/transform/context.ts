/** What every transform shares: the loaded spec, its resolver and schema translator, and one raw operation. */
import type { LoadedSpec } from "../load-spec.js";
import type { Resolved, Resolver } from "../resolver.js";
import type { SchemaTranslator } from "../schema.js";
import { SpecError } from "../spec-error.js";
import { addWarning, type SpecWarning } from "../warnings.js";

export type Obj = Record<string, unknown>;

/** The HTTP methods a Path Item can hold, in the order the spec lists them (§4.8.9.1). */
export const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;
export const READ_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/** One operation as found in the Paths Object, before it becomes a tool. */
export interface RawOperation {
  readonly method: (typeof METHODS)[number];
  readonly path: string;
  readonly op: Obj;
  readonly item: Obj;
  /** Document the path item lives in (relative `$ref`s inside it resolve against this). */
  readonly itemUrl: string;
  /** JSON pointer of the operation, for messages. */
  readonly at: string;
}

/** The per-spec services a transform needs. */
export interface Ctx {
  readonly spec: LoadedSpec;
  readonly resolver: Resolver;
  readonly schemas: SchemaTranslator;
}

/** Code-unit string order: the same on every machine and locale. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Follows a Reference Object; a broken one becomes a warning (`then` says what was done) and undefined. */
export function tryDeref(ctx: Ctx, value: unknown, baseUrl: string, at: string, warnings: SpecWarning[], then: string): Resolved | undefined {
  try {
    return ctx.resolver.deref(value, baseUrl, at);
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    addWarning(warnings, { pointer: err.pointer || at, problem: `${err.problem}; ${then}` });
    return undefined;
  }
}

/** Where a resolved value is shown in messages: where it was written, or where the reference led. */
export function shownAt(ctx: Ctx, r: Resolved, at: string): string {
  return r.key === "" ? at : ctx.resolver.display(r.url, r.fragment);
}

/** The document relative references inside a resolved value resolve against. */
export function baseOf(r: Resolved, url: string): string {
  return r.key === "" ? url : r.url;
}
