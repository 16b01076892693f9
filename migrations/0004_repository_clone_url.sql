-- GitHub's own clone URL and visibility of each linked repository, stored at link time so the
-- repository capability never rebuilds a URL from the name (wrong on GitHub Enterprise Server).
-- Nullable: rows linked before this migration get them from GitHub on their next use by
-- listRepositories / getCloneInfo (one GET /repos/{owner}/{repo} each, then stored).
ALTER TABLE github_repositories ADD COLUMN IF NOT EXISTS clone_url TEXT;
ALTER TABLE github_repositories ADD COLUMN IF NOT EXISTS private BOOLEAN;
