// What the user may paste into "Link pull request": a number (`42`, `#42`) or a GitHub PR URL.

export type PrRef =
  | { kind: "number"; number: number }
  | { kind: "url"; owner: string; repo: string; number: number }
  | { kind: "invalid" };

const MAX_PR = 2_147_483_647;

function prNumber(s: string): number | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= MAX_PR ? n : undefined;
}

export function parsePrRef(input: string): PrRef {
  const s = input.trim();
  const bare = prNumber(s.startsWith("#") ? s.slice(1) : s);
  if (bare !== undefined) return { kind: "number", number: bare };
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return { kind: "invalid" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { kind: "invalid" };
  // github.com or an Enterprise host: /<owner>/<repo>/pull/<n>[/files|/commits…]
  const m = /^\/([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)\/pull\/([0-9]+)(?:\/.*)?$/.exec(url.pathname);
  const n = m?.[3] !== undefined ? prNumber(m[3]) : undefined;
  if (!m || n === undefined || !m[1] || !m[2]) return { kind: "invalid" };
  return { kind: "url", owner: m[1], repo: m[2].replace(/\.git$/, ""), number: n };
}

/** The linked repository a URL points at (GitHub names are case-insensitive). */
export function findRepo<R extends { full_name: string }>(repos: readonly R[], owner: string, repo: string): R | undefined {
  const full = `${owner}/${repo}`.toLowerCase();
  return repos.find((r) => r.full_name.toLowerCase() === full);
}
