import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { ApiError, type Branch } from "../api";
import { fail, fakeApi, fakeCore, never, ok, pr, PROJECT, renderWith, repo, TASK } from "../test/render";
import { TaskSection } from "./TaskSection";

const connected = ok({ project_id: PROJECT, connected: true });
const one = [repo("demo-org/paca-demo")];
const two = [repo("demo-org/paca-demo"), repo("demo/web", { default_branch: "trunk" })];
const branch = (name: string, full = "demo-org/paca-demo"): Branch => ({
  id: `b-${name}`, task_id: TASK, repo_id: `${full}-id`, repo_full_name: full, branch_name: name,
  html_url: `https://github.com/${full}/tree/${name}`, created_at: "2026-01-01T00:00:00Z",
});
const section = (canEdit = true) => <TaskSection projectId={PROJECT} taskId={TASK} canEdit={canEdit} />;

function api(over: Parameters<typeof fakeApi>[0] = {}) {
  return fakeApi({
    getIntegration: connected,
    listLinkedRepositories: ok(one),
    listTaskBranches: ok([]),
    listTaskPullRequests: ok([]),
    ...over,
  });
}

describe("task section", () => {
  it("renders nothing while loading, without a token, or without a linked repository", async () => {
    const a = renderWith(section(), api({ getIntegration: never }));
    expect(a.container.querySelector(".pgh")?.childElementCount).toBe(0);
    a.unmount();
    const b = renderWith(section(), api({ getIntegration: ok({ project_id: PROJECT, connected: false }) }));
    await waitFor(() => expect(b.container.querySelector(".pgh")?.childElementCount).toBe(0));
    b.unmount();
    const c = api({ listLinkedRepositories: ok([]) });
    const r = renderWith(section(), c);
    await waitFor(() => expect(c.listLinkedRepositories).toHaveBeenCalled());
    expect(r.container.querySelector(".pgh")?.childElementCount).toBe(0);
  });

  it("renders nothing when Paca refuses the caller, and an error with retry otherwise", async () => {
    const a = renderWith(section(), api({ listLinkedRepositories: fail("FORBIDDEN", 403) }));
    await waitFor(() => expect(a.container.querySelector(".pgh")?.childElementCount).toBe(0));
    a.unmount();
    renderWith(section(), api({ listLinkedRepositories: fail("INTERNAL_ERROR", 500) }));
    expect((await screen.findByRole("alert")).textContent).toMatch(/^GitHub: Something went wrong/);
  });

  it("lists and loads branches and pull requests in collapsible sections with counts", async () => {
    renderWith(section(), api({ listTaskBranches: never, listTaskPullRequests: never }));
    expect(await screen.findByText("Loading branches…")).toBeTruthy();
    expect(screen.getByText("Loading pull requests…")).toBeTruthy();
  });

  it("empty lists say so and offer the actions", async () => {
    renderWith(section(), api());
    expect(await screen.findByText("No branches linked yet.")).toBeTruthy();
    expect(await screen.findByText("No pull requests linked yet.")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Create branch" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Link pull request" })).toBeTruthy();
  });

  it("list errors are shown with a retry", async () => {
    renderWith(section(), api({ listTaskBranches: fail("TASK_NOT_FOUND", 404), listTaskPullRequests: fail("GITHUB_UNAVAILABLE", 502) }));
    const alerts = await screen.findAllByRole("alert");
    await waitFor(() => expect(screen.getAllByRole("alert")).toHaveLength(2));
    expect(alerts[0]!.textContent).toMatch(/This task no longer exists/);
  });

  it("branch rows: name, checkout command with copy, count, collapsing", async () => {
    const user = userEvent.setup();
    renderWith(section(), api({ listTaskBranches: ok([branch("feat/DEMO-7-x"), branch("fix/DEMO-7-y")]) }));
    const list = await screen.findByRole("list", { name: "Linked branches" });
    expect(within(list).getByRole("link", { name: "feat/DEMO-7-x" })).toBeTruthy();
    expect(within(list).getByText("git fetch origin && git checkout feat/DEMO-7-x")).toBeTruthy();
    const head = screen.getByRole("button", { name: /Branches/ });
    expect(within(head).getByText("2")).toBeTruthy();
    await user.click(within(list).getByRole("button", { name: "Copy: Command to check out feat/DEMO-7-x" }));
    expect(await screen.findByRole("button", { name: "Copied" })).toBeTruthy();
    expect(await navigator.clipboard.readText()).toBe("git fetch origin && git checkout feat/DEMO-7-x");
    await user.click(head);
    expect(head.getAttribute("aria-expanded")).toBe("false");
    expect(screen.queryByRole("list", { name: "Linked branches" })).toBeNull();
  });

  it("create branch: suggested name from the task key and title, type pills, local command, Enter submits", async () => {
    const a = api({ createBranch: ok(branch("x")) });
    renderWith(section(), a);
    await userEvent.click(await screen.findByRole("button", { name: "Create branch" }));
    const name = screen.getByLabelText("Branch name") as HTMLInputElement;
    await waitFor(() => expect(name.value).toBe("feat/DEMO-7-connect-github-to-paca"));
    expect(document.activeElement).toBe(name);
    await userEvent.click(screen.getByRole("radio", { name: "refactor" }));
    expect(name.value).toBe("refactor/DEMO-7-connect-github-to-paca");
    expect(screen.getByRole("radio", { name: "refactor" }).getAttribute("aria-checked")).toBe("true");
    expect(screen.getByText("git checkout -b refactor/DEMO-7-connect-github-to-paca && git push -u origin refactor/DEMO-7-connect-github-to-paca")).toBeTruthy();
    expect(screen.queryByLabelText("Repository")).toBeNull(); // one repository: chosen for you
    expect((screen.getByLabelText(/Source branch/) as HTMLInputElement).placeholder).toBe("main");
    await userEvent.type(screen.getByLabelText(/Source branch/), "develop{Enter}");
    await waitFor(() =>
      expect(a.createBranch).toHaveBeenCalledWith(PROJECT, TASK, {
        repo_id: "demo-org/paca-demo-id",
        branch_name: "refactor/DEMO-7-connect-github-to-paca",
        source_branch: "develop",
      }),
    );
    await waitFor(() => expect(screen.queryByLabelText("Branch name")).toBeNull());
  });

  it("create branch with several repositories asks which, and validates", async () => {
    const a = api({ listLinkedRepositories: ok(two), createBranch: ok(branch("x")) });
    renderWith(section(), a, fakeCore({ getProject: ok({ id: PROJECT, name: "P", task_id_prefix: "" }) }));
    await userEvent.click(await screen.findByRole("button", { name: "Create branch" }));
    const name = screen.getByLabelText("Branch name") as HTMLInputElement;
    await waitFor(() => expect(name.value).toBe("feat/7-connect-github-to-paca"));
    await userEvent.click(screen.getByRole("button", { name: "Create branch on GitHub" }));
    expect(screen.getByRole("alert").textContent).toBe("Select a repository.");
    await userEvent.selectOptions(screen.getByLabelText("Repository"), "demo/web-id");
    expect((screen.getByLabelText(/Source branch/) as HTMLInputElement).placeholder).toBe("trunk");
    await userEvent.clear(name);
    await userEvent.click(screen.getByRole("button", { name: "Create branch on GitHub" }));
    expect(screen.getByRole("alert").textContent).toBe("Enter a branch name.");
    expect(a.createBranch).not.toHaveBeenCalled();
  });

  it.each([
    ["GITHUB_BRANCH_ALREADY_EXISTS", /already exists on GitHub/],
    ["GITHUB_BRANCH_NOT_FOUND", /source branch does not exist/],
    ["INVALID_BRANCH_NAME", /not a valid Git branch name/],
    ["GITHUB_TOKEN_INSUFFICIENT_PERMISSIONS", /lacks a permission/],
  ] as const)("create branch shows %s as a sentence; Escape closes the form", async (code, text) => {
    renderWith(section(), api({ createBranch: fail(code, 409) }));
    await userEvent.click(await screen.findByRole("button", { name: "Create branch" }));
    await waitFor(() => expect((screen.getByLabelText("Branch name") as HTMLInputElement).value).not.toBe(""));
    await userEvent.click(screen.getByRole("button", { name: "Create branch on GitHub" }));
    expect((await screen.findByRole("alert")).textContent).toMatch(text);
    await userEvent.keyboard("{Escape}");
    expect(screen.queryByLabelText("Branch name")).toBeNull();
  });

  it("pull requests: state badges with text, title link, meta line, a slot for more badges", async () => {
    renderWith(section(), api({ listTaskPullRequests: ok([pr(1, "open"), pr(2, "closed"), pr(3, "merged")]) }));
    const list = await screen.findByRole("list", { name: "Linked pull requests" });
    const rows = within(list).getAllByRole("listitem");
    expect(rows.map((r) => r.getAttribute("data-pr-state"))).toEqual(["open", "closed", "merged"]);
    expect(within(rows[0]!).getByText("Open")).toBeTruthy();
    expect(within(rows[1]!).getByText("Closed")).toBeTruthy();
    expect(within(rows[2]!).getByText("Merged")).toBeTruthy();
    const link = within(rows[0]!).getByRole("link", { name: /PR number 1/ }) as HTMLAnchorElement;
    expect(link.href).toBe("https://github.com/demo-org/paca-demo/pull/1");
    expect(rows[0]!.textContent).toContain("#1 · feat/DEMO-1 · by octo");
    expect(rows[0]!.querySelector(".pgh-pr-badges")).toBeTruthy();
  });

  it("unlinking a pull request", async () => {
    let prs = [pr(4, "open")];
    const a = api({
      listTaskPullRequests: () => Promise.resolve(prs),
      unlinkPullRequest: () => {
        prs = [];
        return Promise.resolve();
      },
    });
    renderWith(section(), a);
    await userEvent.click(await screen.findByRole("button", { name: "Unlink pull request #4" }));
    expect(await screen.findByText("No pull requests linked yet.")).toBeTruthy();
    expect(a.unlinkPullRequest).toHaveBeenCalledWith(PROJECT, TASK, "pr-4");
  });

  it("link a PR by pasting its URL: the repository is recognised", async () => {
    const a = api({ listLinkedRepositories: ok(two), linkPullRequest: ok(pr(9, "open")) });
    renderWith(section(), a);
    await userEvent.click(await screen.findByRole("button", { name: "Link pull request" }));
    const input = screen.getByLabelText("Pull request number or URL");
    expect(document.activeElement).toBe(input);
    await userEvent.type(input, "https://github.com/demo/web/pull/9");
    expect(screen.getByText("Will link PR #9 from demo/web.")).toBeTruthy();
    expect((screen.getByLabelText("Repository") as HTMLSelectElement).disabled).toBe(true);
    await userEvent.keyboard("{Enter}");
    await waitFor(() => expect(a.linkPullRequest).toHaveBeenCalledWith(PROJECT, TASK, "demo/web-id", 9));
  });

  it("link a PR by number; validation and API errors", async () => {
    const a = api({ listLinkedRepositories: ok(two), linkPullRequest: fail("GITHUB_PR_NOT_FOUND", 404) });
    renderWith(section(), a);
    await userEvent.click(await screen.findByRole("button", { name: "Link pull request" }));
    const input = screen.getByLabelText("Pull request number or URL");
    await userEvent.type(input, "abc{Enter}");
    expect(screen.getByRole("alert").textContent).toMatch(/Enter a pull request number/);
    await userEvent.clear(input);
    await userEvent.type(input, "https://github.com/someone/else/pull/3{Enter}");
    expect(screen.getByRole("alert").textContent).toBe("someone/else is not linked to this project.");
    await userEvent.clear(input);
    await userEvent.type(input, "12{Enter}");
    expect(screen.getByRole("alert").textContent).toBe("Select a repository.");
    await userEvent.selectOptions(screen.getByLabelText("Repository"), "demo-org/paca-demo-id");
    await userEvent.click(screen.getByRole("button", { name: "Link pull request" }));
    expect((await screen.findByRole("alert")).textContent).toMatch(/No pull request with that number/);
    expect(a.linkPullRequest).toHaveBeenCalledWith(PROJECT, TASK, "demo-org/paca-demo-id", 12);
    await userEvent.type(input, "{Escape}");
    expect(screen.queryByLabelText("Pull request number or URL")).toBeNull();
  });

  it.each([
    ["GITHUB_PR_ALREADY_LINKED", /already linked to the task/],
    ["GITHUB_INTEGRATION_NOT_FOUND", /No GitHub token is connected/],
    ["GITHUB_TOKEN_INSUFFICIENT_PERMISSIONS", /lacks a permission/],
  ] as const)("link PR shows %s as a sentence", async (code, text) => {
    renderWith(section(), api({ linkPullRequest: fail(code, 409) }));
    await userEvent.click(await screen.findByRole("button", { name: "Link pull request" }));
    await userEvent.type(screen.getByLabelText("Pull request number or URL"), "5{Enter}");
    expect((await screen.findByRole("alert")).textContent).toMatch(text);
  });

  it("open a pull request from a branch row: title and base suggested, body optional, the PR list updates", async () => {
    let prs: ReturnType<typeof pr>[] = [];
    const a = api({
      listTaskBranches: ok([branch("feat/DEMO-7-x")]),
      listTaskPullRequests: () => Promise.resolve(prs),
      getPullRequestCiStatus: ok({ state: "unknown", head_sha: "a", checks: [] }),
      createPullRequest: () => {
        prs = [pr(21, "open", { title: "DEMO-7 Connect GitHub to Paca!" })];
        return Promise.resolve({ pull_request: prs[0]!, created: true, linked: true });
      },
    });
    renderWith(section(), a);
    await userEvent.click(await screen.findByRole("button", { name: "Open pull request from feat/DEMO-7-x" }));
    const title = screen.getByLabelText("Pull request title") as HTMLInputElement;
    expect(document.activeElement).toBe(title);
    await waitFor(() => expect(title.value).toBe("DEMO-7 Connect GitHub to Paca!"));
    expect((screen.getByLabelText("Base branch") as HTMLInputElement).value).toBe("main");
    await userEvent.type(screen.getByLabelText(/Description/), "Closes the task.");
    await userEvent.type(title, "{Enter}");
    await waitFor(() =>
      expect(a.createPullRequest).toHaveBeenCalledWith(PROJECT, TASK, "demo-org/paca-demo-id", {
        title: "DEMO-7 Connect GitHub to Paca!",
        head_branch: "feat/DEMO-7-x",
        base_branch: "main",
        body: "Closes the task.",
      }),
    );
    const list = await screen.findByRole("list", { name: "Linked pull requests" });
    expect(within(list).getByRole("link", { name: /DEMO-7 Connect GitHub to Paca!/ })).toBeTruthy();
    expect(screen.queryByLabelText("Pull request title")).toBeNull();
  });

  it.each([
    ["GITHUB_PR_VALIDATION_FAILED", /GitHub refused the pull request/],
    ["GITHUB_TOKEN_INSUFFICIENT_PERMISSIONS", /lacks a permission/],
  ] as const)("open pull request shows %s as a sentence; Escape closes and an empty title is refused", async (code, text) => {
    const a = api({ listTaskBranches: ok([branch("feat/a")]), createPullRequest: fail(code, 422) });
    renderWith(section(), a);
    await userEvent.click(await screen.findByRole("button", { name: "Open pull request from feat/a" }));
    const title = screen.getByLabelText("Pull request title") as HTMLInputElement;
    await waitFor(() => expect(title.value).not.toBe(""));
    await userEvent.click(screen.getByRole("button", { name: "Open pull request on GitHub" }));
    expect((await screen.findByRole("alert")).textContent).toMatch(text);
    await userEvent.clear(title);
    await userEvent.type(title, "{Enter}");
    expect(screen.getByRole("alert").textContent).toBe("Enter a title.");
    expect(a.createPullRequest).toHaveBeenCalledTimes(1);
    await userEvent.keyboard("{Escape}");
    expect(screen.queryByLabelText("Pull request title")).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Open pull request from feat/a" }));
  });

  it("CI badges: success, failure, pending, unknown as text; none when the call fails", async () => {
    const states = { "pr-1": "success", "pr-2": "failure", "pr-3": "pending", "pr-4": "unknown" } as const;
    const a = api({
      listTaskPullRequests: ok([pr(1, "open"), pr(2, "open"), pr(3, "open"), pr(4, "merged"), pr(5, "open")]),
      getPullRequestCiStatus: (_p: string, _t: string, prId: string) =>
        prId in states
          ? Promise.resolve({ state: states[prId as keyof typeof states], head_sha: "a", checks: [] })
          : Promise.reject(new ApiError("GITHUB_UNAVAILABLE", 502)),
    });
    renderWith(section(), a);
    const list = await screen.findByRole("list", { name: "Linked pull requests" });
    const rows = within(list).getAllByRole("listitem");
    expect(await within(rows[0]!).findByText("CI passed")).toBeTruthy();
    expect(await within(rows[1]!).findByText("CI failed")).toBeTruthy();
    expect(await within(rows[2]!).findByText("CI running")).toBeTruthy();
    expect(await within(rows[3]!).findByText("No CI")).toBeTruthy();
    await waitFor(() => expect(a.getPullRequestCiStatus).toHaveBeenCalledWith(PROJECT, TASK, "pr-5"));
    expect(rows[4]!.querySelector("[data-ci-state]")).toBeNull();
    expect(rows.map((r) => r.querySelector("[data-ci-state]")?.getAttribute("data-ci-state") ?? null)).toEqual([
      "success", "failure", "pending", "unknown", null,
    ]);
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("link an existing branch: repository select, Enter submits, the list updates", async () => {
    let branches: Branch[] = [];
    const a = api({
      listLinkedRepositories: ok(two),
      listTaskBranches: () => Promise.resolve(branches),
      linkBranch: () => {
        branches = [branch("feat/web-login", "demo/web")];
        return Promise.resolve(branches[0]!);
      },
    });
    renderWith(section(), a);
    await userEvent.click(await screen.findByRole("button", { name: "Link existing branch" }));
    const name = screen.getByLabelText("Existing branch name");
    expect(document.activeElement).toBe(name);
    await userEvent.type(name, "feat/web-login{Enter}");
    expect(screen.getByRole("alert").textContent).toBe("Select a repository.");
    await userEvent.selectOptions(screen.getByLabelText("Repository"), "demo/web-id");
    await userEvent.type(name, "{Enter}");
    await waitFor(() => expect(a.linkBranch).toHaveBeenCalledWith(PROJECT, TASK, { repo_id: "demo/web-id", branch_name: "feat/web-login" }));
    const list = await screen.findByRole("list", { name: "Linked branches" });
    expect(within(list).getByRole("link", { name: "feat/web-login" })).toBeTruthy();
    expect(screen.queryByLabelText("Existing branch name")).toBeNull();
  });

  it.each([
    ["GITHUB_BRANCH_NOT_FOUND", /No branch named “nope” exists in the repository on GitHub/],
    ["GITHUB_BRANCH_ALREADY_LINKED", /already linked to the task/],
  ] as const)("link existing branch shows %s; Escape closes", async (code, text) => {
    const a = api({ linkBranch: fail(code, 404) });
    renderWith(section(), a);
    await userEvent.click(await screen.findByRole("button", { name: "Link existing branch" }));
    await userEvent.type(screen.getByLabelText("Existing branch name"), "nope{Enter}");
    expect((await screen.findByRole("alert")).textContent).toMatch(text);
    expect(a.linkBranch).toHaveBeenCalledWith(PROJECT, TASK, { repo_id: "demo-org/paca-demo-id", branch_name: "nope" });
    await userEvent.keyboard("{Escape}");
    expect(screen.queryByLabelText("Existing branch name")).toBeNull();
    expect(screen.getByRole("button", { name: "Create branch" })).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Link existing branch" }));
  });

  it("read-only (canEdit false): lists, but no actions, and no core reads", async () => {
    const core = fakeCore();
    renderWith(section(false), api({ listTaskBranches: ok([branch("feat/a")]), listTaskPullRequests: ok([pr(1, "open")]) }), core);
    await screen.findByRole("list", { name: "Linked branches" });
    await screen.findByRole("list", { name: "Linked pull requests" });
    for (const name of ["Create branch", "Link existing branch", "Open pull request from feat/a", "Link pull request", "Unlink pull request #1"])
      expect(screen.queryByRole("button", { name })).toBeNull();
    expect(core.getTask).not.toHaveBeenCalled();
  });

  it("a 403 on a change hides the actions", async () => {
    renderWith(section(), api({ linkPullRequest: fail("FORBIDDEN", 403) }));
    await userEvent.click(await screen.findByRole("button", { name: "Link pull request" }));
    await userEvent.type(screen.getByLabelText("Pull request number or URL"), "5{Enter}");
    await waitFor(() => expect(screen.queryByRole("button", { name: "Create branch" })).toBeNull());
    expect(screen.queryByLabelText("Pull request number or URL")).toBeNull();
  });
});
