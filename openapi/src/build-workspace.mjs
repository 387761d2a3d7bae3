#!/usr/bin/env node
/**
 * Writes openapi/workspace.yaml from the module descriptions next to this file.
 * Run: node openapi/src/build-workspace.mjs          (then lint: make lint-spec)
 *      node openapi/src/build-workspace.mjs --check  (exit 1 if the YAML is stale or breaks a promise)
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { createSpec, str, int, uuid, uri, dateTime, oneOfValues, list, obj, readOnly, nullable } from "./spec-kit.mjs";
import { addPeople } from "./people.mjs";
import { addPlanning } from "./planning.mjs";
import { addKnowledge } from "./knowledge.mjs";
import { addOperations } from "./operations.mjs";
import { addCollaboration } from "./collaboration.mjs";
import { addPlatform } from "./platform.mjs";
import { addRestricted } from "./restricted.mjs";
import { verify, countModules } from "./verify.mjs";

const spec = createSpec();

// ---------------------------------------------------------------- shared components

spec.schema("ResourceBase", {
  type: "object",
  description: "Metadata every stored resource carries.",
  required: ["id", "created_at", "updated_at"],
  properties: {
    id: readOnly(uuid("Unique identifier.")),
    created_at: readOnly(dateTime("When the resource was created.")),
    updated_at: readOnly(dateTime("When the resource was last changed.")),
  },
});
spec.schema("VersionedResource", {
  type: "object",
  description: "A resource guarded by optimistic concurrency: every change increments `version`, and the current version is also sent as the `ETag` response header.",
  allOf: [
    { $ref: "#/components/schemas/ResourceBase" },
    {
      type: "object",
      required: ["version"],
      properties: { version: readOnly(int("Revision counter; starts at 1 and increases by one on every change.", { minimum: 1 })) },
    },
  ],
});
spec.schema("Problem", {
  type: "object",
  description: "An error, as an RFC 9457 problem document.",
  required: ["type", "title", "status"],
  properties: {
    type: str("URI reference that identifies the kind of problem.", { format: "uri-reference" }),
    title: str("Short, human-readable summary of the problem."),
    status: int("The HTTP status code.", { minimum: 400, maximum: 599 }),
    detail: str("Explanation specific to this occurrence."),
    instance: str("URI reference of this occurrence.", { format: "uri-reference" }),
    errors: list(
      {
        type: "object",
        required: ["message"],
        properties: {
          pointer: str("JSON Pointer to the offending part of the request, e.g. `/body/title` or `/query/limit`."),
          message: str("What is wrong with it."),
        },
      },
      "Individual validation problems, when the request was invalid.",
    ),
  },
});
spec.schema("UserSummary", {
  type: "object",
  description: "A compact reference to a user.",
  required: ["id", "name"],
  properties: {
    id: uuid("User ID."),
    name: str("Display name."),
    email: { type: "string", format: "email", description: "Email address." },
    avatar_url: nullable({ type: "string", format: "uri", description: "Avatar image URL." }),
  },
});
spec.schema("Money", {
  type: "object",
  description: "An amount of money in minor units (cents) with its ISO 4217 currency.",
  required: ["amount", "currency"],
  properties: {
    amount: int("Amount in minor units, e.g. 1999 for 19.99."),
    currency: str("ISO 4217 currency code.", { pattern: "^[A-Z]{3}$", example: "EUR" }),
  },
});
spec.schema("BulkResult", {
  type: "object",
  description: "Outcome of a bulk operation, item by item. A bulk request applies what it can and reports the rest.",
  required: ["job_id", "status", "succeeded", "failed", "results"],
  properties: {
    job_id: uuid("ID of the bulk job; fetch it later with getBulkJob."),
    status: oneOfValues(["completed", "partially_failed", "failed"], "Overall outcome."),
    succeeded: int("Number of items processed successfully.", { minimum: 0 }),
    failed: int("Number of items that failed.", { minimum: 0 }),
    results: list(
      {
        type: "object",
        required: ["id", "ok"],
        properties: {
          id: uuid("The item the result is about."),
          ok: { type: "boolean", description: "Whether this item succeeded." },
          error: nullable(str("Why this item failed.")),
        },
      },
      "Per-item results, in request order.",
    ),
  },
});
spec.schema("JobAccepted", {
  type: "object",
  description: "A long-running job that was accepted and will finish in the background.",
  required: ["job_id", "status"],
  properties: {
    job_id: uuid("ID of the job."),
    status: oneOfValues(["queued", "running", "completed", "failed"], "Current state."),
    status_url: uri("Where to poll for progress."),
  },
});
spec.schema("Metadata", obj("Free-form key/value pairs for your own integrations (up to 50 keys, values up to 500 characters).", {
  additionalProperties: { type: "string", maxLength: 500 },
  maxProperties: 50,
}));

spec.parameter("Cursor", {
  name: "cursor",
  in: "query",
  description: "Opaque cursor from the previous page's `next_cursor`. Omit for the first page.",
  schema: { type: "string" },
});
spec.parameter("Limit", {
  name: "limit",
  in: "query",
  description: "Maximum number of items to return.",
  schema: { type: "integer", minimum: 1, maximum: 100, default: 25 },
});
spec.parameter("Page", {
  name: "page",
  in: "query",
  description: "Page number, starting at 1.",
  schema: { type: "integer", minimum: 1, default: 1 },
});
spec.parameter("PerPage", {
  name: "per_page",
  in: "query",
  description: "Items per page.",
  schema: { type: "integer", minimum: 1, maximum: 100, default: 25 },
});
spec.parameter("IdempotencyKey", {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description: "A unique key (for example a UUID) that makes a create safe to retry: repeating the request with the same key returns the first result instead of creating a duplicate. Keys are kept for 24 hours.",
  schema: { type: "string", minLength: 8, maxLength: 255 },
});
spec.parameter("IfMatch", {
  name: "If-Match",
  in: "header",
  required: false,
  description: "The `ETag` from your last read (for example `\"7\"`). The update is applied only if the resource has not changed since; otherwise the API answers 412 and you should re-read and retry.",
  schema: { type: "string" },
});
spec.parameter("ProjectFilter", {
  name: "project_id",
  in: "query",
  description: "Only items in this project.",
  schema: { type: "string", format: "uuid" },
});
spec.parameter("FromDate", {
  name: "from",
  in: "query",
  description: "Start of the date range, inclusive (YYYY-MM-DD).",
  schema: { type: "string", format: "date" },
});
spec.parameter("ToDate", {
  name: "to",
  in: "query",
  description: "End of the date range, inclusive (YYYY-MM-DD).",
  schema: { type: "string", format: "date" },
});
spec.parameter("SearchQuery", {
  name: "q",
  in: "query",
  description: "Free-text filter matched against names and descriptions.",
  schema: { type: "string", maxLength: 200 },
});

// ---------------------------------------------------------------- modules

addPeople(spec);
addPlanning(spec);
addCollaboration(spec);
addKnowledge(spec);
addOperations(spec);
addPlatform(spec);
addRestricted(spec);

// A few operations carry gateway hints beyond what their method and tag imply.
const EXTENSIONS = {
  getSprintBurndown: { "x-mcp-module": "analytics" },
  deleteOrganization: { "x-mcp-sensitive": true },
  updateAuditSettings: { "x-mcp-sensitive": true },
  completeTask: { "x-mcp-annotations": { idempotentHint: true } },
  pingWebhook: { "x-mcp-annotations": { openWorldHint: true } },
};
for (const item of Object.values(spec.paths)) {
  for (const operation of Object.values(item)) {
    if (operation?.operationId && EXTENSIONS[operation.operationId]) Object.assign(operation, EXTENSIONS[operation.operationId]);
  }
}

// ---------------------------------------------------------------- the document

const problem = (description) => ({
  description,
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});

const document = {
  openapi: "3.1.0",
  info: {
    title: "Workspace API",
    version: "1.4.0",
    summary: "Projects, tasks, wiki, inventory, chat and automation for teams.",
    description: [
      "The Workspace API manages everything a team works on: organizations and people, projects and",
      "tasks (with subtasks, dependencies, sprints, boards and milestones), a wiki, documents and forms,",
      "goals, calendars, time tracking, business processes, stock and products, chat with an AI agent,",
      "automation rules, analytics and the audit log.",
      "",
      "**Conventions**",
      "- Authenticate with a bearer token: `Authorization: Bearer <token>`.",
      "- Lists are paginated with `cursor` + `limit` (the response has `next_cursor` and `has_more`);",
      "  a few reporting endpoints use `page` + `per_page`.",
      "- Creates accept an `Idempotency-Key` header so they can be retried safely.",
      "- Tasks and wiki pages are versioned: `GET` returns an `ETag`; send it back as `If-Match` on",
      "  `PATCH` to avoid overwriting someone else's change (412 when it is stale).",
      "- Errors are RFC 9457 problem documents (`application/problem+json`).",
      "- Times are UTC, in RFC 3339 format; dates are `YYYY-MM-DD`.",
    ].join("\n"),
    contact: { name: "Workspace API support", email: "api@workspace.example.com", url: "https://workspace.example.com/support" },
    license: { name: "MIT", identifier: "MIT" },
  },
  servers: [{ url: "http://localhost:4010/v1", description: "Local sample server" }],
  security: [{ bearerAuth: [] }],
  tags: spec.tags,
  paths: spec.paths,
  components: {
    securitySchemes: {
      bearerAuth: {
        type: "http",
        scheme: "bearer",
        bearerFormat: "opaque",
        description: "A personal or service access token, sent as `Authorization: Bearer <token>`.",
      },
    },
    parameters: spec.parameters,
    headers: {
      ETag: {
        description: "Current version of the resource, as a quoted string (e.g. `\"7\"`). Send it back in `If-Match` when updating.",
        schema: { type: "string" },
      },
    },
    responses: {
      ValidationError: problem("The request is invalid: the `errors` list names each problem."),
      Unauthorized: problem("Missing, malformed or expired bearer token."),
      Forbidden: problem("The token is valid but lacks permission for this action."),
      NotFound: problem("No resource with that ID exists, or it is not visible to you."),
      Conflict: problem("The request conflicts with the current state (for example a duplicate name, or an Idempotency-Key reused with a different body)."),
      PreconditionFailed: problem("`If-Match` does not match the current version: someone else changed the resource. Re-read it and retry."),
      TooManyRequests: problem("Rate limit exceeded; retry after the number of seconds in `Retry-After`."),
    },
    schemas: spec.schemas,
  },
};

const header = [
  "# Workspace API — the sample upstream API bundled with Countersign.",
  "# Written as compact module descriptions in openapi/src/; regenerate with",
  "#   node openapi/src/build-workspace.mjs",
  "",
].join("\n");

const problems = verify(document);
if (problems.length) {
  console.error(`openapi/workspace.yaml would break its promises:\n- ${problems.join("\n- ")}`);
  process.exit(1);
}

const out = fileURLToPath(new URL("../workspace.yaml", import.meta.url));
const text = header + stringify(document, { lineWidth: 0, aliasDuplicateObjects: false });
const counts = countModules(document);
const summary = `${counts.exposedModules} exposed modules, ${counts.exposedOperations} exposed operations, restricted ${JSON.stringify(counts.restrictedOperations)}`;
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(out, "utf8");
  } catch {
    // A missing file is simply stale.
  }
  if (current !== text) {
    console.error("openapi/workspace.yaml is stale: run node openapi/src/build-workspace.mjs");
    process.exit(1);
  }
  console.log(`openapi/workspace.yaml is up to date: ${summary}`);
} else {
  // Write beside and rename, so a reader never sees half a spec.
  writeFileSync(`${out}.tmp`, text);
  renameSync(`${out}.tmp`, out);
  console.log(`wrote openapi/workspace.yaml: ${summary}`);
}
