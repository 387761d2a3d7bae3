import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import type { PendingActionStore } from "../../src/stores/pending-actions/contract.js";
import { createPendingActions } from "../../src/stores/pending-actions/index.js";
import { describeQuotas, quotaClock } from "./quota-suite.js";

const open: PendingActionStore[] = [];
afterAll(async () => {
  for (const s of open) await s.close();
});

describeQuotas(
  "embedded store",
  async (quotas) => {
    const store = createPendingActions({ dataDir: mkdtempSync(join(tmpdir(), "cs-quota-")), now: quotaClock.now, sweepIntervalMs: 0, quotas });
    open.push(store);
    return { a: store, b: store, advance: quotaClock.advance };
  },
  { concurrentAcrossReplicas: false },
);

describeQuotas(
  "memory-only store",
  async (quotas) => {
    const store = createPendingActions({ now: quotaClock.now, sweepIntervalMs: 0, quotas });
    open.push(store);
    return { a: store, b: store, advance: quotaClock.advance };
  },
  { concurrentAcrossReplicas: false },
);
