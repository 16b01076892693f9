import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useMemo, useRef, useState } from "react";
import { type AccessibleRepository, errorMessage, type LinkedRepository } from "../api";
import { isForbidden, keys, retryTransient } from "../queries";
import { useClients } from "../root";
import { Button } from "../ui/Button";
import { Dialog } from "../ui/Dialog";
import { Badge, EmptyState, ErrorAlert, Skeleton } from "../ui/feedback";
import { IconBranch, IconCheck, IconLock, IconPlus, IconRefresh, IconRepo, IconSearch, IconSpinner } from "../ui/icons";

const PER_PAGE = 30;

export interface AddRepoDialogProps {
  projectId: string;
  linked: readonly LinkedRepository[];
  onClose: () => void;
  onForbidden: () => void;
}

export function AddRepoDialog({ projectId, linked, onClose, onForbidden }: AddRepoDialogProps) {
  const { api } = useClients();
  const qc = useQueryClient();
  const searchRef = useRef<HTMLInputElement>(null);
  const [search, setSearch] = useState("");
  const pages = useInfiniteQuery({
    queryKey: keys.accessibleRepos(projectId),
    queryFn: ({ pageParam }) => api.listAccessibleRepositories(projectId, pageParam, PER_PAGE),
    initialPageParam: 1,
    getNextPageParam: (last) => last.next_page ?? undefined,
    retry: retryTransient,
    staleTime: 60_000,
  });
  const link = useMutation({
    mutationFn: (r: AccessibleRepository) => api.linkRepository(projectId, r.owner, r.repo_name),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.linkedRepos(projectId) });
      onClose();
    },
    onError: (e) => {
      if (isForbidden(e)) {
        onClose();
        onForbidden();
      }
    },
  });

  const all = useMemo(() => pages.data?.pages.flatMap((p) => p.items) ?? [], [pages.data]);
  const q = search.trim().toLowerCase();
  const shown = q ? all.filter((r) => r.full_name.toLowerCase().includes(q)) : all;
  const isLinked = (r: AccessibleRepository) => linked.some((l) => l.full_name.toLowerCase() === r.full_name.toLowerCase());
  const error = link.error ?? pages.error;

  let list;
  if (pages.isPending) {
    list = (
      <div className="pgh-stack-sm" role="status" aria-label="Loading repositories">
        {[0, 1, 2, 3].map((i) => (
          <Skeleton key={i} height={40} />
        ))}
      </div>
    );
  } else if (all.length === 0 && !pages.isError) {
    list = <EmptyState icon={<IconRepo className="pgh-icon-lg" />}>No accessible repositories found.</EmptyState>;
  } else if (shown.length === 0 && q) {
    list = (
      <EmptyState icon={<IconSearch className="pgh-icon-lg" />}>
        No repositories match “{search.trim()}”{pages.hasNextPage ? " in the pages loaded so far" : ""}.
      </EmptyState>
    );
  } else if (shown.length > 0) {
    list = (
      <ul className="pgh-list pgh-list-scroll" aria-label="Accessible repositories">
        {shown.map((r) => {
          const already = isLinked(r);
          const busy = link.isPending && link.variables?.full_name === r.full_name;
          return (
            <li key={r.full_name} className="pgh-option-item">
              <button
                type="button"
                className="pgh-option"
                disabled={already || link.isPending}
                onClick={() => link.mutate(r)}
                aria-label={already ? `${r.full_name} (already linked)` : `Link ${r.full_name}`}
              >
                <IconRepo />
                <span className="pgh-grow">
                  <span className="pgh-row">
                    <span className="pgh-truncate" style={{ fontWeight: 500 }}>
                      {r.full_name}
                    </span>
                    {r.private ? (
                      <Badge>
                        <IconLock />
                        Private
                      </Badge>
                    ) : null}
                  </span>
                  {r.description ? <span className="pgh-muted pgh-small pgh-truncate" style={{ display: "block" }}>{r.description}</span> : null}
                </span>
                {already ? (
                  <Badge tone="success">
                    <IconCheck />
                    Linked
                  </Badge>
                ) : busy ? (
                  <span className="pgh-row pgh-muted pgh-small">
                    <IconSpinner />
                    Linking…
                  </span>
                ) : (
                  <IconPlus />
                )}
              </button>
            </li>
          );
        })}
      </ul>
    );
  }

  return (
    <Dialog
      wide
      title="Add a repository"
      icon={<IconBranch />}
      description="Link a repository to this project. Paca registers a webhook on it so pull requests and branches stay in sync."
      onCancel={onClose}
      busy={link.isPending}
      initialFocus={searchRef}
      actions={
        <Button variant="outline" onClick={onClose} disabled={link.isPending}>
          Close
        </Button>
      }
    >
      <div className="pgh-stack-sm">
        <div className="pgh-row">
          <label className="pgh-sr-only" htmlFor="pgh-repo-search">
            Search repositories
          </label>
          <input
            id="pgh-repo-search"
            ref={searchRef}
            className="pgh-input"
            type="search"
            placeholder="Search repositories…"
            autoComplete="off"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") e.preventDefault();
            }}
          />
          <Button
            variant="outline"
            size="icon"
            style={{ height: 36, width: 36 }}
            aria-label="Reload repositories"
            title="Reload"
            onClick={() => void qc.resetQueries({ queryKey: keys.accessibleRepos(projectId) })}
          >
            {pages.isFetching ? <IconRefresh className="pgh-spinner" /> : <IconRefresh />}
          </Button>
        </div>
        {error ? <ErrorAlert>{errorMessage(error)}</ErrorAlert> : null}
        {list}
        {pages.hasNextPage ? (
          <Button variant="ghost" size="sm" onClick={() => void pages.fetchNextPage()} loading={pages.isFetchingNextPage}>
            {pages.isFetchingNextPage ? "Loading more…" : "Load more repositories"}
          </Button>
        ) : null}
      </div>
    </Dialog>
  );
}
