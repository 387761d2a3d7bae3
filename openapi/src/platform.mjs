/** Platform: automation, analytics, audit log, bulk operations, webhooks, integrations. */
import {
  str, uuid, dateTime, date, int, num, bool, oneOfValues, list, obj, nullable, readOnly, uri, email,
  resource, query, paramRef, schemaRef, jsonBody, jsonResponse, pageSchema,
} from "./spec-kit.mjs";
import { TASK_STATUSES, PRIORITIES } from "./planning.mjs";

const EVENTS = [
  "task.created", "task.updated", "task.moved", "task.completed", "task.assigned", "task.due_soon",
  "comment.created", "project.created", "project.archived", "wiki_page.updated", "form.submitted", "stock.low",
];

/** Adds the automation, analytics, audit, bulk, webhooks and integrations modules. */
export function addPlatform(spec) {
  spec.tag("automation", "Automation rules (when this happens, if these conditions hold, do these actions) and the log of their runs.");
  spec.tag("analytics", "Reports and statistics: workload per person, velocity, cycle time, and saved custom reports.");
  spec.tag("audit", "The audit log: who did what and when, across the organization.");
  spec.tag("bulk", "Bulk operations that change many tasks or projects in one call. Treated as sensitive: one call can change hundreds of items.", { "x-mcp-sensitive": true });
  spec.tag("webhooks", "Webhook subscriptions that POST events to your URL, and their delivery log. Sensitive: they send workspace data to outside systems.", { "x-mcp-sensitive": true });
  spec.tag("integrations", "Connected apps (Slack, GitHub, Google Drive…): install, configure, sync and remove them.");

  // automation ------------------------------------------------------------------
  spec.schema("SendEmailAction", {
    type: "object",
    description: "Send an email.",
    required: ["type", "to", "subject"],
    properties: {
      type: { type: "string", const: "send_email" },
      to: list(str("An address, or `{{assignee}}` / `{{reporter}}`."), "Recipients.", { minItems: 1 }),
      subject: str("Subject; may use `{{task.title}}` placeholders.", { maxLength: 200 }),
      body: str("Body in Markdown; may use placeholders.", { maxLength: 10000 }),
    },
  });
  spec.schema("SetFieldAction", {
    type: "object",
    description: "Set a field on the task that triggered the rule.",
    required: ["type", "field", "value"],
    properties: {
      type: { type: "string", const: "set_field" },
      field: oneOfValues(["status", "priority", "assignee_ids", "label_ids", "due_date", "sprint_id", "custom_field"], "Field to set."),
      custom_field_id: uuid("With `custom_field`: which one."),
      value: { type: ["string", "number", "boolean", "array", "null"], description: "Value to set.", items: { type: "string" } },
    },
  });
  spec.schema("WebhookAction", {
    type: "object",
    description: "Call a URL with the event as JSON.",
    required: ["type", "url"],
    properties: {
      type: { type: "string", const: "call_webhook" },
      url: uri("URL to call (https only)."),
      method: oneOfValues(["POST", "PUT"], "HTTP method.", { default: "POST" }),
      headers: obj("Extra request headers.", { additionalProperties: { type: "string" } }),
    },
  });
  spec.schema("PostMessageAction", {
    type: "object",
    description: "Post a message to a chat channel.",
    required: ["type", "channel_id", "text"],
    properties: {
      type: { type: "string", const: "post_message" },
      channel_id: uuid("Chat channel."),
      text: str("Message; may use placeholders.", { maxLength: 4000 }),
    },
  });
  spec.schema("Action", {
    description: "What a rule does. The `type` field selects the kind.",
    oneOf: [schemaRef("SendEmailAction"), schemaRef("SetFieldAction"), schemaRef("WebhookAction"), schemaRef("PostMessageAction")],
    discriminator: {
      propertyName: "type",
      mapping: {
        send_email: "#/components/schemas/SendEmailAction",
        set_field: "#/components/schemas/SetFieldAction",
        call_webhook: "#/components/schemas/WebhookAction",
        post_message: "#/components/schemas/PostMessageAction",
      },
    },
  });
  spec.schema("Condition", {
    type: "object",
    description: "A test on the triggering resource.",
    required: ["field", "operator"],
    properties: {
      field: str("Field path, e.g. `task.priority` or `task.project_id`."),
      operator: oneOfValues(["equals", "not_equals", "in", "contains", "is_empty", "greater_than", "less_than"], "Comparison."),
      value: { type: ["string", "number", "boolean", "array", "null"], description: "Value to compare with.", items: { type: "string" } },
    },
  });
  resource(spec, {
    tag: "automation",
    noun: "automation rule",
    name: "AutomationRule",
    collection: "/automation/rules",
    item: "/automation/rules/{rule_id}",
    description: "When an event happens and the conditions hold, run the actions.",
    required: ["name", "trigger", "actions", "enabled"],
    createRequired: ["name", "trigger", "actions"],
    fields: {
      name: str("Rule name, e.g. `Escalate urgent bugs`.", { minLength: 1, maxLength: 120 }),
      description: nullable(str("What the rule is for.")),
      trigger: {
        type: "object",
        description: "The event that starts the rule.",
        required: ["event"],
        properties: { event: oneOfValues(EVENTS, "Event name."), project_id: nullable(uuid("Only events in this project.")) },
      },
      conditions: list(schemaRef("Condition"), "All must hold for the actions to run."),
      actions: list(schemaRef("Action"), "Actions, run in order.", { minItems: 1, maxItems: 10 }),
      enabled: readOnly(bool("Whether the rule runs; change with enable/disable.")),
      last_run_at: readOnly(nullable(dateTime("Last time it ran."))),
      run_count: readOnly(int("Times it has run.", { minimum: 0 })),
    },
    filters: [paramRef("ProjectFilter"), query("enabled", "Only enabled or only disabled rules.", { type: "boolean" }), query("event", "Only rules triggered by this event.", oneOfValues(EVENTS))],
    describe: {
      list: "Lists automation rules.",
      create: "Creates an automation rule (disabled until enabled), e.g. when a task moves to done, post in #releases.",
      get: "Returns a rule with its trigger, conditions and actions.",
      update: "Changes a rule's trigger, conditions or actions.",
      delete: "Deletes a rule. Its run history is kept for 30 days.",
    },
  });
  for (const [verb, Verb, text] of [
    ["enable", "Turn on", "Turns an automation rule on; it runs on the next matching event."],
    ["disable", "Turn off", "Turns an automation rule off without deleting it."],
  ]) {
    spec.operation("post", `/automation/rules/{rule_id}/${verb}`, {
      id: `${verb}AutomationRule`,
      tag: "automation",
      summary: `${Verb} an automation rule`,
      description: text,
      responses: { 200: jsonResponse("The rule.", schemaRef("AutomationRule")) },
    });
  }
  spec.schema("AutomationRun", {
    type: "object",
    description: "One execution of an automation rule.",
    required: ["id", "rule_id", "status", "started_at"],
    properties: {
      id: uuid("Run ID."),
      rule_id: uuid("The rule."),
      status: oneOfValues(["succeeded", "failed", "skipped", "running"], "Outcome."),
      trigger_event: oneOfValues(EVENTS, "Event that started it."),
      resource_id: nullable(uuid("Resource the event was about.")),
      actions: list({ type: "object", required: ["type", "ok"], properties: { type: str("Action type."), ok: bool("Whether it succeeded."), error: nullable(str("Why it failed.")) } }, "Per-action results."),
      dry_run: bool("Whether this was a test run that changed nothing."),
      started_at: dateTime("Start."),
      finished_at: nullable(dateTime("End.")),
    },
  });
  spec.operation("post", "/automation/rules/{rule_id}/test", {
    id: "testAutomationRule",
    tag: "automation",
    summary: "Dry-run an automation rule",
    description: "Evaluates a rule against a sample resource and reports what it would do, without doing it.",
    extensions: { "x-mcp-write": false },
    body: jsonBody({ type: "object", required: ["resource_id"], properties: { resource_id: uuid("Task (or other resource) to test against.") } }),
    responses: { 200: jsonResponse("What would happen.", schemaRef("AutomationRun")) },
  });
  spec.operation("get", "/automation/runs", {
    id: "listAutomationRuns",
    tag: "automation",
    summary: "List automation runs",
    description: "Lists recent rule executions, newest first; filter by rule or `status=failed` to find broken automations.",
    params: [
      query("rule_id", "Only runs of this rule.", { type: "string", format: "uuid" }),
      query("status", "Only runs with this outcome.", oneOfValues(["succeeded", "failed", "skipped", "running"])),
      paramRef("Cursor"),
      paramRef("Limit"),
    ],
    responses: { 200: jsonResponse("A page of runs.", pageSchema("A page of automation runs.", schemaRef("AutomationRun"))) },
  });
  spec.operation("get", "/automation/runs/{run_id}", {
    id: "getAutomationRun",
    tag: "automation",
    summary: "Get an automation run",
    description: "Returns one run with the result of each action.",
    responses: { 200: jsonResponse("The run.", schemaRef("AutomationRun")) },
  });

  // analytics -------------------------------------------------------------------
  resource(spec, {
    tag: "analytics",
    noun: "report",
    name: "Report",
    collection: "/analytics/reports",
    item: "/analytics/reports/{report_id}",
    description: "A saved custom report.",
    required: ["name", "metric", "group_by"],
    fields: {
      name: str("Report name.", { minLength: 1, maxLength: 120 }),
      metric: oneOfValues(["tasks_created", "tasks_completed", "open_tasks", "hours_logged", "cycle_time_days", "overdue_tasks"], "What to measure."),
      group_by: oneOfValues(["day", "week", "month", "assignee", "project", "status", "priority", "label"], "How to break it down."),
      filters: obj("Task filters, as accepted by listTasks (e.g. `{\"project_id\": \"…\", \"priority\": \"high\"}`).", { additionalProperties: true }),
      range_days: int("Look-back window in days.", { minimum: 1, maximum: 730, default: 30 }),
      shared: bool("Visible to the whole organization.", { default: false }),
    },
    describe: {
      list: "Lists saved reports.",
      create: "Saves a custom report definition.",
      get: "Returns a report definition.",
      update: "Changes a report's metric, grouping, filters or range.",
      delete: "Deletes a saved report.",
    },
  });
  spec.schema("ReportResult", {
    type: "object",
    description: "Computed report rows.",
    required: ["report_id", "generated_at", "rows"],
    properties: {
      report_id: uuid("The report."),
      generated_at: dateTime("When it was computed."),
      rows: list({ type: "object", required: ["key", "value"], properties: { key: str("Group key (a date, user, project, status…)."), label: str("Display label."), value: num("Metric value.") } }, "One row per group."),
    },
  });
  spec.operation("post", "/analytics/reports/{report_id}/run", {
    id: "runReport",
    tag: "analytics",
    summary: "Run a saved report",
    description: "Computes a saved report now and returns its rows. Read-only.",
    extensions: { "x-mcp-write": false },
    responses: { 200: jsonResponse("The report rows.", schemaRef("ReportResult")) },
  });
  spec.operation("get", "/analytics/workload", {
    id: "getWorkload",
    tag: "analytics",
    summary: "Show workload per person",
    description: "Shows how much each person has on their plate: open tasks, overdue tasks, estimated hours due in the window and hours logged. Use it to find who is overloaded or free.",
    params: [paramRef("ProjectFilter"), query("team_id", "Only members of this team.", { type: "string", format: "uuid" }), paramRef("FromDate"), paramRef("ToDate")],
    responses: {
      200: jsonResponse("Workload rows.", {
        type: "object",
        required: ["data"],
        properties: {
          data: list(
            {
              type: "object",
              required: ["user", "open_tasks", "overdue_tasks"],
              properties: { user: schemaRef("UserSummary"), open_tasks: int("Open tasks assigned.", { minimum: 0 }), overdue_tasks: int("Overdue tasks.", { minimum: 0 }), estimated_hours: num("Estimated hours due in the window."), logged_hours: num("Hours logged in the window.") },
            },
            "One row per person.",
          ),
        },
      }),
    },
  });
  spec.operation("get", "/analytics/velocity", {
    id: "getVelocity",
    tag: "analytics",
    summary: "Show team velocity per sprint",
    description: "Returns committed versus completed estimate for a project's recent sprints.",
    params: [{ ...paramRef("ProjectFilter") }, query("sprints", "How many recent sprints.", { type: "integer", minimum: 1, maximum: 20, default: 6 })],
    responses: {
      200: jsonResponse("Velocity per sprint.", {
        type: "object",
        required: ["data", "average_completed"],
        properties: {
          data: list({ type: "object", required: ["sprint_id", "name", "committed", "completed"], properties: { sprint_id: uuid("Sprint."), name: str("Sprint name."), committed: num("Committed estimate."), completed: num("Completed estimate.") } }, "Oldest first."),
          average_completed: num("Mean completed estimate."),
        },
      }),
    },
  });
  spec.operation("get", "/analytics/cycle-time", {
    id: "getCycleTime",
    tag: "analytics",
    summary: "Show how long tasks take",
    description: "Cycle time statistics: days from in progress to done, by priority, over a date range.",
    params: [paramRef("ProjectFilter"), paramRef("FromDate"), paramRef("ToDate")],
    responses: {
      200: jsonResponse("Cycle time statistics.", {
        type: "object",
        required: ["median_days", "p85_days", "sample_size"],
        properties: {
          median_days: num("Median cycle time in days."),
          p85_days: num("85th percentile in days."),
          sample_size: int("Tasks measured.", { minimum: 0 }),
          by_priority: obj("Median days per priority.", { additionalProperties: { type: "number" } }),
        },
      }),
    },
  });

  // audit -----------------------------------------------------------------------
  spec.schema("AuditEvent", {
    type: "object",
    description: "One recorded action.",
    required: ["id", "occurred_at", "actor", "action", "resource_type", "resource_id"],
    properties: {
      id: uuid("Event ID."),
      occurred_at: dateTime("When it happened."),
      actor: { type: "object", required: ["type", "id"], properties: { type: oneOfValues(["user", "api_token", "automation", "system"], "Who acted."), id: str("Their ID."), name: nullable(str("Display name.")) } },
      action: str("What was done, e.g. `task.deleted` or `member.role_changed`."),
      resource_type: str("Kind of resource, e.g. `task`."),
      resource_id: str("Resource ID."),
      changes: nullable(obj("Changed fields with `from`/`to` values.", { additionalProperties: true })),
      ip_address: nullable(str("Client IP.", { format: "ipv4" })),
      user_agent: nullable(str("Client user agent.")),
    },
  });
  spec.operation("get", "/audit/events", {
    id: "listAuditEvents",
    tag: "audit",
    summary: "Search the audit log",
    description: "Lists audit log events, newest first: who did what and when. Filter by actor, action, resource or date range.",
    params: [
      query("actor_id", "Only actions by this user or token.", { type: "string" }),
      query("action", "Only this action, e.g. `task.deleted`; a prefix like `member.` matches a family.", { type: "string" }),
      query("resource_type", "Only this kind of resource.", { type: "string" }),
      query("resource_id", "Only events about this resource.", { type: "string" }),
      paramRef("FromDate"),
      paramRef("ToDate"),
      paramRef("Page"),
      paramRef("PerPage"),
    ],
    responses: { 200: jsonResponse("A page of audit events.", pageSchema("A page of audit events.", schemaRef("AuditEvent"), "page")) },
  });
  spec.operation("get", "/audit/events/{event_id}", {
    id: "getAuditEvent",
    tag: "audit",
    summary: "Get an audit event",
    description: "Returns one audit event with its full change set.",
    responses: { 200: jsonResponse("The event.", schemaRef("AuditEvent")) },
  });
  spec.schema("AuditSettings", {
    type: "object",
    description: "Audit log settings.",
    required: ["retention_days"],
    properties: {
      retention_days: int("Days events are kept.", { minimum: 30, maximum: 2555 }),
      stream_to_url: nullable(uri("SIEM endpoint events are forwarded to.")),
      alert_email: nullable(email("Where to send alerts for sensitive actions.")),
    },
  });
  spec.operation("get", "/audit/settings", {
    id: "getAuditSettings",
    tag: "audit",
    summary: "Get audit log settings",
    description: "Returns how long audit events are kept and where they are forwarded.",
    responses: { 200: jsonResponse("The settings.", schemaRef("AuditSettings")) },
  });
  spec.operation("put", "/audit/settings", {
    id: "updateAuditSettings",
    tag: "audit",
    summary: "Change audit log settings",
    description: "Changes the audit log retention, forwarding endpoint or alert address.",
    body: jsonBody(schemaRef("AuditSettings")),
    responses: { 200: jsonResponse("The stored settings.", schemaRef("AuditSettings")) },
    errors: [403],
  });

  // bulk ------------------------------------------------------------------------
  const taskIds = { type: "array", items: { type: "string", format: "uuid" }, minItems: 1, maxItems: 500, uniqueItems: true, description: "Tasks to change (up to 500)." };
  const bulk = (id, path, summary, description, properties, required = ["task_ids"]) =>
    spec.operation("post", path, {
      id,
      tag: "bulk",
      summary,
      description,
      params: [paramRef("IdempotencyKey")],
      body: jsonBody({ type: "object", required, properties }),
      responses: { 200: jsonResponse("Per-item results.", schemaRef("BulkResult")) },
      errors: [429],
    });
  bulk("bulkCreateTasks", "/bulk/tasks/create", "Create many tasks at once", "Creates up to 500 tasks in one call, e.g. from an imported checklist.", {
    tasks: list(schemaRef("TaskCreate"), "Tasks to create.", { minItems: 1, maxItems: 500 }),
  }, ["tasks"]);
  bulk("bulkUpdateTasks", "/bulk/tasks/update", "Update many tasks at once", "Applies the same field changes (priority, due date, labels, sprint…) to many tasks.", {
    task_ids: taskIds,
    changes: schemaRef("TaskUpdate"),
  }, ["task_ids", "changes"]);
  bulk("bulkMoveTasks", "/bulk/tasks/move", "Move many tasks at once", "Moves many tasks to one status (e.g. close everything done in the sprint) or to another project.", {
    task_ids: taskIds,
    status: oneOfValues(TASK_STATUSES, "New status."),
    project_id: uuid("Move the tasks to this project."),
  });
  bulk("bulkAssignTasks", "/bulk/tasks/assign", "Assign many tasks at once", "Assigns many tasks to the same people (adding, or replacing the current assignees).", {
    task_ids: taskIds,
    assignee_ids: list({ type: "string", format: "uuid" }, "Users to assign.", { minItems: 1 }),
    replace: bool("Replace current assignees.", { default: false }),
  }, ["task_ids", "assignee_ids"]);
  bulk("bulkDeleteTasks", "/bulk/tasks/delete", "Delete many tasks at once", "Permanently deletes many tasks with their subtasks, comments and attachments.", { task_ids: taskIds });
  bulk("bulkArchiveProjects", "/bulk/projects/archive", "Archive many projects at once", "Archives several projects in one call.", {
    project_ids: { type: "array", items: { type: "string", format: "uuid" }, minItems: 1, maxItems: 100, uniqueItems: true, description: "Projects to archive." },
  }, ["project_ids"]);
  spec.schema("BulkJob", {
    type: "object",
    description: "A recorded bulk operation.",
    required: ["id", "operation", "status", "total", "succeeded", "failed", "created_at"],
    properties: {
      id: uuid("Job ID."),
      operation: oneOfValues(["tasks.create", "tasks.update", "tasks.move", "tasks.assign", "tasks.delete", "projects.archive"], "What it did."),
      status: oneOfValues(["completed", "partially_failed", "failed"], "Outcome."),
      total: int("Items in the request.", { minimum: 0 }),
      succeeded: int("Items that succeeded.", { minimum: 0 }),
      failed: int("Items that failed.", { minimum: 0 }),
      requested_by: uuid("Who ran it."),
      created_at: dateTime("When it ran."),
    },
  });
  spec.operation("get", "/bulk/jobs", {
    id: "listBulkJobs",
    tag: "bulk",
    summary: "List bulk operations",
    description: "Lists recent bulk operations and their outcomes.",
    params: [paramRef("Cursor"), paramRef("Limit")],
    responses: { 200: jsonResponse("A page of bulk jobs.", pageSchema("A page of bulk jobs.", schemaRef("BulkJob"))) },
  });
  spec.operation("get", "/bulk/jobs/{job_id}", {
    id: "getBulkJob",
    tag: "bulk",
    summary: "Get a bulk operation",
    description: "Returns one bulk operation with its counts.",
    responses: { 200: jsonResponse("The job.", schemaRef("BulkJob")) },
  });

  // webhooks --------------------------------------------------------------------
  resource(spec, {
    tag: "webhooks",
    noun: "webhook",
    name: "Webhook",
    collection: "/webhooks",
    item: "/webhooks/{webhook_id}",
    description: "A subscription that POSTs events to a URL, signed with a shared secret.",
    required: ["url", "events", "active"],
    createRequired: ["url", "events"],
    fields: {
      url: uri("HTTPS endpoint that receives events."),
      description: nullable(str("What it feeds.")),
      events: list(oneOfValues(EVENTS), "Events to send.", { minItems: 1, uniqueItems: true }),
      active: bool("Whether deliveries are sent.", { default: true }),
      secret: { type: "string", writeOnly: true, minLength: 16, description: "Signing secret for the `Workspace-Signature` header; generated when omitted. Never returned." },
      secret_last4: readOnly(str("Last four characters of the signing secret.")),
      failure_count: readOnly(int("Consecutive failed deliveries; the webhook is paused after 20.", { minimum: 0 })),
    },
    describe: {
      list: "Lists webhook subscriptions.",
      create: "Subscribes a URL to workspace events. Deliveries are signed with the secret.",
      get: "Returns a webhook subscription.",
      update: "Changes a webhook's URL, events, secret or active flag.",
      delete: "Deletes a webhook subscription; no more deliveries are sent.",
    },
  });
  spec.operation("post", "/webhooks/{webhook_id}/ping", {
    id: "pingWebhook",
    tag: "webhooks",
    summary: "Send a test event to a webhook",
    description: "Sends a `ping` event to the webhook URL and reports the response.",
    responses: { 200: jsonResponse("The test delivery.", { $ref: "#/components/schemas/WebhookDelivery" }) },
  });
  spec.schema("WebhookDelivery", {
    type: "object",
    description: "One attempt to deliver an event.",
    required: ["id", "webhook_id", "event", "status", "attempted_at"],
    properties: {
      id: uuid("Delivery ID."),
      webhook_id: uuid("The webhook."),
      event: str("Event name."),
      status: oneOfValues(["succeeded", "failed", "pending"], "Outcome."),
      response_status: nullable(int("HTTP status the endpoint answered.")),
      duration_ms: nullable(int("Round-trip time.", { minimum: 0 })),
      attempted_at: dateTime("When it was sent."),
    },
  });
  spec.operation("get", "/webhooks/{webhook_id}/deliveries", {
    id: "listWebhookDeliveries",
    tag: "webhooks",
    summary: "List webhook deliveries",
    description: "Lists recent deliveries of a webhook, newest first; filter `status=failed` to debug.",
    params: [query("status", "Only deliveries with this outcome.", oneOfValues(["succeeded", "failed", "pending"])), paramRef("Cursor"), paramRef("Limit")],
    responses: { 200: jsonResponse("A page of deliveries.", pageSchema("A page of webhook deliveries.", schemaRef("WebhookDelivery"))) },
  });

  // integrations ----------------------------------------------------------------
  const PROVIDERS = ["slack", "github", "gitlab", "google_drive", "figma", "zendesk", "jira"];
  resource(spec, {
    tag: "integrations",
    noun: "integration",
    name: "Integration",
    collection: "/integrations",
    item: "/integrations/{integration_id}",
    description: "An installed integration.",
    required: ["provider", "status"],
    createRequired: ["provider"],
    fields: {
      provider: oneOfValues(PROVIDERS, "Which app."),
      status: readOnly(oneOfValues(["pending_connection", "active", "error", "paused"], "Connection state.")),
      config: obj("Provider settings, e.g. `{\"channel\": \"#eng\"}` for Slack or `{\"repository\": \"acme/web\"}` for GitHub.", { additionalProperties: true }),
      project_ids: list({ type: "string", format: "uuid" }, "Projects it syncs with; all when empty.", { uniqueItems: true }),
      last_synced_at: readOnly(nullable(dateTime("Last successful sync."))),
      error: readOnly(nullable(str("Last error, when status is `error`."))),
    },
    filters: [query("provider", "Only this app.", oneOfValues(PROVIDERS))],
    summaries: { create: "Install an integration", delete: "Uninstall an integration" },
    ids: { create: "installIntegration", delete: "uninstallIntegration" },
    describe: {
      list: "Lists installed integrations and their status.",
      create: "Installs an integration. Apps that need the user's consent stay `pending_connection` until an admin finishes connecting them in the web app.",
      get: "Returns an integration's configuration and status.",
      update: "Changes an integration's settings or the projects it syncs.",
      delete: "Uninstalls an integration and stops syncing.",
    },
  });
  spec.operation("post", "/integrations/{integration_id}/sync", {
    id: "syncIntegration",
    tag: "integrations",
    summary: "Sync an integration now",
    description: "Starts an immediate sync with the connected app instead of waiting for the schedule.",
    responses: { 202: jsonResponse("The sync was queued.", schemaRef("JobAccepted")) },
    errors: [409],
  });
}
