// Every tool through the built bundle, as an agent calls it: a real MCP client → the stdio
// harness → dist/mcp.js fetched from devhost → the plugin API (github.wasm) → the fake GitHub.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  GENERATED,
  UNKNOWN_ID,
  call,
  connected,
  injectFault,
  mcpClient,
  openPullRequest,
  pluginApi,
  project,
  addRepo,
} from "./support.mjs";

/** Asserts an isError result with this code and its next-step hint. */
function failed(r, code, hint) {
  assert.equal(r.isError, true, `expected ${code}, got success: ${r.text}`);
  assert.match(r.text, new RegExp(`\\(error ${code}[,)]`), r.text);
  assert.match(r.text, /\nNext step: /, r.text);
  if (hint) assert.match(r.text, hint, r.text);
}

function succeeded(r, ...patterns) {
  assert.equal(r.isError, false, r.text);
  for (const p of patterns) assert.match(r.text, p, r.text);
}

test("the MCP client lists exactly the generated tools", async (t) => {
  const client = await mcpClient(t);
  const { tools } = await client.listTools();
  assert.deepEqual(
    tools.map((x) => x.name),
    GENERATED.tools.map((x) => x.name),
  );
  for (const [i, tool] of tools.entries()) {
    const want = GENERATED.tools[i];
    assert.equal(tool.description, want.description, tool.name);
    assert.deepEqual(tool.inputSchema, want.inputSchema, tool.name);
    assert.deepEqual(tool.annotations, { ...want.annotations }, tool.name);
    assert.equal(tool.http, undefined, `${tool.name}: the HTTP mapping stays inside the bundle`);
  }
});

test("integration and repository tools (a project admin's key)", async (t) => {
  const admin = await mcpClient(t, { apiKey: "dev-admin" });
  const agent = await mcpClient(t, { apiKey: "dev-agent" });
  const p = await connected();
  const bare = await project(1);
  await addRepo(p.gh.login, "lib");

  await t.test("github_get_integration", async () => {
    succeeded(await call(admin, "github_get_integration", { projectId: p.id }), /GitHub is connected/, new RegExp(p.id));
    succeeded(
      await call(admin, "github_get_integration", { projectId: bare.id }),
      /not connected/,
      /Project Settings → GitHub/,
    );
    // The status is a tasks:read route (the task section needs it): an agent sees it too.
    succeeded(await call(agent, "github_get_integration", { projectId: p.id }), /GitHub is connected/);
  });

  await t.test("github_list_accessible_repositories", async () => {
    const all = await call(admin, "github_list_accessible_repositories", { projectId: p.id });
    succeeded(
      all,
      new RegExp(`owner="${p.gh.login}" repo_name="app"`),
      new RegExp(`owner="${p.gh.login}" repo_name="lib"`),
      /last page/,
    );
    const first = await call(admin, "github_list_accessible_repositories", { projectId: p.id, page: 1, per_page: 1 });
    succeeded(first, /page 1 \(1\)/, /call again with page=2/);
    failed(
      await call(admin, "github_list_accessible_repositories", { projectId: bare.id }),
      "GITHUB_INTEGRATION_NOT_FOUND",
      /Project Settings → GitHub/,
    );
    failed(await call(admin, "github_list_accessible_repositories", { projectId: p.id, page: 0 }), "BAD_REQUEST");
  });

  let libId;
  await t.test("github_link_repository", async () => {
    const r = await call(admin, "github_link_repository", { projectId: p.id, owner: p.gh.login, repo_name: "lib" });
    succeeded(r, /Link a repository and create its webhook: done/, new RegExp(`${p.gh.login}/lib — repoId=`), /webhook active/);
    libId = /repoId=([0-9a-f-]{36})/.exec(r.text)[1];
    failed(
      await call(admin, "github_link_repository", { projectId: p.id, owner: p.gh.login, repo_name: "lib" }),
      "GITHUB_REPO_ALREADY_LINKED",
      /github_list_linked_repositories/,
    );
    failed(
      await call(admin, "github_link_repository", { projectId: p.id, owner: p.gh.login, repo_name: "missing" }),
      "GITHUB_REPO_NOT_ACCESSIBLE",
    );
    failed(
      await call(admin, "github_link_repository", { projectId: p.id, owner: p.gh.login, repo_name: "bad name!" }),
      "INVALID_REPOSITORY_NAME",
    );
    failed(
      await call(admin, "github_link_repository", { projectId: bare.id, owner: p.gh.login, repo_name: "lib" }),
      "GITHUB_INTEGRATION_NOT_FOUND",
    );
    failed(
      await call(agent, "github_link_repository", { projectId: p.id, owner: p.gh.login, repo_name: "lib" }),
      "FORBIDDEN",
    );
  });

  await t.test("github_list_linked_repositories", async () => {
    const r = await call(admin, "github_list_linked_repositories", { projectId: p.id });
    succeeded(r, /Repositories linked to the project \(2\)/, new RegExp(`repoId=${p.repo.id}`), new RegExp(`repoId=${libId}`));
    succeeded(await call(admin, "github_list_linked_repositories", { projectId: bare.id }), /: none\./);
    succeeded(await call(agent, "github_list_linked_repositories", { projectId: p.id }), new RegExp(`repoId=${p.repo.id}`));
  });

  await t.test("github_unlink_repository", async () => {
    succeeded(
      await call(admin, "github_unlink_repository", { projectId: p.id, repoId: libId }),
      new RegExp(`repoId=${libId} unlinked`),
      /webhook was deleted on GitHub/,
    );
    const left = (await pluginApi("GET", `projects/${p.id}/github/linked-repositories`)).data;
    assert.deepEqual(
      left.map((r) => r.id),
      [p.repo.id],
    );
    failed(
      await call(admin, "github_unlink_repository", { projectId: p.id, repoId: libId }),
      "GITHUB_REPOSITORY_NOT_FOUND",
      /github_list_linked_repositories/,
    );
    failed(await call(admin, "github_unlink_repository", { projectId: p.id, repoId: "not-a-uuid" }), "BAD_REQUEST");
  });

  await t.test("github_delete_token", async () => {
    failed(await call(agent, "github_delete_token", { projectId: p.id }), "FORBIDDEN");
    succeeded(await call(admin, "github_delete_token", { projectId: p.id }), /GitHub disconnected/, /1 webhook\(s\) deleted/);
    assert.equal((await pluginApi("GET", `projects/${p.id}/github`)).data.connected, false);
    succeeded(await call(admin, "github_delete_token", { projectId: p.id }), /was not connected/);
  });
});

test("task tools (an agent's key)", async (t) => {
  const agent = await mcpClient(t, { apiKey: "dev-agent" });
  const p = await connected(2);
  const [task, other] = p.tasks;
  const scope = { projectId: p.id, taskId: task.id };

  await t.test("github_create_branch", async () => {
    const name = `feat/${task.key}-from-mcp`;
    const r = await call(agent, "github_create_branch", { ...scope, repoId: p.repo.id, branch_name: name });
    succeeded(r, /Create a branch on GitHub and link it to the task: done/, new RegExp(`${name} — ${p.gh.repo}`));
    failed(
      await call(agent, "github_create_branch", { ...scope, repoId: p.repo.id, branch_name: name }),
      "GITHUB_BRANCH_ALREADY_EXISTS",
    );
    failed(
      await call(agent, "github_create_branch", { ...scope, repoId: p.repo.id, branch_name: "x-1", source_branch: "nope" }),
      "GITHUB_BRANCH_NOT_FOUND",
      /omit source_branch/,
    );
    failed(
      await call(agent, "github_create_branch", { ...scope, repoId: p.repo.id, branch_name: "bad..name" }),
      "INVALID_BRANCH_NAME",
    );
    failed(
      await call(agent, "github_create_branch", { ...scope, repoId: UNKNOWN_ID, branch_name: "x-2" }),
      "GITHUB_REPOSITORY_NOT_FOUND",
    );
  });

  await t.test("github_list_task_branches", async () => {
    succeeded(
      await call(agent, "github_list_task_branches", scope),
      /Branches linked to a task \(1\)/,
      new RegExp(`feat/${task.key}-from-mcp`),
    );
    succeeded(await call(agent, "github_list_task_branches", { ...scope, taskId: other.id }), /: none\./);
    failed(
      await call(agent, "github_list_task_branches", { ...scope, taskId: UNKNOWN_ID }),
      "TASK_NOT_FOUND",
      /list_tasks/,
    );
  });

  const number = await openPullRequest(p.gh.repo, "topic-without-key", "Improve the thing");
  let prId;
  await t.test("github_link_pull_request changes what the plugin API shows", async () => {
    assert.deepEqual((await pluginApi("GET", `projects/${p.id}/tasks/${other.id}/github/pull-requests`)).data, []);
    const r = await call(agent, "github_link_pull_request", { projectId: p.id, taskId: other.id, repoId: p.repo.id, pr_number: number });
    succeeded(r, /Link a pull request to a task: done/, new RegExp(`#${number} \\[open\\] Improve the thing`), /prId=/);
    prId = /prId=([0-9a-f-]{36})/.exec(r.text)[1];
    const linked = (await pluginApi("GET", `projects/${p.id}/tasks/${other.id}/github/pull-requests`)).data;
    assert.deepEqual(
      linked.map((x) => [x.id, x.pr_number, x.repo_id, x.state]),
      [[prId, number, p.repo.id, "open"]],
    );
    failed(
      await call(agent, "github_link_pull_request", { projectId: p.id, taskId: other.id, repoId: p.repo.id, pr_number: number }),
      "GITHUB_PR_ALREADY_LINKED",
    );
    failed(
      await call(agent, "github_link_pull_request", { projectId: p.id, taskId: other.id, repoId: p.repo.id, pr_number: 9999 }),
      "GITHUB_PR_NOT_FOUND",
      /pr_number/,
    );
    failed(
      await call(agent, "github_link_pull_request", { projectId: p.id, taskId: UNKNOWN_ID, repoId: p.repo.id, pr_number: number }),
      "TASK_NOT_FOUND",
    );
    failed(
      await call(agent, "github_link_pull_request", { projectId: p.id, taskId: other.id, repoId: p.repo.id, pr_number: 0 }),
      "BAD_REQUEST",
    );
  });

  await t.test("github_list_task_pull_requests", async () => {
    succeeded(
      await call(agent, "github_list_task_pull_requests", { projectId: p.id, taskId: other.id }),
      /Pull requests linked to a task \(1\)/,
      new RegExp(`#${number} \\[open\\] Improve the thing — ${p.gh.repo} \\(topic-without-key → main, by ${p.gh.login}\\); prId=${prId}; http`),
    );
    failed(
      await call(agent, "github_list_task_pull_requests", { projectId: p.id, taskId: UNKNOWN_ID }),
      "TASK_NOT_FOUND",
    );
  });

  await t.test("github_unlink_pull_request", async () => {
    succeeded(
      await call(agent, "github_unlink_pull_request", { projectId: p.id, taskId: other.id, prId }),
      /Unlink a pull request from a task: done\./,
    );
    assert.deepEqual((await pluginApi("GET", `projects/${p.id}/tasks/${other.id}/github/pull-requests`)).data, []);
    failed(
      await call(agent, "github_unlink_pull_request", { projectId: p.id, taskId: other.id, prId }),
      "GITHUB_PR_LINK_NOT_FOUND",
      /github_list_task_pull_requests/,
    );
  });

  await t.test("GitHub's rate limit reaches the agent as a code with a hint", async () => {
    await injectFault({
      method: "GET",
      path: `/repos/${p.gh.repo}/pulls/77`,
      times: 1,
      action: { type: "secondary_rate_limit", retry_after_secs: 60 },
    });
    failed(
      await call(agent, "github_link_pull_request", { projectId: p.id, taskId: task.id, repoId: p.repo.id, pr_number: 77 }),
      "GITHUB_RATE_LIMITED",
      /wait a few minutes/,
    );
  });

  await t.test("an agent without github:use still has the task tools (tasks:read / tasks:write)", async (t2) => {
    const basic = await mcpClient(t2, { apiKey: "dev-agent-basic" });
    succeeded(await call(basic, "github_list_task_branches", scope), /\(1\)/);
  });

  await t.test("argument mistakes are explained before any call", async () => {
    failed(await call(agent, "github_list_task_branches", { projectId: p.id }), "INVALID_ARGUMENTS", /taskId/);
    failed(
      await call(agent, "github_list_task_branches", { ...scope, task_id: task.id }),
      "INVALID_ARGUMENTS",
      /unknown argument\(s\) task_id/,
    );
  });

  await t.test("a project the key is not a member of is refused", async () => {
    failed(await call(agent, "github_list_task_branches", { projectId: UNKNOWN_ID, taskId: task.id }), "FORBIDDEN");
  });
});
