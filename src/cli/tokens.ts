/**
 * `countersign tokens create | list | revoke`: token management lives here and only here (it is
 * never an MCP tool). The secret is printed once, at creation; only its SHA-256 is stored.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig, type Config } from "../config.js";
import { openTokenStore, type TokenRecord, type TokenStore } from "../stores/tokens.js";
import { parseExpiry } from "../tokens/duration.js";
import { issueToken } from "../tokens/issue.js";
import { readSecretKey, SECRET_KEY_ENV } from "../tokens/sealed-credential.js";
import { configOptions } from "./flags.js";
import { namespacedName } from "../upstreams/names.js";
import { publicToken, tokenStatus } from "../tokens/view.js";

const USAGE = `usage:
  countersign tokens create --name N [--upstreams a,b] [--modules a,b] [--read-only] [--needs-person] [--tier T] [--expires DURATION]
                            [--upstream-credential X | --upstream-credential -] [--json]
  countersign tokens list [--json]
  countersign tokens revoke ID [--json]

  --upstreams limits the token to those of the config's upstreams: (docs/upstreams.md).
  --expires takes 90m, 12h, 30d, 2w (or an ISO date). --upstream-credential - reads it from stdin;
  it is encrypted with ${SECRET_KEY_ENV}. Every subcommand also takes --data-dir DIR, --generated DIR
  and --config FILE. Tokens live in the data dir (COUNTERSIGN_DATA_DIR; default .data in the
  countersign folder, whatever the working directory), or in Redis when REDIS_URL is set (key
  prefix COUNTERSIGN_REDIS_PREFIX, default countersign:).
`;

/** What the command writes to (tests pass their own). */
export interface TokensIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => Date;
  readonly stdin?: () => Promise<string>;
}

const defaultIo: TokensIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  now: () => new Date(),
  stdin: readStdin,
};

class UsageError extends Error {}

/** Runs `countersign tokens …`; resolves to the exit code (0 ok, 1 failed, 2 usage). */
export async function run(argv: string[], io: TokensIo = defaultIo): Promise<number> {
  const [sub, ...rest] = argv;
  let store: TokenStore | undefined;
  try {
    if (!sub || sub === "--help" || sub === "-h") {
      io.stdout(USAGE);
      return sub ? 0 : 2;
    }
    const { values, positionals } = parse(rest);
    if (values.help) {
      io.stdout(USAGE);
      return 0;
    }
    const config = loadConfig({ config: values.config, "data-dir": values["data-dir"], generated: values.generated }, io.env, { warn: (m) => io.stderr(`countersign: warning: ${m}\n`) });
    store = await openTokenStore({ dataDir: config.dataDir, redis: config.redis });
    switch (sub) {
      case "create":
        return await create(store, config, values, positionals, io);
      case "list":
        return await list(store, config, values, positionals, io);
      case "revoke":
        return await revoke(store, values, positionals, io);
      default:
        throw new UsageError(`unknown subcommand '${sub}'`);
    }
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    io.stderr(`countersign tokens: ${(err as Error).message}\n${usage ? `\n${USAGE}` : ""}`);
    return usage ? 2 : 1;
  } finally {
    await store?.close();
  }
}

type Values = ReturnType<typeof parse>["values"];

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: "string" },
      modules: { type: "string" },
      upstreams: { type: "string" },
      "read-only": { type: "boolean" },
      "needs-person": { type: "boolean" },
      tier: { type: "string" },
      expires: { type: "string" },
      "upstream-credential": { type: "string" },
      json: { type: "boolean" },
      ...(configOptions("tokens") as { config: { type: "string" }; "data-dir": { type: "string" }; generated: { type: "string" }; help: { type: "boolean"; short: "h" } }),
    },
  });
}

async function create(store: TokenStore, config: Config, values: Values, positionals: string[], io: TokensIo): Promise<number> {
  if (positionals.length > 0) throw new UsageError(`create takes no positional arguments (got ${positionals.join(" ")})`);
  const name = values.name?.trim();
  if (!name) throw new UsageError("create needs --name (who holds the token)");
  const modules = parseModules(values.modules, config);
  const upstreams = parseUpstreams(values.upstreams, config);
  const tier = values.tier ?? "default";
  const tiers = tierNames(config);
  if (!tiers.includes(tier)) throw new UsageError(`--tier ${tier}: not defined in the config (rateLimits.tiers has ${tiers.join(", ")})`);
  const now = io.now();
  let expiresAt: string | undefined;
  if (values.expires !== undefined) {
    const expiry = parseExpiry(values.expires, now);
    if (!expiry.ok) throw new UsageError(expiry.reason);
    expiresAt = expiry.expiresAt.toISOString();
  }
  let upstreamCredential: string | undefined;
  const secretKey = readSecretKey({ [SECRET_KEY_ENV]: config.secretKey });
  if (values["upstream-credential"] !== undefined) {
    if (!secretKey.ok) throw new Error(`--upstream-credential needs an encryption key: ${secretKey.reason}`);
    upstreamCredential = values["upstream-credential"] === "-" ? (await (io.stdin ?? readStdin)()).trim() : values["upstream-credential"];
    if (!upstreamCredential) throw new UsageError("--upstream-credential is empty");
  }
  const { token, record } = await issueToken(store, {
    name,
    modules,
    ...(upstreams ? { upstreams } : {}),
    readOnly: values["read-only"] ?? false,
    needsPerson: values["needs-person"] ?? false,
    tier,
    now,
    ...(expiresAt ? { expiresAt: new Date(expiresAt) } : {}),
    ...(upstreamCredential !== undefined ? { upstreamCredential, secretKey } : {}),
  });
  if (values.json) {
    io.stdout(JSON.stringify({ ...describe(record), token }) + "\n");
  } else {
    io.stdout(
      `${where(config)}\n` +
      `Created ${record.id} for ${name}: ${record.upstreams ? `upstreams ${record.upstreams.join(",")}, ` : ""}modules ${scopeText(record)}, ${record.readOnly ? "read-only" : "read-write"}${record.needsPerson ? ", every write needs a person" : ""}, tier ${tier}, ` +
        `${expiresAt ? `expires ${expiresAt}` : "never expires"}${upstreamCredential ? ", own upstream credential" : ""}.\n\n` +
        `  ${token}\n\nThis is the only time the token is shown: store it now. A lost token is revoked and re-minted.\n`,
    );
  }
  return 0;
}

async function list(store: TokenStore, config: Config, values: Values, positionals: string[], io: TokensIo): Promise<number> {
  if (positionals.length > 0) throw new UsageError(`list takes no positional arguments (got ${positionals.join(" ")})`);
  const records = await store.list();
  if (values.json) {
    io.stdout(JSON.stringify(records.map((r) => describe(r, io.now()))) + "\n");
    return 0;
  }
  io.stdout(`${where(config)}\n`);
  if (records.length === 0) {
    io.stdout("No tokens yet. Mint one with: countersign tokens create --name NAME\n");
    return 0;
  }
  const rows = [["ID", "NAME", "MODULES", "ACCESS", "TIER", "CREATED", "LAST USED", "EXPIRES", "STATUS"]];
  for (const r of records) {
    rows.push([r.id, r.name, scopeText(r), r.readOnly ? "read-only" : "read-write", r.tier, r.createdAt, r.lastUsedAt ?? "never", r.expiresAt ?? "never", statusOf(r, io.now())]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  io.stdout(rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd()).join("\n") + "\n");
  return 0;
}

async function revoke(store: TokenStore, values: Values, positionals: string[], io: TokensIo): Promise<number> {
  if (positionals.length !== 1) throw new UsageError("revoke takes exactly one token id (see `countersign tokens list`)");
  const id = positionals[0];
  const before = await store.get(id);
  const record = await store.revoke(id, io.now());
  if (!record) {
    io.stderr(`countersign tokens: no token with id ${id} (see \`countersign tokens list\`)\n`);
    return 1;
  }
  const already = Boolean(before?.revokedAt);
  if (values.json) io.stdout(JSON.stringify({ ...describe(record, io.now()), alreadyRevoked: already }) + "\n");
  else io.stdout(already ? `${id} was already revoked on ${record.revokedAt}.\n` : `Revoked ${id} (${record.name}); running gateways refuse it from the next call.\n`);
  return 0;
}

/** The header naming where the tokens are: a gateway reading another data dir answers `Unknown token`. */
function where(config: Config): string {
  return config.redis.url ? `Tokens in Redis (key prefix ${config.redis.keyPrefix})` : `Tokens in ${join(config.dataDir, "tokens.json")}`;
}

/** The public view of a record: never the hash, never the sealed credential. */
function describe(r: TokenRecord, now?: Date): Record<string, unknown> {
  return publicToken(r, now?.getTime());
}

function statusOf(r: TokenRecord, now: Date): "active" | "revoked" | "expired" {
  return tokenStatus(r, now.getTime());
}

function scopeText(r: TokenRecord): string {
  return r.modules === "all" ? "all" : r.modules.join(",");
}

function parseModules(text: string | undefined, config: Config): "all" | string[] {
  if (text === undefined || text.trim() === "all" || text.trim() === "*") return "all";
  const modules = [...new Set(text.split(",").map((m) => m.trim()).filter(Boolean))];
  if (modules.length === 0) throw new UsageError("--modules needs at least one module name (or 'all')");
  const known = knownModules(config);
  const unknown = known ? modules.filter((m) => !known.includes(m)) : [];
  if (unknown.length > 0) throw new UsageError(`--modules: unknown module ${unknown.join(", ")} (the API has ${known!.join(", ")})`);
  return modules;
}

/** `--upstreams a,b`: names the config's `upstreams:` section holds; undefined (every one) for none or `all`. */
function parseUpstreams(text: string | undefined, config: Config): string[] | undefined {
  if (text === undefined || text.trim() === "all" || text.trim() === "*") return undefined;
  const names = [...new Set(text.split(",").map((m) => m.trim()).filter(Boolean))];
  if (names.length === 0) throw new UsageError("--upstreams needs at least one upstream name (or 'all')");
  const known = config.upstreams.map((u) => u.name);
  if (known.length === 0) throw new UsageError("--upstreams: the configuration names no upstreams (pass the gateway's --config FILE, whose upstreams: section names them)");
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) throw new UsageError(`--upstreams: unknown upstream ${unknown.join(", ")} (the configuration has ${known.join(", ")})`);
  return names;
}

/** Module names of the generated API (or of every upstream), when their manifests are at hand (else any name is taken). */
function knownModules(config: Config): string[] | undefined {
  if (config.upstreams.length > 0) {
    const names: string[] = [];
    for (const u of config.upstreams) {
      const own = u.kind === "openapi" && u.generated ? manifestModules(u.generated) : undefined;
      if (!own) return undefined;
      names.push(...own.map((m) => namespacedName(u.prefix, m)));
    }
    return names;
  }
  return manifestModules(config.generatedDir);
}

function manifestModules(dir: string): string[] | undefined {
  const path = join(dir, "manifest.json");
  if (!existsSync(path)) return undefined;
  try {
    const manifest = JSON.parse(readFileSync(path, "utf8")) as { modules?: { name: string }[] };
    return manifest.modules?.map((m) => m.name);
  } catch {
    return undefined;
  }
}

function tierNames(config: Config): string[] {
  return Object.keys(config.rateLimits.tiers);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
