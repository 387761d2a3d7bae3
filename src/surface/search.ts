/**
 * Tool search: a BM25+ index (minisearch) over every tool's name, title, description, details,
 * module, parameter names and HTTP path, built once per tool list and queried on every
 * `search_tools` call.
 */
import MiniSearch from "minisearch";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { intentFactor, queryIntents, toolIntent } from "./intent.js";
import { queryTerms, synonymsOf, terms } from "./text.js";

/** One ranked answer of `search_tools`. */
export interface SearchHit {
  readonly name: string;
  readonly module: string;
  readonly summary: string;
  readonly score: number;
}

/** Options of one search. */
export interface SearchOptions {
  /** Only tools of this module. */
  readonly module?: string;
  /** How many hits (default 10, clamped to 1..50). */
  readonly limit?: number;
  /** Extra filter, e.g. the session's scope. */
  readonly allow?: (tool: ToolDescriptor) => boolean;
}

/** A search index over one tool list. */
export interface ToolSearch {
  search(query: string, options?: SearchOptions): SearchHit[];
}

/** Module names and descriptions (the registry's modules: their tags' descriptions). */
export type ModuleDescriptions = readonly { readonly name: string; readonly description: string }[];

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 50;

/** Field boosts: a word in the tool's name says more than one in its long prose. */
const BOOST = { name: 3, title: 2, resource: 2, roots: 0.8, description: 1.5, module: 1.5, moduleText: 0.5, keywords: 1.5, verbs: 1.2, path: 1, params: 0.8, details: 0.4, paramText: 0.25 };
const SYNONYM_WEIGHT = 0.35;
/** How many of the best lexical matches the request's intent may re-order. */
const RERANK = 60;
/** What a tool matching none of the request's word groups keeps of its score (all of them: twice that much more). */
const COVERAGE_FLOOR = 0.6;
/** A tool whose path's resource is one of the request's words (or their synonyms). */
const RESOURCE_BONUS = 1.3;

type Doc = {
  id: number;
  name: string;
  title: string;
  description: string;
  details: string;
  module: string;
  /** The module's description (its tag's, in the spec). */
  moduleText: string;
  resource: string;
  roots: string;
  keywords: string;
  verbs: string;
  path: string;
  params: string;
  paramText: string;
};

/**
 * The resource a path is about: its last literal segment (`/repos/{owner}/{repo}/forks` →
 * forks), and for a verb after an item (`/payouts/{payout}/cancel`: not a plural) the collection
 * before it too.
 */
function resourceOf(path: string): string {
  const segments = path.split("/").filter((s) => s && !/^v\d+$/.test(s));
  const last = segments.length - 1 - [...segments].reverse().findIndex((s) => !s.startsWith("{"));
  if (last >= segments.length) return "";
  const noun = segments[last]!;
  const before = segments[last - 1];
  const owner = before?.startsWith("{") ? segments[last - 2] : undefined;
  return owner && !noun.endsWith("s") ? `${owner} ${noun}` : noun;
}

/**
 * Roots of agent nouns in a tool's name and path, so a verb finds them: "followers" → follow,
 * "contributors" → contribut(e), "assignees" → assign. Index side only (a query's "reader" must
 * not become "read").
 */
function rootsOf(text: string): string {
  const out: string[] = [];
  for (const t of terms(text)) {
    const m = /^(.{4,}?)(?:er|or|ee)$/.exec(t);
    if (m) out.push(m[1]!.replace(/([bdgklmnprt])\1$/, "$1"));
  }
  return out.join(" ");
}

/** The verbs an agent is likely to use for an operation, from its method and path. */
function verbsOf(tool: ToolDescriptor): string {
  const { method, path } = tool.binding;
  const onItem = /\}\/?$/.test(path);
  switch (method) {
    case "GET":
    case "HEAD":
      return onItem ? "get read view show" : "list all find";
    case "DELETE":
      return "delete remove";
    case "PUT":
    case "PATCH":
      return "update edit change set";
    case "POST":
      return tool.policy.write ? "create add new" : "search query find";
    default:
      return "";
  }
}

function properties(schema: { readonly [key: string]: unknown }): Record<string, { description?: unknown }> {
  const props = schema.properties;
  return props && typeof props === "object" ? (props as Record<string, { description?: unknown }>) : {};
}

function toDoc(tool: ToolDescriptor, id: number, moduleDescription: string): Doc {
  const props = properties(tool.inputSchema);
  const paramText = Object.values(props)
    .map((p) => (p && typeof p.description === "string" ? p.description : ""))
    .join(" ");
  return {
    id,
    name: tool.name,
    title: tool.title,
    description: tool.description,
    details: tool.details ?? "",
    module: tool.module,
    moduleText: moduleDescription,
    resource: resourceOf(tool.binding.path),
    roots: rootsOf(`${tool.name} ${tool.binding.path}`),
    keywords: (tool.keywords ?? []).join(" "),
    verbs: verbsOf(tool),
    // Literal segments only: a placeholder repeats the resource (`/customers/{customer}`) and is a parameter anyway.
    path: tool.binding.path.replace(/\{[^}]*\}/g, ""),
    params: Object.keys(props).join(" "),
    paramText,
  };
}

/** Builds the index for one tool list (about 100 ms for GitHub's 1223 tools). */
export function createToolSearch(tools: readonly ToolDescriptor[], modules?: ModuleDescriptions): ToolSearch {
  const building = buildToolSearch(tools, modules);
  building.step(tools.length);
  return { search: building.search };
}

/** An index still being filled: `step` adds up to `count` more tools (true once all are in); `search` adds the rest first. */
interface BuildingSearch extends ToolSearch {
  step(count: number): boolean;
}

function buildToolSearch(tools: readonly ToolDescriptor[], modules?: ModuleDescriptions): BuildingSearch {
  const moduleText = new Map((modules ?? []).map((m) => [m.name, m.description]));
  const vocabulary = new Set<string>();
  const index = new MiniSearch<Doc>({
    fields: ["name", "title", "description", "details", "module", "moduleText", "resource", "roots", "keywords", "verbs", "path", "params", "paramText"],
    idField: "id",
    tokenize: (text, field) => {
      const found = terms(text);
      for (const t of found) vocabulary.add(t);
      // A route-derived name or a path says a word once however often it repeats it
      // (`post_customers_customer_cards`): it is no more about customers for that.
      return field === "name" || field === "path" ? [...new Set(found)] : found;
    },
    processTerm: (term) => term,
  });
  let added = 0;
  function step(count: number): boolean {
    const end = Math.min(tools.length, added + count);
    for (; added < end; added++) index.add(toDoc(tools[added], added, moduleText.get(tools[added].module) ?? ""));
    return added >= tools.length;
  }
  const byName = new Map(tools.map((t) => [t.name, t]));
  const intents = tools.map(toolIntent);
  const resources = tools.map((t) => new Set(terms(resourceOf(t.binding.path))));

  function search(query: string, options: SearchOptions = {}): SearchHit[] {
    step(tools.length);
    const limit = Math.min(MAX_LIMIT, Math.max(1, Math.floor(options.limit ?? DEFAULT_LIMIT)));
    const typed = [...new Set(queryTerms(query))];
    const weight = new Map<string, number>(typed.map((t) => [t, 1]));
    for (const t of typed) for (const s of synonymsOf(t)) if (!weight.has(s)) weight.set(s, SYNONYM_WEIGHT);
    const allow = (tool: ToolDescriptor): boolean =>
      (options.module === undefined || tool.module === options.module) && (options.allow?.(tool) ?? true);

    const hits: SearchHit[] = [];
    // An exact tool name is the strongest signal there is; it goes first.
    const exact = byName.get(query.trim());
    if (exact && allow(exact)) hits.push({ name: exact.name, module: exact.module, summary: exact.description, score: Infinity });
    if (weight.size > 0) {
      const results = index.search([...weight.keys()].join(" "), {
        tokenize: (text) => text.split(" "),
        processTerm: (term) => term,
        boost: BOOST,
        boostTerm: (term) => weight.get(term) ?? 1,
        // Prefix and typo matching walk the whole term tree, which is what costs time on a large
        // API; a word the index already holds needs neither (stemming covers its inflections).
        prefix: (term) => weight.get(term) === 1 && term.length >= 3 && !vocabulary.has(term),
        fuzzy: (term) => (weight.get(term) === 1 && term.length >= 3 && !vocabulary.has(term) ? (term.length >= 8 ? 2 : 1) : false),
        maxFuzzy: 2,
        weights: { prefix: 0.4, fuzzy: 0.3 },
        filter: (r) => allow(tools[r.id as number]),
      });
      // The request's verb re-ranks what its words found: "add a customer" prefers the POST.
      const asked = queryIntents(query);
      // A tool that answers more of the request's words (or their synonyms) beats one that
      // answers one word many times over.
      const groups = typed.map((t) => new Set([t, ...synonymsOf(t)]));
      const coverage = (matched: readonly string[]): number =>
        groups.length === 0 ? 1 : groups.filter((g) => matched.some((m) => g.has(m))).length / groups.length;
      const ranked = results
        .slice(0, RERANK)
        .map((r) => {
          const id = r.id as number;
          // The request names what the path is about: "add a customer" is POST /customers, not POST /customers/{id}/cards.
          const about = groups.some((g) => [...g].some((t) => resources[id]!.has(t))) ? RESOURCE_BONUS : 1;
          return { r, score: r.score * about * intentFactor(asked, intents[id]!) * (COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * 2 * coverage(r.queryTerms)) };
        })
        .sort((a, b) => b.score - a.score);
      for (const { r, score } of ranked) {
        if (hits.length >= limit) break;
        const tool = tools[r.id as number];
        if (tool === exact) continue;
        hits.push({ name: tool.name, module: tool.module, summary: tool.description, score: Math.round(score * 1000) / 1000 });
      }
    }
    if (exact && hits.length > 0 && hits[0].name === exact.name) {
      // JSON has no Infinity: rank it just above the best fuzzy hit.
      hits[0] = { ...hits[0], score: (hits[1]?.score ?? 0) + 1 };
    }
    return hits.slice(0, limit);
  }

  return { search, step };
}

const cache = new WeakMap<readonly ToolDescriptor[], BuildingSearch>();

function searchFor(tools: readonly ToolDescriptor[], modules?: ModuleDescriptions): BuildingSearch {
  let found = cache.get(tools);
  if (!found) {
    found = buildToolSearch(tools, modules);
    cache.set(tools, found);
  }
  return found;
}

/** The index of a tool list, built on first use and kept as long as the list lives (one per registry). */
export function toolSearchFor(tools: readonly ToolDescriptor[], modules?: ModuleDescriptions): ToolSearch {
  return searchFor(tools, modules);
}

/** Tools indexed per turn of the event loop while warming (a few ms each for GitHub's). */
const WARM_CHUNK = 25;

/**
 * Builds a tool list's index in the background, so the first search_tools call does not pay for
 * it. A few tools per turn of the event loop: built in one go it held a starting server's first
 * initialize and tools/list for as long as the whole index took. `afterMs` leaves a starting
 * server that long for its first clients. A search before it is done finishes the index first.
 */
export function warmToolSearch(tools: readonly ToolDescriptor[], options: { afterMs?: number; modules?: ModuleDescriptions } = {}): void {
  const next = () => {
    if (!searchFor(tools, options.modules).step(WARM_CHUNK)) setImmediate(next).unref();
  };
  if (options.afterMs) setTimeout(next, options.afterMs).unref();
  else setImmediate(next).unref();
}
