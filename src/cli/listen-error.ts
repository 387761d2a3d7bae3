/**
 * A listen failure as an operator reads it: which address, and which flag or variable picks
 * another one.
 */

/** The message for a failed listen on `http` (EADDRINUSE and EACCES get the way out). */
export function listenFailure(err: unknown, http: { host: string; port: number }): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  const where = `${http.host.includes(":") ? `[${http.host}]` : http.host}:${http.port}`;
  if (code === "EADDRINUSE") {
    return `port ${http.port} is already in use (${where}); pick another with --port N or COUNTERSIGN_PORT=N (PORT=N), or 0 for any free port`;
  }
  if (code === "EACCES") {
    return `not allowed to listen on ${where}; pick a port above 1023 with --port N or COUNTERSIGN_PORT=N (PORT=N)`;
  }
  if (code === "EADDRNOTAVAIL") {
    return `cannot listen on ${where}: no such local address; pick another with --host H or COUNTERSIGN_HOST=H`;
  }
  return err instanceof Error ? err.message : String(err);
}
