import { describe, expect, it } from "vitest";
import { deepEqual, diffFields } from "../../src/confirm/diff.js";

describe("diffFields", () => {
  const current = { id: 17, title: "Old", status: "open", labels: ["q2"], owner: { name: "Ann", team: "ops" }, created_at: "2026-01-01" };

  it("merge mode reports only the fields the body sets", () => {
    expect(diffFields(current, { title: "New", status: "open", priority: 2 }, { mode: "merge" })).toEqual([
      { path: "priority", change: "added", after: 2 },
      { path: "title", change: "changed", before: "Old", after: "New" },
    ]);
  });

  it("walks nested objects and compares arrays whole", () => {
    expect(diffFields(current, { owner: { name: "Bob" }, labels: ["q2", "launch"] }, { mode: "merge" })).toEqual([
      { path: "labels", change: "changed", before: ["q2"], after: ["q2", "launch"] },
      { path: "owner.name", change: "changed", before: "Ann", after: "Bob" },
    ]);
  });

  it("replace mode reports writable fields the body drops, not server-managed ones", () => {
    const writable = new Set(["title", "status", "labels", "owner"]);
    expect(diffFields(current, { title: "Old", status: "done" }, { mode: "replace", writableFields: writable })).toEqual([
      { path: "status", change: "changed", before: "open", after: "done" },
      { path: "labels", change: "removed", before: ["q2"] },
      { path: "owner", change: "removed", before: { name: "Ann", team: "ops" } },
    ]);
  });

  it("is empty when nothing changes", () => {
    expect(diffFields(current, { title: "Old", owner: { team: "ops", name: "Ann" } }, { mode: "merge" })).toEqual([]);
  });

  it("quotes keys that are not identifiers", () => {
    expect(diffFields({ "a b": 1 }, { "a b": 2 }, { mode: "merge" })[0]!.path).toBe('"a b"');
  });

  it("deepEqual ignores key order and tells arrays from objects", () => {
    expect(deepEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(deepEqual([1], { 0: 1 })).toBe(false);
    expect(deepEqual({ a: undefined }, {})).toBe(false);
  });
});
