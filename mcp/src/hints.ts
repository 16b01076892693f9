// What an agent should do next after each error code. The codes are the plugin's stable ones
// (ErrorCode in spec/openapi.yaml), the host's middleware codes, and this bundle's own.

const SETTINGS = "Project Settings → GitHub";

export const errorHints: Readonly<Record<string, string>> = {
  // the plugin's codes
  BAD_REQUEST:
    "Check the arguments against the tool's input schema: ids are Paca UUIDs (not names, keys or GitHub numbers), numbers are integers.",
  INVALID_REPOSITORY_NAME:
    'owner and repo_name are GitHub names, e.g. owner "octocat" and repo_name "hello-world"; github_list_accessible_repositories shows the exact ones.',
  INVALID_BRANCH_NAME:
    "Use a valid git branch name such as feat/PROJ-42-short-slug (no spaces, '..', '~', '^', ':', '?', '*', '[' or a trailing '/').",
  WEBHOOK_SIGNATURE_INVALID: "Webhook deliveries come from GitHub; an agent never needs to call the webhook route.",
  FORBIDDEN:
    "This API key lacks the permission in this project (managing the integration and repositories needs github:manage, usually a project admin; task tools need tasks:read / tasks:write). Ask the user or a project admin to do it, or to grant the permission; retrying will not help.",
  GITHUB_TOKEN_INSUFFICIENT_PERMISSIONS: `The project's GitHub token lacks a scope (it needs repo and admin:repo_hook). Ask the user to replace the token in ${SETTINGS}.`,
  ROUTE_NOT_FOUND: "The installed GitHub plugin does not have this operation; ask an administrator to update the plugin.",
  TASK_NOT_FOUND:
    "taskId must be the UUID of a task in this project (use list_tasks or get_task), not a key like PROJ-42.",
  GITHUB_INTEGRATION_NOT_FOUND: `GitHub is not connected to this project. Ask the user to connect GitHub in ${SETTINGS}, then try again.`,
  GITHUB_REPOSITORY_NOT_FOUND:
    "repoId must be the Paca id of a repository linked to this project: call github_list_linked_repositories (and github_link_repository if it is not linked yet).",
  GITHUB_PR_NOT_FOUND:
    "GitHub has no pull request with that number in that repository: check pr_number (the number in the pull request's URL) and repoId.",
  GITHUB_PR_LINK_NOT_FOUND:
    "prId must be the Paca id of a pull request linked to this task: call github_list_task_pull_requests to get it.",
  GITHUB_BRANCH_NOT_FOUND:
    "The source branch does not exist on GitHub: check its name, or omit source_branch to start from the default branch.",
  WEBHOOK_REPOSITORY_NOT_FOUND: "Webhook deliveries come from GitHub; an agent never needs to call the webhook route.",
  GITHUB_REPO_ALREADY_LINKED:
    "The repository is already linked; call github_list_linked_repositories to get its repoId and carry on.",
  GITHUB_PR_ALREADY_LINKED:
    "The pull request is already linked to this task; nothing to do (github_list_task_pull_requests shows it).",
  GITHUB_BRANCH_ALREADY_EXISTS:
    "A branch with that name already exists on GitHub: pick another name, or use the existing branch (github_list_task_branches shows the task's branches).",
  GITHUB_BRANCH_ALREADY_LINKED: "That branch is already linked to this task; nothing to do.",
  GITHUB_PR_VALIDATION_FAILED:
    "GitHub refused the pull request or review as given (for example no commits between head_branch and base_branch, a base branch that does not exist, or approving your own pull request): read GitHub's message, fix that and call again.",
  GITHUB_INVALID_TOKEN: `The project's GitHub token is invalid, expired or revoked. Ask the user to reconnect GitHub in ${SETTINGS}.`,
  GITHUB_REPO_NOT_ACCESSIBLE:
    "The project's token cannot see that repository (or it does not exist): check owner and repo_name with github_list_accessible_repositories, or ask the user for a token with access.",
  GITHUB_WEBHOOK_URL_REQUIRED:
    "The Paca server has no PUBLIC_URL, so GitHub could not deliver webhooks. Ask a Paca administrator to configure it; retrying will not help.",
  GITHUB_WEBHOOK_URL_NOT_PUBLIC:
    "GitHub cannot reach the Paca server's PUBLIC_URL. Ask a Paca administrator to configure a public URL; retrying will not help.",
  GITHUB_RATE_LIMITED: "GitHub's rate limit for this token is used up: wait a few minutes before calling again, and do not retry in a loop.",
  INTERNAL_ERROR: "The plugin failed unexpectedly: retry once, and if it fails again tell the user.",
  ENCRYPTION_NOT_CONFIGURED:
    "The plugin's ENCRYPTION_KEY is not configured on the Paca server. Ask a Paca administrator to set it; retrying will not help.",
  GITHUB_WEBHOOK_CREATION_FAILED:
    "GitHub refused to create the webhook: the token needs admin:repo_hook and admin access to the repository. Ask the user to check the token, then try again.",
  GITHUB_UNAVAILABLE: "GitHub did not answer properly: wait a minute and try again.",
  // the host's middlewares
  UNAUTHORIZED: "Paca rejected the MCP server's API key; tell the user the agent's Paca credentials need fixing.",
  PASSWORD_CHANGE_REQUIRED: "The Paca account behind this key must change its password before it can use the API; tell the user.",
  PLUGIN_NOT_FOUND: "The GitHub plugin is not installed or is disabled on this Paca server; tell the user.",
  // this bundle's own
  INVALID_ARGUMENTS: "Fix the arguments as the message says (see the tool's input schema) and call again.",
  UNKNOWN_TOOL: "Use one of the listed github_* tools.",
  NETWORK_ERROR: "Paca could not be reached: wait a moment and try again; if it persists, tell the user.",
  TIMEOUT: "The call took too long (GitHub may be slow): check with a read-only tool whether it took effect before retrying.",
};

export function hintFor(code: string): string {
  return Object.hasOwn(errorHints, code)
    ? (errorHints[code] as string)
    : "Read the message above; if it is unclear, tell the user what failed.";
}
