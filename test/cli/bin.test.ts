/**
 * bin/countersign.js picks the bundled runtime for stdio and serve only while it is as new as
 * dist/, and dist/ otherwise. Run on a copy of the bin beside stand-in builds that say which ran.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = mkdtempSync(join(tmpdir(), "cs-bin-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, "bin"));
mkdirSync(join(root, "dist/src/cli"), { recursive: true });
mkdirSync(join(root, "dist/bundle"));
copyFileSync(new URL("../../bin/countersign.js", import.meta.url), join(root, "bin/countersign.js"));
writeFileSync(join(root, "package.json"), JSON.stringify({ type: "module" }));
writeFileSync(join(root, "dist/src/cli/main.js"), 'export async function main(argv) { process.stdout.write(`dist ${argv.join(" ")}`); return 3; }\n');
for (const cmd of ["stdio", "serve"]) {
  writeFileSync(join(root, `dist/bundle/${cmd}.js`), `export async function run(argv) { process.stdout.write(\`bundle ${cmd} \${argv.join(" ")}\`); return 4; }\n`);
}

function setTimes(bundleSeconds: number, distSeconds: number): void {
  for (const cmd of ["stdio", "serve"]) utimesSync(join(root, `dist/bundle/${cmd}.js`), bundleSeconds, bundleSeconds);
  utimesSync(join(root, "dist/src/cli/main.js"), distSeconds, distSeconds);
}

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(root, "bin/countersign.js"), ...args], { encoding: "utf8", env: { ...process.env, COUNTERSIGN_NO_BUNDLE: "", ...env } });
  return { out: r.stdout, code: r.status };
}

describe("bin/countersign.js", () => {
  it("starts stdio and serve from a bundle at least as new as dist/, with their arguments and exit code", () => {
    setTimes(2_000_000_000, 1_900_000_000);
    expect(run(["stdio", "--mode", "all"])).toEqual({ out: "bundle stdio --mode all", code: 4 });
    expect(run(["serve", "--port", "0"])).toEqual({ out: "bundle serve --port 0", code: 4 });
  });

  it("runs every other command, a stale bundle and COUNTERSIGN_NO_BUNDLE=1 from dist/", () => {
    setTimes(2_000_000_000, 1_900_000_000);
    expect(run(["tokens", "list"])).toEqual({ out: "dist tokens list", code: 3 });
    expect(run(["stdio"], { COUNTERSIGN_NO_BUNDLE: "1" })).toEqual({ out: "dist stdio", code: 3 });
    setTimes(1_900_000_000, 2_000_000_000);
    expect(run(["serve", "--port", "0"])).toEqual({ out: "dist serve --port 0", code: 3 });
    rmSync(join(root, "dist/bundle/stdio.js"));
    expect(run(["stdio"])).toEqual({ out: "dist stdio", code: 3 });
  });
});
