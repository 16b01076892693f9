import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { type Branch, errorMessage, type LinkedRepository } from "../api";
import { taskKey } from "../branchName";
import type { CoreProject, CoreTask } from "../core";
import { isForbidden, keys } from "../queries";
import { useClients } from "../root";
import { Button } from "../ui/Button";

export interface OpenPrFormProps {
  projectId: string;
  taskId: string;
  branch: Branch;
  repo: LinkedRepository | undefined;
  task: CoreTask | undefined;
  project: CoreProject | undefined;
  onDone: () => void;
  onForbidden: () => void;
}

/** `DEMO-7 Connect GitHub to Paca` (empty until the task and project are known). */
export function suggestPrTitle(task: CoreTask | undefined, project: CoreProject | undefined): string {
  if (!task || !project) return "";
  return `${taskKey(project.task_id_prefix, task.task_number)} ${task.title}`.trim();
}

/** Opens a pull request from a linked branch (or links the open one GitHub already has). */
export function OpenPrForm({ projectId, taskId, branch, repo, task, project, onDone, onForbidden }: OpenPrFormProps) {
  const { api } = useClients();
  const qc = useQueryClient();
  const ids = { title: useId(), base: useId(), body: useId() };
  const suggested = suggestPrTitle(task, project);
  const [title, setTitle] = useState(suggested);
  const touched = useRef(false);
  const [base, setBase] = useState(repo?.default_branch ?? "");
  const [body, setBody] = useState("");
  const [invalid, setInvalid] = useState<string | null>(null);
  const titleRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!touched.current && suggested) setTitle(suggested);
  }, [suggested]);
  useEffect(() => titleRef.current?.focus(), []);

  const open = useMutation({
    mutationFn: () =>
      api.createPullRequest(projectId, taskId, branch.repo_id, {
        title: title.trim(),
        head_branch: branch.branch_name,
        ...(base.trim() ? { base_branch: base.trim() } : {}),
        ...(body.trim() ? { body } : {}),
      }),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.prs(projectId, taskId) });
      onDone();
    },
    onError: (e) => {
      if (isForbidden(e)) onForbidden();
    },
  });

  const submit = () => {
    if (open.isPending) return;
    if (!title.trim()) return setInvalid("Enter a title.");
    if (base.trim() === branch.branch_name) return setInvalid("The base branch must differ from the branch itself.");
    setInvalid(null);
    open.mutate();
  };

  const error = invalid ?? (open.error ? errorMessage(open.error) : null);

  return (
    <form
      className="pgh-form"
      aria-label={`Open a pull request from ${branch.branch_name}`}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.preventDefault();
          onDone();
        } else if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && e.target instanceof HTMLTextAreaElement) {
          e.preventDefault();
          submit();
        }
      }}
    >
      <div className="pgh-field">
        <label className="pgh-label" htmlFor={ids.title}>
          Pull request title
        </label>
        <input
          id={ids.title}
          ref={titleRef}
          className="pgh-input"
          value={title}
          autoComplete="off"
          placeholder={task ? "" : "Loading the task…"}
          onChange={(e) => {
            touched.current = true;
            setTitle(e.target.value);
          }}
          aria-invalid={error ? true : undefined}
        />
      </div>
      <div className="pgh-field">
        <label className="pgh-label" htmlFor={ids.base}>
          Base branch
        </label>
        <input
          id={ids.base}
          className="pgh-input pgh-mono"
          value={base}
          spellCheck={false}
          autoComplete="off"
          placeholder={repo?.default_branch ?? "main"}
          onChange={(e) => setBase(e.target.value)}
        />
        <span className="pgh-hint">
          Merges <span className="pgh-mono">{branch.branch_name}</span> into {base.trim() || repo?.default_branch || "the default branch"}.
        </span>
      </div>
      <div className="pgh-field">
        <label className="pgh-label" htmlFor={ids.body}>
          Description <span className="pgh-muted">(optional)</span>
        </label>
        <textarea
          id={ids.body}
          className="pgh-textarea"
          value={body}
          rows={3}
          placeholder="Markdown; Ctrl+Enter submits"
          onChange={(e) => setBody(e.target.value)}
        />
      </div>
      {error ? (
        <p className="pgh-error-text" role="alert">
          {error}
        </p>
      ) : null}
      <div className="pgh-row pgh-wrap">
        <Button type="submit" loading={open.isPending}>
          {open.isPending ? "Opening…" : "Open pull request on GitHub"}
        </Button>
        <Button variant="ghost" onClick={onDone} disabled={open.isPending}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
