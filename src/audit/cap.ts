/**
 * Byte caps for what an audit record stores, so one huge argument or response can't bloat the trail.
 */

/** Default cap for stored arguments and result excerpts, in UTF-8 bytes. */
export const DEFAULT_CAP_BYTES = 4096;

/** The marker that ends a truncated value; it says how big the original was. */
export function truncationMarker(originalBytes: number): string {
  return `…[truncated, ${originalBytes} bytes]`;
}

/**
 * Cuts `text` to at most `maxBytes` UTF-8 bytes, ending with a truncation marker when it was cut.
 * Never splits a multi-byte character.
 */
export function capText(text: string, maxBytes = DEFAULT_CAP_BYTES): { text: string; truncated: boolean } {
  // Fast path: every UTF-16 unit is at most 3 UTF-8 bytes.
  if (text.length * 3 <= maxBytes) return { text, truncated: false };
  const buf = Buffer.from(text, "utf8");
  if (buf.length <= maxBytes) return { text, truncated: false };
  const marker = truncationMarker(buf.length);
  let end = Math.max(0, maxBytes - Buffer.byteLength(marker));
  // Back off continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return { text: buf.subarray(0, end).toString("utf8") + marker, truncated: true };
}

/**
 * A JSON value as it is stored: the value itself when its JSON fits in `maxBytes`, otherwise its
 * JSON text cut to `maxBytes` with a truncation marker.
 */
export function capJson(value: unknown, maxBytes = DEFAULT_CAP_BYTES): { value: unknown; truncated: boolean } {
  if (value === undefined) return { value: undefined, truncated: false };
  let json: string;
  try {
    json = JSON.stringify(value) ?? "null";
  } catch {
    json = String(value);
  }
  const capped = capText(json, maxBytes);
  return capped.truncated ? { value: capped.text, truncated: true } : { value, truncated: false };
}
