/**
 * Synchronous `$ref` resolution over the documents `load-spec` already read. Every resolved
 * location gets a stable key (`<url>#<pointer>`) that the schema translator uses for cycle
 * detection and memoisation.
 */
import { documentUrl, displayUrl, type SpecDocuments } from "./load-spec.js";
import { SpecError, parsePointer } from "./spec-error.js";

/** A value found by following a `$ref`, with where it lives. */
export interface Resolved {
  readonly value: unknown;
  /** Document URL the value lives in (relative refs inside it resolve against this). */
  readonly url: string;
  /** `#/...` pointer inside that document. */
  readonly fragment: string;
  /** `<url>#<pointer>`: unique across documents. */
  readonly key: string;
}

export interface Resolver {
  /** Follows one `$ref` written at `at` (a pointer for messages) inside document `baseUrl`. */
  resolveRef(ref: string, baseUrl: string, at: string): Resolved;
  /** Follows `$ref` chains (a Reference Object pointing at another reference) to a non-ref value. */
  deref(value: unknown, baseUrl: string, at: string): Resolved;
  /** Pointer as shown to users: `#/a/b` in the root, `other.yaml#/a/b` elsewhere. */
  display(url: string, fragment: string): string;
}

/** Creates the resolver over already-loaded documents. */
export function createResolver(docs: SpecDocuments): Resolver {
  const cache = new Map<string, Resolved>();

  function display(url: string, fragment: string): string {
    return `${displayUrl(url, docs.rootUrl)}${fragment}`;
  }

  function resolveRef(ref: string, baseUrl: string, at: string): Resolved {
    let url: string;
    try {
      url = documentUrl(ref, baseUrl);
    } catch {
      throw new SpecError(at, `unresolvable $ref ${JSON.stringify(ref)}: not a valid URL`);
    }
    const hash = ref.indexOf("#");
    const fragment = hash === -1 ? "" : ref.slice(hash + 1);
    const key = `${url}#${fragment}`;
    const hit = cache.get(key);
    if (hit) return hit;
    if (!docs.documents.has(url)) throw new SpecError(at, `unresolvable $ref ${JSON.stringify(ref)}: document not loaded`);
    let tokens: string[];
    try {
      tokens = parsePointer(fragment);
    } catch {
      throw new SpecError(at, `unresolvable $ref ${JSON.stringify(ref)}: the fragment is not a JSON pointer`);
    }
    let node: unknown = docs.documents.get(url);
    for (const token of tokens) {
      if (Array.isArray(node) && /^\d+$/.test(token) && Number(token) < node.length) node = node[Number(token)];
      else if (node !== null && typeof node === "object" && !Array.isArray(node) && Object.hasOwn(node, token)) node = (node as Record<string, unknown>)[token];
      else throw new SpecError(at, `unresolvable $ref ${JSON.stringify(ref)}: nothing at that location`);
    }
    const resolved: Resolved = { value: node, url, fragment: `#${fragment}`, key };
    cache.set(key, resolved);
    return resolved;
  }

  function deref(value: unknown, baseUrl: string, at: string): Resolved {
    let current: Resolved = { value, url: baseUrl, fragment: at, key: "" };
    const seen = new Set<string>();
    while (current.value !== null && typeof current.value === "object" && typeof (current.value as { $ref?: unknown }).$ref === "string") {
      const ref = (current.value as { $ref: string }).$ref;
      const where = current.key === "" ? at : display(current.url, current.fragment);
      const next = resolveRef(ref, current.url, where);
      if (seen.has(next.key)) throw new SpecError(at, `$ref cycle: ${JSON.stringify(ref)} refers back to itself`);
      seen.add(next.key);
      current = next;
    }
    return current;
  }

  return { resolveRef, deref, display };
}
