-- Improvements over the reference schema. 0001 is never edited; everything here is
-- idempotent so that applying 0001 and 0002 twice in a row succeeds.

-- Indexes for the queries the plugin actually runs (webhook fan-out, auto-link, FK cascades).
CREATE INDEX IF NOT EXISTS idx_github_task_pr_links_pull_request_id
    ON github_task_pr_links (pull_request_id);
CREATE INDEX IF NOT EXISTS idx_github_task_branches_repo_id_branch_name
    ON github_task_branches (repo_id, branch_name);
CREATE INDEX IF NOT EXISTS idx_github_pull_requests_project_id
    ON github_pull_requests (project_id);

-- GitHub's numeric repository id, so a renamed or transferred repository still matches.
-- Nullable: rows linked before this migration lack it until they are refreshed.
ALTER TABLE github_repositories ADD COLUMN IF NOT EXISTS github_repo_id BIGINT;
CREATE INDEX IF NOT EXISTS idx_github_repositories_github_repo_id
    ON github_repositories (github_repo_id);

-- GitHub's updated_at of the last applied pull_request payload: an older (out-of-order)
-- delivery must not roll the cached state back. Nullable: old rows have none.
ALTER TABLE github_pull_requests ADD COLUMN IF NOT EXISTS github_updated_at TIMESTAMPTZ;

-- Only the three states the plugin writes. Added once; a re-run finds the constraint.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint
        WHERE conname = 'github_pull_requests_state_check'
          AND conrelid = 'github_pull_requests'::regclass
    ) THEN
        ALTER TABLE github_pull_requests
            ADD CONSTRAINT github_pull_requests_state_check
            CHECK (state IN ('open', 'closed', 'merged'));
    END IF;
END
$$;

-- X-GitHub-Delivery ids already processed, so a redelivered webhook is applied once.
CREATE TABLE IF NOT EXISTS github_webhook_deliveries (
    delivery_id TEXT PRIMARY KEY,
    repo_id     UUID REFERENCES github_repositories(id) ON DELETE CASCADE,
    event       TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE INDEX IF NOT EXISTS idx_github_webhook_deliveries_repo_id
    ON github_webhook_deliveries (repo_id);
