/**
 * Approvals: the writes that wait for a person, newest first. Opening one re-reads the resource
 * now and shows the diff against it; Approve runs exactly the stored request once, Reject sends
 * the agent a reason. Recent decisions (and failed webhook deliveries) are listed below.
 */
import { useEffect, useState } from "preact/hooks";
import { api, type ApprovalDecided, type ApprovalDetail, type ApprovalItem } from "../api.js";
import { json, when, zone } from "../format.js";
import { Badge, ErrorNote, PageHead } from "./common.js";

type Diff = NonNullable<ApprovalDetail["preview"]["diff"]>;

function DiffTable(props: { diff: Diff; caption: string }) {
  if (props.diff.length === 0) return <p class="muted">{props.caption}: no field changes.</p>;
  return (
    <div class="table-wrap">
      <table>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Now</th>
            <th scope="col">After</th>
          </tr>
        </thead>
        <tbody>
          {props.diff.map((d) => (
            <tr key={d.path}>
              <th scope="row" class="mono">{d.path}</th>
              <td class="mono">{d.before === undefined ? "—" : json(d.before)}</td>
              <td class="mono">{d.after === undefined ? "(removed)" : json(d.after)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** One action in full, with the decision buttons. */
function Detail(props: { id: string; onDecided: () => void }) {
  const [a, setA] = useState<ApprovalDetail | null>(null);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const [done, setDone] = useState<ApprovalDecided | null>(null);
  useEffect(() => {
    setA(null);
    setDone(null);
    api.approval(props.id).then((r) => (setA(r.approval), setError(undefined)), setError);
  }, [props.id]);

  async function decide(run: () => Promise<ApprovalDecided>) {
    setBusy(true);
    try {
      setDone(await run());
      setError(undefined);
      props.onDecided();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (!a) return <ErrorNote error={error} />;
  const fresh = a.fresh && "readAt" in a.fresh ? a.fresh : null;
  const open = a.status === "awaiting_approval" && !done;
  return (
    <article class="panel pending" aria-labelledby="approval-title" data-testid="approval-detail">
      <h2 id="approval-title">{a.summary}</h2>
      <p>
        <Badge kind={done ? (done.verdict === "approved" ? done.outcome ?? "approved" : "rejected") : a.status}>{done ? (done.verdict === "approved" ? done.outcome : "rejected") : a.status.replace("_", " ")}</Badge> asked by <strong>{a.requestedBy}</strong>{" "}
        <span class="muted mono">{a.tokenId}</span> · {when(a.requestedAt)} · needs {a.approval === "both" ? "the agent and a person" : "a person"} · expires {when(a.expiresAt)}
      </p>
      <p class="mono">
        {a.upstream && <span class="upstream-tag">{a.upstream}</span>} {a.method} {a.url}
      </p>
      {a.warnings.length > 0 && (
        <ul class="warnings">
          {a.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      {fresh?.changed && (
        <p class="error" role="alert">
          The resource changed since the agent's preview. Approving will be refused as a conflict; reject it and let the agent preview again.
        </p>
      )}
      {fresh && a.method !== "DELETE" && <DiffTable diff={fresh.diff} caption={`Changes against the state read now (${when(fresh.readAt)})`} />}
      {a.fresh && "error" in a.fresh && <p class="notice">The current state could not be read now: {a.fresh.error}</p>}
      {!fresh && a.preview.diff && <DiffTable diff={a.preview.diff} caption="Changes against the state at preview time" />}
      {a.preview.steps && (
        <ol class="steps" data-testid="change-set-steps">
          {a.preview.steps.map((st) => (
            <li key={st.ref}>
              <strong>{st.ref}</strong> [{st.kind}] {st.summary}
              {st.approval_policy && st.approval_policy !== "agent" ? ` · needs ${st.approval_policy === "both" ? "the agent and a person" : "a person"}` : ""}
              <div class="mono">
                {st.method} {st.url}
              </div>
              {st.body !== undefined && <pre class="snippet">{json(st.body)}</pre>}
              {st.diff && st.diff.length > 0 && <DiffTable diff={st.diff} caption={`${st.ref}: changes against the state at preview time`} />}
              {st.current_note && <p class="muted">{st.current_note}</p>}
            </li>
          ))}
        </ol>
      )}
      {a.preview.body !== undefined && (
        <details open>
          <summary>Body to send</summary>
          <pre class="snippet">{json(a.preview.body)}</pre>
        </details>
      )}
      {fresh?.current !== undefined && fresh.current !== null && (
        <details open={a.method === "DELETE"}>
          <summary>{a.method === "DELETE" ? `What it deletes (read now, ${when(fresh.readAt)})` : "Current state (read now)"}</summary>
          <pre class="snippet">{json(fresh.current)}</pre>
        </details>
      )}
      {a.preview.current !== undefined && (
        <details>
          <summary>State at preview time</summary>
          <pre class="snippet">{json(a.preview.current)}</pre>
        </details>
      )}
      {a.decision && !done && (
        <p>
          {a.decision.verdict === "approved" ? "Approved" : "Rejected"} by <strong>{a.decision.by}</strong> {when(a.decision.atIso)}
          {a.decision.reason ? `: ${a.decision.reason}` : ""}
          {a.decision.outcome ? ` (${a.decision.outcome})` : ""}
        </p>
      )}
      <ErrorNote error={error} />
      {done && (
        <p role="status" class={done.outcome === "executed" || done.verdict === "rejected" ? "notice" : "error"} data-testid="decision">
          {done.verdict === "rejected"
            ? `Rejected. The agent is told: ${done.reason ?? ""}`
            : done.outcome === "executed"
              ? "Approved and executed once."
              : done.outcome === "conflict"
                ? `Refused as a conflict: ${done.message ?? "the resource changed since the preview"}`
                : `Approved, but it ${done.outcome}: ${done.error?.message ?? ""}`}
        </p>
      )}
      {open && !rejecting && (
        <div class="actions">
          <button type="button" class="primary" disabled={busy} onClick={() => decide(() => api.approve(a.actionId))}>
            Approve
          </button>
          <button type="button" disabled={busy} onClick={() => setRejecting(true)}>
            Reject…
          </button>
        </div>
      )}
      {open && rejecting && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void decide(() => api.reject(a.actionId, reason));
          }}
        >
          <label for="reject-reason">Reason (the agent sees it)</label>
          <textarea id="reject-reason" required maxLength={500} value={reason} onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)} />
          <div class="actions">
            <button type="submit" class="danger" disabled={busy || reason.trim() === ""}>
              Reject
            </button>
            <button type="button" onClick={() => setRejecting(false)}>
              Back
            </button>
          </div>
        </form>
      )}
    </article>
  );
}

/** The Approvals page. */
export function ApprovalsPage(props: { params: Record<string, string> }) {
  const [items, setItems] = useState<ApprovalItem[] | null>(null);
  const [recent, setRecent] = useState<ApprovalItem[]>([]);
  const [error, setError] = useState<unknown>();
  const load = () =>
    Promise.all([api.approvals(), api.approvals(true)]).then(([open, all]) => {
      setItems(open.approvals);
      setRecent(all.approvals.filter((x) => x.status !== "awaiting_approval" || x.delivery?.ok === false).slice(0, 20));
      setError(undefined);
    }, setError);
  useEffect(() => {
    void load();
  }, []);
  const selected = props.params.id;
  return (
    <>
      <PageHead title="Approvals">
        <button type="button" onClick={load}>
          Refresh
        </button>
      </PageHead>
      <p class="muted">Writes that need a person's signature. Approving runs exactly the request shown, once. Times in {zone}.</p>
      <ErrorNote error={error} />
      {items && items.length === 0 && <p class="empty">Nothing awaits approval. When an agent asks for a write that needs a person, it appears here.</p>}
      {items && items.length > 0 && (
        <ul class="inbox" aria-label="Awaiting approval">
          {items.map((x) => (
            <li key={x.actionId} aria-current={x.actionId === selected ? "true" : undefined}>
              <a href={`#/approvals?id=${encodeURIComponent(x.actionId)}`}>{x.summary}</a>{" "}
              <span class="muted">
                {x.upstream ? `${x.upstream} · ` : ""}
                {x.method} · {x.requestedBy} · {when(x.awaitingSince ?? x.requestedAt)}
              </span>
              {x.delivery && !x.delivery.ok && (
                <Badge kind="error" title={x.delivery.error}>
                  webhook failed
                </Badge>
              )}
            </li>
          ))}
        </ul>
      )}
      {selected && <Detail key={selected} id={selected} onDecided={load} />}
      {recent.length > 0 && (
        <>
          <h2>Recent</h2>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Action</th>
                  <th scope="col">Asked by</th>
                  <th scope="col">Status</th>
                  <th scope="col">Decided by</th>
                  <th scope="col">Webhook</th>
                </tr>
              </thead>
              <tbody>
                {recent.map((x) => (
                  <tr key={x.actionId}>
                    <td>
                      <a href={`#/approvals?id=${encodeURIComponent(x.actionId)}`}>{x.summary || x.actionId}</a>
                    </td>
                    <td>{x.requestedBy}</td>
                    <td>
                      <Badge kind={x.status}>{x.status.replace("_", " ")}</Badge>
                    </td>
                    <td>{x.decision ? `${x.decision.by}${x.decision.reason ? `: ${x.decision.reason}` : ""}` : "—"}</td>
                    <td>{!x.delivery ? "—" : x.delivery.ok ? `delivered (${x.delivery.attempts})` : `failed after ${x.delivery.attempts}: ${x.delivery.error ?? ""}`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}
