// The Paca MCP entry over a tools document: `tools`, one generic `handleToolCall`, and the
// `get_task` context hook. Built from generated/tools.json by index.ts.

import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { callPlugin, type PluginMCPContext } from "./client";
import { prepare } from "./dispatch";
import { hintFor } from "./hints";
import { item, present } from "./present";
import { parseTools, type ToolSpec } from "./spec";

export type { PluginMCPContext };

export interface PluginToolResult {
  content: Array<{ type: "text"; text: string }>;
  isError?: boolean;
}

export interface PluginMCPEntry {
  tools: Tool[];
  handleToolCall(name: string, args: Record<string, unknown>, context: PluginMCPContext): Promise<PluginToolResult>;
  getToolContext(toolId: string, args: Record<string, unknown>, context: PluginMCPContext): Promise<string | null>;
}

function text(t: string): PluginToolResult {
  return { content: [{ type: "text", text: t }] };
}

function failure(tool: string, code: string, message: string, status?: number): PluginToolResult {
  const http = status ? `, HTTP ${status}` : "";
  return {
    content: [{ type: "text", text: `${tool} failed: ${message} (error ${code}${http}).\nNext step: ${hintFor(code)}` }],
    isError: true,
  };
}

/** What Paca lists: the MCP fields only (the HTTP mapping stays inside the bundle). */
function listed(t: ToolSpec): Tool {
  const tool: Tool = { name: t.name, description: t.description, inputSchema: t.inputSchema };
  if (t.annotations) tool.annotations = t.annotations;
  return tool;
}

/** Tool names whose results make up the `get_task` context section. */
const TASK_BRANCHES = "github_list_task_branches";
const TASK_PULL_REQUESTS = "github_list_task_pull_requests";

export function createEntry(doc: unknown): PluginMCPEntry {
  const specs = parseTools(doc);
  const byName = new Map(specs.map((t) => [t.name, t]));

  async function call(tool: ToolSpec, args: Record<string, unknown>, ctx: PluginMCPContext) {
    const prepared = prepare(tool, args);
    if (!prepared.ok) return { ok: false as const, status: 0, code: "INVALID_ARGUMENTS", message: prepared.message };
    const { method, path, query, body } = prepared.call;
    return callPlugin(ctx, method, path, query, body);
  }

  async function list(name: string, args: Record<string, unknown>, ctx: PluginMCPContext): Promise<unknown[]> {
    const tool = byName.get(name);
    if (!tool) return [];
    const out = await call(tool, args, ctx);
    return out.ok && Array.isArray(out.data) ? out.data : [];
  }

  return {
    tools: specs.map(listed),

    async handleToolCall(name, args, context) {
      const tool = byName.get(name);
      if (!tool) return failure(name, "UNKNOWN_TOOL", `the GitHub plugin has no tool named ${JSON.stringify(name)}`);
      try {
        const out = await call(tool, args ?? {}, context);
        return out.ok ? text(present(tool, out.data)) : failure(name, out.code, out.message, out.status || undefined);
      } catch (e) {
        return failure(name, "INTERNAL_ERROR", e instanceof Error ? e.message : String(e));
      }
    },

    async getToolContext(toolId, args, context) {
      try {
        if (toolId !== "get_task") return null;
        const scope = { projectId: args?.projectId, taskId: args?.taskId };
        if (typeof scope.projectId !== "string" || typeof scope.taskId !== "string") return null;
        const [branches, prs] = await Promise.all([
          list(TASK_BRANCHES, scope, context),
          list(TASK_PULL_REQUESTS, scope, context),
        ]);
        if (branches.length === 0 && prs.length === 0) return null;
        const lines = ["## GitHub"];
        if (branches.length > 0) {
          lines.push("**Branches:**", ...branches.map((b) => `- ${item("Branch", b)}`));
        }
        if (prs.length > 0) {
          lines.push("**Pull Requests:**", ...prs.map((p) => `- ${item("PullRequest", p)}`));
        }
        return lines.join("\n");
      } catch {
        return null;
      }
    },
  };
}
