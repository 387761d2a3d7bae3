import { describe, expect, it } from "vitest";
import type { AdmissionContext } from "../../src/context.js";
import { GatewayError } from "../../src/errors.js";
import { compose } from "../../src/pipeline.js";
import { createAuthStage } from "../../src/stages/auth.js";
import { createMemoryTokenStore } from "../../src/stores/tokens.js";
import { createAuthenticator } from "../../src/tokens/authenticate.js";
import { hashToken, mintToken } from "../../src/tokens/format.js";
import { readSecretKey } from "../../src/tokens/sealed-credential.js";

function setup() {
  const token = mintToken();
  const store = createMemoryTokenStore([
    { id: "tok_1", hash: hashToken(token), name: "agent-7", modules: ["tasks"], readOnly: true, tier: "default", createdAt: "2026-01-01T00:00:00.000Z" },
  ]);
  const authenticator = createAuthenticator({ store, secretKey: readSecretKey({}) });
  let reached = 0;
  const run = compose<AdmissionContext>([createAuthStage({ authenticator }), async () => void reached++]);
  return { token, store, run, reached: () => reached };
}

function admission(credential: string | undefined): AdmissionContext {
  return { transport: "http", credential, request: "POST /mcp", calls: [] };
}

describe("authenticate stage (admission)", () => {
  it("sets the principal, never the secret", async () => {
    const { token, run, reached } = setup();
    const ctx = admission(token);
    await run(ctx);
    expect(reached()).toBe(1);
    expect(ctx.principal).toMatchObject({ tokenId: "tok_1", subject: "agent-7", modules: ["tasks"], readOnly: true });
    expect(JSON.stringify(ctx.principal)).not.toContain(token);
  });

  it("stops admission on a bad credential, and checks again on every request", async () => {
    const { token, store, run, reached } = setup();
    for (const credential of [undefined, "nope", "Basic dXNlcjpwYXNz", mintToken()]) {
      await expect(run(admission(credential))).rejects.toBeInstanceOf(GatewayError);
    }
    await run(admission(token));
    await store.revoke("tok_1", new Date());
    const ctx = admission(token);
    await expect(run(ctx)).rejects.toMatchObject({ code: "unauthorized", details: { reason: "revoked" } });
    // The refused request is still attributed to the token whose holder presented it.
    expect(ctx.claimed).toEqual({ tokenId: "tok_1", subject: "agent-7" });
    expect(ctx.principal).toBeUndefined();
    expect(reached()).toBe(1);
  });

  it("gives every refusal a reason", async () => {
    const { run } = setup();
    for (const [credential, reason] of [[undefined, "missing"], ["Basic dXNlcjpwYXNz", "malformed"], ["Bearer", "malformed"], ["csk_a csk_b", "malformed"]] as const) {
      await expect(run(admission(credential))).rejects.toMatchObject({ code: "unauthorized", details: { reason } });
    }
  });
});
