/**
 * Per-token rate limits on rate-limiter-flexible, adapted once into a plain result type (the
 * library rejects with a RateLimiterRes, not an Error, when a bucket is exhausted).
 * One limiter per (tier, bucket), created lazily; on Redis when a store client is given (with an
 * in-memory insurance limiter for when Redis is unreachable); else, given a data dir, counted in
 * files every process on that data dir shares (window-counter-files.ts; the in-memory limiter is
 * the insurance when the disk fails), and in memory while this process is alone on the data dir
 * (window-counter-adaptive.ts); else in this process's memory.
 */
import { join } from "node:path";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { createAdaptiveWindowCounter } from "./window-counter-adaptive.js";
import type { WindowCounter } from "./window-counter-files.js";

/** The two buckets every token has. */
export type Bucket = "normal" | "sensitive";

/** Calls per window for each bucket. */
export interface TierLimits {
  readonly normal: number;
  readonly sensitive: number;
}

/** The outcome of taking one point. */
export type ConsumeResult =
  | { readonly kind: "allowed"; readonly remaining: number }
  | { readonly kind: "limited"; readonly limit: number; readonly retryAfterMs: number }
  | { readonly kind: "unknown_tier"; readonly tier: string }
  | { readonly kind: "unavailable"; readonly error: Error };

/** Options of the limiter factory. */
export interface RateLimitsOptions {
  /** Limits by tier name; must contain `default`. */
  readonly tiers: Readonly<Record<string, TierLimits>>;
  /** Window length in seconds (default 60: the limits are per minute). */
  readonly windowSeconds?: number;
  /** An ioredis client for the distributed mode; in-process memory when absent. */
  readonly storeClient?: unknown;
  readonly keyPrefix?: string;
}

/** Where the embedded limits are kept. */
export interface RateLimitsPlacement {
  /**
   * The data dir: without a store client, the counts live in `<dataDir>/rate-limits/`, shared by
   * every process on it (serve and each stdio client). Omitted: this process's memory only.
   */
  readonly dataDir?: string;
  /** Clock in epoch milliseconds for the shared counts (tests). */
  readonly now?: () => number;
}

/**
 * The upstream a point is taken for, in a gateway of several: its budget is its own (a token's calls
 * to one upstream never use up another's), with its own limits by tier.
 */
export interface UpstreamScope {
  readonly name: string;
  /** Limits by tier on this upstream (the tiers' own when the config overrides nothing). */
  readonly tiers: Readonly<Record<string, TierLimits>>;
}

/**
 * The name of a bucket's counter, the one scheme of every store (memory, files, Redis): `normal`
 * and `sensitive` for a lone API or a call no upstream owns (today's keys), `normal@<upstream>`
 * otherwise. Upstream names are `[a-z][a-z0-9_]*`, so no name can pass for another.
 */
export function counterName(bucket: Bucket, upstream?: string): string {
  return upstream === undefined ? bucket : `${bucket}@${upstream}`;
}

/** Takes points from per-token buckets. */
export interface RateLimits {
  /** Takes one point of `bucket` for the token, on `upstream`'s budget when given (else the gateway-wide one). */
  consume(bucket: Bucket, tokenId: string, tier: string, upstream?: UpstreamScope): Promise<ConsumeResult>;
  limitsOf(tier: string): TierLimits | undefined;
  readonly windowSeconds: number;
  /** Stops background work (the shared counts' clean-up, the data dir's live entry); the limits still answer. */
  close?(): Promise<void>;
}

/** Builds the limiters (the one place rate-limiter-flexible is constructed). */
export function createRateLimits(options: RateLimitsOptions, placement: RateLimitsPlacement = {}): RateLimits {
  const windowSeconds = options.windowSeconds ?? 60;
  const prefix = options.keyPrefix ?? "countersign:rl";
  const limiters = new Map<string, { readonly points: number; readonly limiter: RateLimiterAbstract }>();
  const shared: WindowCounter | undefined =
    options.storeClient || placement.dataDir === undefined
      ? undefined
      : createAdaptiveWindowCounter({ dir: join(placement.dataDir, "rate-limits"), windowMs: windowSeconds * 1000, now: placement.now });

  function limiterFor(tier: string, counter: string, points: number): RateLimiterAbstract {
    const key = `${tier}:${counter}`;
    const known = limiters.get(key);
    if (known?.points === points) return known.limiter;
    // A limiter's points are fixed: a reloaded upstream override gets a new one (on Redis, on the same keys).
    const base = { points, duration: windowSeconds, keyPrefix: `${prefix}:${key}` };
    const limiter = options.storeClient
      ? new RateLimiterRedis({ ...base, storeClient: options.storeClient, insuranceLimiter: new RateLimiterMemory(base) })
      : new RateLimiterMemory(base);
    limiters.set(key, { points, limiter });
    return limiter;
  }

  function limitsOf(tier: string): TierLimits | undefined {
    return Object.hasOwn(options.tiers, tier) ? options.tiers[tier] : undefined;
  }

  return {
    windowSeconds,
    limitsOf,
    async consume(bucket, tokenId, tier, upstream) {
      const limits = upstream ? (Object.hasOwn(upstream.tiers, tier) ? upstream.tiers[tier] : undefined) : limitsOf(tier);
      if (!limits) return { kind: "unknown_tier", tier };
      const points = limits[bucket];
      const counter = counterName(bucket, upstream?.name);
      if (shared) {
        try {
          const took = await shared.take(`${tier}\0${counter}\0${tokenId}`, points);
          return took.allowed ? { kind: "allowed", remaining: points - took.count } : { kind: "limited", limit: points, retryAfterMs: took.resetInMs };
        } catch {
          // The disk refuses: this process's own count keeps the limit (per process) until it answers again.
        }
      }
      try {
        const res = await limiterFor(tier, counter, points).consume(tokenId, 1);
        return { kind: "allowed", remaining: res.remainingPoints };
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return { kind: "limited", limit: points, retryAfterMs: rejection.msBeforeNext };
        return { kind: "unavailable", error: rejection instanceof Error ? rejection : new Error(String(rejection)) };
      }
    },
    async close() {
      await shared?.close();
    },
  };
}
