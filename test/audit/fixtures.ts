/** Small hand-written descriptors for the audit tests. */
import type { ToolDescriptor } from "../../codegen/descriptor.js";

const base = {
  annotations: {},
  binding: { method: "GET", path: "/", serverPath: "", arguments: [], security: [], responseMediaTypes: ["application/json"] },
  policy: { write: false, sensitive: false, excluded: false },
} as const;

/** POST /projects/{project_id}/tasks: a write with a password-format and a writeOnly field. */
export const createTask: ToolDescriptor = {
  ...base,
  name: "create_task",
  title: "Create task",
  description: "Create a task in a project.",
  module: "tasks",
  inputSchema: {
    type: "object",
    properties: {
      project_id: { type: "integer" },
      title: { type: "string" },
      pin: { type: "string", format: "password" },
      webhook: { type: "object", properties: { signing_value: { type: "string", writeOnly: true } } },
      notes: { type: "string" },
    },
    required: ["project_id", "title"],
  },
  binding: {
    ...base.binding,
    method: "POST",
    path: "/projects/{project_id}/tasks",
    arguments: [{ name: "project_id", in: "path", wireName: "project_id", style: "simple", explode: false, allowReserved: false, required: true }],
    body: { mediaType: "application/json", mode: "flat", properties: { title: "title", pin: "pin", webhook: "webhook", notes: "notes" }, required: true },
  },
  policy: { write: true, sensitive: false, excluded: false },
};

/** GET /projects/{project_id}/tasks/{task_id}. */
export const getTask: ToolDescriptor = {
  ...base,
  name: "get_task",
  title: "Get task",
  description: "Get one task.",
  module: "tasks",
  inputSchema: { type: "object", properties: { project_id: { type: "integer" }, task_id: { type: "integer" } } },
  binding: {
    ...base.binding,
    path: "/projects/{project_id}/tasks/{task_id}",
    arguments: [
      { name: "project_id", in: "path", wireName: "project_id", style: "simple", explode: false, allowReserved: false, required: true },
      { name: "task_id", in: "path", wireName: "task_id", style: "simple", explode: false, allowReserved: false, required: true },
    ],
  },
};
