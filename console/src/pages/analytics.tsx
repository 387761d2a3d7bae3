/** Analytics: calls over time, error and rate-limited rates, latency per tool, usage per token and per upstream. */
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { api, type Analytics } from "../api.js";
import { duration, percent, zone } from "../format.js";
import { ErrorNote, PageHead } from "./common.js";

const RANGES = [
  { id: "hour", label: "Last hour", unit: "per minute" },
  { id: "day", label: "Last day", unit: "per 30 minutes" },
  { id: "week", label: "Last week", unit: "per 6 hours" },
] as const;

function CallsChart(props: { data: Analytics }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const s = props.data.series;
    const width = Math.max(280, el.clientWidth);
    const chart = new uPlot(
      {
        width,
        height: 240,
        // uPlot draws local time by default: the viewer's zone.
        series: [
          {},
          { label: "Calls", stroke: "#2457c5", width: 2, fill: "rgba(36,87,197,0.08)", points: { show: false } },
          { label: "Errors", stroke: "#b3261e", width: 2, points: { show: false } },
          { label: "Rate limited", stroke: "#b86e00", width: 2, dash: [6, 4], points: { show: false } },
        ],
        axes: [{}, { label: "calls" }],
        scales: { y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] } },
      },
      [s.t.map((t) => t / 1000), s.calls, s.errors, s.rateLimited],
      el,
    );
    const onResize = () => chart.setSize({ width: Math.max(280, el.clientWidth), height: 240 });
    addEventListener("resize", onResize);
    return () => (removeEventListener("resize", onResize), chart.destroy());
  }, [props.data]);
  return <div ref={ref} class="chart" role="img" aria-label={`Calls, errors and rate-limited calls over time: ${props.data.totals.calls} calls in all`} />;
}

function Bars(props: { rows: readonly { label: string; value: number }[]; label: string }) {
  const max = Math.max(1, ...props.rows.map((r) => r.value));
  return (
    <ul class="bars" aria-label={props.label}>
      {props.rows.map((r) => (
        <li key={r.label}>
          <span class="bar-label mono">{r.label}</span>
          <span class="bar" style={{ width: `${(r.value / max) * 100}%` }} />
          <span class="num">{r.value}</span>
        </li>
      ))}
    </ul>
  );
}

/** Calls, errors and rate-limited calls per upstream (a gateway of several). */
function PerUpstream(props: { data: Analytics }) {
  const rows = props.data.upstreams;
  const max = Math.max(1, ...rows.map((r) => r.calls));
  return (
    <section class="panel" aria-labelledby="per-upstream">
      <h2 id="per-upstream">Per upstream</h2>
      <div class="table-wrap">
        <table class="per-upstream">
          <thead>
            <tr>
              <th scope="col">Upstream</th>
              <th scope="col">Calls</th>
              <th scope="col">Share</th>
              <th scope="col">Errors</th>
              <th scope="col">Rate limited</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((u) => (
              <tr key={u.upstream} data-upstream={u.upstream}>
                <th scope="row" class="mono">
                  {u.upstream ? <a href={`#/activity?upstream=${encodeURIComponent(u.upstream)}`}>{u.upstream}</a> : <span class="muted">gateway tools</span>}
                </th>
                <td class="num">{u.calls}</td>
                <td class="share">
                  <span class="bar" style={{ width: `${(u.calls / max) * 100}%` }} />
                </td>
                <td class="num">
                  {u.errors} <span class="muted">({percent(u.calls ? u.errors / u.calls : 0)})</span>
                </td>
                <td class="num">
                  {u.rateLimited} <span class="muted">({percent(u.calls ? u.rateLimited / u.calls : 0)})</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The Analytics page. */
export function AnalyticsPage() {
  const [range, setRange] = useState<"hour" | "day" | "week">("hour");
  const [data, setData] = useState<Analytics | null>(null);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    let stop = false;
    const load = () =>
      api
        .analytics(range)
        .then((d) => !stop && (setData(d), setError(undefined)))
        .catch((e) => !stop && setError(e));
    void load();
    // Charts refresh on activity pushed by the event stream, at most every two seconds.
    const source = api.events({});
    let timer: ReturnType<typeof setTimeout> | undefined;
    source.addEventListener("activity", () => {
      timer ??= setTimeout(() => ((timer = undefined), void load()), 2000);
    });
    return () => ((stop = true), source.close(), timer && clearTimeout(timer));
  }, [range]);
  const unit = RANGES.find((r) => r.id === range)!.unit;
  return (
    <>
      <PageHead title="Analytics">
        <div class="segmented" role="group" aria-label="Time range">
          {RANGES.map((r) => (
            <button key={r.id} type="button" aria-pressed={range === r.id} onClick={() => setRange(r.id)}>
              {r.label}
            </button>
          ))}
        </div>
      </PageHead>
      <ErrorNote error={error} />
      {data && (
        <>
          <div class="stats">
            <div class="stat">
              <span class="stat-value" data-testid="total-calls">{data.totals.calls}</span>
              <span class="stat-label">calls</span>
            </div>
            <div class="stat">
              <span class="stat-value">{percent(data.totals.errorRate)}</span>
              <span class="stat-label">errors ({data.totals.errors})</span>
            </div>
            <div class="stat">
              <span class="stat-value">{percent(data.totals.rateLimitedRate)}</span>
              <span class="stat-label">rate limited ({data.totals.rateLimited})</span>
            </div>
          </div>
          {data.totals.calls === 0 ? (
            <p class="empty">No calls in this range. Agents' calls show up here as they happen; try a longer range.</p>
          ) : (
            <>
              <section class="panel">
                <h2>Calls {unit}</h2>
                <p class="muted">Times in {zone}</p>
                <CallsChart data={data} />
              </section>
              <div class="two">
                <section class="panel">
                  <h2>Top tools</h2>
                  <Bars label="Calls per tool" rows={data.tools.slice(0, 10).map((t) => ({ label: t.tool || "(refused, no tool)", value: t.calls }))} />
                </section>
                <section class="panel">
                  <h2>Usage per token</h2>
                  <Bars label="Calls per token" rows={data.tokens.slice(0, 10).map((t) => ({ label: t.subject, value: t.calls }))} />
                </section>
              </div>
              {data.upstreams.length > 0 && <PerUpstream data={data} />}
              <section class="panel">
                <h2>Latency per tool</h2>
                <div class="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Tool</th>
                        <th scope="col">Calls</th>
                        <th scope="col">Errors</th>
                        <th scope="col">p50</th>
                        <th scope="col">p99</th>
                      </tr>
                    </thead>
                    <tbody>
                      {data.tools.map((t) => (
                        <tr key={t.tool}>
                          <th scope="row" class="mono">
                            {t.tool ? <a href={`#/activity?tool=${encodeURIComponent(t.tool)}`}>{t.tool}</a> : "(refused, no tool)"}
                          </th>
                          <td class="num">{t.calls}</td>
                          <td class="num">{t.errors}</td>
                          <td class="num">{duration(t.p50Ms)}</td>
                          <td class="num">{duration(t.p99Ms)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </section>
            </>
          )}
        </>
      )}
    </>
  );
}
