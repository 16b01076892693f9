import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type KeyboardEvent, useId, useState } from "react";
import { errorMessage, type Integration } from "../api";
import { isForbidden, keys } from "../queries";
import { useClients } from "../root";
import { Button } from "../ui/Button";
import { ConfirmDialog } from "../ui/Dialog";
import { Badge, ErrorAlert, Skeleton } from "../ui/feedback";
import { IconCheckCircle, IconKey } from "../ui/icons";

export interface TokenCardProps {
  projectId: string;
  integration: Integration | undefined;
  loading: boolean;
  loadError: unknown;
  onRetry: () => void;
  editable: boolean;
  onForbidden: () => void;
  /** Called after a token was saved (the tab then opens the add-repository dialog). */
  onSaved: () => void;
}

export function TokenCard(p: TokenCardProps) {
  const { api } = useClients();
  const qc = useQueryClient();
  const inputId = useId();
  const hintId = useId();
  const [token, setToken] = useState("");
  const [show, setShow] = useState(false);
  const [confirming, setConfirming] = useState(false);

  const save = useMutation({
    mutationFn: (t: string) => api.setToken(p.projectId, t),
    onSuccess: async (data) => {
      qc.setQueryData(keys.integration(p.projectId), data);
      setToken("");
      setShow(false);
      await qc.invalidateQueries({ queryKey: keys.linkedRepos(p.projectId) });
      p.onSaved();
    },
    onError: (e) => {
      if (isForbidden(e)) p.onForbidden();
    },
  });
  const remove = useMutation({
    mutationFn: () => api.deleteToken(p.projectId),
    onSuccess: async () => {
      qc.removeQueries({ queryKey: keys.linkedRepos(p.projectId) });
      qc.removeQueries({ queryKey: keys.accessibleRepos(p.projectId) });
      await qc.invalidateQueries({ queryKey: keys.integration(p.projectId) });
      setConfirming(false);
    },
    onError: (e) => {
      if (isForbidden(e)) {
        setConfirming(false);
        p.onForbidden();
      }
    },
  });

  const submit = () => {
    const t = token.trim();
    if (t && p.editable && !save.isPending) save.mutate(t);
  };
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Enter") {
      e.preventDefault();
      submit();
    }
  };

  let body;
  if (p.loading) {
    body = (
      <div className="pgh-stack-sm" role="status" aria-label="Loading the integration">
        <Skeleton width="60%" />
        <Skeleton height={36} />
      </div>
    );
  } else if (p.loadError) {
    body = (
      <ErrorAlert
        action={
          <Button variant="outline" size="sm" onClick={p.onRetry}>
            Retry
          </Button>
        }
      >
        {errorMessage(p.loadError)}
      </ErrorAlert>
    );
  } else if (p.integration?.connected) {
    body = (
      <div className="pgh-row-between pgh-wrap">
        <div className="pgh-stack-sm">
          <div className="pgh-row">
            <Badge tone="success">
              <IconCheckCircle />
              Connected
            </Badge>
            <span style={{ fontWeight: 500 }}>Personal access token saved</span>
          </div>
          <p className="pgh-muted pgh-small">The token is stored encrypted and is never shown again.</p>
        </div>
        {p.editable ? (
          <Button variant="destructive-outline" size="sm" onClick={() => setConfirming(true)}>
            Remove token
          </Button>
        ) : null}
      </div>
    );
  } else if (!p.editable) {
    body = <p className="pgh-muted">No GitHub token is connected. A project admin can connect one here.</p>;
  } else {
    const error = save.error ? errorMessage(save.error) : null;
    body = (
      <div className="pgh-stack-sm">
        <p className="pgh-muted pgh-small" id={hintId}>
          Create a personal access token on GitHub with the <code className="pgh-chip">repo</code> scope (contents and pull
          requests) and <code className="pgh-chip">admin:repo_hook</code> (webhooks), then paste it here.
        </p>
        <label className="pgh-label" htmlFor={inputId}>
          Personal access token
        </label>
        <div className="pgh-row pgh-wrap" style={{ alignItems: "stretch" }}>
          <div className="pgh-input-group pgh-grow" style={{ minWidth: 220 }}>
            <input
              id={inputId}
              className="pgh-input pgh-mono"
              type={show ? "text" : "password"}
              placeholder="ghp_…"
              autoComplete="off"
              spellCheck={false}
              value={token}
              onChange={(e) => setToken(e.target.value)}
              onKeyDown={onKey}
              disabled={save.isPending}
              aria-invalid={error ? true : undefined}
              aria-describedby={hintId}
            />
            <Button
              variant="ghost"
              size="sm"
              className="pgh-input-addon"
              onClick={() => setShow((s) => !s)}
              aria-pressed={show}
              aria-label={show ? "Hide token" : "Show token"}
            >
              {show ? "Hide" : "Show"}
            </Button>
          </div>
          <Button onClick={submit} disabled={!token.trim()} loading={save.isPending}>
            {save.isPending ? "Saving…" : "Save token"}
          </Button>
        </div>
        {error ? (
          <p className="pgh-error-text" role="alert">
            {error}
          </p>
        ) : null}
      </div>
    );
  }

  return (
    <div className="pgh-card pgh-stack-sm">
      <div className="pgh-row">
        <IconKey />
        <h3 className="pgh-card-title">Personal access token</h3>
      </div>
      {body}
      {confirming ? (
        <ConfirmDialog
          title="Remove the GitHub token?"
          icon={<IconKey />}
          description="This unlinks every repository of the project, deletes their webhooks on GitHub and removes all branch and pull request links. It cannot be undone."
          confirmLabel="Remove token"
          pendingLabel="Removing…"
          destructive
          pending={remove.isPending}
          error={remove.error ? errorMessage(remove.error) : null}
          onConfirm={() => remove.mutate()}
          onCancel={() => {
            remove.reset();
            setConfirming(false);
          }}
        />
      ) : null}
    </div>
  );
}
