import { describe, expect, it } from "vitest";
import type { CallContext, Stage } from "../src/context.js";
import { admissionChain, chain, compose, type AdmissionStages, type Stages } from "../src/pipeline.js";
import { createRegistry } from "../src/registry.js";
import { createResolveStage } from "../src/stages/resolve.js";
import { context, tool } from "./tokens/fixtures.js";

function named(name: string, log: string[], behaviour: "pass" | "answer" = "pass"): Stage {
  const stage: Stage = async (_ctx, next) => {
    log.push(`${name}>`);
    try {
      if (behaviour === "pass") await next();
    } finally {
      log.push(`<${name}`);
    }
  };
  return stage;
}

const ctx = {} as CallContext;

describe("pipeline", () => {
  it("orders the chain: audit outermost, upstream last", async () => {
    const log: string[] = [];
    const names = ["audit", "meta", "resolve", "policy", "rateLimit", "validate", "confirmGate", "upstream"] as const;
    const stages = Object.fromEntries(names.map((n) => [n, named(n, log)])) as unknown as Stages;
    await compose(chain(stages))(ctx);
    expect(log).toEqual([...names.map((n) => `${n}>`), ...[...names].reverse().map((n) => `<${n}`)]);
  });

  it("orders admission: refusals outermost (they audit what is refused), then authenticate, then the rate limit", async () => {
    const log: string[] = [];
    const names = ["refusals", "authenticate", "admit"] as const;
    const stages = Object.fromEntries(names.map((n) => [n, named(n, log)])) as unknown as AdmissionStages;
    await compose(admissionChain(stages))({} as never);
    expect(log).toEqual([...names.map((n) => `${n}>`), ...[...names].reverse().map((n) => `<${n}`)]);
  });

  it("resolve finds the generated tool once and names it in the audit record; an unknown name is not_found", async () => {
    const registry = createRegistry([tool("list_tasks")]);
    const resolve = createResolveStage({ registry: () => registry });
    const known = context(tool("placeholder"), { name: "list_tasks", tool: undefined });
    await compose([resolve])(known);
    expect(known.tool?.name).toBe("list_tasks");
    expect(known.audit).toMatchObject({ tool: "list_tasks", module: registry.get("list_tasks")!.module });
    await expect(compose([resolve])(context(tool("placeholder"), { name: "nope", tool: undefined }))).rejects.toMatchObject({ code: "not_found" });
  });

  it("a stage that answers early stops the chain, and the outer stages still unwind", async () => {
    const log: string[] = [];
    await compose([named("audit", log), named("auth", log, "answer"), named("upstream", log)])(ctx);
    expect(log).toEqual(["audit>", "auth>", "<auth", "<audit"]);
  });

  it("an error thrown inside reaches the outer stages' finally and the caller", async () => {
    const log: string[] = [];
    const boom: Stage = async () => {
      throw new Error("boom");
    };
    await expect(compose([named("audit", log), boom])(ctx)).rejects.toThrow("boom");
    expect(log).toEqual(["audit>", "<audit"]);
  });

  it("refuses a stage that calls next() twice", async () => {
    const twice: Stage = async (_ctx, next) => {
      await next();
      await next();
    };
    await expect(compose([twice, async () => {}])(ctx)).rejects.toThrow("next() called more than once");
  });
});
