// Hand-written presentation: short text an agent reads, keyed by the spec schema of the result
// (from tools.json), always carrying the ids that follow-up tools take. Unknown schemas still
// read well through the generic formatter, so a new operation needs no code here.

import type { ToolSpec } from "./spec";

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return v === undefined || v === null ? "" : String(v);
}

/** One line per item of a list (or a single object). */
const ITEM: Record<string, (v: Obj) => string> = {
  LinkedRepository: (r) =>
    `${str(r.full_name)} — repoId=${str(r.id)}; default branch ${str(r.default_branch)}; webhook ${
      r.webhook_active ? "active" : "inactive"
    }; ${str(r.html_url)}`,
  AccessibleRepository: (r) =>
    `${str(r.full_name)} (owner="${str(r.owner)}" repo_name="${str(r.repo_name)}"; default branch ${str(
      r.default_branch,
    )}${r.private ? "; private" : ""})${r.description ? ` — ${str(r.description)}` : ""}`,
  PullRequest: (p) =>
    `#${str(p.pr_number)} [${str(p.state)}] ${str(p.title)} — ${str(p.repo_full_name)} (${str(p.head_branch)} → ${str(
      p.base_branch,
    )}, by ${str(p.author)}); prId=${str(p.id)}; ${str(p.html_url)}`,
  Branch: (b) => `${str(b.branch_name)} — ${str(b.repo_full_name)}; ${str(b.html_url)}`,
};

/** Whole-result formatters for schemas that are more than an item. */
const WHOLE: Record<string, (v: Obj, tool: ToolSpec) => string> = {
  Integration: (i) =>
    i.connected
      ? `GitHub is connected to project ${str(i.project_id)} (token set ${str(i.updated_at ?? i.created_at)}).`
      : `GitHub is not connected to project ${str(i.project_id)}. The user can connect it in Project Settings → GitHub.`,
  IntegrationRemoval: (r) => {
    const failures = Array.isArray(r.webhook_failures) ? r.webhook_failures.filter(isObj) : [];
    const head = r.removed
      ? `GitHub disconnected: token, linked repositories and links deleted; ${str(r.webhooks_deleted)} webhook(s) deleted on GitHub.`
      : "GitHub was not connected to this project; nothing to delete.";
    const tail = failures.map((f) => `\n- webhook of ${str(f.full_name)} not deleted: ${str(f.reason)}`).join("");
    return head + tail;
  },
  RepositoryRemoval: (r) =>
    `Repository repoId=${str(r.id)} unlinked. ` +
    (r.webhook_deleted
      ? "Its webhook was deleted on GitHub."
      : `Its webhook could not be deleted on GitHub${r.webhook_error ? `: ${str(r.webhook_error)}` : ""}; the user may remove it in the repository's settings.`),
  AccessibleRepositoryPage: (p, tool) => {
    const items = Array.isArray(p.items) ? p.items.filter(isObj) : [];
    const lines = items.map((r) => `- ${ITEM.AccessibleRepository!(r)}`).join("\n");
    const more =
      p.next_page === null || p.next_page === undefined
        ? "This is the last page."
        : `More on page ${str(p.next_page)} (call again with page=${str(p.next_page)}).`;
    return `${tool.summary}, page ${str(p.page)} (${items.length}):\n${lines || "(none)"}\n${more}`;
  },
};

function generic(v: unknown, indent = ""): string {
  if (!isObj(v)) return `${indent}${typeof v === "string" ? v : JSON.stringify(v)}`;
  return Object.entries(v)
    .map(([k, x]) => {
      if (Array.isArray(x)) {
        const items = x.map((i) => `${indent}- ${isObj(i) ? oneLine(i) : str(i)}`).join("\n");
        return `${indent}${k}: ${x.length === 0 ? "(none)" : `\n${items}`}`;
      }
      return `${indent}${k}: ${isObj(x) ? oneLine(x) : str(x)}`;
    })
    .join("\n");
}

function oneLine(o: Obj): string {
  return Object.entries(o)
    .map(([k, x]) => `${k}=${isObj(x) || Array.isArray(x) ? JSON.stringify(x) : str(x)}`)
    .join("; ");
}

export function item(schema: string | null, v: unknown): string {
  const f = schema ? ITEM[schema] : undefined;
  return f && isObj(v) ? f(v) : isObj(v) ? oneLine(v) : str(v);
}

export function present(tool: ToolSpec, data: unknown): string {
  const r = tool.result;
  const schema = r?.schema ?? null;
  if (data === undefined || data === null || r?.status === 204) return `${tool.summary}: done.`;
  if (Array.isArray(data)) {
    if (data.length === 0) return `${tool.summary}: none.`;
    return `${tool.summary} (${data.length}):\n${data.map((d) => `- ${item(schema, d)}`).join("\n")}`;
  }
  const whole = schema ? WHOLE[schema] : undefined;
  if (whole && isObj(data)) return whole(data, tool);
  const body = schema && ITEM[schema] ? item(schema, data) : generic(data);
  return tool.http.method === "GET" ? body : `${tool.summary}: done.\n${body}`;
}
