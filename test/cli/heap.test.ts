import { describe, expect, it } from "vitest";
import { tuneHeap } from "../../src/cli/heap.js";

describe("tuneHeap", () => {
  it("applies both settings by default", () => {
    expect(tuneHeap({}, [])).toEqual({ growingPercent: 50, youngMb: 8 });
  });

  it("is turned off by COUNTERSIGN_HEAP_TUNING=off", () => {
    expect(tuneHeap({ COUNTERSIGN_HEAP_TUNING: "off" }, [])).toEqual({ skipped: "COUNTERSIGN_HEAP_TUNING=off" });
  });

  it("refuses a value other than on or off, naming it", () => {
    expect(() => tuneHeap({ COUNTERSIGN_HEAP_TUNING: "lean" }, [])).toThrow(/COUNTERSIGN_HEAP_TUNING must be 'on' or 'off', got 'lean'/);
  });

  it("leaves the old generation to a growing percent given in NODE_OPTIONS", () => {
    expect(tuneHeap({ NODE_OPTIONS: "--heap_growing_percent=50 --max-old-space-size=512" }, [])).toEqual({ youngMb: 8, skipped: "heap flags given on the command line or in NODE_OPTIONS" });
  });

  it("leaves the young generation to a semi-space flag on the node command line", () => {
    expect(tuneHeap({}, ["--max-semi-space-size=4"])).toEqual({ growingPercent: 50, skipped: "heap flags given on the command line or in NODE_OPTIONS" });
  });

  it("applies nothing under --optimize-for-size", () => {
    expect(tuneHeap({ NODE_OPTIONS: "--optimize-for-size" }, [])).toEqual({ skipped: "heap flags given on the command line or in NODE_OPTIONS" });
  });
});
