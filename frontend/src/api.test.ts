import { describe, expect, it, vi } from "vitest";
import { ApiError, createApi, PLUGIN_BASE } from "./api";
import { createCoreApi } from "./core";

const P = "11111111-1111-4111-8111-111111111111";

function respond(status: number, body?: unknown, headers: Record<string, string> = {}) {
  return vi.fn(async (_req: Request) =>
    new Response(body === undefined ? null : typeof body === "string" ? body : JSON.stringify(body), {
      status,
      headers: { "Content-Type": "application/json", ...headers },
    }),
  );
}

describe("plugin API client", () => {
  it("calls Paca's plugin base with the session cookie and unwraps the envelope", async () => {
    const f = respond(200, { success: true, data: { project_id: P, connected: true } });
    const api = createApi({ origin: "https://paca.example", fetch: f });
    await expect(api.getIntegration(P)).resolves.toEqual({ project_id: P, connected: true });
    const req = f.mock.calls[0]![0];
    expect(req.url).toBe(`https://paca.example${PLUGIN_BASE}/projects/${P}/github`);
    expect(req.credentials).toBe("include");
  });

  it("sends JSON bodies and query parameters", async () => {
    const f = respond(200, { success: true, data: { items: [], page: 2, per_page: 30, next_page: null } });
    const api = createApi({ origin: "http://h", fetch: f });
    await api.listAccessibleRepositories(P, 2);
    expect(f.mock.calls[0]![0].url).toBe(`http://h${PLUGIN_BASE}/projects/${P}/github/repositories?page=2&per_page=30`);
    const g = respond(200, { success: true, data: { project_id: P, connected: true } });
    await createApi({ origin: "http://h", fetch: g }).setToken(P, "ghp_x");
    const req = g.mock.calls[0]![0];
    expect(req.method).toBe("POST");
    expect(await req.json()).toEqual({ token: "ghp_x" });
  });

  it("new task operations: create PR, CI status, link branch hit their paths with their bodies", async () => {
    const T = "22222222-2222-4222-8222-222222222222";
    const R = "33333333-3333-4333-8333-333333333333";
    const f = respond(201, { success: true, data: { created: true, linked: true, pull_request: {} } });
    await createApi({ origin: "http://h", fetch: f }).createPullRequest(P, T, R, { title: "DEMO-7 X", head_branch: "feat/x" });
    const req = f.mock.calls[0]![0];
    expect(req.method).toBe("POST");
    expect(req.url).toBe(`http://h${PLUGIN_BASE}/projects/${P}/tasks/${T}/github/repositories/${R}/pull-requests`);
    expect(await req.json()).toEqual({ title: "DEMO-7 X", head_branch: "feat/x" });
    const g = respond(200, { success: true, data: { state: "pending", head_sha: "abc", checks: [] } });
    await expect(createApi({ origin: "http://h", fetch: g }).getPullRequestCiStatus(P, T, R)).resolves.toMatchObject({ state: "pending" });
    expect(g.mock.calls[0]![0].url).toBe(`http://h${PLUGIN_BASE}/projects/${P}/tasks/${T}/github/pull-requests/${R}/ci-status`);
    const h = respond(201, { success: true, data: { id: "b" } });
    await createApi({ origin: "http://h", fetch: h }).linkBranch(P, T, { repo_id: R, branch_name: "feat/x" });
    expect(h.mock.calls[0]![0].url).toBe(`http://h${PLUGIN_BASE}/projects/${P}/tasks/${T}/github/branches/link`);
    expect(await h.mock.calls[0]![0].json()).toEqual({ repo_id: R, branch_name: "feat/x" });
  });

  it("accepts 204 on unlink", async () => {
    const api = createApi({ origin: "http://h", fetch: respond(204) });
    await expect(api.unlinkPullRequest(P, P, P)).resolves.toBeUndefined();
  });

  it("turns error envelopes, gateway pages and network failures into ApiErrors", async () => {
    const bad = createApi({ origin: "http://h", fetch: respond(409, { success: false, error: "x", error_code: "GITHUB_REPO_ALREADY_LINKED" }) });
    await expect(bad.linkRepository(P, "o", "r")).rejects.toMatchObject({ code: "GITHUB_REPO_ALREADY_LINKED", status: 409 });
    const gw = createApi({ origin: "http://h", fetch: respond(502, "<html>bad gateway</html>", { "Content-Type": "text/html" }) });
    await expect(gw.listLinkedRepositories(P)).rejects.toMatchObject({ code: "GITHUB_UNAVAILABLE" });
    const down = createApi({ origin: "http://h", fetch: vi.fn(() => Promise.reject(new TypeError("Failed to fetch"))) });
    const e = await down.getIntegration(P).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).code).toBe("NETWORK_ERROR");
  });

  it("refuses a 2xx answer that is not Paca's envelope", async () => {
    const api = createApi({ origin: "http://h", fetch: respond(200, { connected: true }) });
    await expect(api.getIntegration(P)).rejects.toMatchObject({ code: "UNEXPECTED_RESPONSE" });
  });
});

describe("core API client", () => {
  it("reads the project and the task from Paca's core routes", async () => {
    const f = vi.fn(async (url: RequestInfo | URL, _init?: RequestInit) =>
      new Response(JSON.stringify({ success: true, data: { id: String(url), task_number: 3, title: "T", task_id_prefix: "D", name: "n" } }), { status: 200 }),
    );
    const core = createCoreApi("http://h", f as typeof fetch);
    await core.getTask(P, "t1");
    await core.getProject(P);
    expect(f.mock.calls.map((c) => String(c[0]))).toEqual([`http://h/api/v1/projects/${P}/tasks/t1`, `http://h/api/v1/projects/${P}`]);
    expect(f.mock.calls[0]![1]?.credentials).toBe("include");
  });
  it("maps failures", async () => {
    const f = vi.fn(async () => new Response(JSON.stringify({ success: false, error_code: "FORBIDDEN", error: "no" }), { status: 403 }));
    await expect(createCoreApi("http://h", f).getTask(P, "t")).rejects.toMatchObject({ code: "FORBIDDEN" });
  });
});
