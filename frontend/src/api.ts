// Typed client of the plugin API. The types come from spec/openapi.yaml via openapi-typescript
// (src/generated/api.d.ts); only the wiring lives here: Paca's base URL, the session cookie,
// unwrapping `{success, data}` and turning failures into `ApiError`s that carry an error code.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/api";
import { type AnyErrorCode, isKnownErrorCode, messageFor } from "./errors";

type Schemas = components["schemas"];
export type ErrorCode = Schemas["ErrorCode"];
export type Integration = Schemas["Integration"];
export type IntegrationRemoval = Schemas["IntegrationRemoval"];
export type LinkedRepository = Schemas["LinkedRepository"];
export type RepositoryRemoval = Schemas["RepositoryRemoval"];
export type AccessibleRepository = Schemas["AccessibleRepository"];
export type AccessibleRepositoryPage = Schemas["AccessibleRepositoryPage"];
export type PullRequest = Schemas["PullRequest"];
export type PullRequestState = Schemas["PullRequestState"];
export type Branch = Schemas["Branch"];
export type CreateBranchRequest = Schemas["CreateBranchRequest"];
export type CreatePullRequestRequest = Schemas["CreatePullRequestRequest"];
export type PullRequestCreation = Schemas["PullRequestCreation"];
export type LinkBranchRequest = Schemas["LinkBranchRequest"];
export type CiState = Schemas["CiState"];
export type CiStatus = Schemas["CiStatus"];

/** Where Paca mounts the plugin's API. */
export const PLUGIN_BASE = "/api/v1/plugins/com.paca.github";

/** A failed call: `code` is the stable error code, `message` a sentence for people. */
export class ApiError extends Error {
  readonly code: AnyErrorCode;
  readonly status: number;
  /** The server's own text (not shown by default: it may be terse or technical). */
  readonly serverMessage: string | undefined;
  constructor(code: AnyErrorCode, status: number, serverMessage?: string) {
    super(messageFor(code));
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.serverMessage = serverMessage;
  }
}

/** The error code of any thrown value (`undefined` when it is not an `ApiError`). */
export function errorCode(error: unknown): AnyErrorCode | undefined {
  return error instanceof ApiError ? error.code : undefined;
}

/** A sentence for any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return messageFor("UNEXPECTED_RESPONSE");
}

/** Builds the error for a non-2xx answer from its status and (parsed or raw) body. */
export function toApiError(status: number, body: unknown): ApiError {
  if (typeof body === "object" && body !== null) {
    const b = body as { error_code?: unknown; error?: unknown };
    const text = typeof b.error === "string" ? b.error : undefined;
    if (isKnownErrorCode(b.error_code)) return new ApiError(b.error_code, status, text);
  }
  // No (known) code: fall back on what the status says.
  if (status === 401) return new ApiError("UNAUTHORIZED", status);
  if (status === 403) return new ApiError("FORBIDDEN", status);
  if (status === 413) return new ApiError("PAYLOAD_TOO_LARGE", status);
  if (status === 429) return new ApiError("GITHUB_RATE_LIMITED", status);
  if (status === 502 || status === 503 || status === 504) return new ApiError("GITHUB_UNAVAILABLE", status);
  if (status >= 500) return new ApiError("INTERNAL_ERROR", status);
  return new ApiError("UNEXPECTED_RESPONSE", status);
}

type Fetched<T> = { data?: T; error?: unknown; response: Response };

async function call<T>(p: Promise<Fetched<T>>): Promise<T> {
  let r: Fetched<T>;
  try {
    r = await p;
  } catch {
    throw new ApiError("NETWORK_ERROR", 0);
  }
  if (!r.response.ok) throw toApiError(r.response.status, r.error);
  return r.data as T;
}

/** Unwraps `{success: true, data}`; anything else is an unexpected answer. */
function unwrap<T>(envelope: { success: boolean; data: T } | undefined, status: number): T {
  if (!envelope || envelope.success !== true || !("data" in envelope)) {
    throw new ApiError("UNEXPECTED_RESPONSE", status);
  }
  return envelope.data;
}

async function json<T>(p: Promise<Fetched<{ success: boolean; data: T }>>): Promise<T> {
  return unwrap(await call(p), 200);
}

export interface ClientOptions {
  /** Defaults to `location.origin`. */
  origin?: string;
  fetch?: (request: Request) => Promise<Response>;
}

/** The plugin API, one method per operation the UI uses. */
export function createApi(opts: ClientOptions = {}) {
  const origin = opts.origin ?? globalThis.location.origin;
  const client = createClient<paths>({
    baseUrl: `${origin}${PLUGIN_BASE}`,
    credentials: "include",
    fetch: opts.fetch ?? ((req: Request) => globalThis.fetch(req)),
  });
  const project = (projectId: string) => ({ params: { path: { projectId } } });
  const task = (projectId: string, taskId: string) => ({ params: { path: { projectId, taskId } } });
  return {
    getIntegration: (projectId: string) =>
      json<Integration>(client.GET("/projects/{projectId}/github", project(projectId))),
    setToken: (projectId: string, token: string) =>
      json<Integration>(client.POST("/projects/{projectId}/github/token", { ...project(projectId), body: { token } })),
    deleteToken: (projectId: string) =>
      json<IntegrationRemoval>(client.DELETE("/projects/{projectId}/github/token", project(projectId))),
    listAccessibleRepositories: (projectId: string, page: number, perPage = 30) =>
      json<AccessibleRepositoryPage>(
        client.GET("/projects/{projectId}/github/repositories", {
          params: { path: { projectId }, query: { page, per_page: perPage } },
        }),
      ),
    listLinkedRepositories: (projectId: string) =>
      json<LinkedRepository[]>(client.GET("/projects/{projectId}/github/linked-repositories", project(projectId))),
    linkRepository: (projectId: string, owner: string, repoName: string) =>
      json<LinkedRepository>(
        client.POST("/projects/{projectId}/github/linked-repositories", {
          ...project(projectId),
          body: { owner, repo_name: repoName },
        }),
      ),
    unlinkRepository: (projectId: string, repoId: string) =>
      json<RepositoryRemoval>(
        client.DELETE("/projects/{projectId}/github/linked-repositories/{repoId}", {
          params: { path: { projectId, repoId } },
        }),
      ),
    listTaskPullRequests: (projectId: string, taskId: string) =>
      json<PullRequest[]>(client.GET("/projects/{projectId}/tasks/{taskId}/github/pull-requests", task(projectId, taskId))),
    linkPullRequest: (projectId: string, taskId: string, repoId: string, prNumber: number) =>
      json<PullRequest>(
        client.POST("/projects/{projectId}/tasks/{taskId}/github/pull-requests", {
          ...task(projectId, taskId),
          body: { repo_id: repoId, pr_number: prNumber },
        }),
      ),
    unlinkPullRequest: (projectId: string, taskId: string, prId: string) =>
      call(
        client.DELETE("/projects/{projectId}/tasks/{taskId}/github/pull-requests/{prId}", {
          params: { path: { projectId, taskId, prId } },
        }),
      ).then((): void => undefined),
    listTaskBranches: (projectId: string, taskId: string) =>
      json<Branch[]>(client.GET("/projects/{projectId}/tasks/{taskId}/github/branches", task(projectId, taskId))),
    createBranch: (projectId: string, taskId: string, body: CreateBranchRequest) =>
      json<Branch>(client.POST("/projects/{projectId}/tasks/{taskId}/github/branches", { ...task(projectId, taskId), body })),
    linkBranch: (projectId: string, taskId: string, body: LinkBranchRequest) =>
      json<Branch>(client.POST("/projects/{projectId}/tasks/{taskId}/github/branches/link", { ...task(projectId, taskId), body })),
    createPullRequest: (projectId: string, taskId: string, repoId: string, body: CreatePullRequestRequest) =>
      json<PullRequestCreation>(
        client.POST("/projects/{projectId}/tasks/{taskId}/github/repositories/{repoId}/pull-requests", {
          params: { path: { projectId, taskId, repoId } },
          body,
        }),
      ),
    getPullRequestCiStatus: (projectId: string, taskId: string, prId: string) =>
      json<CiStatus>(
        client.GET("/projects/{projectId}/tasks/{taskId}/github/pull-requests/{prId}/ci-status", {
          params: { path: { projectId, taskId, prId } },
        }),
      ),
  };
}

export type PluginApi = ReturnType<typeof createApi>;
