// `make run` as a newcomer runs it: clone this repository's HEAD into a temp dir, start `make run`
// (which installs, builds, starts the sample upstream + gateway and prints a dev token), then
// answer tools/list over HTTP with the printed token. Reports install time and time to tools/list.
//   node bench/make-run.js            fresh clone (runs npm ci)
//   node bench/make-run.js DIR        an existing checkout
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const repo = resolve(import.meta.dirname, "..");
let dir = process.argv[2];
if (!dir) {
  dir = join(mkdtempSync(join(tmpdir(), "cs-make-run-")), "countersign");
  execFileSync("git", ["clone", "-q", repo, dir]);
}
const t0 = Date.now();
const child = spawn("make", ["run"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"], detached: true });
let out = "";
let installedAt;
const token = await new Promise((done, fail) => {
  const timer = setTimeout(() => fail(new Error(`no token after 600 s:\n${out.slice(-3000)}`)), 600_000);
  const on = (chunk) => {
    out += chunk.toString();
    // The build step follows the install step: its start is the end of installation.
    if (installedAt === undefined && /tsc -p tsconfig\.build\.json/.test(out)) installedAt = Date.now();
    const m = /csk_[A-Za-z0-9]{36}/.exec(out);
    if (m) {
      clearTimeout(timer);
      done(m[0]);
    }
  };
  child.stdout.on("data", on);
  child.stderr.on("data", on);
  child.on("exit", (code) => fail(new Error(`make run exited with ${code}:\n${out.slice(-3000)}`)));
});
const sdk = join(dir, "node_modules/@modelcontextprotocol/sdk/dist/esm/client");
const { Client } = await import(join(sdk, "index.js"));
const { StreamableHTTPClientTransport } = await import(join(sdk, "streamableHttp.js"));
const url = /http:\/\/127\.0\.0\.1:\d+\/mcp/.exec(out)[0];
const client = new Client({ name: "make-run-probe", version: "1" });
await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
const { tools } = await client.listTools();
const t1 = Date.now();
await client.close();
process.kill(-child.pid, "SIGINT");
const result = {
  date: new Date().toISOString(),
  freshClone: !process.argv[2],
  installSeconds: installedAt ? (installedAt - t0) / 1000 : null,
  secondsFromEndOfInstallToToolsList: installedAt ? (t1 - installedAt) / 1000 : null,
  secondsFromStartToToolsList: (t1 - t0) / 1000,
  toolsListed: tools.length,
};
mkdirSync(join(repo, "bench/results"), { recursive: true });
writeFileSync(join(repo, "bench/results/make-run.json"), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result));
setTimeout(() => process.exit(0), 1500);
