/**
 * Redirect URIs: what a client may register, and whether a presented one matches. Matching is
 * exact string comparison, except that a loopback redirect (`http://127.0.0.1`, `http://[::1]`,
 * `http://localhost`) matches on any port, as RFC 8252 §7.3 asks for native clients.
 */

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]", "localhost"]);

/** Why a redirect URI cannot be registered, or undefined when it can. */
export function redirectUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `redirect URI ${JSON.stringify(uri)} is not an absolute URL`;
  }
  if (url.hash) return `redirect URI ${uri} must not have a fragment`;
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:") return LOOPBACK_HOSTS.has(url.hostname) ? undefined : `redirect URI ${uri}: http is only allowed on loopback (127.0.0.1, [::1], localhost); use https`;
  // Private-use schemes of native apps (RFC 8252 §7.1) need a dot, reverse-domain style.
  if (/^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(url.protocol)) return undefined;
  return `redirect URI ${uri}: scheme ${url.protocol} is not allowed (https, loopback http, or a reverse-domain private scheme)`;
}

/** Whether `presented` matches one of the registered URIs. */
export function redirectUriMatches(registered: readonly string[], presented: string): boolean {
  if (registered.includes(presented)) return true;
  let p: URL;
  try {
    p = new URL(presented);
  } catch {
    return false;
  }
  if (p.protocol !== "http:" || !LOOPBACK_HOSTS.has(p.hostname)) return false;
  return registered.some((r) => {
    let u: URL;
    try {
      u = new URL(r);
    } catch {
      return false;
    }
    // Same everything but the port.
    return u.protocol === "http:" && u.hostname === p.hostname && u.pathname === p.pathname && u.search === p.search && u.username === p.username && u.password === p.password;
  });
}
