/** The console's shell: session check, navigation, and the page for the current hash route. */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, UNAUTHORIZED, useCsrf, type Session } from "./api.js";
import { route } from "./format.js";
import { TokensPage } from "./pages/tokens.js";
import { ActivityPage } from "./pages/activity.js";
import { AnalyticsPage } from "./pages/analytics.js";
import { ToolsPage } from "./pages/tools.js";
import { PendingPage } from "./pages/pending.js";
import { ConsentPage } from "./pages/consent.js";
import { ConnectionsPage } from "./pages/connections.js";
import { ApprovalsPage } from "./pages/approvals.js";
import "./styles.css";

const PAGES = [
  { id: "tokens", label: "Tokens" },
  { id: "activity", label: "Activity" },
  { id: "analytics", label: "Analytics" },
  { id: "tools", label: "Tools" },
  { id: "pending", label: "Pending actions" },
  { id: "connections", label: "Connections" },
  { id: "approvals", label: "Approvals" },
] as const;

/** Where a consent request waits while its person signs in (this tab only). */
const RESUME_KEY = "countersign.resume";

function SignIn(props: { problem?: string }) {
  const signin = new URLSearchParams(location.search).get("signin");
  // A client sent the person here to consent: come back to the request once signed in (same tab).
  const consent = location.hash.startsWith("#/consent");
  if (consent) sessionStorage.setItem(RESUME_KEY, location.hash);
  return (
    <main class="signin" id="main">
      <h1>Countersign console</h1>
      {consent && <p class="notice" role="status">A client asks to connect as you. Sign in to decide: open your sign-in link in this tab and the request comes back.</p>}
      {signin === "used" && <p class="error" role="alert">That sign-in link was already used or has expired. Links work once, for 10 minutes.</p>}
      {signin === "malformed" && <p class="error" role="alert">That sign-in link is incomplete. Copy the whole link, up to the end of its last line.</p>}
      {props.problem && !signin && <p class="notice" role="status">{props.problem}</p>}
      <p>Sign in with a one-time link. On the gateway's host, run:</p>
      <pre class="snippet">countersign admins link</pre>
      <p>
        No admin yet? Create one first with <code>countersign admins create --name YOUR-NAME</code>. <code>make run</code> prints a link when it starts.
      </p>
    </main>
  );
}

/** Whether a session was established in this page (so a later 401 means it ended). */
let signedIn = false;

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [problem, setProblem] = useState<string | undefined>();
  const [checked, setChecked] = useState(false);
  const [hash, setHash] = useState(location.hash);

  useEffect(() => {
    const onHash = () => setHash(location.hash);
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);

  useEffect(() => {
    // Any 401 (a session that ended while the page was open included) shows the sign-in page.
    const onUnauthorized = (e: Event) => {
      useCsrf(null);
      setSession(null);
      // Say why only to someone who was signed in (a first visit just sees how to sign in).
      if (signedIn) setProblem((e as CustomEvent<string>).detail);
      signedIn = false;
      setChecked(true);
    };
    addEventListener(UNAUTHORIZED, onUnauthorized);
    return () => removeEventListener(UNAUTHORIZED, onUnauthorized);
  }, []);

  useEffect(() => {
    api
      .session()
      .then((s) => {
        signedIn = true;
        useCsrf(s.csrf);
        setSession(s);
        const resume = sessionStorage.getItem(RESUME_KEY);
        sessionStorage.removeItem(RESUME_KEY);
        if (resume && !location.hash) location.hash = resume;
        if (location.search) history.replaceState(null, "", location.pathname + location.hash);
      })
      .catch((err: unknown) => setProblem(err instanceof ApiError && err.status === 401 ? undefined : (err as Error).message))
      .finally(() => setChecked(true));
  }, []);

  // The page starts loading its data alongside the session check (one round trip less before
  // the first rows); it is replaced by the sign-in page if there is no session.
  if (checked && !session) return <SignIn problem={problem} />;

  const [routed, params] = route(hash);
  // Members allow OAuth clients and manage their own connections; nothing else is theirs.
  const member = session?.admin.role === "member";
  const pages = member ? PAGES.filter((p) => p.id === "connections") : PAGES;
  const page = member && routed !== "consent" && routed !== "connections" ? "connections" : routed;
  async function signOut() {
    signedIn = false;
    await api.signOut().catch(() => undefined);
    useCsrf(null);
    setSession(null);
    setProblem("You are signed out.");
  }

  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Countersign console</span>
        <nav aria-label="Pages">
          {pages.map((p) => (
            <a key={p.id} href={`#/${p.id}`} aria-current={page === p.id ? "page" : undefined}>
              {p.label}
            </a>
          ))}
        </nav>
        {session && (
          <span class="who">
            Signed in as <strong>{session.admin.name}</strong>
            <button type="button" class="link" onClick={signOut}>
              Sign out
            </button>
          </span>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {page === "tokens" && <TokensPage />}
        {page === "activity" && <ActivityPage key={hash} params={params} />}
        {page === "analytics" && <AnalyticsPage />}
        {page === "tools" && <ToolsPage />}
        {page === "pending" && <PendingPage />}
        {page === "connections" && <ConnectionsPage />}
        {page === "consent" && <ConsentPage id={params.request ?? ""} />}
        {page === "approvals" && <ApprovalsPage key={hash} params={params} />}
        {!PAGES.some((p) => p.id === page) && page !== "consent" && (
          <p>
            No page called “{page}”. <a href="#/tokens">Go to Tokens</a>.
          </p>
        )}
      </main>
    </>
  );
}

// The static loading line in index.html paints before this script runs; the app takes its place.
document.getElementById("boot")?.remove();
render(<App />, document.getElementById("app")!);
