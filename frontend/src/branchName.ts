// The branch name the task section suggests: `<type>/<PREFIX>-<number>-<slug>`. The key part is
// what links pull requests to the task automatically, so it comes first and is never cut.

export const BRANCH_TYPES = ["feat", "fix", "chore", "docs", "test", "refactor"] as const;
export type BranchType = (typeof BRANCH_TYPES)[number];

const SLUG_MAX = 30;

/** Lower-case, non-alphanumerics → `-`, no leading/trailing or doubled dashes, at most 30 chars. */
export function slugify(title: string): string {
  const slug = title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return slug.slice(0, SLUG_MAX).replace(/-+$/, "");
}

/** `DEMO-12` (or `12` when the project has no prefix). */
export function taskKey(prefix: string, taskNumber: number): string {
  const p = prefix.trim().toUpperCase();
  return p ? `${p}-${taskNumber}` : String(taskNumber);
}

export function suggestBranchName(type: BranchType, prefix: string, taskNumber: number, title: string): string {
  const slug = slugify(title);
  const key = taskKey(prefix, taskNumber);
  return `${type}/${key}${slug ? `-${slug}` : ""}`;
}

/** Switching the type pill rewrites only the part before the first `/`. */
export function withBranchType(name: string, type: BranchType): string {
  const slash = name.indexOf("/");
  return slash === -1 ? `${type}/${name}` : `${type}${name.slice(slash)}`;
}
