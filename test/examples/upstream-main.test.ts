import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Runs the compiled entry point as the README does and waits for its "listening" line. */
function runMain(args: string[]) {
  const child = spawn(process.execPath, ["dist/examples/upstream/main.js", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, ready, exited, stderr: () => err };
}

describe("node dist/examples/upstream/main.js", () => {
  it("serves the spec with its own token, keeps data across runs, and stops on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "upstream-main-"));
    dirs.push(dir);
    const args = ["--spec", "test/fixtures/upstream/mini.yaml", "--port", "0", "--data-dir", dir, "--token", "main-token"];
    const first = runMain(args);
    const base = await first.ready;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect((await fetch(`${base}/projects`)).status).toBe(401);
    const created = await fetch(`${base}/projects`, { method: "POST", headers: { authorization: "Bearer main-token", "content-type": "application/json" }, body: JSON.stringify({ name: "From the CLI" }) });
    const project = (await created.json()) as { id: string };
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);

    const second = runMain(args);
    const base2 = await second.ready;
    const again = await fetch(`${base2}/projects/${project.id}`, { headers: { authorization: "Bearer main-token" } });
    expect(((await again.json()) as { name: string }).name).toBe("From the CLI");
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });

  it("refuses to start without a token, naming the flag", async () => {
    const dir = mkdtempSync(join(tmpdir(), "upstream-main-"));
    dirs.push(dir);
    const env = { ...process.env };
    delete env.UPSTREAM_TOKEN;
    const child = spawn(process.execPath, ["dist/examples/upstream/main.js", "--spec", "test/fixtures/upstream/mini.yaml", "--data-dir", dir], { env });
    let err = "";
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    expect(code).toBe(2);
    expect(err).toMatch(/--token/);
  });
});
