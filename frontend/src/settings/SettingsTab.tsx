import { useState } from "react";
import { isForbidden, useIntegration, useLinkedRepos } from "../queries";
import { IconCheck, IconInfo, IconLock, IconMark } from "../ui/icons";
import { AddRepoDialog } from "./AddRepoDialog";
import { LinkedRepos } from "./LinkedRepos";
import { TokenCard } from "./TokenCard";

function Steps({ connected, linked }: { connected: boolean; linked: boolean }) {
  const step = (n: number, label: string, done: boolean) => (
    <li className={`pgh-step ${done ? "pgh-step-done" : "pgh-step-pending"}`}>
      <span className="pgh-step-dot" aria-hidden="true">
        {done ? <IconCheck /> : n}
      </span>
      <span>
        {label}
        <span className="pgh-sr-only">{done ? " (done)" : " (to do)"}</span>
      </span>
    </li>
  );
  return (
    <ol className="pgh-steps" aria-label="Setup progress">
      {step(1, "Connect a GitHub token", connected)}
      <li className="pgh-step-line" aria-hidden="true" />
      {step(2, "Link a repository", linked)}
    </ol>
  );
}

export function SettingsTab({ projectId, canEdit }: { projectId: string; canEdit: boolean }) {
  const integration = useIntegration(projectId);
  const connected = integration.data?.connected === true;
  const repos = useLinkedRepos(projectId, connected);
  // A 403 from a change means the caller may look but not touch: switch to read-only.
  const [forbidden, setForbidden] = useState(false);
  const editable = canEdit && !forbidden;
  const [adding, setAdding] = useState(false);
  const readForbidden = isForbidden(integration.error);

  return (
    <div className="pgh-stack">
      <div className="pgh-card">
        <div className="pgh-header">
          <span className="pgh-logo">
            <IconMark className="pgh-icon-lg" />
          </span>
          <div className="pgh-stack-sm">
            <h2 className="pgh-title">GitHub integration</h2>
            <p className="pgh-muted">
              Connect GitHub to track pull requests and create branches from tasks. Paca keeps their state current through
              webhooks; you can link several repositories.
            </p>
          </div>
        </div>
        {!readForbidden ? <Steps connected={connected} linked={(repos.data?.length ?? 0) > 0} /> : null}
      </div>

      {!editable && !readForbidden ? (
        <div className="pgh-alert" role="note">
          <IconLock />
          <span>
            You can view this integration. Changing it needs the <strong>Manage GitHub integration</strong> permission of this
            project.
          </span>
        </div>
      ) : null}

      <TokenCard
        projectId={projectId}
        integration={integration.data}
        loading={integration.isPending}
        loadError={integration.error}
        onRetry={() => void integration.refetch()}
        editable={editable}
        onForbidden={() => setForbidden(true)}
        onSaved={() => setAdding(true)}
      />

      {connected ? (
        <LinkedRepos projectId={projectId} editable={editable} onAdd={() => setAdding(true)} onForbidden={() => setForbidden(true)} />
      ) : null}

      {!connected && integration.isSuccess && editable ? (
        <div className="pgh-alert pgh-alert-dashed">
          <IconInfo />
          <span>No GitHub integration is configured for this project yet.</span>
        </div>
      ) : null}

      {adding && editable && connected ? (
        <AddRepoDialog
          projectId={projectId}
          linked={repos.data ?? []}
          onClose={() => setAdding(false)}
          onForbidden={() => setForbidden(true)}
        />
      ) : null}
    </div>
  );
}
