import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useState } from "react";
import { type CiState, errorMessage, type LinkedRepository, type PullRequest, type PullRequestState } from "../api";
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

const CI: Record<CiState, { label: string; tone: BadgeTone; title: string }> = {
  success: { label: "CI passed", tone: "success", title: "All checks on the head commit passed" },
  failure: { label: "CI failed", tone: "closed", title: "At least one check on the head commit failed" },
  pending: { label: "CI running", tone: "warning", title: "Checks on the head commit are still running" },
  unknown: { label: "No CI", tone: "neutral", title: "No checks reported for the head commit" },
};

/** How often a still-running CI state is re-read. */
export const CI_POLL_MS = 15_000;

export function CiBadge({ state }: { state: CiState }) {
  const c = CI[state];
  return (
    <span data-ci-state={state}>
      <Badge tone={c.tone} title={c.title}>
        {c.label}
      </Badge>
    </span>
  );
}

/** The CI badge of one pull request: nothing while loading or when the call fails. */
function PrCiBadge({ projectId, taskId, prId }: { projectId: string; taskId: string; prId: string }) {
  const { api } = useClients();
  const ci = useQuery({
    queryKey: keys.ciStatus(projectId, taskId, prId),
    queryFn: () => api.getPullRequestCiStatus(projectId, taskId, prId),
    retry: false,
    staleTime: 10_000,
    refetchInterval: (q) => (q.state.data?.state === "pending" ? CI_POLL_MS : false),
  });
  if (!ci.data) return null;
  return <CiBadge state={ci.data.state} />;
}

function PrRow({
  pr,
  projectId,
  taskId,
  showRepo,
  onUnlink,
  unlinking,
}: {
  pr: PullRequest;
  projectId: string;
  taskId: string;
  showRepo: boolean;
  onUnlink?: () => void;
  unlinking: boolean;
}) {
  return (
    <li className="pgh-item" data-pr-number={pr.pr_number} data-pr-state={pr.state}>
      <div className="pgh-row-between" style={{ alignItems: "flex-start" }}>
        <div className="pgh-row pgh-grow" style={{ alignItems: "flex-start" }}>
          {/* badges column: the state and CI now, review state later */}
          <div className="pgh-pr-badges">
            <PrStateBadge state={pr.state} />
            <PrCiBadge projectId={projectId} taskId={taskId} prId={pr.id} />
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
              projectId={p.projectId}
              taskId={p.taskId}
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
