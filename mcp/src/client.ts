// Calls to the plugin's own API, the way Paca's plugin API client makes them: the agent's API key
// in X-API-Key, paths under /api/v1/plugins/<pluginId>/, Paca's envelope unwrapped.

export interface PluginMCPContext {
  pluginId: string;
  /** The API origin, without /api/v1. */
  baseURL: string;
  apiKey: string;
}

export type ApiOutcome =
  | { ok: true; status: number; data: unknown }
  | { ok: false; status: number; code: string; message: string };

/** A plugin call should not hold an agent's turn forever when GitHub or Paca hangs. */
const TIMEOUT_MS = 60_000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export async function callPlugin(
  ctx: PluginMCPContext,
  method: string,
  path: string,
  query?: URLSearchParams,
  body?: unknown,
): Promise<ApiOutcome> {
  const base = ctx.baseURL.replace(/\/+$/, "");
  const qs = query && [...query.keys()].length > 0 ? `?${query.toString()}` : "";
  const url = `${base}/api/v1/plugins/${encodeURIComponent(ctx.pluginId)}/${path}${qs}`;
  const headers: Record<string, string> = { Accept: "application/json", "X-API-Key": ctx.apiKey };
  const init: RequestInit = { method, headers, signal: AbortSignal.timeout(TIMEOUT_MS) };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    const timeout = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
    return timeout
      ? { ok: false, status: 0, code: "TIMEOUT", message: `Paca did not answer within ${TIMEOUT_MS / 1000} s` }
      : { ok: false, status: 0, code: "NETWORK_ERROR", message: `could not reach Paca at ${base}` };
  }
  const text = await res.text().catch(() => "");
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  const envelope = isRecord(json) && typeof json.success === "boolean" ? json : undefined;
  if (res.ok && envelope?.success !== false) {
    return { ok: true, status: res.status, data: envelope ? envelope.data : json };
  }
  const code = typeof envelope?.error_code === "string" ? envelope.error_code : `HTTP_${res.status}`;
  const message =
    typeof envelope?.error === "string" && envelope.error
      ? envelope.error
      : `${res.status} ${res.statusText}`.trim();
  return { ok: false, status: res.status, code, message };
}
