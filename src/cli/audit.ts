/**
 * `countersign audit tail | query`: read the audit trail an operator trusts, straight from the
 * JSON Lines files in the data dir (so it works whether or not a gateway is running).
 */
import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { AuditRecord } from "../context.js";
import { loadConfig } from "../config.js";
import { auditDir } from "../audit/setup.js";
import { CURRENT_FILE, listAuditFiles, readAuditDir, readAuditFile } from "../stores/audit-file-sink.js";
import type { AuditFilter } from "../stores/audit-sink.js";
import type { RedisAuditStream } from "../stores/redis/audit-stream.js";
import { didYouMean } from "../config/suggest.js";


/** Outcomes the audit trail stores (src/audit/outcome.ts). */
export const STORED_OUTCOMES = [
  "ok",
  "pending",
  "executed",
  "already_executed",
  "executing",
  "failed",
  "not_executed",
  "unknown",
  "cancelled",
  "expired",
  "denied",
  "unauthorized",
  "rate_limited",
  "invalid",
  "not_found",
  "confirmation_invalid",
  "conflict",
  "upstream_error",
  "upstream_unavailable",
  "unavailable",
  "error",
] as const;

/** Error codes (the README's error table) whose stored outcome has another name. */
export const OUTCOME_ALIASES: Readonly<Record<string, (typeof STORED_OUTCOMES)[number]>> = {
  forbidden: "denied",
  invalid_arguments: "invalid",
  bad_request: "invalid",
  header_mismatch: "invalid",
  payload_too_large: "invalid",
  internal: "error",
};

/** Activity types of audit records. */
export const ACTIVITY_TYPES = ["tool_call", "pending", "confirmed", "cancelled", "expired", "rate_limited", "denied"] as const;

/** The stored outcome `--outcome value` asks for; a usage error listing the valid ones otherwise. */
export function outcomeFilter(value: string): string {
  const v = value.trim().toLowerCase();
  if ((STORED_OUTCOMES as readonly string[]).includes(v)) return v;
  const alias = OUTCOME_ALIASES[v];
  if (alias) return alias;
  throw new UsageError(
    `--outcome: unknown outcome ${JSON.stringify(value)}${didYouMean(v, [...STORED_OUTCOMES, ...Object.keys(OUTCOME_ALIASES)])}; valid: ${STORED_OUTCOMES.join(", ")}, or the error codes ${Object.keys(OUTCOME_ALIASES).join(", ")}`,
  );
}

function typeFilter(value: string): string {
  const v = value.trim().toLowerCase();
  if ((ACTIVITY_TYPES as readonly string[]).includes(v)) return v;
  throw new UsageError(`--type: unknown type ${JSON.stringify(value)}${didYouMean(v, ACTIVITY_TYPES)}; valid: ${ACTIVITY_TYPES.join(", ")}`);
}

const USAGE = `usage:
  countersign audit tail [-n N] [--follow] [--json]
  countersign audit query [--token ID] [--tool T] [--outcome O] [--type T] [--since T] [--limit N] [--json]

  --since takes an ISO time (2026-05-01T09:00:00Z) or an age: 30s, 15m, 2h, 7d.
  --outcome takes a stored outcome (${STORED_OUTCOMES.join(", ")})
  or an error code, read as the outcome it is stored as (${Object.entries(OUTCOME_ALIASES).map(([code, outcome]) => `${code} → ${outcome}`).join(", ")}).
  --type takes ${ACTIVITY_TYPES.join(", ")}.
  Reads the audit files in the data dir's audit/ folder (COUNTERSIGN_DATA_DIR, --data-dir, or
  audit.dir in the config file), or the Redis stream when REDIS_URL is set (distributed mode).
  Also takes --data-dir DIR and --config FILE.
`;

/** Where the command writes, and what stops --follow (tests pass their own). */
export interface AuditIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => number;
  /** Ends --follow; by default SIGINT/SIGTERM. */
  readonly signal?: AbortSignal;
  /** Aborted when stdout's reader has gone (`audit query | head`): stop quietly. */
  readonly closed?: AbortSignal;
  readonly pollMs?: number;
}

class UsageError extends Error {}

const OPTIONS = {
  json: { type: "boolean" },
  follow: { type: "boolean", short: "f" },
  lines: { type: "string", short: "n" },
  token: { type: "string" },
  tool: { type: "string" },
  outcome: { type: "string" },
  type: { type: "string" },
  since: { type: "string" },
  limit: { type: "string" },
  config: { type: "string" },
  "data-dir": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Parses `--since`: an ISO instant or an age like 15m (relative to `now`). */
export function parseSince(value: string, now: number): Date {
  const age = /^(\d+)\s*(s|m|h|d|w)$/.exec(value.trim());
  if (age) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[age[2] as "s" | "m" | "h" | "d" | "w"];
    return new Date(now - Number(age[1]) * unit * 1000);
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError(`--since: expected an ISO time or an age like 15m, 2h, 7d; got ${JSON.stringify(value)}`);
  return new Date(t);
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${name}: expected a positive integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** One record as a line a person reads in a terminal. */
export function formatRecord(r: AuditRecord): string {
  const who = r.subject ? `${r.tokenId ?? "-"}(${r.subject})` : (r.tokenId ?? "-");
  const ms = r.durationMs === undefined ? "" : `${r.durationMs.toFixed(1)}ms`;
  const status = r.upstreamStatus === undefined ? "" : ` ${r.upstreamStatus}`;
  return [r.ts, (r.outcome ?? "").padEnd(16), (r.tool || "-").padEnd(24), who.padEnd(20), `${ms}${status}`.padEnd(12), r.summary ?? ""].join(" ").trimEnd();
}

/** Runs `countersign audit …`; resolves to the exit code (0 ok, 1 failed, 2 usage). */
export async function run(argv: string[], io: AuditIo = defaultIo()): Promise<number> {
  const [sub, ...rest] = argv;
  let stream: RedisAuditStream | undefined;
  try {
    if (!sub || sub === "--help" || sub === "-h" || sub === "help") {
      io.stdout(USAGE);
      return sub ? 0 : 2;
    }
    let values: ReturnType<typeof parse>["values"];
    try {
      ({ values } = parse(rest));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (values.help) {
      io.stdout(USAGE);
      return 0;
    }
    const config = loadConfig({ config: values.config, "data-dir": values["data-dir"] }, io.env, { warn: (m) => io.stderr(`countersign: warning: ${m}\n`) });
    const dir = auditDir(config);
    // Which trail is read, on stderr: stdout stays records only, for pipes and --json.
    io.stderr(`countersign audit: reading ${config.redis.url ? `the Redis stream (key prefix ${config.redis.keyPrefix})` : dir}\n`);
    // Distributed mode: the trail of every replica is the Redis stream.
    if (config.redis.url) stream = await (await import("../stores/redis/redis-stores.js")).openRedisAuditStream(config);
    const print = (r: AuditRecord) => io.stdout(`${values.json ? JSON.stringify(r) : formatRecord(r)}\n`);
    switch (sub) {
      case "tail": {
        const n = positiveInt("-n", values.lines, 20);
        for (const r of stream ? await stream.query({ limit: n }) : await readAuditDir(dir, { limit: n })) print(r);
        const until = () => ({ pollMs: io.pollMs, signal: AbortSignal.any([io.signal ?? untilInterrupted(), ...(io.closed ? [io.closed] : [])]) });
        if (values.follow) await (stream ? stream.follow(print, until()) : follow(dir, print, until()));
        return 0;
      }
      case "query": {
        const filter: AuditFilter = {};
        if (values.token) filter.tokenId = values.token;
        if (values.tool) filter.tool = values.tool;
        if (values.outcome) filter.outcome = outcomeFilter(values.outcome);
        if (values.type) filter.type = typeFilter(values.type);
        if (values.since) filter.since = parseSince(values.since, io.now());
        if (values.limit !== undefined) filter.limit = positiveInt("--limit", values.limit, 100);
        for (const r of stream ? await stream.query(filter) : await readAuditDir(dir, filter)) print(r);
        return 0;
      }
      default:
        throw new UsageError(`unknown subcommand '${sub}'`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`countersign audit: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    io.stderr(`countersign audit: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await stream?.close();
  }
}

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true });
}

/**
 * Prints records appended to the current file until `io.signal` aborts. Follows rotation: the old
 * file is drained through its open handle before moving on to the new one.
 */
export async function follow(dir: string, onRecord: (r: AuditRecord) => void, io: Pick<AuditIo, "signal" | "pollMs">): Promise<void> {
  const path = join(dir, CURRENT_FILE);
  const pollMs = io.pollMs ?? 250;
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  let ino = -1;
  let offset = 0;
  let partial = "";
  // Start at the end of the current file: tail has already printed what is there.
  try {
    const s = await stat(path);
    ino = s.ino;
    offset = s.size;
    handle = await open(path, "r");
  } catch {
    // No file yet: wait for the gateway to write one.
  }
  const drain = async () => {
    if (!handle) return;
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      const lines = (partial + buf.subarray(0, bytesRead).toString("utf8")).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (!line) continue;
        try {
          onRecord(JSON.parse(line) as AuditRecord);
        } catch {
          // A torn line: skip it.
        }
      }
    }
  };
  try {
    while (!io.signal?.aborted) {
      await drain();
      const s = await stat(path).catch(() => undefined);
      if (s && s.ino !== ino) {
        // Rotated: whatever was appended before the rename is already drained above. If the
        // writer rotated more than once since the last poll, read the files in between too.
        await drain();
        await handle?.close();
        const files = await listAuditFiles(dir);
        const inodes = await Promise.all(files.map((f) => stat(f).then((x) => x.ino, () => -1)));
        const mine = inodes.indexOf(ino);
        if (mine >= 0) {
          for (const f of files.slice(mine + 1).filter((f) => f !== path)) await readAuditFile(f, onRecord);
        }
        handle = await open(path, "r");
        ino = s.ino;
        offset = 0;
        partial = "";
        continue;
      }
      await sleepUnlessAborted(pollMs, io.signal);
    }
  } finally {
    await handle?.close();
  }
}

/** Waits `ms`, or less when `signal` aborts; leaves no listener behind either way (one per poll would pile up). */
function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Aborts on Ctrl-C / SIGTERM; only installed for --follow so other runs keep the default handling. */
function untilInterrupted(): AbortSignal {
  const controller = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => controller.abort());
  return controller.signal;
}

function defaultIo(): AuditIo {
  // `audit query | head`: once the reader is gone, stop writing and end quietly instead of dying on EPIPE.
  const closed = new AbortController();
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    closed.abort();
  });
  return {
    stdout: (t) => void (closed.signal.aborted || process.stdout.write(t)),
    closed: closed.signal,
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    now: Date.now,
  };
}
