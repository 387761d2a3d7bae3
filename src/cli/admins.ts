/**
 * `countersign admins create | link | list`: the people who sign in to the console. An admin
 * credential is printed once at creation (only its hash is stored); a sign-in link works once and
 * for ten minutes.
 */
import { parseArgs } from "node:util";
import { loadConfig, type Config } from "../config.js";
import { createAdminFileStore, LINK_TTL_MS, type AdminStore } from "../console/admins.js";

const USAGE = `usage:
  countersign admins create --name NAME [--json]
  countersign admins link [--name NAME] [--url BASE] [--json]
  countersign admins list [--json]

  create mints an admin credential (csa_…), shown once: send it as 'Authorization: Bearer' to
  /console/api for automation. link prints a one-time console sign-in link (valid ${LINK_TTL_MS / 60_000} minutes);
  --url is the gateway's address as the browser reaches it (default http://HOST:PORT from the config).
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
      options: { name: { type: "string" }, url: { type: "string" }, json: { type: "boolean" }, config: { type: "string" }, "data-dir": { type: "string" } },
    });
    if (positionals.length > 0) throw new UsageError(`${sub} takes no positional arguments (got ${positionals.join(" ")})`);
    const config = loadConfig({ config: values.config, "data-dir": values["data-dir"] }, io.env);
    const store = createAdminFileStore({ dir: config.dataDir });
    switch (sub) {
      case "create":
        return await create(store, values, io);
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

type Values = { name?: string; url?: string; json?: boolean };

async function create(store: AdminStore, values: Values, io: AdminsIo): Promise<number> {
  if (!values.name?.trim()) throw new UsageError("create needs --name (the person who signs in)");
  const { admin, credential } = await store.create(values.name);
  if (values.json) io.stdout(JSON.stringify({ id: admin.id, name: admin.name, createdAt: admin.createdAt, credential }) + "\n");
  else {
    io.stdout(
      `Created admin ${admin.name} (${admin.id}).\n\n  ${credential}\n\n` +
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
  const admins = (await store.list()).map((a) => ({ id: a.id, name: a.name, createdAt: a.createdAt }));
  if (values.json) io.stdout(JSON.stringify(admins) + "\n");
  else if (admins.length === 0) io.stdout("No admins yet. Create one with: countersign admins create --name NAME\n");
  else io.stdout(admins.map((a) => `${a.id}  ${a.name}  created ${a.createdAt}`).join("\n") + "\n");
  return 0;
}
