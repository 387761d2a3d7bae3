/**
 * Hot reload for `serve --watch`: notices a new `generated/<api>/` (after `countersign generate`),
 * loads it, swaps the gateway's registry in one step and tells every open session its tool list
 * changed. Sessions and calls in flight are untouched: a call holds the descriptor it started with.
 *
 * The generator replaces the folder by renaming a complete sibling into place, so the folder's
 * inode changes on every regeneration; polling two stats is cheap and, unlike fs.watch on the
 * folder itself, survives the folder being replaced.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { Gateway } from "../gateway.js";
import type { Logger } from "../log.js";
import { loadRegistry, type Registry } from "../registry.js";
import { pollSettled } from "./settled-poll.js";
import { warmToolSearch } from "./search.js";

export interface WatchOptions {
  /** The generated folder (`generated/<api>`). */
  readonly dir: string;
  /** Swaps the registry in (Gateway.replaceRegistry). */
  readonly apply: (registry: Registry) => void;
  /** Sends tools/list_changed to every open session. */
  readonly notify: () => Promise<void>;
  readonly log: Logger;
  /** Loads the folder (default loadRegistry). */
  readonly load?: (dir: string) => Promise<Registry>;
  /** Poll period (default 500 ms). */
  readonly intervalMs?: number;
}

export interface Watcher {
  /** Completed reloads so far. */
  reloads(): number;
  close(): void;
}

async function fingerprint(dir: string): Promise<string | undefined> {
  try {
    const [folder, manifest] = await Promise.all([stat(dir), stat(join(dir, "manifest.json"))]);
    return `${folder.ino}:${manifest.ino}:${manifest.mtimeMs}:${manifest.size}`;
  } catch {
    return undefined; // mid-swap or not generated yet: look again next tick
  }
}

/** Starts polling `dir`; the first change after start triggers a reload. */
export async function watchGenerated(options: WatchOptions): Promise<Watcher> {
  const load = options.load ?? loadRegistry;
  let count = 0;
  const poll = await pollSettled(
    () => fingerprint(options.dir),
    async () => {
      let registry: Registry;
      try {
        registry = await load(options.dir);
      } catch (err) {
        options.log.error({ err, dir: options.dir }, "hot reload: the new generated folder does not load; keeping the current tools");
        return;
      }
      options.apply(registry);
      warmToolSearch(registry.tools, { modules: registry.modules });
      count++;
      options.log.info({ dir: options.dir, tools: registry.tools.length }, "hot reload: tools replaced");
      await options.notify().catch((err: unknown) => options.log.warn({ err }, "hot reload: notifying sessions failed"));
    },
    options.intervalMs,
  );
  return {
    reloads: () => count,
    close: () => poll.close(),
  };
}

/** Wires a watcher to a gateway and a transport handle (what `serve --watch` does). */
export function watchForGateway(gateway: Gateway, handle: { notifyToolsChanged(): Promise<void> }, intervalMs?: number): Promise<Watcher> {
  return watchGenerated({
    dir: gateway.deps.config.generatedDir,
    apply: (registry) => gateway.replaceRegistry(registry),
    notify: () => handle.notifyToolsChanged(),
    log: gateway.deps.log,
    ...(intervalMs !== undefined ? { intervalMs } : {}),
  });
}
