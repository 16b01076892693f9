// Paca's get_task context hook: through the harness's stub of the core tool (which appends the
// section as Paca's server does), and directly on the built bundle for the failure cases.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { MCP_DIR, call, connected, mcpClient, openPullRequest, pluginApi, project } from "./support.mjs";

const bundle = await import(pathToFileURL(`${MCP_DIR}/dist/mcp.js`).href);
const entry = bundle.default;

test("get_task gets a ## GitHub section with the task's branches and pull requests", async (t) => {
  const agent = await mcpClient(t, { apiKey: "dev-agent", env: { PACA_STUB_CORE_TOOLS: "1" } });
  const p = await connected(2);
  const [task, bare] = p.tasks;
  const branch = `feat/${task.key}-context`;
  await pluginApi("POST", `projects/${p.id}/tasks/${task.id}/github/branches`, { repo_id: p.repo.id, branch_name: branch });
  const number = await openPullRequest(p.gh.repo, "ctx-topic", "Context PR");
  await pluginApi("POST", `projects/${p.id}/tasks/${task.id}/github/pull-requests`, { repo_id: p.repo.id, pr_number: number });

  const r = await call(agent, "get_task", { projectId: p.id, taskId: task.id });
  assert.equal(r.isError, false, r.text);
  const [core, section] = r.text.split("\n\n");
  assert.equal(core, `Task ${task.id} of project ${p.id}.`);
  const lines = section.split("\n");
  assert.equal(lines[0], "## GitHub");
  assert.equal(lines[1], "**Branches:**");
  assert.match(lines[2], new RegExp(`^- ${branch} — ${p.gh.repo}; http`));
  assert.equal(lines[3], "**Pull Requests:**");
  assert.match(lines[4], new RegExp(`^- #${number} \\[open\\] Context PR — .*prId=[0-9a-f-]{36}; http\\S+/pull/${number}$`));
  assert.equal(lines.length, 5);

  await t.test("nothing when the task has no links", async () => {
    const r2 = await call(agent, "get_task", { projectId: p.id, taskId: bare.id });
    assert.equal(r2.text, `Task ${bare.id} of project ${p.id}.`);
  });

  await t.test("nothing when the project has no GitHub integration", async () => {
    const q = await project(1);
    const r3 = await call(agent, "get_task", { projectId: q.id, taskId: q.tasks[0].id });
    assert.equal(r3.text, `Task ${q.tasks[0].id} of project ${q.id}.`);
  });
});

test("getToolContext never throws and stays silent when it has nothing to add", async () => {
  const down = { pluginId: "com.paca.github", baseURL: "http://127.0.0.1:9", apiKey: "k" };
  const ids = { projectId: "7f000000-0000-4000-8000-000000000001", taskId: "7f000000-0000-4000-8000-000000000002" };
  assert.equal(await entry.getToolContext("get_task", ids, down), null);
  assert.equal(await entry.getToolContext("get_task", {}, down), null);
  assert.equal(await entry.getToolContext("get_task", undefined, down), null);
  assert.equal(await entry.getToolContext("list_tasks", ids, down), null);
  assert.equal(await entry.getToolContext("get_task", ids, { ...down, baseURL: "not a url" }), null);
});

test("getToolContext runs both lookups in parallel", async (t) => {
  // Holds every request until both have arrived (bounded), then answers them.
  const held = [];
  let maxInFlight = 0;
  const server = createServer((req, res) => {
    held.push({ req, res });
    maxInFlight = Math.max(maxInFlight, held.length);
    const answer = () => {
      for (const h of held.splice(0)) {
        const data = h.req.url.endsWith("/branches")
          ? [{ branch_name: "feat/X-1", repo_full_name: "o/r", html_url: "https://example.test/b" }]
          : [];
        h.res.setHeader("Content-Type", "application/json");
        h.res.end(JSON.stringify({ success: true, data }));
      }
    };
    if (held.length === 2) answer();
    else setTimeout(answer, 3000).unref();
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => server.close());
  const ctx = { pluginId: "com.paca.github", baseURL: `http://127.0.0.1:${server.address().port}`, apiKey: "k" };
  const section = await entry.getToolContext("get_task", { projectId: "p", taskId: "t" }, ctx);
  assert.equal(maxInFlight, 2, "the branch and pull request lookups were not in flight together");
  assert.equal(section, "## GitHub\n**Branches:**\n- feat/X-1 — o/r; https://example.test/b");
});
