import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useState } from "react";
import { errorMessage, type LinkedRepository, type PullRequest, type PullRequestState } from "../api";
import { isForbidden, keys, retryTransient, TASK_POLL_MS } from "../queries";
import { useClients } from "../root";
import { Button } from "../ui/Button";
import { Badge, type BadgeTone, ErrorAlert, Spinner } from "../ui/feedback";
import { IconExternal, IconMerged, IconPlus, IconPrClosed, IconPullRequest, IconTrash } from "../ui/icons";
import { Section } from "../ui/Section";
import { LinkPrForm } from "./LinkPrForm";

const STATE: Record<PullRequestState, { label: string; tone: BadgeTone; icon: ReactNode }> = {
  open: { label: "Open", tone: "success", icon: <IconPullRequest /> },
  closed: { label: "Closed", tone: "closed", icon: <IconPrClosed /> },
  merged: { label: "Merged", tone: "merged", icon: <IconMerged /> },
};

export function PrStateBadge({ state }: { state: PullRequestState }) {
  const s = STATE[state];
  return (
    <Badge tone={s.tone}>
      {s.icon}
      {s.label}
    </Badge>
  );
}

function PrRow({ pr, showRepo, onUnlink, unlinking }: { pr: PullRequest; showRepo: boolean; onUnlink?: () => void; unlinking: boolean }) {
  return (
    <li className="pgh-item" data-pr-number={pr.pr_number} data-pr-state={pr.state}>
      <div className="pgh-row-between" style={{ alignItems: "flex-start" }}>
        <div className="pgh-row pgh-grow" style={{ alignItems: "flex-start" }}>
          {/* badges column: the state now, CI and review state later */}
          <div className="pgh-pr-badges">
            <PrStateBadge state={pr.state} />
          </div>
          <div className="pgh-grow">
            <a className="pgh-pr-title" href={pr.html_url} target="_blank" rel="noreferrer noopener">
              {pr.title}
              <IconExternal className="pgh-muted" />
              <span className="pgh-sr-only"> (opens GitHub in a new tab)</span>
            </a>
            <div className="pgh-muted pgh-small pgh-truncate">
              {showRepo ? `${pr.repo_full_name} ` : ""}#{pr.pr_number} · <span className="pgh-mono">{pr.head_branch}</span> · by {pr.author}
            </div>
          </div>
        </div>
        {onUnlink ? (
          <Button
            variant="ghost"
            size="icon"
            onClick={onUnlink}
            loading={unlinking}
            aria-label={`Unlink pull request #${pr.pr_number}`}
            title="Unlink from this task"
          >
            {unlinking ? null : <IconTrash />}
          </Button>
        ) : null}
      </div>
    </li>
  );
}

export interface PullRequestsProps {
  projectId: string;
  taskId: string;
  repos: readonly LinkedRepository[];
  editable: boolean;
  onForbidden: () => void;
}

export function PullRequests(p: PullRequestsProps) {
  const { api } = useClients();
  const qc = useQueryClient();
  const [linking, setLinking] = useState(false);
  const prs = useQuery({
    queryKey: keys.prs(p.projectId, p.taskId),
    queryFn: () => api.listTaskPullRequests(p.projectId, p.taskId),
    refetchInterval: TASK_POLL_MS,
    retry: retryTransient,
  });
  const unlink = useMutation({
    mutationFn: (prId: string) => api.unlinkPullRequest(p.projectId, p.taskId, prId),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.prs(p.projectId, p.taskId) }),
    onError: (e) => {
      if (isForbidden(e)) p.onForbidden();
    },
  });
  const list = prs.data ?? [];

  return (
    <Section icon={<IconPullRequest />} label="Pull requests" count={list.length}>
      {prs.isPending ? (
        <Spinner label="Loading pull requests…" />
      ) : prs.isError ? (
        <ErrorAlert
          action={
            <Button variant="outline" size="sm" onClick={() => void prs.refetch()}>
              Retry
            </Button>
          }
        >
          {errorMessage(prs.error)}
        </ErrorAlert>
      ) : list.length === 0 ? (
        <p className="pgh-muted pgh-small">No pull requests linked yet.</p>
      ) : (
        <ul className="pgh-stack-sm" aria-label="Linked pull requests">
          {list.map((pr) => (
            <PrRow
              key={pr.id}
              pr={pr}
              showRepo={p.repos.length > 1}
              unlinking={unlink.isPending && unlink.variables === pr.id}
              {...(p.editable ? { onUnlink: () => unlink.mutate(pr.id) } : {})}
            />
          ))}
        </ul>
      )}
      {unlink.isError && !isForbidden(unlink.error) ? <ErrorAlert>{errorMessage(unlink.error)}</ErrorAlert> : null}
      {p.editable && p.repos.length > 0 ? (
        linking ? (
          <LinkPrForm projectId={p.projectId} taskId={p.taskId} repos={p.repos} onDone={() => setLinking(false)} onForbidden={p.onForbidden} />
        ) : (
          <div>
            <Button variant="link" size="sm" onClick={() => setLinking(true)}>
              <IconPlus />
              Link pull request
            </Button>
          </div>
        )
      ) : null}
    </Section>
  );
}
