/**
 * The rule that decides whether a request body's properties become top-level tool arguments
 * ("flat": `add_pet { name, tag }`) or the whole body is one argument ("wrapped":
 * `update_task { task_id, body: { … } }`). The generator applies it; describe_tool explains it.
 *
 * A body is flat when all of these hold, and wrapped otherwise:
 * 1. it is sent as JSON or a form (application/json, +json, x-www-form-urlencoded, multipart);
 * 2. its schema is `type: object` with at least one property;
 * 3. it has none of the keywords that would be lost on the way (anyOf, oneOf, allOf, not, if,
 *    $ref, patternProperties, dependentSchemas, dependentRequired, unevaluatedProperties,
 *    propertyNames, minProperties, maxProperties) and `additionalProperties` is absent or false;
 * 4. every property name is a valid argument name and none is also a path, query, header or
 *    cookie parameter's name.
 * Only the spec decides: the same body schema is always shaped the same way.
 */

/** Valid tool argument names (kept in step with codegen/naming.ts ARGUMENT_NAME). */
const ARGUMENT = /^[a-zA-Z0-9_.-]{1,64}$/;

const BLOCKERS = ["anyOf", "oneOf", "allOf", "not", "if", "$ref", "patternProperties", "dependentSchemas", "dependentRequired", "unevaluatedProperties", "propertyNames", "minProperties", "maxProperties"];

/** True for media types whose body can be flat (JSON, form, multipart). */
export function flattenableMedia(mediaType: string): boolean {
  const m = mediaType.toLowerCase().split(";")[0]!.trim();
  return m === "application/x-www-form-urlencoded" || m === "multipart/form-data" || m.endsWith("/json") || m.includes("json");
}

/**
 * Why a body with this schema stays wrapped (rule 2 to 4 above), or undefined when it can be
 * flat. `otherArguments` are the operation's parameter argument names.
 */
export function wrappedBecause(schema: unknown, otherArguments: ReadonlySet<string>): string | undefined {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return "its schema is not an object schema";
  const s = schema as Record<string, unknown>;
  const props = s.properties;
  if (s.type !== "object" || typeof props !== "object" || props === null || Array.isArray(props)) return "its schema is not `type: object` with properties";
  const names = Object.keys(props);
  if (names.length === 0) return "its schema has no properties";
  const blocker = BLOCKERS.find((k) => k in s);
  if (blocker) return `its schema uses ${blocker}`;
  if (s.additionalProperties !== undefined && s.additionalProperties !== false) return "its schema allows additionalProperties";
  const invalid = names.find((n) => !ARGUMENT.test(n));
  if (invalid !== undefined) return `its property ${JSON.stringify(invalid)} is not a valid argument name`;
  const clash = names.find((n) => otherArguments.has(n));
  if (clash !== undefined) return `its property ${JSON.stringify(clash)} is also a parameter's name`;
  return undefined;
}
