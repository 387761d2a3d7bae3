/**
 * Meta-tools: tools every session has beside the generated ones (confirm_action, get_activity,
 * search_tools, ...). Each feature defines its own in its own file and adds one line to
 * META_TOOL_FACTORIES below.
 */
import type { Deps, MetaTool, MetaToolFactory } from "../gateway.js";
import { createConfirmTools } from "./confirm-tools.js";
import { createActivityTools } from "./activity-tool.js";
import { createDiscoveryTools } from "./discovery-tools.js";
import { createCodeTools } from "./code-tools.js";
import { createApprovalTools } from "./approval-tools.js";

export type { ListedTool, MetaTool, MetaToolFactory, SessionContext } from "../gateway.js";

/** One line per feature. */
export const META_TOOL_FACTORIES: readonly MetaToolFactory[] = [
  createConfirmTools,
  createActivityTools,
  createDiscoveryTools,
  createCodeTools,
  createApprovalTools,
];

/** Instantiates every meta-tool; duplicate names are a wiring bug. */
export function createMetaTools(deps: Deps): readonly MetaTool[] {
  const tools = META_TOOL_FACTORIES.flatMap((factory) => factory(deps));
  const seen = new Set<string>();
  for (const t of tools) {
    if (seen.has(t.name)) throw new Error(`meta-tools: duplicate name '${t.name}'`);
    seen.add(t.name);
  }
  return Object.freeze(tools);
}
