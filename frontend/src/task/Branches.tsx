import { useQuery } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { errorMessage, type LinkedRepository } from "../api";
import type { CoreProject, CoreTask } from "../core";
import { keys, retryTransient, TASK_POLL_MS } from "../queries";
import { useClients } from "../root";
import { Button } from "../ui/Button";
import { CopyCommand } from "../ui/CopyCommand";
import { ErrorAlert, Spinner } from "../ui/feedback";
import { IconBranch, IconPlus, IconPullRequest } from "../ui/icons";
import { Section } from "../ui/Section";
import { CreateBranchForm } from "./CreateBranchForm";
import { LinkBranchForm } from "./LinkBranchForm";
import { OpenPrForm } from "./OpenPrForm";

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
  // One form at a time below the list: create a new branch, or link one that exists on GitHub.
  const [mode, setMode] = useState<"none" | "create" | "link">("none");
  // The branch whose "Open pull request" form is open, by id.
  const [openingFor, setOpeningFor] = useState<string | null>(null);
  // When a form closes, focus goes back to the button that opened it.
  const refocus = useRef<string | null>(null);
  const focusBack = (key: string) => (el: HTMLButtonElement | null) => {
    if (el && refocus.current === key) {
      refocus.current = null;
      el.focus();
    }
  };
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
                <div className="pgh-row">
                  {many ? <span className="pgh-muted pgh-small pgh-truncate">{b.repo_full_name}</span> : null}
                  {p.editable && openingFor !== b.id ? (
                    <Button
                      variant="outline"
                      size="sm"
                      ref={focusBack(`pr:${b.id}`)}
                      onClick={() => setOpeningFor(b.id)}
                      aria-label={`Open pull request from ${b.branch_name}`}
                    >
                      <IconPullRequest />
                      Open pull request
                    </Button>
                  ) : null}
                </div>
              </div>
              <CopyCommand command={`git fetch origin && git checkout ${b.branch_name}`} label={`Command to check out ${b.branch_name}`} />
              {p.editable && openingFor === b.id ? (
                <OpenPrForm
                  projectId={p.projectId}
                  taskId={p.taskId}
                  branch={b}
                  repo={p.repos.find((r) => r.id === b.repo_id)}
                  task={p.task}
                  project={p.project}
                  onDone={() => {
                    refocus.current = `pr:${b.id}`;
                    setOpeningFor(null);
                  }}
                  onForbidden={p.onForbidden}
                />
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {p.editable && p.repos.length > 0 ? (
        mode === "create" ? (
          <CreateBranchForm
            projectId={p.projectId}
            taskId={p.taskId}
            repos={p.repos}
            task={p.task}
            project={p.project}
            onDone={() => {
              refocus.current = "create";
              setMode("none");
            }}
            onForbidden={p.onForbidden}
          />
        ) : mode === "link" ? (
          <LinkBranchForm
            projectId={p.projectId}
            taskId={p.taskId}
            repos={p.repos}
            onDone={() => {
              refocus.current = "link";
              setMode("none");
            }}
            onForbidden={p.onForbidden}
          />
        ) : (
          <div className="pgh-row pgh-wrap">
            <Button variant="link" size="sm" ref={focusBack("create")} onClick={() => setMode("create")}>
              <IconPlus />
              Create branch
            </Button>
            <Button variant="link" size="sm" ref={focusBack("link")} onClick={() => setMode("link")}>
              <IconBranch />
              Link existing branch
            </Button>
          </div>
        )
      ) : null}
    </Section>
  );
}
