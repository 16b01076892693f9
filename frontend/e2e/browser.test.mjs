// Browser end-to-end tests: Debian's Chromium (driven by playwright-core) opens the dev shell
// served by a real devhost (github.wasm + PostgreSQL) with the fake GitHub behind it, and uses the
// plugin's UI like a person would. Started by devhost/tests/e2e_browser.rs, which passes:
//   E2E_BASE_URL     devhost, e.g. http://127.0.0.1:PORT
//   E2E_GITHUB_URL   the fake GitHub (its /_control API plays GitHub's side)
//   E2E_PROJECT_ID   the seeded project DEMO; E2E_TASK_IDS: its tasks DEMO-1,DEMO-2,DEMO-3 (comma-separated)
//   E2E_CHROMIUM     the browser binary; E2E_SCREENSHOTS: where screenshots go
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run this through devhost/tests/e2e_browser.rs (cargo xtask test)`);
  return v;
};
const BASE = env("E2E_BASE_URL");
const GH = env("E2E_GITHUB_URL");
const PROJECT = env("E2E_PROJECT_ID");
const [TASK1, TASK2] = env("E2E_TASK_IDS").split(",");
const SHOTS = env("E2E_SCREENSHOTS");
const REPO = "demo-org/paca-demo";
const WAIT = 30_000; // bound for anything that waits on a webhook or a poll

let context;
let page;
const problems = []; // console errors, page errors, unhandled rejections
const failedResponses = []; // every >= 400 answer the page received
const requested = [];
let profile;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  profile = mkdtempSync(join(tmpdir(), "pgh-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: env("E2E_CHROMIUM"),
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 980, height: 900 },
    deviceScaleFactor: 1,
  });
  await context.addInitScript(() => {
    window.addEventListener("unhandledrejection", (e) => console.error("unhandledrejection:", String(e.reason)));
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => {
    // Chromium logs every non-2xx fetch as "Failed to load resource"; those are checked below
    // against the exact list of refusals the test provokes.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("request", (r) => requested.push(r.url()));
  page.on("response", (r) => {
    if (r.status() >= 400) failedResponses.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
});

after(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

function shell(q) {
  const p = new URLSearchParams({ project: PROJECT, ...q });
  return `${BASE}/__devhost/shell/?${p}`;
}

async function open(q) {
  await page.goto(shell(q));
}

async function control(method, path, body) {
  const res = await fetch(`${GH}/_control${path}`, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const settings = () => page.getByTestId("settings-mount");
const taskView = () => page.getByTestId("task-mount");
const prRow = (n) => taskView().locator(`li[data-pr-number="${n}"]`);

async function shot(name) {
  await page.mouse.move(0, 0);
  await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

test("the remote loads through Paca's share scope, with one React and only its own CSS", async () => {
  await open({ view: "settings", as: "admin" });
  await settings().getByRole("heading", { name: "GitHub integration" }).waitFor();
  const shared = await page.evaluate(() => window.__devShell.sharedGets);
  assert.ok(shared.react >= 1 && shared["@tanstack/react-query"] >= 1, JSON.stringify(shared));
  // The remote never fetched its bundled fallback copies of the shared packages.
  const own = requested.filter((u) => u.includes("__federation_shared_"));
  assert.deepEqual(own, []);
  const sheets = await page.evaluate(() =>
    [...document.styleSheets].map((s) => (s.ownerNode instanceof Element ? s.ownerNode.id || s.ownerNode.outerHTML.slice(0, 80) : "?")),
  );
  assert.deepEqual(sheets.sort(), ["com-paca-github-styles", "devshell-styles"]);
  // The plugin's styles apply (a themed button, not the browser default).
  const bg = await settings().getByRole("button", { name: "Save token" }).evaluate((b) => getComputedStyle(b).backgroundColor);
  assert.equal(bg, "rgb(24, 24, 27)");
});

test("a wrong token shows the invalid-token message; the right one connects and opens the add dialog", async () => {
  const input = settings().getByLabel("Personal access token");
  await input.fill("ghp_not_a_real_token");
  await input.press("Enter");
  await settings().getByRole("alert").filter({ hasText: "GitHub rejected the token" }).waitFor({ timeout: WAIT });
  assert.equal(await input.getAttribute("aria-invalid"), "true");
  await shot("settings-invalid-token-light");

  await input.fill("ghp_demo_token");
  await settings().getByRole("button", { name: "Save token" }).click();
  const dialog = page.getByRole("dialog", { name: "Add a repository" });
  await dialog.waitFor({ timeout: WAIT });
  await settings().getByText("Personal access token saved").waitFor();
  await dialog.getByRole("button", { name: `Link ${REPO}` }).waitFor({ timeout: WAIT });
  // the search box has the focus and filters
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("type")), "search");
  await page.keyboard.type("playground");
  await dialog.getByRole("button", { name: "Link demo/playground" }).waitFor();
  assert.equal(await dialog.getByRole("button", { name: `Link ${REPO}` }).count(), 0);
  await page.keyboard.press("Control+A");
  await page.keyboard.type("paca");
  await shot("settings-add-repository-light");
  await dialog.getByRole("button", { name: `Link ${REPO}` }).click();
  await dialog.waitFor({ state: "detached", timeout: WAIT });
  const list = settings().getByRole("list", { name: "Linked repositories" });
  await list.getByRole("link", { name: new RegExp(REPO) }).waitFor();
  await list.getByText("Webhook active").waitFor();
});

test("confirm dialogs trap focus and cancel on Escape", async () => {
  await settings().getByRole("button", { name: "Remove token" }).click();
  const dialog = page.getByRole("dialog", { name: "Remove the GitHub token?" });
  await dialog.waitFor();
  for (let i = 0; i < 5; i++) {
    await page.keyboard.press("Tab");
    assert.ok(await dialog.evaluate((d) => d.contains(document.activeElement)), "focus left the dialog");
  }
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  await settings().getByText("Personal access token saved").waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Remove token");
  await shot("settings-light");
  await open({ view: "settings", as: "admin", theme: "dark" });
  await settings().getByText("Webhook active").waitFor();
  await shot("settings-dark");
});

let branch;
let prNumber;

test("create a branch from the task view: it exists in the fake GitHub", async () => {
  await open({ view: "task", task: TASK1, as: "admin" });
  await taskView().getByRole("button", { name: "Create branch" }).click();
  const name = taskView().getByLabel("Branch name");
  await page.waitForFunction(() => document.querySelector("[aria-label='Create a branch'] input")?.value !== "");
  assert.equal(await name.inputValue(), "feat/DEMO-1-connect-github");
  await taskView().getByRole("radio", { name: "fix" }).click();
  assert.equal(await name.inputValue(), "fix/DEMO-1-connect-github");
  await taskView().getByRole("radio", { name: "feat" }).click();
  branch = await name.inputValue();
  await name.press("Enter");
  await taskView().getByRole("list", { name: "Linked branches" }).getByRole("link", { name: branch }).waitFor({ timeout: WAIT });
  await taskView().getByText(`git fetch origin && git checkout ${branch}`).waitFor();
  const repo = await control("GET", `/repos/${REPO}`);
  assert.ok(Object.hasOwn(repo.branches, branch), `branches on GitHub: ${Object.keys(repo.branches)}`);
});

test("a PR opened on GitHub appears linked after the webhook, then shows merged, without a reload", async () => {
  const marker = await page.evaluate(() => (window.__noReload = Math.random()));
  await control("POST", `/repos/${REPO}/push`, { branch }); // a commit, so there is something to merge
  const opened = await control("POST", `/repos/${REPO}/pulls`, { head: branch, title: "Connect GitHub to Paca" });
  prNumber = opened.value.number;
  const row = prRow(prNumber);
  await row.getByText("Open", { exact: true }).waitFor({ timeout: WAIT });
  await row.getByRole("link", { name: /Connect GitHub to Paca/ }).waitFor();
  await row.getByText(`#${prNumber} · ${branch} · by demo`).waitFor();
  await control("POST", `/repos/${REPO}/pulls/${prNumber}/merge`);
  await row.getByText("Merged", { exact: true }).waitFor({ timeout: WAIT });
  assert.equal(await row.getAttribute("data-pr-state"), "merged");
  assert.equal(await page.evaluate(() => window.__noReload), marker, "the page reloaded");
  await shot("task-light");
  await open({ view: "task", task: TASK1, as: "admin", theme: "dark" });
  await prRow(prNumber).getByText("Merged", { exact: true }).waitFor({ timeout: WAIT });
  await shot("task-dark");
});

test("unlink the pull request", async () => {
  await open({ view: "task", task: TASK1, as: "admin" });
  await prRow(prNumber).getByRole("button", { name: `Unlink pull request #${prNumber}` }).click();
  await prRow(prNumber).waitFor({ state: "detached", timeout: WAIT });
  await taskView().getByText("No pull requests linked yet.").waitFor();
});

test("dev-member: the settings tab is read-only, the task section works", async () => {
  await open({ view: "settings", as: "member" });
  await settings().getByText("Personal access token saved").waitFor({ timeout: WAIT });
  await settings().getByText(/Changing it needs the/).waitFor();
  await settings().getByRole("list", { name: "Linked repositories" }).getByRole("link", { name: new RegExp(REPO) }).waitFor();
  for (const name of ["Remove token", "Add repository", `Unlink ${REPO}`]) {
    assert.equal(await settings().getByRole("button", { name }).count(), 0, name);
  }

  await open({ view: "task", task: TASK2, as: "member" });
  await taskView().getByRole("button", { name: "Create branch" }).click();
  const name = taskView().getByLabel("Branch name");
  await page.waitForFunction(() => document.querySelector("[aria-label='Create a branch'] input")?.value !== "");
  const b = await name.inputValue();
  assert.equal(b, "feat/DEMO-2-auto-link-pull-requests");
  await taskView().getByRole("button", { name: "Create branch on GitHub" }).click();
  await taskView().getByRole("list", { name: "Linked branches" }).getByRole("link", { name: b }).waitFor({ timeout: WAIT });

  // a PR from a branch that names no task is not linked by itself: link it by pasting its URL
  await control("POST", `/repos/${REPO}/push`, { branch: "spike/unrelated" });
  const pr = await control("POST", `/repos/${REPO}/pulls`, { head: "spike/unrelated", title: "Unrelated spike" });
  const n = pr.value.number;
  await taskView().getByRole("button", { name: "Link pull request" }).click();
  const input = taskView().getByLabel("Pull request number or URL");
  await input.fill(`https://github.com/${REPO}/pull/${n}`);
  await taskView().getByText(`Will link PR #${n} from ${REPO}.`).waitFor();
  await input.press("Enter");
  await prRow(n).getByRole("link", { name: /Unrelated spike/ }).waitFor({ timeout: WAIT });
  await prRow(n).getByText("Open", { exact: true }).waitFor();
});

test("dev-viewer can see everything and change nothing", async () => {
  await open({ view: "settings", as: "viewer" });
  await settings().getByText("Personal access token saved").waitFor({ timeout: WAIT });
  await settings().getByRole("list", { name: "Linked repositories" }).waitFor();
  const settingsButtons = await settings().getByRole("button").allTextContents();
  assert.deepEqual(settingsButtons, [""], `only the reload icon: ${settingsButtons}`);
  assert.equal(await settings().locator("input").count(), 0);

  await open({ view: "task", task: TASK2, as: "viewer" });
  await taskView().getByRole("list", { name: "Linked branches" }).waitFor({ timeout: WAIT });
  await taskView().getByRole("list", { name: "Linked pull requests" }).waitFor({ timeout: WAIT });
  for (const name of ["Create branch", "Link pull request", /^Unlink/]) {
    assert.equal(await taskView().getByRole("button", { name }).count(), 0, String(name));
  }
  assert.equal(await taskView().locator("input, select").count(), 0);
});

test("no console errors, no unhandled rejections, and only the refusal the test provoked", () => {
  assert.deepEqual(problems, []);
  assert.deepEqual(failedResponses, [`422 POST /api/v1/plugins/com.paca.github/projects/${PROJECT}/github/token`]);
});
