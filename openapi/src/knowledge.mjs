/** Knowledge: wiki, documents, forms, templates, tags and search. */
import {
  str, uuid, dateTime, int, num, bool, oneOfValues, list, obj, nullable, readOnly, uri, email,
  resource, query, paramRef, schemaRef, jsonBody, jsonResponse, pageSchema,
} from "./spec-kit.mjs";

/** Adds the wiki, documents, forms, templates, tags and search modules. */
export function addKnowledge(spec) {
  spec.tag("wiki", "The team wiki: spaces, pages in a tree, and every page's revision history. Pages are versioned: use the ETag with If-Match when editing.");
  spec.tag("documents", "Standalone documents (specs, briefs, meeting notes) with version history and sharing.");
  spec.tag("forms", "Forms that collect submissions (requests, bug reports, intake) from inside or outside the organization.");
  spec.tag("templates", "Reusable templates for projects, tasks and documents.");
  spec.tag("tags", "Organization-wide tags for documents and wiki pages (labels are for tasks).");
  spec.tag("search", "Full-text search across tasks, projects, wiki pages, documents, comments and messages, and saved searches.");

  // wiki ------------------------------------------------------------------------
  resource(spec, {
    tag: "wiki",
    noun: "wiki space",
    name: "WikiSpace",
    collection: "/wiki/spaces",
    item: "/wiki/spaces/{space_id}",
    description: "A wiki space: a tree of pages for a team or topic.",
    required: ["name", "key", "visibility"],
    createRequired: ["name", "key"],
    fields: {
      name: str("Space name, e.g. `Engineering handbook`.", { minLength: 1, maxLength: 120 }),
      key: str("Short key used in links.", { pattern: "^[A-Z][A-Z0-9]{1,9}$" }),
      description: nullable(str("What the space covers.")),
      visibility: oneOfValues(["private", "team", "organization"], "Who can read it.", { default: "organization" }),
      home_page_id: readOnly(nullable(uuid("The space's home page."))),
      page_count: readOnly(int("Number of pages.", { minimum: 0 })),
    },
    filters: [paramRef("SearchQuery")],
    describe: {
      list: "Lists wiki spaces.",
      create: "Creates a wiki space with an empty home page.",
      get: "Returns a wiki space.",
      update: "Renames a wiki space or changes its description or visibility.",
      delete: "Deletes a wiki space with all its pages and their history.",
    },
  });
  resource(spec, {
    tag: "wiki",
    noun: "wiki page",
    name: "WikiPage",
    collection: "/wiki/spaces/{space_id}/pages",
    item: "/wiki/pages/{page_id}",
    versioned: true,
    description: "A wiki page. Every save creates a revision.",
    required: ["space_id", "title", "body", "status"],
    createRequired: ["title"],
    fields: {
      space_id: readOnly(uuid("Space the page is in.")),
      parent_id: nullable(uuid("Parent page; null for a top-level page.")),
      title: str("Page title.", { minLength: 1, maxLength: 250 }),
      body: str("Page content in Markdown.", { maxLength: 500000, default: "" }),
      status: oneOfValues(["draft", "published"], "Drafts are only visible to editors.", { default: "published" }),
      tag_ids: list({ type: "string", format: "uuid" }, "Tags on the page.", { uniqueItems: true }),
      last_edited_by: readOnly(schemaRef("UserSummary")),
      position: readOnly(num("Order among siblings.")),
    },
    filters: [
      query("parent_id", "Only direct children of this page.", { type: "string", format: "uuid" }),
      query("status", "Only drafts or only published pages.", oneOfValues(["draft", "published"])),
      paramRef("SearchQuery"),
    ],
    describe: {
      list: "Lists pages in a wiki space, optionally under one parent page.",
      create: "Writes a new wiki page in a space, optionally under a parent page.",
      get: "Returns a wiki page with its Markdown body. The ETag header holds the version to send in If-Match when editing.",
      update: "Edits a wiki page's title, body or status and records a revision. Send the ETag from getWikiPage as If-Match so a concurrent edit is not overwritten (412 if stale).",
      delete: "Deletes a wiki page and its child pages.",
    },
  });
  spec.operation("post", "/wiki/pages/{page_id}/move", {
    id: "moveWikiPage",
    tag: "wiki",
    summary: "Move a wiki page",
    description: "Moves a page under another parent, to another space, or to another position among its siblings.",
    params: [paramRef("IfMatch")],
    body: jsonBody({
      type: "object",
      minProperties: 1,
      properties: {
        parent_id: nullable(uuid("New parent page; null for top level.")),
        space_id: uuid("Move to this space."),
        position: num("Position among the new siblings; last when omitted."),
      },
    }),
    responses: { 200: jsonResponse("The moved page.", schemaRef("WikiPage"), { ETag: { $ref: "#/components/headers/ETag" } }) },
    errors: [409, 412],
  });
  spec.schema("WikiRevision", {
    type: "object",
    description: "A saved version of a wiki page.",
    required: ["id", "page_id", "version", "title", "author", "created_at"],
    properties: {
      id: uuid("Revision ID."),
      page_id: uuid("The page."),
      version: int("Page version this revision holds.", { minimum: 1 }),
      title: str("Title at this version."),
      body: str("Markdown body at this version."),
      summary: nullable(str("Edit summary.")),
      author: schemaRef("UserSummary"),
      created_at: dateTime("When it was saved."),
    },
  });
  spec.operation("get", "/wiki/pages/{page_id}/revisions", {
    id: "listWikiPageRevisions",
    tag: "wiki",
    summary: "List a wiki page's revisions",
    description: "Lists a page's edit history, newest first: who changed it and when.",
    params: [paramRef("Cursor"), paramRef("Limit")],
    responses: { 200: jsonResponse("A page of revisions.", pageSchema("A page of revisions.", schemaRef("WikiRevision"))) },
  });
  spec.operation("post", "/wiki/pages/{page_id}/revisions/{revision_id}/restore", {
    id: "restoreWikiPageRevision",
    tag: "wiki",
    summary: "Restore an old version of a wiki page",
    description: "Reverts a page to an earlier revision. This saves a new revision; history is kept.",
    params: [paramRef("IfMatch")],
    responses: { 200: jsonResponse("The page after the revert.", schemaRef("WikiPage"), { ETag: { $ref: "#/components/headers/ETag" } }) },
    errors: [412],
  });

  // documents -------------------------------------------------------------------
  resource(spec, {
    tag: "documents",
    noun: "document",
    name: "Document",
    collection: "/documents",
    item: "/documents/{document_id}",
    description: "A document.",
    required: ["title", "format", "owner_id"],
    createRequired: ["title"],
    fields: {
      title: str("Title.", { minLength: 1, maxLength: 250 }),
      format: oneOfValues(["markdown", "rich_text"], "Content format.", { default: "markdown" }),
      content: str("Content.", { maxLength: 1000000 }),
      project_id: nullable(uuid("Project the document belongs to.")),
      folder: nullable(str("Folder path, e.g. `Specs/2025`.")),
      tag_ids: list({ type: "string", format: "uuid" }, "Tags.", { uniqueItems: true }),
      owner_id: readOnly(uuid("Owner.")),
      word_count: readOnly(int("Number of words.", { minimum: 0 })),
    },
    filters: [paramRef("ProjectFilter"), query("owner_id", "Only documents owned by this user.", { type: "string", format: "uuid" }), query("tag_id", "Only documents with this tag.", { type: "string", format: "uuid" }), paramRef("SearchQuery")],
    describe: {
      list: "Lists documents, filtered by project, owner, tag or title.",
      create: "Creates a document.",
      get: "Returns a document with its content.",
      update: "Edits a document's title, content, folder or tags. Each save is kept as a version.",
      delete: "Moves a document to the trash, where it is kept for 30 days.",
    },
  });
  spec.schema("DocumentVersion", {
    type: "object",
    description: "A saved version of a document.",
    required: ["number", "author", "created_at"],
    properties: { number: int("Version number.", { minimum: 1 }), author: schemaRef("UserSummary"), created_at: dateTime("When it was saved."), word_count: int("Words at that version.", { minimum: 0 }) },
  });
  spec.operation("get", "/documents/{document_id}/versions", {
    id: "listDocumentVersions",
    tag: "documents",
    summary: "List a document's versions",
    description: "Lists the saved versions of a document, newest first.",
    params: [paramRef("Cursor"), paramRef("Limit")],
    responses: { 200: jsonResponse("A page of versions.", pageSchema("A page of versions.", schemaRef("DocumentVersion"))) },
  });
  spec.schema("DocumentShare", {
    type: "object",
    description: "Who a document is shared with.",
    required: ["document_id", "grants"],
    properties: {
      document_id: uuid("The document."),
      grants: list({ type: "object", required: ["user_id", "permission"], properties: { user_id: uuid("User."), permission: oneOfValues(["view", "comment", "edit"], "Their access.") } }, "Per-user access."),
      link_sharing: oneOfValues(["off", "organization", "anyone_with_link"], "Link sharing setting."),
      link_url: nullable(uri("The share link when link sharing is on.")),
    },
  });
  spec.operation("post", "/documents/{document_id}/share", {
    id: "shareDocument",
    tag: "documents",
    summary: "Share a document",
    description: "Shares a document with people (view, comment or edit) and/or turns link sharing on or off.",
    body: jsonBody({
      type: "object",
      minProperties: 1,
      properties: {
        user_ids: list({ type: "string", format: "uuid" }, "People to share with.", { uniqueItems: true }),
        permission: oneOfValues(["view", "comment", "edit"], "Access to grant them.", { default: "view" }),
        link_sharing: oneOfValues(["off", "organization", "anyone_with_link"], "Link sharing setting."),
        notify: bool("Email the people shared with.", { default: true }),
      },
    }),
    responses: { 200: jsonResponse("The resulting sharing settings.", schemaRef("DocumentShare")) },
  });

  // forms -----------------------------------------------------------------------
  const FORM_FIELD = {
    type: "object",
    required: ["name", "label", "type"],
    properties: {
      name: str("Field key used in submissions.", { pattern: "^[a-z][a-z0-9_]{0,49}$" }),
      label: str("Question shown to the person filling the form."),
      type: oneOfValues(["short_text", "long_text", "email", "number", "date", "select", "checkbox"], "Input type."),
      required: bool("Whether an answer is required.", { default: false }),
      options: list(str("Choice."), "Choices for `select`."),
    },
  };
  resource(spec, {
    tag: "forms",
    noun: "form",
    name: "Form",
    collection: "/forms",
    item: "/forms/{form_id}",
    description: "A form.",
    required: ["title", "fields", "status"],
    createRequired: ["title", "fields"],
    fields: {
      title: str("Form title.", { minLength: 1, maxLength: 200 }),
      description: nullable(str("Shown above the questions.")),
      fields: list(FORM_FIELD, "Questions, in order.", { minItems: 1, maxItems: 50 }),
      status: oneOfValues(["draft", "open", "closed"], "Only open forms accept submissions.", { default: "draft" }),
      public: bool("Whether people outside the organization can submit.", { default: false }),
      create_task_in_project_id: nullable(uuid("When set, each submission creates a task in this project.")),
      public_url: readOnly(nullable(uri("Public link when the form is public and open."))),
      submission_count: readOnly(int("Number of submissions.", { minimum: 0 })),
    },
    filters: [query("status", "Only forms in this state.", oneOfValues(["draft", "open", "closed"]))],
    describe: {
      list: "Lists forms with their submission counts.",
      create: "Creates a form with its questions.",
      get: "Returns a form with its questions.",
      update: "Edits a form's questions, opens or closes it.",
      delete: "Deletes a form and its submissions.",
    },
  });
  spec.schema("FormSubmission", {
    type: "object",
    description: "One filled-in form.",
    required: ["id", "form_id", "answers", "submitted_at"],
    properties: {
      id: uuid("Submission ID."),
      form_id: uuid("The form."),
      answers: obj("Answers keyed by field name.", { additionalProperties: { type: ["string", "number", "boolean"] } }),
      submitter_email: nullable(email("Who submitted it, when known.")),
      task_id: nullable(uuid("Task created from the submission.")),
      submitted_at: dateTime("When it was submitted."),
    },
  });
  spec.operation("get", "/forms/{form_id}/submissions", {
    id: "listFormSubmissions",
    tag: "forms",
    summary: "List a form's responses",
    description: "Lists the submissions (responses) a form has received, newest first.",
    params: [query("since", "Only submissions after this time.", { type: "string", format: "date-time" }), paramRef("Cursor"), paramRef("Limit")],
    responses: { 200: jsonResponse("A page of submissions.", pageSchema("A page of submissions.", schemaRef("FormSubmission"))) },
  });
  spec.operation("post", "/forms/{form_id}/submissions", {
    id: "submitForm",
    tag: "forms",
    summary: "Submit a form",
    description: "Submits answers to an open form, encoded like an HTML form post: one field per question, named after the question's `name`. Unknown names are rejected.",
    params: [paramRef("IdempotencyKey")],
    body: {
      required: true,
      content: {
        "application/x-www-form-urlencoded": {
          schema: {
            type: "object",
            description: "Answers keyed by field name, plus the optional submitter email.",
            properties: { submitter_email: email("Reply-to address of the person submitting.") },
            additionalProperties: { type: "string" },
          },
          encoding: { submitter_email: { style: "form" } },
        },
      },
    },
    responses: { 201: jsonResponse("The stored submission.", schemaRef("FormSubmission")) },
    errors: [409],
  });
  spec.operation("get", "/forms/{form_id}/submissions/{submission_id}", {
    id: "getFormSubmission",
    tag: "forms",
    summary: "Get a form response",
    description: "Returns one submission with all its answers.",
    responses: { 200: jsonResponse("The submission.", schemaRef("FormSubmission")) },
  });

  // templates -------------------------------------------------------------------
  resource(spec, {
    tag: "templates",
    noun: "template",
    name: "Template",
    collection: "/templates",
    item: "/templates/{template_id}",
    description: "A reusable template.",
    required: ["name", "kind", "content"],
    fields: {
      name: str("Template name, e.g. `Product launch`.", { minLength: 1, maxLength: 120 }),
      kind: oneOfValues(["project", "task", "document"], "What the template creates."),
      description: nullable(str("When to use it.")),
      content: obj("The template body: for a project its task list, workflow and milestones; for a task its fields and subtasks; for a document its Markdown.", { additionalProperties: true }),
      use_count: readOnly(int("How often it was applied.", { minimum: 0 })),
    },
    filters: [query("kind", "Only templates of this kind.", oneOfValues(["project", "task", "document"])), paramRef("SearchQuery")],
    describe: {
      list: "Lists templates for projects, tasks and documents.",
      create: "Saves a new template.",
      get: "Returns a template.",
      update: "Edits a template.",
      delete: "Deletes a template. Things created from it are not affected.",
    },
  });
  spec.operation("post", "/templates/{template_id}/apply", {
    id: "applyTemplate",
    tag: "templates",
    summary: "Create something from a template",
    description: "Creates a new project, task or document from a template (for example a new project from the `Product launch` template).",
    params: [paramRef("IdempotencyKey")],
    body: jsonBody({
      type: "object",
      required: ["name"],
      properties: {
        name: str("Name or title of the new project, task or document."),
        project_id: uuid("For task and document templates: the project to create it in."),
        start_date: { type: "string", format: "date", description: "For project templates: shifts all dates to start on this day." },
      },
    }),
    responses: {
      201: jsonResponse("What was created.", {
        type: "object",
        required: ["kind", "id"],
        properties: { kind: oneOfValues(["project", "task", "document"], "What was created."), id: uuid("Its ID."), created_items: int("Number of items created in total (tasks, milestones, …).", { minimum: 1 }) },
      }),
    },
  });

  // tags ------------------------------------------------------------------------
  resource(spec, {
    tag: "tags",
    noun: "tag",
    name: "Tag",
    collection: "/tags",
    item: "/tags/{tag_id}",
    description: "A tag for documents and wiki pages.",
    required: ["name"],
    fields: {
      name: str("Tag name.", { minLength: 1, maxLength: 50 }),
      color: str("Hex color.", { pattern: "^#[0-9a-fA-F]{6}$" }),
      usage_count: readOnly(int("Documents and pages carrying the tag.", { minimum: 0 })),
    },
    filters: [paramRef("SearchQuery")],
    describe: {
      list: "Lists tags used on documents and wiki pages.",
      create: "Creates a tag.",
      get: "Returns a tag.",
      update: "Renames or recolors a tag.",
      delete: "Deletes a tag and removes it everywhere.",
    },
  });

  // search ----------------------------------------------------------------------
  const SEARCH_TYPES = ["task", "project", "wiki_page", "document", "comment", "chat_message", "user"];
  spec.schema("SearchRequest", {
    type: "object",
    description: "A search query.",
    required: ["query"],
    properties: {
      query: str("What to look for. Supports quoted phrases and `-exclusions`.", { minLength: 1, maxLength: 500 }),
      types: list(oneOfValues(SEARCH_TYPES), "Kinds of results to include; all when omitted.", { uniqueItems: true }),
      project_id: uuid("Only results in this project."),
      updated_after: dateTime("Only results changed after this time."),
      limit: int("Maximum results.", { minimum: 1, maximum: 50, default: 20 }),
      cursor: str("Cursor from the previous response."),
    },
  });
  spec.schema("SearchHit", {
    type: "object",
    description: "One search result.",
    required: ["type", "id", "title", "score"],
    properties: {
      type: oneOfValues(SEARCH_TYPES, "Kind of result."),
      id: uuid("ID of the result; fetch it with the matching get operation."),
      title: str("Title or name."),
      snippet: nullable(str("Matching text with the hits in `**bold**`.")),
      project_id: nullable(uuid("Project it belongs to.")),
      score: num("Relevance.", { minimum: 0 }),
      updated_at: dateTime("Last change."),
    },
  });
  spec.operation("post", "/search", {
    id: "search",
    tag: "search",
    summary: "Search everything",
    description: "Full-text search across tasks, projects, wiki pages, documents, comments, chat messages and people. A POST only because the query can be long; it changes nothing.",
    extensions: { "x-mcp-write": false },
    body: jsonBody(schemaRef("SearchRequest")),
    responses: {
      200: jsonResponse("Results, best first.", {
        type: "object",
        required: ["data", "has_more", "total"],
        properties: { data: list(schemaRef("SearchHit")), total: int("Estimated total hits.", { minimum: 0 }), next_cursor: nullable(str("Cursor for more results.")), has_more: bool("Whether more follow.") },
      }),
    },
    errors: [429],
  });
  resource(spec, {
    tag: "search",
    noun: "saved search",
    plural: "saved searches",
    name: "SavedSearch",
    collection: "/saved-searches",
    item: "/saved-searches/{saved_search_id}",
    ops: ["list", "create", "get", "delete"],
    description: "A named search the user can rerun.",
    required: ["name", "query"],
    fields: {
      name: str("Name, e.g. `My open bugs`.", { minLength: 1, maxLength: 100 }),
      query: schemaRef("SearchRequest"),
      notify_on_new_results: bool("Notify the owner when new results appear.", { default: false }),
      owner_id: readOnly(uuid("Owner.")),
    },
    describe: {
      list: "Lists the caller's saved searches.",
      create: "Saves a search under a name.",
      get: "Returns a saved search.",
      delete: "Deletes a saved search.",
    },
  });
}
