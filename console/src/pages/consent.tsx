/** OAuth consent: a client asks to connect; the signed-in person chooses what it may do, or declines. */
import { useEffect, useState } from "preact/hooks";
import { api, type ConsentRequest } from "../api.js";
import { ErrorNote, PageHead } from "./common.js";

const EXPIRIES = [
  { value: "1d", label: "1 day" },
  { value: "7d", label: "7 days" },
  { value: "30d", label: "30 days" },
  { value: "90d", label: "90 days" },
];

/** The consent page for the held request `id`. */
export function ConsentPage(props: { id: string }) {
  const [req, setReq] = useState<ConsentRequest | null>(null);
  const [error, setError] = useState<unknown>();
  const [all, setAll] = useState(true);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [readOnly, setReadOnly] = useState(false);
  const [expires, setExpires] = useState("30d");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.consentRequest(props.id).then((r) => (setReq(r), setExpires(r.defaults.expires), setReadOnly(r.defaults.readOnly), setAll(!r.limits || r.limits.modules === "all")), setError);
  }, [props.id]);

  async function decide(approve: boolean) {
    setBusy(true);
    setError(undefined);
    try {
      const scope = approve ? { modules: all ? ("all" as const) : [...picked], readOnly, expires } : {};
      const { redirect } = await api.decide(props.id, { approve, ...scope });
      location.assign(redirect);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  const toggle = (m: string) => {
    const next = new Set(picked);
    if (next.has(m)) next.delete(m);
    else next.add(m);
    setPicked(next);
  };

  const limits = req?.limits;
  const expiries = limits ? EXPIRIES.filter((x) => parseInt(x.value, 10) <= limits.maxExpiryDays) : EXPIRIES;
  if (limits && !expiries.some((x) => x.value === `${limits.maxExpiryDays}d`)) expiries.push({ value: `${limits.maxExpiryDays}d`, label: `${limits.maxExpiryDays} days` });

  if (!req) {
    return (
      <>
        <PageHead title="Connect a client" />
        <ErrorNote error={error} />
        {!error && <p class="muted">Loading the request…</p>}
      </>
    );
  }
  return (
    <form class="panel consent" onSubmit={(e) => (e.preventDefault(), void decide(true))} aria-labelledby="consent-title">
      <h1 id="consent-title">
        Connect <strong>{req.client.name}</strong>?
      </h1>
      <p>
        It asks to call this gateway's tools as you. After you decide, your browser goes back to <strong class="mono">{req.client.redirectHost}</strong>.
      </p>
      <p class="muted">
        Client <span class="mono">{req.client.id}</span> ({req.client.via === "metadata_document" ? "metadata document" : "registered"}) · for <span class="mono">{req.request.resource}</span>
      </p>
      <fieldset>
        <legend>Modules it may use</legend>
        {(!limits || limits.modules === "all") && (
          <label class="check">
            <input type="checkbox" checked={all} onChange={(e) => setAll(e.currentTarget.checked)} /> All modules
          </label>
        )}
        {limits && limits.modules !== "all" && <p class="muted">An admin set the modules you may allow.</p>}
        {!all && (
          <div class="module-grid">
            {req.modules.map((m) => (
              <label class="check" key={m.name} title={m.description}>
                <input type="checkbox" name="module" value={m.name} checked={picked.has(m.name)} onChange={() => toggle(m.name)} /> {m.name}
              </label>
            ))}
          </div>
        )}
      </fieldset>
      <label class="check">
        <input type="checkbox" name="readOnly" checked={readOnly} disabled={limits?.readOnly === true} onChange={(e) => setReadOnly(e.currentTarget.checked)} /> Read-only (writes are refused)
      </label>
      <label for="consent-expiry">Access ends after</label>
      <select id="consent-expiry" value={expires} onChange={(e) => setExpires(e.currentTarget.value)}>
        {expiries.map((x) => (
          <option key={x.value} value={x.value}>
            {x.label}
          </option>
        ))}
      </select>
      <ErrorNote error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || (!all && picked.size === 0)}>
          Allow
        </button>
        <button type="button" disabled={busy} onClick={() => void decide(false)}>
          Decline
        </button>
      </div>
    </form>
  );
}
