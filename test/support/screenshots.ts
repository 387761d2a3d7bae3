/**
 * Where the browser tests write their screenshots. Every run takes all of them; by default they go
 * to test-results/screenshots/<folder>/ (ignored by git), to look at after a run, so a test run
 * leaves docs/ alone. With COUNTERSIGN_SCREENSHOTS=docs (`make screenshots`) they go to
 * docs/<folder>/ instead: the images the README and the docs show, taken on a fixed clock
 * (`steadyClock`) so their dates and the sample API's seeded data stay the same from run to run.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { vi } from "vitest";
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

/**
 * The instant the docs screenshots start at. In the past on purpose: the file stores judge a lock
 * or a peer stale by its age against the real mtime, and a clock behind the disk's never does.
 */
export const DOCS_TIME = new Date("2026-03-02T09:30:00Z");

/**
 * Under `make screenshots`, starts this process's `Date` at DOCS_TIME, running at normal speed from
 * there (timers stay real), for the gateway and the sample API the test starts afterwards: the
 * pages show the same day and the upstream seeds the same records (the seed depends on the week).
 * The console formats only the times the server sends, so the browser's own clock is left alone.
 * Returns the function that puts the real clock back.
 */
export function steadyClock(env: NodeJS.ProcessEnv = process.env): () => void {
  if (!docsScreenshots(env)) return () => undefined;
  vi.useFakeTimers({ toFake: ["Date"], now: DOCS_TIME, shouldAdvanceTime: true });
  return () => void vi.useRealTimers();
}
