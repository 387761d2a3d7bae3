/** Organizations and the people in them: members, teams, roles, users, invitations. */
import {
  str, uuid, dateTime, email, uri, int, bool, oneOfValues, list, nullable, readOnly,
  resource, query, paramRef, schemaRef, jsonBody, jsonResponse, noContent,
} from "./spec-kit.mjs";

const MEMBER_ROLES = ["owner", "admin", "member", "guest"];

/** Adds the organizations, members, teams, roles, users and invitations modules. */
export function addPeople(spec) {
  spec.tag("organizations", "Organizations (workspaces): the top-level account that owns projects, people and settings.");
  spec.tag("members", "People who belong to an organization: list them, change their organization role, suspend or remove them.");
  spec.tag("teams", "Teams group members so work can be shared, assigned and reported per team.");
  spec.tag("roles", "Custom roles and the permissions they grant. Changing roles changes who can do what, so these calls are treated as sensitive.", { "x-mcp-sensitive": true });
  spec.tag("users", "User profiles: the signed-in user (`me`) and the directory of users.");
  spec.tag("invitations", "Invite people to the organization by email, resend or revoke pending invitations.");

  // organizations ---------------------------------------------------------------
  spec.pathParam("org_id", "ID of the organization.", { type: "string", format: "uuid" });
  resource(spec, {
    tag: "organizations",
    noun: "organization",
    name: "Organization",
    collection: "/organizations",
    item: "/organizations/{org_id}",
    description: "An organization (workspace).",
    required: ["name", "slug"],
    fields: {
      name: str("Organization name.", { minLength: 1, maxLength: 120 }),
      slug: str("URL-safe short name, unique across the service.", { pattern: "^[a-z0-9][a-z0-9-]{1,38}$" }),
      domain: nullable(str("Email domain whose users may join without an invitation, e.g. `acme.com`.")),
      logo_url: nullable(uri("Logo image URL.")),
      timezone: str("Default IANA time zone for the organization.", { default: "UTC", example: "Europe/Berlin" }),
      plan: readOnly(oneOfValues(["free", "team", "business", "enterprise"], "Subscription plan.")),
      member_count: readOnly(int("Number of active members.", { minimum: 0 })),
      owner_id: readOnly(uuid("User who owns the organization.")),
    },
    describe: {
      list: "Lists the organizations the caller belongs to.",
      create: "Creates a new organization with the caller as its owner.",
      get: "Returns an organization's profile, plan and member count.",
      update: "Renames an organization or changes its slug, domain, logo or default time zone.",
      delete: "Deletes an organization and everything in it. Only the owner can do this; it cannot be undone.",
    },
  });

  // members ---------------------------------------------------------------------
  spec.pathParam("member_id", "ID of the membership (not the user ID).", { type: "string", format: "uuid" });
  resource(spec, {
    tag: "members",
    noun: "member",
    name: "Member",
    collection: "/organizations/{org_id}/members",
    item: "/organizations/{org_id}/members/{member_id}",
    ops: ["list", "get", "update", "delete"],
    description: "A person's membership in an organization.",
    required: ["user", "role", "status"],
    fields: {
      user: readOnly(schemaRef("UserSummary")),
      role: oneOfValues(MEMBER_ROLES, "Organization role. Guests only see projects they are added to."),
      status: readOnly(oneOfValues(["active", "suspended"], "Whether the member can sign in.")),
      title: nullable(str("Job title shown in the directory.", { maxLength: 100 })),
      joined_at: readOnly(dateTime("When the member joined.")),
      last_active_at: readOnly(nullable(dateTime("Last activity time."))),
    },
    filters: [
      query("role", "Only members with this organization role.", oneOfValues(MEMBER_ROLES)),
      query("status", "Only active or only suspended members.", oneOfValues(["active", "suspended"])),
      paramRef("SearchQuery"),
    ],
    summaries: { list: "List organization members", get: "Get a member", update: "Change a member's role or title", delete: "Remove a member from the organization" },
    ids: { delete: "removeMember" },
    describe: {
      list: "Lists the people in an organization with their role and status. Filter by role, status or a name/email search.",
      get: "Returns one membership: the user, their organization role and status.",
      update: "Changes a member's organization role (owner, admin, member, guest) or job title.",
      delete: "Removes a person from the organization. Their tasks stay, unassigned from them. To block access temporarily, suspend instead.",
    },
  });
  for (const [verb, Verb, desc] of [
    ["suspend", "Suspend", "Suspends a member: they can no longer sign in or use tokens, but their data and assignments are kept. Reactivate to undo."],
    ["reactivate", "Reactivate", "Restores sign-in for a suspended member."],
  ]) {
    spec.operation("post", `/organizations/{org_id}/members/{member_id}/${verb}`, {
      id: `${verb}Member`,
      tag: "members",
      summary: `${Verb} a member`,
      description: desc,
      responses: { 200: jsonResponse("The member.", schemaRef("Member")) },
      errors: [409],
    });
  }

  // teams -----------------------------------------------------------------------
  resource(spec, {
    tag: "teams",
    noun: "team",
    name: "Team",
    collection: "/teams",
    item: "/teams/{team_id}",
    description: "A team of members.",
    required: ["name"],
    fields: {
      name: str("Team name.", { minLength: 1, maxLength: 80 }),
      description: nullable(str("What the team does.", { maxLength: 500 })),
      lead_id: nullable(uuid("User who leads the team.")),
      member_count: readOnly(int("Number of members.", { minimum: 0 })),
      color: str("Display color as a hex code.", { pattern: "^#[0-9a-fA-F]{6}$", default: "#4f46e5" }),
    },
    filters: [paramRef("SearchQuery")],
    describe: {
      list: "Lists the organization's teams.",
      create: "Creates a team. Add people with addTeamMember.",
      get: "Returns a team with its lead and member count.",
      update: "Renames a team or changes its lead, description or color.",
      delete: "Deletes a team. Members and projects are kept; projects owned by the team become organization-wide.",
    },
  });
  spec.schema("TeamMember", {
    type: "object",
    description: "A user's membership in a team.",
    required: ["user", "role", "added_at"],
    properties: {
      user: schemaRef("UserSummary"),
      role: oneOfValues(["lead", "member"], "Role within the team."),
      added_at: dateTime("When the user joined the team."),
    },
  });
  spec.operation("get", "/teams/{team_id}/members", {
    id: "listTeamMembers",
    tag: "teams",
    summary: "List team members",
    description: "Lists who is on a team.",
    params: [paramRef("Cursor"), paramRef("Limit")],
    responses: { 200: jsonResponse("A page of team members.", { type: "object", required: ["data", "has_more"], properties: { data: list(schemaRef("TeamMember")), next_cursor: nullable(str("Cursor for the next page.")), has_more: bool("Whether more follow.") } }) },
  });
  spec.operation("post", "/teams/{team_id}/members", {
    id: "addTeamMember",
    tag: "teams",
    summary: "Add someone to a team",
    description: "Adds an organization member to a team.",
    params: [paramRef("IdempotencyKey")],
    body: jsonBody({
      type: "object",
      required: ["user_id"],
      properties: { user_id: uuid("User to add."), role: oneOfValues(["lead", "member"], "Role within the team.", { default: "member" }) },
    }),
    responses: { 201: jsonResponse("The new team membership.", schemaRef("TeamMember")) },
    errors: [409],
  });
  spec.operation("delete", "/teams/{team_id}/members/{user_id}", {
    id: "removeTeamMember",
    tag: "teams",
    summary: "Remove someone from a team",
    description: "Removes a user from a team. They stay in the organization.",
    responses: noContent("The user was removed from the team."),
  });

  // roles -----------------------------------------------------------------------
  const PERMISSIONS = [
    "projects.read", "projects.write", "tasks.read", "tasks.write", "wiki.read", "wiki.write",
    "members.manage", "roles.manage", "billing.manage", "webhooks.manage", "audit.read", "stock.write", "analytics.read",
  ];
  resource(spec, {
    tag: "roles",
    noun: "role",
    name: "Role",
    collection: "/roles",
    item: "/roles/{role_id}",
    description: "A named set of permissions that can be granted to users.",
    required: ["name", "permissions"],
    fields: {
      name: str("Role name.", { minLength: 1, maxLength: 60 }),
      description: nullable(str("What the role is for.")),
      permissions: list(oneOfValues(PERMISSIONS), "Permissions the role grants.", { uniqueItems: true }),
      is_system: readOnly(bool("Built-in roles cannot be changed or deleted.")),
      assignee_count: readOnly(int("Number of users holding the role.", { minimum: 0 })),
    },
    describe: {
      list: "Lists built-in and custom roles with the permissions each grants.",
      create: "Creates a custom role from a set of permissions.",
      get: "Returns a role and its permissions.",
      update: "Changes a custom role's name or permissions. Takes effect immediately for everyone holding it.",
      delete: "Deletes a custom role; users holding it lose its permissions.",
    },
  });
  spec.schema("RoleAssignment", {
    type: "object",
    description: "A role granted to a user.",
    required: ["role_id", "user_id", "granted_at"],
    properties: {
      role_id: uuid("The role."),
      user_id: uuid("The user holding it."),
      scope_project_id: nullable(uuid("When set, the role applies only inside this project.")),
      granted_by: uuid("Who granted it."),
      granted_at: dateTime("When it was granted."),
    },
  });
  spec.operation("post", "/roles/{role_id}/assignments", {
    id: "assignRole",
    tag: "roles",
    summary: "Grant a role to a user",
    description: "Grants a role to a user, organization-wide or within one project.",
    params: [paramRef("IdempotencyKey")],
    body: jsonBody({
      type: "object",
      required: ["user_id"],
      properties: { user_id: uuid("User to grant the role to."), scope_project_id: nullable(uuid("Limit the role to this project.")) },
    }),
    responses: { 201: jsonResponse("The role assignment.", schemaRef("RoleAssignment")) },
    errors: [409],
  });
  spec.operation("delete", "/roles/{role_id}/assignments/{user_id}", {
    id: "revokeRole",
    tag: "roles",
    summary: "Revoke a role from a user",
    description: "Takes a role away from a user.",
    responses: noContent("The role was revoked."),
  });

  // users -----------------------------------------------------------------------
  spec.schema("User", {
    type: "object",
    description: "A user profile.",
    allOf: [
      schemaRef("ResourceBase"),
      {
        type: "object",
        required: ["name", "email", "status"],
        properties: {
          name: str("Full name."),
          email: email("Primary email address."),
          avatar_url: nullable(uri("Avatar image URL.")),
          title: nullable(str("Job title.")),
          timezone: str("IANA time zone, e.g. `America/New_York`."),
          locale: str("Preferred language as a BCP 47 tag.", { default: "en" }),
          status: oneOfValues(["active", "suspended", "deactivated"], "Account status."),
          last_seen_at: nullable(dateTime("Last time the user was active.")),
        },
      },
    ],
  });
  spec.operation("get", "/users/me", {
    id: "getCurrentUser",
    tag: "users",
    summary: "Get my profile",
    description: "Returns the profile of the user the token belongs to (who am I).",
    responses: { 200: jsonResponse("The current user.", schemaRef("User")) },
  });
  spec.operation("patch", "/users/me", {
    id: "updateCurrentUser",
    tag: "users",
    summary: "Update my profile",
    description: "Changes the current user's name, title, avatar, time zone or language.",
    body: jsonBody({
      type: "object",
      minProperties: 1,
      properties: {
        name: str("Full name.", { minLength: 1, maxLength: 100 }),
        title: nullable(str("Job title.")),
        avatar_url: nullable(uri("Avatar image URL.")),
        timezone: str("IANA time zone."),
        locale: str("Preferred language (BCP 47)."),
      },
    }),
    responses: { 200: jsonResponse("The updated profile.", schemaRef("User")) },
  });
  spec.schema("UserList", {
    type: "object",
    description: "A page of users.",
    required: ["data", "has_more"],
    properties: { data: list(schemaRef("User")), next_cursor: nullable(str("Cursor for the next page.")), has_more: bool("Whether more follow.") },
  });
  spec.operation("get", "/users", {
    id: "listUsers",
    tag: "users",
    summary: "List users",
    description: "Searches the user directory by name or email. Use it to find the ID of a person before assigning work to them.",
    params: [
      paramRef("SearchQuery"),
      query("status", "Only users with this account status.", oneOfValues(["active", "suspended", "deactivated"])),
      query("team_id", "Only members of this team.", { type: "string", format: "uuid" }),
      paramRef("Cursor"),
      paramRef("Limit"),
    ],
    responses: { 200: jsonResponse("A page of users.", schemaRef("UserList")) },
  });
  spec.operation("get", "/users/{user_id}", {
    id: "getUser",
    tag: "users",
    summary: "Get a user",
    description: "Returns a user's profile.",
    responses: { 200: jsonResponse("The user.", schemaRef("User")) },
  });

  // invitations -----------------------------------------------------------------
  resource(spec, {
    tag: "invitations",
    noun: "invitation",
    name: "Invitation",
    collection: "/invitations",
    item: "/invitations/{invitation_id}",
    ops: ["list", "create", "get", "delete"],
    description: "A pending invitation to join the organization.",
    required: ["email", "role", "status"],
    createRequired: ["email"],
    fields: {
      email: email("Who is invited."),
      role: oneOfValues(["admin", "member", "guest"], "Organization role they get on accepting.", { default: "member" }),
      team_ids: list(uuid("Team ID."), "Teams they join on accepting.", { uniqueItems: true }),
      message: nullable(str("Personal note included in the invitation email.", { maxLength: 1000 })),
      status: readOnly(oneOfValues(["pending", "accepted", "expired", "revoked"], "Invitation state.")),
      invited_by: readOnly(uuid("Who sent the invitation.")),
      expires_at: readOnly(dateTime("When the invitation link stops working.")),
    },
    filters: [query("status", "Only invitations in this state.", oneOfValues(["pending", "accepted", "expired", "revoked"]))],
    summaries: { create: "Invite someone by email", delete: "Revoke an invitation" },
    ids: { delete: "revokeInvitation" },
    describe: {
      list: "Lists invitations, pending ones first.",
      create: "Sends an invitation email so someone can join the organization with the given role and teams.",
      get: "Returns an invitation and its state.",
      delete: "Revokes a pending invitation so its link no longer works.",
    },
  });
  spec.operation("post", "/invitations/{invitation_id}/resend", {
    id: "resendInvitation",
    tag: "invitations",
    summary: "Resend an invitation",
    description: "Sends the invitation email again and extends its expiry by 7 days.",
    responses: { 200: jsonResponse("The invitation.", schemaRef("Invitation")) },
    errors: [409],
  });
}
