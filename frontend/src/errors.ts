// Human messages for every error the UI can meet. The plugin's own codes come from the spec
// (generated `ErrorCode`), so a code added to the spec is a type error here until it has a
// message; the host's codes are the ones Paca's middlewares and gateway answer with.
import type { components } from "./generated/api";

export type PluginErrorCode = components["schemas"]["ErrorCode"];

/** Codes Paca itself answers with before the plugin runs (auth, permissions, routing). */
export const HOST_ERROR_CODES = [
  "UNAUTHORIZED",
  "PASSWORD_CHANGE_REQUIRED",
  "PLUGIN_NOT_FOUND",
  "PLUGIN_ERROR",
  "PAYLOAD_TOO_LARGE",
  "NOT_FOUND",
] as const;
export type HostErrorCode = (typeof HOST_ERROR_CODES)[number];

/** Failures that never reached an answer with an error code. */
export type ClientErrorCode = "NETWORK_ERROR" | "UNEXPECTED_RESPONSE";

export type AnyErrorCode = PluginErrorCode | HostErrorCode | ClientErrorCode;

const PLUGIN_MESSAGES: Record<PluginErrorCode, string> = {
  BAD_REQUEST: "The request was not valid. Check the values you entered and try again.",
  INVALID_REPOSITORY_NAME: "That is not a valid GitHub repository name.",
  INVALID_BRANCH_NAME:
    "That is not a valid Git branch name (no spaces, “..”, “~”, “^”, “:”, or a trailing “/” or “.lock”).",
  WEBHOOK_SIGNATURE_INVALID: "The webhook delivery was not signed with this repository's secret.",
  FORBIDDEN: "You don't have permission to do this in this project.",
  GITHUB_TOKEN_INSUFFICIENT_PERMISSIONS:
    "The GitHub token lacks a permission this needs: it needs the repo scope (contents and pull requests) and admin:repo_hook.",
  ROUTE_NOT_FOUND: "This action is not available in the installed version of the GitHub plugin.",
  TASK_NOT_FOUND: "This task no longer exists.",
  GITHUB_INTEGRATION_NOT_FOUND:
    "No GitHub token is connected to this project. An admin can add one in Project settings → GitHub.",
  GITHUB_REPOSITORY_NOT_FOUND: "That repository is not linked to this project.",
  GITHUB_PR_NOT_FOUND: "No pull request with that number exists in the repository.",
  GITHUB_PR_LINK_NOT_FOUND: "That pull request is not linked to this task any more.",
  GITHUB_BRANCH_NOT_FOUND: "The source branch does not exist in the repository.",
  WEBHOOK_REPOSITORY_NOT_FOUND: "The webhook's repository is not linked to this project.",
  GITHUB_REPO_ALREADY_LINKED: "This repository is already linked to the project.",
  GITHUB_PR_ALREADY_LINKED: "This pull request is already linked to the task.",
  GITHUB_BRANCH_ALREADY_EXISTS: "A branch with this name already exists on GitHub. Choose another name.",
  GITHUB_BRANCH_ALREADY_LINKED: "This branch is already linked to the task.",
  GITHUB_INVALID_TOKEN:
    "GitHub rejected the token. Check that it is correct, not expired or revoked, and has the repo and admin:repo_hook scopes.",
  GITHUB_REPO_NOT_ACCESSIBLE:
    "The token cannot access this repository. Make sure it has the repo scope and access to the repository's owner.",
  GITHUB_WEBHOOK_URL_REQUIRED:
    "The plugin has no PUBLIC_URL configured, so GitHub could not deliver webhooks. Ask your Paca administrator to set it.",
  GITHUB_WEBHOOK_URL_NOT_PUBLIC:
    "GitHub cannot reach this Paca server: PUBLIC_URL must be a public HTTPS URL. Ask your Paca administrator.",
  GITHUB_PR_VALIDATION_FAILED:
    "GitHub refused the pull request: check that the branches exist, differ (at least one new commit), and that no such pull request is already open.",
  GITHUB_RATE_LIMITED: "GitHub's rate limit for this token is used up. Try again in a few minutes.",
  INTERNAL_ERROR: "Something went wrong in the GitHub plugin. Try again; if it keeps failing, tell your administrator.",
  ENCRYPTION_NOT_CONFIGURED:
    "The plugin's ENCRYPTION_KEY is missing or malformed, so tokens cannot be stored. Ask your Paca administrator.",
  GITHUB_WEBHOOK_CREATION_FAILED:
    "GitHub refused to create the webhook. The token needs admin:repo_hook and admin rights on the repository.",
  GITHUB_UNAVAILABLE: "GitHub could not be reached or failed. Try again in a moment.",
};

const HOST_MESSAGES: Record<HostErrorCode, string> = {
  UNAUTHORIZED: "Your session has expired. Sign in again.",
  PASSWORD_CHANGE_REQUIRED: "You must change your password before you can continue.",
  PLUGIN_NOT_FOUND: "The GitHub plugin is not installed or is disabled.",
  PLUGIN_ERROR: "The GitHub plugin failed while handling the request. Try again.",
  PAYLOAD_TOO_LARGE: "The request is too large.",
  NOT_FOUND: "Paca could not find what this asked for; it may have been deleted.",
};

const CLIENT_MESSAGES: Record<ClientErrorCode, string> = {
  NETWORK_ERROR: "Paca could not be reached. Check your connection and try again.",
  UNEXPECTED_RESPONSE: "Paca answered in an unexpected way. Try again.",
};

const MESSAGES: Record<AnyErrorCode, string> = { ...PLUGIN_MESSAGES, ...HOST_MESSAGES, ...CLIENT_MESSAGES };

export function isKnownErrorCode(code: unknown): code is AnyErrorCode {
  return typeof code === "string" && Object.prototype.hasOwnProperty.call(MESSAGES, code);
}

export function messageFor(code: AnyErrorCode): string {
  return MESSAGES[code];
}

/** Every code with a message (for tests and docs). */
export const ALL_ERROR_CODES = Object.keys(MESSAGES) as AnyErrorCode[];
export const PLUGIN_ERROR_CODES = Object.keys(PLUGIN_MESSAGES) as PluginErrorCode[];
