// Exposed as `./GitHubTaskSection` (extension point `task.detail.section`).
// Paca passes `{ projectId, taskId, canEdit }`; `api`/`ui`/`meta` may come from other hosts and are unused.
import { PluginRoot } from "./root";
import { TaskSection } from "./task/TaskSection";

export interface GitHubTaskSectionProps {
  projectId: string;
  taskId: string;
  canEdit?: boolean;
  api?: unknown;
  ui?: unknown;
  meta?: unknown;
}

export default function GitHubTaskSection({ projectId, taskId, canEdit = true }: GitHubTaskSectionProps) {
  return (
    <PluginRoot>
      <TaskSection projectId={projectId} taskId={taskId} canEdit={canEdit} />
    </PluginRoot>
  );
}
