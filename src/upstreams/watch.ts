/**
 * `serve --watch` for a gateway of several upstreams: notices an edited config file (or a
 * regenerated folder of one of its OpenAPI upstreams), loads the new upstreams, swaps the catalog
 * in one step and tells every open session. Calls in flight finish on what they started with; a
 * configuration that doesn't load changes nothing and is logged.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../config.js";
import type { Gateway } from "../gateway.js";
import { warmToolSearch } from "../surface/search.js";
import { pollSettled } from "../surface/settled-poll.js";

export interface ConfigWatchOptions {
  /** The config file. */
  readonly file: string;
  /** Reads the configuration again (the same flags and environment as at start-up); throws naming the key. */
  readonly reread: () => Config;
  /** Sends tools/list_changed to every open session. */
  readonly notify: () => Promise<void>;
  /** Poll period (default 500 ms). */
  readonly intervalMs?: number;
}

export interface ConfigWatcher {
  /** Completed reloads so far. */
  reloads(): number;
  close(): void;
}

async function stamp(path: string): Promise<string> {
  try {
    const s = await stat(path);
    return `${s.ino}:${s.mtimeMs}:${s.size}`;
  } catch {
    return "-";
  }
}

async function fingerprint(file: string, config: Config): Promise<string> {
  const generated = config.upstreams.flatMap((u) => (u.kind === "openapi" && u.generated ? [join(u.generated, "manifest.json")] : []));
  return (await Promise.all([file, ...generated].map(stamp))).join("|");
}

/** Starts polling (src/surface/settled-poll.ts); a settled change of the file reloads the upstreams. */
export async function watchUpstreamConfig(gateway: Gateway, options: ConfigWatchOptions): Promise<ConfigWatcher> {
  const upstreams = gateway.upstreams;
  if (!upstreams) throw new Error("watchUpstreamConfig: the gateway has no upstreams: section");
  const { log } = gateway.deps;
  let config = gateway.deps.config;
  let count = 0;
  const poll = await pollSettled(
    () => fingerprint(options.file, config),
    async () => {
      let next: Config;
      try {
        next = options.reread();
        if (next.upstreams.length === 0) throw new Error("the upstreams: section is gone; restart the gateway to serve a lone API");
        const registry = await upstreams.reload(next);
        gateway.replaceRegistry(registry, next);
        warmToolSearch(registry.tools);
      } catch (err) {
        log.error({ err, file: options.file }, `config reload: ${(err as Error).message}; keeping the current upstreams`);
        return;
      }
      config = next;
      count++;
      log.info({ upstreams: next.upstreams.map((u) => u.name), tools: gateway.registry.tools.length }, "config reload: upstreams replaced");
      await options.notify().catch((err: unknown) => log.warn({ err }, "config reload: notifying sessions failed"));
      // The new config may name other generated folders: compare with what it reads from now on.
      return fingerprint(options.file, config);
    },
    options.intervalMs,
  );
  return { reloads: () => count, close: () => poll.close() };
}
