/** Tokens: every agent token, create one (the secret shown once, with client set-ups), revoke one. */
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type CreatedToken, type ModuleInfo, type Token } from "../api.js";
import { plural, when, zone } from "../format.js";
import { Badge, CopyButton, ErrorNote, PageHead } from "./common.js";

const EXPIRIES = [
  { value: "", label: "Never" },
  { value: "1d", label: "1 day" },
  { value: "7d", label: "7 days" },
  { value: "30d", label: "30 days" },
  { value: "90d", label: "90 days" },
];

function scope(t: Token): string {
  const modules = t.modules === "all" ? "all modules" : t.modules.join(", ");
  const upstreams = !t.upstreams || t.upstreams === "all" ? "" : `upstreams ${t.upstreams.join(", ")} · `;
  return `${upstreams}${modules} · ${t.readOnly ? "read-only" : "read-write"}${t.needsPerson ? " · every write needs a person" : ""} · tier ${t.tier}`;
}

/** `set` with `value` added, or removed when it was there. */
function flip(set: ReadonlySet<string>, value: string): Set<string> {
  const next = new Set(set);
  if (next.has(value)) next.delete(value);
  else next.add(value);
  return next;
}

function CreateForm(props: { onCreated: (c: CreatedToken) => void; onCancel: () => void }) {
  const [modules, setModules] = useState<ModuleInfo[]>([]);
  const [tiers, setTiers] = useState<string[]>(["default"]);
  const [credentials, setCredentials] = useState(false);
  const [upstreams, setUpstreams] = useState<string[]>([]);
  const [allUpstreams, setAllUpstreams] = useState(true);
  const [pickedUpstreams, setPickedUpstreams] = useState<Set<string>>(new Set());
  const [name, setName] = useState("");
  const [all, setAll] = useState(true);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [readOnly, setReadOnly] = useState(false);
  const [needsPerson, setNeedsPerson] = useState(false);
  const [tier, setTier] = useState("default");
  const [expires, setExpires] = useState("");
  const [upstream, setUpstream] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const nameRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    nameRef.current?.focus();
    api
      .modules()
      .then((m) => (setModules(m.modules), setTiers(m.tiers), setUpstreams(m.upstreams ?? []), setCredentials(m.upstreamCredentials)))
      .catch(setError);
  }, []);

  async function submit(e: Event) {
    e.preventDefault();
    setError(undefined);
    if (!name.trim()) return setError(new Error("Give the token a name: who or what will hold it (e.g. “laptop claude”)."));
    if (!all && picked.size === 0) return setError(new Error("Pick at least one module, or allow all modules."));
    if (!allUpstreams && pickedUpstreams.size === 0) return setError(new Error("Pick at least one upstream, or allow all upstreams."));
    setBusy(true);
    try {
      props.onCreated(await api.createToken({ name: name.trim(), modules: all ? "all" : [...picked], ...(allUpstreams ? {} : { upstreams: [...pickedUpstreams] }), readOnly, ...(needsPerson ? { needsPerson } : {}), tier, ...(expires ? { expires } : {}), ...(upstream ? { upstreamCredential: upstream } : {}) }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const toggle = (m: string) => {
    const next = new Set(picked);
    if (next.has(m)) next.delete(m);
    else next.add(m);
    setPicked(next);
  };

  return (
    <form class="panel create" onSubmit={submit} aria-labelledby="create-title">
      <h2 id="create-title">New token</h2>
      <label for="token-name">Name</label>
      <input id="token-name" ref={nameRef} value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="who or what holds it, e.g. laptop claude" maxLength={100} autoComplete="off" />
      {upstreams.length > 0 && (
        <fieldset>
          <legend>Upstreams</legend>
          <label class="check">
            <input type="checkbox" checked={allUpstreams} onChange={(e) => setAllUpstreams(e.currentTarget.checked)} /> All upstreams
          </label>
          {!allUpstreams && (
            <div class="module-grid">
              {upstreams.map((u) => (
                <label class="check" key={u}>
                  <input type="checkbox" name="upstream" value={u} checked={pickedUpstreams.has(u)} onChange={() => setPickedUpstreams(flip(pickedUpstreams, u))} /> {u}
                </label>
              ))}
            </div>
          )}
        </fieldset>
      )}
      <fieldset>
        <legend>Modules</legend>
        <label class="check">
          <input type="checkbox" checked={all} onChange={(e) => setAll(e.currentTarget.checked)} /> All modules
        </label>
        {!all && (
          <div class="module-grid">
            {modules.map((m) => (
              <label class="check" key={m.name} title={m.description}>
                <input type="checkbox" name="module" value={m.name} checked={picked.has(m.name)} disabled={m.tools === 0} onChange={() => toggle(m.name)} /> {m.name}{" "}
                <span class="muted">({m.tools === 0 ? "no usable tools: all excluded" : `${plural(m.tools, "tool")}${m.writes ? `, ${plural(m.writes, "write")}` : ""}`})</span>
              </label>
            ))}
          </div>
        )}
      </fieldset>
      <label class="check">
        <input type="checkbox" checked={readOnly} onChange={(e) => setReadOnly(e.currentTarget.checked)} /> Read-only (writes are refused)
      </label>
      <label class="check">
        <input type="checkbox" checked={needsPerson} onChange={(e) => setNeedsPerson(e.currentTarget.checked)} /> Every write needs a person's approval (in Approvals)
      </label>
      <div class="row">
        <div>
          <label for="token-tier">Rate-limit tier</label>
          <select id="token-tier" value={tier} onChange={(e) => setTier(e.currentTarget.value)}>
            {tiers.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="token-expiry">Expires after</label>
          <select id="token-expiry" value={expires} onChange={(e) => setExpires(e.currentTarget.value)}>
            {EXPIRIES.map((x) => (
              <option key={x.value} value={x.value}>
                {x.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      {credentials && (
        <>
          <label for="token-upstream">Own upstream credential (optional, stored encrypted)</label>
          <input id="token-upstream" type="password" value={upstream} onInput={(e) => setUpstream(e.currentTarget.value)} autoComplete="off" />
        </>
      )}
      <ErrorNote error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Creating…" : "Create token"}
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function Created(props: { created: CreatedToken; onDone: () => void }) {
  const { created } = props;
  return (
    <section class="panel created" aria-labelledby="created-title">
      <h2 id="created-title">Token “{created.token.name}” created</h2>
      <p class="warn" role="status">
        Copy the secret now: this is the only time it is shown. A lost token is revoked and replaced.
      </p>
      <div class="secret-row">
        <code class="secret" data-testid="secret">
          {created.secret}
        </code>
        <CopyButton text={created.secret} label="Copy the token secret" />
      </div>
      <h3>Connect a client</h3>
      {created.connect.map((s) => (
        <details key={s.id} open={s.id === "claude-desktop"}>
          <summary>{s.title}</summary>
          <div class="snippet-wrap">
            <pre class="snippet" data-snippet={s.id}>
              {s.text}
            </pre>
            <CopyButton text={s.text} label={`Copy: ${s.title}`} />
          </div>
        </details>
      ))}
      <button type="button" class="primary" onClick={props.onDone}>
        Done, I stored it
      </button>
    </section>
  );
}

function RevokeDialog(props: { token: Token; onClose: (revoked: boolean) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  async function revoke() {
    try {
      await api.revokeToken(props.token.id);
      ref.current?.close();
      props.onClose(true);
    } catch (err) {
      setError(err);
    }
  }
  return (
    <dialog ref={ref} aria-labelledby="revoke-title" onCancel={() => props.onClose(false)}>
      <h2 id="revoke-title">Revoke “{props.token.name}”?</h2>
      <p>Clients using this token get 401 on their next call. This cannot be undone; the holder needs a new token.</p>
      <ErrorNote error={error} />
      <div class="actions">
        <button type="button" class="danger" onClick={revoke}>
          Revoke token
        </button>
        <button type="button" onClick={() => (ref.current?.close(), props.onClose(false))} autoFocus>
          Keep it
        </button>
      </div>
    </dialog>
  );
}

/** The Tokens page. */
export function TokensPage() {
  const [tokens, setTokens] = useState<Token[] | null>(null);
  const [error, setError] = useState<unknown>();
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);

  const load = () =>
    api
      .tokens()
      .then((t) => (setTokens(t.tokens), setError(undefined)))
      .catch(setError);
  useEffect(() => {
    void load();
  }, []);

  return (
    <>
      <PageHead title="Tokens">
        {!creating && !created && (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            New token
          </button>
        )}
      </PageHead>
      {creating && (
        <CreateForm
          onCancel={() => setCreating(false)}
          onCreated={(c) => {
            setCreating(false);
            setCreated(c);
            void load();
          }}
        />
      )}
      {created && <Created created={created} onDone={() => setCreated(null)} />}
      <ErrorNote error={error} />
      {tokens && tokens.length === 0 && (
        <p class="empty">
          No tokens yet. Create one with <strong>New token</strong>, name it after the device or agent that will hold it, and paste the set-up it shows into that client.
        </p>
      )}
      {tokens && tokens.length > 0 && (
        <div class="table-wrap">
          <table class="stack">
            <caption class="muted">Times in {zone}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Scope</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">Calls today</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.map((t) => (
                <tr key={t.id} data-token={t.id} class={t.status !== "active" ? "inactive" : ""}>
                  <th scope="row">
                    {t.name}
                    <div class="muted mono">{t.id}</div>
                  </th>
                  <td data-label="Scope">{scope(t)}</td>
                  <td data-label="Created">{when(t.createdAt)}</td>
                  <td data-label="Last used">{t.lastUsedAt ? when(t.lastUsedAt) : "never"}</td>
                  <td data-label="Expires">{t.expiresAt ? when(t.expiresAt) : "never"}</td>
                  <td data-label="Calls today" class="num">{t.callsToday}</td>
                  <td data-label="Status">
                    <Badge kind={t.status}>{t.status}</Badge>
                  </td>
                  <td>
                    <div class="row-actions">
                    <a href={`#/activity?token=${encodeURIComponent(t.id)}`}>Activity</a>
                    {t.status !== "revoked" && (
                      <button type="button" class="danger small" onClick={() => setRevoking(t)} aria-label={`Revoke ${t.name}`}>
                        Revoke
                      </button>
                    )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {revoking && (
        <RevokeDialog
          token={revoking}
          onClose={(revoked) => {
            setRevoking(null);
            if (revoked) void load();
          }}
        />
      )}
    </>
  );
}
