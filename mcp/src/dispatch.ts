// The one generic dispatcher: a tool's generated HTTP mapping turns its arguments into a plugin
// API request. Nothing here knows any particular tool.

import type { ToolSpec } from "./spec";

export interface PreparedCall {
  method: string;
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown> | undefined;
}

export type Prepared = { ok: true; call: PreparedCall } | { ok: false; message: string };

function scalar(v: unknown): string | undefined {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : undefined;
}

export function prepare(tool: ToolSpec, args: Record<string, unknown>): Prepared {
  const mapping = tool.http.args;
  const unknown = Object.keys(args).filter((a) => !Object.hasOwn(mapping, a) && args[a] !== undefined);
  if (unknown.length > 0) {
    return {
      ok: false,
      message: `unknown argument(s) ${unknown.join(", ")}; ${tool.name} takes ${Object.keys(mapping).join(", ")}`,
    };
  }
  const missing = tool.inputSchema.required.filter((a) => args[a] === undefined || args[a] === null);
  if (missing.length > 0) {
    return { ok: false, message: `missing required argument(s) ${missing.join(", ")}` };
  }
  let path = tool.http.path;
  const query = new URLSearchParams();
  let body: Record<string, unknown> | undefined;
  for (const [arg, to] of Object.entries(mapping)) {
    if (to.in === "body") body ??= {};
    const value = args[arg];
    if (value === undefined || value === null) continue;
    if (to.in === "body") {
      (body ??= {})[to.name] = value;
      continue;
    }
    const text = scalar(value);
    if (text === undefined || (to.in === "path" && text === "")) {
      return { ok: false, message: `${arg} must be a non-empty string or a number` };
    }
    if (to.in === "path") path = path.replace(`{${to.name}}`, encodeURIComponent(text));
    else query.set(to.name, text);
  }
  return { ok: true, call: { method: tool.http.method, path, query, body } };
}
