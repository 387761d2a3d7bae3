/** OAuth connections: the grants people gave clients, with revocation. */
import { useEffect, useState } from "preact/hooks";
import { api, type OAuthGrant } from "../api.js";
import { when, zone } from "../format.js";
import { Badge, ErrorNote, PageHead } from "./common.js";

/** The Connections page. */
export function ConnectionsPage() {
  const [grants, setGrants] = useState<OAuthGrant[] | null>(null);
  const [error, setError] = useState<unknown>();
  const load = () => api.grants().then((g) => (setGrants(g.grants), setError(undefined)), setError);
  useEffect(() => {
    void load();
  }, []);
  async function revoke(g: OAuthGrant) {
    if (!confirm(`Revoke ${g.clientName}'s access? Its next call is refused.`)) return;
    await api.revokeGrant(g.id).then(load, setError);
  }
  return (
    <>
      <PageHead title="Connections">
        <button type="button" onClick={load}>
          Refresh
        </button>
      </PageHead>
      <p class="muted">Clients people connected with OAuth, and what they allowed. Times in {zone}.</p>
      <ErrorNote error={error} />
      {grants && grants.length === 0 && <p class="empty">No connections yet. A client that signs in with OAuth appears here once someone allows it.</p>}
      {grants && grants.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Client</th>
                <th scope="col">Allowed by</th>
                <th scope="col">Modules</th>
                <th scope="col">Ends</th>
                <th scope="col">Status</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {grants.map((g) => (
                <tr key={g.id}>
                  <th scope="row">
                    {g.clientName} <span class="muted mono">{g.id}</span>
                  </th>
                  <td>{g.user}</td>
                  <td>
                    {g.modules === "all" ? "all" : g.modules.join(", ")}
                    {g.readOnly ? " (read-only)" : ""}
                  </td>
                  <td>{when(g.expiresAt)}</td>
                  <td>
                    <Badge kind={g.status}>{g.status === "revoked" && g.revokedWhy === "refresh_reuse" ? "revoked (refresh reuse)" : g.status}</Badge>
                  </td>
                  <td>
                    {g.status === "active" && (
                      <button type="button" onClick={() => void revoke(g)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
