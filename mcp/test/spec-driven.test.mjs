// The tools come from generated/tools.json alone: rebuilding the bundle over a changed file (a new
// x-mcp description, one more x-mcp operation) changes what the agent lists and can call, with
// no hand-written code. (codegen/tests/mcp_schemas.rs shows the spec → tools.json half.)

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { GENERATED, MCP_DIR, call, connected, mcpClient } from "./support.mjs";

test("a rebuilt bundle over a changed tools.json lists and dispatches the change", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "paca-mcp-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const doc = structuredClone(GENERATED);
  const branches = doc.tools.find((x) => x.name === "github_list_task_branches");
  branches.description = "CHANGED: the branches of a task, as the spec now says.";
  // What codegen emits for a new `x-mcp` operation, here over an existing route.
  const base = doc.tools.find((x) => x.name === "github_list_linked_repositories");
  doc.tools.push({
    ...structuredClone(base),
    name: "github_repositories_of_project",
    summary: "Repositories of the project",
    description: "A tool that only exists in this changed spec.",
  });
  writeFileSync(join(dir, "tools.json"), JSON.stringify(doc));
  execFileSync(process.execPath, [join(MCP_DIR, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"], {
    cwd: MCP_DIR,
    env: { ...process.env, PACA_MCP_TOOLS_JSON: join(dir, "tools.json"), PACA_MCP_OUT_DIR: join(dir, "dist") },
    stdio: ["ignore", "inherit", "inherit"],
  });

  const agent = await mcpClient(t, {
    apiKey: "dev-admin",
    env: { PACA_MCP_URL: pathToFileURL(join(dir, "dist/mcp.js")).href },
  });
  const { tools } = await agent.listTools();
  assert.deepEqual(
    tools.map((x) => x.name),
    [...GENERATED.tools.map((x) => x.name), "github_repositories_of_project"],
  );
  assert.equal(tools.find((x) => x.name === "github_list_task_branches").description, branches.description);

  const p = await connected(1);
  const r = await call(agent, "github_repositories_of_project", { projectId: p.id });
  assert.equal(r.isError, false, r.text);
  assert.match(r.text, /^Repositories of the project \(1\):\n- \S+\/app — repoId=/);
  assert.match(r.text, new RegExp(`repoId=${p.repo.id}`));

  // The regular dist/mcp.js still lists the generated tools.
  const current = await mcpClient(t, { apiKey: "dev-admin" });
  const listed = (await current.listTools()).tools;
  assert.equal(listed.length, GENERATED.tools.length);
  assert.notEqual(listed.find((x) => x.name === "github_list_task_branches").description, branches.description);
});
