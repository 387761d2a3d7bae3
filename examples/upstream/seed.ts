/**
 * Deterministic demo data, written once at first start: a few users and projects, tasks in every
 * status, and a handful of records of every other resource, linked to each other through their
 * reference fields. The same seed and week give the same data.
 */
import type { Engine } from "./engine.js";
import { flatten, typeOf } from "./synth.js";
import { snake } from "./model.js";

const COUNTS: Record<string, number> = { user: 6, organization: 1, project: 4, task: 24, notification: 8, time_entry: 12, wiki_page: 6, comment: 10 };

function countFor(name: string): number {
  const s = snake(name);
  return COUNTS[s] ?? (s.endsWith("member") ? 6 : 4);
}

/** Seeds the store unless it was seeded before. Returns whether it seeded. */
export function seedStore(engine: Engine): boolean {
  const { store, model } = engine;
  if (store.get("_meta", "seed")) return false;
  const names = [...model.resources.keys()].sort();
  // Order resources so referenced ones (users, projects) exist before the ones that point at them.
  const deps = new Map<string, Set<string>>();
  for (const name of names) {
    const res = model.resources.get(name)!;
    const set = new Set<string>();
    for (const field of Object.keys(res.properties)) {
      const target = /_ids?$/.test(field) ? model.referenceTarget(field) : undefined;
      if (target && target !== name) set.add(target);
    }
    for (const plan of model.plans.values()) {
      if (plan.resource !== name || (plan.kind !== "list" && plan.kind !== "create")) continue;
      for (const p of plan.parents) if (p.resource && p.resource !== name) set.add(p.resource);
    }
    deps.set(name, set);
  }
  const ordered: string[] = [];
  const placed = new Set<string>();
  while (ordered.length < names.length) {
    const ready = names.find((n) => !placed.has(n) && [...deps.get(n)!].every((d) => placed.has(d) || !names.includes(d)));
    // On a cycle, take the resource with the fewest unmet dependencies.
    const next =
      ready ??
      names
        .filter((n) => !placed.has(n))
        .sort((a, b) => [...deps.get(a)!].filter((d) => !placed.has(d)).length - [...deps.get(b)!].filter((d) => !placed.has(d)).length)[0];
    ordered.push(next);
    placed.add(next);
  }
  engine.mode.seeding = true;
  const now = engine.now();
  const day = 86400000;
  for (const name of ordered) {
    const res = engine.resource(name);
    const n = countFor(name);
    const parentPlan = [...model.plans.values()].find((p) => p.resource === name && (p.kind === "list" || p.kind === "create") && p.parents.length > 0);
    for (let i = 0; i < n; i++) {
      const rec = engine.blankRecord(res, i);
      engine.linkReferences(res, rec, i);
      for (const link of parentPlan?.parents ?? []) {
        if (!link.resource) continue;
        const pool = store.all(link.resource);
        if (pool.length === 0) continue;
        // Nested records cluster on the first parents, so the demo's first task has comments.
        const parent = pool[i % Math.min(pool.length, 3)];
        const pid = engine.idOf(engine.resource(link.resource), parent);
        const ps = res.properties[link.field] ? flatten(engine.spec.doc, res.properties[link.field]) : undefined;
        if (ps && typeOf(ps) === "object") rec[link.field] = engine.projectOnto(res.properties[link.field], parent);
        else rec[link.field] = engine.asFieldType(res, link.field, pid);
      }
      if (res.statusField && res.statusValues) {
        const values = res.statusValues.filter((v) => v !== null && v !== "archived");
        rec[res.statusField] = values[i % values.length];
        if ("completed_at" in res.properties && /done|completed/.test(String(rec[res.statusField]))) rec.completed_at = iso(new Date(now.getTime() - (i % 5) * day));
      }
      const created = new Date(now.getTime() - (14 - (i % 14)) * day - i * 3600000);
      if ("created_at" in res.properties) rec.created_at = iso(created);
      if ("updated_at" in res.properties) rec.updated_at = iso(new Date(created.getTime() + 5 * 3600000));
      if ("due_date" in res.properties && rec.due_date !== undefined) rec.due_date = isoDate(new Date(now.getTime() + ((i % 9) - 3) * day));
      // Time tracking lands in the previous calendar week.
      if (/time|entry|log/i.test(name)) {
        const monday = new Date(now.getTime() - (((now.getUTCDay() + 6) % 7) + 7) * day);
        const when = new Date(Date.UTC(monday.getUTCFullYear(), monday.getUTCMonth(), monday.getUTCDate() + (i % 5), 9 + (i % 4)));
        for (const f of ["date", "spent_on", "work_date"]) if (f in res.properties) rec[f] = isoDate(when);
        for (const f of ["started_at", "start_time", "start"]) if (f in res.properties && typeof rec[f] === "string") rec[f] = iso(when);
        for (const f of ["ended_at", "end_time", "stopped_at"]) if (f in res.properties && typeof rec[f] === "string") rec[f] = iso(new Date(when.getTime() + 90 * 60000));
      }
      store.put(res.name, engine.idOf(res, rec), rec);
    }
  }
  engine.recount();
  engine.mode.seeding = false;
  store.put("_meta", "seed", { seeded_at: iso(now), spec_sha256: engine.spec.sha256 });
  store.commit();
  return true;
}

function iso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}
