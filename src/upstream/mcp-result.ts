/**
 * What an MCP backend's `tools/call` answered, checked before it goes on as the gateway's own
 * result: the content blocks a client can show (MCP's five kinds, each with its required fields),
 * structured content as an object, `isError` as a boolean. Other fields (`_meta`, ones newer
 * revisions add) are dropped. Cheaper than a schema library on the hot path, and as strict as the
 * SDK client's result schema on what the gateway passes on.
 */
import type { ContentBlock, ToolResult } from "../context.js";
import { isObject } from "../shape.js";

const isString = (v: unknown): v is string => typeof v === "string";

/** Why `block` is not a content block, or undefined when it is one. */
function blockProblem(block: unknown): string | undefined {
  if (!isObject(block)) return "is not an object";
  switch (block.type) {
    case "text":
      return isString(block.text) ? undefined : "(text) has no string 'text'";
    case "image":
    case "audio":
      return isString(block.data) && isString(block.mimeType) ? undefined : `(${block.type}) needs string 'data' and 'mimeType'`;
    case "resource_link":
      return isString(block.uri) && isString(block.name) ? undefined : "(resource_link) needs string 'uri' and 'name'";
    case "resource":
      return isObject(block.resource) && isString(block.resource.uri) ? undefined : "(resource) needs a 'resource' with a string 'uri'";
    default:
      return `has an unknown type ${JSON.stringify(block.type)?.slice(0, 40)}`;
  }
}

/** The result as the gateway's ToolResult, or a sentence saying what is wrong with it. */
export function toolResultOf(result: unknown): ToolResult | string {
  if (!isObject(result)) return "the result is not an object";
  const content = result.content ?? [];
  if (!Array.isArray(content)) return "'content' is not an array";
  for (let i = 0; i < content.length; i++) {
    const problem = blockProblem(content[i]);
    if (problem) return `content[${i}] ${problem}`;
  }
  const { structuredContent, isError } = result;
  if (structuredContent !== undefined && !isObject(structuredContent)) return "'structuredContent' is not an object";
  if (isError !== undefined && typeof isError !== "boolean") return "'isError' is not a boolean";
  return {
    content: content as ContentBlock[],
    ...(structuredContent ? { structuredContent } : {}),
    ...(isError ? { isError: true } : {}),
  };
}
