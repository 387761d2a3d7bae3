/**
 * What a pending write will do, in a form a person can check at a glance: a summary sentence,
 * method and resolved URL, the body, the current state read through the matching GET, a
 * field-level diff, and warnings for destructive and bulk operations.
 */
import type { ToolAnnotations, ToolDescriptor } from "../../codegen/descriptor.js";
import { MCP_CALL } from "../upstreams/mcp-tools.js";
import { GatewayError } from "../errors.js";
import type { Principal } from "../context.js";
import { diffFields, type DiffEntry } from "./diff.js";

/** The preview kept with a pending action and returned to the agent. */
export interface Preview {
  readonly summary: string;
  readonly tool: string;
  readonly method: string;
  readonly url: string;
  /** The body the write will send (long strings shortened for display). */
  readonly body?: unknown;
  /** The resource as the matching read returned it at preview time. */
  readonly current?: unknown;
  /** The read tool the current state came from. */
  readonly current_source?: string;
  /** Why there is no current state, when one was looked for. */
  readonly current_note?: string;
  readonly diff?: readonly DiffEntry[];
  readonly warnings: readonly string[];
  /** ETag of the current state; the confirmed write sends it as If-Match. */
  readonly if_match?: string;
  /** Version field of the current state, sent in the body so a stale write is refused. */
  readonly version?: { readonly field: string; readonly value: unknown };
  /**
   * For writes to an existing resource: what keeps the confirmed write from overwriting a change
   * made since the preview (`etag`, `version`, the caller's own If-Match), or `none`.
   */
  readonly guard?: "etag" | "version" | "caller" | "none";
  /** A backend MCP server's tool: its annotations, as it declares them (no current state can be read). */
  readonly annotations?: ToolAnnotations;
}

/** The part of the upstream executor a preview uses (src/upstream's UpstreamClient fits). */
export interface PreviewUpstream {
  /** The request a call would send, without sending it. */
  buildRequest(tool: ToolDescriptor, args: Readonly<Record<string, unknown>>): { readonly method: string; readonly url: string };
  /** Calls the upstream as the tool would; any HTTP status resolves. */
  executeUpstream(tool: ToolDescriptor, args: Readonly<Record<string, unknown>>, options: { signal?: AbortSignal; credential?: string }): Promise<{
    readonly status: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: unknown;
  }>;
}

/** What the previewer needs from the rest of the gateway. */
export interface PreviewDeps {
  /** All tools of the API `of` belongs to (to find the read on the same path). */
  tools(of?: ToolDescriptor): readonly ToolDescriptor[];
  upstream: PreviewUpstream;
  /** Refuse (upstream_unavailable) an update or delete whose current state could not be read. */
  requireGuard?: boolean;
}

/** A built preview plus the arguments to store (a version field may have been added). */
export interface BuiltPreview {
  readonly preview: Preview;
  readonly args: Record<string, unknown>;
  readonly ifMatch?: string;
}

const VERSION_FIELDS = ["version", "revision"];
const BULK_WORDS = /\b(bulk|batch|many|multiple)\b|_(bulk|batch)(_|$)|^(bulk|batch)_/i;
const DISPLAY_STRING_CAP = 1000;

/** Builds the previewer used by the confirm gate. */
export function createPreviewer(deps: PreviewDeps): { build(tool: ToolDescriptor, args: Record<string, unknown>, options: { principal?: Principal; signal: AbortSignal }): Promise<BuiltPreview> } {
  return {
    async build(tool, inputArgs, options) {
      let args = inputArgs;
      const method = tool.binding.method;
      const warnings: string[] = [];
      let current: unknown;
      let currentSource: string | undefined;
      let currentNote: string | undefined;
      let diff: DiffEntry[] | undefined;
      let ifMatch: string | undefined;
      let version: Preview["version"];
      /** Why the current state could not be read, when the upstream could not answer. */
      let unreachable: string | undefined;

      const ifMatchArg = tool.binding.arguments.find((a) => a.in === "header" && a.wireName.toLowerCase() === "if-match");
      const callerIfMatch = ifMatchArg && typeof args[ifMatchArg.name] === "string" ? (args[ifMatchArg.name] as string) : undefined;
      const found = wantsCurrentState(tool) ? findCurrentRead(tool, deps.tools(tool), options.principal) : undefined;
      const read = found?.read;
      // An action on a sub-path (`POST /tasks/{id}/move`) shows the resource it acts on; its ETag
      // is only sent when the operation itself takes an If-Match.
      const useEtag = found !== undefined && (!found.parent || ifMatchArg !== undefined);
      if (read) {
        const readArgs = readArgsFor(tool, read, args);
        if (!readArgs) currentNote = `current state not read: ${read.name} needs arguments this call does not have`;
        else {
          try {
            const state = await deps.upstream.executeUpstream(read, readArgs, {
              signal: options.signal,
              ...(options.principal?.upstreamCredential !== undefined ? { credential: options.principal.upstreamCredential } : {}),
            });
            if (state.status >= 200 && state.status < 300) {
              current = state.body;
              currentSource = read.name;
              // An If-Match the caller set themselves stands: it may guard against an earlier change.
              if (callerIfMatch === undefined && useEtag) ifMatch = headerValue(state.headers, "etag");
            } else if (state.status === 404) {
              currentNote = `the resource does not exist (${read.name} answered 404)`;
              warnings.push("The resource was not found when previewing; the write will probably fail.");
            } else {
              currentNote = `current state not available: ${read.name} answered ${state.status}`;
              if (state.status >= 500) unreachable = `${read.name} answered ${state.status}`;
            }
          } catch (err) {
            unreachable = err instanceof Error ? err.message : String(err);
            currentNote = `current state not available: ${unreachable}`;
          }
        }
      }

      if (current !== undefined && !found?.parent && !ifMatch && callerIfMatch === undefined) {
        const versioned = versionToSend(tool, args, current);
        if (versioned) {
          version = { field: versioned.field, value: versioned.value };
          args = versioned.args;
        }
      }

      const body = bodyOf(tool, args);
      if (current !== undefined && !found?.parent && body !== undefined && method !== "DELETE") {
        diff = diffFields(current, body, {
          mode: method === "PUT" ? "replace" : "merge",
          writableFields: bodyFieldNames(tool),
        });
        const removed = diff.filter((d) => d.change === "removed").length;
        if (removed > 0) warnings.push(`Replaces the whole resource: ${removed} field${removed === 1 ? "" : "s"} not in the body will be removed.`);
      }

      if (method === "DELETE" || tool.annotations.destructiveHint === true) {
        warnings.push(method === "DELETE"
          ? `Destructive: deletes ${describeTarget(tool, args)}; this cannot be undone.`
          : `Destructive: ${tool.title || tool.name} may overwrite or remove data.`);
      }
      const bulk = bulkCount(tool, args, body);
      if (bulk !== undefined) warnings.push(`Bulk operation: affects ${bulk} item${bulk === 1 ? "" : "s"}.`);
      if (tool.policy.sensitive) warnings.push("Sensitive operation: it counts against the stricter rate limit when it runs.");

      const guard: Preview["guard"] = !wantsCurrentState(tool) ? undefined : ifMatch !== undefined ? "etag" : version !== undefined ? "version" : callerIfMatch !== undefined ? "caller" : "none";
      if (unreachable !== undefined && guard === "none") {
        if (deps.requireGuard) {
          throw new GatewayError("upstream_unavailable", `The current state of this resource could not be read (${unreachable}), and this gateway requires a guard on updates and deletes (confirm.requireGuard); nothing was stored or sent. Retry when the upstream answers.`, { details: { guard: "none" } });
        }
        warnings.push("Unguarded: the current state could not be read, so the write will not check that the resource is unchanged since this preview.");
      }

      const line = deps.upstream.buildRequest(tool, args);
      const preview: Preview = {
        summary: summarize(tool, args, body),
        tool: tool.name,
        method: line.method,
        url: withoutCredentials(line.url, tool),
        ...(body !== undefined ? { body: forDisplay(body) } : {}),
        ...(current !== undefined ? { current: forDisplay(current), current_source: currentSource } : {}),
        ...(currentNote !== undefined ? { current_note: currentNote } : {}),
        ...(diff !== undefined ? { diff } : {}),
        warnings,
        ...((ifMatch ?? callerIfMatch) !== undefined ? { if_match: ifMatch ?? callerIfMatch } : {}),
        ...(version !== undefined ? { version } : {}),
        ...(guard !== undefined ? { guard } : {}),
        ...(line.method === MCP_CALL ? { annotations: tool.annotations } : {}),
      };
      return { preview, args, ...(ifMatch !== undefined ? { ifMatch } : {}) };
    },
  };
}

/** Updates and deletes read the resource first; a plain POST creates, so there is nothing to read. */
function wantsCurrentState(tool: ToolDescriptor): boolean {
  const m = tool.binding.method;
  if (m === "PUT" || m === "PATCH" || m === "DELETE") return true;
  // A POST on an item path (`/tasks/{id}`) or an action under one (`/tasks/{id}/move`) acts on an existing resource.
  return m === "POST" && (/\}$/.test(tool.binding.path) || PARENT_ITEM.test(tool.binding.path));
}

/** `/tasks/{task_id}/move` → `/tasks/{task_id}`. */
const PARENT_ITEM = /^(.*\/\{[^}]+\})\/[^/{}]+$/;

/** The read on the same path, else (for an action on a sub-path) the read of the resource it acts on. */
function findCurrentRead(tool: ToolDescriptor, tools: readonly ToolDescriptor[], principal?: Principal): { read: ToolDescriptor; parent: boolean } | undefined {
  const isPost = tool.binding.method === "POST";
  const onItem = !isPost || /\}$/.test(tool.binding.path);
  const same = findReadTool(tool, tools, principal);
  if (same) return onItem ? { read: same, parent: false } : undefined; // a POST beside a list is a create
  const m = isPost ? PARENT_ITEM.exec(tool.binding.path) : null;
  if (!m) return undefined;
  const parent = findReadTool({ ...tool, binding: { ...tool.binding, path: m[1]! } }, tools, principal);
  return parent ? { read: parent, parent: true } : undefined;
}

/** The read tool on the same path (GET, not a write, not excluded, inside the token's modules). */
export function findReadTool(tool: ToolDescriptor, tools: readonly ToolDescriptor[], principal?: Principal): ToolDescriptor | undefined {
  return tools.find((t) =>
    t.binding.method === "GET" &&
    t.binding.path === tool.binding.path &&
    t.binding.serverPath === tool.binding.serverPath &&
    !t.policy.write &&
    t.policy.excluded === false &&
    (principal === undefined || principal.modules === "all" || principal.modules.includes(t.module)));
}

/** Arguments for the read: its parameters taken from the write's arguments with the same wire name and location. */
function readArgsFor(write: ToolDescriptor, read: ToolDescriptor, args: Record<string, unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const r of read.binding.arguments) {
    const w = write.binding.arguments.find((a) => a.in === r.in && a.wireName === r.wireName);
    const value = w ? args[w.name] : undefined;
    if (value !== undefined && (r.in === "path" || r.required)) out[r.name] = value;
    else if (r.required) return undefined;
  }
  return out;
}

/** Drops query parameters that carry an API key, so the service credential never lands in a preview. */
function withoutCredentials(url: string, tool: ToolDescriptor): string {
  const names = tool.binding.security.flat().filter((s) => s.type === "apiKey" && s.in === "query" && s.paramName).map((s) => s.paramName!);
  if (names.length === 0) return url;
  try {
    const u = new URL(url);
    for (const n of names) if (u.searchParams.has(n)) u.searchParams.set(n, "REDACTED");
    return u.toString();
  } catch {
    return url;
  }
}

function headerValue(headers: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name && v) return v;
  return undefined;
}

/** The body object the call sends, assembled from the arguments as the binding says. */
export function bodyOf(tool: ToolDescriptor, args: Record<string, unknown>): unknown {
  const b = tool.binding.body;
  if (!b) return undefined;
  if (b.mode === "wrapped") return b.argument === undefined ? undefined : args[b.argument];
  const body: Record<string, unknown> = {};
  let any = false;
  for (const [arg, prop] of Object.entries(b.properties ?? {})) {
    if (args[arg] === undefined) continue;
    body[prop] = args[arg];
    any = true;
  }
  return any || b.required ? body : undefined;
}

/** Top-level field names the body schema allows (for PUT diffs). */
function bodyFieldNames(tool: ToolDescriptor): ReadonlySet<string> | undefined {
  const b = tool.binding.body;
  if (!b) return undefined;
  if (b.mode === "flat") return new Set(Object.values(b.properties ?? {}));
  const schema = b.argument ? propertySchema(tool.inputSchema, b.argument) : undefined;
  const props = schema?.properties;
  return props && typeof props === "object" ? new Set(Object.keys(props as object)) : undefined;
}

function propertySchema(schema: { readonly [key: string]: unknown }, name: string): Record<string, unknown> | undefined {
  const props = schema.properties as Record<string, unknown> | undefined;
  const s = props?.[name];
  return s && typeof s === "object" ? (s as Record<string, unknown>) : undefined;
}

/**
 * When the current state has a version field the body accepts and the caller left it out, the
 * stored arguments get it, so an upstream that checks versions refuses a stale write.
 */
function versionToSend(tool: ToolDescriptor, args: Record<string, unknown>, current: unknown): { field: string; value: unknown; args: Record<string, unknown> } | undefined {
  const b = tool.binding.body;
  if (!b || typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
  for (const field of VERSION_FIELDS) {
    const value = (current as Record<string, unknown>)[field];
    if (typeof value !== "number" && typeof value !== "string") continue;
    if (b.mode === "flat") {
      const arg = Object.entries(b.properties ?? {}).find(([, prop]) => prop === field)?.[0];
      if (!arg || !typeAccepts(propertySchema(tool.inputSchema, arg), value)) continue;
      if (args[arg] !== undefined) return { field, value: args[arg], args };
      return { field, value, args: { ...args, [arg]: value } };
    }
    if (!b.argument) continue;
    const wrapped = args[b.argument];
    const schema = propertySchema(tool.inputSchema, b.argument);
    const fieldSchema = schema?.properties ? (schema.properties as Record<string, unknown>)[field] : undefined;
    if (typeof wrapped !== "object" || wrapped === null || Array.isArray(wrapped)) continue;
    if (!fieldSchema || !typeAccepts(fieldSchema as Record<string, unknown>, value)) continue;
    const w = wrapped as Record<string, unknown>;
    if (w[field] !== undefined) return { field, value: w[field], args };
    return { field, value, args: { ...args, [b.argument]: { ...w, [field]: value } } };
  }
  return undefined;
}

function typeAccepts(schema: Record<string, unknown> | undefined, value: number | string): boolean {
  if (!schema || schema.readOnly === true) return false;
  const t = schema.type;
  const types = Array.isArray(t) ? t : [t];
  if (typeof value === "string") return types.includes("string");
  return types.includes("number") || (types.includes("integer") && Number.isInteger(value));
}

/** Counts items of a bulk write: an array body, or the largest array in the body of a tool named or marked as bulk. */
function bulkCount(tool: ToolDescriptor, args: Record<string, unknown>, body: unknown): number | undefined {
  if (Array.isArray(body)) return body.length;
  // A DELETE that takes a list (`?ids=1,2,3`) deletes that many.
  if (tool.binding.method === "DELETE") {
    const lists = tool.binding.arguments.map((a) => args[a.name]).filter(Array.isArray);
    if (lists.length > 0) return Math.max(...lists.map((l) => l.length));
  }
  const looksBulk = BULK_WORDS.test(tool.name) || BULK_WORDS.test(tool.binding.path) || BULK_WORDS.test(tool.title);
  if (!looksBulk) return undefined;
  let max: number | undefined;
  const consider = (v: unknown): void => {
    if (Array.isArray(v) && (max === undefined || v.length > max)) max = v.length;
  };
  if (body && typeof body === "object") Object.values(body).forEach(consider);
  for (const a of tool.binding.arguments) consider(args[a.name]);
  return max;
}

function describeTarget(tool: ToolDescriptor, args: Record<string, unknown>): string {
  const ids = pathArgs(tool, args);
  return ids.length > 0 ? `${tool.binding.path} (${ids.join(", ")})` : tool.binding.path;
}

function pathArgs(tool: ToolDescriptor, args: Record<string, unknown>): string[] {
  return tool.binding.arguments
    .filter((a) => a.in === "path" && args[a.name] !== undefined)
    .map((a) => `${a.name}=${short(args[a.name])}`);
}

/** "Update a task (project_id=42, task_id=17) with title="Ship", status="done"." */
function summarize(tool: ToolDescriptor, args: Record<string, unknown>, body: unknown): string {
  const action = (tool.title || tool.description || tool.name).replace(/[.\s]+$/, "");
  const ids = pathArgs(tool, args);
  let text = ids.length > 0 ? `${action} (${ids.join(", ")})` : action;
  if (Array.isArray(body)) text += ` with ${body.length} item${body.length === 1 ? "" : "s"}`;
  else if (body && typeof body === "object") {
    const entries = Object.entries(body as Record<string, unknown>);
    const shown = entries.slice(0, 5).map(([k, v]) => `${k}=${short(v)}`);
    if (entries.length > 5) shown.push(`and ${entries.length - 5} more field${entries.length - 5 === 1 ? "" : "s"}`);
    if (shown.length > 0) text += ` with ${shown.join(", ")}`;
  }
  return `${text}.`;
}

function short(v: unknown): string {
  const s = typeof v === "string" ? JSON.stringify(v) : Array.isArray(v) ? `[${v.length} item${v.length === 1 ? "" : "s"}]` : v && typeof v === "object" ? "{…}" : String(v);
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

/** Shortens very long strings (file contents) so the preview stays readable. */
function forDisplay(v: unknown): unknown {
  if (typeof v === "string") return v.length > DISPLAY_STRING_CAP ? `${v.slice(0, DISPLAY_STRING_CAP)}… (${v.length - DISPLAY_STRING_CAP} more characters)` : v;
  if (Array.isArray(v)) return v.map(forDisplay);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, forDisplay(x)]));
  return v;
}

/** A plain-text rendering of a pending action for people. */
export function renderPreview(preview: Preview, pending: { actionId: string; confirmToken?: string; expiresAt: string }): string {
  const lines: string[] = [];
  lines.push(`PENDING CONFIRMATION: nothing has been sent yet (action ${pending.actionId}).`);
  lines.push(preview.summary);
  lines.push(`${preview.method} ${preview.url}`);
  if (preview.body !== undefined) lines.push(`Body: ${capText(JSON.stringify(preview.body, null, 2), 2000)}`);
  if (preview.diff) {
    if (preview.diff.length === 0) lines.push("Changes: none (the body matches the current state).");
    else {
      lines.push(`Changes against the current state (${preview.current_source}):`);
      for (const d of preview.diff.slice(0, 50)) {
        if (d.change === "added") lines.push(`  + ${d.path}: ${capText(JSON.stringify(d.after), 200)}`);
        else if (d.change === "removed") lines.push(`  - ${d.path}: ${capText(JSON.stringify(d.before), 200)}`);
        else lines.push(`  ~ ${d.path}: ${capText(JSON.stringify(d.before), 200)} → ${capText(JSON.stringify(d.after), 200)}`);
      }
      if (preview.diff.length > 50) lines.push(`  … and ${preview.diff.length - 50} more changes`);
    }
  } else if (preview.current !== undefined) {
    lines.push(`Current state (${preview.current_source}): ${capText(JSON.stringify(preview.current, null, 2), 2000)}`);
  }
  if (preview.current_note) lines.push(`Note: ${preview.current_note}`);
  if (preview.annotations) lines.push(`Annotations: ${JSON.stringify(preview.annotations)} (an MCP server's tool: no current state can be read)`);
  for (const w of preview.warnings) lines.push(`WARNING: ${w}`);
  if (preview.if_match) lines.push(`Guarded: the write is refused if the resource changes before confirmation (If-Match ${preview.if_match}).`);
  else if (preview.version) lines.push(`Guarded: the write carries ${preview.version.field}=${JSON.stringify(preview.version.value)}, so it is refused if the resource changes first.`);
  if (pending.confirmToken) {
    lines.push(`To run it, call confirm_action with {"confirm_token": "${pending.confirmToken}"} before ${pending.expiresAt}; to drop it, call cancel_action with the same token.`);
  }
  return lines.join("\n");
}

function capText(s: string | undefined, max: number): string {
  if (s === undefined) return "undefined";
  return s.length > max ? `${s.slice(0, max)}… (${s.length - max} more characters)` : s;
}
