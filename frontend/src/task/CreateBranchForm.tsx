import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { errorMessage, type LinkedRepository } from "../api";
import { BRANCH_TYPES, type BranchType, suggestBranchName, withBranchType } from "../branchName";
import type { CoreProject, CoreTask } from "../core";
import { isForbidden, keys } from "../queries";
import { useClients } from "../root";
import { Button } from "../ui/Button";
import { CopyCommand } from "../ui/CopyCommand";

export interface CreateBranchFormProps {
  projectId: string;
  taskId: string;
  repos: readonly LinkedRepository[];
  task: CoreTask | undefined;
  project: CoreProject | undefined;
  onDone: () => void;
  onForbidden: () => void;
}

export function CreateBranchForm({ projectId, taskId, repos, task, project, onDone, onForbidden }: CreateBranchFormProps) {
  const { api } = useClients();
  const qc = useQueryClient();
  const ids = { name: useId(), repo: useId(), source: useId() };
  const [type, setType] = useState<BranchType>("feat");
  const suggested = task && project ? suggestBranchName(type, project.task_id_prefix, task.task_number, task.title) : "";
  const [name, setName] = useState(suggested);
  const touched = useRef(false);
  const [repoId, setRepoId] = useState(repos.length === 1 ? repos[0]!.id : "");
  const [source, setSource] = useState("");
  const [invalid, setInvalid] = useState<string | null>(null);
  const nameRef = useRef<HTMLInputElement>(null);

  // The task and project may arrive after the form opened: fill the suggestion in then.
  useEffect(() => {
    if (!touched.current && suggested) setName(suggested);
  }, [suggested]);
  useEffect(() => nameRef.current?.focus(), []);

  const repo = repos.find((r) => r.id === repoId);
  const create = useMutation({
    mutationFn: () =>
      api.createBranch(projectId, taskId, {
        repo_id: repoId,
        branch_name: name.trim(),
        ...(source.trim() ? { source_branch: source.trim() } : {}),
      }),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.branches(projectId, taskId) });
      onDone();
    },
    onError: (e) => {
      if (isForbidden(e)) onForbidden();
    },
  });

  const submit = () => {
    if (create.isPending) return;
    if (!name.trim()) return setInvalid("Enter a branch name.");
    if (!repoId) return setInvalid("Select a repository.");
    setInvalid(null);
    create.mutate();
  };

  const error = invalid ?? (create.error ? errorMessage(create.error) : null);
  const local = name.trim() ? `git checkout -b ${name.trim()} && git push -u origin ${name.trim()}` : "";

  return (
    <form
      className="pgh-form"
      aria-label="Create a branch"
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
      <div className="pgh-pills" role="radiogroup" aria-label="Branch type">
        {BRANCH_TYPES.map((t) => (
          <button
            key={t}
            type="button"
            role="radio"
            aria-checked={t === type}
            className="pgh-pill"
            onClick={() => {
              setType(t);
              setName((n) => (n ? withBranchType(n, t) : n));
            }}
          >
            {t}
          </button>
        ))}
      </div>
      <div className="pgh-field">
        <label className="pgh-label" htmlFor={ids.name}>
          Branch name
        </label>
        <input
          id={ids.name}
          ref={nameRef}
          className="pgh-input pgh-mono"
          value={name}
          spellCheck={false}
          autoComplete="off"
          placeholder={task ? "" : "Loading the task…"}
          onChange={(e) => {
            touched.current = true;
            setName(e.target.value);
          }}
          aria-invalid={error ? true : undefined}
        />
      </div>
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
          <label className="pgh-label" htmlFor={ids.source}>
            Source branch <span className="pgh-muted">(optional)</span>
          </label>
          <input
            id={ids.source}
            className="pgh-input pgh-mono"
            value={source}
            spellCheck={false}
            autoComplete="off"
            placeholder={repo?.default_branch ?? "main"}
            onChange={(e) => setSource(e.target.value)}
          />
        </div>
      </div>
      {error ? (
        <p className="pgh-error-text" role="alert">
          {error}
        </p>
      ) : null}
      <div className="pgh-row pgh-wrap">
        <Button type="submit" loading={create.isPending}>
          {create.isPending ? "Creating…" : "Create branch on GitHub"}
        </Button>
        <Button variant="ghost" onClick={onDone} disabled={create.isPending}>
          Cancel
        </Button>
      </div>
      {local ? (
        <div>
          <span className="pgh-hint">Or create it locally:</span>
          <CopyCommand command={local} label="Command to create the branch locally" />
        </div>
      ) : null}
    </form>
  );
}
