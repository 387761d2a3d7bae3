/** Planning work: projects, tasks, subtasks, dependencies, labels, milestones, sprints, boards, workflows, custom fields. */
import {
  str, uuid, dateTime, date, int, num, bool, oneOfValues, list, obj, nullable, readOnly,
  resource, query, paramRef, schemaRef, jsonBody, jsonResponse, noContent, pageSchema,
} from "./spec-kit.mjs";

export const TASK_STATUSES = ["backlog", "todo", "in_progress", "in_review", "done", "cancelled"];
export const PRIORITIES = ["none", "low", "medium", "high", "urgent"];

const ids = (description) => list({ type: "string", format: "uuid" }, description, { uniqueItems: true });

/** Adds the project-planning modules. */
export function addPlanning(spec) {
  spec.tag("projects", "Projects hold tasks, boards, sprints and milestones. Create, archive and restore projects, manage who is on them and see their progress counts.");
  spec.tag("tasks", "Tasks (issues, to-dos): create, update, move between statuses and board columns, assign, complete and reopen. Tasks are versioned: use the ETag with If-Match when updating.");
  spec.tag("subtasks", "Checklist-style subtasks inside a task.");
  spec.tag("task-dependencies", "Links between tasks: what blocks what.");
  spec.tag("labels", "Colored labels for categorizing tasks (bug, feature, …).");
  spec.tag("milestones", "Milestones: dated targets that group tasks in a project (a release, a launch).");
  spec.tag("sprints", "Time-boxed sprints (iterations) for planning and delivering tasks, with burndown.");
  spec.tag("boards", "Kanban boards and their columns.");
  spec.tag("workflows", "Workflows define the statuses a project's tasks go through and which moves are allowed.");
  spec.tag("custom-fields", "Custom fields add your own typed attributes to tasks (story points, customer, due quarter…).");

  // projects --------------------------------------------------------------------
  const PROJECT_STATUSES = ["planned", "active", "on_hold", "completed", "archived"];
  resource(spec, {
    tag: "projects",
    noun: "project",
    name: "Project",
    collection: "/projects",
    item: "/projects/{project_id}",
    description: "A project.",
    required: ["name", "key", "status", "visibility"],
    createRequired: ["name", "key"],
    fields: {
      name: str("Project name.", { minLength: 1, maxLength: 120 }),
      key: str("Short uppercase prefix for task keys, e.g. `WEB` gives `WEB-42`.", { pattern: "^[A-Z][A-Z0-9]{1,9}$" }),
      description: nullable(str("What the project is about (Markdown).", { maxLength: 10000 })),
      status: oneOfValues(PROJECT_STATUSES.filter((s) => s !== "archived"), "Project status. Archiving is a separate action (archiveProject).", { default: "active" }),
      visibility: oneOfValues(["private", "team", "organization"], "Who can see the project.", { default: "organization" }),
      owner_id: uuid("Project owner (defaults to the caller)."),
      team_id: nullable(uuid("Team that owns the project.")),
      workflow_id: nullable(uuid("Workflow whose statuses the tasks use; the default workflow when null.")),
      start_date: nullable(date("Planned start date.")),
      due_date: nullable(date("Target end date.")),
      color: str("Display color as a hex code.", { pattern: "^#[0-9a-fA-F]{6}$" }),
      archived: readOnly(bool("Whether the project is archived (read-only; hidden from default lists).")),
      archived_at: readOnly(nullable(dateTime("When the project was archived."))),
      metadata: schemaRef("Metadata"),
    },
    filters: [
      query("status", "Only projects in this status; `archived` lists the archived projects, which are otherwise hidden.", oneOfValues(PROJECT_STATUSES)),
      query("team_id", "Only projects owned by this team.", { type: "string", format: "uuid" }),
      query("owner_id", "Only projects owned by this user.", { type: "string", format: "uuid" }),
      paramRef("SearchQuery"),
      query("sort", "Sort order.", oneOfValues(["name", "-created_at", "due_date", "-updated_at"], undefined, { default: "-updated_at" })),
    ],
    describe: {
      list: "Lists projects you can see. Archived projects are hidden unless `status=archived`.",
      create: "Creates a project. Its key prefixes task keys and cannot be reused in the organization.",
      get: "Returns a project's details, owner, dates and status.",
      update: "Renames a project or changes its status, owner, team, dates or visibility.",
      delete: "Permanently deletes a project with all of its tasks, boards and sprints. Prefer archiving to keep the history.",
    },
  });
  spec.operation("post", "/projects/{project_id}/archive", {
    id: "archiveProject",
    tag: "projects",
    summary: "Archive a project",
    description: "Archives a project: it becomes read-only and disappears from default lists, but nothing is deleted. Restore it with restoreProject.",
    responses: { 200: jsonResponse("The archived project.", schemaRef("Project")) },
    errors: [409],
  });
  spec.operation("post", "/projects/{project_id}/restore", {
    id: "restoreProject",
    tag: "projects",
    summary: "Restore an archived project",
    description: "Unarchives a project so it can be edited again.",
    responses: { 200: jsonResponse("The restored project.", schemaRef("Project")) },
    errors: [409],
  });
  spec.schema("ProjectStats", {
    type: "object",
    description: "Task counts and progress for a project.",
    required: ["project_id", "total_tasks", "open_tasks", "completed_tasks", "overdue_tasks", "by_status", "by_priority", "percent_complete"],
    properties: {
      project_id: uuid("The project."),
      total_tasks: int("All tasks, excluding cancelled ones.", { minimum: 0 }),
      open_tasks: int("Tasks not done or cancelled.", { minimum: 0 }),
      completed_tasks: int("Tasks done.", { minimum: 0 }),
      overdue_tasks: int("Open tasks past their due date.", { minimum: 0 }),
      unassigned_tasks: int("Open tasks with nobody assigned.", { minimum: 0 }),
      by_status: obj("Task count per status.", { additionalProperties: { type: "integer", minimum: 0 } }),
      by_priority: obj("Open task count per priority.", { additionalProperties: { type: "integer", minimum: 0 } }),
      percent_complete: num("Completed tasks as a percentage of all tasks.", { minimum: 0, maximum: 100 }),
      logged_hours: num("Hours of time logged on the project's tasks.", { minimum: 0 }),
    },
  });
  spec.operation("get", "/projects/{project_id}/stats", {
    id: "getProjectStats",
    tag: "projects",
    summary: "Get project stats (task counts and progress)",
    description: "Counts a project's tasks by status and priority, with overdue and unassigned counts, percent complete and hours logged. Use it to answer how a project is going.",
    responses: { 200: jsonResponse("Project statistics.", schemaRef("ProjectStats")) },
  });
  spec.schema("ProjectMember", {
    type: "object",
    description: "A person added to a project.",
    required: ["user", "access"],
    properties: {
      user: schemaRef("UserSummary"),
      access: oneOfValues(["viewer", "editor", "manager"], "What they may do in the project."),
      added_at: dateTime("When they were added."),
    },
  });
  spec.operation("get", "/projects/{project_id}/members", {
    id: "listProjectMembers",
    tag: "projects",
    summary: "List people on a project",
    description: "Lists who has access to a project and at what level.",
    params: [paramRef("Cursor"), paramRef("Limit")],
    responses: { 200: jsonResponse("A page of project members.", pageSchema("A page of project members.", schemaRef("ProjectMember"))) },
  });
  spec.operation("post", "/projects/{project_id}/members", {
    id: "addProjectMember",
    tag: "projects",
    summary: "Add someone to a project",
    description: "Gives a user access to a project as viewer, editor or manager.",
    params: [paramRef("IdempotencyKey")],
    body: jsonBody({
      type: "object",
      required: ["user_id"],
      properties: { user_id: uuid("User to add."), access: oneOfValues(["viewer", "editor", "manager"], "Access level.", { default: "editor" }) },
    }),
    responses: { 201: jsonResponse("The project membership.", schemaRef("ProjectMember")) },
    errors: [409],
  });
  spec.operation("delete", "/projects/{project_id}/members/{user_id}", {
    id: "removeProjectMember",
    tag: "projects",
    summary: "Remove someone from a project",
    description: "Takes away a user's access to a project. Their tasks stay assigned.",
    responses: noContent("Access removed."),
  });

  // tasks -----------------------------------------------------------------------
  resource(spec, {
    tag: "tasks",
    noun: "task",
    name: "Task",
    fieldsSchemaName: "TaskFields",
    collection: "/tasks",
    item: "/tasks/{task_id}",
    versioned: true,
    description: "A task (issue) in a project.",
    required: ["project_id", "key", "title", "status", "priority", "assignee_ids"],
    createRequired: ["project_id", "title"],
    fields: {
      project_id: uuid("Project the task belongs to."),
      key: readOnly(str("Human-readable key, e.g. `WEB-42`.")),
      title: str("One-line title.", { minLength: 1, maxLength: 300 }),
      description: nullable(str("Details in Markdown.", { maxLength: 50000 })),
      status: oneOfValues(TASK_STATUSES, "Workflow status.", { default: "todo" }),
      priority: oneOfValues(PRIORITIES, "Priority.", { default: "none" }),
      assignee_ids: ids("Users the task is assigned to."),
      reporter_id: readOnly(uuid("Who created the task.")),
      label_ids: ids("Labels on the task."),
      sprint_id: nullable(uuid("Sprint the task is planned in.")),
      milestone_id: nullable(uuid("Milestone the task counts towards.")),
      board_column_id: readOnly(nullable(uuid("Board column the task sits in; change it with moveTask."))),
      start_date: nullable(date("When work should start.")),
      due_date: nullable(date("When the task is due.")),
      estimate_hours: nullable(num("Estimated effort in hours.", { minimum: 0, maximum: 1000 })),
      position: readOnly(num("Sort position within its status column.")),
      completed_at: readOnly(nullable(dateTime("When the task was marked done."))),
      subtask_count: readOnly(int("Number of subtasks.", { minimum: 0 })),
      comment_count: readOnly(int("Number of comments.", { minimum: 0 })),
      custom_fields: obj("Custom field values keyed by custom field ID.", { additionalProperties: true }),
    },
    filters: [
      paramRef("ProjectFilter"),
      query("status", "Only tasks in these statuses (comma-separated).", list(oneOfValues(TASK_STATUSES)), { style: "form", explode: false }),
      query("priority", "Only tasks with this priority.", oneOfValues(PRIORITIES)),
      query("assignee_id", "Only tasks assigned to this user; `me` for the caller, `none` for unassigned.", { type: "string" }),
      query("label_id", "Only tasks with this label.", { type: "string", format: "uuid" }),
      query("sprint_id", "Only tasks in this sprint.", { type: "string", format: "uuid" }),
      query("milestone_id", "Only tasks towards this milestone.", { type: "string", format: "uuid" }),
      query("due_before", "Only tasks due on or before this date.", { type: "string", format: "date" }),
      query("due_after", "Only tasks due on or after this date.", { type: "string", format: "date" }),
      query("overdue", "Only open tasks past their due date.", { type: "boolean" }),
      paramRef("SearchQuery"),
      query("sort", "Sort order.", oneOfValues(["position", "-priority", "due_date", "-created_at", "-updated_at"], undefined, { default: "-updated_at" })),
    ],
    describe: {
      list: "Lists tasks, filtered by project, status, priority, assignee, label, sprint, milestone or due date. For example: open high-priority tasks assigned to me, or tasks due this week.",
      create: "Creates a task in a project. Send an Idempotency-Key so a retry does not create a duplicate.",
      get: "Returns a task with its status, assignees, dates and custom fields. The ETag header holds the version to send in If-Match when updating.",
      update: "Edits a task's title, description, priority, assignees, dates, sprint or custom fields. Send the ETag from getTask as If-Match to avoid overwriting a concurrent change (412 if it is stale). To change status or column, moveTask is clearer.",
      delete: "Deletes a task with its subtasks, comments and attachments. This cannot be undone.",
    },
  });
  const taskResponse = (description) => jsonResponse(description, schemaRef("Task"), { ETag: { $ref: "#/components/headers/ETag" } });
  spec.operation("get", "/users/me/tasks", {
    id: "listMyTasks",
    tag: "tasks",
    summary: "List my tasks",
    description: "Lists open tasks assigned to the caller across all projects, most urgent first: what is on my plate.",
    params: [
      query("status", "Only tasks in these statuses (comma-separated); open statuses when omitted.", list(oneOfValues(TASK_STATUSES)), { style: "form", explode: false }),
      query("due_before", "Only tasks due on or before this date.", { type: "string", format: "date" }),
      paramRef("Cursor"),
      paramRef("Limit"),
    ],
    responses: { 200: jsonResponse("A page of tasks.", schemaRef("TaskList")) },
  });
  spec.operation("post", "/tasks/{task_id}/move", {
    id: "moveTask",
    tag: "tasks",
    summary: "Move a task to another status or column",
    description: "Moves a task to a new status (for example to done or in review), to a board column, to a position within the column, or to another project. Moving to `done` sets completed_at.",
    params: [paramRef("IfMatch")],
    body: jsonBody({
      type: "object",
      minProperties: 1,
      properties: {
        status: oneOfValues(TASK_STATUSES, "New status."),
        board_column_id: uuid("Board column to move the task into; its status follows the column's mapping."),
        position: num("Position within the target column; the end when omitted."),
        project_id: uuid("Move the task to another project (it gets a new key)."),
      },
    }),
    responses: { 200: taskResponse("The moved task.") },
    errors: [409, 412],
  });
  spec.operation("post", "/tasks/{task_id}/assign", {
    id: "assignTask",
    tag: "tasks",
    summary: "Assign a task to people",
    description: "Assigns a task to one or more users. By default they are added to the current assignees; set `replace` to make them the only assignees.",
    body: jsonBody({
      type: "object",
      required: ["assignee_ids"],
      properties: {
        assignee_ids: { ...ids("Users to assign."), minItems: 1 },
        replace: bool("Replace the current assignees instead of adding to them.", { default: false }),
      },
    }),
    responses: { 200: taskResponse("The task with its new assignees.") },
  });
  spec.operation("post", "/tasks/{task_id}/unassign", {
    id: "unassignTask",
    tag: "tasks",
    summary: "Unassign people from a task",
    description: "Removes users from a task's assignees; with no `assignee_ids`, removes everyone.",
    body: jsonBody({ type: "object", properties: { assignee_ids: ids("Users to remove; all assignees when omitted.") } }),
    responses: { 200: taskResponse("The task.") },
  });
  spec.operation("post", "/tasks/{task_id}/complete", {
    id: "completeTask",
    tag: "tasks",
    summary: "Mark a task as done",
    description: "Marks a task done (closes it) and records when. Optionally leaves a closing comment.",
    body: { required: false, content: { "application/json": { schema: { type: "object", properties: { comment: str("Closing comment to add to the task.", { maxLength: 10000 }) } } } } },
    responses: { 200: taskResponse("The completed task.") },
    errors: [409],
  });
  spec.operation("post", "/tasks/{task_id}/reopen", {
    id: "reopenTask",
    tag: "tasks",
    summary: "Reopen a task",
    description: "Reopens a done or cancelled task, putting it back to `todo` (or the given status).",
    body: { required: false, content: { "application/json": { schema: { type: "object", properties: { status: oneOfValues(["backlog", "todo", "in_progress"], "Status to reopen into.", { default: "todo" }) } } } } },
    responses: { 200: taskResponse("The reopened task.") },
    errors: [409],
  });
  spec.schema("TaskChange", {
    type: "object",
    description: "One change in a task's history.",
    required: ["id", "actor", "field", "changed_at"],
    properties: {
      id: uuid("Change ID."),
      actor: schemaRef("UserSummary"),
      field: str("Field that changed, e.g. `status` or `assignee_ids`."),
      from: { description: "Previous value." },
      to: { description: "New value." },
      version: int("Task version after the change.", { minimum: 1 }),
      changed_at: dateTime("When it changed."),
    },
  });
  spec.operation("get", "/tasks/{task_id}/history", {
    id: "listTaskHistory",
    tag: "tasks",
    summary: "Show a task's change history",
    description: "Lists who changed what on a task and when, newest first.",
    params: [paramRef("Cursor"), paramRef("Limit")],
    responses: { 200: jsonResponse("A page of changes.", pageSchema("A page of task changes.", schemaRef("TaskChange"))) },
  });

  // subtasks --------------------------------------------------------------------
  resource(spec, {
    tag: "subtasks",
    noun: "subtask",
    name: "Subtask",
    collection: "/tasks/{task_id}/subtasks",
    item: "/subtasks/{subtask_id}",
    description: "A checklist item inside a task.",
    required: ["task_id", "title", "done"],
    createRequired: ["title"],
    fields: {
      task_id: readOnly(uuid("Parent task.")),
      title: str("What needs doing.", { minLength: 1, maxLength: 300 }),
      done: bool("Whether it is checked off.", { default: false }),
      assignee_id: nullable(uuid("Who does it.")),
      due_date: nullable(date("When it is due.")),
      position: num("Order within the task."),
    },
    describe: {
      list: "Lists a task's subtasks (checklist) in order.",
      create: "Adds a checklist item to a task.",
      get: "Returns a subtask.",
      update: "Renames, reorders, assigns or checks off a subtask (set `done`).",
      delete: "Removes a subtask.",
    },
  });

  // task-dependencies -----------------------------------------------------------
  resource(spec, {
    tag: "task-dependencies",
    noun: "task dependency",
    plural: "task dependencies",
    name: "TaskDependency",
    collection: "/tasks/{task_id}/dependencies",
    item: "/task-dependencies/{dependency_id}",
    ops: ["list", "create", "get", "delete"],
    description: "A link saying one task blocks another.",
    required: ["task_id", "depends_on_task_id", "type"],
    createRequired: ["depends_on_task_id"],
    fields: {
      task_id: readOnly(uuid("The task that has the dependency.")),
      depends_on_task_id: uuid("The other task."),
      type: oneOfValues(["blocked_by", "blocks", "relates_to", "duplicates"], "How the tasks relate: `blocked_by` means the task cannot finish before the other one.", { default: "blocked_by" }),
    },
    filters: [query("type", "Only links of this type.", oneOfValues(["blocked_by", "blocks", "relates_to", "duplicates"]))],
    ids: { list: "listTaskDependencies", create: "addTaskDependency", delete: "removeTaskDependency" },
    summaries: { list: "List what a task depends on", create: "Mark a task as blocked by another", delete: "Remove a task dependency" },
    describe: {
      list: "Lists a task's dependencies in both directions: what blocks it and what it blocks.",
      create: "Links two tasks, for example: this task is blocked by another. Cycles are rejected with 409.",
      get: "Returns a dependency link.",
      delete: "Removes the link between two tasks.",
    },
  });

  // labels ----------------------------------------------------------------------
  resource(spec, {
    tag: "labels",
    noun: "label",
    name: "Label",
    collection: "/labels",
    item: "/labels/{label_id}",
    description: "A label that can be put on tasks.",
    required: ["name", "color"],
    createRequired: ["name"],
    fields: {
      name: str("Label name.", { minLength: 1, maxLength: 50 }),
      color: str("Hex color.", { pattern: "^#[0-9a-fA-F]{6}$", default: "#64748b" }),
      description: nullable(str("When to use it.", { maxLength: 300 })),
      project_id: nullable(uuid("Project the label belongs to; null for an organization-wide label.")),
      task_count: readOnly(int("Tasks carrying the label.", { minimum: 0 })),
    },
    filters: [paramRef("ProjectFilter"), paramRef("SearchQuery")],
    describe: {
      list: "Lists labels, organization-wide and per project.",
      create: "Creates a label.",
      get: "Returns a label.",
      update: "Renames or recolors a label.",
      delete: "Deletes a label and removes it from every task.",
    },
  });
  spec.operation("post", "/tasks/{task_id}/labels", {
    id: "addTaskLabel",
    tag: "labels",
    summary: "Add a label to a task",
    description: "Puts a label on a task (tag the task).",
    body: jsonBody({ type: "object", required: ["label_id"], properties: { label_id: uuid("Label to add.") } }),
    responses: { 200: jsonResponse("The task.", schemaRef("Task")) },
  });
  spec.operation("delete", "/tasks/{task_id}/labels/{label_id}", {
    id: "removeTaskLabel",
    tag: "labels",
    summary: "Remove a label from a task",
    description: "Takes a label off a task.",
    responses: noContent("The label was removed from the task."),
  });

  // milestones ------------------------------------------------------------------
  resource(spec, {
    tag: "milestones",
    noun: "milestone",
    name: "Milestone",
    collection: "/milestones",
    item: "/milestones/{milestone_id}",
    description: "A dated target in a project.",
    required: ["project_id", "title", "state"],
    createRequired: ["project_id", "title"],
    fields: {
      project_id: uuid("Project the milestone belongs to."),
      title: str("Milestone name, e.g. `v2.0 launch`.", { minLength: 1, maxLength: 200 }),
      description: nullable(str("What must be true when it is reached.")),
      due_date: nullable(date("Target date.")),
      state: readOnly(oneOfValues(["open", "closed"], "Whether it is still open.")),
      open_tasks: readOnly(int("Open tasks towards it.", { minimum: 0 })),
      closed_tasks: readOnly(int("Done tasks towards it.", { minimum: 0 })),
    },
    filters: [paramRef("ProjectFilter"), query("state", "Only open or closed milestones.", oneOfValues(["open", "closed"]))],
    describe: {
      list: "Lists milestones with their progress, soonest due first.",
      create: "Creates a milestone in a project.",
      get: "Returns a milestone and how many of its tasks are done.",
      update: "Renames a milestone or moves its due date.",
      delete: "Deletes a milestone; its tasks are kept and detached from it.",
    },
  });
  spec.operation("post", "/milestones/{milestone_id}/close", {
    id: "closeMilestone",
    tag: "milestones",
    summary: "Close a milestone",
    description: "Marks a milestone as reached. Open tasks can be moved to another milestone at the same time.",
    body: { required: false, content: { "application/json": { schema: { type: "object", properties: { move_open_tasks_to: nullable(uuid("Milestone to move still-open tasks to.")) } } } } },
    responses: { 200: jsonResponse("The closed milestone.", schemaRef("Milestone")) },
    errors: [409],
  });

  // sprints ---------------------------------------------------------------------
  resource(spec, {
    tag: "sprints",
    noun: "sprint",
    name: "Sprint",
    collection: "/sprints",
    item: "/sprints/{sprint_id}",
    description: "A time-boxed iteration.",
    required: ["project_id", "name", "state", "start_date", "end_date"],
    createRequired: ["project_id", "name", "start_date", "end_date"],
    fields: {
      project_id: uuid("Project the sprint belongs to."),
      name: str("Sprint name, e.g. `Sprint 14`.", { minLength: 1, maxLength: 100 }),
      goal: nullable(str("Sprint goal.", { maxLength: 1000 })),
      start_date: date("First day."),
      end_date: date("Last day."),
      state: readOnly(oneOfValues(["planned", "active", "completed"], "Sprint state; changed with startSprint and completeSprint.")),
      committed_points: readOnly(num("Estimate committed at start.", { minimum: 0 })),
      completed_points: readOnly(num("Estimate completed so far.", { minimum: 0 })),
    },
    filters: [paramRef("ProjectFilter"), query("state", "Only sprints in this state.", oneOfValues(["planned", "active", "completed"]))],
    describe: {
      list: "Lists a project's sprints; filter `state=active` for the current sprint.",
      create: "Plans a new sprint.",
      get: "Returns a sprint with its dates, goal and progress.",
      update: "Renames a sprint or changes its dates or goal.",
      delete: "Deletes a planned sprint; its tasks go back to the backlog.",
    },
  });
  spec.operation("post", "/sprints/{sprint_id}/start", {
    id: "startSprint",
    tag: "sprints",
    summary: "Start a sprint",
    description: "Starts a planned sprint. A project has at most one active sprint.",
    responses: { 200: jsonResponse("The active sprint.", schemaRef("Sprint")) },
    errors: [409],
  });
  spec.operation("post", "/sprints/{sprint_id}/complete", {
    id: "completeSprint",
    tag: "sprints",
    summary: "Complete a sprint",
    description: "Ends the active sprint. Unfinished tasks move to the backlog or to the next sprint.",
    body: jsonBody({
      type: "object",
      properties: {
        move_open_tasks_to: oneOfValues(["backlog", "next_sprint"], "Where unfinished tasks go.", { default: "backlog" }),
        next_sprint_id: uuid("The sprint to move them to, with `next_sprint`."),
      },
    }),
    responses: { 200: jsonResponse("The completed sprint.", schemaRef("Sprint")) },
    errors: [409],
  });
  spec.operation("post", "/sprints/{sprint_id}/tasks", {
    id: "addTasksToSprint",
    tag: "sprints",
    summary: "Add tasks to a sprint",
    description: "Pulls tasks into a sprint (sprint planning).",
    body: jsonBody({ type: "object", required: ["task_ids"], properties: { task_ids: { ...ids("Tasks to add."), minItems: 1, maxItems: 100 } } }),
    responses: { 200: jsonResponse("The sprint.", schemaRef("Sprint")) },
  });
  spec.schema("Burndown", {
    type: "object",
    description: "Remaining work per day of a sprint.",
    required: ["sprint_id", "points"],
    properties: {
      sprint_id: uuid("The sprint."),
      points: list(
        { type: "object", required: ["date", "remaining", "ideal"], properties: { date: date("Day."), remaining: num("Remaining estimate at end of day."), ideal: num("Ideal remaining estimate.") } },
        "One point per day.",
      ),
    },
  });
  spec.operation("get", "/sprints/{sprint_id}/burndown", {
    id: "getSprintBurndown",
    tag: "sprints",
    summary: "Get a sprint's burndown",
    description: "Returns remaining work per day against the ideal line: is the sprint on track?",
    responses: { 200: jsonResponse("The burndown series.", schemaRef("Burndown")) },
  });

  // boards ----------------------------------------------------------------------
  resource(spec, {
    tag: "boards",
    noun: "board",
    name: "Board",
    collection: "/boards",
    item: "/boards/{board_id}",
    description: "A Kanban board over a project's tasks.",
    required: ["project_id", "name"],
    fields: {
      project_id: uuid("Project whose tasks the board shows."),
      name: str("Board name.", { minLength: 1, maxLength: 100 }),
      filter: nullable(str("Saved filter limiting which tasks appear, e.g. `label:frontend`.")),
      column_count: readOnly(int("Number of columns.", { minimum: 0 })),
    },
    filters: [paramRef("ProjectFilter")],
    describe: {
      list: "Lists Kanban boards.",
      create: "Creates a board with default columns for the project's workflow.",
      get: "Returns a board.",
      update: "Renames a board or changes its filter.",
      delete: "Deletes a board. Tasks are not affected.",
    },
  });
  resource(spec, {
    tag: "boards",
    noun: "board column",
    name: "BoardColumn",
    collection: "/boards/{board_id}/columns",
    item: "/boards/{board_id}/columns/{column_id}",
    description: "A column on a board, mapped to a task status.",
    required: ["board_id", "name", "status", "position"],
    createRequired: ["name", "status"],
    fields: {
      board_id: readOnly(uuid("The board.")),
      name: str("Column heading.", { minLength: 1, maxLength: 60 }),
      status: oneOfValues(TASK_STATUSES, "Status tasks get when moved into the column."),
      position: int("Left-to-right order, from 0.", { minimum: 0 }),
      wip_limit: nullable(int("Work-in-progress limit.", { minimum: 1 })),
      task_count: readOnly(int("Tasks in the column.", { minimum: 0 })),
    },
    describe: {
      list: "Lists a board's columns left to right, with task counts.",
      create: "Adds a column to a board.",
      get: "Returns a board column.",
      update: "Renames, reorders or remaps a column, or sets its WIP limit.",
      delete: "Removes a column; its tasks move to the first column.",
    },
  });

  // workflows -------------------------------------------------------------------
  spec.schema("WorkflowTransition", {
    type: "object",
    description: "An allowed move between two statuses.",
    required: ["from", "to"],
    properties: {
      from: oneOfValues(TASK_STATUSES, "Status moved from."),
      to: oneOfValues(TASK_STATUSES, "Status moved to."),
      requires_role: nullable(str("Only users with this role may make the move.")),
    },
  });
  resource(spec, {
    tag: "workflows",
    noun: "workflow",
    name: "Workflow",
    collection: "/workflows",
    item: "/workflows/{workflow_id}",
    description: "A set of statuses and allowed transitions.",
    required: ["name", "transitions"],
    createRequired: ["name"],
    fields: {
      name: str("Workflow name.", { minLength: 1, maxLength: 100 }),
      description: nullable(str("When to use this workflow.")),
      is_default: bool("Used by projects that name no workflow.", { default: false }),
      transitions: list(schemaRef("WorkflowTransition"), "Allowed moves; when empty, any move is allowed."),
      project_count: readOnly(int("Projects using it.", { minimum: 0 })),
    },
    describe: {
      list: "Lists workflows.",
      create: "Creates a workflow.",
      get: "Returns a workflow with its transitions.",
      update: "Changes a workflow's name or allowed transitions.",
      delete: "Deletes a workflow that no project uses.",
    },
  });
  resource(spec, {
    tag: "workflows",
    noun: "workflow status",
    plural: "workflow statuses",
    name: "WorkflowStatus",
    collection: "/workflows/{workflow_id}/statuses",
    item: "/workflows/{workflow_id}/statuses/{status_id}",
    description: "A status in a workflow, with its display name and category.",
    ops: ["list", "create", "get", "update"],
    required: ["name", "category", "position"],
    createRequired: ["name", "category"],
    fields: {
      name: str("Display name, e.g. `Waiting for QA`.", { minLength: 1, maxLength: 60 }),
      category: oneOfValues(TASK_STATUSES, "Underlying status category used in filters and reports."),
      color: str("Hex color.", { pattern: "^#[0-9a-fA-F]{6}$" }),
      position: int("Order in the workflow.", { minimum: 0 }),
    },
    describe: {
      list: "Lists a workflow's statuses in order.",
      create: "Adds a status to a workflow.",
      get: "Returns a workflow status.",
      update: "Renames, recolors or reorders a workflow status.",
    },
  });

  // custom-fields ---------------------------------------------------------------
  const FIELD_TYPES = ["text", "number", "date", "select", "multi_select", "user", "checkbox", "url"];
  resource(spec, {
    tag: "custom-fields",
    noun: "custom field",
    name: "CustomField",
    collection: "/custom-fields",
    item: "/custom-fields/{field_id}",
    description: "A custom task attribute.",
    required: ["name", "type"],
    fields: {
      name: str("Field label.", { minLength: 1, maxLength: 60 }),
      type: oneOfValues(FIELD_TYPES, "Value type."),
      options: list(str("Option label."), "Allowed values for `select` and `multi_select` fields."),
      required: bool("Whether every task must have a value.", { default: false }),
      project_ids: ids("Projects the field applies to; all projects when empty."),
    },
    filters: [paramRef("ProjectFilter")],
    describe: {
      list: "Lists custom fields defined for tasks.",
      create: "Defines a new custom field for tasks.",
      get: "Returns a custom field's definition.",
      update: "Renames a custom field, edits its options or scope.",
      delete: "Deletes a custom field and its values on every task.",
    },
  });
  spec.schema("CustomFieldValue", {
    type: "object",
    description: "A task's value for one custom field.",
    required: ["field_id", "name", "type", "value"],
    properties: {
      field_id: uuid("The custom field."),
      name: str("Field label."),
      type: oneOfValues(FIELD_TYPES, "Value type."),
      value: { type: ["string", "number", "boolean", "array", "null"], description: "The value; null when unset.", items: { type: "string" } },
    },
  });
  spec.operation("get", "/tasks/{task_id}/custom-fields", {
    id: "listTaskCustomFieldValues",
    tag: "custom-fields",
    summary: "Get a task's custom field values",
    description: "Returns the value of every custom field that applies to the task.",
    responses: { 200: jsonResponse("The values.", { type: "object", required: ["data"], properties: { data: list(schemaRef("CustomFieldValue")) } }) },
  });
  spec.operation("put", "/tasks/{task_id}/custom-fields/{field_id}", {
    id: "setTaskCustomFieldValue",
    tag: "custom-fields",
    summary: "Set a custom field on a task",
    description: "Sets (or clears, with null) one custom field value on a task, e.g. story points = 5.",
    body: jsonBody({ type: "object", required: ["value"], properties: { value: { type: ["string", "number", "boolean", "array", "null"], description: "New value; null clears it.", items: { type: "string" } } } }),
    responses: { 200: jsonResponse("The stored value.", schemaRef("CustomFieldValue")) },
  });
}
