#!/usr/bin/env node
/**
 * `node stdio-tee.mjs LOG COMMAND ARGS…`: runs COMMAND with this process's stdio, and appends
 * every line the client writes to COMMAND's stdin to LOG, so a test can see what a real stdio client
 * (one it cannot instrument) sent.
 */
import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";

const [log, command, ...args] = process.argv.slice(2);
if (!log || !command) {
  process.stderr.write("usage: node stdio-tee.mjs LOG COMMAND ARGS…\n");
  process.exit(2);
}
const child = spawn(command, args, { stdio: ["pipe", "inherit", "inherit"] });
process.stdin.on("data", (chunk) => {
  appendFileSync(log, chunk);
  child.stdin.write(chunk);
});
process.stdin.on("end", () => child.stdin.end());
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
for (const s of ["SIGTERM", "SIGINT"]) process.on(s, () => child.kill(s));
