/**
 * The pending-action card an MCP Apps host renders in a sandboxed iframe. Self-contained (no
 * external loads; the host's CSP may forbid them all) and strict about text: every value from the
 * tool result is set with textContent. It speaks the MCP Apps postMessage JSON-RPC itself
 * (ui/initialize, ui/notifications/initialized, ui/notifications/tool-result, tools/call), so the
 * page carries no bundle.
 */
export const CARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pending action</title>
<style>
  :root { color-scheme: light dark; font: 14px/1.45 system-ui, sans-serif; }
  body { margin: 0; padding: 12px; }
  .card { border: 1px solid #8884; border-radius: 8px; padding: 12px 14px; max-width: 720px; }
  h1 { font-size: 15px; margin: 0 0 6px; }
  .req { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; margin: 0 0 8px; }
  .method { font-weight: 700; margin-right: 6px; }
  table { border-collapse: collapse; width: 100%; font-size: 12px; margin: 6px 0; }
  th, td { text-align: left; border-top: 1px solid #8883; padding: 3px 6px; vertical-align: top; font-family: ui-monospace, monospace; word-break: break-all; }
  th { font-family: inherit; font-weight: 600; }
  .removed { color: #b3261e; } .added { color: #1b7f3b; }
  pre { font-size: 12px; background: #8881; padding: 6px 8px; border-radius: 6px; white-space: pre-wrap; word-break: break-all; margin: 6px 0; }
  ul.warnings { color: #9a6700; margin: 6px 0; padding-left: 18px; }
  .state { margin: 10px 0 0; font-weight: 600; }
  .actions { display: flex; gap: 8px; margin-top: 10px; }
  button { font: inherit; padding: 5px 14px; border-radius: 6px; border: 1px solid #8886; background: transparent; cursor: pointer; }
  button.primary { background: #1f6feb; color: #fff; border-color: #1f6feb; }
  button:disabled { opacity: .5; cursor: default; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<div class="card" data-testid="card">
  <h1 id="summary" data-testid="summary">Waiting for the pending action…</h1>
  <p class="req"><span class="method" id="method" data-testid="method"></span><span id="url" data-testid="url"></span></p>
  <div id="diff-box" hidden><table data-testid="diff"><thead><tr><th>Field</th><th>Before</th><th>After</th></tr></thead><tbody id="diff"></tbody></table></div>
  <div id="body-box" hidden><pre id="body" data-testid="body"></pre></div>
  <ul class="warnings" id="warnings" data-testid="warnings" hidden></ul>
  <p class="state" id="state" data-testid="state"></p>
  <pre id="detail" data-testid="detail" hidden></pre>
  <div class="actions">
    <button class="primary" id="confirm" data-testid="confirm" hidden>Confirm</button>
    <button id="cancel" data-testid="cancel" hidden>Cancel</button>
    <button id="refresh" data-testid="refresh" hidden>Refresh</button>
  </div>
</div>
<script>
(function () {
  "use strict";
  var host = window.parent;
  var nextId = 1;
  var waiting = {};
  var action = null;
  function $(id) { return document.getElementById(id); }
  function text(id, value) { $(id).textContent = value == null ? "" : String(value); }
  function show(id, on) { $(id).hidden = !on; }
  function shown(v) { return typeof v === "string" ? v : JSON.stringify(v, null, 2); }

  function request(method, params) {
    var id = nextId++;
    host.postMessage({ jsonrpc: "2.0", id: id, method: method, params: params }, "*");
    return new Promise(function (resolve, reject) { waiting[id] = { resolve: resolve, reject: reject }; });
  }
  function notify(method, params) { host.postMessage({ jsonrpc: "2.0", method: method, params: params || {} }, "*"); }

  window.addEventListener("message", function (event) {
    if (event.source !== host) return;
    var m = event.data;
    if (!m || m.jsonrpc !== "2.0") return;
    if (m.id !== undefined && !m.method && waiting[m.id]) {
      var w = waiting[m.id];
      delete waiting[m.id];
      if (m.error) w.reject(new Error(m.error.message || "request failed")); else w.resolve(m.result);
      return;
    }
    if (m.method === "ui/notifications/tool-result" && m.params) showResult(m.params);
    else if (m.method === "ui/resource-teardown" && m.id !== undefined) host.postMessage({ jsonrpc: "2.0", id: m.id, result: {} }, "*");
  });

  function setButtons(confirm, cancel, refresh) { show("confirm", confirm); show("cancel", cancel); show("refresh", refresh); }
  function busy(on) { ["confirm", "cancel", "refresh"].forEach(function (b) { $(b).disabled = on; }); }

  function showPreview(p) {
    text("summary", p.summary);
    text("method", p.method);
    text("url", p.url);
    var rows = $("diff");
    rows.replaceChildren();
    (p.diff || []).forEach(function (d) {
      var tr = document.createElement("tr");
      var path = document.createElement("td"); path.textContent = d.path;
      var before = document.createElement("td"); before.className = "removed"; before.textContent = d.before === undefined ? "" : shown(d.before);
      var after = document.createElement("td"); after.className = "added"; after.textContent = d.after === undefined ? "" : shown(d.after);
      tr.append(path, before, after);
      rows.append(tr);
    });
    show("diff-box", rows.children.length > 0);
    show("body-box", p.body !== undefined && rows.children.length === 0);
    text("body", p.body === undefined ? "" : shown(p.body));
    var list = $("warnings");
    list.replaceChildren();
    (p.warnings || []).forEach(function (w) { var li = document.createElement("li"); li.textContent = w; list.append(li); });
    show("warnings", list.children.length > 0);
  }

  function showStatus(s) {
    var status = s.status;
    show("detail", false);
    if (status === "pending_confirmation" || status === "pending") {
      if (action && action.approval === "person") {
        text("state", "Waiting for a person's approval in the Countersign console.");
        setButtons(false, false, true);
      } else {
        text("state", action && action.approval === "both" ? "Confirm to send this change to a person for approval." : "Nothing has been sent yet. Confirm to run this change.");
        setButtons(true, true, false);
      }
    } else if (status === "awaiting_approval") {
      text("state", "Waiting for a person's approval in the Countersign console.");
      setButtons(false, false, true);
    } else {
      var labels = { executed: "Done: the change was made.", already_executed: "Already done: it did not run again.", cancelled: "Cancelled: nothing was sent.", rejected: "Rejected by a person.", expired: "Expired: nothing was sent.", failed: "Failed.", executing: "Running…", interrupted: "Interrupted: the gateway stopped while running it.", unknown: "Unknown action." };
      text("state", labels[status] || String(status));
      var why = s.decision && s.decision.reason ? s.decision.reason : s.error ? s.error : undefined;
      if (why !== undefined) { text("detail", shown(why)); show("detail", true); }
      setButtons(false, false, status === "executing");
    }
  }

  function showResult(result) {
    var s = result.structuredContent || {};
    if (s.status === "pending_confirmation" && s.preview) {
      action = { id: s.action_id, token: s.confirm_token, approval: s.approval || "agent" };
      showPreview(s.preview);
    }
    if (result.isError) {
      var first = (result.content || []).filter(function (c) { return c.type === "text"; })[0];
      text("state", "Error: " + (first ? first.text : "the call failed"));
      return;
    }
    showStatus(s);
  }

  function call(name, args) {
    busy(true);
    return request("tools/call", { name: name, arguments: args }).then(function (r) {
      busy(false);
      if (r && r.isError) {
        var first = (r.content || []).filter(function (c) { return c.type === "text"; })[0];
        text("state", "Error: " + (first ? first.text : "the call failed"));
        return;
      }
      showStatus((r && r.structuredContent) || {});
    }, function (err) { busy(false); text("state", "Error: " + err.message); });
  }

  $("confirm").addEventListener("click", function () { if (action) call("confirm_action", { confirm_token: action.token }); });
  $("cancel").addEventListener("click", function () { if (action) call("cancel_action", { confirm_token: action.token }); });
  $("refresh").addEventListener("click", function () { if (action) call("get_action", { action_id: action.id }); });

  request("ui/initialize", {
    protocolVersion: "2026-01-26",
    appInfo: { name: "countersign-pending-action", version: "1" },
    appCapabilities: {},
  }).then(function () { notify("ui/notifications/initialized"); }, function (err) { text("state", "Error: " + err.message); });
})();
</script>
</body>
</html>
`;
