/** What every transform shares: the loaded spec, its resolver and schema translator, and one raw operation. */
import type { LoadedSpec } from "../load-spec.js";
import type { Resolver } from "../resolver.js";
import type { SchemaTranslator } from "../schema.js";

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
