// Exposed as `./GitHubSettingsTab` (extension point `project.settings.tab`).
// Paca passes `{ projectId, canEdit }`; `api`/`ui`/`meta` may come from other hosts and are unused.
import { PluginRoot } from "./root";
import { SettingsTab } from "./settings/SettingsTab";

export interface GitHubSettingsTabProps {
  projectId: string;
  canEdit?: boolean;
  api?: unknown;
  ui?: unknown;
  meta?: unknown;
}

export default function GitHubSettingsTab({ projectId, canEdit = true }: GitHubSettingsTabProps) {
  return (
    <PluginRoot>
      <SettingsTab projectId={projectId} canEdit={canEdit} />
    </PluginRoot>
  );
}
