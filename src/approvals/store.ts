/**
 * The approval records: one per pending action that needs a person, beside the pending-action
 * store (which keeps deciding *whether* an action runs, atomically, across processes and
 * replicas). A record says who asked, when the action entered the inbox, who decided what, and how
 * the webhook deliveries went. The inbox is the records still awaiting a decision.
 *
 * Embedded: one small JSON file per action under `<dataDir>/approvals/`, written atomically, so
 * every process on the data dir sees the same inbox. Redis: one hash (src/approvals/redis-store.ts).
 */
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Approval } from "../../codegen/descriptor.js";
import type { Principal } from "../context.js";
import { writeFileAtomic } from "../stores/fs/atomic-write.js";
import { withFileLock } from "../stores/fs/file-lock.js";
import { createKeyedLock } from "../stores/pending-actions/keyed-lock.js";

/** A person's decision on an action. */
export interface ApprovalDecision {
  readonly verdict: "approved" | "rejected";
  /** The admin's name, as the audit trail names them. */
  readonly by: string;
  readonly adminId: string;
  /** Epoch milliseconds. */
  readonly at: number;
  readonly reason?: string;
  /** What running it gave (approved only): executed, failed, unknown or conflict. */
  readonly outcome?: string;
  /** The message of a refusal at execution (conflict, failure). */
  readonly detail?: string;
}

/** One attempt at notifying the webhook. */
export interface WebhookDelivery {
  readonly at: number;
  readonly ok: boolean;
  readonly attempts: number;
  readonly status?: number;
  readonly error?: string;
}

/** The record of an action that needs a person. */
export interface ApprovalRecord {
  readonly actionId: string;
  readonly tokenId: string;
  /** The requesting token's name. */
  readonly subject: string;
  readonly tool: string;
  readonly approval: Approval;
  /** Epoch milliseconds the action was previewed. */
  readonly requestedAt: number;
  readonly expiresAt: number;
  readonly sessionId?: string;
  /** Who asked, as admission resolved them (never a credential): an approval runs the call as them, re-checked then. */
  readonly principal?: Omit<Principal, "upstreamCredential">;
  /** When it entered the inbox: at creation (`person`) or when the agent confirmed (`both`). */
  readonly awaitingSince?: number;
  readonly decision?: ApprovalDecision;
  readonly delivery?: WebhookDelivery;
}

/** What a record may be changed by after creation. */
export type ApprovalPatch = Partial<Pick<ApprovalRecord, "awaitingSince" | "decision" | "delivery">>;

/** Where approval records live. */
export interface ApprovalStore {
  /** Stores a new record (replacing none: a second put of one id is ignored). */
  put(record: ApprovalRecord): Promise<void>;
  /** Applies a patch; resolves to the record after it, or undefined for an unknown id. */
  update(actionId: string, patch: ApprovalPatch): Promise<ApprovalRecord | undefined>;
  get(actionId: string): Promise<ApprovalRecord | undefined>;
  /** Sets `awaitingSince` if it is not set yet; resolves to the record only for the call that set it (so the inbox is announced once). */
  markAwaiting(actionId: string, at: number): Promise<ApprovalRecord | undefined>;
  /** Every record kept, newest request first. */
  list(): Promise<ApprovalRecord[]>;
  close(): Promise<void>;
}

/** How long decided and expired records are kept (they answer get_action and show in the console). */
export const APPROVAL_RETAIN_MS = 7 * 86_400_000;
const ACTION_ID = /^act_[A-Za-z0-9_-]{1,64}$/;

function newestFirst(a: ApprovalRecord, b: ApprovalRecord): number {
  return b.requestedAt - a.requestedAt || (a.actionId < b.actionId ? 1 : -1);
}

function stale(r: ApprovalRecord, now: number): boolean {
  return now - Math.max(r.expiresAt, r.decision?.at ?? 0) > APPROVAL_RETAIN_MS;
}

/** Approval records in memory (tests; a gateway without a data dir). */
export function createMemoryApprovalStore(now: () => number = Date.now): ApprovalStore {
  const records = new Map<string, ApprovalRecord>();
  return {
    async put(record) {
      if (!records.has(record.actionId)) records.set(record.actionId, record);
    },
    async update(actionId, patch) {
      const r = records.get(actionId);
      if (!r) return undefined;
      const next = { ...r, ...patch };
      records.set(actionId, next);
      return next;
    },
    async get(actionId) {
      return records.get(actionId);
    },
    async markAwaiting(actionId, at) {
      const r = records.get(actionId);
      if (!r || r.awaitingSince !== undefined) return undefined;
      const next = { ...r, awaitingSince: at };
      records.set(actionId, next);
      return next;
    },
    async list() {
      const t = now();
      for (const [id, r] of records) if (stale(r, t)) records.delete(id);
      return [...records.values()].sort(newestFirst);
    },
    async close() {},
  };
}

/** Approval records as files in `<dataDir>/approvals/`. */
export function createFileApprovalStore(dataDir: string, now: () => number = Date.now): ApprovalStore {
  const dir = join(dataDir, "approvals");
  let made: Promise<unknown> | undefined;
  const fileOf = (actionId: string): string => {
    if (!ACTION_ID.test(actionId)) throw new Error(`not an action id: ${JSON.stringify(actionId)}`);
    return join(dir, `${actionId}.json`);
  };
  async function read(actionId: string): Promise<ApprovalRecord | undefined> {
    if (!ACTION_ID.test(actionId)) return undefined;
    try {
      return JSON.parse(await readFile(fileOf(actionId), "utf8")) as ApprovalRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }
  async function write(record: ApprovalRecord): Promise<void> {
    made ??= mkdir(dir, { recursive: true, mode: 0o700 });
    await made;
    await writeFileAtomic(fileOf(record.actionId), JSON.stringify(record));
  }
  // Writes of one record one at a time: in this process by a queue, across the processes sharing
  // the data dir by the record's lock file (a decision and a webhook delivery may race).
  const queue = createKeyedLock();
  function serial<T>(actionId: string, fn: () => Promise<T>): Promise<T> {
    return queue(actionId, async () => {
      made ??= mkdir(dir, { recursive: true, mode: 0o700 });
      await made;
      return withFileLock(`${fileOf(actionId)}.lock`, fn, { what: "approval record" });
    });
  }
  return {
    put: (record) =>
      serial(record.actionId, async () => {
        if (!(await read(record.actionId))) await write(record);
      }),
    update: (actionId, patch) =>
      serial(actionId, async () => {
        const r = await read(actionId);
        if (!r) return undefined;
        const next = { ...r, ...patch };
        await write(next);
        return next;
      }),
    get: read,
    markAwaiting: (actionId, at) =>
      serial(actionId, async () => {
        const r = await read(actionId);
        if (!r || r.awaitingSince !== undefined) return undefined;
        const next = { ...r, awaitingSince: at };
        await write(next);
        return next;
      }),
    async list() {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw err;
      }
      const t = now();
      const out: ApprovalRecord[] = [];
      for (const name of names) {
        if (!name.endsWith(".json")) continue;
        const r = await read(name.slice(0, -5)).catch(() => undefined);
        if (!r) continue;
        if (stale(r, t)) await rm(fileOf(r.actionId), { force: true });
        else out.push(r);
      }
      return out.sort(newestFirst);
    },
    async close() {
      await queue.settled();
    },
  };
}
