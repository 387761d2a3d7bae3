import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderConfigDoc, sectionTable } from "../src/config/doc.js";
import { SETTINGS } from "../src/config/settings.js";

const template = readFileSync("scripts/config-doc.template.md", "utf8");
const committed = readFileSync("docs/configuration.md", "utf8");

describe("docs/configuration.md", () => {
  it("is what the settings table renders (rerun `node scripts/config-doc.js` after changing the table)", () => {
    expect(committed).toBe(renderConfigDoc(template));
  });

  it("documents every setting with its key, variable, flag and default", () => {
    for (const s of SETTINGS) {
      expect(committed).toContain(`\`${s.type === "tiers" ? `${s.key}.<name>` : s.key}\``);
      if (s.env) expect(committed).toContain(`\`${s.env}\``);
      if (s.flag) expect(committed).toContain(`\`--${s.flag}\``);
    }
    expect(sectionTable("http")).toMatch(/\| `http.port` \| `COUNTERSIGN_PORT` or `PORT` \| `--port` \(serve, demo\) \| integer, 0–65535 \| 8787 \|/);
    expect(sectionTable("limits")).toContain("`confirm.ttlMs` (deprecated: `confirm.ttlSeconds` in seconds)");
  });

  it("refuses a template that leaves a section out or names an unknown one", () => {
    expect(() => renderConfigDoc(template.replace("<!-- settings:audit -->", ""))).toThrow(/sections not placed: audit/);
    expect(() => renderConfigDoc(`${template}\n<!-- settings:nope -->\n`)).toThrow(/unknown section 'nope'/);
  });

  it("the check the Makefile runs fails on a file that differs, and passes on the rendered one", () => {
    const dir = mkdtempSync(join(tmpdir(), "cs-doc-"));
    const stale = join(dir, "configuration.md");
    writeFileSync(stale, committed.replace("| 8787 |", "| 8080 |"));
    const failed = spawnSync(process.execPath, ["scripts/config-doc.js", "--check", "--file", stale], { encoding: "utf8" });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/is stale \(first difference at line \d+\); run `node scripts\/config-doc.js`/);
    expect(failed.stderr).toContain("8787");
    const fresh = join(dir, "fresh.md");
    execFileSync(process.execPath, ["scripts/config-doc.js", "--file", fresh]);
    expect(readFileSync(fresh, "utf8")).toBe(committed);
    expect(spawnSync(process.execPath, ["scripts/config-doc.js", "--check", "--file", fresh]).status).toBe(0);
  });
});
