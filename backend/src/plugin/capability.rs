//! Paca's "repository" capability: the linked repositories with GitHub's clone URL, and the
//! token hand-out agents clone and push with (both behind `github:use`).
//!
//! The clone URL is the one GitHub reported at link time. A link made before it was stored
//! (migration 0004) is completed from GitHub the first time either route needs it, and then
//! stored: the URL is never rebuilt from the repository name.

use super::Plugin;
use super::pull_requests::task_not_found;
use super::support::{row_type, uuid_param};
use crate::generated::api::*;
use crate::github::GithubError;
use crate::host::{Host, LogLevel};
use serde_json::{Value, json};
use uuid::Uuid;

/// The task activity recorded for every token hand-out that names a task.
pub const CLONE_TOKEN_ACTIVITY: &str = "github.clone_token_issued";

row_type!(
    /// A linked repository with the project's token; `id` is null when the project has a
    /// token but no (matching) repository.
    RepoRow {
        id: Option<Uuid>,
        owner: Option<String>,
        repo_name: Option<String>,
        full_name: Option<String>,
        default_branch: Option<String>,
        clone_url: Option<String>,
        private: Option<bool>,
        access_token_enc: String,
        task_found: Option<bool>,
    }
);

const REPO_COLUMNS: &str = "r.id, r.owner, r.repo_name, r.full_name, r.default_branch, r.clone_url, r.private, \
    i.access_token_enc";

/// A repository row with every field present (after any backfill).
struct Complete {
    id: Uuid,
    full_name: String,
    owner: String,
    repo_name: String,
    default_branch: String,
    clone_url: String,
    private: bool,
}

/// Completes a row linked before clone URLs were stored: one `GET /repos/{o}/{r}`, stored.
fn complete<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    row: RepoRow,
    token: &mut Option<String>,
) -> Result<Option<Complete>, ApiError> {
    let (Some(id), Some(owner), Some(repo_name), Some(full_name), Some(default_branch)) = (
        row.id,
        row.owner,
        row.repo_name,
        row.full_name,
        row.default_branch,
    ) else {
        return Ok(None);
    };
    if let (Some(clone_url), Some(private)) = (row.clone_url.clone(), row.private) {
        return Ok(Some(Complete {
            id,
            full_name,
            owner,
            repo_name,
            default_branch,
            clone_url,
            private,
        }));
    }
    let plain = match token {
        Some(t) => t.clone(),
        None => {
            let key = p.key()?;
            let t = p.decrypt(&key, "decrypt the token", &row.access_token_enc)?;
            *token = Some(t.clone());
            t
        }
    };
    let repo = p
        .github(plain)
        .get_repo(&owner, &repo_name)
        .map_err(|e| match e {
            GithubError::NotFound => ApiError::new(
                ErrorCode::GithubRepoNotAccessible,
                format!("{full_name} no longer exists on GitHub or the token cannot access it"),
            ),
            other => p.github_error("read the repository", other),
        })?;
    if repo.clone_url.is_empty() {
        return Err(p.internal(
            "read the repository's clone URL",
            format!("GitHub sent no clone_url for {full_name}"),
        ));
    }
    p.exec(
        "store the clone URL",
        "UPDATE github_repositories SET clone_url = $1, private = $2, default_branch = $3, updated_at = NOW() \
         WHERE id = $4 AND project_id = $5",
        &[
            Value::String(repo.clone_url.clone()),
            Value::Bool(repo.private),
            Value::String(repo.default_branch.clone()),
            uuid_param(id),
            uuid_param(project_id),
        ],
    )?;
    Ok(Some(Complete {
        id,
        full_name,
        owner,
        repo_name,
        default_branch: repo.default_branch,
        clone_url: repo.clone_url,
        private: repo.private,
    }))
}

pub(super) fn list<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
) -> Result<Vec<CapabilityRepository>, ApiError> {
    let rows: Vec<RepoRow> = p.rows(
        "list linked repositories",
        &format!(
            "SELECT {REPO_COLUMNS}, NULL::boolean AS task_found FROM github_integrations i \
             LEFT JOIN github_repositories r ON r.project_id = i.project_id \
             WHERE i.project_id = $1 ORDER BY r.created_at, r.id"
        ),
        &[uuid_param(project_id)],
    )?;
    let mut token = None;
    let mut out = Vec::new();
    for row in rows {
        if let Some(r) = complete(p, project_id, row, &mut token)? {
            out.push(CapabilityRepository {
                id: r.id,
                full_name: r.full_name,
                owner: r.owner,
                repo_name: r.repo_name,
                clone_url: r.clone_url,
                default_branch: r.default_branch,
                private: r.private,
            });
        }
    }
    Ok(out)
}

pub(super) fn clone_info<H: Host>(
    p: &Plugin<'_, H>,
    req: &crate::abi::envelope::Request,
    project_id: Uuid,
    repo_id: Uuid,
    task_id: Option<Uuid>,
) -> Result<CloneInfo, ApiError> {
    let key = p.key()?;
    let row: Option<RepoRow> = p.row(
        "read the repository",
        &format!(
            "SELECT {REPO_COLUMNS}, CASE WHEN $3::uuid IS NULL THEN NULL ELSE EXISTS (\
               SELECT 1 FROM tasks t WHERE t.id = $3::uuid AND t.project_id = i.project_id AND t.deleted_at IS NULL\
             ) END AS task_found FROM github_integrations i \
             LEFT JOIN github_repositories r ON r.id = $2 AND r.project_id = i.project_id \
             WHERE i.project_id = $1"
        ),
        &[
            uuid_param(project_id),
            uuid_param(repo_id),
            task_id.map_or(Value::Null, uuid_param),
        ],
    )?;
    let row = row.ok_or_else(super::integration::not_connected)?;
    if row.task_found == Some(false) {
        return Err(task_not_found());
    }
    if row.id.is_none() {
        return Err(ApiError::new(
            ErrorCode::GithubRepositoryNotFound,
            "no such repository is linked to this project",
        ));
    }
    let mut token = Some(p.decrypt(&key, "decrypt the token", &row.access_token_enc)?);
    let repo = complete(p, project_id, row, &mut token)?
        .ok_or_else(|| p.internal("read the repository", "incomplete repository row"))?;
    let token = token.unwrap_or_default();
    // The audit trail never carries the token: who, which repository, for which task.
    p.log(
        LogLevel::Info,
        &format!(
            "github: clone token for {} handed to caller {} (user {})",
            repo.full_name, req.caller_id, req.user_id
        ),
    );
    if let Some(task) = task_id {
        let content = json!({
            "repo_id": repo.id.to_string(),
            "full_name": repo.full_name,
            "caller_id": req.caller_id,
        });
        if let Err(e) = p
            .host
            .activity(&task.to_string(), CLONE_TOKEN_ACTIVITY, &content)
        {
            p.log(
                LogLevel::Warn,
                &format!("github: recording the clone-token hand-out on task {task} failed: {e}"),
            );
        }
    }
    Ok(CloneInfo {
        id: repo.id,
        full_name: repo.full_name,
        clone_url: repo.clone_url,
        token,
        expires_at: None,
    })
}
