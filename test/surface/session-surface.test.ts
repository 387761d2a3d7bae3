import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config.js";
import { GatewayError } from "../../src/errors.js";
import { sessionVisibility, surfaceSettings } from "../../src/surface/session-surface.js";
import { trackerTools } from "./tool-fixtures.js";

const principal = { tokenId: "t", subject: "s", modules: "all" as const, readOnly: false, tier: "default" };

describe("surface settings", () => {
  it("come from flags, then COUNTERSIGN_* variables, then the config file, with safe defaults", () => {
    expect(resolveConfig({}).surface).toEqual({ mode: "auto", schemaProfile: "default", listOutputSchemas: false });
    const env = { COUNTERSIGN_MODE: "dynamic", COUNTERSIGN_MODULES: "tasks, time", COUNTERSIGN_SCHEMA_PROFILE: "strict" };
    expect(resolveConfig({ env }).surface).toEqual({ mode: "dynamic", modules: ["tasks", "time"], schemaProfile: "strict", listOutputSchemas: false });
    expect(resolveConfig({ env, flags: { mode: "all", "schema-profile": "default" } }).surface.mode).toBe("all");
    expect(resolveConfig({ file: { surface: { mode: "modules", modules: ["people"] } } }).surface).toMatchObject({ mode: "modules", modules: ["people"] });
  });

  it("fail fast naming the key", () => {
    expect(() => resolveConfig({ env: { COUNTERSIGN_MODE: "everything" } })).toThrow(/surface\.mode.*auto, all, modules, dynamic/);
    expect(() => resolveConfig({ flags: { "schema-profile": "loose" } })).toThrow(/surface\.schemaProfile/);
  });

  it("let a connection's ?mode=, ?modules= and ?profile= override the gateway's", () => {
    const config = resolveConfig({ env: { COUNTERSIGN_MODE: "all", COUNTERSIGN_MODULES: "tasks" } }).surface;
    expect(surfaceSettings(config, {})).toEqual({ mode: "all", modules: ["tasks"], profile: "default" });
    expect(surfaceSettings(config, { mode: "dynamic", modules: "time", profile: "strict" })).toEqual({ mode: "dynamic", modules: ["time"], profile: "strict" });
    expect(() => surfaceSettings(config, { mode: "most" })).toThrow(GatewayError);
    expect(() => surfaceSettings(config, { profile: "lax" })).toThrow(/profile/);
  });

  it("COUNTERSIGN_MODULES alone lists those modules (what a stdio client gets)", () => {
    const config = resolveConfig({ env: { COUNTERSIGN_MODULES: "time" } }).surface;
    const v = sessionVisibility(surfaceSettings(config), principal, trackerTools);
    expect(v.mode).toBe("modules");
    expect(v.tools).toEqual(["time_entries_list", "time_entries_create"]);
  });
});
