/**
 * The one error middleware of the HTTP gateway: whatever a later middleware throws becomes the
 * HTTP status, headers and JSON-RPC error body that src/errors.ts maps it to.
 */
import type Koa from "koa";
import { toGatewayError, toHttp, toJsonRpcResponse } from "../../errors.js";
import type { Logger } from "../../log.js";
import { soleRequestId } from "./state.js";

/** Answers errors thrown below it; an answer already under way (SDK stream) is ended instead. */
export function errorAnswers(log: Logger): Koa.Middleware {
  return async function answerErrors(ctx, next) {
    try {
      await next();
    } catch (err) {
      const e = toGatewayError(err);
      if (e.code === "internal") log.error({ err: e.cause ?? err }, "http request failed");
      if (ctx.respond === false || ctx.res.headersSent) {
        if (!ctx.res.writableEnded) ctx.res.destroy();
        return;
      }
      // Set on /mcp when the gateway is its own authorization server: the 401 says where to sign in.
      const resourceMetadata = (ctx.state as { resourceMetadata?: string }).resourceMetadata;
      const { status, headers } = toHttp(e, { resourceMetadata });
      ctx.status = status;
      ctx.set(headers);
      // A refusal answers the request it refuses: its id when the body held one request.
      const messages = (ctx.state as { messages?: unknown[] }).messages;
      ctx.body = toJsonRpcResponse(e, e.rpcId ?? (messages ? soleRequestId(messages) : undefined));
    }
  };
}
