/** Atomic output: write a sibling temp folder, then swap it in; `--check` compares in memory. */
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

/** Replaces `dir` with exactly `files`; on failure the old folder is left as it was. */
export async function writeAtomically(dir: string, files: ReadonlyMap<string, string>): Promise<void> {
  const abs = path.resolve(dir);
  const parent = path.dirname(abs);
  await mkdir(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(abs)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  const old = path.join(parent, `.${path.basename(abs)}.old-${process.pid}-${Date.now().toString(36)}`);
  try {
    await mkdir(tmp);
    for (const [name, text] of [...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      await writeFile(path.join(tmp, name), text);
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  let moved = false;
  try {
    await rename(abs, old);
    moved = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }
  try {
    await rename(tmp, abs);
  } catch (err) {
    if (moved) await rename(old, abs).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  if (moved) await rm(old, { recursive: true, force: true });
}

/** Files under `dir` that differ from `files`: changed, missing or extra. Empty when up to date. */
export async function staleFiles(dir: string, files: ReadonlyMap<string, string>): Promise<string[]> {
  const stale: string[] = [];
  let present: string[] = [];
  try {
    present = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name);
  } catch {
    present = [];
  }
  for (const [name, text] of files) {
    let current: string | undefined;
    try {
      current = await readFile(path.join(dir, name), "utf8");
    } catch {
      current = undefined;
    }
    if (current === undefined) stale.push(`${name} (missing)`);
    else if (current !== text) stale.push(`${name} (differs)`);
  }
  for (const name of present) if (!files.has(name)) stale.push(`${name} (not generated any more)`);
  return stale.sort();
}
