/**
 * REDIS_URL forms the distributed mode accepts, parsed into a typed target (no I/O, no ioredis
 * import, so config validation can use it cheaply):
 *
 *   redis://[user:password@]host[:port][/db]                 one server (rediss:// for TLS)
 *   redis+cluster://[user:password@]host:port[,host:port…]    Redis Cluster seed nodes (rediss+cluster:// for TLS)
 *   redis+sentinel://[user:password@]host:port[,host:port…]/master-name[/db][?sentinelPassword=…]
 *                                                             Sentinel set; the password is the master's
 *
 * Ports default to 6379 (26379 for sentinels). ioredis does the connecting: `Redis` for one
 * server and for Sentinel, `Cluster` for cluster nodes.
 */

/** A host and port. */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** Where Redis lives, as parsed from REDIS_URL. */
export type RedisTarget =
  | { readonly kind: "standalone"; readonly url: string; readonly tls: boolean }
  | { readonly kind: "cluster"; readonly nodes: readonly RedisNode[]; readonly username?: string; readonly password?: string; readonly tls: boolean }
  | {
      readonly kind: "sentinel";
      readonly sentinels: readonly RedisNode[];
      readonly name: string;
      readonly db: number;
      readonly username?: string;
      readonly password?: string;
      readonly sentinelPassword?: string;
      readonly tls: boolean;
    };

/** A parsed target, or what is wrong with the URL. */
export type RedisUrlResult = { readonly ok: true; readonly target: RedisTarget } | { readonly ok: false; readonly error: string };

const MULTI_HOST = /^(rediss?)\+(cluster|sentinel):\/\/(?:([^@/]*)@)?([^/?#]+)(\/[^?#]*)?(\?[^#]*)?$/;

/** Parses REDIS_URL; the error says which part is wrong (never echoing the password). */
export function parseRedisUrl(raw: string): RedisUrlResult {
  const text = raw.trim();
  if (text === "") return { ok: false, error: "is empty" };
  const multi = MULTI_HOST.exec(text);
  if (multi) return parseMultiHost(multi);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, error: "is not a valid URL (expected redis://host:port, redis+cluster://… or redis+sentinel://…)" };
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    return { ok: false, error: `has an unsupported scheme ${url.protocol} (use redis:, rediss:, redis+cluster: or redis+sentinel:)` };
  }
  if (!url.hostname) return { ok: false, error: "names no host" };
  const db = url.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db)) return { ok: false, error: `has a database path '/${db}' that is not a number` };
  return { ok: true, target: { kind: "standalone", url: text, tls: url.protocol === "rediss:" } };
}

function parseMultiHost(m: RegExpExecArray): RedisUrlResult {
  const [, scheme, kind, auth, hostList, path, query] = m;
  const tls = scheme === "rediss";
  const defaultPort = kind === "sentinel" ? 26379 : 6379;
  const nodes: RedisNode[] = [];
  for (const part of hostList!.split(",")) {
    const node = parseNode(part.trim(), defaultPort);
    if (!node) return { ok: false, error: `has a bad host '${part}' (expected host or host:port)` };
    nodes.push(node);
  }
  const { username, password } = parseAuth(auth);
  const params = new URLSearchParams(query ?? "");
  if (kind === "cluster") {
    if (path && path !== "/") return { ok: false, error: "redis+cluster:// takes no path (Redis Cluster has only database 0)" };
    return { ok: true, target: { kind: "cluster", nodes, tls, ...(username ? { username } : {}), ...(password ? { password } : {}) } };
  }
  const segments = (path ?? "").split("/").filter(Boolean);
  if (segments.length === 0) return { ok: false, error: "redis+sentinel:// needs the master name as its path (redis+sentinel://host:26379/mymaster)" };
  if (segments.length > 2 || (segments[1] !== undefined && !/^\d+$/.test(segments[1]))) {
    return { ok: false, error: "redis+sentinel:// path must be /master-name or /master-name/db" };
  }
  const sentinelPassword = params.get("sentinelPassword") ?? undefined;
  return {
    ok: true,
    target: {
      kind: "sentinel",
      sentinels: nodes,
      name: decodeURIComponent(segments[0]!),
      db: segments[1] === undefined ? 0 : Number(segments[1]),
      tls,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...(sentinelPassword ? { sentinelPassword } : {}),
    },
  };
}

function parseNode(text: string, defaultPort: number): RedisNode | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(text);
  if (!m) return undefined;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port };
}

function parseAuth(auth: string | undefined): { username?: string; password?: string } {
  if (!auth) return {};
  const i = auth.indexOf(":");
  const user = decodeURIComponent(i === -1 ? auth : auth.slice(0, i));
  const pass = i === -1 ? undefined : decodeURIComponent(auth.slice(i + 1));
  // `redis://:secret@host` is the password-only form.
  return { ...(user ? { username: user } : {}), ...(pass ? { password: pass } : {}) };
}

/** A key prefix must be non-empty printable text without spaces or braces (braces are hash tags). */
export function checkKeyPrefix(prefix: string): string | undefined {
  if (prefix.length === 0 || prefix.length > 64) return "must be 1 to 64 characters";
  if (!/^[A-Za-z0-9:._-]+$/.test(prefix)) return "may use only letters, digits and : . _ -";
  return undefined;
}
