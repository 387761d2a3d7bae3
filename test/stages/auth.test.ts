import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors.js";
import { compose } from "../../src/pipeline.js";
import { createAuthStage } from "../../src/stages/auth.js";
import { createMemoryTokenStore } from "../../src/stores/tokens.js";
import { createAuthenticator } from "../../src/tokens/authenticate.js";
import { hashToken, mintToken } from "../../src/tokens/format.js";
import { readSecretKey } from "../../src/tokens/sealed-credential.js";
import { context, principal, tool } from "../tokens/fixtures.js";

function setup() {
  const token = mintToken();
  const store = createMemoryTokenStore([
    { id: "tok_1", hash: hashToken(token), name: "agent-7", modules: ["tasks"], readOnly: true, tier: "default", createdAt: "2026-01-01T00:00:00.000Z" },
  ]);
  const authenticator = createAuthenticator({ store, secretKey: readSecretKey({}) });
  let reached = 0;
  const run = compose([createAuthStage({ authenticator }), async () => void reached++]);
  return { token, store, run, reached: () => reached };
}

describe("auth stage", () => {
  it("sets the principal and the audit's token id and subject, never the secret", async () => {
    const { token, run, reached } = setup();
    const ctx = context(tool("list_tasks"), { credential: token });
    await run(ctx);
    expect(reached()).toBe(1);
    expect(ctx.principal).toMatchObject({ tokenId: "tok_1", subject: "agent-7", modules: ["tasks"], readOnly: true });
    expect(ctx.audit.tokenId).toBe("tok_1");
    expect(ctx.audit.subject).toBe("agent-7");
    expect(JSON.stringify(ctx.audit)).not.toContain(token);
    expect(JSON.stringify(ctx.principal)).not.toContain(token);
  });

  it("stops the chain on a bad credential, and re-checks on every call", async () => {
    const { token, store, run, reached } = setup();
    for (const credential of [undefined, "nope", mintToken()]) {
      await expect(run(context(tool("list_tasks"), { credential }))).rejects.toBeInstanceOf(GatewayError);
    }
    await run(context(tool("list_tasks"), { credential: token }));
    await store.revoke("tok_1", new Date());
    const ctx = context(tool("list_tasks"), { credential: token });
    await expect(run(ctx)).rejects.toMatchObject({ code: "unauthorized", details: { reason: "revoked" } });
    // The refused call is still attributed to the token whose holder presented it.
    expect(ctx.audit.tokenId).toBe("tok_1");
    expect(ctx.principal).toBeUndefined();
    expect(reached()).toBe(1);
  });

  it("re-checks a call made under a principal without a credential (an action run on confirm)", async () => {
    const { store, run, reached } = setup();
    await run(context(tool("create_task", { write: true }), { principal: principal({ tokenId: "tok_1" }) }));
    expect(reached()).toBe(1);
    await store.revoke("tok_1", new Date());
    await expect(run(context(tool("create_task", { write: true }), { principal: principal({ tokenId: "tok_1" }) }))).rejects.toMatchObject({
      details: { reason: "revoked" },
    });
    expect(reached()).toBe(1);
  });
});
