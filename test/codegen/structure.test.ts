/** The generator's layout: small files, one transform per OpenAPI object, and no import cycles. */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve("codegen");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : [],
  );
}

/** Relative imports of one file, as absolute .ts paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^\s*(?:import|export)[^;]*?from\s+"(\.{1,2}\/[^"]+)\.js"/gm)].map((m) => path.resolve(path.dirname(file), `${m[1]}.ts`));
}

/** A cycle in the import graph, as a list of files, or undefined. */
function findCycle(files: string[], edges: (file: string) => string[] = importsOf): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const trail: string[] = [];
  const visit = (f: string): string[] | undefined => {
    if (state.get(f) === "done") return undefined;
    if (state.get(f) === "open") return [...trail.slice(trail.indexOf(f)), f];
    state.set(f, "open");
    trail.push(f);
    for (const dep of edges(f)) {
      const c = visit(dep);
      if (c) return c;
    }
    trail.pop();
    state.set(f, "done");
    return undefined;
  };
  for (const f of files) {
    const c = visit(f);
    if (c) return c.map((x) => path.relative(ROOT, x));
  }
  return undefined;
}

describe("codegen layout", () => {
  const files = sources(ROOT);

  it("keeps every file under 450 lines", () => {
    const long = files.map((f) => [path.relative(ROOT, f), readFileSync(f, "utf8").split("\n").length - 1] as const).filter(([, n]) => n > 450);
    expect(long).toEqual([]);
  });

  it("has one transform per OpenAPI object, each citing its spec section", () => {
    for (const name of ["paths", "operation", "parameter", "request-body", "media-type", "responses", "security", "servers"]) {
      const text = readFileSync(path.join(ROOT, "transform", `${name}.ts`), "utf8");
      expect(text, name).toMatch(/^\/\*\* .*\(§4\.8\.\d+\)/);
    }
  });

  it("has no import cycles", () => {
    expect(findCycle(files)).toBeUndefined();
  });

  it("reports a cycle when there is one (the checker itself works)", () => {
    const schema = path.join(ROOT, "schema.ts");
    const merge = path.join(ROOT, "schema-merge.ts");
    expect(importsOf(schema)).toContain(merge);
    // The real edges plus a made-up one back from schema-merge.ts to schema.ts.
    const withBackEdge = (f: string): string[] => (f === merge ? [...importsOf(f), schema] : importsOf(f));
    expect(findCycle([schema, merge], withBackEdge)).toEqual(["schema.ts", "schema-merge.ts", "schema.ts"]);
  });
});
