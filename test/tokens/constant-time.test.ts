/**
 * The lint for "a constant-time comparison wherever a secret is compared": every `===`, `!==`,
 * `==`, `!=` in src/ whose operand names a secret (a token, hash, digest, checksum, credential,
 * password, signature, confirm token, ...) is a failure, unless the other side is a non-secret
 * sentinel (undefined, null, a boolean, a number). Such comparisons must go through
 * `safeEqual` (src/tokens/safe-equal.ts, crypto.timingSafeEqual). Deliberate exceptions go in
 * ALLOWED with the reason.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { safeEqualFixed } from "../../src/tokens/safe-equal.js";

const SRC = join(import.meta.dirname, "../../src");

/** Identifier names that hold a secret or something derived from one. */
const SECRET_NAME = /(secret|hash|digest|checksum|credential|password|passwd|api_?key|signature|hmac|authtag|bearer|token)$|^(hash|digest|secret)/i;

/** `file:code` → why the comparison is not of a secret. Keep it short and justified. */
const ALLOWED: Record<string, string> = {
  'cli/tokens.ts:values["upstream-credential"] === "-"': "checks for the '-' (read from stdin) marker, not the credential's value",
  "upstream/mcp-backend.ts:p?.progressToken === id": "matches an MCP progress notification to its call by the progress token the gateway chose (a request id), not a secret",
  "oauth/redirect.ts:u.password === p.password": "matches a loopback redirect URI's userinfo against the one the client registered (public, sent in the clear by the client), not a secret",
};

interface Finding {
  file: string;
  line: number;
  code: string;
}

function leafName(node: ts.Expression): string | undefined {
  let n: ts.Node = node;
  while (ts.isParenthesizedExpression(n) || ts.isNonNullExpression(n) || ts.isAsExpression(n)) n = n.expression;
  if (ts.isIdentifier(n)) return n.text;
  if (ts.isPropertyAccessExpression(n)) return n.name.text;
  if (ts.isElementAccessExpression(n) && ts.isStringLiteralLike(n.argumentExpression)) return n.argumentExpression.text;
  if (ts.isCallExpression(n)) return leafName(n.expression);
  return undefined;
}

function isSentinel(node: ts.Expression): boolean {
  let n: ts.Node = node;
  while (ts.isParenthesizedExpression(n)) n = n.expression;
  if (n.kind === ts.SyntaxKind.NullKeyword || n.kind === ts.SyntaxKind.TrueKeyword || n.kind === ts.SyntaxKind.FalseKeyword) return true;
  if (ts.isIdentifier(n) && n.text === "undefined") return true;
  if (ts.isNumericLiteral(n) || ts.isTypeOfExpression(n) || ts.isVoidExpression(n)) return true;
  if (ts.isPrefixUnaryExpression(n) && ts.isNumericLiteral(n.operand)) return true;
  return false;
}

const EQUALITY = new Set([
  ts.SyntaxKind.EqualsEqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsEqualsToken,
  ts.SyntaxKind.EqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsToken,
]);

/** Finds secret-looking equality comparisons in one source text. */
export function findSecretComparisons(file: string, text: string): Finding[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: Finding[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isBinaryExpression(node) && EQUALITY.has(node.operatorToken.kind)) {
      const sides = [node.left, node.right];
      const secretSide = sides.some((s) => SECRET_NAME.test(leafName(s) ?? ""));
      if (secretSide && !sides.some(isSentinel)) {
        found.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, code: node.getText() });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

describe("constant-time comparison lint", () => {
  it("flags secret comparisons with ===/!== and lets sentinels and ids through (self-test)", () => {
    const sample = `
      if (record.hash === hash) {}
      if (presentedChecksum !== expectedChecksum) {}
      if (args.confirm_token == action.confirmToken) {}
      if (hashToken(t) === stored) {}
      if (key.secret != other) {}
      if (credential === undefined) {}
      if (typeof token === "string") {}
      if (principal.tokenId === action.tokenId) {}
      if (token.length !== 40) {}
      if (hash === null || secret !== void 0) {}
      if (record.id === id) {}
    `;
    const flagged = findSecretComparisons("sample.ts", sample).map((f) => f.code);
    expect(flagged).toEqual([
      "record.hash === hash",
      "presentedChecksum !== expectedChecksum",
      "args.confirm_token == action.confirmToken",
      "hashToken(t) === stored",
      "key.secret != other",
    ]);
  });

  it("src/ compares secrets only in constant time", () => {
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(5);
    const findings = files
      .flatMap((path) => findSecretComparisons(relative(SRC, path), readFileSync(path, "utf8")))
      .filter((f) => !ALLOWED[`${f.file}:${f.code}`]);
    expect(findings.map((f) => `src/${f.file}:${f.line}: ${f.code} — use safeEqual from src/tokens/safe-equal.ts`)).toEqual([]);
  });

  it("the token code reaches crypto.timingSafeEqual through safeEqual", () => {
    const safe = readFileSync(join(SRC, "tokens/safe-equal.ts"), "utf8");
    expect(safe).toMatch(/timingSafeEqual\(/);
    for (const f of ["tokens/format.ts", "tokens/authenticate.ts"]) {
      expect(readFileSync(join(SRC, f), "utf8"), f).toMatch(/safeEqual(?:Fixed)?\(/);
    }
  });

  it("safeEqualFixed: equal, unequal, and unequal lengths (bytes, not characters) without throwing", () => {
    expect(safeEqualFixed("abc123", "abc123")).toBe(true);
    expect(safeEqualFixed("abc123", "abc124")).toBe(false);
    expect(safeEqualFixed("abc123", "abc12")).toBe(false);
    expect(safeEqualFixed("é", "ab")).toBe(false);
    expect(safeEqualFixed("", "")).toBe(true);
  });
});
