/** Activity: the live timeline of audit events (pushed over Server-Sent Events), filters, details. */
import { useEffect, useState } from "preact/hooks";
import { api, type ActivityDetail, type ActivityEntry, type ActivityFilter, type Token } from "../api.js";
import { clock, duration, json, when, zone } from "../format.js";
import { Badge, ErrorNote, PageHead } from "./common.js";

const OUTCOMES = ["ok", "pending", "executed", "cancelled", "expired", "denied", "unauthorized", "rate_limited", "invalid", "upstream_error", "error"];
const MAX_ROWS = 2000;
/** Rows shown first (few, so the page is quick to draw); older ones come with "Show older". */
const FIRST_ROWS = 50;
const MORE_ROWS = 100;

/** `datetime-local` input value ↔ ISO instant, in the viewer's zone. */
function toInput(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}
function fromInput(value: string): string | undefined {
  return value ? new Date(value).toISOString() : undefined;
}

function Detail(props: { id: number; onClose: () => void }) {
  const [entry, setEntry] = useState<ActivityDetail | null>(null);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    setEntry(null);
    api
      .activityDetail(props.id)
      .then((d) => setEntry(d.entry))
      .catch(setError);
  }, [props.id]);
  return (
    <aside class="panel detail" aria-labelledby="detail-title">
      <div class="page-head">
        <h2 id="detail-title">Call details</h2>
        <button type="button" onClick={props.onClose}>
          Close
        </button>
      </div>
      <ErrorNote error={error} />
      {entry && (
        <>
          <dl class="facts">
            <dt>Time</dt>
            <dd>{when(entry.ts)}</dd>
            <dt>Tool</dt>
            <dd class="mono">{entry.tool || "(none: refused before a tool was named)"}</dd>
            {entry.upstream && (
              <>
                <dt>Upstream</dt>
                <dd class="mono">{entry.upstream}</dd>
              </>
            )}
            <dt>Token</dt>
            <dd>{entry.subject ?? "—"} <span class="muted mono">{entry.tokenId ?? ""}</span></dd>
            <dt>Outcome</dt>
            <dd>
              <Badge kind={entry.outcome ?? "none"}>{entry.outcome ?? "—"}</Badge> {entry.errorCode && <span class="mono">{entry.errorCode}</span>}
            </dd>
            <dt>Duration</dt>
            <dd>{duration(entry.durationMs)} {entry.upstreamMs !== null && <span class="muted">(upstream {duration(entry.upstreamMs)}, HTTP {entry.upstreamStatus ?? "—"})</span>}</dd>
            <dt>Transport</dt>
            <dd>{entry.transport}</dd>
            <dt>Request id</dt>
            <dd class="mono">{entry.requestId}</dd>
            {entry.actionId && (
              <>
                <dt>Pending action</dt>
                <dd class="mono">{entry.actionId}</dd>
              </>
            )}
          </dl>
          {entry.summary && <p>{entry.summary}</p>}
          {entry.error && <p class="error">{entry.error}</p>}
          <h3>Arguments (capped, secrets redacted)</h3>
          <pre class="snippet" data-testid="detail-args">{entry.args === null ? "none" : json(entry.args)}</pre>
          <h3>Result excerpt</h3>
          <pre class="snippet">{entry.resultExcerpt ?? "none recorded"}</pre>
        </>
      )}
    </aside>
  );
}

/** The Activity page; `params.token` shows one token's timeline. */
export function ActivityPage(props: { params: Record<string, string> }) {
  const [filter, setFilter] = useState<ActivityFilter>({ token: props.params.token, tool: props.params.tool, module: props.params.module, outcome: props.params.outcome, upstream: props.params.upstream });
  // The gateway's upstreams; the filter and the column show only when there are several.
  const [upstreams, setUpstreams] = useState<string[]>([]);
  const [entries, setEntries] = useState<ActivityEntry[]>([]);
  const [tokens, setTokens] = useState<Token[]>([]);
  const [error, setError] = useState<unknown>();
  const [live, setLive] = useState<"connecting" | "live" | "off">("connecting");
  const [selected, setSelected] = useState<number | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [more, setMore] = useState(false);

  useEffect(() => {
    api.tokens().then((t) => setTokens(t.tokens), () => undefined);
  }, []);

  useEffect(() => {
    setLoaded(false);
    api
      .activity({ ...filter, limit: FIRST_ROWS })
      .then((a) => (setEntries(a.entries), setUpstreams(a.upstreams ?? []), setMore(a.entries.length === FIRST_ROWS), setError(undefined)))
      .catch(setError)
      .finally(() => setLoaded(true));
    // Live updates only make sense without an end time.
    if (filter.until) {
      setLive("off");
      return;
    }
    const source = api.events({ token: filter.token, tool: filter.tool, module: filter.module, outcome: filter.outcome, upstream: filter.upstream });
    source.onopen = () => setLive("live");
    source.onerror = () => setLive("connecting");
    source.addEventListener("activity", (ev) => {
      const entry = JSON.parse((ev as MessageEvent<string>).data) as ActivityEntry;
      setEntries((old) => (old.some((e) => e.id === entry.id) ? old : [entry, ...old].slice(0, MAX_ROWS)));
    });
    return () => source.close();
  }, [filter.token, filter.tool, filter.module, filter.outcome, filter.upstream, filter.since, filter.until]);

  const names = new Map(tokens.map((t) => [t.id, t.name]));
  async function older() {
    const last = entries[entries.length - 1];
    if (!last) return;
    try {
      const a = await api.activity({ ...filter, before: last.id, limit: MORE_ROWS });
      setEntries((old) => [...old, ...a.entries].slice(0, MAX_ROWS));
      setMore(a.entries.length === MORE_ROWS && entries.length + a.entries.length < MAX_ROWS);
    } catch (err) {
      setError(err);
    }
  }
  const several = upstreams.length > 1;
  const modules = [...new Set(entries.map((e) => e.module).filter((m): m is string => !!m))].sort();
  const set = (patch: Partial<ActivityFilter>) => {
    const next = { ...filter, ...patch };
    setFilter(next);
    const q = new URLSearchParams(Object.entries({ token: next.token, upstream: next.upstream, tool: next.tool, module: next.module, outcome: next.outcome }).filter(([, v]) => v) as [string, string][]).toString();
    history.replaceState(null, "", `#/activity${q ? `?${q}` : ""}`);
  };

  return (
    <>
      <PageHead title={filter.token ? `Activity of ${names.get(filter.token) ?? filter.token}` : "Activity"}>
        <span class={`live live-${live}`} role="status">
          {live === "live" ? "● Live" : live === "off" ? "Paused (end time set)" : "Reconnecting…"}
        </span>
      </PageHead>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <div>
          <label for="f-token">Token</label>
          <select id="f-token" value={filter.token ?? ""} onChange={(e) => set({ token: e.currentTarget.value || undefined })}>
            <option value="">All tokens</option>
            {tokens.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </div>
        {several && (
          <div>
            <label for="f-upstream">Upstream</label>
            <select id="f-upstream" value={filter.upstream ?? ""} onChange={(e) => set({ upstream: e.currentTarget.value || undefined })}>
              <option value="">All upstreams</option>
              {upstreams.map((u) => (
                <option key={u} value={u}>
                  {u}
                </option>
              ))}
            </select>
          </div>
        )}
        <div>
          <label for="f-tool">Tool</label>
          <input id="f-tool" value={filter.tool ?? ""} onChange={(e) => set({ tool: e.currentTarget.value.trim() || undefined })} placeholder="exact tool name" />
        </div>
        <div>
          <label for="f-module">Module</label>
          <input id="f-module" list="f-modules" value={filter.module ?? ""} onChange={(e) => set({ module: e.currentTarget.value.trim() || undefined })} placeholder="any" />
          <datalist id="f-modules">
            {modules.map((m) => (
              <option key={m} value={m} />
            ))}
          </datalist>
        </div>
        <div>
          <label for="f-outcome">Outcome</label>
          <select id="f-outcome" value={filter.outcome ?? ""} onChange={(e) => set({ outcome: e.currentTarget.value || undefined })}>
            <option value="">Any</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="f-since">From</label>
          <input id="f-since" type="datetime-local" value={toInput(filter.since)} onChange={(e) => set({ since: fromInput(e.currentTarget.value) })} />
        </div>
        <div>
          <label for="f-until">To</label>
          <input id="f-until" type="datetime-local" value={toInput(filter.until)} onChange={(e) => set({ until: fromInput(e.currentTarget.value) })} />
        </div>
      </form>
      <ErrorNote error={error} />
      {loaded && entries.length === 0 && !error && (
        <p class="empty">
          No calls match yet. When an agent calls a tool with one of your tokens it appears here at once; widen the filters to see more.
        </p>
      )}
      <div class={selected !== null ? "split" : ""}>
        {entries.length > 0 && (
          <div class="table-wrap">
            <table class="timeline stack">
              <caption class="muted">Newest first · times in {zone}</caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Token</th>
                  {several && <th scope="col">Upstream</th>}
                  <th scope="col">Tool</th>
                  <th scope="col">Summary</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Duration</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => (
                  <tr key={e.id} data-entry={e.id} class={selected === e.id ? "selected" : ""}>
                    <td>
                      <time dateTime={e.ts} title={when(e.ts)}>
                        {clock(e.ts)}
                      </time>
                    </td>
                    <td data-label="Token">{(e.tokenId && names.get(e.tokenId)) ?? e.subject ?? "—"}</td>
                    {several && (
                      <td data-label="Upstream" class="mono">
                        {e.upstream ?? <span class="muted">gateway</span>}
                      </td>
                    )}
                    <td data-label="Tool">
                      <button type="button" class="link mono" onClick={() => setSelected(e.id)} aria-label={`Details of ${e.tool || "the refused request"} at ${clock(e.ts)}`}>
                        {e.tool || "(no tool)"}
                      </button>
                    </td>
                    <td data-label="Summary" class="summary">
                      <span class="clamp">{e.summary ?? ""}</span>
                    </td>
                    <td data-label="Outcome">
                      <Badge kind={e.outcome ?? "none"}>{e.outcome ?? "—"}</Badge>
                    </td>
                    <td data-label="Duration" class="num">{duration(e.durationMs)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {more && (
              <div class="actions more">
                <button type="button" onClick={older}>
                  Show older calls
                </button>
              </div>
            )}
          </div>
        )}
        {selected !== null && <Detail id={selected} onClose={() => setSelected(null)} />}
      </div>
    </>
  );
}
