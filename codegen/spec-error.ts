/** A problem in the input spec, located by a JSON pointer (`#/paths/~1tasks/get/...`). */
export class SpecError extends Error {
  override readonly name = "SpecError";
  constructor(
    /** Where the problem is: `#/...`, or `file.yaml#/...` for another document. */
    readonly pointer: string,
    /** What is wrong, in one sentence. */
    readonly problem: string,
  ) {
    super(pointer ? `${pointer}: ${problem}` : problem);
  }
}

/** Encodes one reference token for a JSON pointer (RFC 6901 §3). */
export function escapeToken(token: string | number): string {
  return String(token).replace(/~/g, "~0").replace(/\//g, "~1");
}

/** Joins a pointer and more tokens: pointer("#/paths", "/tasks") → `#/paths/~1tasks`. */
export function pointer(base: string, ...tokens: (string | number)[]): string {
  return tokens.reduce<string>((acc, t) => `${acc}/${escapeToken(t)}`, base);
}

/** Splits the fragment part of a pointer (`/a/b~1c`) into decoded tokens. */
export function parsePointer(fragment: string): string[] {
  if (fragment === "" || fragment === "/") return fragment === "/" ? [""] : [];
  if (!fragment.startsWith("/")) throw new Error(`not a JSON pointer: ${fragment}`);
  return fragment
    .slice(1)
    .split("/")
    .map((t) => decodeURIComponent(t).replace(/~1/g, "/").replace(/~0/g, "~"));
}
