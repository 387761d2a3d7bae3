/** Small pieces the pages share. */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { ApiError } from "../api.js";

/** An error box that says what went wrong. */
export function ErrorNote(props: { error: unknown }) {
  // A 401 is answered by the sign-in page (main.tsx), not by each page.
  if (!props.error || (props.error instanceof ApiError && props.error.status === 401)) return null;
  return (
    <p class="error" role="alert">
      {(props.error as Error).message ?? String(props.error)}
    </p>
  );
}

/** A button that copies `text` and says so. */
export function CopyButton(props: { text: string; label: string }) {
  const [done, setDone] = useState<"" | "copied" | "failed">("");
  async function copy() {
    try {
      await navigator.clipboard.writeText(props.text);
      setDone("copied");
    } catch {
      setDone("failed");
    }
    setTimeout(() => setDone(""), 2000);
  }
  return (
    <button type="button" class="copy" onClick={copy} aria-label={props.label}>
      {done === "copied" ? "Copied" : done === "failed" ? "Copy failed: select the text" : "Copy"}
    </button>
  );
}

/** A status or outcome badge. */
export function Badge(props: { kind: string; children: ComponentChildren; title?: string }) {
  return (
    <span class={`badge badge-${props.kind.replace(/[^a-z_]/g, "")}`} title={props.title}>
      {props.children}
    </span>
  );
}

/** A page heading with an optional line under it. */
export function PageHead(props: { title: string; children?: ComponentChildren }) {
  return (
    <div class="page-head">
      <h1>{props.title}</h1>
      {props.children}
    </div>
  );
}
