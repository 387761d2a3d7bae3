/**
 * The flood's short profile (bench/flood.js has the long one): unauthenticated, malformed and
 * over-quota traffic at a running gateway while an authenticated client keeps working. Every call
 * of the client succeeds and leaves its audit record; the flood gets only 400, 401 and 429 (and
 * 200 for the over-quota token's calls before its bucket ran dry), never a 5xx.
 */
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain-JavaScript bench module, without types.
import { runFlood } from "../../bench/flood.js";

describe("flood", () => {
  it("keeps an authenticated client working and its audit records whole", async () => {
    const r = await runFlood({ seconds: 4, flooders: 8, quietCalls: 100 });
    process.stdout.write(`flood: ${r.flood_requests_per_s} req/s; client p99 ${r.quiet.p99_ms} ms quiet, ${r.flooded.p99_ms} ms flooded (×${r.p99_ratio}); ${r.audit_records_lost} records lost\n`);
    expect(r.flooded.calls).toBeGreaterThan(10);
    expect(r.quiet.failed + r.flooded.failed).toBe(0);
    expect(r.audit_records_lost).toBe(0);
    expect(Object.keys(r.flood_statuses).sort()).toEqual(expect.arrayContaining(["400", "401", "429"]));
    for (const status of Object.keys(r.flood_statuses)) expect(["200", "400", "401", "429"]).toContain(status);
  }, 120_000);
});
