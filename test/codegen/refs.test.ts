/** $refs across files and over HTTP (only with --allow-remote-refs), on a real local server. */
import { createServer, type Server } from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate } from "../../codegen/generate.js";
import { fixture, generateSpec } from "./helpers.js";

let server: Server;
let base: string;
let dir: string;
let requests = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    if (req.url === "/components.yaml") {
      res.writeHead(200, { "content-type": "application/yaml" });
      res.end("Limit:\n  name: limit\n  in: query\n  schema: { type: integer, minimum: 1 }\n");
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(path.join(tmpdir(), "countersign-refs-"));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

describe("remote $refs", () => {
  it("are refused without the flag (no request made) and fetched with it", async () => {
    const spec = path.join(dir, "remote.json");
    await writeFile(
      spec,
      JSON.stringify({
        openapi: "3.0.3",
        info: { title: "remote", version: "1" },
        paths: { "/items": { get: { operationId: "listItems", parameters: [{ $ref: `${base}/components.yaml#/Limit` }], responses: { "200": { description: "ok" } } } } },
      }),
    );
    // Refused: a warning naming where the reference is, and the parameter is left out.
    const refused = await generate({ specPath: spec, command: "t", upstreamTypes: false });
    expect(refused.ok).toBe(true);
    const refusedWarnings = refused.ok ? refused.summary.warnings.map((w) => `${w.pointer}: ${w.problem}`) : [];
    expect(refusedWarnings[0]).toContain("#/paths/~1items/get/parameters/0: remote $ref");
    expect(refusedWarnings[0]).toContain("is not fetched without --allow-remote-refs");
    expect(refusedWarnings[1]).toMatch(/^#\/paths\/~1items\/get\/parameters\/0: unresolvable \$ref .*document not loaded; parameter ignored$/);
    expect(requests).toBe(0);

    const g = await generateSpec(spec, { allowRemoteRefs: true });
    expect(requests).toBe(1);
    expect(g.tools[0]!.inputSchema.properties).toEqual({ limit: { type: "integer", minimum: 1 } });

    const missing = spec.replace("remote.json", "missing.json");
    await writeFile(missing, JSON.stringify({ openapi: "3.0.3", info: { title: "m", version: "1" }, paths: { "/x": { get: { parameters: [{ $ref: `${base}/nope.yaml#/P` }], responses: {} } } } }));
    const notFound = await generate({ specPath: missing, command: "t", upstreamTypes: false, allowRemoteRefs: true });
    expect(notFound.ok && notFound.summary.warnings.map((w) => w.problem).join("\n")).toMatch(/unresolvable \$ref .*HTTP 404/);
  });
});

describe("relative-file $refs", () => {
  it("reach the tools and the upstream types", async () => {
    const g = await generateSpec(fixture("features-3.0.yaml"), { upstreamTypes: true });
    const create = g.tools.find((t) => t.name === "create_pet")!;
    expect(JSON.stringify(create.inputSchema)).toContain('"street"');
    const upstream = g.files.get("upstream.d.ts")!;
    expect(upstream).not.toContain("No upstream types");
    expect(upstream).toMatch(/street\?: string/);
  }, 60_000);
});

describe("output does not depend on where the checkout lives", () => {
  it("two copies of a spec with a recursive schema in another file generate identical files", async () => {
    const { cp, mkdir } = await import("node:fs/promises");
    const outputs = [];
    for (const name of ["one", "two/deeper"]) {
      const copy = path.join(dir, name);
      await mkdir(copy, { recursive: true });
      for (const f of ["features-3.0.yaml", "features-shared.yaml"]) await cp(fixture(f), path.join(copy, f));
      outputs.push(await generateSpec(path.join(copy, "features-3.0.yaml")));
    }
    const [a, b] = outputs;
    expect([...b!.files.entries()]).toEqual([...a!.files.entries()]);
    const defs = a!.tools.find((t) => t.name === "create_pet")!.inputSchema.$defs as Record<string, unknown>;
    expect(Object.keys(defs)).toEqual([expect.stringMatching(/^Node_[0-9a-f]{8}$/)]);
  });
});
