/**
 * The generator's output contract: one ToolDescriptor per exposed operation.
 *
 * This file is the single source of truth for the shape of `generated/<api>/`. The generator
 * copies it verbatim into each output folder as `types.ts` so the generated modules type-check
 * on their own, and the gateway runtime imports the same types from here.
 */

/** A JSON Schema (2020-12) document or sub-schema. */
export type JsonSchema = { [key: string]: unknown } | boolean;

/** Where an operation parameter travels on the wire (OpenAPI 3.1 §4.8.12.2). */
export type ParameterLocation = "path" | "query" | "header" | "cookie";

/** How one tool argument maps onto the HTTP request. */
export interface ArgumentBinding {
  /** Property name in the tool's inputSchema. */
  readonly name: string;
  /** Where the value goes. */
  readonly in: ParameterLocation;
  /** Name on the wire (the OpenAPI parameter name; may differ from `name` after de-duplication). */
  readonly wireName: string;
  /** OpenAPI serialization style: form, simple, label, matrix, spaceDelimited, pipeDelimited, deepObject. */
  readonly style: string;
  readonly explode: boolean;
  readonly allowReserved: boolean;
  readonly required: boolean;
  /** Set when the parameter uses `content` instead of `schema` (value is serialized with this media type). */
  readonly contentType?: string;
}

/** Per-property encoding of a form or multipart body (OpenAPI 3.1 §4.8.15). */
export interface PropertyEncoding {
  readonly contentType?: string;
  readonly style?: string;
  readonly explode?: boolean;
  readonly allowReserved?: boolean;
}

/** How the request body is assembled from the tool arguments. */
export interface BodyBinding {
  /** Media type sent as Content-Type: application/json, application/x-www-form-urlencoded, multipart/form-data, application/octet-stream, text/plain, ... */
  readonly mediaType: string;
  /**
   * `"wrapped"`: the whole body is the single argument named `argument` (usually `body`).
   * `"flat"`: the body object's properties are top-level arguments, listed in `properties`.
   */
  readonly mode: "wrapped" | "flat";
  /** With mode "wrapped": the argument that holds the body. */
  readonly argument?: string;
  /** With mode "flat": argument names that are body properties (argument name → body property name). */
  readonly properties?: Readonly<Record<string, string>>;
  readonly required: boolean;
  /** Form/multipart encodings by body property name. */
  readonly encoding?: Readonly<Record<string, PropertyEncoding>>;
  /** Multipart: body properties that are files (format binary); the argument takes base64 or text. */
  readonly fileProperties?: readonly string[];
}

/** One security scheme an operation accepts (resolved from components.securitySchemes). */
export interface SecurityScheme {
  readonly name: string;
  readonly type: "http" | "apiKey" | "oauth2" | "openIdConnect" | "mutualTLS";
  /** For type http: "bearer", "basic", ... */
  readonly scheme?: string;
  /** For type apiKey. */
  readonly in?: "header" | "query" | "cookie";
  /** For type apiKey: the header/query/cookie name. */
  readonly paramName?: string;
  readonly scopes: readonly string[];
}

/** The HTTP call a tool makes. */
export interface HttpBinding {
  readonly method: "GET" | "PUT" | "POST" | "DELETE" | "OPTIONS" | "HEAD" | "PATCH" | "TRACE";
  /** Path template as in the spec, e.g. `/projects/{project_id}/tasks`. */
  readonly path: string;
  /** Base path of the first server URL (e.g. `/v1`), joined before `path`. Empty string when none. */
  readonly serverPath: string;
  readonly arguments: readonly ArgumentBinding[];
  readonly body?: BodyBinding;
  /** Alternatives (OR) of requirements (AND); empty when the operation is public. */
  readonly security: readonly (readonly SecurityScheme[])[];
  /** Media types of the success response, best first. */
  readonly responseMediaTypes: readonly string[];
}

/** MCP tool annotations (MCP 2025-06-18 `ToolAnnotations`). */
export interface ToolAnnotations {
  readonly title?: string;
  readonly readOnlyHint?: boolean;
  readonly destructiveHint?: boolean;
  readonly idempotentHint?: boolean;
  readonly openWorldHint?: boolean;
}

/** What the gateway's policy needs to know about a tool. */
export interface ToolPolicy {
  /** Writes become pending actions (POST/PUT/PATCH/DELETE unless `x-mcp-write: false`; GET with `x-mcp-write: true`). */
  readonly write: boolean;
  /** Counts against the stricter rate-limit bucket. */
  readonly sensitive: boolean;
  /** `false`, or the reason this operation is never exposed. */
  readonly excluded: false | string;
  /** Who must approve its pending action (`x-mcp-approval`, or a generate-config rule); absent means `agent`. */
  readonly approval?: Approval;
  /** `x-mcp-task: required`: the operation runs only as a task (MCP tasks extension); a 2026-07-28 client must negotiate it. */
  readonly task?: "required";
}

/** Who approves a pending action: the agent (confirm_action), a person (an admin, in the console), or both in turn. */
export type Approval = "agent" | "person" | "both";

/** The approval values, in the order of escalation. */
export const APPROVALS: readonly Approval[] = ["agent", "person", "both"];

/** Everything the gateway knows about one generated tool. */
export interface ToolDescriptor {
  /** `[a-z0-9_]{1,64}`, unique, stable across regenerations. */
  readonly name: string;
  readonly title: string;
  /** Concise description shown in tools/list (first sentence of summary/description). */
  readonly description: string;
  /** The full prose from the spec, for describe_tool. */
  readonly details?: string;
  /** Words search_tools should also find this tool by: `x-mcp-keywords` of the operation and of its tags. */
  readonly keywords?: readonly string[];
  readonly module: string;
  readonly operationId?: string;
  readonly inputSchema: { readonly [key: string]: unknown };
  readonly outputSchema?: { readonly [key: string]: unknown };
  readonly annotations: ToolAnnotations;
  readonly binding: HttpBinding;
  readonly policy: ToolPolicy;
}

/** `generated/<api>/manifest.json`. */
export interface Manifest {
  readonly api: string;
  readonly title: string;
  readonly version: string;
  readonly specSha256: string;
  readonly command: string;
  readonly modules: readonly { readonly name: string; readonly description: string; readonly tools: number; readonly file: string }[];
  readonly tools: readonly {
    readonly name: string;
    readonly module: string;
    readonly method: string;
    readonly path: string;
    readonly write: boolean;
    readonly sensitive: boolean;
    readonly annotations: ToolAnnotations;
  }[];
  readonly excluded: readonly { readonly operationId: string; readonly method: string; readonly path: string; readonly reason: string }[];
  /** Problems in the spec that were worked around (relaxed schemas, dropped parts, invalid operations), by JSON pointer; absent when none. */
  readonly warnings?: readonly { readonly pointer: string; readonly problem: string; readonly tools: readonly string[] }[];
  /** Notes on the generation itself (a converted Swagger 2.0 spec, missing upstream types). */
  readonly notes?: readonly string[];
}
