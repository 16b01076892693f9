//! Paca's "repository" capability: the linked repositories with GitHub's clone URL, and the
//! token hand-out agents clone and push with (both behind `github:use`).
//!
//! The clone URL is the one GitHub reported at link time. A link made before it was stored
//! (migration 0004) is completed from GitHub the first time either route needs it, and then
//! stored: the URL is never rebuilt from the repository name.

use super::Plugin;
use super::pull_requests::task_not_found;
use super::support::{GithubCodes, InternalCodes, KeyCodes};
use crate::generated::api::*;
use crate::github::GithubError;
use crate::host::{Host, LogLevel};
use crate::sql::{self, RepoRow};
use paca_plugin_sdk::error::{Declares, FitsIn};
use serde_json::json;
use uuid::Uuid;

/// The task activity recorded for every token hand-out that names a task.
pub const CLONE_TOKEN_ACTIVITY: &str = "github.clone_token_issued";

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
// Out of line: generic over the operation only in its error type, so it compiles to one
// body; inlined, every operation using it would carry a copy.
#[inline(never)]
fn complete<H: Host, O: Declares<code::GithubRepoNotAccessible>>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    row: RepoRow,
    token: &mut Option<String>,
) -> Result<Option<Complete>, ApiError<O>>
where
    InternalCodes: FitsIn<O>,
    KeyCodes: FitsIn<O>,
    GithubCodes: FitsIn<O>,
{
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
                code::GithubRepoNotAccessible,
                format!("{full_name} no longer exists on GitHub or the token cannot access it"),
            ),
            other => p.github_error("read the repository", other),
        })?;
    if repo.clone_url.is_empty() {
        return Err(p
            .internal(
                "read the repository's clone URL",
                format!("GitHub sent no clone_url for {full_name}"),
            )
            .into());
    }
    p.exec::<sql::BackfillCloneUrl>(
        "store the clone URL",
        &sql::BackfillCloneUrl::params(
            &repo.clone_url,
            repo.private,
            &repo.default_branch,
            id,
            project_id,
        ),
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
) -> Result<Vec<CapabilityRepository>, ApiError<op::ListRepositories>> {
    let rows = p.rows::<sql::CapabilityRepositories>(
        "list linked repositories",
        &sql::CapabilityRepositories::params(project_id),
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
) -> Result<CloneInfo, ApiError<op::GetCloneInfo>> {
    let key = p.key()?;
    let row = p.row::<sql::CloneInfo>(
        "read the repository",
        &sql::CloneInfo::params(project_id, repo_id, task_id),
    )?;
    let row = row.ok_or_else(super::integration::not_connected)?;
    if row.task_found == Some(false) {
        return Err(task_not_found());
    }
    if row.id.is_none() {
        return Err(ApiError::new(
            code::GithubRepositoryNotFound,
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
