import { describe, expect, it } from "vitest";
import { createRegistry } from "../../src/registry.js";
import { createCatalog } from "../../src/upstreams/catalog.js";
import { MAX_NAME, namespacedName } from "../../src/upstreams/names.js";
import { fixtureTools } from "../fixtures/tools/index.js";

describe("namespacedName", () => {
  it("joins prefix and name, snake-casing what MCP servers name in camelCase", () => {
    expect(namespacedName("workspace", "list_tasks")).toBe("workspace_list_tasks");
    expect(namespacedName("", "list_tasks")).toBe("list_tasks");
    expect(namespacedName("everything", "longRunningOperation")).toBe("everything_long_running_operation");
    expect(namespacedName("e", "get-tiny.image")).toBe("e_get_tiny_image");
  });

  it("shortens past 64 characters with a hash of the whole name: stable, and distinct names stay apart", () => {
    const long = "a_very_long_operation_name_that_goes_on_and_on_beyond_the_limit";
    const a = namespacedName("github", `${long}_one`);
    const b = namespacedName("github", `${long}_two`);
    expect(a).toMatch(/^[a-z0-9_]{1,64}$/);
    expect(a.length).toBeLessThanOrEqual(MAX_NAME);
    expect(a).not.toBe(b);
    expect(a.slice(0, 40)).toBe(b.slice(0, 40));
    expect(namespacedName("github", `${long}_one`)).toBe(a);
    expect(a).toMatchInlineSnapshot(`"github_a_very_long_operation_name_that_goes_on_and_on_b_43de3a09"`);
  });
});

describe("createCatalog", () => {
  const tools = fixtureTools();
  const one = createRegistry(tools);

  it("namespaces tools and modules per upstream and says where each came from", () => {
    const catalog = createCatalog([
      { name: "alpha", kind: "openapi", prefix: "alpha", registry: one },
      { name: "beta", kind: "openapi", prefix: "b", registry: one },
    ]);
    expect(catalog.tools).toHaveLength(tools.length * 2);
    const first = tools[0]!;
    const a = catalog.get(`alpha_${first.name}`)!;
    expect(a).toMatchObject({ module: `alpha_${first.module}`, binding: first.binding });
    expect(catalog.get(`b_${first.name}`)?.module).toBe(`b_${first.module}`);
    expect(catalog.get(first.name)).toBeUndefined();
    expect(catalog.upstreamOf?.(a.name)?.name).toBe("alpha");
    expect(catalog.upstreamOf?.(`b_${first.name}`)?.tools.get(`b_${first.name}`)).toBe(first.name);
    expect(catalog.modules.map((m) => m.name)).toContain(`b_${first.module}`);
    for (const t of catalog.tools) expect(t.name).toMatch(/^[a-z0-9_]{1,64}$/);
  });

  it("refuses at start-up a name two upstreams would share, naming both sources", () => {
    expect(() =>
      createCatalog([
        { name: "alpha", kind: "openapi", prefix: "", registry: one },
        { name: "beta", kind: "openapi", prefix: "", registry: one },
      ]),
    ).toThrow(/the module name '.+' comes from both upstream 'alpha' \(module '.+'\) and upstream 'beta' \(module '.+'\); give one of them another prefix/);
    const lone = createRegistry([tools[0]!]);
    const clash = createRegistry([{ ...tools[1]!, name: `x_${tools[0]!.name}`, module: "other" }]);
    expect(() =>
      createCatalog([
        { name: "alpha", kind: "openapi", prefix: "x", registry: lone },
        { name: "beta", kind: "openapi", prefix: "", registry: clash },
      ]),
    ).toThrow(`the tool name 'x_${tools[0]!.name}' comes from both upstream 'alpha' (tool '${tools[0]!.name}') and upstream 'beta' (tool 'x_${tools[0]!.name}')`);
  });
});
