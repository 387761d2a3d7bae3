/**
 * Real tool lists for surface tests, built through the generator's own API: the bundled
 * `openapi/workspace.yaml` and GitHub's REST spec (test/fixtures/specs, see its manifest).
 */
import { fileURLToPath } from "node:url";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { loadSpec } from "../../codegen/load-spec.js";
import { buildTools, type BuildResult } from "../../codegen/operations.js";
import { DEFAULT_RULES } from "../../codegen/rules.js";

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

export const SPECS = {
  workspace: root("openapi/workspace.yaml"),
  github: root("test/fixtures/specs/stress-github-api.github.com.json.gz"),
  /** Built with no exclusion rules: every Stripe operation, as a team serving Stripe would set it. */
  stripe: root("test/fixtures/specs/stripe.json.gz"),
  circular: root("test/fixtures/specs/fixture-circular-request-bodies.json.gz"),
} as const;

const cache = new Map<string, Promise<BuildResult>>();

function buildOf(api: keyof typeof SPECS): Promise<BuildResult> {
  let found = cache.get(api);
  if (!found) {
    found = loadSpec(SPECS[api]).then((spec) => buildTools(spec, api === "stripe" ? [] : DEFAULT_RULES));
    cache.set(api, found);
  }
  return found;
}

/** The descriptors the generator builds for one of SPECS (memoised per test file). */
export async function toolsOf(api: keyof typeof SPECS): Promise<readonly ToolDescriptor[]> {
  return (await buildOf(api)).tools;
}

/** Its modules, with their descriptions (what search indexes beside the tools). */
export async function modulesOf(api: keyof typeof SPECS): Promise<BuildResult["modules"]> {
  return (await buildOf(api)).modules;
}
