# Countersign — one toolchain. `make run` and `make test` install what they need.
SHELL := /bin/bash
NODE_BIN := node_modules/.bin
CLI := node bin/countersign.js

NODE22_TESTS := test/stages test/transports test/mcp test/e2e test/tokens
BROWSER_TESTS := test/console/browser.test.ts test/oauth/browser.test.ts test/upstreams/console-browser.test.ts test/approvals/browser.test.ts test/approvals/mcp-apps.test.ts

.PHONY: install build run test test-node22 screenshots generate check typecheck lint tree lint-spec drift config-doc bench bench-soak conformance clean

# Reinstall only when the lockfile changed since the last install.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.package-lock.json /usr/bin/chromium

# The console's browser tests drive Debian's Chromium (playwright-core never downloads a browser).
/usr/bin/chromium:
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

build: install
	$(NODE_BIN)/tsc -p tsconfig.build.json
	node scripts/bundle.js
	$(NODE_BIN)/vite build --config console/vite.config.ts --logLevel warn

## Start the sample upstream + gateway on embedded defaults, with a fresh dev token.
run: build
	@$(CLI) generate --check >/dev/null 2>&1 || $(CLI) generate
	$(CLI) demo

## The test suite (what CI runs).
test: build
	COUNTERSIGN_SKIP_BUILD=1 $(NODE_BIN)/vitest run --reporter=default --reporter=json --outputFile.json=dist/test-results.json

## The request path's tests again under Node 22 (npm's node@22 package, as `make conformance` fetches
## it): admission, the tool-call chain, both transports, the MCP server and tokens, end to end with
## the real CLI. A subset: the whole suite twice would not fit CI's 30 minutes, and the console's
## SQLite index is a native module built for the Node that ran npm ci.
test-node22: build
	COUNTERSIGN_SKIP_BUILD=1 npx -y -p node@22 -- node $(NODE_BIN)/vitest run $(NODE22_TESTS)

## The browser tests only, writing their screenshots into docs/ (the README's and docs' images)
## instead of test-results/screenshots/, where every other run puts them.
screenshots: build
	COUNTERSIGN_SKIP_BUILD=1 COUNTERSIGN_SCREENSHOTS=docs $(NODE_BIN)/vitest run $(BROWSER_TESTS)

## Regenerate generated/ from openapi/.
generate: build
	$(CLI) generate

## Typecheck, lint the bundled spec, and fail on generated/ or docs/configuration.md drift.
check: typecheck lint tree lint-spec drift config-doc

typecheck: install
	$(NODE_BIN)/tsc -p tsconfig.json --noEmit
	$(NODE_BIN)/tsc -p console/tsconfig.json

## ESLint (typescript-eslint, type-aware): unused code, promises nobody awaits.
lint: install
	$(NODE_BIN)/eslint src codegen test examples

## No source file over 450 lines, no import cycle (madge).
tree: install
	node scripts/check-tree.js

lint-spec: install
	node openapi/src/build-workspace.mjs --check
	$(NODE_BIN)/redocly lint openapi/workspace.yaml --config openapi/redocly.yaml

drift: build
	$(CLI) generate --check

# docs/configuration.md is rendered from src/config/settings.ts; `node scripts/config-doc.js` rewrites it.
config-doc: build
	node scripts/config-doc.js --check

bench: build
	node bench/run.js
	node bench/protocol.js
	node bench/oauth.js
	node bench/upstreams.js

bench-soak: build
	node bench/soak.js

conformance: build
	bash test/conformance/run.sh

clean:
	rm -rf dist
