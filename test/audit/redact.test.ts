import { describe, expect, it } from "vitest";
import { capJson, capText } from "../../src/audit/cap.js";
import { isSecretName, redact, REDACTED, sensitiveProperties } from "../../src/audit/redact.js";
import { redactText } from "../../src/audit/recorder.js";
import { createTask } from "./fixtures.js";

describe("isSecretName", () => {
  it("matches secret-looking names in any case and spelling", () => {
    for (const n of ["password", "PASSWORD", "userPassword", "client_secret", "access_token", "api_key", "apiKey", "X-Api-Key", "APIKEY", "Authorization", "privateKey", "refreshToken"]) {
      expect(isSecretName(n), n).toBe(true);
    }
  });
  it("leaves ordinary names alone", () => {
    for (const n of ["max_tokens", "title", "author", "passenger", "compass", "keyword", "description"]) expect(isSecretName(n), n).toBe(false);
  });
});

describe("sensitiveProperties", () => {
  it("finds format: password and writeOnly at any depth, through $ref and combinators", () => {
    const schema = {
      type: "object",
      properties: {
        a: { type: "string", format: "password" },
        nested: { type: "object", properties: { b: { type: "string", writeOnly: true } } },
        list: { type: "array", items: { $ref: "#/$defs/Item" } },
        either: { anyOf: [{ type: "string", format: "password" }, { type: "null" }] },
        plain: { type: "string" },
      },
      $defs: { Item: { type: "object", properties: { c: { type: "string", writeOnly: true } } } },
    };
    expect([...sensitiveProperties(schema)].sort()).toEqual(["a", "b", "c", "either"]);
  });
});

describe("redact", () => {
  it("redacts schema secrets and secret names at any depth without touching the input", () => {
    const args = {
      project_id: 42,
      title: "Ship",
      pin: "1234",
      webhook: { signing_value: "s3cr3t-v4lue", url: "https://x" },
      nested: [{ deeper: { Password: "hunter2", ok: 1 } }],
      note: "use csk_AbCdEfGh12345678 to log in",
    };
    const out = JSON.stringify(redact(args, sensitiveProperties(createTask.inputSchema)));
    expect(out).not.toContain("1234");
    expect(out).not.toContain("s3cr3t-v4lue");
    expect(out).not.toContain("hunter2");
    expect(out).not.toContain("csk_AbCdEfGh12345678");
    expect(out).toContain('"title":"Ship"');
    expect(out).toContain('"url":"https://x"');
    expect(out).toContain(REDACTED);
    expect(args.pin).toBe("1234");
  });

  it("redacts secrets inside JSON and form text", () => {
    const text = '{"name":"n","api_key":"abc123","inner":{"token":42}} password=zzz&x=1 Authorization: Bearer abcdefghijklmnopqrstuvwxyz';
    const out = redactText(text);
    expect(out).not.toMatch(/abc123|zzz|"token":42|abcdefghijklmnop/);
    expect(out).toContain('"name":"n"');
    expect(out).toContain("x=1");
  });

  it("redacts a secret cut in half at the end of an excerpt", () => {
    expect(redactText('{"password":"hunter2-and-more')).not.toContain("hunter2");
  });
});

describe("caps", () => {
  it("stores a 100 KB argument as at most 4,096 bytes ending with a truncation marker", () => {
    const big = { body: "x".repeat(100 * 1024) };
    const { value, truncated } = capJson(big);
    expect(truncated).toBe(true);
    expect(typeof value).toBe("string");
    const bytes = Buffer.byteLength(value as string);
    expect(bytes).toBe(4096);
    expect(value as string).toMatch(new RegExp(`…\\[truncated, ${Buffer.byteLength(JSON.stringify(big))} bytes\\]$`));
    expect((value as string).startsWith('{"body":"xxxx')).toBe(true);
  });

  it("keeps small values as they are", () => {
    expect(capJson({ a: 1 })).toEqual({ value: { a: 1 }, truncated: false });
  });

  it("never splits a multi-byte character", () => {
    const { text } = capText("€".repeat(5000), 4096);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(4096);
    expect(text).not.toContain("\uFFFD");
  });
});
