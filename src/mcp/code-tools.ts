/**
 * Code mode's meta-tools: run_code (a script against the API in a WebAssembly sandbox; reads run,
 * writes become one change set to confirm) and get_api_types (TypeScript declarations of chosen
 * modules, generated at codegen time).
 */
import { randomUUID } from "node:crypto";
import type { CallContext, ToolResult } from "../context.js";
import { GatewayError } from "../errors.js";
import type { Deps, MetaTool, SessionContext } from "../gateway.js";
import { mintConfirmation } from "../confirm/tokens.js";
import { changeSetAction, CHANGE_SET_TOOL, createChangeSet, renderChangeSet } from "../code/change-set.js";
import { apiTypesFor } from "../code/api-types.js";
import { createSandboxPool, type SandboxPool } from "../code/sandbox.js";
import { take } from "../stages/rate-limit.js";
import { approvalNote, needsPerson } from "../approvals/policy.js";
import { requestPerson } from "../approvals/request.js";

/** Sandbox pools by gateway dependencies: one per gateway, started on its first run. */
const pools = new WeakMap<Deps, SandboxPool>();

function poolOf(deps: Deps): SandboxPool {
  let pool = pools.get(deps);
  if (!pool) pools.set(deps, (pool = createSandboxPool({ size: deps.config.code.workers, memoryBytes: deps.config.code.memoryBytes })));
  return pool;
}

function requireString(args: Record<string, unknown>, key: string, max: number): string {
  const v = args[key];
  if (typeof v !== "string" || v.trim() === "") throw new GatewayError("invalid_arguments", `'${key}' must be a non-empty string`);
  if (v.length > max) throw new GatewayError("invalid_arguments", `'${key}' is ${v.length} characters; at most ${max}`);
  return v;
}

/** What a tool call gives the script: the JSON the upstream answered, else the text. */
function valueOf(result: ToolResult): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  const text = result.content.filter((c) => c.type === "text").map((c) => (c as { text: string }).text).join("\n");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const MAX_CODE_CHARS = 100_000;

/** Builds run_code and get_api_types. */
export function createCodeTools(deps: Deps): readonly MetaTool[] {

  async function runCode(args: Record<string, unknown>, session: SessionContext, call: CallContext): Promise<ToolResult> {
    const code = requireString(args, "code", MAX_CODE_CHARS);
    const intent = requireString(args, "intent", 500);
    const { gateway, principal } = session;
    const runId = `run_${randomUUID()}`;
    call.audit.runId = runId;
    const metaNames = new Set(gateway.metaTools.map((t) => t.name));
    const modules: Record<string, string[]> = {};
    for (const t of gateway.visibleTools(principal, session)) {
      if (!metaNames.has(t.name)) (modules[t.module] ??= []).push(t.name);
    }
    const changes = createChangeSet(runId, () => gateway.registry.tools);

    async function onCall(tool: string, toolArgs: unknown): Promise<unknown> {
      // Only the API's own tools: never a gateway tool (call_tool, confirm_action, run_code).
      if (metaNames.has(tool)) throw new GatewayError("forbidden", `'${tool}' is a gateway tool; a script can only call the API's tools`);
      if (toolArgs === null || typeof toolArgs !== "object" || Array.isArray(toolArgs)) throw new GatewayError("invalid_arguments", `${tool}: arguments must be an object`);
      // A run outlives its request's admission: the token is looked at again, and each call takes
      // its point of the normal bucket as a tools/call of its own would.
      await gateway.recheck(principal);
      await take(deps.rateLimits, "normal", principal, gateway.rateLimitScope(tool));
      // The whole chain, as a direct call: scope, rate limits, validation, audit (with the run id).
      const outcome = await gateway.call({
        name: tool,
        args: changes.encode(toolArgs) as Record<string, unknown>,
        principal,
        transport: session.transport,
        ...(session.sessionId !== undefined ? { sessionId: session.sessionId } : {}),
        signal: session.signal,
        session,
        parent: call,
        run: changes.run,
      });
      if (outcome.error) throw outcome.error;
      return valueOf(outcome.result);
    }

    const limits = { ...deps.config.code, maxOutputBytes: deps.config.upstream.maxResponseBytes };
    const outcome = await poolOf(deps).run({ runId, code, modules, limits, onCall });
    // The run's own record stays, beside its calls' (each carries the run id).
    call.delegated = false;
    const base = { run_id: runId, logs: outcome.logs, api_calls: outcome.calls };
    if (outcome.failure) {
      const dropped = changes.steps.length > 0 ? ` Its ${changes.steps.length} write(s) were dropped: nothing was stored or sent.` : "";
      throw new GatewayError("script_error", `${outcome.failure.message}${dropped}`, { details: { kind: outcome.failure.kind, ...base } });
    }
    const valueText = JSON.stringify(outcome.value) ?? "null";
    const text = [`Result: ${valueText}`, ...(outcome.logs.length > 0 ? ["Logs:", ...outcome.logs] : [])];
    if (changes.steps.length === 0) {
      return { content: [{ type: "text", text: text.join("\n") }], structuredContent: { ...base, value: outcome.value } };
    }

    const { preview, args: stored } = changeSetAction(runId, intent, changes.steps, changes.stored);
    const minted = mintConfirmation();
    const createdAt = deps.now();
    // The set follows its strictest write's approval policy, as a single write would.
    const approval = preview.approval_policy;
    const person = needsPerson(approval);
    const expiresAt = createdAt + (person ? deps.config.approvals.ttlMs : deps.config.confirm.ttlSeconds * 1000);
    const action = {
      id: minted.actionId,
      tokenId: principal.tokenId,
      tier: principal.tier,
      tool: CHANGE_SET_TOOL,
      args: stored as unknown as Record<string, unknown>,
      tokenHash: minted.tokenHash,
      createdAt,
      expiresAt,
      preview,
      ...(session.sessionId !== undefined ? { sessionId: session.sessionId } : {}),
      about: `change set: ${intent} (${changes.steps.length} writes)`,
      ...(approval !== "agent" ? { approval } : {}),
    };
    await deps.pendingActions.create(action);
    if (person) await requestPerson(deps.approvals, action, principal, deps.now());
    const expiresIso = new Date(expiresAt).toISOString();
    call.audit.outcome = "pending";
    call.audit.type = "pending";
    call.audit.actionId = minted.actionId;
    call.audit.summary = preview.summary;
    call.pending = { actionId: minted.actionId, confirmToken: minted.confirmToken, expiresAt: expiresIso, preview };
    text.push("", renderChangeSet(preview, { actionId: minted.actionId, confirmToken: minted.confirmToken, expiresAt: expiresIso }));
    if (person) text.push(approvalNote(approval));
    return {
      content: [{ type: "text", text: text.join("\n") }],
      structuredContent: {
        ...base,
        value: outcome.value,
        status: "pending_confirmation",
        action_id: minted.actionId,
        confirm_token: minted.confirmToken,
        expires_at: expiresIso,
        preview,
        ...(approval !== "agent" ? { approval } : {}),
      },
    };
  }

  return [
    {
      name: "run_code",
      title: "Run a script against the API",
      description:
        "Runs JavaScript or TypeScript in a sandbox. Inside, `await api.<module>.<tool>(args)` calls the API (get_api_types shows the " +
        "signatures); console.log is captured; `return` gives the result. Reads run at once. Writes send nothing: each returns " +
        "{ pending: true, ref: \"w1\", preview } whose other fields (w1.id) stand for its future result, and the run answers ONE " +
        "change set with one confirm_token for all its writes. Show the preview to the person and call confirm_action only once they approve.",
      inputSchema: {
        type: "object",
        properties: {
          code: { type: "string", description: "The body of an async function: use await, return a JSON value." },
          intent: { type: "string", description: "What the script is for, in one sentence (shown with its change set)." },
        },
        required: ["code", "intent"],
        additionalProperties: false,
      },
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
      handle: runCode,
    },
    {
      name: "get_api_types",
      title: "Get the API's TypeScript types",
      description: "TypeScript declarations of the `api` object run_code scripts use, for the modules you name (list_modules or search_tools shows them).",
      inputSchema: {
        type: "object",
        properties: { modules: { type: "array", items: { type: "string" }, minItems: 1, description: "Module names." } },
        required: ["modules"],
        additionalProperties: false,
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      async handle(args, session) {
        const requested = args.modules;
        if (!Array.isArray(requested) || requested.length === 0 || !requested.every((m) => typeof m === "string")) {
          throw new GatewayError("invalid_arguments", "'modules' must be a non-empty array of module names");
        }
        const scope = session.gateway.visibleTools(session.principal, session);
        const known = new Set(scope.map((t) => t.module));
        const unknown = requested.filter((m) => !known.has(m));
        if (unknown.length > 0) throw new GatewayError("invalid_arguments", `Unknown module(s): ${unknown.join(", ")}; search_tools shows the modules you can use`);
        const text = apiTypesFor(deps.config.generatedDir, session.gateway.registry.tools, requested as string[], new Set(scope.map((t) => t.name)));
        return { content: [{ type: "text", text }], structuredContent: { modules: requested, declarations: text } };
      },
    },
  ];
}
