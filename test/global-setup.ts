/** Builds dist/ once so tests that spawn the real CLI run the current code. */
import { execFileSync } from "node:child_process";

export default function setup(): void {
  if (process.env.COUNTERSIGN_SKIP_BUILD === "1") return;
  execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
}
