// Query keys and the queries both components use.
import { useQuery } from "@tanstack/react-query";
import { ApiError } from "./api";
import { useClients } from "./root";

const P = "com.paca.github";

export const keys = {
  integration: (projectId: string) => [P, "integration", projectId] as const,
  linkedRepos: (projectId: string) => [P, "linked-repos", projectId] as const,
  accessibleRepos: (projectId: string) => [P, "accessible-repos", projectId] as const,
  prs: (projectId: string, taskId: string) => [P, "prs", projectId, taskId] as const,
  branches: (projectId: string, taskId: string) => [P, "branches", projectId, taskId] as const,
  ciStatus: (projectId: string, taskId: string, prId: string) => [P, "ci-status", projectId, taskId, prId] as const,
  coreTask: (projectId: string, taskId: string) => [P, "core", "task", projectId, taskId] as const,
  coreProject: (projectId: string) => [P, "core", "project", projectId] as const,
};

/** How often the task lists are re-read, so webhook-driven changes show up without a reload. */
export const TASK_POLL_MS = 4_000;

/** Retry once, but never a refusal: a 4xx will not change by asking again. */
export function retryTransient(failureCount: number, error: unknown): boolean {
  if (error instanceof ApiError && error.status >= 400 && error.status < 500) return false;
  return failureCount < 1;
}

export function useIntegration(projectId: string) {
  const { api } = useClients();
  return useQuery({ queryKey: keys.integration(projectId), queryFn: () => api.getIntegration(projectId), retry: retryTransient });
}

export function useLinkedRepos(projectId: string, enabled = true) {
  const { api } = useClients();
  return useQuery({
    queryKey: keys.linkedRepos(projectId),
    queryFn: () => api.listLinkedRepositories(projectId),
    enabled,
    retry: retryTransient,
  });
}

/** True when the error is Paca refusing the caller (the UI then hides what it cannot do). */
export function isForbidden(error: unknown): boolean {
  return error instanceof ApiError && error.code === "FORBIDDEN";
}
