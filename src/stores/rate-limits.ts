/**
 * Per-token rate limits on rate-limiter-flexible, adapted once into a plain result type (the
 * library rejects with a RateLimiterRes, not an Error, when a bucket is exhausted).
 * One limiter per (tier, bucket), created lazily; in memory by default, on Redis when a store
 * client is given (with an in-memory insurance limiter for when Redis is unreachable).
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";

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

/** Takes points from per-token buckets. */
export interface RateLimits {
  consume(bucket: Bucket, tokenId: string, tier: string): Promise<ConsumeResult>;
  limitsOf(tier: string): TierLimits | undefined;
  readonly windowSeconds: number;
}

/** Builds the limiters (the one place rate-limiter-flexible is constructed). */
export function createRateLimits(options: RateLimitsOptions): RateLimits {
  const windowSeconds = options.windowSeconds ?? 60;
  const prefix = options.keyPrefix ?? "countersign:rl";
  const limiters = new Map<string, RateLimiterAbstract>();

  function limiterFor(tier: string, bucket: Bucket, points: number): RateLimiterAbstract {
    const key = `${tier}:${bucket}`;
    let limiter = limiters.get(key);
    if (!limiter) {
      const base = { points, duration: windowSeconds, keyPrefix: `${prefix}:${key}` };
      limiter = options.storeClient
        ? new RateLimiterRedis({ ...base, storeClient: options.storeClient, insuranceLimiter: new RateLimiterMemory(base) })
        : new RateLimiterMemory(base);
      limiters.set(key, limiter);
    }
    return limiter;
  }

  function limitsOf(tier: string): TierLimits | undefined {
    return Object.hasOwn(options.tiers, tier) ? options.tiers[tier] : undefined;
  }

  return {
    windowSeconds,
    limitsOf,
    async consume(bucket, tokenId, tier) {
      const limits = limitsOf(tier);
      if (!limits) return { kind: "unknown_tier", tier };
      const points = limits[bucket];
      try {
        const res = await limiterFor(tier, bucket, points).consume(tokenId, 1);
        return { kind: "allowed", remaining: res.remainingPoints };
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return { kind: "limited", limit: points, retryAfterMs: rejection.msBeforeNext };
        return { kind: "unavailable", error: rejection instanceof Error ? rejection : new Error(String(rejection)) };
      }
    },
  };
}
