/** Running the business: processes, stock, products, time tracking, goals. */
import {
  str, uuid, dateTime, date, int, num, bool, oneOfValues, list, obj, nullable, readOnly,
  resource, query, paramRef, schemaRef, jsonBody, jsonResponse, pageSchema,
} from "./spec-kit.mjs";

/** Adds the processes, stock, products, time-tracking and goals modules. */
export function addOperations(spec) {
  spec.tag("processes", "Repeatable business processes (onboarding, purchase approval, release checklist): define the steps, start runs, complete steps.");
  spec.tag("stock", "Inventory: stock items, warehouses, stock levels and stock movements (receipts, issues, transfers, adjustments).");
  spec.tag("products", "The product catalog: products, their variants (size, color…), SKUs and prices.");
  spec.tag("time-tracking", "Time tracking: log time entries on tasks, run timers, and submit or approve weekly timesheets.");
  spec.tag("goals", "Goals and key results (OKRs): targets, progress and check-ins.");

  // processes -------------------------------------------------------------------
  const STEP = {
    type: "object",
    required: ["id", "name"],
    properties: {
      id: uuid("Step ID."),
      name: str("Step name, e.g. `Manager approval`."),
      assignee_role: nullable(str("Role expected to do the step.")),
      sla_hours: nullable(int("Hours allowed for the step.", { minimum: 1 })),
      requires_approval: bool("Whether completing the step means approving or rejecting.", { default: false }),
    },
  };
  resource(spec, {
    tag: "processes",
    noun: "process",
    plural: "processes",
    name: "Process",
    collection: "/processes",
    item: "/processes/{process_id}",
    description: "A process definition: an ordered list of steps.",
    required: ["name", "steps", "active"],
    createRequired: ["name", "steps"],
    fields: {
      name: str("Process name.", { minLength: 1, maxLength: 120 }),
      description: nullable(str("What the process is for.")),
      steps: list(STEP, "Steps, in order.", { minItems: 1, maxItems: 50 }),
      active: bool("Inactive processes cannot be started.", { default: true }),
      running_instances: readOnly(int("Runs in progress.", { minimum: 0 })),
    },
    filters: [query("active", "Only active or inactive processes.", { type: "boolean" }), paramRef("SearchQuery")],
    describe: {
      list: "Lists process definitions.",
      create: "Defines a new process with its steps.",
      get: "Returns a process definition with its steps.",
      update: "Changes a process's name, steps or active flag. Runs in progress keep the steps they started with.",
      delete: "Deletes a process definition that has no runs in progress.",
    },
  });
  spec.schema("ProcessInstance", {
    type: "object",
    description: "One run of a process.",
    allOf: [
      schemaRef("ResourceBase"),
      {
        type: "object",
        required: ["process_id", "title", "state", "current_step_id", "steps"],
        properties: {
          process_id: uuid("The process definition."),
          title: str("What this run is about, e.g. `Onboard Sam Lee`."),
          state: oneOfValues(["running", "completed", "cancelled", "rejected"], "Run state."),
          current_step_id: nullable(uuid("Step waiting to be done; null when finished.")),
          steps: list(
            {
              type: "object",
              required: ["step_id", "state"],
              properties: {
                step_id: uuid("The step."),
                state: oneOfValues(["pending", "in_progress", "done", "rejected", "skipped"], "Step state."),
                completed_by: nullable(uuid("Who completed it.")),
                completed_at: nullable(dateTime("When.")),
                note: nullable(str("Note left on completion.")),
              },
            },
            "Progress per step.",
          ),
          data: obj("Data collected during the run.", { additionalProperties: true }),
        },
      },
    ],
  });
  spec.operation("get", "/processes/{process_id}/instances", {
    id: "listProcessInstances",
    tag: "processes",
    summary: "List runs of a process",
    description: "Lists the runs of a process; filter by state to see what is in flight.",
    params: [query("state", "Only runs in this state.", oneOfValues(["running", "completed", "cancelled", "rejected"])), paramRef("Cursor"), paramRef("Limit")],
    responses: { 200: jsonResponse("A page of runs.", pageSchema("A page of process runs.", schemaRef("ProcessInstance"))) },
  });
  spec.operation("post", "/processes/{process_id}/instances", {
    id: "startProcess",
    tag: "processes",
    summary: "Start a process",
    description: "Starts a new run of a process, e.g. onboarding for a new hire. The first step is assigned right away.",
    params: [paramRef("IdempotencyKey")],
    body: jsonBody({ type: "object", required: ["title"], properties: { title: str("What this run is about.", { minLength: 1, maxLength: 200 }), data: obj("Initial data for the run.", { additionalProperties: true }) } }),
    responses: { 201: jsonResponse("The new run.", schemaRef("ProcessInstance")) },
    errors: [409],
  });
  spec.operation("get", "/process-instances/{instance_id}", {
    id: "getProcessInstance",
    tag: "processes",
    summary: "Get a process run",
    description: "Returns a process run with the state of each step.",
    responses: { 200: jsonResponse("The run.", schemaRef("ProcessInstance")) },
  });
  spec.operation("post", "/process-instances/{instance_id}/steps/{step_id}/complete", {
    id: "completeProcessStep",
    tag: "processes",
    summary: "Complete a process step",
    description: "Marks the current step of a run as done (or approves/rejects it) and moves the run to the next step.",
    body: jsonBody({
      type: "object",
      properties: {
        outcome: oneOfValues(["done", "approved", "rejected"], "Outcome; approval steps need `approved` or `rejected`.", { default: "done" }),
        note: str("Note for the record.", { maxLength: 2000 }),
        data: obj("Data collected at this step.", { additionalProperties: true }),
      },
    }),
    responses: { 200: jsonResponse("The run.", schemaRef("ProcessInstance")) },
    errors: [409],
  });
  spec.operation("post", "/process-instances/{instance_id}/cancel", {
    id: "cancelProcessInstance",
    tag: "processes",
    summary: "Cancel a process run",
    description: "Stops a run in progress. Completed steps stay recorded.",
    body: jsonBody({ type: "object", properties: { reason: str("Why it was cancelled.", { maxLength: 500 }) } }),
    responses: { 200: jsonResponse("The cancelled run.", schemaRef("ProcessInstance")) },
    errors: [409],
  });

  // stock -----------------------------------------------------------------------
  resource(spec, {
    tag: "stock",
    noun: "warehouse",
    name: "Warehouse",
    collection: "/stock/warehouses",
    item: "/stock/warehouses/{warehouse_id}",
    description: "A place where stock is kept.",
    ops: ["list", "create", "get", "update"],
    required: ["name", "code"],
    fields: {
      name: str("Warehouse name.", { minLength: 1, maxLength: 120 }),
      code: str("Short code, e.g. `BER1`.", { pattern: "^[A-Z0-9]{2,10}$" }),
      address: nullable(str("Street address.")),
      active: bool("Inactive warehouses take no movements.", { default: true }),
    },
    describe: {
      list: "Lists warehouses.",
      create: "Adds a warehouse.",
      get: "Returns a warehouse.",
      update: "Renames a warehouse or changes its address, or deactivates it (`active: false`).",
    },
  });
  resource(spec, {
    tag: "stock",
    noun: "stock item",
    name: "StockItem",
    collection: "/stock/items",
    item: "/stock/items/{item_id}",
    description: "Something kept in stock.",
    ops: ["list", "create", "get", "update"],
    required: ["sku", "name", "unit", "on_hand"],
    createRequired: ["sku", "name"],
    fields: {
      sku: str("Stock keeping unit, unique.", { pattern: "^[A-Za-z0-9._-]{1,64}$" }),
      name: str("Item name.", { minLength: 1, maxLength: 200 }),
      unit: oneOfValues(["piece", "box", "kg", "litre", "metre"], "Unit of measure.", { default: "piece" }),
      product_variant_id: nullable(uuid("Catalog variant this item is.")),
      reorder_point: nullable(int("Reorder when total on hand falls to this level.", { minimum: 0 })),
      on_hand: readOnly(num("Total quantity on hand across warehouses.")),
      low_stock: readOnly(bool("Whether on hand is at or below the reorder point.")),
    },
    filters: [
      query("warehouse_id", "Only items stocked in this warehouse.", { type: "string", format: "uuid" }),
      query("low_stock", "Only items at or below their reorder point.", { type: "boolean" }),
      paramRef("SearchQuery"),
    ],
    ids: { list: "listStockItems" },
    summaries: { list: "List stock items (inventory)" },
    describe: {
      list: "Lists inventory items with quantities on hand. Use `low_stock=true` to find what needs reordering.",
      create: "Adds an item to inventory tracking.",
      get: "Returns a stock item with its total on hand.",
      update: "Renames a stock item or changes its unit or reorder point. Quantities change only through movements.",
    },
  });
  spec.operation("get", "/stock/items/{item_id}/levels", {
    id: "getStockLevels",
    tag: "stock",
    summary: "Get stock levels per warehouse",
    description: "Returns how much of an item is on hand, reserved and available in each warehouse.",
    responses: {
      200: jsonResponse("Levels per warehouse.", {
        type: "object",
        required: ["item_id", "levels"],
        properties: {
          item_id: uuid("The item."),
          levels: list(
            { type: "object", required: ["warehouse_id", "on_hand", "reserved", "available"], properties: { warehouse_id: uuid("Warehouse."), on_hand: num("Physically there."), reserved: num("Promised to orders."), available: num("On hand minus reserved.") } },
            "One entry per warehouse holding the item.",
          ),
        },
      }),
    },
  });
  const MOVEMENT_TYPES = ["receipt", "issue", "transfer", "adjustment"];
  spec.schema("StockMovement", {
    type: "object",
    description: "A change in stock: goods received, issued, moved between warehouses or corrected after a count.",
    allOf: [
      schemaRef("ResourceBase"),
      {
        type: "object",
        required: ["item_id", "type", "quantity"],
        properties: {
          item_id: uuid("The item."),
          type: oneOfValues(MOVEMENT_TYPES, "Kind of movement."),
          quantity: num("Quantity moved; for adjustments, negative to reduce stock."),
          from_warehouse_id: nullable(uuid("Source (issue, transfer).")),
          to_warehouse_id: nullable(uuid("Destination (receipt, transfer).")),
          warehouse_id: nullable(uuid("Warehouse being corrected (adjustment).")),
          reference: nullable(str("Purchase order, delivery note or reason.", { maxLength: 200 })),
          recorded_by: readOnly(uuid("Who recorded it.")),
        },
      },
    ],
  });
  spec.operation("get", "/stock/movements", {
    id: "listStockMovements",
    tag: "stock",
    summary: "List stock movements",
    description: "Lists stock movements, newest first, by item, warehouse, type or date range.",
    params: [
      query("item_id", "Only movements of this item.", { type: "string", format: "uuid" }),
      query("warehouse_id", "Only movements into or out of this warehouse.", { type: "string", format: "uuid" }),
      query("type", "Only this kind of movement.", oneOfValues(MOVEMENT_TYPES)),
      paramRef("FromDate"),
      paramRef("ToDate"),
      paramRef("Cursor"),
      paramRef("Limit"),
    ],
    responses: { 200: jsonResponse("A page of movements.", pageSchema("A page of stock movements.", schemaRef("StockMovement"))) },
  });
  spec.operation("post", "/stock/movements", {
    id: "recordStockMovement",
    tag: "stock",
    summary: "Record a stock movement",
    description: "Records goods received into a warehouse, issued out of it, transferred between warehouses, or an adjustment after a stock count. Levels update immediately; issuing more than is available is refused with 409.",
    params: [paramRef("IdempotencyKey")],
    body: jsonBody({
      type: "object",
      required: ["item_id", "type", "quantity"],
      properties: {
        item_id: uuid("The item."),
        type: oneOfValues(MOVEMENT_TYPES, "Kind of movement."),
        quantity: num("Quantity; must be positive except for adjustments."),
        from_warehouse_id: uuid("Source, for issue and transfer."),
        to_warehouse_id: uuid("Destination, for receipt and transfer."),
        warehouse_id: uuid("Warehouse, for adjustment."),
        reference: str("Purchase order, delivery note or reason.", { maxLength: 200 }),
      },
    }),
    responses: { 201: jsonResponse("The recorded movement.", schemaRef("StockMovement")) },
    errors: [409],
  });

  // products --------------------------------------------------------------------
  resource(spec, {
    tag: "products",
    noun: "product",
    name: "Product",
    collection: "/products",
    item: "/products/{product_id}",
    description: "A product in the catalog.",
    required: ["name", "status", "price"],
    createRequired: ["name", "price"],
    fields: {
      name: str("Product name.", { minLength: 1, maxLength: 200 }),
      description: nullable(str("Description (Markdown).")),
      status: oneOfValues(["draft", "active", "discontinued"], "Catalog status.", { default: "draft" }),
      category: nullable(str("Category, e.g. `Accessories`.")),
      price: schemaRef("Money"),
      image_url: nullable({ type: "string", format: "uri", description: "Main image." }),
      variant_count: readOnly(int("Number of variants.", { minimum: 0 })),
      metadata: schemaRef("Metadata"),
    },
    filters: [query("status", "Only products in this status.", oneOfValues(["draft", "active", "discontinued"])), query("category", "Only this category.", { type: "string" }), paramRef("SearchQuery")],
    describe: {
      list: "Lists catalog products by status, category or name.",
      create: "Adds a product to the catalog.",
      get: "Returns a product with its base price.",
      update: "Edits a product's name, description, price, category or status (discontinue it with `status: discontinued`).",
      delete: "Deletes a draft product. Products that were sold can only be discontinued.",
    },
  });
  resource(spec, {
    tag: "products",
    noun: "product variant",
    name: "ProductVariant",
    collection: "/products/{product_id}/variants",
    item: "/products/{product_id}/variants/{variant_id}",
    description: "A sellable variant of a product.",
    ops: ["list", "create", "get", "update"],
    required: ["product_id", "sku", "options"],
    createRequired: ["sku", "options"],
    fields: {
      product_id: readOnly(uuid("The product.")),
      sku: str("Variant SKU, unique.", { pattern: "^[A-Za-z0-9._-]{1,64}$" }),
      options: obj("Option values, e.g. `{\"size\": \"M\", \"color\": \"blue\"}`.", { additionalProperties: { type: "string" } }),
      price: nullable(schemaRef("Money")),
      barcode: nullable(str("EAN/UPC barcode.", { pattern: "^[0-9]{8,14}$" })),
      weight_grams: nullable(int("Shipping weight.", { minimum: 0 })),
    },
    describe: {
      list: "Lists a product's variants.",
      create: "Adds a variant (size, color…) to a product.",
      get: "Returns a product variant.",
      update: "Changes a variant's SKU, options, price or barcode. A null price falls back to the product's price.",
    },
  });

  // time-tracking ---------------------------------------------------------------
  resource(spec, {
    tag: "time-tracking",
    noun: "time entry",
    plural: "time entries",
    name: "TimeEntry",
    collection: "/time-entries",
    item: "/time-entries/{entry_id}",
    description: "Time someone spent on something.",
    required: ["user_id", "date", "minutes", "billable"],
    createRequired: ["date", "minutes"],
    fields: {
      user_id: uuid("Who did the work (defaults to the caller; managers may log for others)."),
      task_id: nullable(uuid("Task worked on.")),
      project_id: nullable(uuid("Project worked on (derived from the task when given).")),
      date: date("Day the work was done."),
      minutes: int("Duration in minutes.", { minimum: 1, maximum: 1440 }),
      note: nullable(str("What was done.", { maxLength: 1000 })),
      billable: bool("Whether the time is billable to a client.", { default: false }),
      timesheet_id: readOnly(nullable(uuid("Weekly timesheet the entry belongs to."))),
      locked: readOnly(bool("Entries in submitted or approved timesheets cannot be changed.")),
    },
    filters: [
      query("user_id", "Only time logged by this user; `me` for the caller.", { type: "string" }),
      paramRef("ProjectFilter"),
      query("task_id", "Only time logged on this task.", { type: "string", format: "uuid" }),
      paramRef("FromDate"),
      paramRef("ToDate"),
      query("billable", "Only billable or only non-billable time.", { type: "boolean" }),
    ],
    summaries: { list: "List logged time (time entries)", create: "Log time" },
    describe: {
      list: "Lists time entries: who logged how much time, on which task or project, on which days. Filter by user and a `from`/`to` date range, e.g. to see who logged time last week. The response totals the minutes.",
      create: "Logs time spent on a task or project on a given day.",
      get: "Returns a time entry.",
      update: "Corrects a time entry's duration, date, task or note. Locked entries (in a submitted timesheet) are refused with 409.",
      delete: "Deletes a time entry that is not locked.",
    },
  });
  // The time-entry list also totals the minutes over the whole filter, not just this page.
  Object.assign(spec.schemas.TimeEntryList.properties, {
    total_minutes: int("Minutes logged across all entries matching the filter.", { minimum: 0 }),
    total_billable_minutes: int("Billable minutes across all entries matching the filter.", { minimum: 0 }),
  });
  spec.schema("Timer", {
    type: "object",
    description: "A running stopwatch for the current user.",
    required: ["started_at", "running"],
    properties: {
      running: bool("Whether a timer is running."),
      task_id: nullable(uuid("Task being timed.")),
      note: nullable(str("Note for the entry it will create.")),
      started_at: nullable(dateTime("When it started.")),
      elapsed_seconds: int("Seconds so far.", { minimum: 0 }),
    },
  });
  spec.operation("post", "/timers", {
    id: "startTimer",
    tag: "time-tracking",
    summary: "Start a timer",
    description: "Starts a timer for the caller on a task. A timer already running is stopped and logged first.",
    params: [paramRef("IdempotencyKey")],
    body: jsonBody({ type: "object", properties: { task_id: uuid("Task to time."), note: str("Note for the time entry.", { maxLength: 1000 }) } }),
    responses: { 201: jsonResponse("The running timer.", schemaRef("Timer")) },
  });
  spec.operation("get", "/timers/current", {
    id: "getCurrentTimer",
    tag: "time-tracking",
    summary: "Get my running timer",
    description: "Returns the caller's running timer, if any (`running: false` otherwise).",
    responses: { 200: jsonResponse("The timer.", schemaRef("Timer")) },
  });
  spec.operation("post", "/timers/current/stop", {
    id: "stopTimer",
    tag: "time-tracking",
    summary: "Stop my timer and log the time",
    description: "Stops the caller's running timer and records the elapsed time as a time entry.",
    responses: { 200: jsonResponse("The time entry created.", schemaRef("TimeEntry")) },
    errors: [409],
  });
  spec.schema("Timesheet", {
    type: "object",
    description: "A user's time for one week, submitted for approval.",
    allOf: [
      schemaRef("ResourceBase"),
      {
        type: "object",
        required: ["user_id", "week_start", "state", "total_minutes"],
        properties: {
          user_id: uuid("Whose timesheet."),
          week_start: date("Monday of the week."),
          state: oneOfValues(["open", "submitted", "approved", "rejected"], "Approval state."),
          total_minutes: int("Logged minutes that week.", { minimum: 0 }),
          billable_minutes: int("Billable minutes that week.", { minimum: 0 }),
          approver_id: nullable(uuid("Who approved or rejected it.")),
          comment: nullable(str("Approver's comment.")),
        },
      },
    ],
  });
  spec.operation("get", "/timesheets", {
    id: "listTimesheets",
    tag: "time-tracking",
    summary: "List timesheets",
    description: "Lists weekly timesheets, e.g. those waiting for approval (`state=submitted`).",
    params: [
      query("user_id", "Only this user's timesheets.", { type: "string", format: "uuid" }),
      query("state", "Only timesheets in this state.", oneOfValues(["open", "submitted", "approved", "rejected"])),
      query("week_start", "Only the week starting this Monday.", { type: "string", format: "date" }),
      paramRef("Cursor"),
      paramRef("Limit"),
    ],
    responses: { 200: jsonResponse("A page of timesheets.", pageSchema("A page of timesheets.", schemaRef("Timesheet"))) },
  });
  spec.operation("get", "/timesheets/{timesheet_id}", {
    id: "getTimesheet",
    tag: "time-tracking",
    summary: "Get a timesheet",
    description: "Returns a weekly timesheet with its totals.",
    responses: { 200: jsonResponse("The timesheet.", schemaRef("Timesheet")) },
  });
  spec.operation("post", "/timesheets/{timesheet_id}/submit", {
    id: "submitTimesheet",
    tag: "time-tracking",
    summary: "Submit a timesheet for approval",
    description: "Submits a week's timesheet to the approver; its entries become locked.",
    responses: { 200: jsonResponse("The submitted timesheet.", schemaRef("Timesheet")) },
    errors: [409],
  });
  spec.operation("post", "/timesheets/{timesheet_id}/review", {
    id: "reviewTimesheet",
    tag: "time-tracking",
    summary: "Approve or reject a timesheet",
    description: "Approves a submitted timesheet, or rejects it with a comment so its entries unlock for correction.",
    body: jsonBody({ type: "object", required: ["decision"], properties: { decision: oneOfValues(["approve", "reject"], "The decision."), comment: str("Reason, required when rejecting.", { maxLength: 1000 }) } }),
    responses: { 200: jsonResponse("The reviewed timesheet.", schemaRef("Timesheet")) },
    errors: [403, 409],
  });

  // goals -----------------------------------------------------------------------
  resource(spec, {
    tag: "goals",
    noun: "goal",
    name: "Goal",
    collection: "/goals",
    item: "/goals/{goal_id}",
    description: "A goal (objective).",
    required: ["title", "owner_id", "status", "progress"],
    createRequired: ["title"],
    fields: {
      title: str("What to achieve.", { minLength: 1, maxLength: 200 }),
      description: nullable(str("Why it matters.")),
      owner_id: uuid("Who owns the goal (defaults to the caller)."),
      team_id: nullable(uuid("Team the goal belongs to.")),
      period: str("Time period, e.g. `2025-Q3`.", { pattern: "^\\d{4}(-Q[1-4]|-H[12])?$" }),
      due_date: nullable(date("Target date.")),
      status: oneOfValues(["on_track", "at_risk", "off_track", "achieved", "abandoned"], "Latest status.", { default: "on_track" }),
      progress: readOnly(num("Progress 0–100, averaged over key results.", { minimum: 0, maximum: 100 })),
      parent_goal_id: nullable(uuid("Goal this one contributes to.")),
    },
    filters: [query("period", "Only goals for this period, e.g. `2025-Q3`.", { type: "string" }), query("owner_id", "Only goals owned by this user.", { type: "string", format: "uuid" }), query("team_id", "Only this team's goals.", { type: "string", format: "uuid" }), query("status", "Only goals with this status.", oneOfValues(["on_track", "at_risk", "off_track", "achieved", "abandoned"]))],
    describe: {
      list: "Lists goals (OKRs) by period, owner, team or status.",
      create: "Sets a new goal.",
      get: "Returns a goal with its overall progress.",
      update: "Edits a goal's title, owner, period, due date or status.",
      delete: "Deletes a goal and its key results.",
    },
  });
  resource(spec, {
    tag: "goals",
    noun: "key result",
    name: "KeyResult",
    collection: "/goals/{goal_id}/key-results",
    item: "/key-results/{key_result_id}",
    ops: ["list", "create", "get", "update"],
    description: "A measurable key result of a goal.",
    required: ["goal_id", "title", "start_value", "target_value", "current_value"],
    createRequired: ["title", "target_value"],
    fields: {
      goal_id: readOnly(uuid("The goal.")),
      title: str("What is measured, e.g. `Weekly active teams`.", { minLength: 1, maxLength: 200 }),
      unit: nullable(str("Unit, e.g. `%` or `teams`.")),
      start_value: num("Value at the start.", { default: 0 }),
      target_value: num("Value that means done."),
      current_value: num("Latest value; update it with a check-in.", { default: 0 }),
      progress: readOnly(num("Progress 0–100.", { minimum: 0, maximum: 100 })),
    },
    describe: {
      list: "Lists a goal's key results with their progress.",
      create: "Adds a key result to a goal.",
      get: "Returns a key result.",
      update: "Edits a key result's title, target or current value.",
    },
  });
  spec.operation("post", "/goals/{goal_id}/check-ins", {
    id: "checkInGoal",
    tag: "goals",
    summary: "Post a goal check-in",
    description: "Records progress on a goal: new key result values, a status (on track, at risk…) and a short update.",
    body: jsonBody({
      type: "object",
      required: ["status"],
      properties: {
        status: oneOfValues(["on_track", "at_risk", "off_track", "achieved"], "How it is going."),
        note: str("Progress update.", { maxLength: 2000 }),
        key_result_values: obj("New current values keyed by key result ID.", { additionalProperties: { type: "number" } }),
      },
    }),
    responses: { 200: jsonResponse("The updated goal.", schemaRef("Goal")) },
  });
}
