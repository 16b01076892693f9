import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage, type LinkedRepository } from "../api";
import { isForbidden, keys, useLinkedRepos } from "../queries";
import { useClients } from "../root";
import { Button } from "../ui/Button";
import { ConfirmDialog } from "../ui/Dialog";
import { Badge, EmptyState, ErrorAlert, LoadingRows } from "../ui/feedback";
import { IconAlert, IconBranch, IconCheckCircle, IconInfo, IconPlus, IconRefresh, IconRepo } from "../ui/icons";

export interface LinkedReposProps {
  projectId: string;
  editable: boolean;
  onAdd: () => void;
  onForbidden: () => void;
}

export function LinkedRepos({ projectId, editable, onAdd, onForbidden }: LinkedReposProps) {
  const { api } = useClients();
  const qc = useQueryClient();
  const repos = useLinkedRepos(projectId);
  const [unlinking, setUnlinking] = useState<LinkedRepository | null>(null);
  const unlink = useMutation({
    mutationFn: (id: string) => api.unlinkRepository(projectId, id),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.linkedRepos(projectId) });
      setUnlinking(null);
    },
    onError: (e) => {
      if (isForbidden(e)) {
        setUnlinking(null);
        onForbidden();
      }
    },
  });
  const list = repos.data ?? [];

  let body;
  if (repos.isPending) body = <LoadingRows rows={2} label="Loading linked repositories" />;
  else if (repos.isError)
    body = (
      <ErrorAlert
        action={
          <Button variant="outline" size="sm" onClick={() => void repos.refetch()}>
            Retry
          </Button>
        }
      >
        {errorMessage(repos.error)}
      </ErrorAlert>
    );
  else if (list.length === 0)
    body = (
      <EmptyState
        icon={<IconBranch className="pgh-icon-lg" />}
        action={
          editable ? (
            <Button variant="outline" size="sm" onClick={onAdd}>
              <IconPlus />
              Add your first repository
            </Button>
          ) : undefined
        }
      >
        No repositories linked yet.
      </EmptyState>
    );
  else
    body = (
      <ul className="pgh-list" aria-label="Linked repositories">
        {list.map((r) => (
          <li key={r.id} className="pgh-row-between">
            <div className="pgh-row pgh-grow">
              <IconRepo />
              <div className="pgh-grow">
                <a className="pgh-repo-link pgh-truncate" href={r.html_url} target="_blank" rel="noreferrer noopener">
                  {r.full_name}
                  <span className="pgh-sr-only"> (opens GitHub in a new tab)</span>
                </a>
                <div className="pgh-muted pgh-small">
                  Default branch: <code>{r.default_branch}</code>
                </div>
              </div>
            </div>
            <div className="pgh-row">
              {r.webhook_active ? (
                <Badge tone="success" title="GitHub delivers push and pull request events to Paca">
                  <IconCheckCircle />
                  Webhook active
                </Badge>
              ) : (
                <Badge tone="warning" title="GitHub reports this repository's webhook as inactive">
                  <IconAlert />
                  Webhook inactive
                </Badge>
              )}
              {editable ? (
                <Button variant="ghost" size="sm" onClick={() => setUnlinking(r)} aria-label={`Unlink ${r.full_name}`}>
                  Unlink
                </Button>
              ) : null}
            </div>
          </li>
        ))}
      </ul>
    );

  return (
    <div className="pgh-card pgh-stack">
      <div className="pgh-row-between">
        <div className="pgh-row">
          <h3 className="pgh-card-title">Linked repositories</h3>
          <Button
            variant="ghost"
            size="icon"
            onClick={() => void qc.invalidateQueries({ queryKey: keys.linkedRepos(projectId) })}
            aria-label="Reload linked repositories"
            title="Reload"
          >
            {repos.isFetching && !repos.isPending ? <IconRefresh className="pgh-spinner" /> : <IconRefresh />}
          </Button>
        </div>
        {editable && list.length > 0 ? (
          <Button variant="outline" size="sm" onClick={onAdd}>
            <IconPlus />
            Add repository
          </Button>
        ) : null}
      </div>
      <p className="pgh-muted pgh-small" style={{ marginTop: -8 }}>
        {list.length > 0
          ? "Branches and pull requests of these repositories that name a task key (like DEMO-12) are linked to the task."
          : "Link a repository so its branches and pull requests can be linked to tasks."}
      </p>
      {body}
      {list.length > 0 ? (
        <div className="pgh-alert">
          <IconInfo />
          <span>Each linked repository has a webhook that sends push and pull request events to Paca, so states stay current.</span>
        </div>
      ) : null}
      {unlinking ? (
        <ConfirmDialog
          title={`Unlink ${unlinking.full_name}?`}
          icon={<IconRepo />}
          description="Its webhook on GitHub will be deleted, and its branch and pull request links removed from every task of the project."
          confirmLabel="Unlink repository"
          pendingLabel="Unlinking…"
          destructive
          pending={unlink.isPending}
          error={unlink.error ? errorMessage(unlink.error) : null}
          onConfirm={() => unlink.mutate(unlinking.id)}
          onCancel={() => {
            unlink.reset();
            setUnlinking(null);
          }}
        />
      ) : null}
    </div>
  );
}
