/**
 * Validate stage: checks a call's arguments against its tool's inputSchema before anything else
 * sees them. Validators are compiled lazily, once per tool, and cached.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import type { Stage } from "../context.js";
import { GatewayError } from "../errors.js";
import type { Logger } from "../log.js";

// ajv-formats ships CommonJS; under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** One failing argument: where and why. */
export interface ArgumentProblem {
  readonly path: string;
  readonly reason: string;
}

/** The outcome of validating one call's arguments. */
export type ValidationResult = { ok: true } | { ok: false; problems: ArgumentProblem[] };

/** Validates arguments against a tool's inputSchema. */
export interface ArgumentValidator {
  validate(tool: ToolDescriptor, args: unknown): ValidationResult;
}

function newAjv(strict: boolean): Ajv2020 {
  const ajv = new Ajv2020({ strict, allErrors: true, allowUnionTypes: true, validateFormats: true, ...(strict ? {} : { logger: false }) });
  // An argument mirrored into an Mcp-Param-* header (SEP-2243): an annotation, checked at admission.
  ajv.addKeyword({ keyword: "x-mcp-header", schemaType: "string" });
  return addFormats(ajv);
}

function describe(e: ErrorObject): ArgumentProblem {
  const path = e.instancePath === "" ? "(root)" : e.instancePath;
  const p = e.params as Record<string, unknown>;
  if (e.keyword === "required") return { path, reason: `missing required argument '${String(p.missingProperty)}'` };
  if (e.keyword === "additionalProperties") return { path, reason: `unknown argument '${String(p.additionalProperty)}'` };
  if (e.keyword === "unevaluatedProperties") return { path, reason: `unknown argument '${String(p.unevaluatedProperty)}'` };
  if (e.keyword === "enum") return { path, reason: `must be one of ${JSON.stringify(p.allowedValues)}` };
  return { path, reason: e.message ?? e.keyword };
}

/** Adapts ajv's error arrays into plain results; compiles each tool's schema once, on first use. */
export function createArgumentValidator(log?: Logger): ArgumentValidator {
  const strictAjv = newAjv(true);
  let lenientAjv: Ajv2020 | undefined;
  const cache = new WeakMap<ToolDescriptor, ValidateFunction>();

  function compile(tool: ToolDescriptor): ValidateFunction {
    try {
      return strictAjv.compile(tool.inputSchema as object);
    } catch (strictErr) {
      // A schema the generator should have cleaned up; still serve the tool, validating what we can.
      log?.warn({ tool: tool.name, err: (strictErr as Error).message }, "inputSchema fails strict compilation; using lenient mode");
      lenientAjv ??= newAjv(false);
      try {
        return lenientAjv.compile(tool.inputSchema as object);
      } catch (err) {
        throw new GatewayError("internal", `tool '${tool.name}' has an invalid inputSchema`, { expose: false, cause: err });
      }
    }
  }

  return {
    validate(tool, args) {
      let fn = cache.get(tool);
      if (!fn) {
        fn = compile(tool);
        cache.set(tool, fn);
      }
      if (fn(args)) return { ok: true };
      const problems = (fn.errors ?? []).map(describe);
      return { ok: false, problems: problems.length ? problems : [{ path: "(root)", reason: "invalid" }] };
    },
  };
}

/** Formats problems for the model: one clause per failing path. */
export function formatProblems(problems: readonly ArgumentProblem[]): string {
  return problems.map((p) => `${p.path}: ${p.reason}`).join("; ");
}

/** The validate stage: invalid arguments end the call with `invalid_arguments`; the upstream is never reached. */
export function createValidateStage(deps: { validator: ArgumentValidator }): Stage {
  return async function validate(ctx, next) {
    if (!ctx.tool) throw new GatewayError("internal", "validate stage reached without a tool", { expose: false });
    const outcome = deps.validator.validate(ctx.tool, ctx.args);
    if (!outcome.ok) {
      throw new GatewayError("invalid_arguments", `Invalid arguments for ${ctx.tool.name}: ${formatProblems(outcome.problems)}`, {
        details: { problems: outcome.problems },
      });
    }
    await next();
  };
}
