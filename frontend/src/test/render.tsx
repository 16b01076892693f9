// Renders a component inside its PluginRoot with a fake API whose methods the test provides.
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { vi } from "vitest";
import { ApiError, type LinkedRepository, type PluginApi, type PullRequest } from "../api";
import type { CoreApi } from "../core";
import type { AnyErrorCode } from "../errors";
import { newQueryClient, PluginRoot } from "../root";

export const PROJECT = "11111111-1111-4111-8111-111111111111";
export const TASK = "22222222-2222-4222-8222-222222222222";

const unset = (name: string) => () => Promise.reject(new Error(`unexpected call: ${name}`));

export function fakeApi(overrides: Partial<PluginApi> = {}): PluginApi {
  const names: (keyof PluginApi)[] = [
    "getIntegration", "setToken", "deleteToken", "listAccessibleRepositories", "listLinkedRepositories",
    "linkRepository", "unlinkRepository", "listTaskPullRequests", "linkPullRequest", "unlinkPullRequest",
    "listTaskBranches", "createBranch", "linkBranch", "createPullRequest", "getPullRequestCiStatus",
  ];
  const api = {} as Record<string, unknown>;
  for (const n of names) api[n] = vi.fn(overrides[n] ?? unset(n));
  return api as unknown as PluginApi;
}

export function fakeCore(overrides: Partial<CoreApi> = {}): CoreApi {
  return {
    getProject: vi.fn(overrides.getProject ?? (() => Promise.resolve({ id: PROJECT, name: "Demo", task_id_prefix: "DEMO" }))),
    getTask: vi.fn(overrides.getTask ?? (() => Promise.resolve({ id: TASK, task_number: 7, title: "Connect GitHub to Paca!" }))),
  };
}

export function renderWith(ui: ReactElement, api: PluginApi, core: CoreApi = fakeCore()) {
  const qc = newQueryClient();
  qc.setDefaultOptions({ queries: { retry: false, retryDelay: 0, staleTime: 0, refetchOnWindowFocus: false } });
  return render(
    <PluginRoot clients={{ api, core }} queryClient={qc}>
      {ui}
    </PluginRoot>,
  );
}

export const fail = (code: AnyErrorCode, status = 400) => () => Promise.reject(new ApiError(code, status));
export const never = () => new Promise<never>(() => {});
export const ok = <T,>(v: T) => () => Promise.resolve(v);

export function repo(full: string, extra: Partial<LinkedRepository> = {}): LinkedRepository {
  const [owner = "", name = ""] = full.split("/");
  return {
    id: `${full}-id`, project_id: PROJECT, owner, repo_name: name, full_name: full, default_branch: "main",
    clone_url: `https://github.com/${full}.git`, html_url: `https://github.com/${full}`, webhook_active: true,
    created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", ...extra,
  };
}

export function pr(n: number, state: PullRequest["state"], extra: Partial<PullRequest> = {}): PullRequest {
  return {
    id: `pr-${n}`, project_id: PROJECT, repo_id: "demo-org/paca-demo-id", repo_full_name: "demo-org/paca-demo", pr_number: n,
    github_pr_id: 1000 + n, title: `PR number ${n}`, state, html_url: `https://github.com/demo-org/paca-demo/pull/${n}`,
    head_branch: `feat/DEMO-${n}`, base_branch: "main", author: "octo", merged_at: null,
    created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", ...extra,
  };
}
