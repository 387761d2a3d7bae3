/**
 * V8 heap sizing for the long-running commands (`stdio`, `serve`), applied from inside the process.
 *
 * Under a steady stream of calls V8 grows the heap lazily: the old generation's next limit is up
 * to ~4× what survived the last full GC, and the young generation's semi-spaces double up to
 * 16 MB each. Live data after a full GC stays ~20–25 MB with GitHub's 1,192 tools, yet resident
 * memory climbed past 200 MB over 10,000 calls. Two settings that V8 reads at run time (so they
 * work without NODE_OPTIONS or a second process) keep it near the live size:
 *
 * - `--heap-growing-percent=50`: the old generation's next limit is 1.5× what survived, instead
 *   of the factor up to 4× V8 picks from the allocation rate. It caps nothing: the heap still
 *   grows as far as the data needs (up to V8's usual maximum), with more frequent, smaller full
 *   GCs. (20% kept HTTP ~10 MB lower but cost ~20% of its throughput; 50% costs a few percent.)
 * - the young generation stops growing once it commits `youngMb` (8 MB): after each GC the new
 *   space's size is looked at and `--semi-space-growth-factor` is set to 1 (no growth) at or
 *   above it, back to 2 below it.
 *
 * `COUNTERSIGN_HEAP_TUNING=off` turns both off. A flag the operator already passes (NODE_OPTIONS
 * or the node command line) wins: --heap-growing-percent or --optimize-for-size skips the first,
 * --max-semi-space-size, --semi-space-growth-factor or --optimize-for-size the second. A hard cap
 * (--max-old-space-size) only works at start-up, so it stays NODE_OPTIONS' job.
 */
import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";

/** What was applied, for the start-up log line. */
export interface HeapTuning {
  readonly growingPercent?: number;
  readonly youngMb?: number;
  /** Why nothing (or only part) was applied. */
  readonly skipped?: string;
}

const GROWING_PERCENT = 50;
const YOUNG_MB = 8;

/** The heap flags already given to this process (NODE_OPTIONS, then the node command line). */
function givenFlags(env: NodeJS.ProcessEnv, execArgv: readonly string[]): string[] {
  const words = [...(env.NODE_OPTIONS ?? "").split(/\s+/), ...execArgv];
  // V8 accepts --flag_name and --flag-name alike.
  return words.filter((w) => w.startsWith("--")).map((w) => w.replace(/_/g, "-").replace(/=.*/, ""));
}

/**
 * Applies the heap settings unless turned off or already chosen by the operator. Call it first
 * thing in a long-running command, before the tools are loaded. `COUNTERSIGN_HEAP_TUNING` other
 * than `on`/`off` (or unset) is refused with a clear error.
 */
export function tuneHeap(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): HeapTuning {
  const setting = (env.COUNTERSIGN_HEAP_TUNING ?? "on").trim().toLowerCase();
  if (setting === "off") return { skipped: "COUNTERSIGN_HEAP_TUNING=off" };
  if (setting !== "on") throw new Error(`COUNTERSIGN_HEAP_TUNING must be 'on' or 'off', got '${env.COUNTERSIGN_HEAP_TUNING}'`);
  const given = new Set(givenFlags(env, execArgv));
  const forSize = given.has("--optimize-for-size");
  const ownGrowing = forSize || given.has("--heap-growing-percent");
  const ownYoung = forSize || given.has("--max-semi-space-size") || given.has("--semi-space-growth-factor");
  if (!ownGrowing) setFlagsFromString(`--heap-growing-percent=${GROWING_PERCENT}`);
  if (!ownYoung) capYoungGeneration(YOUNG_MB * 1024 * 1024);
  return {
    ...(ownGrowing ? {} : { growingPercent: GROWING_PERCENT }),
    ...(ownYoung ? {} : { youngMb: YOUNG_MB }),
    ...(ownGrowing || ownYoung ? { skipped: "heap flags given on the command line or in NODE_OPTIONS" } : {}),
  };
}

let observer: PerformanceObserver | undefined;

/** Stops the young generation growing at `bytes` committed (checked after each GC; one observer per process). */
function capYoungGeneration(bytes: number): void {
  if (observer) return;
  let capped = false;
  observer = new PerformanceObserver(() => {
    const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
    if (!newSpace) return;
    const full = newSpace.space_size >= bytes;
    if (full === capped) return;
    capped = full;
    setFlagsFromString(`--semi-space-growth-factor=${full ? 1 : 2}`);
  });
  observer.observe({ entryTypes: ["gc"] });
}
