/**
 * Where relative paths are resolved. Defaults (the data dir, `generated/`) are resolved against
 * the package root, the folder holding countersign's package.json, so a command run from a
 * subdirectory or from `/` finds the same tokens and tools as one run from the checkout. An
 * installed copy (inside node_modules) keeps its data in `$XDG_DATA_HOME/countersign` instead
 * (`~/.local/share/countersign`), never inside node_modules.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";

let cachedRoot: string | null | undefined;

/** The folder holding countersign's package.json above this module, or undefined when there is none. */
export function packageRoot(): string | undefined {
  if (cachedRoot !== undefined) return cachedRoot ?? undefined;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name === "countersign") {
          cachedRoot = dir;
          return dir;
        }
      } catch {
        // Not ours (or unreadable): keep looking upwards.
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  cachedRoot = null;
  return undefined;
}

/** Where defaults point. */
export interface DefaultPaths {
  /** What relative defaults (`generated/workspace`, the bundled spec) resolve against: the package root, else the working directory. */
  readonly root: string;
  /** The default data dir: `<root>/.data` for a checkout, `$XDG_DATA_HOME/countersign` for an installed copy. */
  readonly dataDir: string;
}

/** The default paths for this process. */
export function defaultPaths(env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): DefaultPaths {
  const root = packageRoot();
  if (root === undefined) return { root: cwd, dataDir: join(cwd, ".data") };
  if (!root.split(sep).includes("node_modules")) return { root, dataDir: join(root, ".data") };
  const xdg = env.XDG_DATA_HOME?.trim() || join(homedir(), ".local", "share");
  return { root, dataDir: join(xdg, "countersign") };
}
