/**
 * Where a tool's arguments go on the HTTP request, for describe_tool: the parameters by location
 * and the request body's shape, flat or wrapped, with the reason a body stays wrapped
 * (codegen/body-shape.ts states the rule the generator follows).
 */
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { flattenableMedia, wrappedBecause } from "../../codegen/body-shape.js";

export const BODY_RULE =
  "A request body's properties are top-level arguments (flat) when it is sent as JSON or a form and its schema is a plain object of properties (no anyOf/oneOf/allOf/$ref, no minProperties, no additionalProperties) that share no name with a parameter; otherwise the whole body is one argument (wrapped).";

/** describe_tool's `arguments` field. */
export interface ArgumentShape {
  readonly path?: readonly string[];
  readonly query?: readonly string[];
  readonly header?: readonly string[];
  readonly cookie?: readonly string[];
  readonly body?:
    | { readonly shape: "flat"; readonly mediaType: string; readonly arguments: readonly string[]; readonly rule: string }
    | { readonly shape: "wrapped"; readonly mediaType: string; readonly argument: string; readonly because: string; readonly rule: string };
}

/** The shape of one tool's arguments (see the file comment). */
export function argumentShape(tool: ToolDescriptor): ArgumentShape {
  const out: Record<string, unknown> = {};
  for (const a of tool.binding.arguments) ((out[a.in] ??= []) as string[]).push(a.name);
  const body = tool.binding.body;
  if (body?.mode === "flat") {
    out.body = { shape: "flat", mediaType: body.mediaType, arguments: Object.keys(body.properties ?? {}), rule: BODY_RULE };
  } else if (body) {
    const argument = body.argument ?? "body";
    const props = (tool.inputSchema as { properties?: Record<string, unknown> }).properties ?? {};
    const because = flattenableMedia(body.mediaType)
      ? (wrappedBecause(props[argument], new Set(tool.binding.arguments.map((a) => a.name))) ?? "the generator kept it whole")
      : `it is sent as ${body.mediaType}, not JSON or a form`;
    out.body = { shape: "wrapped", mediaType: body.mediaType, argument, because, rule: BODY_RULE };
  }
  return out as ArgumentShape;
}
