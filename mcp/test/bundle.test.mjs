// The built bundle as Paca's MCP server receives it: served by devhost at the manifest's URL,
// self-contained (importable from a data: URL), the entry shape Paca checks, and the skill.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { DEVHOST, GENERATED, MCP_DIR, PLUGIN_ID, REPO_ROOT, http } from "./support.mjs";

const dist = readFileSync(`${MCP_DIR}/dist/mcp.js`, "utf8");
const manifest = JSON.parse(readFileSync(`${REPO_ROOT}/plugin.json`, "utf8"));

test("devhost serves dist/mcp.js at the manifest's remoteEntryUrl", async () => {
  assert.equal(manifest.mcp.remoteEntryUrl, `/plugins-mcp/${PLUGIN_ID}/mcp.js`);
  const r = await http("GET", `${DEVHOST}${manifest.mcp.remoteEntryUrl}`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /^text\/javascript/);
  assert.equal(r.text, dist);
  assert.equal((await http("GET", `${DEVHOST}/plugins-mcp/other.plugin/mcp.js`)).status, 404);
});

test("the bundle is self-contained and imports from a data: URL", async () => {
  assert.doesNotMatch(dist, /^\s*import\s[^(]/m, "no static imports");
  assert.doesNotMatch(dist, /\bimport\s*\(/, "no dynamic imports");
  assert.doesNotMatch(dist, /\brequire\s*\(/, "no require");
  const mod = await import(`data:text/javascript;base64,${Buffer.from(dist).toString("base64")}`);
  const entry = mod.default;
  assert.ok(Array.isArray(entry.tools));
  assert.equal(typeof entry.handleToolCall, "function");
  assert.equal(typeof entry.getToolContext, "function");
  assert.deepEqual(
    entry.tools.map((t) => Object.keys(t).sort()),
    entry.tools.map(() => ["annotations", "description", "inputSchema", "name"]),
  );
  assert.deepEqual(manifest.mcp.toolContextHooks, ["get_task"]);
});

test("tool arguments follow Paca's MCP naming, so its single-project guard applies", () => {
  for (const tool of GENERATED.tools) {
    const args = Object.keys(tool.inputSchema.properties);
    if (tool.http.path.includes("{projectId}")) assert.ok(args.includes("projectId"), tool.name);
    for (const a of args) assert.doesNotMatch(a, /_id$/, `${tool.name}: ids are camelCase (${a})`);
    assert.match(tool.name, /^github_[a-z0-9_]+$/);
  }
});

test("setting a token is not an agent tool", () => {
  assert.equal(
    GENERATED.tools.find((t) => t.name === "github_set_token" || t.http.path.endsWith("/github/token") && t.http.method === "POST"),
    undefined,
  );
});

test("every error code a tool can return has its own next-step hint", async () => {
  const { errorHints } = await import(`data:text/javascript;base64,${Buffer.from(dist).toString("base64")}`);
  const codes = new Set(GENERATED.tools.flatMap((t) => t.errors));
  assert.ok(codes.size > 10);
  for (const code of codes) assert.ok(errorHints[code], `no hint for ${code}`);
});

test("devhost serves the skill with the front matter Paca validates", async () => {
  assert.deepEqual(manifest.skills, { baseUrl: `/plugins-skills/${PLUGIN_ID}`, names: ["paca-github-workflow"] });
  for (const name of manifest.skills.names) {
    const r = await http("GET", `${DEVHOST}${manifest.skills.baseUrl}/${name}/SKILL.md`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type"), /^text\/markdown/);
    assert.equal(r.text, readFileSync(`${REPO_ROOT}/skills/${name}/SKILL.md`, "utf8"));
    const front = /^---\n([\s\S]*?)\n---\n/.exec(r.text);
    assert.ok(front, "front matter");
    assert.match(front[1], new RegExp(`^name: ${name}$`, "m"));
    assert.match(front[1], /^description: \S.{20,}$/m);
    assert.match(front[1], /^triggers:\n( {2}- \S.*\n?)+$/m);
  }
  assert.equal((await http("GET", `${DEVHOST}/plugins-skills/${PLUGIN_ID}/paca-nope/SKILL.md`)).status, 404);
  assert.equal((await http("GET", `${DEVHOST}/plugins-skills/${PLUGIN_ID}/..%2f..%2fplugin.json/SKILL.md`)).status, 404);
});
