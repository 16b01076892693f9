import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { errorCode, errorMessage, type LinkedRepository } from "../api";
import { isForbidden, keys } from "../queries";
import { useClients } from "../root";
import { Button } from "../ui/Button";

export interface LinkBranchFormProps {
  projectId: string;
  taskId: string;
  repos: readonly LinkedRepository[];
  onDone: () => void;
  onForbidden: () => void;
}

/** Links a branch that already exists on GitHub (the API checks that it does). */
export function LinkBranchForm({ projectId, taskId, repos, onDone, onForbidden }: LinkBranchFormProps) {
  const { api } = useClients();
  const qc = useQueryClient();
  const ids = { repo: useId(), name: useId() };
  const [repoId, setRepoId] = useState(repos.length === 1 ? repos[0]!.id : "");
  const [name, setName] = useState("");
  const [invalid, setInvalid] = useState<string | null>(null);
  const nameRef = useRef<HTMLInputElement>(null);
  useEffect(() => nameRef.current?.focus(), []);

  const link = useMutation({
    mutationFn: () => api.linkBranch(projectId, taskId, { repo_id: repoId, branch_name: name.trim() }),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.branches(projectId, taskId) });
      onDone();
    },
    onError: (e) => {
      if (isForbidden(e)) onForbidden();
    },
  });

  const submit = () => {
    if (link.isPending) return;
    if (!name.trim()) return setInvalid("Enter a branch name.");
    if (!repoId) return setInvalid("Select a repository.");
    setInvalid(null);
    link.mutate();
  };

  const error =
    invalid ??
    (link.error
      ? errorCode(link.error) === "GITHUB_BRANCH_NOT_FOUND"
        ? `No branch named “${name.trim()}” exists in the repository on GitHub. Push it first, or check the name.`
        : errorMessage(link.error)
      : null);

  return (
    <form
      className="pgh-form"
      aria-label="Link an existing branch"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.preventDefault();
          onDone();
        }
      }}
    >
      <div className={repos.length > 1 ? "pgh-grid-2" : "pgh-stack-sm"}>
        {repos.length > 1 ? (
          <div className="pgh-field">
            <label className="pgh-label" htmlFor={ids.repo}>
              Repository
            </label>
            <select id={ids.repo} className="pgh-select" value={repoId} onChange={(e) => setRepoId(e.target.value)}>
              <option value="">Select a repository…</option>
              {repos.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.full_name}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        <div className="pgh-field">
          <label className="pgh-label" htmlFor={ids.name}>
            Existing branch name
          </label>
          <input
            id={ids.name}
            ref={nameRef}
            className="pgh-input pgh-mono"
            value={name}
            spellCheck={false}
            autoComplete="off"
            placeholder="feat/DEMO-7-my-work"
            onChange={(e) => setName(e.target.value)}
            aria-invalid={error ? true : undefined}
          />
        </div>
      </div>
      {error ? (
        <p className="pgh-error-text" role="alert">
          {error}
        </p>
      ) : null}
      <div className="pgh-row pgh-wrap">
        <Button type="submit" loading={link.isPending}>
          {link.isPending ? "Linking…" : "Link branch"}
        </Button>
        <Button variant="ghost" onClick={onDone} disabled={link.isPending}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
