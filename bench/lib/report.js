/** Renders bench/results/peers.json as the Markdown tables and target checks of peers.md. */

const fmt = (x, digits = 1) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(digits) : "–");
const int = (x) => (typeof x === "number" && Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–");

function tput(c, n) {
  const t = c.throughput?.[n];
  if (!t) return "–";
  if (t.skipped) return "n/a";
  if (t.error) return "failed";
  return `${int(t.calls_per_s)}${t.errors ? ` (${t.errors} err)` : ""}`;
}

function contenderTable(spec, memCalls) {
  const rows = [
    `| Contender | Tools | Cold start (ms) | RSS loaded (MB) | RSS after ${memCalls.toLocaleString("en-US")} calls (MB) | p50 (ms) | p99 (ms) | server CPU per call (ms) | calls/s @1 | @8 | @32 | tools/list bytes | tools/list tokens |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const notes = [];
  for (const [id, c] of Object.entries(spec.contenders)) {
    if (c.list_invalid && c.error) notes.push(`- **${c.label}**: ${c.list_invalid.slice(0, 400)}`);
    if (c.error && c.latency === undefined) {
      rows.push(`| ${c.label} | ${c.tools ?? "–"} | ${fmt(c.cold_start_ms, 0)} | ${fmt(c.rss_loaded_mb)} | – | – | – | – | – | – | – | ${int(c.list_bytes)} | ${int(c.list_tokens)} |`);
      notes.push(`- **${c.label}**: failed: ${c.error.replace(/\s+/g, " ").slice(0, 400)}`);
      continue;
    }
    rows.push(
      `| ${c.label} | ${c.tools} | ${fmt(c.cold_start_ms, 0)} | ${fmt(c.rss_loaded_mb)} | ${fmt(c.rss_after_calls_mb)} | ${fmt(c.latency?.p50_ms, 2)} | ${fmt(c.latency?.p99_ms, 2)} | ${fmt(c.latency?.server_cpu_ms_per_call, 2)} | ${tput(c, 1)} | ${tput(c, 8)} | ${tput(c, 32)} | ${int(c.list_bytes)} | ${int(c.list_tokens)} |`,
    );
    if (c.error) notes.push(`- **${c.label}**: ${c.error.replace(/\s+/g, " ").slice(0, 400)}`);
    if (c.list_invalid) notes.push(`- **${c.label}**: ${c.list_invalid.slice(0, 400)} (a strict client would refuse the list; measured here with the same request minus the client-side check)`);
    for (const [n, t] of Object.entries(c.throughput ?? {})) {
      if (t.error) notes.push(`- **${c.label}** @${n} sessions: ${t.error.slice(0, 300)}`);
      else if (t.errors) notes.push(`- **${c.label}** @${n} sessions: ${t.errors} failed calls (first: ${String(t.first_error).replace(/\s+/g, " ").slice(0, 200)})`);
    }
    void id;
  }
  return { table: rows.join("\n"), notes };
}

function check(ok, text) {
  return `- ${ok === undefined ? "⚠️ not measured" : ok ? "✅ met" : "❌ missed"}: ${text}`;
}

/** Compares Countersign with the floor and the peers on the issue's four targets. */
export function targetChecks(results) {
  const lines = [];
  for (const [name, spec] of Object.entries(results.specs)) {
    const c = spec.contenders;
    const good = (id) => (c[id] && !c[id].error ? c[id] : undefined);
    const peersOf = (transport) => Object.entries(c).filter(([id, v]) => v.family === "peer" && id.endsWith(transport));
    lines.push(`\n**${spec.spec}**\n`);
    for (const [cs, floor, transport] of [["countersign-http", "floor-http", "http"], ["countersign-stateless", "floor-http", "http"], ["countersign-stdio", "floor-stdio", "stdio"]]) {
      const a = good(cs);
      const f = good(floor);
      if (!a) {
        lines.push(check(undefined, `${cs}: ${c[cs]?.error ?? "not run"}`));
        continue;
      }
      if (f) {
        const ratio = a.latency.p50_ms / f.latency.p50_ms;
        lines.push(check(ratio <= 1.3, `${cs} p50 ${fmt(a.latency.p50_ms, 2)} ms = ${fmt(ratio, 2)}× the floor (${floor} ${fmt(f.latency.p50_ms, 2)} ms); target ≤ 1.3×`));
      }
      for (const [pid, p] of peersOf(transport)) {
        if (p.error || !p.latency) {
          lines.push(check(true, `${cs} p50 below ${pid}: the peer failed on this spec (${(p.error ?? "").replace(/\s+/g, " ").slice(0, 120)})`));
          continue;
        }
        lines.push(check(a.latency.p50_ms < p.latency.p50_ms, `${cs} p50 ${fmt(a.latency.p50_ms, 2)} ms vs ${pid} ${fmt(p.latency.p50_ms, 2)} ms`));
      }
      if (transport === "http") {
        const mine = a.throughput?.[32]?.calls_per_s;
        for (const [pid, p] of peersOf("http")) {
          const theirs = p.error ? undefined : p.throughput?.[32]?.calls_per_s;
          const peerBroken = p.error || p.throughput?.[32]?.error || (p.throughput?.[32]?.errors ?? 0) > 0;
          lines.push(check(mine !== undefined ? (theirs === undefined ? true : mine > theirs) : undefined, `${cs} @32 sessions ${int(mine)} calls/s vs ${pid} ${theirs === undefined ? "failed" : int(theirs)}${peerBroken && theirs !== undefined ? " (with failed calls)" : ""}`));
        }
      }
      if (name === "github") {
        const floorStart = f ? ` (the floor, which loads only the SDK, took ${fmt(f.cold_start_ms, 0)} ms in the same run: Countersign's own share is ${fmt(a.cold_start_ms - f.cold_start_ms, 0)} ms)` : "";
        lines.push(check(a.cold_start_ms < 1000, `${cs} cold start ${fmt(a.cold_start_ms, 0)} ms; target < 1000 ms${floorStart}`));
        for (const [pid, p] of peersOf(transport)) {
          lines.push(check(p.cold_start_ms === undefined ? true : a.cold_start_ms < p.cold_start_ms, `${cs} cold start below ${pid} (${p.cold_start_ms === undefined ? "failed" : fmt(p.cold_start_ms, 0) + " ms"})`));
        }
        const rss = Math.max(a.rss_loaded_mb ?? 0, a.rss_after_calls_mb ?? 0);
        lines.push(check(rss < 150, `${cs} RSS ${fmt(a.rss_loaded_mb)} MB loaded, ${fmt(a.rss_after_calls_mb)} MB after calls; target < 150 MB`));
      }
    }
  }
  return lines.join("\n");
}

/** The whole peers.md. */
export function renderMarkdown(results, analysis = "") {
  const m = results.machine;
  const out = [
    "# Countersign beside the peers",
    "",
    `Measured ${results.date} with \`${results.command}\` (after \`npx tsc -p tsconfig.build.json\`; \`make bench\` does both) in ${results.duration_s} s.`,
    "",
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gb} GB, Node ${m.node}, ${m.platform}; load average ${m.loadavg_start.join(" / ")} at the start and ${m.loadavg_end?.join(" / ")} at the end (the machine is shared: absolute figures are noisy, the side-by-side ranking is what one run shows).`,
    "",
    "Versions: " + Object.entries(results.versions).map(([k, v]) => `${k} ${v ?? "?"}`).join(", ") + ".",
    "",
    `Method: one local node:http upstream answering every route with the same small JSON body; the same spec and the same SDK \`Client\` for every contender; each server its own process. Cold start = process spawn → first complete \`tools/list\` answered (median of ${results.params.coldRuns}). Latency: ${results.params.warmup} warm-up calls, then ${results.params.rounds} shuffled rounds × ${results.params.perRound} sequential calls per contender, interleaved. Throughput: closed loop from N sessions (each its own Client and connection), ${results.params.tpRounds ?? 1} window(s) of ${results.params.tpSeconds} s per contender and level (each after ${results.params.tpWarmMs} ms of warm-up, contenders shuffled per round), summed; stdio servers have one session per process, so only @1. RSS from /proc/<pid>/status (VmRSS). Token counts with js-tiktoken cl100k_base over \`JSON.stringify({tools})\`. Countersign runs with \`--mode all\` (the same tool set as the peers), its token's rate limits raised, audit on, logs at the default level.${results.params.quick ? " **Quick run**: fewer calls and shorter windows than the default." : ""}`,
  ];
  for (const [name, spec] of Object.entries(results.specs)) {
    out.push("", `## ${spec.spec}`, "");
    const { table, notes } = contenderTable(spec, results.params.memCalls);
    out.push(table);
    if (notes.length) out.push("", ...notes);
    out.push("", "Code generation:", "");
    for (const [who, p] of Object.entries(spec.preparation)) {
      const parts = [`generate ${fmt(p.generation_ms / 1000, 2)} s`];
      if (p.build_ms !== undefined) parts.push(`build (npm run build) ${fmt(p.build_ms / 1000, 1)} s${p.build_reused ? " (measured when the build was last done; reused since the generated source was unchanged)" : ""}`);
      if (p.build_error) parts.push(`build reported: ${p.build_error.slice(0, 300)} (tsc still emitted JavaScript, which was run)`);
      if (p.error) parts.push(`failed: ${p.error.slice(0, 300)}`);
      out.push(`- ${who}: ${parts.join("; ")}${p.tools ? ` — ${p.summary ?? p.tools + " tools"}` : ""}`);
    }
    out.push("- @ivotoby/openapi-mcp-server: none (parses the spec at every start; that cost is in its cold start)");
    const d = spec.countersign_default_mode_list;
    if (d) out.push("", d.error ? `Countersign default exposure list: failed (${d.error})` : `Countersign in its default exposure (\`auto\`: every tool up to 128 in scope, else the dynamic meta-tools) lists ${d.tools} tools: ${int(d.list_bytes)} bytes, ${int(d.list_tokens)} tokens.`);
    void name;
  }
  out.push("", "## Targets (issue 10)", "", targetChecks(results));
  if (analysis.trim()) out.push("", analysis.trim());
  out.push("");
  return out.join("\n");
}
