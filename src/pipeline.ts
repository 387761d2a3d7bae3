/**
 * The chain. Order matters: this array literal is the one place that decides it.
 * Audit wraps everything (it records in `finally`); the upstream call is the terminal stage.
 */
import type { CallContext, Stage } from "./context.js";

/** The stages a gateway is composed from; each is built in the composition root (src/app.ts). */
export interface Stages {
  audit: Stage;
  auth: Stage;
  policy: Stage;
  rateLimit: Stage;
  validate: Stage;
  confirmGate: Stage;
  upstream: Stage;
}

/** The ordered chain. */
export function chain(s: Stages): Stage[] {
  return [s.audit, s.auth, s.policy, s.rateLimit, s.validate, s.confirmGate, s.upstream];
}

/** Composes stages onion-style (koa-compose semantics: `next()` may be called at most once). */
export function compose(stages: readonly Stage[]): (ctx: CallContext) => Promise<void> {
  return function run(ctx: CallContext): Promise<void> {
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
