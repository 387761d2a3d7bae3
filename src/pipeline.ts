/**
 * The chains. Order matters: these array literals are the one place that decides it.
 *
 * Every request, on every transport, is admitted once: its credential authenticated, each tools/call
 * in it charged one point of the token's normal bucket, and a refusal audited. Every tools/call —
 * a generated tool or a meta-tool, direct, through call_tool or executed on confirm — then runs the
 * tool-call chain. Audit wraps everything (it records in `finally`); the upstream call is the
 * terminal stage; a meta-tool answers at its own stage, after audit and before any policy of the
 * generated tools.
 */
import type { AdmissionStage, Middleware, Stage } from "./context.js";

/** The stages of the tool-call chain; each is built in the composition root (src/app.ts). */
export interface Stages {
  audit: Stage;
  meta: Stage;
  resolve: Stage;
  policy: Stage;
  rateLimit: Stage;
  validate: Stage;
  confirmGate: Stage;
  upstream: Stage;
}

/** The stages of admission. */
export interface AdmissionStages {
  refusals: AdmissionStage;
  authenticate: AdmissionStage;
  admit: AdmissionStage;
}

/** The ordered tool-call chain. */
export function chain(s: Stages): Stage[] {
  return [s.audit, s.meta, s.resolve, s.policy, s.rateLimit, s.validate, s.confirmGate, s.upstream];
}

/** The ordered admission chain. */
export function admissionChain(s: AdmissionStages): AdmissionStage[] {
  return [s.refusals, s.authenticate, s.admit];
}

/** Composes stages onion-style (koa-compose semantics: `next()` may be called at most once). */
export function compose<C>(stages: readonly Middleware<C>[]): (ctx: C) => Promise<void> {
  return function run(ctx: C): Promise<void> {
    let index = -1;
    function dispatch(i: number): Promise<void> {
      if (i <= index) return Promise.reject(new Error("next() called more than once"));
      index = i;
      const stage = stages[i];
      if (!stage) return Promise.resolve();
      try {
        return Promise.resolve(stage(ctx, () => dispatch(i + 1)));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return dispatch(0);
  };
}
