/** Types for the upstream API, printed by openapi-typescript; failures become a note, not an error. */

/** The printed types, or why there are none. */
export type UpstreamTypes = { ok: true; text: string } | { ok: false; reason: string };

/** Runs openapi-typescript on an OpenAPI 3.x object (a structured clone: the library may annotate its input). */
export async function upstreamTypes(root: Record<string, unknown>): Promise<UpstreamTypes> {
  try {
    const { default: openapiTS, astToString } = await import("openapi-typescript");
    const ast = await openapiTS(structuredClone(root) as never, { silent: true, alphabetize: true });
    return { ok: true, text: astToString(ast) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: `openapi-typescript failed: ${message.split("\n")[0]!.slice(0, 300)}` };
  }
}
