// The tree's own rules, checked by `make check`: no source file over 450 lines (split it by
// responsibility) and no import cycle in src/ or codegen/ (contracts live apart from implementations).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import madge from "madge";

const MAX_LINES = 450;
const ROOTS = ["src", "codegen"];

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

let failed = false;
for (const file of ROOTS.flatMap(files)) {
  const lines = readFileSync(file, "utf8").split("\n").length - 1;
  if (lines > MAX_LINES) {
    console.error(`${file}: ${lines} lines (at most ${MAX_LINES}: split it by responsibility)`);
    failed = true;
  }
}
const graph = await madge(ROOTS, { fileExtensions: ["ts"], tsConfig: "tsconfig.json" });
const cycles = graph.circular();
for (const cycle of cycles) console.error(`import cycle: ${cycle.join(" > ")}`);
if (cycles.length > 0) failed = true;
if (failed) process.exit(1);
console.log(`tree: every file in ${ROOTS.join(", ")} has at most ${MAX_LINES} lines; ${Object.keys(graph.obj()).length} modules, no import cycle`);
