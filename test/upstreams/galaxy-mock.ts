/**
 * A small in-memory mock of the Scalar Galaxy API's planets (test/fixtures/specs/
 * fixture-scalar-galaxy-3.1.json.gz): enough for list, read, update and delete, behind a bearer.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface GalaxyMock {
  readonly url: string;
  /** Requests seen, as `METHOD /path`. */
  readonly seen: string[];
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined;
}

export async function startGalaxyMock(token: string): Promise<GalaxyMock> {
  const planets = new Map<number, Record<string, unknown>>(
    [
      [1, "Mars", "terrestrial"],
      [2, "Jupiter", "gas_giant"],
      [3, "Neptune", "ice_giant"],
    ].map(([id, name, type]) => [id as number, { id, name, type, description: `${name as string}, a planet` }]),
  );
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const reply = (status: number, value?: unknown) => {
      res.writeHead(status, value === undefined ? {} : { "content-type": "application/json" });
      res.end(value === undefined ? undefined : JSON.stringify(value));
    };
    const u = new URL(req.url ?? "/", "http://mock");
    seen.push(`${req.method} ${u.pathname}`);
    // Reading planets is public in the spec (`security: []`); changing them needs the bearer.
    const open = req.method === "GET" && u.pathname.startsWith("/planets");
    if (!open && req.headers.authorization !== `Bearer ${token}`) return reply(401, { title: "Unauthorized" });
    void (async () => {
      const one = /^\/planets\/(\d+)$/.exec(u.pathname);
      if (u.pathname === "/planets" && req.method === "GET") {
        const limit = Number(u.searchParams.get("limit") ?? 10);
        const data = [...planets.values()].slice(0, limit);
        return reply(200, { data, meta: { limit, offset: 0, total: planets.size } });
      }
      if (!one) return reply(404, { title: "Not Found" });
      const id = Number(one[1]);
      const planet = planets.get(id);
      if (!planet) return reply(404, { title: "Not Found", detail: `no planet ${id}` });
      if (req.method === "GET") return reply(200, planet);
      if (req.method === "PUT") {
        const next = { ...planet, ...((await body(req)) as object), id };
        planets.set(id, next);
        return reply(200, next);
      }
      if (req.method === "DELETE") {
        planets.delete(id);
        return reply(204);
      }
      reply(405, { title: "Method Not Allowed" });
    })().catch(() => reply(500, { title: "mock failure" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
