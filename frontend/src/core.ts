// Paca's core API, for the two reads the task section needs (the task's number and title, the
// project's key). Shapes as Paca's `GET /api/v1/projects/{id}` and
// `GET /api/v1/projects/{id}/tasks/{taskId}` answer them (SDK `ProjectSummary` / `Task`).
import { ApiError, toApiError } from "./api";

export interface CoreProject {
  id: string;
  name: string;
  description?: string;
  /** The task key prefix, e.g. `DEMO` in `DEMO-12`. */
  task_id_prefix: string;
}

export interface CoreTask {
  id: string;
  project_id?: string;
  task_number: number;
  title: string;
}

async function get<T>(origin: string, path: string, fetchImpl: typeof fetch): Promise<T> {
  let res: Response;
  try {
    res = await fetchImpl(`${origin}/api/v1${path}`, { credentials: "include", headers: { Accept: "application/json" } });
  } catch {
    throw new ApiError("NETWORK_ERROR", 0);
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) throw toApiError(res.status, body);
  const env = body as { success?: unknown; data?: unknown } | undefined;
  if (!env || env.success !== true || typeof env.data !== "object" || env.data === null) {
    throw new ApiError("UNEXPECTED_RESPONSE", res.status);
  }
  return env.data as T;
}

export function createCoreApi(origin = globalThis.location.origin, fetchImpl: typeof fetch = (i, o) => globalThis.fetch(i, o)) {
  return {
    getProject: (projectId: string) => get<CoreProject>(origin, `/projects/${encodeURIComponent(projectId)}`, fetchImpl),
    getTask: (projectId: string, taskId: string) =>
      get<CoreTask>(
        origin,
        `/projects/${encodeURIComponent(projectId)}/tasks/${encodeURIComponent(taskId)}`,
        fetchImpl,
      ),
  };
}

export type CoreApi = ReturnType<typeof createCoreApi>;
