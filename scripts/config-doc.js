#!/usr/bin/env node
// Writes docs/configuration.md from the settings table (src/config/settings.ts, built into dist/)
// and scripts/config-doc.template.md. `--check` writes nothing and exits 1 when the file differs
// (`make check`); `--file PATH` compares or writes another file.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = new URL("../", import.meta.url);
const { values } = parseArgs({ options: { check: { type: "boolean" }, file: { type: "string" } }, strict: true });
const target = values.file ?? fileURLToPath(new URL("docs/configuration.md", root));

let render;
try {
  ({ renderConfigDoc: render } = await import(new URL("dist/src/config/doc.js", root).href));
} catch (err) {
  process.stderr.write(`config-doc: cannot load the built settings table (run \`make build\` first): ${err.message}\n`);
  process.exit(2);
}
const expected = render(readFileSync(new URL("scripts/config-doc.template.md", root), "utf8"));

if (values.check) {
  let actual = "";
  try {
    actual = readFileSync(target, "utf8");
  } catch {
    // Missing counts as different.
  }
  if (actual !== expected) {
    const a = actual.split("\n");
    const e = expected.split("\n");
    let line = 0;
    while (line < a.length && line < e.length && a[line] === e[line]) line++;
    process.stderr.write(
      `config-doc: ${target} is stale (first difference at line ${line + 1}); run \`node scripts/config-doc.js\` and commit it\n` +
        `  expected: ${e[line] ?? "(end of file)"}\n  found:    ${a[line] ?? "(end of file)"}\n`,
    );
    process.exit(1);
  }
  process.stdout.write(`${target} is up to date\n`);
} else {
  writeFileSync(target, expected);
  process.stdout.write(`wrote ${target}\n`);
}
