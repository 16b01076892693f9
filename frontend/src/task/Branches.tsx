import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage, type LinkedRepository } from "../api";
import type { CoreProject, CoreTask } from "../core";
import { keys, retryTransient, TASK_POLL_MS } from "../queries";
import { useClients } from "../root";
import { Button } from "../ui/Button";
import { CopyCommand } from "../ui/CopyCommand";
import { ErrorAlert, Spinner } from "../ui/feedback";
import { IconBranch, IconPlus } from "../ui/icons";
import { Section } from "../ui/Section";
import { CreateBranchForm } from "./CreateBranchForm";

export interface BranchesProps {
  projectId: string;
  taskId: string;
  repos: readonly LinkedRepository[];
  task: CoreTask | undefined;
  project: CoreProject | undefined;
  editable: boolean;
  onForbidden: () => void;
}

export function Branches(p: BranchesProps) {
  const { api } = useClients();
  const [creating, setCreating] = useState(false);
  const branches = useQuery({
    queryKey: keys.branches(p.projectId, p.taskId),
    queryFn: () => api.listTaskBranches(p.projectId, p.taskId),
    refetchInterval: TASK_POLL_MS,
    retry: retryTransient,
  });
  const list = branches.data ?? [];
  const many = p.repos.length > 1;

  return (
    <Section icon={<IconBranch />} label="Branches" count={list.length}>
      {branches.isPending ? (
        <Spinner label="Loading branches…" />
      ) : branches.isError ? (
        <ErrorAlert
          action={
            <Button variant="outline" size="sm" onClick={() => void branches.refetch()}>
              Retry
            </Button>
          }
        >
          {errorMessage(branches.error)}
        </ErrorAlert>
      ) : list.length === 0 ? (
        <p className="pgh-muted pgh-small">No branches linked yet.</p>
      ) : (
        <ul className="pgh-stack-sm" aria-label="Linked branches">
          {list.map((b) => (
            <li key={b.id} className="pgh-item">
              <div className="pgh-row-between">
                <a className="pgh-repo-link pgh-mono pgh-truncate" href={b.html_url} target="_blank" rel="noreferrer noopener">
                  {b.branch_name}
                </a>
                {many ? <span className="pgh-muted pgh-small pgh-truncate">{b.repo_full_name}</span> : null}
              </div>
              <CopyCommand command={`git fetch origin && git checkout ${b.branch_name}`} label={`Command to check out ${b.branch_name}`} />
            </li>
          ))}
        </ul>
      )}
      {p.editable && p.repos.length > 0 ? (
        creating ? (
          <CreateBranchForm
            projectId={p.projectId}
            taskId={p.taskId}
            repos={p.repos}
            task={p.task}
            project={p.project}
            onDone={() => setCreating(false)}
            onForbidden={p.onForbidden}
          />
        ) : (
          <div>
            <Button variant="link" size="sm" onClick={() => setCreating(true)}>
              <IconPlus />
              Create branch
            </Button>
          </div>
        )
      ) : null}
    </Section>
  );
}
