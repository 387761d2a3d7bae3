/**
 * Admins: the people who sign in to the console. A principal kind of its own: an admin
 * credential (`csa_…`) is never accepted on /mcp, and an agent token (`csk_…`) is never accepted
 * here. Credentials and one-time sign-in links are stored as SHA-256 hashes only, in one JSON file
 * in the data dir (mode 0600), replaced atomically under a lock file so the `countersign admins`
 * CLI and a running gateway can share it.
 */
import { createHash, randomBytes, randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { safeEqualFixed } from "../tokens/safe-equal.js";
import { writeFileAtomic } from "../stores/fs/atomic-write.js";
import { withFileLock } from "../stores/fs/file-lock.js";

/** Prefix of an admin credential (a scanner can spot a leaked one). */
export const ADMIN_PREFIX = "csa_";
/** Prefix of a one-time sign-in link's secret. */
export const LINK_PREFIX = "csl_";
/** The file's name inside the data dir. */
export const ADMIN_FILE = "admins.json";
/** How long a sign-in link stays valid. */
export const LINK_TTL_MS = 10 * 60_000;

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SECRET_LENGTH = 32; // ≈ 190 bits
const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$/;

/**
 * What a member may grant an OAuth client, set by an admin: modules (a subset, or "all"), whether
 * grants must be read-only, and how long a grant may last at most.
 */
export interface MemberLimits {
  readonly modules: "all" | readonly string[];
  readonly readOnly: boolean;
  readonly maxExpiryDays: number;
}

/** One console user, as stored (never the credential). Without a role, an admin. */
export interface AdminRecord {
  readonly id: string;
  readonly name: string;
  /** SHA-256 (hex) of the admin credential. */
  readonly hash: string;
  readonly createdAt: string;
  /** `member`: may only consent to OAuth clients within `limits` and see their own grants. */
  readonly role?: "admin" | "member";
  readonly limits?: MemberLimits;
}

/** A one-time sign-in link, as stored. */
interface LinkRecord {
  readonly hash: string;
  readonly adminId: string;
  readonly expiresAt: string;
}

interface AdminFile {
  version: 1;
  admins: AdminRecord[];
  links: LinkRecord[];
}

/** What a console user looks like to the console (no hash). */
export interface Admin {
  readonly id: string;
  readonly name: string;
  readonly role?: "admin" | "member";
  readonly limits?: MemberLimits;
}

/** Where admins live. */
export interface AdminStore {
  /** Mints an admin (or a member, with its limits); the credential is returned once and only its hash is kept. */
  create(name: string, member?: MemberLimits): Promise<{ admin: AdminRecord; credential: string }>;
  list(): Promise<AdminRecord[]>;
  /** The admin whose credential this is, or undefined. */
  authenticate(credential: string): Promise<Admin | undefined>;
  /** A one-time sign-in secret for the named admin (the only admin when `name` is omitted). */
  createLink(name?: string): Promise<{ admin: Admin; secret: string; expiresAt: Date }>;
  /** Spends a sign-in secret: the admin it signs in, or why not. A secret works once. */
  consumeLink(secret: string): Promise<{ ok: true; admin: Admin } | { ok: false; reason: string }>;
}

/** Options of the file store. */
export interface AdminStoreOptions {
  /** The data dir (COUNTERSIGN_DATA_DIR). */
  readonly dir: string;
  readonly now?: () => number;
}

/** A fresh secret with the given prefix. */
function mint(prefix: string): string {
  let s = prefix;
  for (let i = 0; i < SECRET_LENGTH; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** Whether a string has the shape of a secret with this prefix (checked before any lookup). */
export function hasShape(prefix: string, value: string): boolean {
  return value.length === prefix.length + SECRET_LENGTH && value.startsWith(prefix) && /^[0-9A-Za-z]+$/.test(value.slice(prefix.length));
}

function sha256(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

/** Checks an admin name; returns the problem, or undefined. */
export function checkAdminName(name: string): string | undefined {
  if (!NAME.test(name)) return "an admin name is 1-64 letters, digits, spaces and . _ @ - (starting with a letter or digit)";
  return undefined;
}

/** Opens (or lazily creates) the admin file in `dir`. */
export function createAdminFileStore(options: AdminStoreOptions): AdminStore {
  const path = join(options.dir, ADMIN_FILE);
  const lockPath = `${path}.lock`;
  const now = options.now ?? Date.now;
  let queue: Promise<unknown> = Promise.resolve();

  function read(): AdminFile {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, admins: [], links: [] };
      throw err;
    }
    let data: Partial<AdminFile>;
    try {
      data = JSON.parse(text) as Partial<AdminFile>;
    } catch (err) {
      throw new Error(`admin store ${path} is not valid JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(data.admins)) throw new Error(`admin store ${path} has no "admins" array`);
    return { version: 1, admins: data.admins, links: Array.isArray(data.links) ? data.links : [] };
  }

  function withLock<T>(fn: () => Promise<T>): Promise<T> {
    return withFileLock(lockPath, fn, { what: "admin store" });
  }

  /** Read-modify-write under the lock (serialized within this process too); expired links are dropped. */
  function mutate<T>(change: (file: AdminFile) => T): Promise<T> {
    const run = queue.then(() =>
      withLock(async () => {
        const file = read();
        const at = now();
        file.links = file.links.filter((l) => Date.parse(l.expiresAt) > at);
        const out = change(file);
        await writeFileAtomic(path, JSON.stringify(file, null, 2) + "\n", { durable: true });
        return out;
      }),
    );
    queue = run.catch(() => {});
    return run;
  }

  const pick = (a: AdminRecord): Admin => ({ id: a.id, name: a.name, ...(a.role === "member" ? { role: "member" as const, limits: a.limits ?? { modules: [], readOnly: true, maxExpiryDays: 1 } } : {}) });

  return {
    create(name, member) {
      const trimmed = name.trim();
      const problem = checkAdminName(trimmed);
      if (problem) return Promise.reject(new Error(problem));
      return mutate((file) => {
        if (file.admins.some((a) => a.name === trimmed)) throw new Error(`an admin named '${trimmed}' already exists`);
        const credential = mint(ADMIN_PREFIX);
        const admin: AdminRecord = { id: `adm_${randomBytes(6).toString("hex")}`, name: trimmed, hash: sha256(credential), createdAt: new Date(now()).toISOString(), ...(member ? { role: "member" as const, limits: member } : {}) };
        file.admins.push(admin);
        return { admin, credential };
      });
    },
    async list() {
      return read().admins;
    },
    async authenticate(credential) {
      if (!hasShape(ADMIN_PREFIX, credential)) return undefined;
      const hash = sha256(credential);
      const found = read().admins.find((a) => safeEqualFixed(a.hash, hash));
      return found && pick(found);
    },
    createLink(name) {
      return mutate((file) => {
        let admin: AdminRecord | undefined;
        if (name !== undefined) {
          admin = file.admins.find((a) => a.name === name);
          if (!admin) throw new Error(`no admin named '${name}' (create one with: countersign admins create --name ${JSON.stringify(name)})`);
        } else if (file.admins.length === 1) {
          admin = file.admins[0];
        } else if (file.admins.length === 0) {
          throw new Error("no admins yet: create one with: countersign admins create --name NAME");
        } else {
          throw new Error(`several admins exist (${file.admins.map((a) => a.name).join(", ")}): pass --name`);
        }
        const secret = mint(LINK_PREFIX);
        const expiresAt = new Date(now() + LINK_TTL_MS);
        file.links.push({ hash: sha256(secret), adminId: admin!.id, expiresAt: expiresAt.toISOString() });
        return { admin: pick(admin!), secret, expiresAt };
      });
    },
    async consumeLink(secret) {
      if (!hasShape(LINK_PREFIX, secret)) return { ok: false, reason: "This sign-in link is malformed (was it cut when copied?)." };
      const hash = sha256(secret);
      // Cheap refusal without the lock for a link that is not (or no longer) in the file.
      if (!read().links.some((l) => safeEqualFixed(l.hash, hash))) return { ok: false, reason: "This sign-in link was already used or has expired. Ask for a new one: countersign admins link" };
      return mutate((file) => {
        const i = file.links.findIndex((l) => safeEqualFixed(l.hash, hash));
        if (i < 0) return { ok: false as const, reason: "This sign-in link was already used or has expired. Ask for a new one: countersign admins link" };
        const [link] = file.links.splice(i, 1);
        const admin = file.admins.find((a) => a.id === link!.adminId);
        if (!admin) return { ok: false as const, reason: "The admin this link was made for no longer exists." };
        return { ok: true as const, admin: pick(admin) };
      });
    },
  };
}
