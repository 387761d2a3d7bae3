/** Pending actions: every open write across tokens with its preview (read-only here). */
import { useEffect, useState } from "preact/hooks";
import { api, type PendingEntry } from "../api.js";
import { json, when, zone } from "../format.js";
import { Badge, ErrorNote, PageHead } from "./common.js";

/** The Pending actions page. */
export function PendingPage() {
  const [actions, setActions] = useState<PendingEntry[] | null>(null);
  const [error, setError] = useState<unknown>();
  const load = () => api.pending().then((p) => (setActions(p.actions), setError(undefined)), setError);
  useEffect(() => {
    void load();
  }, []);
  return (
    <>
      <PageHead title="Pending actions">
        <button type="button" onClick={load}>
          Refresh
        </button>
      </PageHead>
      <p class="muted">Writes wait here until the agent that asked for them confirms or cancels them. Times in {zone}.</p>
      <ErrorNote error={error} />
      {actions && actions.length === 0 && <p class="empty">No open pending actions. When an agent asks for a write, its preview appears here until it is confirmed, cancelled or expires.</p>}
      {actions?.map((a) => (
        <article key={a.id} class="panel pending" aria-labelledby={`pa-${a.id}`}>
          <h2 id={`pa-${a.id}`}>{a.preview.summary}</h2>
          <p>
            <Badge kind={a.state}>{a.state}</Badge> by <strong>{a.tokenName}</strong> <span class="muted mono">{a.tokenId}</span> · asked {when(a.createdAt)} · expires {when(a.expiresAt)}
          </p>
          <p class="mono">
            {a.upstream && <span class="upstream-tag">{a.upstream}</span>} {a.preview.method} {a.preview.url}
          </p>
          {a.preview.warnings.length > 0 && (
            <ul class="warnings">
              {a.preview.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
          {a.preview.diff && a.preview.diff.length > 0 && (
            <>
              <h3>Changes</h3>
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Field</th>
                      <th scope="col">Now</th>
                      <th scope="col">After</th>
                    </tr>
                  </thead>
                  <tbody>
                    {a.preview.diff.map((d) => (
                      <tr key={d.path}>
                        <th scope="row" class="mono">{d.path}</th>
                        <td class="mono">{d.before === undefined ? "—" : json(d.before)}</td>
                        <td class="mono">{d.after === undefined ? "(removed)" : json(d.after)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
          {a.preview.body !== undefined && (
            <details open>
              <summary>Body to send</summary>
              <pre class="snippet">{json(a.preview.body)}</pre>
            </details>
          )}
          {a.preview.current !== undefined && (
            <details>
              <summary>Current state</summary>
              <pre class="snippet">{json(a.preview.current)}</pre>
            </details>
          )}
          {a.preview.current_note && <p class="muted">{a.preview.current_note}</p>}
        </article>
      ))}
    </>
  );
}
