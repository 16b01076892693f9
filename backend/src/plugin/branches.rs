//! Branches linked to tasks: created on GitHub from Paca, or auto-linked from pushes.

use super::pull_requests::{TaskRepo, task_not_found, task_repo_context};
use super::support::event;
use super::support::repo_html_url;
use super::{Plugin, topics};
use crate::generated::api::*;
use crate::github::GithubError;
use crate::host::{Host, LogLevel};
use crate::sql;
use crate::validate;
use paca_plugin_sdk::error::Declares;
use serde_json::{Value, json};
use uuid::Uuid;

/// GitHub's web URL of a branch.
pub(super) fn branch_url(full_name: &str, branch: &str) -> String {
    format!("{}/tree/{branch}", repo_html_url(full_name))
}

pub(super) fn list<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    task_id: Uuid,
) -> Result<Vec<Branch>, ApiError<op::ListTaskBranches>> {
    let rows = p.rows::<sql::ListTaskBranches>(
        "list the task's branches",
        &sql::ListTaskBranches::params(task_id, project_id),
    )?;
    if rows.is_empty() {
        return Err(task_not_found());
    }
    let mut out = Vec::new();
    for row in rows {
        // A branch whose repository is gone is not shown (the cascade removes it anyway).
        if let (Some(id), Some(repo_id), Some(full), Some(name), Some(created_at)) = (
            row.id,
            row.repo_id,
            row.repo_full_name,
            row.branch_name,
            row.created_at,
        ) {
            out.push(Branch {
                id,
                task_id,
                repo_id,
                html_url: branch_url(&full, &name),
                repo_full_name: full,
                branch_name: name,
                created_at,
            });
        }
    }
    Ok(out)
}

pub(super) fn check_branch_name<O: Declares<code::InvalidBranchName>>(
    field: &str,
    name: &str,
) -> Result<(), ApiError<O>> {
    match validate::branch_name_problem(name) {
        None => Ok(()),
        Some(problem) => Err(ApiError::new(
            code::InvalidBranchName,
            format!("`{field}` {name:?} is not a valid branch name: {problem}"),
        )),
    }
}

pub(super) fn create<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    task_id: Uuid,
    body: CreateBranchRequest,
) -> Result<Branch, ApiError<op::CreateBranch>> {
    let branch = body
        .branch_name
        .trim()
        .trim_start_matches("refs/heads/")
        .to_string();
    check_branch_name("branch_name", &branch)?;
    if let Some(source) = &body.source_branch {
        check_branch_name("source_branch", source.trim())?;
    }
    let key = p.key()?;
    let TaskRepo {
        repo_id,
        owner,
        repo_name: name,
        full_name,
        default_branch,
        access_token_enc: stored,
    } = task_repo_context(p, project_id, task_id, body.repo_id)?;
    let source = body
        .source_branch
        .as_deref()
        .map(str::trim)
        .unwrap_or(&default_branch)
        .to_string();
    let token = p.decrypt(&key, "decrypt the token", &stored)?;
    let gh = p.github(token);
    let sha = gh
        .get_branch_head(&owner, &name, &source)
        .map_err(|e| match e {
            GithubError::NotFound => ApiError::new(
                code::GithubBranchNotFound,
                format!("source branch `{source}` not found in {full_name}"),
            ),
            other => p.github_error("read the source branch", other),
        })?;
    gh.create_ref(&owner, &name, &branch, &sha)
        .map_err(|e| match e {
            GithubError::Validation { message, details }
                if format!("{message} {}", details.join(" "))
                    .to_ascii_lowercase()
                    .contains("already exists") =>
            {
                ApiError::new(
                    code::GithubBranchAlreadyExists,
                    format!("branch `{branch}` already exists in {full_name}"),
                )
            }
            GithubError::NotFound => ApiError::new(
                code::GithubTokenInsufficientPermissions,
                format!("the token cannot create branches in {full_name} (it needs write access)"),
            ),
            GithubError::Validation { message, details } => {
                p.log(
                    LogLevel::Warn,
                    &format!("github: creating {branch} in {full_name}: {message} {details:?}"),
                );
                ApiError::new(
                    code::InvalidBranchName,
                    format!("GitHub refused the branch `{branch}`: {message}"),
                )
            }
            other => p.github_error("create the branch", other),
        })?;
    // GitHub created the branch just now, so an existing link can only come from its push
    // delivery, handled first (possibly by another replica): the user's branch exists and is
    // linked, which is success. The no-op update returns that row; `xmax = 0` tells them apart.
    let inserted = p.row::<sql::LinkBranch>(
        "link the branch",
        &sql::LinkBranch::params(task_id, repo_id, &branch),
    )?;
    let inserted =
        inserted.ok_or_else(|| p.internal("link the branch", "the upsert returned no row"))?;
    if inserted.inserted {
        p.emit(
            topics::BRANCH_LINKED,
            branch_event(project_id, task_id, repo_id, &branch, "created"),
        );
    }
    Ok(Branch {
        id: inserted.id,
        task_id,
        repo_id,
        html_url: branch_url(&full_name, &branch),
        repo_full_name: full_name,
        branch_name: branch,
        created_at: inserted.created_at,
    })
}

pub(super) fn branch_event(
    project_id: Uuid,
    task_id: Uuid,
    repo_id: Uuid,
    branch: &str,
    source: &str,
) -> Value {
    event(
        project_id,
        task_id,
        repo_id,
        json!({ "branch_name": branch, "source": source }),
    )
}
