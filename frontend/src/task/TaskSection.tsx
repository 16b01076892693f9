import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage } from "../api";
import { isForbidden, keys, retryTransient, useIntegration, useLinkedRepos } from "../queries";
import { useClients } from "../root";
import { Button } from "../ui/Button";
import { ErrorAlert } from "../ui/feedback";
import { Branches } from "./Branches";
import { PullRequests } from "./PullRequests";

export function TaskSection({ projectId, taskId, canEdit }: { projectId: string; taskId: string; canEdit: boolean }) {
  const { core } = useClients();
  const integration = useIntegration(projectId);
  const connected = integration.data?.connected === true;
  const repos = useLinkedRepos(projectId, connected);
  const [forbidden, setForbidden] = useState(false);
  const editable = canEdit && !forbidden;
  // The key and title name new branches; only needed by someone who can create one.
  const task = useQuery({
    queryKey: keys.coreTask(projectId, taskId),
    queryFn: () => core.getTask(projectId, taskId),
    enabled: editable && connected,
    staleTime: 60_000,
    retry: retryTransient,
  });
  const project = useQuery({
    queryKey: keys.coreProject(projectId),
    queryFn: () => core.getProject(projectId),
    enabled: editable && connected,
    staleTime: 60_000,
    retry: retryTransient,
  });

  const failed = integration.error ?? repos.error;
  if (failed) {
    // Refusals mean the caller cannot see GitHub data here: show nothing, like an empty project.
    if (isForbidden(failed)) return null;
    return (
      <ErrorAlert
        action={
          <Button
            variant="outline"
            size="sm"
            onClick={() => void (integration.error ? integration.refetch() : repos.refetch())}
          >
            Retry
          </Button>
        }
      >
        GitHub: {errorMessage(failed)}
      </ErrorAlert>
    );
  }
  // Nothing to show while loading, or when the project has no linked repository.
  if (!connected || !repos.data || repos.data.length === 0) return null;

  return (
    <div className="pgh-stack" style={{ gap: 24 }}>
      <Branches
        projectId={projectId}
        taskId={taskId}
        repos={repos.data}
        task={task.data}
        project={project.data}
        editable={editable}
        onForbidden={() => setForbidden(true)}
      />
      <PullRequests projectId={projectId} taskId={taskId} repos={repos.data} editable={editable} onForbidden={() => setForbidden(true)} />
    </div>
  );
}
