// The agent's pull-request workflow through a real MCP client: the tool Paca's core
// `push_branch` names (`github_create_pull_request` with `head_branch` / `base_branch`), then
// details, CI state, a comment and a review, each visible in the fake GitHub or the plugin API.

import assert from "node:assert/strict";
import test from "node:test";
import { GITHUB, call, connected, http, mcpClient, pluginApi, unique } from "./support.mjs";

function succeeded(r, ...patterns) {
  assert.equal(r.isError, false, r.text);
  for (const p of patterns) assert.match(r.text, p, r.text);
}

async function control(method, path, body) {
  const r = await http(method, `${GITHUB}/_control/${path}`, { body });
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path} → ${r.status}: ${r.text}`);
  return r.json;
}

/** The whole fake GitHub state as text, to find what a tool wrote there. */
async function githubState() {
  return JSON.stringify(await control("GET", "state"));
}

test("an agent opens, inspects, checks, comments on and reviews a task's pull request", async (t) => {
  const agent = await mcpClient(t, { apiKey: "dev-agent" });
  const p = await connected(1);
  const [task] = p.tasks;
  const head = `feat/${task.key}-agent-${unique()}`;
  await control("POST", `repos/${p.gh.repo}/push`, { branch: head });
  const args = {
    projectId: p.id,
    taskId: task.id,
    repoId: p.repo.id,
    title: `${task.key} Agent change`,
    head_branch: head,
    base_branch: "main",
    body: "Opened by the MCP test.",
  };

  let prId;
  await t.test("github_create_pull_request links the new PR to the task", async () => {
    const r = await call(agent, "github_create_pull_request", args);
    succeeded(r, /pull_request: id=[0-9a-f-]{36}/, /created: true/, new RegExp(`${task.key} Agent change`));
    prId = /pull_request: id=([0-9a-f-]{36})/.exec(r.text)[1];
    const linked = (await pluginApi("GET", `projects/${p.id}/tasks/${task.id}/github/pull-requests`)).data;
    assert.deepEqual(
      linked.map((x) => [x.id, x.head_branch, x.base_branch, x.state]),
      [[prId, head, "main", "open"]],
    );
    assert.match(await githubState(), new RegExp(`${task.key} Agent change`));
  });

  await t.test("a second identical call links the same pull request", async () => {
    const r = await call(agent, "github_create_pull_request", args);
    succeeded(r, new RegExp(`pull_request: id=${prId}`), /created: false/);
    const linked = (await pluginApi("GET", `projects/${p.id}/tasks/${task.id}/github/pull-requests`)).data;
    assert.equal(linked.length, 1);
  });

  const scope = { projectId: p.id, taskId: task.id, prId };
  await t.test("github_get_pull_request", async () => {
    succeeded(await call(agent, "github_get_pull_request", scope), new RegExp(head), /Opened by the MCP test\./);
  });

  await t.test("github_get_pull_request_ci_status combines check runs", async () => {
    await control("POST", `repos/${p.gh.repo}/check-runs`, {
      ref: head,
      name: "build",
      status: "completed",
      conclusion: "failure",
    });
    succeeded(await call(agent, "github_get_pull_request_ci_status", scope), /failure/, /build/);
  });

  await t.test("github_comment_on_pull_request writes to GitHub", async () => {
    const body = `comment ${unique()}`;
    succeeded(await call(agent, "github_comment_on_pull_request", { ...scope, body }));
    assert.match(await githubState(), new RegExp(body));
  });

  await t.test("github_review_pull_request writes to GitHub", async () => {
    const body = `review ${unique()}`;
    succeeded(await call(agent, "github_review_pull_request", { ...scope, event: "COMMENT", body }));
    assert.match(await githubState(), new RegExp(body));
  });
});
