/**
 * `countersign admins create | link | list`: the people who sign in to the console. An admin
 * credential is printed once at creation (only its hash is stored); a sign-in link works once and
 * for ten minutes.
 */
import { parseArgs } from "node:util";
import { loadConfig, type Config } from "../config.js";
import { createAdminFileStore, LINK_TTL_MS, type AdminStore, type MemberLimits } from "../console/admins.js";
import { loadRegistry } from "../registry.js";

const USAGE = `usage:
  countersign admins create --name NAME [--json]
  countersign admins create --name NAME --member [--modules a,b] [--read-only] [--max-days N] [--json]
  countersign admins link [--name NAME] [--url BASE] [--json]
  countersign admins list [--json]

  create mints an admin credential (csa_…), shown once: send it as 'Authorization: Bearer' to
  /console/api for automation. link prints a one-time console sign-in link (valid ${LINK_TTL_MS / 60_000} minutes);
  --url is the gateway's address as the browser reaches it (default http://HOST:PORT from the config).
  --member makes a console member instead: they may only allow OAuth clients, within the modules,
  read-only rule and longest expiry (days, default 30) given here, and see and revoke their own grants.
  Admins live in COUNTERSIGN_DATA_DIR (default ./.data), file admins.json.
`;

/** Where the command writes (tests pass their own). */
export interface AdminsIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

const defaultIo: AdminsIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), env: process.env };

class UsageError extends Error {}

/** The sign-in URL for a link secret. */
export function signInUrl(base: string, secret: string): string {
  return `${base.replace(/\/+$/, "")}/console/signin?t=${encodeURIComponent(secret)}`;
}

/** The gateway's base URL from the config (what `serve` listens on). */
export function baseUrl(config: Config): string {
  const host = config.http.host === "0.0.0.0" || config.http.host === "::" ? "127.0.0.1" : config.http.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${config.http.port}`;
}

/** Runs `countersign admins …`; resolves to the exit code (0 ok, 1 failed, 2 usage). */
export async function run(argv: string[], io: AdminsIo = defaultIo): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (!sub || sub === "--help" || sub === "-h") {
      io.stdout(USAGE);
      return sub ? 0 : 2;
    }
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        name: { type: "string" },
        url: { type: "string" },
        json: { type: "boolean" },
        config: { type: "string" },
        "data-dir": { type: "string" },
        member: { type: "boolean" },
        modules: { type: "string" },
        "read-only": { type: "boolean" },
        "max-days": { type: "string" },
      },
    });
    if (positionals.length > 0) throw new UsageError(`${sub} takes no positional arguments (got ${positionals.join(" ")})`);
    const config = loadConfig({ config: values.config, "data-dir": values["data-dir"] }, io.env);
    const store = createAdminFileStore({ dir: config.dataDir });
    switch (sub) {
      case "create":
        return await create(store, config, values, io);
      case "link":
        return await link(store, config, values, io);
      case "list":
        return await list(store, values, io);
      default:
        throw new UsageError(`unknown subcommand '${sub}'`);
    }
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    io.stderr(`countersign admins: ${(err as Error).message}\n${usage ? `\n${USAGE}` : ""}`);
    return usage ? 2 : 1;
  }
}

type Values = { name?: string; url?: string; json?: boolean; member?: boolean; modules?: string; "read-only"?: boolean; "max-days"?: string };

/** A member's limits from the flags (module names checked against the generated tools). */
async function memberLimits(config: Config, values: Values): Promise<MemberLimits | undefined> {
  if (!values.member) {
    if (values.modules !== undefined || values["read-only"] || values["max-days"] !== undefined) throw new UsageError("--modules, --read-only and --max-days set a member's limits: add --member");
    return undefined;
  }
  const days = values["max-days"] === undefined ? 30 : Number(values["max-days"]);
  if (!Number.isInteger(days) || days < 1 || days > 365) throw new UsageError(`--max-days must be a whole number of days from 1 to 365, got ${values["max-days"]}`);
  let modules: "all" | string[] = "all";
  if (values.modules !== undefined && values.modules !== "all") {
    modules = [...new Set(values.modules.split(",").map((m) => m.trim()).filter(Boolean))];
    if (modules.length === 0) throw new UsageError("--modules: name at least one module, or all");
    const known = new Set((await loadRegistry(config.generatedDir)).modules.map((m) => m.name));
    const unknown = modules.filter((m) => !known.has(m));
    if (unknown.length > 0) throw new UsageError(`--modules: unknown module ${unknown.join(", ")} (in ${config.generatedDir})`);
  }
  return { modules, readOnly: values["read-only"] === true, maxExpiryDays: days };
}

async function create(store: AdminStore, config: Config, values: Values, io: AdminsIo): Promise<number> {
  if (!values.name?.trim()) throw new UsageError("create needs --name (the person who signs in)");
  const { admin, credential } = await store.create(values.name, await memberLimits(config, values));
  if (values.json) io.stdout(JSON.stringify({ id: admin.id, name: admin.name, createdAt: admin.createdAt, role: admin.role ?? "admin", ...(admin.limits ? { limits: admin.limits } : {}), credential }) + "\n");
  else {
    io.stdout(
      `Created ${admin.role === "member" ? "member" : "admin"} ${admin.name} (${admin.id}).\n\n  ${credential}\n\n` +
        "This is the only time the credential is shown. Use it as 'Authorization: Bearer' on /console/api,\n" +
        `or sign in from a browser with a one-time link: countersign admins link --name ${JSON.stringify(admin.name)}\n`,
    );
  }
  return 0;
}

async function link(store: AdminStore, config: Config, values: Values, io: AdminsIo): Promise<number> {
  const { admin, secret, expiresAt } = await store.createLink(values.name?.trim() || undefined);
  const url = signInUrl(values.url ?? baseUrl(config), secret);
  if (values.json) io.stdout(JSON.stringify({ admin: admin.name, url, expiresAt: expiresAt.toISOString() }) + "\n");
  else io.stdout(`Console sign-in link for ${admin.name} (works once, until ${expiresAt.toISOString()}):\n\n  ${url}\n`);
  return 0;
}

async function list(store: AdminStore, values: Values, io: AdminsIo): Promise<number> {
  const admins = (await store.list()).map((a) => ({ id: a.id, name: a.name, createdAt: a.createdAt, role: a.role ?? "admin", ...(a.limits ? { limits: a.limits } : {}) }));
  if (values.json) io.stdout(JSON.stringify(admins) + "\n");
  else if (admins.length === 0) io.stdout("No admins yet. Create one with: countersign admins create --name NAME\n");
  else io.stdout(admins.map((a) => `${a.id}  ${a.name}  ${a.role}  created ${a.createdAt}`).join("\n") + "\n");
  return 0;
}
