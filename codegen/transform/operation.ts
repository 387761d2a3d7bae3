/** Operation Object (§4.8.10): one tool — its text, inputs, output, binding, annotations and policy. */
import { APPROVALS, type Approval, type HttpBinding, type JsonSchema, type ToolAnnotations, type ToolDescriptor } from "../descriptor.js";
import { isObject } from "../load-spec.js";
import { moduleName, snakeCase } from "../naming.js";
import type { Resolver } from "../resolver.js";
import { newSink } from "../schema.js";
import { pointer } from "../spec-error.js";
import { addWarning, type SpecWarning } from "../warnings.js";
import { firstSentence, plain, titleFrom } from "../text.js";
import { READ_METHODS, type Ctx, type Obj, type RawOperation } from "./context.js";
import { buildArguments } from "./parameter.js";
import { buildBody } from "./request-body.js";
import { buildOutput } from "./responses.js";
import { buildSecurity } from "./security.js";
import { serverPath } from "./servers.js";

const HINTS = ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"];

/**
 * The descriptor of one included operation, under its final name and module. What had to be
 * relaxed goes to `warnings`; a SpecError means no sane tool can be made (the caller excludes it).
 */
export function buildTool(raw: RawOperation, name: string, module: string, sensitive: boolean, ctx: Ctx, warnings: SpecWarning[]): ToolDescriptor {
  const { op, at } = raw;
  const method = raw.method.toUpperCase() as HttpBinding["method"];
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  const sink = { ...newSink(), properties, required, argNames: new Set<string>() };

  const args = buildArguments(raw, ctx, sink);
  const body = buildBody(raw, ctx, sink);

  const inputSchema: Obj = { type: "object", properties };
  if (required.length > 0) inputSchema.required = required;
  inputSchema.additionalProperties = false;
  const inputDefs = ctx.schemas.buildDefs(sink, "request");
  if (inputDefs) inputSchema.$defs = inputDefs;
  for (const w of sink.warnings) addWarning(warnings, w);

  const { outputSchema, responseMediaTypes } = buildOutput(raw, ctx, warnings);
  const write = typeof op["x-mcp-write"] === "boolean" ? op["x-mcp-write"] : !READ_METHODS.has(method);
  if (op["x-mcp-write"] !== undefined && typeof op["x-mcp-write"] !== "boolean") {
    addWarning(warnings, { pointer: `${at}/x-mcp-write`, problem: `must be true or false; ignored (${write ? "a write" : "a read"} by its method)` });
  }

  const summary = typeof op.summary === "string" && op.summary.trim() ? op.summary.trim() : undefined;
  const longText = typeof op.description === "string" && op.description.trim() ? op.description.trim() : undefined;
  const title = titleFrom(summary, name);
  const description = firstSentence(summary ?? longText ?? `${method} ${raw.path}`);
  const detailsText = [summary, longText].filter((x): x is string => x !== undefined).join("\n\n");
  const details = detailsText && plain(detailsText) !== description ? detailsText : undefined;

  const binding: HttpBinding = {
    method,
    path: raw.path,
    serverPath: serverPath(raw, ctx),
    arguments: args,
    ...(body ? { body } : {}),
    security: buildSecurity(raw, ctx),
    responseMediaTypes,
  };
  const operationId = typeof op.operationId === "string" && op.operationId !== "" ? op.operationId : undefined;
  return {
    name,
    title,
    description,
    ...(details !== undefined ? { details } : {}),
    module,
    ...(operationId !== undefined ? { operationId } : {}),
    inputSchema,
    ...(outputSchema ? { outputSchema } : {}),
    annotations: buildAnnotations(raw, title, method, write, warnings),
    binding,
    policy: { write, sensitive, excluded: false },
  };
}

/** Method defaults, overridden key by key by `x-mcp-annotations`. */
function buildAnnotations(raw: RawOperation, title: string, method: string, write: boolean, warnings: SpecWarning[]): ToolAnnotations {
  const base = {
    title,
    readOnlyHint: !write,
    destructiveHint: method === "DELETE",
    idempotentHint: READ_METHODS.has(method) || method === "PUT" || method === "DELETE",
    openWorldHint: true,
  };
  const o = raw.op["x-mcp-annotations"];
  if (o === undefined) return base;
  const at = `${raw.at}/x-mcp-annotations`;
  const warn = (where: string, problem: string): void => addWarning(warnings, { pointer: where, problem: `${problem}; ignored` });
  if (!isObject(o)) {
    warn(at, "must be an object of MCP tool annotations");
    return base;
  }
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(o)) {
    if (k === "title") {
      if (typeof v !== "string") {
        warn(`${at}/title`, "must be a string");
        continue;
      }
    } else if (HINTS.includes(k)) {
      if (typeof v !== "boolean") {
        warn(pointer(at, k), "must be true or false");
        continue;
      }
    } else {
      warn(pointer(at, k), "is not an MCP tool annotation (title, readOnlyHint, destructiveHint, idempotentHint, openWorldHint)");
      continue;
    }
    out[k] = v;
  }
  return out as ToolAnnotations;
}

/** `x-mcp-approval` on the operation, else on its first tag that has one; an unknown value is a warning and ignored. */
export function approvalFor(raw: RawOperation, tags: string[], tagObjects: Map<string, Obj>, warnings: SpecWarning[]): Approval | undefined {
  const read = (v: unknown, pointer: string): Approval | undefined => {
    if (v === undefined) return undefined;
    if (APPROVALS.includes(v as Approval)) return v as Approval;
    addWarning(warnings, { pointer, problem: `must be one of ${APPROVALS.join(", ")}; ignored` });
    return undefined;
  };
  return read(raw.op["x-mcp-approval"], `${raw.at}/x-mcp-approval`) ?? tags.map((t) => read(tagObjects.get(t)?.["x-mcp-approval"], `/tags/${t}/x-mcp-approval`)).find((a) => a !== undefined);
}

/** `x-mcp-task` on the operation: `required` when it runs only as a task (too long to wait for); another value is a warning and ignored. */
export function taskFor(raw: RawOperation, warnings: SpecWarning[]): "required" | undefined {
  const v = raw.op["x-mcp-task"];
  if (v === undefined || v === "required") return v;
  addWarning(warnings, { pointer: `${raw.at}/x-mcp-task`, problem: 'must be "required"; ignored' });
  return undefined;
}

/** The reason given by `x-mcp-exclude` on the operation, its path or one of its tags. */
export function explicitExclusion(raw: RawOperation, tags: string[], tagObjects: Map<string, Obj>): string | undefined {
  const reasonOf = (v: unknown, where: string): string | undefined => {
    if (v === true) return `x-mcp-exclude on ${where}`;
    if (typeof v === "string" && v.trim() !== "") return v.trim();
    return undefined;
  };
  return (
    reasonOf(raw.op["x-mcp-exclude"], "the operation") ??
    reasonOf(raw.item["x-mcp-exclude"], "the path") ??
    tags.map((t) => reasonOf(tagObjects.get(t)?.["x-mcp-exclude"], `tag ${t}`)).find((r) => r !== undefined)
  );
}

/** Request and success-response media types (for the binary import/export rule). */
export function operationMediaTypes(raw: RawOperation, resolver: Resolver): string[] {
  const out: string[] = [];
  try {
    if (raw.op.requestBody !== undefined) {
      const body = resolver.deref(raw.op.requestBody, raw.itemUrl, `${raw.at}/requestBody`).value;
      if (isObject(body) && isObject(body.content)) out.push(...Object.keys(body.content));
    }
    if (isObject(raw.op.responses)) {
      for (const [code, r] of Object.entries(raw.op.responses)) {
        if (!/^2/.test(code)) continue;
        const resp = resolver.deref(r, raw.itemUrl, pointer(`${raw.at}/responses`, code)).value;
        if (isObject(resp) && isObject(resp.content)) out.push(...Object.keys(resp.content));
      }
    }
  } catch {
    // Broken references are reported with their pointer when the tool is built.
  }
  return out;
}

/** `x-mcp-module`, else the first tag, else the first path segment that is not a version prefix. */
export function moduleFor(raw: RawOperation, tags: string[], warnings: SpecWarning[]): string {
  const explicit = raw.op["x-mcp-module"];
  if (explicit !== undefined) {
    if (typeof explicit === "string" && snakeCase(explicit) !== "") return moduleName(explicit);
    addWarning(warnings, { pointer: `${raw.at}/x-mcp-module`, problem: "must be a non-empty module name; ignored" });
  }
  if (tags.length > 0) return moduleName(tags[0]!);
  // Version and API prefixes (`/v1`, `/api`) say nothing about the module.
  const segment = raw.path.split("/").find((s) => s !== "" && !s.startsWith("{") && !/^(v\d+(\.\d+)*|api|rest)$/i.test(s));
  return segment ? moduleName(segment) : "default";
}
