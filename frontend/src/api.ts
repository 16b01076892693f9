// Typed client of the plugin API. The types come from spec/openapi.yaml via openapi-typescript
// (src/generated/api.d.ts); only the wiring lives here.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/api";

export type ErrorCode = components["schemas"]["ErrorCode"];
export type Integration = components["schemas"]["Integration"];
export type LinkedRepository = components["schemas"]["LinkedRepository"];
export type PullRequest = components["schemas"]["PullRequest"];
export type Branch = components["schemas"]["Branch"];

/** Where Paca mounts the plugin's API. */
export const PLUGIN_BASE = "/api/v1/plugins/com.paca.github";

export function createPluginClient(origin = "") {
  return createClient<paths>({ baseUrl: `${origin}${PLUGIN_BASE}`, credentials: "include" });
}

/** The `error_code` of a failed call, when the body is Paca's error envelope. */
export function errorCode(error: unknown): ErrorCode | undefined {
  if (typeof error === "object" && error !== null && "error_code" in error) {
    return (error as { error_code: ErrorCode }).error_code;
  }
  return undefined;
}
