import { describe, expect, it } from "vitest";
import { buildRequest } from "../../src/upstream/build-request.js";
import { GatewayError } from "../../src/errors.js";
import { fixtureTool } from "../fixtures/tools/index.js";

const base = { baseUrl: "http://up.test" };

function refused(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error("expected a refusal");
}

describe("path parameters", () => {
  it("joins the server base path and percent-encodes values", () => {
    const r = buildRequest(fixtureTool("get_item"), { item_id: "a b/c?d#e" }, base);
    expect(r.url).toBe("http://up.test/v1/items/a%20b%2Fc%3Fd%23e");
  });

  it("keeps '../' inside the segment: a value cannot climb the path", () => {
    const r = buildRequest(fixtureTool("get_item"), { item_id: "../../admin" }, base);
    expect(new URL(r.url).pathname).toBe("/v1/items/..%2F..%2Fadmin");
  });

  it("refuses dot segments and empty values, which URL parsing would collapse", () => {
    for (const v of ["..", "."]) {
      const err = refused(() => buildRequest(fixtureTool("get_item"), { item_id: v }, base));
      expect(err.code).toBe("invalid_arguments");
    }
    expect(refused(() => buildRequest(fixtureTool("get_item"), { item_id: "" }, base)).message).toMatch(/must not be empty/);
    // An encoded dot segment in the value is encoded again, so it stays a literal.
    expect(buildRequest(fixtureTool("get_item"), { item_id: "%2e%2e" }, base).url).toBe("http://up.test/v1/items/%252e%252e");
  });

  it("serializes simple, label and matrix styles", () => {
    const r = buildRequest(fixtureTool("path_styles"), { plain: ["a", "b"], labelled: ["x", "y z"], matrixed: { a: "1", b: 2 } }, base);
    expect(new URL(r.url).pathname).toBe("/v1/styles/a,b/.x,y%20z/;a=1;b=2");
  });

  it("lets the configured base path replace the server base path", () => {
    expect(buildRequest(fixtureTool("get_item"), { item_id: "7" }, { baseUrl: "http://up.test", basePath: "/" }).url).toBe("http://up.test/items/7");
    expect(buildRequest(fixtureTool("get_item"), { item_id: "7" }, { baseUrl: "http://up.test/p", basePath: "/v2" }).url).toBe("http://up.test/p/v2/items/7");
  });

  it("lets an upstream URL with a path replace the server base path", () => {
    const r = buildRequest(fixtureTool("get_item"), { item_id: "7" }, { baseUrl: "http://up.test/proxy/api" });
    expect(r.url).toBe("http://up.test/proxy/api/items/7");
  });
});

describe("query parameters", () => {
  it("serializes form, explode, spaceDelimited, pipeDelimited, deepObject and allowReserved", () => {
    const r = buildRequest(
      fixtureTool("search_items"),
      { q: "a&b=c", tags: ["x", "y"], ids: [1, 2], codes: ["p", "q"], filter: { status: "open", owner: { id: 3 } }, next: "/page?2:3#x", limit: 5 },
      base,
    );
    expect(new URL(r.url).search).toBe(
      "?q=a%26b%3Dc&tags=x&tags=y&ids=1%202&codes=p%7Cq&filter[status]=open&filter[owner][id]=3&next=/page?2:3%23x&limit=5",
    );
  });

  it("uses form without explode as a comma list", () => {
    const r = buildRequest(fixtureTool("get_item"), { item_id: "1", fields: ["id", "name"] }, base);
    expect(new URL(r.url).search).toBe("?fields=id,name");
  });
});

describe("headers and cookies", () => {
  it("sends header and cookie parameters", () => {
    const r = buildRequest(fixtureTool("with_headers"), { trace_id: "abc-1", pref: "dark mode" }, base);
    expect(r.headers["x-trace-id"]).toBe("abc-1");
    expect(r.headers.cookie).toBe("pref=dark%20mode");
  });

  it("refuses CR/LF in a header value", () => {
    for (const v of ["a\r\nX-Evil: 1", "a\nb", "a\rb"]) {
      const err = refused(() => buildRequest(fixtureTool("with_headers"), { trace_id: v }, base));
      expect(err.code).toBe("invalid_arguments");
      expect(err.message).toMatch(/trace_id.*CR, LF/);
    }
  });
});

describe("bodies", () => {
  it("builds JSON from flat arguments, leaving path arguments out", () => {
    const r = buildRequest(fixtureTool("create_item"), { project_id: 4, name: "N", count: 2 }, base);
    expect(r.url).toBe("http://up.test/v1/projects/4/items");
    expect(r.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(r.body as string)).toEqual({ name: "N", count: 2 });
  });

  it("form-encodes with deepObject for nested values", () => {
    const r = buildRequest(
      fixtureTool("create_charge"),
      { amount: 100, currency: "eur", metadata: { order: "A&1" }, items: [{ price: "p_1", quantity: 2 }], tags: ["a", "b"] },
      base,
    );
    expect(r.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(r.body).toBe("amount=100&currency=eur&metadata[order]=A%261&items[0][price]=p_1&items[0][quantity]=2&tags=a&tags=b");
  });

  it("builds multipart with a base64 file part", async () => {
    const r = buildRequest(fixtureTool("upload_file"), { file: Buffer.from("PNGDATA").toString("base64"), description: "logo" }, base);
    expect(r.body).toBeInstanceOf(FormData);
    const form = r.body as FormData;
    const file = form.get("file") as File;
    expect(file.type).toBe("image/png");
    expect(Buffer.from(await file.arrayBuffer()).toString()).toBe("PNGDATA");
    expect(form.get("description")).toBe("logo");
    expect(r.headers["content-type"]).toBeUndefined();
  });

  it("refuses a file argument that is not base64 when the schema says base64", () => {
    expect(refused(() => buildRequest(fixtureTool("upload_file"), { file: "not base64!" }, base)).code).toBe("invalid_arguments");
  });

  it("sends raw octet-stream bytes decoded from base64", () => {
    const r = buildRequest(fixtureTool("put_blob"), { blob_id: "b1", body: Buffer.from([0, 1, 2, 255]).toString("base64") }, base);
    expect(r.headers["content-type"]).toBe("application/octet-stream");
    expect([...(r.body as Uint8Array)]).toEqual([0, 1, 2, 255]);
  });
});

describe("credentials", () => {
  it("applies bearer, basic and apiKey (header, query, cookie) as each operation requires", () => {
    const cred = { ...base, credential: "s3cret" };
    expect(buildRequest(fixtureTool("get_bearer"), {}, cred).headers.authorization).toBe("Bearer s3cret");
    expect(buildRequest(fixtureTool("get_basic"), {}, { ...base, credential: "u:p" }).headers.authorization).toBe(`Basic ${Buffer.from("u:p").toString("base64")}`);
    expect(buildRequest(fixtureTool("get_key_header"), {}, cred).headers["x-api-key"]).toBe("s3cret");
    expect(buildRequest(fixtureTool("get_key_query"), {}, cred).url).toBe("http://up.test/v1/secure/query?api_key=s3cret");
    expect(buildRequest(fixtureTool("get_key_cookie"), {}, cred).headers.cookie).toBe("sid=s3cret");
  });

  it("sends no credential to a public operation", () => {
    const r = buildRequest(fixtureTool("get_item"), { item_id: "1" }, { ...base, credential: "s3cret" });
    expect(JSON.stringify(r.headers)).not.toContain("s3cret");
    expect(r.url).not.toContain("s3cret");
  });
});

describe("lone UTF-16 surrogates", () => {
  // encodeURIComponent throws URIError on them, FormData and Buffer silently turn them into U+FFFD:
  // either way the upstream would not get what the caller sent. Refused before anything is sent.
  const lone = ["\ud800", "a\udfffb", "x\ud83d", "\ude00y"];

  function refusal(tool: string, args: Record<string, unknown>, argument: string): void {
    const err = refused(() => buildRequest(fixtureTool(tool), args, base));
    expect(err.code).toBe("invalid_arguments");
    expect(err.message).toMatch(new RegExp(`^${argument.replace(/[[\]]/g, "\\$&")}: contains a lone UTF-16 surrogate`));
    expect(err.details?.argument).toBe(argument.split(/[.[]/)[0]);
  }

  it("refuses them in a path argument, every style, naming the argument", () => {
    for (const s of lone) {
      refusal("get_item", { item_id: s }, "item_id");
      refusal("path_styles", { plain: ["a", s], labelled: "x", matrixed: { a: "1" } }, "plain[1]");
      refusal("path_styles", { plain: "a", labelled: [s], matrixed: { a: "1" } }, "labelled[0]");
      refusal("path_styles", { plain: "a", labelled: "x", matrixed: { [s]: "1" } }, "matrixed");
    }
  });

  it("refuses them in query arguments, every style, keys included", () => {
    for (const s of lone) {
      refusal("search_items", { q: s }, "q");
      refusal("search_items", { tags: ["ok", s] }, "tags[1]");
      refusal("search_items", { ids: [s] }, "ids[0]");
      refusal("search_items", { codes: [s] }, "codes[0]");
      refusal("search_items", { filter: { status: s } }, "filter.status");
      refusal("search_items", { filter: { [s]: "x" } }, "filter");
      refusal("search_items", { next: s }, "next");
    }
  });

  it("refuses them in headers and cookies", () => {
    for (const s of lone) {
      refusal("with_headers", { trace_id: s }, "trace_id");
      refusal("with_headers", { pref: s }, "pref");
    }
  });

  it("refuses them in form, multipart and text bodies", () => {
    for (const s of lone) {
      refusal("create_charge", { amount: 1, currency: s }, "currency");
      refusal("create_charge", { amount: 1, currency: "eur", metadata: { order: s } }, "metadata.order");
      refusal("upload_file", { file: "aGVsbG8=", description: s }, "description");
      refusal("upload_file", { file: { text: s, filename: "a.txt" } }, "file.text");
      refusal("upload_file", { file: { base64: "aGVsbG8=", filename: `n${s}.png` } }, "file.filename");
      refusal("upload_note", { body: { note: s } }, "body.note");
      refusal("post_text", { body: s }, "body");
    }
  });

  it("keeps well-formed text with astral characters (a surrogate pair is not lone)", () => {
    const r = buildRequest(fixtureTool("get_item"), { item_id: "😀é" }, base);
    expect(decodeURIComponent(new URL(r.url).pathname.split("/").pop()!)).toBe("😀é");
    const q = buildRequest(fixtureTool("search_items"), { q: "😀", filter: { "ключ": "😀" } }, base);
    expect(new URL(q.url).searchParams.get("q")).toBe("😀");
    expect(new URL(q.url).searchParams.get("filter[ключ]")).toBe("😀");
  });

  it("leaves JSON bodies alone: JSON carries a lone surrogate as an escape", () => {
    const r = buildRequest(fixtureTool("create_item"), { project_id: 1, name: "\ud800" }, base);
    expect(r.body).toBe('{"name":"\\ud800"}');
  });
});

describe("found by the property tests", () => {
  it("encodes '.' inside a label-style value, which would read as the separator", () => {
    const r = buildRequest(fixtureTool("path_styles"), { plain: "a", labelled: ["a.b", "c"], matrixed: { a: "1" } }, base);
    expect(new URL(r.url).pathname.split("/")[4]).toBe(".a%2Eb,c");
  });

  it("refuses an exploded object key that would be sent as another query parameter", () => {
    const err = refused(() => buildRequest(fixtureTool("search_items"), { q: "x", tags: { limit: "1000" } }, base));
    expect(err.code).toBe("invalid_arguments");
    expect(err.message).toMatch(/^tags: key 'limit' would be sent as the query parameter 'limit'/);
  });

  it("refuses a space or pipe inside a spaceDelimited or pipeDelimited value", () => {
    expect(refused(() => buildRequest(fixtureTool("search_items"), { ids: ["1", "2 3"] }, base)).message).toMatch(/^ids\[1\]: contains ' ', which spaceDelimited/);
    expect(refused(() => buildRequest(fixtureTool("search_items"), { codes: ["p|q"] }, base)).message).toMatch(/^codes\[0\]: contains '\|', which pipeDelimited/);
  });
});
