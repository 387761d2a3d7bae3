/**
 * Modules a gateway should keep away from agents: billing, API token management, the calendar
 * OAuth connect flow and bulk binary export/import. They are ordinary parts of the API; the
 * generator's default policy excludes them by rule, so none carries `x-mcp-exclude` here.
 */
import {
  str, uuid, dateTime, date, int, bool, oneOfValues, list, nullable, readOnly, uri,
  query, paramRef, schemaRef, jsonBody, jsonResponse, noContent, pageSchema,
} from "./spec-kit.mjs";

/** Adds the billing, api-tokens, calendar-connect and data-transfer modules. */
export function addRestricted(spec) {
  spec.tag("billing", "The organization's subscription, invoices and payment methods.");
  spec.tag("api-tokens", "Personal and service API tokens (also used by MCP clients): create, list, rotate and revoke.");
  spec.tag("calendar-connect", "Connect external calendars (Google, Outlook) through their OAuth authorization flow.");
  spec.tag("data-transfer", "Bulk export of the whole workspace as a ZIP archive, and import from an archive or a CSV/JSON file.");

  // billing ---------------------------------------------------------------------
  spec.schema("Subscription", {
    type: "object",
    description: "The organization's subscription.",
    required: ["plan", "status", "seats", "billing_interval", "current_period_end"],
    properties: {
      plan: oneOfValues(["free", "team", "business", "enterprise"], "Plan."),
      status: oneOfValues(["trialing", "active", "past_due", "cancelled"], "Subscription state."),
      seats: int("Paid seats.", { minimum: 1 }),
      billing_interval: oneOfValues(["month", "year"], "Billing cycle."),
      price_per_seat: schemaRef("Money"),
      current_period_end: dateTime("When the current period ends and renews."),
      cancel_at_period_end: bool("Whether it stops at the end of the period."),
    },
  });
  spec.operation("get", "/billing/subscription", {
    id: "getSubscription",
    tag: "billing",
    summary: "Get the subscription",
    description: "Returns the organization's plan, seats and renewal date.",
    responses: { 200: jsonResponse("The subscription.", schemaRef("Subscription")) },
  });
  spec.operation("patch", "/billing/subscription", {
    id: "updateSubscription",
    tag: "billing",
    summary: "Change the plan or seats",
    description: "Upgrades or downgrades the plan, changes the seat count or billing cycle, or cancels at period end. Changes are prorated and charged to the default payment method.",
    body: jsonBody({
      type: "object",
      minProperties: 1,
      properties: {
        plan: oneOfValues(["team", "business", "enterprise"], "New plan."),
        seats: int("New seat count.", { minimum: 1 }),
        billing_interval: oneOfValues(["month", "year"], "New billing cycle."),
        cancel_at_period_end: bool("Cancel when the period ends."),
      },
    }),
    responses: { 200: jsonResponse("The updated subscription.", schemaRef("Subscription")) },
    errors: [409],
  });
  spec.schema("Invoice", {
    type: "object",
    description: "An invoice.",
    required: ["id", "number", "status", "total", "issued_on"],
    properties: {
      id: uuid("Invoice ID."),
      number: str("Invoice number, e.g. `INV-2025-0042`."),
      status: oneOfValues(["draft", "open", "paid", "void", "uncollectible"], "Payment state."),
      total: schemaRef("Money"),
      issued_on: date("Issue date."),
      due_on: nullable(date("Due date.")),
      paid_at: nullable(dateTime("When it was paid.")),
      pdf_url: uri("Link to the PDF."),
      lines: list({ type: "object", required: ["description", "amount"], properties: { description: str("Line item."), quantity: int("Quantity.", { minimum: 1 }), amount: schemaRef("Money") } }, "Line items."),
    },
  });
  spec.operation("get", "/billing/invoices", {
    id: "listInvoices",
    tag: "billing",
    summary: "List invoices",
    description: "Lists the organization's invoices, newest first.",
    params: [query("status", "Only invoices in this state.", oneOfValues(["draft", "open", "paid", "void", "uncollectible"])), paramRef("Page"), paramRef("PerPage")],
    responses: { 200: jsonResponse("A page of invoices.", pageSchema("A page of invoices.", schemaRef("Invoice"), "page")) },
  });
  spec.operation("get", "/billing/invoices/{invoice_id}", {
    id: "getInvoice",
    tag: "billing",
    summary: "Get an invoice",
    description: "Returns an invoice with its line items and PDF link.",
    responses: { 200: jsonResponse("The invoice.", schemaRef("Invoice")) },
  });
  spec.schema("PaymentMethod", {
    type: "object",
    description: "A stored payment method (card details are held by the payment processor).",
    required: ["id", "type", "is_default"],
    properties: {
      id: uuid("Payment method ID."),
      type: oneOfValues(["card", "sepa_debit", "invoice"], "Kind."),
      brand: nullable(str("Card brand.")),
      last4: nullable(str("Last four digits.", { pattern: "^[0-9]{4}$" })),
      exp_month: nullable(int("Expiry month.", { minimum: 1, maximum: 12 })),
      exp_year: nullable(int("Expiry year.")),
      is_default: bool("Whether invoices are charged to it."),
    },
  });
  spec.operation("get", "/billing/payment-methods", {
    id: "listPaymentMethods",
    tag: "billing",
    summary: "List payment methods",
    description: "Lists stored payment methods.",
    responses: { 200: jsonResponse("Payment methods.", { type: "object", required: ["data"], properties: { data: list(schemaRef("PaymentMethod")) } }) },
  });
  spec.operation("post", "/billing/payment-methods", {
    id: "addPaymentMethod",
    tag: "billing",
    summary: "Add a payment method",
    description: "Attaches a payment method using a token from the payment processor's client-side form.",
    params: [paramRef("IdempotencyKey")],
    body: jsonBody({
      type: "object",
      required: ["processor_token"],
      properties: { processor_token: { type: "string", writeOnly: true, description: "One-time token from the payment form." }, make_default: bool("Charge future invoices to it.", { default: false }) },
    }),
    responses: { 201: jsonResponse("The stored payment method.", schemaRef("PaymentMethod")) },
    errors: [409],
  });
  spec.operation("get", "/billing/payment-methods/{payment_method_id}", {
    id: "getPaymentMethod",
    tag: "billing",
    summary: "Get a payment method",
    description: "Returns a stored payment method.",
    responses: { 200: jsonResponse("The payment method.", schemaRef("PaymentMethod")) },
  });
  spec.operation("delete", "/billing/payment-methods/{payment_method_id}", {
    id: "deletePaymentMethod",
    tag: "billing",
    summary: "Remove a payment method",
    description: "Detaches a payment method. The default one cannot be removed while a paid plan is active.",
    responses: noContent("The payment method was removed."),
    errors: [409],
  });

  // api-tokens ------------------------------------------------------------------
  spec.schema("ApiToken", {
    type: "object",
    description: "An API token. The secret is only returned once, when the token is created or rotated.",
    required: ["id", "name", "scopes", "created_at"],
    properties: {
      id: readOnly(uuid("Token ID.")),
      name: str("What the token is for, e.g. `CI deploy bot`.", { minLength: 1, maxLength: 100 }),
      scopes: list(oneOfValues(["read", "write", "admin", "mcp"], undefined), "What the token may do.", { minItems: 1, uniqueItems: true }),
      prefix: readOnly(str("First characters of the token, to recognize it.")),
      expires_at: nullable(dateTime("When it stops working; never when null.")),
      last_used_at: readOnly(nullable(dateTime("Last use."))),
      created_at: readOnly(dateTime("When it was created.")),
    },
  });
  spec.schema("ApiTokenSecret", {
    type: "object",
    description: "A token together with its secret, shown once.",
    allOf: [schemaRef("ApiToken"), { type: "object", required: ["token"], properties: { token: readOnly(str("The secret token. Store it now: it cannot be shown again.")) } }],
  });
  spec.operation("get", "/api-tokens", {
    id: "listApiTokens",
    tag: "api-tokens",
    summary: "List API tokens",
    description: "Lists the caller's API tokens (without secrets).",
    params: [paramRef("Cursor"), paramRef("Limit")],
    responses: { 200: jsonResponse("A page of tokens.", pageSchema("A page of API tokens.", schemaRef("ApiToken"))) },
  });
  spec.operation("post", "/api-tokens", {
    id: "createApiToken",
    tag: "api-tokens",
    summary: "Create an API token",
    description: "Mints a new API token with the given scopes. The secret is in the response only.",
    params: [paramRef("IdempotencyKey")],
    body: jsonBody({
      type: "object",
      required: ["name", "scopes"],
      properties: {
        name: str("What the token is for.", { minLength: 1, maxLength: 100 }),
        scopes: list(oneOfValues(["read", "write", "admin", "mcp"], undefined), "What the token may do.", { minItems: 1, uniqueItems: true }),
        expires_in_days: nullable(int("Lifetime in days; never expires when null.", { minimum: 1, maximum: 365 })),
      },
    }),
    responses: { 201: jsonResponse("The new token with its secret.", schemaRef("ApiTokenSecret")) },
    errors: [409],
  });
  spec.operation("get", "/api-tokens/{token_id}", {
    id: "getApiToken",
    tag: "api-tokens",
    summary: "Get an API token",
    description: "Returns a token's name, scopes and last use (never the secret).",
    responses: { 200: jsonResponse("The token.", schemaRef("ApiToken")) },
  });
  spec.operation("delete", "/api-tokens/{token_id}", {
    id: "revokeApiToken",
    tag: "api-tokens",
    summary: "Revoke an API token",
    description: "Revokes a token immediately; requests using it fail from now on.",
    responses: noContent("The token was revoked."),
  });
  spec.operation("post", "/api-tokens/{token_id}/rotate", {
    id: "rotateApiToken",
    tag: "api-tokens",
    summary: "Rotate an API token",
    description: "Issues a new secret for a token; the old secret keeps working for 24 hours.",
    responses: { 200: jsonResponse("The token with its new secret.", schemaRef("ApiTokenSecret")) },
  });

  // calendar-connect ------------------------------------------------------------
  spec.pathParam("provider", "External calendar provider.", { type: "string", enum: ["google", "outlook"] });
  spec.operation("get", "/calendar-connect/oauth/{provider}/authorize", {
    id: "authorizeCalendarConnection",
    tag: "calendar-connect",
    summary: "Start connecting an external calendar",
    description: "Starts the OAuth authorization flow: returns the provider's consent URL to open in a browser, bound to a one-time `state`.",
    params: [query("redirect_uri", "Where to send the user after connecting.", { type: "string", format: "uri" }, { required: true }), query("state", "Opaque value echoed back to the redirect URI; generated when omitted.", { type: "string", maxLength: 500 })],
    responses: {
      200: jsonResponse("Where to send the user.", {
        type: "object",
        required: ["authorization_url", "state", "expires_at"],
        properties: {
          authorization_url: uri("The provider's consent screen, with client ID, scopes and state filled in."),
          state: str("The state value to expect at the callback."),
          expires_at: dateTime("When the state stops being accepted (10 minutes)."),
        },
      }),
    },
  });
  spec.operation("get", "/calendar-connect/oauth/{provider}/callback", {
    id: "completeCalendarConnection",
    tag: "calendar-connect",
    summary: "Finish connecting an external calendar",
    description: "OAuth redirect target: exchanges the authorization code for provider credentials and creates the connection. Redirects to the `redirect_uri` given at the authorize step, or shows a confirmation page when there is none.",
    extensions: { "x-mcp-write": true },
    params: [query("code", "Authorization code from the provider.", { type: "string" }, { required: true }), query("state", "The state value from the authorize step.", { type: "string" }, { required: true })],
    responses: {
      200: { description: "Confirmation page: the calendar is connected and the window can be closed.", content: { "text/html": { schema: { type: "string" } } } },
      302: { description: "Redirect back to the `redirect_uri` given at the authorize step.", headers: { Location: { description: "Where the browser goes next.", schema: { type: "string", format: "uri" } } } },
    },
  });
  spec.schema("CalendarConnection", {
    type: "object",
    description: "A connected external calendar account.",
    required: ["id", "provider", "account_email", "status"],
    properties: {
      id: uuid("Connection ID."),
      provider: oneOfValues(["google", "outlook"], "Provider."),
      account_email: { type: "string", format: "email", description: "The connected account." },
      status: oneOfValues(["active", "expired", "revoked"], "Whether it still syncs."),
      calendar_ids: list({ type: "string", format: "uuid" }, "Calendars created from it."),
      connected_at: dateTime("When it was connected."),
    },
  });
  spec.operation("get", "/calendar-connect/connections", {
    id: "listCalendarOauthConnections",
    tag: "calendar-connect",
    summary: "List connected calendar accounts (OAuth connections)",
    description: "Lists the caller's connected external calendar accounts.",
    responses: { 200: jsonResponse("Connections.", { type: "object", required: ["data"], properties: { data: list(schemaRef("CalendarConnection")) } }) },
  });
  spec.operation("get", "/calendar-connect/connections/{connection_id}", {
    id: "getCalendarOauthConnection",
    tag: "calendar-connect",
    summary: "Get a calendar connection",
    description: "Returns a connected calendar account.",
    responses: { 200: jsonResponse("The connection.", schemaRef("CalendarConnection")) },
  });
  spec.operation("delete", "/calendar-connect/connections/{connection_id}", {
    id: "revokeCalendarOauthConnection",
    tag: "calendar-connect",
    summary: "Disconnect an external calendar (revoke its OAuth grant)",
    description: "Revokes the stored provider credentials and removes the calendars synced from it.",
    responses: noContent("Disconnected."),
  });

  // data-transfer ---------------------------------------------------------------
  // Exports stream the archive directly and imports take the raw file as the body, so every
  // operation here moves bulk binary data.
  const zip = (description) => ({
    description,
    headers: { "Content-Disposition": { description: "Suggested file name, e.g. `attachment; filename=\"workspace-2025-06-30.zip\"`.", schema: { type: "string" } } },
    content: { "application/zip": { schema: { type: "string", format: "binary" } } },
  });
  spec.operation("get", "/exports/workspace", {
    id: "exportWorkspace",
    tag: "data-transfer",
    summary: "Export the whole workspace",
    description: "Streams a ZIP archive of the whole workspace: one JSON file per resource type, plus attached files when asked. Large workspaces take minutes.",
    params: [query("include_attachments", "Include attached files.", { type: "boolean", default: false }), query("since", "Only resources changed after this time (incremental export).", { type: "string", format: "date-time" })],
    responses: { 200: zip("The archive.") },
    errors: [429],
  });
  spec.operation("get", "/exports/projects/{project_id}", {
    id: "exportProject",
    tag: "data-transfer",
    summary: "Export one project",
    description: "Streams a ZIP archive of one project: its tasks, comments, boards, sprints and, optionally, attachments.",
    params: [query("include_attachments", "Include attached files.", { type: "boolean", default: true })],
    responses: { 200: zip("The archive.") },
  });
  spec.operation("get", "/exports/attachments", {
    id: "exportAttachments",
    tag: "data-transfer",
    summary: "Download all attachments as a ZIP",
    description: "Streams every attached file (optionally of one project) as a ZIP archive, in folders by task key.",
    params: [paramRef("ProjectFilter")],
    responses: { 200: zip("The archive.") },
  });
  spec.schema("ImportJob", {
    type: "object",
    description: "An import of data into the workspace, running in the background.",
    required: ["id", "status", "created_at"],
    properties: {
      id: uuid("Import ID."),
      status: oneOfValues(["queued", "running", "completed", "failed"], "Progress."),
      source_format: oneOfValues(["workspace_zip", "csv", "json"], "What was uploaded."),
      created_items: int("Items created so far.", { minimum: 0 }),
      errors: list(str("Problem."), "Rows or files that could not be imported."),
      created_at: dateTime("When it was uploaded."),
    },
  });
  spec.operation("post", "/imports/workspace", {
    id: "importWorkspace",
    tag: "data-transfer",
    summary: "Import a workspace archive",
    description: "Uploads a ZIP archive made by exportWorkspace (as the raw request body) and recreates its contents in this workspace, in the background.",
    params: [query("on_conflict", "What to do with resources whose IDs already exist.", oneOfValues(["skip", "overwrite"], undefined, { default: "skip" })), paramRef("IdempotencyKey")],
    body: { required: true, content: { "application/zip": { schema: { type: "string", format: "binary" } } } },
    responses: { 202: jsonResponse("The import was queued.", schemaRef("ImportJob")) },
    errors: [409],
  });
  spec.operation("post", "/imports/projects/{project_id}/tasks", {
    id: "importTasks",
    tag: "data-transfer",
    summary: "Import tasks from a file",
    description: "Uploads a CSV or JSON file of tasks (as the raw request body) and creates them in the project, in the background. CSV columns: title, description, status, priority, assignee_email, due_date.",
    params: [query("format", "Format of the file.", oneOfValues(["csv", "json"]), { required: true }), paramRef("IdempotencyKey")],
    body: { required: true, content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } } },
    responses: { 202: jsonResponse("The import was queued.", schemaRef("ImportJob")) },
  });
}
