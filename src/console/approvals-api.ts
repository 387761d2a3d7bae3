/**
 * The console API of approvals (docs/approvals.md): the inbox, one action in full, approve and
 * reject. Only a signed-in admin (cookie + CSRF token) or an admin credential reaches these; the
 * decision logic is src/approvals/decide.ts.
 */
import type Koa from "koa";
import type { Gateway } from "../gateway.js";
import { createDecisions, DecisionError } from "../approvals/decide.js";
import { ApiError, readJson, type Who } from "./views.js";

type Handler = (ctx: Koa.Context, caller: Who, params: Record<string, string>) => Promise<unknown>;

/** Registers the approval routes on the console's router. */
export function approvalRoutes(gateway: Gateway, route: (method: string, path: string, handler: Handler) => void, now: () => number): void {
  const decisions = createDecisions(gateway, now);
  const mapped = (handler: Handler): Handler => async (ctx, caller, params) => {
    try {
      return await handler(ctx, caller, params);
    } catch (err) {
      if (err instanceof DecisionError) throw new ApiError(err.status, err.code, err.message);
      throw err;
    }
  };
  const signal = (ctx: Koa.Context): AbortSignal => {
    const ac = new AbortController();
    ctx.req.once("close", () => {
      if (!ctx.res.writableEnded) ac.abort();
    });
    return ac.signal;
  };

  // On a gateway of several upstreams, each action names the upstream of its tool.
  const withUpstream = <T extends { readonly tool?: unknown }>(a: T): T => {
    const upstream = typeof a.tool === "string" ? gateway.registry.upstreamOf?.(a.tool)?.name : undefined;
    return upstream ? { ...a, upstream } : a;
  };

  route("GET", "/approvals", mapped(async (ctx) => {
    const all = ctx.query.all === "1" || ctx.query.all === "true";
    return { approvals: (await decisions.inbox(all)).map(withUpstream), separateApprover: gateway.deps.config.approvals.separateApprover };
  }));
  route("GET", "/approvals/:id", mapped(async (ctx, _caller, params) => ({ approval: withUpstream(await decisions.detail(params.id!, signal(ctx))) })));
  route("POST", "/approvals/:id/approve", mapped(async (ctx, caller, params) => {
    await readJson(ctx);
    return decisions.approve(params.id!, { id: caller.admin.id, name: caller.admin.name }, new AbortController().signal);
  }));
  route("POST", "/approvals/:id/reject", mapped(async (ctx, caller, params) => {
    const body = await readJson(ctx);
    if (typeof body.reason !== "string") throw new ApiError(400, "invalid_arguments", "reason is required: a string telling the agent why");
    return decisions.reject(params.id!, { id: caller.admin.id, name: caller.admin.name }, body.reason);
  }));
}
