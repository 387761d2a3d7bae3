/** Builds dist/ and its runtime bundle once so tests that spawn the real CLI run the current code. */
import { execFileSync } from "node:child_process";

export default function setup(): void {
  if (process.env.COUNTERSIGN_SKIP_BUILD === "1") return;
  execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
  // The bundled runtime bin/countersign.js starts stdio and serve from (scripts/bundle.js).
  execFileSync(process.execPath, ["scripts/bundle.js"], { stdio: "inherit" });
}
