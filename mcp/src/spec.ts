// The shape of generated/tools.json (codegen/src/openapi/mcp.rs), checked when the entry is built
// so that a malformed file fails loudly at load time instead of at the first tool call.

export type ArgLocation = "path" | "query" | "body";
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface ToolSpec {
  name: string;
  /** The operation's summary, used as the heading of results. */
  summary: string;
  description: string;
  inputSchema: { type: "object"; properties: Record<string, object>; required: string[] } & Record<string, unknown>;
  annotations?: Record<string, boolean>;
  http: {
    method: HttpMethod;
    /** Relative to `/api/v1/plugins/<id>/`, with `{arg}` placeholders. */
    path: string;
    /** MCP argument → where it goes in the request and under which name. */
    args: Record<string, { in: ArgLocation; name: string }>;
  };
  /** The success response: its status and the spec schema of `data` (null schema: none/unknown). */
  result: { status: number; schema: string | null; list: boolean } | null;
  /** Every error code the operation declares. */
  errors: string[];
}

const METHODS: readonly string[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const LOCATIONS: readonly string[] = ["path", "query", "body"];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function fail(where: string, what: string): never {
  throw new Error(`tools.json: ${where}: ${what}`);
}

export function parseTools(doc: unknown): ToolSpec[] {
  if (!isRecord(doc) || !Array.isArray(doc.tools)) fail("root", "expected {tools: [...]}");
  return doc.tools.map((t: unknown, i: number): ToolSpec => {
    if (!isRecord(t) || typeof t.name !== "string") fail(`tools[${i}]`, "expected a named tool");
    const at = t.name;
    if (typeof t.description !== "string") fail(at, "description must be a string");
    const schema = t.inputSchema;
    if (!isRecord(schema) || schema.type !== "object" || !isRecord(schema.properties) || !Array.isArray(schema.required)) {
      fail(at, "inputSchema must be an object schema with properties and required");
    }
    const http = t.http;
    if (!isRecord(http) || typeof http.method !== "string" || !METHODS.includes(http.method)) fail(at, "http.method");
    if (typeof http.path !== "string" || !isRecord(http.args)) fail(at, "http.path / http.args");
    const args: ToolSpec["http"]["args"] = {};
    for (const [arg, m] of Object.entries(http.args)) {
      if (!isRecord(m) || typeof m.in !== "string" || !LOCATIONS.includes(m.in) || typeof m.name !== "string") {
        fail(at, `http.args.${arg} must be {in: path|query|body, name}`);
      }
      args[arg] = { in: m.in as ArgLocation, name: m.name };
      if (m.in === "path" && !http.path.includes(`{${m.name}}`)) fail(at, `path argument ${arg} is not in ${http.path}`);
    }
    const r = t.result;
    let result: ToolSpec["result"] = null;
    if (isRecord(r)) {
      if (typeof r.status !== "number") fail(at, "result.status");
      result = { status: r.status, schema: typeof r.schema === "string" ? r.schema : null, list: r.list === true };
    }
    const errors = Array.isArray(t.errors) ? t.errors.filter((c): c is string => typeof c === "string") : [];
    const spec: ToolSpec = {
      name: at,
      summary: typeof t.summary === "string" ? t.summary : at,
      description: t.description,
      inputSchema: schema as ToolSpec["inputSchema"],
      http: { method: http.method as HttpMethod, path: http.path, args },
      result,
      errors,
    };
    if (isRecord(t.annotations)) spec.annotations = t.annotations as Record<string, boolean>;
    return spec;
  });
}
