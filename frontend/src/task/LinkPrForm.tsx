import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { errorMessage, type LinkedRepository } from "../api";
import { findRepo, parsePrRef } from "../prRef";
import { isForbidden, keys } from "../queries";
import { useClients } from "../root";
import { Button } from "../ui/Button";

export interface LinkPrFormProps {
  projectId: string;
  taskId: string;
  repos: readonly LinkedRepository[];
  onDone: () => void;
  onForbidden: () => void;
}

export function LinkPrForm({ projectId, taskId, repos, onDone, onForbidden }: LinkPrFormProps) {
  const { api } = useClients();
  const qc = useQueryClient();
  const ids = { repo: useId(), ref: useId(), hint: useId() };
  const [repoId, setRepoId] = useState(repos.length === 1 ? repos[0]!.id : "");
  const [input, setInput] = useState("");
  const [invalid, setInvalid] = useState<string | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  useEffect(() => inputRef.current?.focus(), []);

  const ref = parsePrRef(input);
  const urlRepo = ref.kind === "url" ? findRepo(repos, ref.owner, ref.repo) : undefined;
  const link = useMutation({
    mutationFn: (v: { repoId: string; number: number }) => api.linkPullRequest(projectId, taskId, v.repoId, v.number),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.prs(projectId, taskId) });
      setInput("");
      onDone();
    },
    onError: (e) => {
      if (isForbidden(e)) onForbidden();
    },
  });

  const submit = () => {
    if (link.isPending) return;
    if (ref.kind === "invalid") return setInvalid("Enter a pull request number or paste its GitHub URL.");
    if (ref.kind === "url") {
      if (!urlRepo) return setInvalid(`${ref.owner}/${ref.repo} is not linked to this project.`);
      setInvalid(null);
      return link.mutate({ repoId: urlRepo.id, number: ref.number });
    }
    if (!repoId) return setInvalid("Select a repository.");
    setInvalid(null);
    link.mutate({ repoId, number: ref.number });
  };

  const error = invalid ?? (link.error ? errorMessage(link.error) : null);

  return (
    <form
      className="pgh-form"
      aria-label="Link a pull request"
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
            <select
              id={ids.repo}
              className="pgh-select"
              value={urlRepo?.id ?? repoId}
              disabled={urlRepo !== undefined}
              onChange={(e) => setRepoId(e.target.value)}
            >
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
          <label className="pgh-label" htmlFor={ids.ref}>
            Pull request number or URL
          </label>
          <input
            id={ids.ref}
            ref={inputRef}
            className="pgh-input"
            value={input}
            autoComplete="off"
            spellCheck={false}
            placeholder="42 or https://github.com/owner/repo/pull/42"
            onChange={(e) => setInput(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={ids.hint}
          />
        </div>
      </div>
      <p id={ids.hint} className="pgh-hint" aria-live="polite">
        {urlRepo && ref.kind === "url" ? `Will link PR #${ref.number} from ${urlRepo.full_name}.` : ""}
      </p>
      {error ? (
        <p className="pgh-error-text" role="alert">
          {error}
        </p>
      ) : null}
      <div className="pgh-row">
        <Button type="submit" disabled={!input.trim()} loading={link.isPending}>
          {link.isPending ? "Linking…" : "Link pull request"}
        </Button>
        <Button variant="ghost" onClick={onDone} disabled={link.isPending}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
