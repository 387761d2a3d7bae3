/** Tools: the catalog by module, what is write / sensitive / excluded and why, searchable. */
import { useEffect, useState } from "preact/hooks";
import { api, type Catalog } from "../api.js";
import { plural } from "../format.js";
import { Badge, ErrorNote, PageHead } from "./common.js";

/** The Tools page. */
export function ToolsPage() {
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [error, setError] = useState<unknown>();
  const [q, setQ] = useState("");
  useEffect(() => {
    api.tools().then(setCatalog, setError);
  }, []);
  const needle = q.trim().toLowerCase();
  const modules = (catalog?.modules ?? [])
    .map((m) => ({ ...m, tools: m.tools.filter((t) => !needle || `${m.name} ${t.name} ${t.title} ${t.description} ${t.path}`.toLowerCase().includes(needle)) }))
    .filter((m) => m.tools.length > 0);
  const count = modules.reduce((n, m) => n + m.tools.length, 0);
  return (
    <>
      <PageHead title="Tools" />
      <div class="search">
        <label for="tool-search">Search tools</label>
        <input id="tool-search" type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} placeholder="name, module, path or words from the description" />
        {catalog && (
          <span class="muted" role="status">
            {plural(count, "tool")}
          </span>
        )}
      </div>
      <ErrorNote error={error} />
      {catalog && count === 0 && <p class="empty">No tool matches “{q}”. Try a shorter word or a module name.</p>}
      {modules.map((m) => (
        <section key={m.name} class="panel" aria-labelledby={`mod-${m.name}`}>
          <h2 id={`mod-${m.name}`}>
            {m.name} <span class="muted">· {plural(m.tools.length, "tool")}</span>
          </h2>
          {m.description && <p class="muted">{m.description}</p>}
          <div class="table-wrap">
            <table class="catalog stack">
              <thead>
                <tr>
                  <th scope="col">Tool</th>
                  <th scope="col">Operation</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Description</th>
                </tr>
              </thead>
              <tbody>
                {m.tools.map((t) => (
                  <tr key={t.name}>
                    <th scope="row" class="mono">{t.name}</th>
                    <td class="mono" data-label="Operation">
                      {t.method} {t.path}
                    </td>
                    <td data-label="Kind">
                      {t.excluded ? (
                        <Badge kind="excluded" title={t.excluded}>
                          excluded: {t.excluded}
                        </Badge>
                      ) : (
                        <>
                          <Badge kind={t.write ? "write" : "read"}>{t.write ? "write (confirmed)" : "read"}</Badge> {t.sensitive && <Badge kind="sensitive">sensitive</Badge>}
                        </>
                      )}
                    </td>
                    <td data-label="Description">{t.description}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
      {catalog && catalog.excludedOperations.length > 0 && !needle && (
        <section class="panel">
          <h2>Operations never exposed</h2>
          <ul>
            {catalog.excludedOperations.map((o) => (
              <li key={o.operationId}>
                <span class="mono">
                  {o.method.toUpperCase()} {o.path}
                </span>{" "}
                — {o.reason}
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}
