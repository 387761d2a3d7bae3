/** Test helper: starts `countersign demo` on free ports and reads the set-ups it prints. */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

export interface RunningDemo {
  child: ChildProcess;
  out: string;
  mcpUrl: string;
  token: string;
  /** The Claude Desktop entry the demo printed. */
  desktop: { mcpServers: { countersign: { command: string; args: string[]; env: Record<string, string> } } };
  /** GET against the sample upstream with its own token. */
  upstream(path: string): Promise<Record<string, any>>;
}

/** Starts the demo with its data dir under `dir` and waits for "Press Ctrl-C to stop." */
export function startDemo(dir: string, extra: string[] = []): Promise<RunningDemo> {
  const child = spawn(process.execPath, ["bin/countersign.js", "demo", "--port", "0", "--upstream-port", "0", "--data-dir", join(dir, "data"), ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start in time:\n${out}\n${err}`)), 60_000);
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      if (!out.includes("Press Ctrl-C to stop.")) return;
      clearTimeout(timer);
      const mcpUrl = /gateway \(Streamable HTTP\)\s+(\S+)/.exec(out)![1];
      const token = /^\s+(csk_\S+)$/m.exec(out)![1];
      const desktop = JSON.parse(out.slice(out.indexOf("{", out.indexOf("claude_desktop_config.json")), out.indexOf("── Clients"))) as RunningDemo["desktop"];
      const env = desktop.mcpServers.countersign.env;
      const upstream = async (path: string) =>
        (await (await fetch(`${env.COUNTERSIGN_UPSTREAM_URL}/v1${path}`, { headers: { authorization: `Bearer ${env.COUNTERSIGN_UPSTREAM_TOKEN}` } })).json()) as Record<string, any>;
      resolve({ child, out, mcpUrl, token, desktop, upstream });
    });
    child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
    child.once("exit", (code) => reject(new Error(`demo exited with ${code}:\n${out}\n${err}`)));
  });
}

/** Sends SIGINT and resolves to the exit code. */
export function stopDemo(demo: RunningDemo): Promise<number | null> {
  if (demo.child.exitCode !== null) return Promise.resolve(demo.child.exitCode);
  const exited = new Promise<number | null>((r) => demo.child.once("exit", (code) => r(code)));
  demo.child.kill("SIGINT");
  return exited;
}
