#!/usr/bin/env node
// A small stdio MCP server for tests and local development (never shipped): it loads the plugin's
// dist/mcp.js the way Paca's MCP server does — reads `mcp.remoteEntryUrl` from the manifest,
// fetches it over HTTP from the host and import()s it as a base64 `data:` URL — and exposes the
// bundle's tools, calling `handleToolCall` with `{pluginId, baseURL, apiKey}`.
//
// Environment:
//   PACA_BASE_URL    API origin, e.g. http://127.0.0.1:8787 (required)
//   PACA_API_KEY     sent by the bundle as X-API-Key, e.g. dev-agent (required)
//   PACA_MANIFEST    plugin.json (default: the repository's)
//   PACA_MCP_URL     load the bundle from here instead of the manifest's remoteEntryUrl
//   PACA_STUB_CORE_TOOLS=1
//                    also list a stub of Paca's core `get_task`, whose result gets the plugin's
//                    getToolContext section appended as Paca's server appends it, when the
//                    manifest lists get_task in mcp.toolContextHooks
//
// With `cargo xtask dev` running, an MCP client can start it as
//   PACA_BASE_URL=http://127.0.0.1:8787 PACA_API_KEY=dev-agent node mcp/dev/stdio-server.mjs

import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

function need(name) {
  const v = process.env[name];
  if (!v) {
    process.stderr.write(`stdio-server: ${name} is required\n`);
    process.exit(2);
  }
  return v;
}

const baseURL = need("PACA_BASE_URL").replace(/\/+$/, "");
const apiKey = need("PACA_API_KEY");
const manifestPath = process.env.PACA_MANIFEST ?? fileURLToPath(new URL("../../plugin.json", import.meta.url));
const manifest = JSON.parse(await readFile(manifestPath, "utf8"));
const pluginId = manifest.id;
const hooks = manifest.mcp?.toolContextHooks ?? [];

async function loadEntry() {
  const url = new URL(process.env.PACA_MCP_URL ?? manifest.mcp?.remoteEntryUrl, `${baseURL}/`);
  let mod;
  if (url.protocol === "file:") {
    mod = await import(url.href);
  } else {
    // http(s): fetched and imported as a data: URL, so the bundle must be self-contained.
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
    const code = await res.text();
    mod = await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
  }
  const entry = mod.default ?? mod;
  if (!Array.isArray(entry?.tools) || typeof entry.handleToolCall !== "function") {
    throw new Error(`${url} is not a plugin MCP entry (needs tools[] and handleToolCall)`);
  }
  return entry;
}

const entry = await loadEntry();
const context = () => ({ pluginId, baseURL, apiKey });

const stubGetTask = {
  name: "get_task",
  description: "(stub of Paca's core tool) Get a task.",
  inputSchema: {
    type: "object",
    properties: { projectId: { type: "string" }, taskId: { type: "string" } },
    required: ["projectId", "taskId"],
  },
};
const core = process.env.PACA_STUB_CORE_TOOLS === "1" ? [stubGetTask] : [];

const server = new Server({ name: "paca-plugin-stdio-harness", version: "0.0.0" }, { capabilities: { tools: {} } });

server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [...entry.tools, ...core] }));

server.setRequestHandler(CallToolRequestSchema, async (req) => {
  const { name } = req.params;
  const args = req.params.arguments ?? {};
  if (entry.tools.some((t) => t.name === name)) {
    try {
      return await entry.handleToolCall(name, args, context());
    } catch (e) {
      return { content: [{ type: "text", text: `Plugin tool "${name}" failed: ${e?.message ?? e}` }], isError: true };
    }
  }
  if (core.some((t) => t.name === name)) {
    const result = { content: [{ type: "text", text: `Task ${args.taskId} of project ${args.projectId}.` }] };
    if (hooks.includes(name) && typeof entry.getToolContext === "function") {
      // Paca appends each plugin's section to the last text block; a throwing hook adds nothing.
      const section = await Promise.resolve()
        .then(() => entry.getToolContext(name, args, context()))
        .catch(() => null);
      if (typeof section === "string" && section.trim()) result.content[0].text += `\n\n${section}`;
    }
    return result;
  }
  return { content: [{ type: "text", text: `Unknown tool: ${name}` }], isError: true };
});

await server.connect(new StdioServerTransport());
