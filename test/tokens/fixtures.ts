/** Small hand-written descriptors and call contexts for the security stages' tests. */
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import type { CallContext, Principal } from "../../src/context.js";

/** A descriptor with just what the security stages look at. */
export function tool(name: string, over: { module?: string; method?: ToolDescriptor["binding"]["method"]; write?: boolean; sensitive?: boolean; excluded?: false | string; operationId?: string } = {}): ToolDescriptor {
  const method = over.method ?? (over.write ? "POST" : "GET");
  return {
    name,
    title: name,
    description: name,
    module: over.module ?? "tasks",
    operationId: over.operationId ?? name,
    inputSchema: { type: "object", properties: {} },
    annotations: {},
    binding: { method, path: `/${name}`, serverPath: "", arguments: [], security: [], responseMediaTypes: ["application/json"] },
    policy: { write: over.write ?? false, sensitive: over.sensitive ?? false, excluded: over.excluded ?? false },
  };
}

/** A principal with all modules, read-write, default tier. */
export function principal(over: Partial<Principal> = {}): Principal {
  return { tokenId: "tok_test", subject: "tester", modules: "all", readOnly: false, tier: "default", ...over };
}

/** A fresh call context for `t`. */
export function context(t: ToolDescriptor, over: Partial<CallContext> = {}): CallContext {
  return {
    requestId: "req-1",
    transport: "stdio",
    name: t.name,
    tool: t,
    principal: principal(),
    args: {},
    signal: new AbortController().signal,
    audit: { ts: new Date().toISOString(), requestId: "req-1", transport: "stdio", tool: t.name },
    ...over,
  };
}
