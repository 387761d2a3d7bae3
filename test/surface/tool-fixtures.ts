/** Small hand-written descriptors for surface tests that do not need a generated API. */
import type { HttpBinding, ToolDescriptor } from "../../codegen/descriptor.js";

type Spec = {
  name: string;
  module: string;
  method: HttpBinding["method"];
  path: string;
  description: string;
  details?: string;
  properties?: Record<string, unknown>;
  required?: string[];
};

/** Builds a descriptor with defaults for everything a test does not care about. */
export function tool(spec: Spec): ToolDescriptor {
  const write = spec.method !== "GET";
  return {
    name: spec.name,
    title: spec.description.replace(/\.$/, ""),
    description: spec.description,
    details: spec.details,
    module: spec.module,
    inputSchema: { type: "object", properties: spec.properties ?? {}, ...(spec.required ? { required: spec.required } : {}) },
    annotations: { readOnlyHint: !write, destructiveHint: spec.method === "DELETE" },
    binding: { method: spec.method, path: spec.path, serverPath: "", arguments: [], security: [], responseMediaTypes: ["application/json"] },
    policy: { write, sensitive: false, excluded: false },
  };
}

/** A small project-tracker API across four modules. */
export const trackerTools: ToolDescriptor[] = [
  tool({ name: "tasks_list", module: "tasks", method: "GET", path: "/projects/{project_id}/tasks", description: "List tasks in a project.", properties: { project_id: { type: "string" }, status: { type: "string", enum: ["todo", "doing", "done"] }, assignee_id: { type: "string" } }, required: ["project_id"] }),
  tool({ name: "tasks_get", module: "tasks", method: "GET", path: "/tasks/{task_id}", description: "Get a task.", properties: { task_id: { type: "string" } }, required: ["task_id"] }),
  tool({ name: "tasks_create", module: "tasks", method: "POST", path: "/projects/{project_id}/tasks", description: "Create a task.", properties: { project_id: { type: "string" }, title: { type: "string" }, due_date: { type: "string", format: "date" } }, required: ["project_id", "title"] }),
  tool({ name: "tasks_update", module: "tasks", method: "PATCH", path: "/tasks/{task_id}", description: "Update a task's title, status or assignee.", properties: { task_id: { type: "string" }, status: { type: "string", enum: ["todo", "doing", "done"] } }, required: ["task_id"] }),
  tool({ name: "tasks_delete", module: "tasks", method: "DELETE", path: "/tasks/{task_id}", description: "Delete a task.", properties: { task_id: { type: "string" } }, required: ["task_id"] }),
  tool({ name: "comments_create", module: "comments", method: "POST", path: "/tasks/{task_id}/comments", description: "Add a comment to a task.", properties: { task_id: { type: "string" }, body: { type: "string" } }, required: ["task_id", "body"] }),
  tool({ name: "comments_list", module: "comments", method: "GET", path: "/tasks/{task_id}/comments", description: "List the comments on a task.", properties: { task_id: { type: "string" } }, required: ["task_id"] }),
  tool({ name: "time_entries_list", module: "time", method: "GET", path: "/time-entries", description: "List time entries.", details: "Time logged by members, newest first. Filter by member and date range.", properties: { member_id: { type: "string" }, from: { type: "string", format: "date" }, to: { type: "string", format: "date" } } }),
  tool({ name: "time_entries_create", module: "time", method: "POST", path: "/time-entries", description: "Log time against a task.", properties: { task_id: { type: "string" }, minutes: { type: "integer" } }, required: ["task_id", "minutes"] }),
  tool({ name: "members_list", module: "people", method: "GET", path: "/members", description: "List workspace members." }),
  tool({ name: "members_remove", module: "people", method: "DELETE", path: "/members/{member_id}", description: "Remove a member from the workspace.", properties: { member_id: { type: "string" } }, required: ["member_id"] }),
];
