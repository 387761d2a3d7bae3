/**
 * Where the browser tests write their screenshots. Every run takes all of them; by default they go
 * to test-results/screenshots/<folder>/ (ignored by git), to look at after a run, so a test run
 * leaves docs/ alone. With COUNTERSIGN_SCREENSHOTS=docs (`make screenshots`) they go to
 * docs/<folder>/ instead: the images the README and the docs show.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../src/console/server.js";

export const SCREENSHOTS_ENV = "COUNTERSIGN_SCREENSHOTS";

/** A folder or file name: lowercase words and dashes, so it can never leave its folder. */
const PLAIN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Whether this run writes the docs images. Unset or empty: no; "docs": yes; anything else is refused. */
export function docsScreenshots(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[SCREENSHOTS_ENV];
  if (value === undefined || value === "") return false;
  if (value === "docs") return true;
  throw new Error(`${SCREENSHOTS_ENV}=${JSON.stringify(value)} is not understood: set it to "docs" to write docs/, or leave it unset`);
}

/**
 * The screenshots of one docs folder (`console`, `oauth`, …): returns `name` → the PNG's path,
 * creating the folder on first use.
 */
export function screenshots(folder: string, env: NodeJS.ProcessEnv = process.env, root: string = repoRoot()): (name: string) => string {
  if (!PLAIN.test(folder)) throw new Error(`screenshot folder ${JSON.stringify(folder)}: lowercase words and dashes only`);
  const dir = docsScreenshots(env) ? join(root, "docs", folder) : join(root, "test-results", "screenshots", folder);
  return (name) => {
    if (!PLAIN.test(name)) throw new Error(`screenshot name ${JSON.stringify(name)}: lowercase words and dashes only`);
    mkdirSync(dir, { recursive: true });
    return join(dir, `${name}.png`);
  };
}
