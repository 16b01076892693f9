// Shared by the MCP tests: the running devhost + fake GitHub (started by
// devhost/tests/e2e_mcp.rs, which passes their URLs), seeding over their HTTP control routes,
// and MCP clients connected over stdio to dev/stdio-server.mjs.

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

function need(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(
      `${name} is not set: these tests run from \`cargo xtask test\` (devhost/tests/e2e_mcp.rs starts devhost and the fake GitHub)`,
    );
  }
  return v.replace(/\/+$/, "");
}

export const DEVHOST = need("PACA_DEVHOST_URL");
export const GITHUB = need("FAKE_GITHUB_URL");
export const PLUGIN_ID = "com.paca.github";
export const MCP_DIR = fileURLToPath(new URL("..", import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const SERVER = fileURLToPath(new URL("../dev/stdio-server.mjs", import.meta.url));
export const GENERATED = JSON.parse(readFileSync(new URL("../src/generated/tools.json", import.meta.url), "utf8"));
export const UNKNOWN_ID = "7f000000-0000-4000-8000-000000000000";

/** A short random suffix, so test files running against one devhost never share names. */
export function unique() {
  return randomBytes(4).toString("hex");
}

/** A task key prefix like `MCPAB` (letters only). */
export function prefix() {
  return `M${[...randomBytes(4)].map((b) => String.fromCharCode(65 + (b % 26))).join("")}`;
}

export async function http(method, url, { body, bearer, headers = {} } = {}) {
  const h = { ...headers };
  if (bearer) h.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) h["Content-Type"] = "application/json";
  const res = await fetch(url, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, json, text, headers: res.headers };
}

async function ok(method, url, opts) {
  const r = await http(method, url, opts);
  if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${url} → ${r.status}: ${r.text}`);
  return r.json;
}

/** The plugin API as a person (dev-admin) sees it, for checking what the tools changed. */
export async function pluginApi(method, path, body) {
  return ok(method, `${DEVHOST}/api/v1/plugins/${PLUGIN_ID}/${path}`, { body, bearer: "dev-admin" });
}

/** A project with its dev members and `tasks` tasks (`KEY-1`…). */
export async function project(tasks = 2) {
  const key = prefix();
  const { id } = await ok("POST", `${DEVHOST}/__devhost/seed/project`, { body: { name: `MCP ${key}`, task_id_prefix: key } });
  const list = [];
  for (let i = 0; i < tasks; i++) {
    const t = await ok("POST", `${DEVHOST}/__devhost/seed/task`, { body: { project_id: id, title: `task ${i + 1}` } });
    list.push({ id: t.id, key: `${key}-${t.task_number}` });
  }
  return { id, key, tasks: list };
}

/** A fake-GitHub user with a token and a repository `<login>/app` (branch `develop`). */
export async function githubUser() {
  const login = `u${unique()}`;
  const token = `ghp_${login}`;
  await ok("POST", `${GITHUB}/_control/users`, { body: { login, token } });
  await ok("POST", `${GITHUB}/_control/repos`, { body: { owner: login, name: "app", branches: ["develop"] } });
  return { login, token, repo: `${login}/app` };
}

export async function addRepo(owner, name) {
  return ok("POST", `${GITHUB}/_control/repos`, { body: { owner, name } });
}

/** Pushes a new branch and opens a pull request from it; returns the PR number. */
export async function openPullRequest(fullName, head, title) {
  await ok("POST", `${GITHUB}/_control/repos/${fullName}/push`, { body: { branch: head } });
  const out = await ok("POST", `${GITHUB}/_control/repos/${fullName}/pulls`, { body: { head, title } });
  return out.value.number;
}

export async function injectFault(rule) {
  await http("POST", `${GITHUB}/_control/faults`, { body: rule });
}

/** Token + `<login>/app` linked, as a project admin does it in the settings page. */
export async function connected(tasks = 2) {
  const p = await project(tasks);
  const gh = await githubUser();
  await pluginApi("POST", `projects/${p.id}/github/token`, { token: gh.token });
  const repo = (await pluginApi("POST", `projects/${p.id}/github/linked-repositories`, { owner: gh.login, repo_name: "app" })).data;
  return { ...p, gh, repo };
}

/** An MCP client connected over stdio to the harness, which loads the bundle from devhost. */
export async function mcpClient(t, { apiKey = "dev-agent", env = {} } = {}) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [SERVER],
    env: { PATH: process.env.PATH ?? "", PACA_BASE_URL: DEVHOST, PACA_API_KEY: apiKey, ...env },
    stderr: "inherit",
  });
  const client = new Client({ name: "paca-github-mcp-tests", version: "0.0.0" });
  await client.connect(transport);
  t.after(() => client.close());
  return client;
}

/** Calls a tool; returns {text, isError}. */
export async function call(client, name, args) {
  const r = await client.callTool({ name, arguments: args });
  return { text: r.content.map((c) => c.text ?? "").join("\n"), isError: r.isError === true };
}
