/** Working together: comments, attachments, chat (with the AI agent), notifications, calendars. */
import {
  str, uuid, dateTime, int, bool, oneOfValues, list, obj, nullable, readOnly, uri, email,
  resource, query, paramRef, schemaRef, jsonBody, jsonResponse, noContent,
} from "./spec-kit.mjs";

/** Adds the comments, attachments, chat, notifications and calendars modules. */
export function addCollaboration(spec) {
  spec.tag("comments", "Discussion on tasks: comments with Markdown and @mentions, and emoji reactions.");
  spec.tag("attachments", "Files attached to tasks: upload, describe, get a download link, delete.");
  spec.tag("chat", "Team chat channels and messages, plus a conversational AI agent that answers with a streamed reply.");
  spec.tag("notifications", "A user's notifications (mentions, assignments, due dates): read, mark as read, and delivery preferences.");
  spec.tag("calendars", "Team calendars and their events (meetings, deadlines, time off), with RSVPs.");

  // comments --------------------------------------------------------------------
  resource(spec, {
    tag: "comments",
    noun: "comment",
    name: "Comment",
    collection: "/tasks/{task_id}/comments",
    item: "/comments/{comment_id}",
    description: "A comment on a task.",
    required: ["task_id", "author", "body"],
    createRequired: ["body"],
    fields: {
      task_id: readOnly(uuid("Task the comment is on.")),
      author: readOnly(schemaRef("UserSummary")),
      body: str("Comment text in Markdown. Mention people with `@name`.", { minLength: 1, maxLength: 20000 }),
      mentioned_user_ids: readOnly(list({ type: "string", format: "uuid" }, "Users mentioned in the body (they are notified).")),
      reactions: readOnly(obj("Reaction counts by emoji, e.g. `{\"👍\": 3}`.", { additionalProperties: { type: "integer", minimum: 1 } })),
      edited: readOnly(bool("Whether the comment was edited after posting.")),
    },
    ids: { list: "listTaskComments", create: "addTaskComment" },
    summaries: { list: "List comments on a task", create: "Comment on a task", update: "Edit a comment" },
    describe: {
      list: "Lists the discussion on a task, oldest first.",
      create: "Posts a comment on a task. Mentioned people are notified.",
      get: "Returns a comment.",
      update: "Edits a comment's text. Only its author can do this.",
      delete: "Deletes a comment.",
    },
  });
  spec.operation("post", "/comments/{comment_id}/reactions", {
    id: "addCommentReaction",
    tag: "comments",
    summary: "React to a comment",
    description: "Adds an emoji reaction (👍, 🎉, …) from the caller to a comment.",
    body: jsonBody({ type: "object", required: ["emoji"], properties: { emoji: str("A single emoji.", { minLength: 1, maxLength: 16 }) } }),
    responses: { 200: jsonResponse("The comment.", schemaRef("Comment")) },
  });
  spec.pathParam("emoji", "The emoji, URL-encoded.", { type: "string", minLength: 1, maxLength: 16 });
  spec.operation("delete", "/comments/{comment_id}/reactions/{emoji}", {
    id: "removeCommentReaction",
    tag: "comments",
    summary: "Remove my reaction from a comment",
    description: "Removes the caller's emoji reaction from a comment.",
    responses: noContent("The reaction was removed."),
  });

  // attachments -----------------------------------------------------------------
  resource(spec, {
    tag: "attachments",
    noun: "attachment",
    name: "Attachment",
    collection: "/tasks/{task_id}/attachments",
    item: "/attachments/{attachment_id}",
    ops: ["list", "get", "update", "delete"],
    description: "A file attached to a task.",
    required: ["task_id", "filename", "content_type", "size_bytes"],
    fields: {
      task_id: readOnly(uuid("Task the file is attached to.")),
      filename: str("File name.", { minLength: 1, maxLength: 255 }),
      description: nullable(str("What the file is.", { maxLength: 1000 })),
      content_type: readOnly(str("MIME type, e.g. `image/png`.")),
      size_bytes: readOnly(int("File size in bytes.", { minimum: 0 })),
      checksum_sha256: readOnly(str("SHA-256 of the content, hex.", { pattern: "^[0-9a-f]{64}$" })),
      uploaded_by: readOnly(uuid("Who uploaded it.")),
      download_url: readOnly(uri("Short-lived link to download the file (valid for 15 minutes).")),
    },
    ids: { list: "listTaskAttachments" },
    summaries: { list: "List files attached to a task", update: "Rename or describe an attachment" },
    describe: {
      list: "Lists the files attached to a task.",
      get: "Returns an attachment's details and a short-lived download link.",
      update: "Renames an attachment or changes its description.",
      delete: "Deletes an attached file.",
    },
  });
  spec.operation("post", "/tasks/{task_id}/attachments", {
    id: "uploadTaskAttachment",
    tag: "attachments",
    summary: "Upload a file to a task",
    description: "Attaches a file (up to 25 MB) to a task, as a multipart upload with the file and optional metadata.",
    params: [paramRef("IdempotencyKey")],
    body: {
      required: true,
      content: {
        "multipart/form-data": {
          schema: {
            type: "object",
            required: ["file"],
            properties: {
              file: { type: "string", format: "binary", description: "The file content." },
              filename: str("File name to store; defaults to the uploaded part's name.", { maxLength: 255 }),
              description: str("What the file is.", { maxLength: 1000 }),
              tags: list(str("Tag."), "Free-form tags for the file."),
            },
          },
          encoding: {
            file: { contentType: "application/octet-stream, image/*, application/pdf, text/plain" },
            tags: { style: "form", explode: true },
          },
        },
      },
    },
    responses: { 201: jsonResponse("The stored attachment.", schemaRef("Attachment")) },
    errors: [409],
  });

  // chat ------------------------------------------------------------------------
  resource(spec, {
    tag: "chat",
    noun: "chat channel",
    name: "ChatChannel",
    collection: "/chat/channels",
    item: "/chat/channels/{channel_id}",
    description: "A chat channel.",
    required: ["name", "visibility"],
    createRequired: ["name"],
    fields: {
      name: str("Channel name, without `#`.", { pattern: "^[a-z0-9][a-z0-9_-]{0,79}$" }),
      topic: nullable(str("Channel topic.", { maxLength: 250 })),
      visibility: oneOfValues(["public", "private"], "Public channels are open to the whole organization.", { default: "public" }),
      project_id: nullable(uuid("Project the channel is about.")),
      member_count: readOnly(int("Number of members.", { minimum: 0 })),
      last_message_at: readOnly(nullable(dateTime("Time of the latest message."))),
      archived: readOnly(bool("Whether the channel is archived.")),
    },
    filters: [paramRef("SearchQuery"), query("member", "Only channels the caller is a member of.", { type: "boolean" })],
    describe: {
      list: "Lists chat channels.",
      create: "Creates a chat channel.",
      get: "Returns a channel with its topic and member count.",
      update: "Renames a channel or changes its topic.",
      delete: "Deletes a channel and all its messages.",
    },
  });
  resource(spec, {
    tag: "chat",
    noun: "chat message",
    name: "ChatMessage",
    collection: "/chat/channels/{channel_id}/messages",
    item: "/chat/messages/{message_id}",
    description: "A message in a chat channel.",
    required: ["channel_id", "author", "text"],
    createRequired: ["text"],
    fields: {
      channel_id: readOnly(uuid("Channel the message is in.")),
      author: readOnly(schemaRef("UserSummary")),
      text: str("Message text (Markdown).", { minLength: 1, maxLength: 40000 }),
      thread_id: nullable(uuid("Parent message when this is a threaded reply.")),
      reply_count: readOnly(int("Replies in its thread.", { minimum: 0 })),
      edited_at: readOnly(nullable(dateTime("When it was last edited."))),
    },
    filters: [
      query("before", "Only messages posted before this time.", { type: "string", format: "date-time" }),
      query("after", "Only messages posted after this time.", { type: "string", format: "date-time" }),
      query("thread_id", "Only replies in this thread.", { type: "string", format: "uuid" }),
    ],
    ids: { create: "postChatMessage" },
    summaries: { create: "Post a message to a channel", update: "Edit a chat message" },
    describe: {
      list: "Lists a channel's messages, newest first.",
      create: "Posts a message to a channel, or a threaded reply with `thread_id`.",
      get: "Returns a chat message.",
      update: "Edits the text of a message you posted.",
      delete: "Deletes a message.",
    },
  });
  spec.schema("AgentMessageRequest", {
    type: "object",
    description: "A message to the workspace AI agent.",
    required: ["message"],
    properties: {
      message: str("What to ask the agent.", { minLength: 1, maxLength: 8000 }),
      conversation_id: nullable(uuid("Continue this conversation; a new one starts when omitted.")),
      context: {
        type: "object",
        description: "Resources the agent should look at.",
        properties: {
          project_id: uuid("A project."),
          task_ids: list({ type: "string", format: "uuid" }, "Tasks.", { maxItems: 20 }),
          wiki_page_id: uuid("A wiki page."),
        },
      },
    },
  });
  spec.operation("post", "/chat/agent/messages", {
    id: "sendAgentMessage",
    tag: "chat",
    summary: "Ask the workspace AI agent",
    description: [
      "Sends a message to the workspace AI agent and streams its reply as Server-Sent Events.",
      "Events: `message.delta` (`{\"text\": \"…\"}` chunks of the answer), `tool.call` (what the agent looked up),",
      "`message.completed` (`{\"conversation_id\": \"…\", \"message_id\": \"…\"}`), and `error`.",
      "The stream ends after `message.completed` or `error`.",
    ].join(" "),
    body: jsonBody(schemaRef("AgentMessageRequest")),
    responses: {
      200: {
        description: "The agent's reply, streamed.",
        content: {
          "text/event-stream": {
            schema: { type: "string", description: "A stream of `event:` / `data:` lines; each `data` is a JSON object." },
            example: 'event: message.delta\ndata: {"text":"You have 3 overdue tasks"}\n\nevent: message.completed\ndata: {"conversation_id":"0b9f6c7e-2f55-4a1e-9d7f-1c1a8c0b6a11","message_id":"6a1d0f5e-8d2b-4f7c-9a3e-5b2c1d0e9f8a"}\n\n',
          },
        },
      },
    },
    errors: [429],
  });

  // notifications ---------------------------------------------------------------
  const NOTIFICATION_TYPES = ["mention", "assigned", "comment", "due_soon", "overdue", "status_changed", "invitation", "automation"];
  spec.schema("Notification", {
    type: "object",
    description: "A notification for the current user.",
    allOf: [
      schemaRef("ResourceBase"),
      {
        type: "object",
        required: ["type", "title", "read"],
        properties: {
          type: oneOfValues(NOTIFICATION_TYPES, "What happened."),
          title: str("One-line summary, e.g. `Dana mentioned you on WEB-42`."),
          body: nullable(str("More detail.")),
          read: bool("Whether the user has read it."),
          read_at: nullable(dateTime("When it was read.")),
          actor: nullable(schemaRef("UserSummary")),
          resource_type: oneOfValues(["task", "comment", "project", "wiki_page", "chat_message", "invitation"], "Kind of thing it is about."),
          resource_id: uuid("ID of the thing it is about."),
          url: uri("Link to open it in the web app."),
        },
      },
    ],
  });
  spec.operation("get", "/notifications", {
    id: "listNotifications",
    tag: "notifications",
    summary: "List my notifications (all or unread)",
    description: "Lists the caller's notifications, newest first. Use `unread=true` for unread notifications only.",
    params: [
      query("unread", "Only unread notifications.", { type: "boolean" }),
      query("type", "Only notifications of this type.", oneOfValues(NOTIFICATION_TYPES)),
      paramRef("Cursor"),
      paramRef("Limit"),
    ],
    responses: {
      200: jsonResponse("A page of notifications.", {
        type: "object",
        required: ["data", "has_more", "unread_count"],
        properties: {
          data: list(schemaRef("Notification")),
          next_cursor: nullable(str("Cursor for the next page.")),
          has_more: bool("Whether more follow."),
          unread_count: int("Total unread notifications.", { minimum: 0 }),
        },
      }),
    },
  });
  spec.operation("get", "/notifications/{notification_id}", {
    id: "getNotification",
    tag: "notifications",
    summary: "Get a notification",
    description: "Returns a notification without changing its read state.",
    responses: { 200: jsonResponse("The notification.", schemaRef("Notification")) },
  });
  spec.operation("delete", "/notifications/{notification_id}", {
    id: "deleteNotification",
    tag: "notifications",
    summary: "Dismiss a notification",
    description: "Deletes a notification from the caller's inbox.",
    responses: noContent("The notification was dismissed."),
  });
  spec.operation("get", "/notifications/{notification_id}/open", {
    id: "openNotification",
    tag: "notifications",
    summary: "Open a notification",
    description: "Returns the notification together with the thing it points to, and marks it as read (this GET changes state).",
    extensions: { "x-mcp-write": true, "x-mcp-annotations": { readOnlyHint: false, idempotentHint: true } },
    responses: {
      200: jsonResponse("The notification, now read, and its target.", {
        type: "object",
        required: ["notification", "target"],
        properties: { notification: schemaRef("Notification"), target: obj("The resource the notification is about, as returned by its own GET endpoint.", { additionalProperties: true }) },
      }),
    },
  });
  spec.operation("post", "/notifications/{notification_id}/read", {
    id: "markNotificationRead",
    tag: "notifications",
    summary: "Mark a notification as read",
    description: "Marks one notification as read (or unread again with `read: false`).",
    body: { required: false, content: { "application/json": { schema: { type: "object", properties: { read: bool("Read state to set.", { default: true }) } } } } },
    responses: { 200: jsonResponse("The notification.", schemaRef("Notification")) },
  });
  spec.operation("post", "/notifications/read-all", {
    id: "markAllNotificationsRead",
    tag: "notifications",
    summary: "Mark all notifications as read",
    description: "Marks every unread notification as read, optionally only those older than a time or of one type.",
    body: {
      required: false,
      content: {
        "application/json": {
          schema: { type: "object", properties: { before: dateTime("Only notifications created before this time."), type: oneOfValues(NOTIFICATION_TYPES, "Only notifications of this type.") } },
        },
      },
    },
    responses: { 200: jsonResponse("How many were marked.", { type: "object", required: ["marked"], properties: { marked: int("Notifications marked read.", { minimum: 0 }) } }) },
  });
  // Delivery channels: a oneOf with a discriminator, so clients see exactly which fields each kind needs.
  spec.schema("EmailChannel", {
    type: "object",
    description: "Deliver by email.",
    required: ["kind", "address"],
    properties: { kind: { type: "string", const: "email" }, address: email("Where to send."), digest: oneOfValues(["instant", "hourly", "daily"], "Batching.", { default: "instant" }) },
  });
  spec.schema("SlackChannel", {
    type: "object",
    description: "Deliver to Slack.",
    required: ["kind", "slack_channel"],
    properties: { kind: { type: "string", const: "slack" }, slack_channel: str("Slack channel or user, e.g. `#eng` or `@dana`.") },
  });
  spec.schema("PushChannel", {
    type: "object",
    description: "Deliver as a mobile push notification.",
    required: ["kind", "device_id"],
    properties: { kind: { type: "string", const: "push" }, device_id: str("Registered device."), quiet_hours: nullable(str("Do-not-disturb window, e.g. `22:00-07:00`.", { pattern: "^\\d{2}:\\d{2}-\\d{2}:\\d{2}$" })) },
  });
  spec.schema("NotificationChannel", {
    description: "Where notifications are delivered.",
    oneOf: [schemaRef("EmailChannel"), schemaRef("SlackChannel"), schemaRef("PushChannel")],
    discriminator: {
      propertyName: "kind",
      mapping: { email: "#/components/schemas/EmailChannel", slack: "#/components/schemas/SlackChannel", push: "#/components/schemas/PushChannel" },
    },
  });
  spec.schema("NotificationPreferences", {
    type: "object",
    description: "Which notifications the user gets and where.",
    required: ["channels", "muted_types"],
    properties: {
      channels: list(schemaRef("NotificationChannel"), "Delivery channels, in addition to the in-app inbox.", { maxItems: 10 }),
      muted_types: list(oneOfValues(NOTIFICATION_TYPES), "Types not delivered outside the inbox.", { uniqueItems: true }),
      muted_project_ids: list({ type: "string", format: "uuid" }, "Projects whose notifications are muted.", { uniqueItems: true }),
    },
  });
  spec.operation("get", "/notification-preferences", {
    id: "getNotificationPreferences",
    tag: "notifications",
    summary: "Get my notification settings",
    description: "Returns where the caller's notifications are delivered (email, Slack, push) and what is muted.",
    responses: { 200: jsonResponse("The preferences.", schemaRef("NotificationPreferences")) },
  });
  spec.operation("put", "/notification-preferences", {
    id: "updateNotificationPreferences",
    tag: "notifications",
    summary: "Change my notification settings",
    description: "Replaces the caller's notification delivery channels and muted types or projects.",
    body: jsonBody(schemaRef("NotificationPreferences")),
    responses: { 200: jsonResponse("The stored preferences.", schemaRef("NotificationPreferences")) },
  });

  // calendars -------------------------------------------------------------------
  resource(spec, {
    tag: "calendars",
    noun: "calendar",
    name: "Calendar",
    collection: "/calendars",
    item: "/calendars/{calendar_id}",
    ops: ["list", "create", "get", "update"],
    description: "A shared calendar.",
    required: ["name", "timezone"],
    createRequired: ["name"],
    fields: {
      name: str("Calendar name, e.g. `Engineering` or `Time off`.", { minLength: 1, maxLength: 100 }),
      color: str("Hex color.", { pattern: "^#[0-9a-fA-F]{6}$" }),
      timezone: str("IANA time zone of the calendar.", { default: "UTC" }),
      team_id: nullable(uuid("Team the calendar belongs to.")),
      source: readOnly(oneOfValues(["workspace", "google", "outlook"], "Where events come from; external calendars are read-only here.")),
    },
    describe: {
      list: "Lists calendars the caller can see, including connected external ones.",
      create: "Creates a shared calendar.",
      get: "Returns a calendar.",
      update: "Renames or recolors a calendar, or changes its time zone.",
    },
  });
  const ATTENDEE = {
    type: "object",
    required: ["user_id", "response"],
    properties: { user_id: uuid("Attendee."), response: oneOfValues(["needs_action", "accepted", "declined", "tentative"], "Their RSVP.") },
  };
  resource(spec, {
    tag: "calendars",
    noun: "event",
    name: "CalendarEvent",
    collection: "/calendars/{calendar_id}/events",
    item: "/calendars/{calendar_id}/events/{event_id}",
    description: "A calendar event.",
    required: ["calendar_id", "title", "starts_at", "ends_at"],
    fields: {
      calendar_id: readOnly(uuid("Calendar the event is on.")),
      title: str("Event title.", { minLength: 1, maxLength: 200 }),
      description: nullable(str("Agenda or notes.")),
      location: nullable(str("Room or video link.")),
      starts_at: dateTime("Start time."),
      ends_at: dateTime("End time."),
      all_day: bool("Whether it is an all-day event.", { default: false }),
      recurrence: nullable(str("RFC 5545 recurrence rule, e.g. `FREQ=WEEKLY;BYDAY=MO`.")),
      attendee_ids: list({ type: "string", format: "uuid" }, "Invited users.", { uniqueItems: true }),
      attendees: readOnly(list(ATTENDEE, "Invitees and their responses.")),
      task_id: nullable(uuid("Task the event is about.")),
    },
    filters: [
      query("from", "Only events ending after this time.", { type: "string", format: "date-time" }),
      query("to", "Only events starting before this time.", { type: "string", format: "date-time" }),
      query("attendee_id", "Only events this user is invited to.", { type: "string", format: "uuid" }),
    ],
    ids: { list: "listCalendarEvents" },
    summaries: { list: "List calendar events", create: "Schedule an event", update: "Reschedule or edit an event", delete: "Cancel an event" },
    describe: {
      list: "Lists events on a calendar in a time range, e.g. meetings this week.",
      create: "Schedules an event and invites attendees.",
      get: "Returns an event with attendees and their responses.",
      update: "Moves an event to another time or changes its title, location or attendees. Attendees are notified.",
      delete: "Cancels an event and notifies attendees.",
    },
  });
  spec.operation("post", "/calendars/{calendar_id}/events/{event_id}/rsvp", {
    id: "respondToCalendarEvent",
    tag: "calendars",
    summary: "RSVP to an event",
    description: "Accepts, declines or tentatively accepts an event invitation for the caller.",
    body: jsonBody({ type: "object", required: ["response"], properties: { response: oneOfValues(["accepted", "declined", "tentative"], "Your answer."), note: str("Note to the organizer.", { maxLength: 500 }) } }),
    responses: { 200: jsonResponse("The event.", schemaRef("CalendarEvent")) },
  });
}
