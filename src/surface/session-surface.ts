/**
 * What one session lists: its settings (config overridden by the connection's `?mode=`,
 * `?modules=`, `?profile=`), the exposure decision, and tools rendered in its schema profile.
 */
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import type { SurfaceConfig } from "../config.js";
import type { Principal } from "../context.js";
import { GatewayError } from "../errors.js";
import { EXPOSURE_MODES, isModeSetting, parseModuleList, visibleForSession, type ModeSetting, type Visibility } from "./exposure.js";
import { isSchemaProfile, SCHEMA_PROFILES, type SchemaProfile } from "./schema-profile.js";

/** One session's surface settings. */
export interface SurfaceSettings {
  readonly mode: ModeSetting;
  readonly modules?: readonly string[];
  readonly profile: SchemaProfile;
}

/**
 * Resolves a session's settings: connection parameters win over the gateway's config. Throws
 * GatewayError("bad_request") naming the parameter when a value is not understood.
 */
export function surfaceSettings(config: SurfaceConfig, params: Readonly<Record<string, string>> = {}): SurfaceSettings {
  const mode = params.mode || config.mode;
  if (!isModeSetting(mode)) throw new GatewayError("bad_request", `mode: expected one of auto, ${EXPOSURE_MODES.join(", ")}; got ${JSON.stringify(mode)}`);
  const profile = params.profile || config.schemaProfile;
  if (!isSchemaProfile(profile)) throw new GatewayError("bad_request", `profile: expected one of ${SCHEMA_PROFILES.join(", ")}; got ${JSON.stringify(profile)}`);
  const modules = parseModuleList(params.modules) ?? config.modules;
  return { mode, profile, ...(modules && modules.length > 0 ? { modules } : {}) };
}

/**
 * Refuses a connection's `?modules=` that names a module its token cannot list (unknown, or
 * outside the token's scope), as `enable_modules` refuses the same names, instead of silently
 * listing the default set. Only the connection's own parameter: COUNTERSIGN_MODULES is the
 * operator's, and a scoped token simply sees its part of it.
 */
export function checkModulesParam(params: Readonly<Record<string, string>> | undefined, scope: readonly ToolDescriptor[]): void {
  const requested = parseModuleList(params?.modules);
  if (!requested) return;
  const known = new Set(scope.map((t) => t.module));
  const unknown = requested.filter((m) => !known.has(m));
  if (unknown.length > 0) {
    throw new GatewayError("invalid_arguments", `Unknown module(s) in ?modules=: ${unknown.join(", ")}; list_modules shows the modules you can use`);
  }
}

/** The exposure decision for one session over the tools its token may use. */
export function sessionVisibility(
  settings: SurfaceSettings,
  principal: Principal,
  scope: readonly ToolDescriptor[],
  enabledModules?: ReadonlySet<string>,
): Visibility {
  return visibleForSession({
    tools: scope,
    principalScope: principal.modules,
    mode: settings.mode,
    ...(settings.modules ? { modulesParam: settings.modules } : {}),
    ...(enabledModules && enabledModules.size > 0 ? { enabledModules: [...enabledModules] } : {}),
  });
}
