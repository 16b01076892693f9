import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { AccessibleRepository } from "../api";
import GitHubSettingsTab from "../GitHubSettingsTab";
import { STYLE_ELEMENT_ID } from "../styles";
import { fail, fakeApi, never, ok, PROJECT, renderWith, repo } from "../test/render";
import { SettingsTab } from "./SettingsTab";

const connected = ok({ project_id: PROJECT, connected: true });
const disconnected = ok({ project_id: PROJECT, connected: false });
const acc = (full: string, extra: Partial<AccessibleRepository> = {}): AccessibleRepository => {
  const [owner = "", repo_name = ""] = full.split("/");
  return { full_name: full, owner, repo_name, default_branch: "main", private: false, description: null, ...extra };
};
const tab = (canEdit = true) => <SettingsTab projectId={PROJECT} canEdit={canEdit} />;

describe("settings tab", () => {
  it("shows skeletons while the integration loads", () => {
    renderWith(tab(), fakeApi({ getIntegration: never }));
    expect(screen.getByRole("status", { name: "Loading the integration" })).toBeTruthy();
  });

  it("shows a load error with a retry", async () => {
    const api = fakeApi({ getIntegration: fail("INTERNAL_ERROR", 500) });
    renderWith(tab(), api);
    expect((await screen.findByRole("alert")).textContent).toMatch(/Something went wrong/);
    const calls = (api.getIntegration as unknown as { mock: { calls: unknown[] } }).mock.calls.length;
    await userEvent.click(screen.getByRole("button", { name: "Retry" }));
    await waitFor(() => expect((api.getIntegration as unknown as { mock: { calls: unknown[] } }).mock.calls.length).toBeGreaterThan(calls));
  });

  it("disconnected: explains the scopes, masks the token with show/hide, steps pending", async () => {
    renderWith(tab(), fakeApi({ getIntegration: disconnected }));
    const input = (await screen.findByLabelText("Personal access token")) as HTMLInputElement;
    expect(input.type).toBe("password");
    expect(input.placeholder).toBe("ghp_…");
    expect(input.autocomplete).toBe("off");
    expect(screen.getByText("repo").tagName).toBe("CODE");
    expect(screen.getByText("admin:repo_hook").tagName).toBe("CODE");
    await userEvent.click(screen.getByRole("button", { name: "Show token" }));
    expect(input.type).toBe("text");
    expect((screen.getByRole("button", { name: "Save token" }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByRole("list", { name: "Setup progress" }).textContent).toContain("Connect a GitHub token (to do)");
    expect(screen.getByText(/No GitHub integration is configured/)).toBeTruthy();
  });

  it("a rejected token shows the invalid-token message and keeps the form", async () => {
    const api = fakeApi({ getIntegration: disconnected, setToken: fail("GITHUB_INVALID_TOKEN", 422) });
    renderWith(tab(), api);
    await userEvent.type(await screen.findByLabelText("Personal access token"), "ghp_bad{Enter}");
    expect((await screen.findByRole("alert")).textContent).toMatch(/GitHub rejected the token/);
    expect(api.setToken).toHaveBeenCalledWith(PROJECT, "ghp_bad");
    expect(screen.getByLabelText("Personal access token").getAttribute("aria-invalid")).toBe("true");
  });

  it("saving a token shows the connected state and opens the add-repository dialog", async () => {
    let isConnected = false;
    const api = fakeApi({
      getIntegration: () => Promise.resolve({ project_id: PROJECT, connected: isConnected }),
      setToken: () => {
        isConnected = true;
        return Promise.resolve({ project_id: PROJECT, connected: true });
      },
      listLinkedRepositories: ok([]),
      listAccessibleRepositories: ok({ items: [acc("demo/one")], page: 1, per_page: 30, next_page: null }),
    });
    renderWith(tab(), api);
    await userEvent.type(await screen.findByLabelText("Personal access token"), "ghp_good");
    await userEvent.click(screen.getByRole("button", { name: "Save token" }));
    const dialog = await screen.findByRole("dialog", { name: "Add a repository" });
    expect(screen.getByText("Personal access token saved")).toBeTruthy();
    expect(await within(dialog).findByRole("button", { name: "Link demo/one" })).toBeTruthy();
    expect(document.activeElement).toBe(within(dialog).getByLabelText("Search repositories"));
  });

  it("connected with repositories: rows link to GitHub, show the default branch and webhook health", async () => {
    renderWith(
      tab(),
      fakeApi({ getIntegration: connected, listLinkedRepositories: ok([repo("demo-org/app"), repo("demo/web", { webhook_active: false, default_branch: "trunk" })]) }),
    );
    const list = await screen.findByRole("list", { name: "Linked repositories" });
    const link = within(list).getByRole("link", { name: /demo-org\/app/ }) as HTMLAnchorElement;
    expect(link.href).toBe("https://github.com/demo-org/app");
    expect(link.target).toBe("_blank");
    expect(within(list).getByText("trunk")).toBeTruthy();
    expect(within(list).getByText("Webhook active")).toBeTruthy();
    expect(within(list).getByText("Webhook inactive")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Add repository" })).toBeTruthy();
    expect(screen.getByRole("list", { name: "Setup progress" }).textContent).toContain("Link a repository (done)");
  });

  it("connected without repositories: empty state with a first-repository button", async () => {
    renderWith(tab(), fakeApi({ getIntegration: connected, listLinkedRepositories: ok([]) }));
    expect(await screen.findByText("No repositories linked yet.")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Add your first repository" })).toBeTruthy();
  });

  it("linked repositories: loading and error states", async () => {
    renderWith(tab(), fakeApi({ getIntegration: connected, listLinkedRepositories: never }));
    expect(await screen.findByRole("status", { name: "Loading linked repositories" })).toBeTruthy();
  });

  it("linked repositories: error with retry", async () => {
    renderWith(tab(), fakeApi({ getIntegration: connected, listLinkedRepositories: fail("GITHUB_UNAVAILABLE", 502) }));
    expect((await screen.findByRole("alert")).textContent).toMatch(/GitHub could not be reached/);
  });

  it("removing the token asks first; Escape cancels, confirming removes", async () => {
    let isConnected = true;
    const api = fakeApi({
      getIntegration: () => Promise.resolve({ project_id: PROJECT, connected: isConnected }),
      listLinkedRepositories: ok([repo("demo/app")]),
      deleteToken: () => {
        isConnected = false;
        return Promise.resolve({ removed: true, webhooks_deleted: 1, webhook_failures: [] });
      },
    });
    renderWith(tab(), api);
    await userEvent.click(await screen.findByRole("button", { name: "Remove token" }));
    const dialog = screen.getByRole("dialog", { name: "Remove the GitHub token?" });
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    expect(document.activeElement?.textContent).toBe("Cancel");
    await userEvent.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(api.deleteToken).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole("button", { name: "Remove token" }));
    await userEvent.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Remove token" }));
    expect(await screen.findByLabelText("Personal access token")).toBeTruthy();
    expect(api.deleteToken).toHaveBeenCalledTimes(1);
  });

  it("remove-token failure is shown inside the dialog", async () => {
    renderWith(tab(), fakeApi({ getIntegration: connected, listLinkedRepositories: ok([]), deleteToken: fail("INTERNAL_ERROR", 500) }));
    await userEvent.click(await screen.findByRole("button", { name: "Remove token" }));
    await userEvent.keyboard("{Tab}{Enter}");
    const dialog = screen.getByRole("dialog");
    expect((await within(dialog).findByRole("alert")).textContent).toMatch(/Something went wrong/);
  });

  it("unlinking a repository asks first and names it", async () => {
    let repos = [repo("demo/app")];
    const api = fakeApi({
      getIntegration: connected,
      listLinkedRepositories: () => Promise.resolve(repos),
      unlinkRepository: () => {
        repos = [];
        return Promise.resolve({ id: "x", webhook_deleted: true });
      },
    });
    renderWith(tab(), api);
    await userEvent.click(await screen.findByRole("button", { name: "Unlink demo/app" }));
    const dialog = screen.getByRole("dialog", { name: "Unlink demo/app?" });
    expect(dialog.textContent).toMatch(/webhook on GitHub will be deleted/);
    await userEvent.click(within(dialog).getByRole("button", { name: "Unlink repository" }));
    expect(await screen.findByText("No repositories linked yet.")).toBeTruthy();
    expect(api.unlinkRepository).toHaveBeenCalledWith(PROJECT, "demo/app-id");
  });

  it("add-repository dialog: search, private badge, already linked, paging, per-row linking state, errors", async () => {
    const page1 = { items: [acc("demo/one", { private: true, description: "First" }), acc("demo/app")], page: 1, per_page: 30, next_page: 2 };
    const page2 = { items: [acc("other/two")], page: 2, per_page: 30, next_page: null };
    const api = fakeApi({
      getIntegration: connected,
      listLinkedRepositories: ok([repo("demo/app")]),
      listAccessibleRepositories: (_p: string, page: number) => Promise.resolve(page === 1 ? page1 : page2),
      linkRepository: never,
    });
    renderWith(tab(), api);
    await userEvent.click(await screen.findByRole("button", { name: "Add repository" }));
    const dialog = screen.getByRole("dialog", { name: "Add a repository" });
    const one = await within(dialog).findByRole("button", { name: "Link demo/one" });
    expect(within(one).getByText("Private")).toBeTruthy();
    expect(within(one).getByText("First")).toBeTruthy();
    expect((within(dialog).getByRole("button", { name: "demo/app (already linked)" }) as HTMLButtonElement).disabled).toBe(true);
    await userEvent.click(within(dialog).getByRole("button", { name: "Load more repositories" }));
    expect(await within(dialog).findByRole("button", { name: "Link other/two" })).toBeTruthy();
    expect(within(dialog).queryByRole("button", { name: "Load more repositories" })).toBeNull();
    await userEvent.type(within(dialog).getByLabelText("Search repositories"), "TWO");
    expect(within(dialog).queryByRole("button", { name: "Link demo/one" })).toBeNull();
    await userEvent.clear(within(dialog).getByLabelText("Search repositories"));
    await userEvent.type(within(dialog).getByLabelText("Search repositories"), "nothing");
    expect(within(dialog).getByText(/No repositories match “nothing”/)).toBeTruthy();
    await userEvent.clear(within(dialog).getByLabelText("Search repositories"));
    await userEvent.click(within(dialog).getByRole("button", { name: "Link demo/one" }));
    expect(await within(dialog).findByText("Linking…")).toBeTruthy();
    expect(api.linkRepository).toHaveBeenCalledWith(PROJECT, "demo", "one");
  });

  it.each([
    ["GITHUB_WEBHOOK_URL_NOT_PUBLIC", /PUBLIC_URL must be a public HTTPS URL/],
    ["GITHUB_WEBHOOK_CREATION_FAILED", /admin:repo_hook/],
    ["GITHUB_REPO_ALREADY_LINKED", /already linked/],
    ["GITHUB_REPO_NOT_ACCESSIBLE", /cannot access this repository/],
  ] as const)("add-repository dialog shows %s as a sentence", async (code, text) => {
    renderWith(
      tab(),
      fakeApi({
        getIntegration: connected,
        listLinkedRepositories: ok([]),
        listAccessibleRepositories: ok({ items: [acc("demo/one")], page: 1, per_page: 30, next_page: null }),
        linkRepository: fail(code, 422),
      }),
    );
    await userEvent.click(await screen.findByRole("button", { name: "Add your first repository" }));
    await userEvent.click(await screen.findByRole("button", { name: "Link demo/one" }));
    expect((await within(screen.getByRole("dialog")).findByRole("alert")).textContent).toMatch(text);
  });

  it("add-repository dialog: empty and error listings", async () => {
    renderWith(
      tab(),
      fakeApi({ getIntegration: connected, listLinkedRepositories: ok([]), listAccessibleRepositories: ok({ items: [], page: 1, per_page: 30, next_page: null }) }),
    );
    await userEvent.click(await screen.findByRole("button", { name: "Add your first repository" }));
    expect(await screen.findByText("No accessible repositories found.")).toBeTruthy();
    await userEvent.click(screen.getByRole("button", { name: "Close" }));
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("add-repository dialog: a listing error", async () => {
    renderWith(
      tab(),
      fakeApi({ getIntegration: connected, listLinkedRepositories: ok([]), listAccessibleRepositories: fail("GITHUB_TOKEN_INSUFFICIENT_PERMISSIONS", 403) }),
    );
    await userEvent.click(await screen.findByRole("button", { name: "Add your first repository" }));
    expect((await within(screen.getByRole("dialog")).findByRole("alert")).textContent).toMatch(/lacks a permission/);
  });

  it("read-only (canEdit false): no form, no buttons that change anything", async () => {
    renderWith(tab(false), fakeApi({ getIntegration: connected, listLinkedRepositories: ok([repo("demo/app")]) }));
    await screen.findByRole("list", { name: "Linked repositories" });
    expect(screen.getByRole("note").textContent).toMatch(/Manage GitHub integration/);
    for (const name of ["Remove token", "Add repository", "Unlink demo/app"]) expect(screen.queryByRole("button", { name })).toBeNull();
  });

  it("read-only and disconnected: says a project admin can connect", async () => {
    renderWith(tab(false), fakeApi({ getIntegration: disconnected }));
    expect(await screen.findByText(/A project admin can connect one/)).toBeTruthy();
    expect(screen.queryByLabelText("Personal access token")).toBeNull();
  });

  it("a 403 on a change switches to read-only", async () => {
    renderWith(tab(), fakeApi({ getIntegration: disconnected, setToken: fail("FORBIDDEN", 403) }));
    await userEvent.type(await screen.findByLabelText("Personal access token"), "ghp_x{Enter}");
    expect(await screen.findByRole("note")).toBeTruthy();
    expect(screen.queryByLabelText("Personal access token")).toBeNull();
  });

  it("the exposed component injects its stylesheet once and namespaces its root", async () => {
    const { createApi } = await import("../api");
    expect(typeof createApi).toBe("function");
    renderWith(<GitHubSettingsTab projectId={PROJECT} />, fakeApi({ getIntegration: never }));
    expect(document.querySelectorAll(`#${STYLE_ELEMENT_ID}`).length).toBe(1);
    expect(document.querySelector(".pgh .pgh")).toBeTruthy();
  });
});
