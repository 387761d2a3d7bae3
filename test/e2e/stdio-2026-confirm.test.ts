/**
 * `countersign stdio` with `confirm.elicitation` on, serving 2026-07-28 clients: over stdio the
 * server keeps no client capabilities, so whether a write's confirmation is asked as an input
 * request follows each request's envelope. A client whose envelope declares form elicitation is
 * asked; one that does not (or declares only URL elicitation) gets the pending action and its
 * confirm token. Needs dist/ (built by test/global-setup.ts unless COUNTERSIGN_SKIP_BUILD=1).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, type ElicitResult } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fixtureTools } from "../fixtures/tools/index.js";
import { writeGenerated } from "../support/generated.js";
import { startFixtureUpstream, type FixtureUpstream } from "../fixtures/upstream/server.mjs";

const CLI = join(process.cwd(), "bin/countersign.js");
const MODERN = "2026-07-28";
type Result = { content: { type: string; text?: string }[]; structuredContent?: Record<string, unknown>; isError?: boolean };

let up: FixtureUpstream;
let env: Record<string, string>;
let token: string;
const clients: Client[] = [];

beforeAll(async () => {
  up = await startFixtureUpstream();
  const work = mkdtempSync(join(tmpdir(), "cs-stdio26-confirm-"));
  const generated = join(work, "generated");
  writeGenerated(generated, fixtureTools(), "fixture");
  env = {
    PATH: process.env.PATH ?? "",
    HOME: work,
    COUNTERSIGN_DATA_DIR: join(work, "data"),
    COUNTERSIGN_UPSTREAM_URL: up.url,
    COUNTERSIGN_GENERATED_DIR: generated,
    COUNTERSIGN_CONFIRM_ELICITATION: "true",
    LOG_LEVEL: "warn",
  };
  const minted = spawnSync("node", [CLI, "tokens", "create", "--name", "stdio26-confirm", "--json"], { env, encoding: "utf8" });
  expect(minted.status, minted.stderr).toBe(0);
  token = (JSON.parse(minted.stdout) as { token: string }).token;
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await up.close();
});
beforeEach(() => up.reset());

/** A 2026-07-28 client over `countersign stdio`, declaring `capabilities`; `asked` collects the questions it is asked. */
function client(capabilities: Record<string, unknown>, asked: string[] = [], reply: ElicitResult = { action: "accept", content: { confirm: true } }): { client: Client; transport: StdioClientTransport } {
  const c = new Client({ name: "stdio26-confirm", version: "1" }, { capabilities, versionNegotiation: { mode: { pin: MODERN } } });
  if (capabilities.elicitation !== undefined) {
    c.setRequestHandler("elicitation/create", async (req) => {
      asked.push((req.params as { message: string }).message);
      return reply;
    });
  }
  clients.push(c);
  return { client: c, transport: new StdioClientTransport({ command: "node", args: [CLI, "stdio"], env: { ...env, MCP_TOKEN: token }, stderr: "pipe" }) };
}

const writes = () => up.requests.filter((r) => r.method === "POST");
const CREATE = { project_id: 7, name: "Asked over stdio" };

describe("countersign stdio, 2026-07-28: a write's confirmation follows the request envelope's capabilities", () => {
  it("a client whose envelope declares form elicitation gets the input request with the preview; accept runs the write once", async () => {
    // Read off the transport: the first answer is the input request itself, not a pending action.
    const asked: string[] = [];
    const { client: c, transport } = client({ elicitation: { form: {} } }, asked);
    await c.connect(transport);
    expect(c.getProtocolEra()).toBe("modern");
    const answers: Record<string, unknown>[] = [];
    const inner = transport.onmessage!;
    transport.onmessage = (message) => {
      if ("result" in message) answers.push(message.result as Record<string, unknown>);
      inner(message);
    };
    const done = (await c.callTool({ name: "create_item", arguments: CREATE })) as Result;
    expect(answers[0]?.resultType).toBe("input_required");
    const request = (answers[0]!.inputRequests as Record<string, { method: string; params: { message: string } }>).confirm!;
    expect(request.method).toBe("elicitation/create");
    expect(request.params.message).toContain("Asked over stdio");
    expect(request.params.message).not.toContain("cfm_");
    expect(JSON.stringify(answers[0])).not.toContain("confirm_token");
    // The client's retry carried the person's yes: asked once, the write ran once.
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain("Asked over stdio");
    expect(done.structuredContent).toMatchObject({ status: "executed" });
    expect(writes()).toHaveLength(1);
  }, 60_000);

  it("a client that declares no elicitation gets the pending action with its confirm token; a replayed confirm does not run it again", async () => {
    const { client: c, transport } = client({});
    await c.connect(transport);
    const pending = (await c.callTool({ name: "create_item", arguments: CREATE })) as Result;
    expect(pending.isError).toBeFalsy();
    expect(pending.structuredContent).toMatchObject({ status: "pending_confirmation", confirm_token: expect.stringMatching(/^cfm_/) });
    expect(writes()).toHaveLength(0);
    const confirmToken = pending.structuredContent!.confirm_token;
    expect(((await c.callTool({ name: "confirm_action", arguments: { confirm_token: confirmToken } })) as Result).structuredContent).toMatchObject({ status: "executed" });
    const again = (await c.callTool({ name: "confirm_action", arguments: { confirm_token: confirmToken } })) as Result;
    expect(again.isError).toBeFalsy();
    expect(writes()).toHaveLength(1);
  }, 60_000);

  it("an envelope declaring only URL elicitation is not asked a form: the pending action comes back", async () => {
    const asked: string[] = [];
    const { client: c, transport } = client({ elicitation: { url: {} } }, asked);
    await c.connect(transport);
    const pending = (await c.callTool({ name: "create_item", arguments: CREATE })) as Result;
    expect(pending.structuredContent).toMatchObject({ status: "pending_confirmation", confirm_token: expect.stringMatching(/^cfm_/) });
    expect(asked).toHaveLength(0);
    expect(writes()).toHaveLength(0);
  }, 60_000);
});

describe("countersign stdio, 2026-07-28: MCP Apps follow the request envelope's capabilities", () => {
  const UI = { extensions: { "io.modelcontextprotocol/ui": { mimeTypes: ["text/html;profile=mcp-app"] } } };
  const CARD = "ui://countersign/pending-action";
  const cardOf = (x: unknown) => (x as { _meta?: { ui?: { resourceUri?: string } } })._meta?.ui?.resourceUri;

  it("a client whose envelope declares the UI extension sees the card on writes, in resources/list and on a pending action", async () => {
    const { client: c, transport } = client(UI);
    await c.connect(transport);
    expect(c.getProtocolEra()).toBe("modern");
    const tools = (await c.listTools()).tools;
    expect(cardOf(tools.find((t) => t.name === "create_item"))).toBe(CARD);
    expect(cardOf(tools.find((t) => t.name === "get_item"))).toBeUndefined();
    expect((await c.listResources()).resources.map((r) => r.uri)).toEqual([CARD]);
    expect(((await c.readResource({ uri: CARD })).contents[0] as { mimeType?: string }).mimeType).toBe("text/html;profile=mcp-app");
    const pending = await c.callTool({ name: "create_item", arguments: CREATE });
    expect(cardOf(pending)).toBe(CARD);
    expect(writes()).toHaveLength(0);
  }, 60_000);

  it("a client that declares none sees no card, an empty resource list, and cannot read the card", async () => {
    const { client: c, transport } = client({});
    await c.connect(transport);
    const tools = (await c.listTools()).tools;
    expect(cardOf(tools.find((t) => t.name === "create_item"))).toBeUndefined();
    expect((await c.listResources()).resources).toEqual([]);
    await expect(c.readResource({ uri: CARD })).rejects.toThrow(/the only resource is ui:\/\/countersign\/pending-action, for clients that declare/);
    const pending = await c.callTool({ name: "create_item", arguments: CREATE });
    expect(cardOf(pending)).toBeUndefined();
  }, 60_000);
});
