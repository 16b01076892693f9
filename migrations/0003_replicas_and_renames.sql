-- Correct under several API replicas, redeliveries and renamed repositories.
-- Idempotent like 0002: every statement can run again without effect. Statements the table
-- IR does not model (data fixes, DROP CONSTRAINT, expression indexes) sit in DO blocks.

-- One row per GitHub repository and project, whatever its name: racing links of the same
-- repository are decided by a unique index (the loser's INSERT … ON CONFLICT gets no row).
-- Rows a race may already have duplicated keep their data but lose the id (the oldest row
-- keeps it) so the index can be built; a signed delivery backfills the id again.
--
-- A name identifies a repository only until it is renamed: a new repository may take the old
-- name while the old row still carries it, so names stay unique only among rows whose GitHub
-- id is not known (rows linked before 0002).
DO $$
BEGIN
    UPDATE github_repositories r SET github_repo_id = NULL
    WHERE r.github_repo_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM github_repositories o
        WHERE o.project_id = r.project_id AND o.github_repo_id = r.github_repo_id
          AND (o.created_at, o.id) < (r.created_at, r.id)
    );
    ALTER TABLE github_repositories
        DROP CONSTRAINT IF EXISTS github_repositories_project_id_full_name_key;
    CREATE UNIQUE INDEX IF NOT EXISTS uq_github_repositories_project_full_name_legacy
        ON github_repositories (project_id, lower(full_name)) WHERE github_repo_id IS NULL;
END
$$;

CREATE UNIQUE INDEX IF NOT EXISTS uq_github_repositories_project_github_repo_id
    ON github_repositories (project_id, github_repo_id);

-- GitHub's `repository.updated_at` of the payload the names were last taken from: a redelivered
-- old payload must not rename the row back. Nullable: rows get it from their next delivery.
ALTER TABLE github_repositories ADD COLUMN IF NOT EXISTS github_repo_updated_at TIMESTAMPTZ;

-- A delivery claim is a lease: `received_at` is when it was (re)claimed, `completed_at` when
-- its work finished. A claim whose work never finished (budget exhausted, trap) expires, so
-- GitHub's redelivery is processed instead of being answered `duplicate` forever.
ALTER TABLE github_webhook_deliveries ADD COLUMN IF NOT EXISTS completed_at TIMESTAMPTZ;

-- Claims made before the lease existed were released on failure by the code that made them.
DO $$
BEGIN
    UPDATE github_webhook_deliveries SET completed_at = received_at
    WHERE completed_at IS NULL AND received_at < NOW() - INTERVAL '1 hour';
END
$$;

-- Retention: the plugin deletes claims older than GitHub's redelivery window, in small batches.
CREATE INDEX IF NOT EXISTS idx_github_webhook_deliveries_received_at
    ON github_webhook_deliveries (received_at);
