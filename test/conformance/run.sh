#!/usr/bin/env bash
# `make conformance`: the official MCP conformance suites against the gateway serving the
# conformance fixture spec (spec.yaml) in front of its fixture upstream (upstream.mjs): the 0.1
# suite for 2025-11-25 (baseline.yml), then the 0.2 suite with the scenarios 2026-07-28 requires
# (baseline-2026-07-28.yml). Either one failing outside its baseline fails the run.
# Needs dist/ (make build) and npm registry access for the pinned suites and Node 22.
set -euo pipefail
cd "$(dirname "$0")/../.."

CONFORMANCE_VERSION="${CONFORMANCE_VERSION:-0.1.16}"
CONFORMANCE_2026_VERSION="${CONFORMANCE_2026_VERSION:-0.2.0-alpha.12}"
here=test/conformance
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # A stopping gateway still writes its rate-limit counts into the data dir: let it finish first.
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Waits for a line matching $2 in file $1 and prints the first URL on it.
wait_url() {
  for _ in $(seq 1 150); do
    if line="$(grep -m1 -Eo "$2" "$1" 2>/dev/null)"; then echo "$line"; return 0; fi
    sleep 0.1
  done
  echo "conformance: timed out waiting for $1" >&2
  cat "$1" >&2 || true
  return 1
}

# Elicitation asks the person to confirm writes; calls still running after 500 ms switch to polling.
export COUNTERSIGN_DATA_DIR="$work/data" LOG_LEVEL=warn COUNTERSIGN_CONFIRM_ELICITATION=true COUNTERSIGN_POLL_AFTER_MS=500
node bin/countersign.js generate --spec "$here/spec.yaml" --out "$work/generated" >/dev/null
token="$(node bin/countersign.js tokens create --name conformance --json | node -e 'let s="";process.stdin.on("data",(c)=>(s+=c)).on("end",()=>process.stdout.write(JSON.parse(s).token))')"

node "$here/upstream.mjs" 0 >"$work/upstream.out" 2>&1 & pids+=($!)
upstream="$(wait_url "$work/upstream.out" 'http://127\.0\.0\.1:[0-9]+')"

node bin/countersign.js serve --port 0 --generated "$work/generated" --upstream "$upstream" >"$work/serve.out" 2>&1 & pids+=($!)
gateway="$(wait_url "$work/serve.out" 'http://127\.0\.0\.1:[0-9]+/mcp')"

node "$here/auth-proxy.mjs" 0 "$gateway" "$token" >"$work/proxy.out" 2>&1 & pids+=($!)
url="$(wait_url "$work/proxy.out" 'http://localhost:[0-9]+/mcp')"

# run_suite VERSION BASELINE [ARGS...]: one suite against the running gateway.
run_suite() {
  local version="$1" baseline="$2"
  shift 2
  echo "conformance: suite $version $* against $url (gateway $gateway, upstream $upstream)"
  npx -y -p node@22 -p "@modelcontextprotocol/conformance@$version" conformance server \
    --url "$url" --expected-failures "$here/$baseline" "$@" ${CONFORMANCE_ARGS:-}
}

status=0
run_suite "$CONFORMANCE_VERSION" baseline.yml || status=$?
run_suite "$CONFORMANCE_2026_VERSION" baseline-2026-07-28.yml --requirements 2026-07-28 || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- gateway log ---" >&2
  tail -n 50 "$work/serve.out" >&2 || true
fi
exit "$status"
