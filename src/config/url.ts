/**
 * The one http(s) URL check of the configuration: `upstream.url` (which also refuses a query
 * string or fragment) and each upstream's `url` and `mcp.url`. Each reader says how a problem is
 * reported, so its messages keep naming its own key.
 */

/** `s` as an http(s) URL without trailing slashes; anything else is handed to `refuse` with what is wrong. */
export function httpUrl(s: string, refuse: (problem: string) => never, options: { refuseQuery?: boolean } = {}): string {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    refuse(`not a valid URL: ${JSON.stringify(s)}`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") refuse(`must be an http(s) URL, got ${u.protocol}`);
  if (options.refuseQuery && (u.search || u.hash)) refuse("must not carry a query string or fragment");
  return s.replace(/\/+$/, "");
}
