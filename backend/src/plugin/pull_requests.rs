//! Pull requests linked to tasks, and the PR cache they are read from.

use super::integration::not_connected;
use super::support::{Internal, InternalCodes, event};
use super::{Plugin, topics};
use crate::generated::api::*;
use crate::github::{GithubError, PullRequest as GithubPull};
use crate::host::Host;
use crate::sql;
use paca_plugin_sdk::error::{Declares, FitsIn};
use serde_json::{Value, json};
use uuid::Uuid;

/// The task, a repository of the same project and the project's token.
pub(super) struct TaskRepo {
    pub repo_id: Uuid,
    pub owner: String,
    pub repo_name: String,
    pub full_name: String,
    pub default_branch: String,
    /// Encrypted, as stored.
    pub access_token_enc: String,
}

fn dto<H: Host>(p: &Plugin<'_, H>, r: sql::PrRow) -> Result<Option<PullRequest>, Internal> {
    let Some(id) = r.id else { return Ok(None) };
    let incomplete = || {
        p.internal(
            "read a cached pull request",
            format!("row {id} is incomplete"),
        )
    };
    let state = r
        .state
        .as_deref()
        .and_then(PullRequestState::parse)
        .ok_or_else(incomplete)?;
    Ok(Some(PullRequest {
        id,
        project_id: r.project_id.ok_or_else(incomplete)?,
        repo_id: r.repo_id.ok_or_else(incomplete)?,
        repo_full_name: r.repo_full_name.unwrap_or_default(),
        pr_number: r.pr_number.ok_or_else(incomplete)?,
        github_pr_id: r.github_pr_id.ok_or_else(incomplete)?,
        title: r.title.unwrap_or_default(),
        state,
        html_url: r.html_url.unwrap_or_default(),
        head_branch: r.head_branch.unwrap_or_default(),
        base_branch: r.base_branch.unwrap_or_default(),
        author: r.author.unwrap_or_default(),
        merged_at: r.merged_at,
        created_at: r.created_at.ok_or_else(incomplete)?,
        updated_at: r.updated_at.ok_or_else(incomplete)?,
    }))
}

pub(super) fn task_not_found<O: Declares<code::TaskNotFound>>() -> ApiError<O> {
    ApiError::new(code::TaskNotFound, "no such task in this project")
}

/// One round trip: no row means the task is not in the project (or deleted); a row with a
/// null PR means the task has no PRs.
pub(super) fn list<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    task_id: Uuid,
) -> Result<Vec<PullRequest>, ApiError<op::ListTaskPullRequests>> {
    let rows = p.rows::<sql::ListTaskPrs>(
        "list the task's pull requests",
        &sql::ListTaskPrs::params(task_id, project_id),
    )?;
    if rows.is_empty() {
        return Err(task_not_found());
    }
    let mut out = Vec::new();
    for row in rows {
        out.extend(dto(p, row)?);
    }
    Ok(out)
}

/// The task, a repository of the same project and the project's token, in one round trip.
// Out of line: generic over the operation only in its error type, so it compiles to one
// body; inlined, every operation using it would carry a copy.
#[inline(never)]
pub(super) fn task_repo_context<H: Host, O>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    task_id: Uuid,
    repo_id: Uuid,
) -> Result<TaskRepo, ApiError<O>>
where
    O: Declares<code::TaskNotFound>
        + Declares<code::GithubIntegrationNotFound>
        + Declares<code::GithubRepositoryNotFound>,
    InternalCodes: FitsIn<O>,
{
    let ctx = p.row::<sql::TaskRepoContext>(
        "read the task and repository",
        &sql::TaskRepoContext::params(task_id, project_id, repo_id),
    )?;
    let ctx = ctx.ok_or_else(task_not_found)?;
    let token = ctx.access_token_enc.ok_or_else(not_connected)?;
    match (
        ctx.repo_id,
        ctx.owner,
        ctx.repo_name,
        ctx.full_name,
        ctx.default_branch,
    ) {
        (Some(id), Some(owner), Some(name), Some(full), Some(default_branch)) => Ok(TaskRepo {
            repo_id: id,
            owner,
            repo_name: name,
            full_name: full,
            default_branch,
            access_token_enc: token,
        }),
        _ => Err(ApiError::new(
            code::GithubRepositoryNotFound,
            "no such repository is linked to this project",
        )),
    }
}

/// The author's login as the cache stores it (empty when GitHub sends no user).
pub(super) fn author(pr: &GithubPull) -> &str {
    pr.user.as_ref().map_or("", |u| u.login.as_str())
}

pub(super) fn link<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    task_id: Uuid,
    body: LinkPullRequestRequest,
) -> Result<PullRequest, ApiError<op::LinkPullRequest>> {
    let key = p.key()?;
    let TaskRepo {
        repo_id,
        owner,
        repo_name: name,
        full_name,
        access_token_enc,
        ..
    } = task_repo_context(p, project_id, task_id, body.repo_id)?;
    let token = p.decrypt(&key, "decrypt the token", &access_token_enc)?;
    let number = body.pr_number;
    let pr = p
        .github(token)
        .get_pull(&owner, &name, number as u64)
        .map_err(|e| match e {
            GithubError::NotFound => ApiError::new(
                code::GithubPrNotFound,
                format!("pull request #{number} not found in {full_name}"),
            ),
            other => p.github_error("read the pull request", other),
        })?;
    let cached = cache(p, project_id, repo_id, &full_name, &pr)?;
    let linked = p.query::<sql::LinkPr>(
        "link the pull request",
        &sql::LinkPr::params(task_id, cached.id),
    )?;
    if linked.is_empty() {
        return Err(ApiError::new(
            code::GithubPrAlreadyLinked,
            format!("{full_name}#{number} is already linked to this task"),
        ));
    }
    p.emit(
        topics::PR_LINKED,
        pr_event(project_id, task_id, &cached, json!({ "source": "manual" })),
    );
    Ok(cached)
}

/// Inserts or refreshes the cached copy of `pr` and returns it as the API shows it.
pub(super) fn cache<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    repo_id: Uuid,
    full_name: &str,
    pr: &GithubPull,
) -> Result<PullRequest, Internal> {
    let row = p.row::<sql::UpsertPr>(
        "cache the pull request",
        &sql::UpsertPr::params(
            project_id,
            repo_id,
            pr.number,
            pr.id,
            &pr.title,
            pr.effective_state(),
            &pr.html_url,
            &pr.head.ref_name,
            &pr.base.ref_name,
            author(pr),
            pr.merged_at.as_deref(),
            pr.updated_at.as_deref(),
            full_name,
        ),
    )?;
    let cached = match row {
        Some(row) => dto(p, row)?,
        // The cache already holds a newer state of this PR (a webhook won the race).
        None => cached_pr(p, repo_id, pr.number)?,
    };
    cached.ok_or_else(|| p.internal("cache the pull request", "no cached row after the upsert"))
}

fn cached_pr<H: Host>(
    p: &Plugin<'_, H>,
    repo_id: Uuid,
    number: i64,
) -> Result<Option<PullRequest>, Internal> {
    let row = p.row::<sql::CachedPr>(
        "read the cached pull request",
        &sql::CachedPr::params(repo_id, number),
    )?;
    match row {
        Some(row) => dto(p, row),
        None => Ok(None),
    }
}

/// The payload of `github.pr_linked` / `github.pr_updated`: ids for the automation engine plus
/// what a rule needs to decide (number, state, URL).
pub(super) fn pr_event(project_id: Uuid, task_id: Uuid, pr: &PullRequest, extra: Value) -> Value {
    let mut payload = event(
        project_id,
        task_id,
        pr.repo_id,
        json!({
            "pull_request_id": pr.id.to_string(),
            "pr_number": pr.pr_number,
            "title": pr.title,
            "state": pr.state.as_str(),
            "html_url": pr.html_url,
            "head_branch": pr.head_branch,
        }),
    );
    if let (Value::Object(base), Value::Object(more)) = (&mut payload, extra) {
        base.extend(more);
    }
    payload
}

pub(super) fn unlink<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    task_id: Uuid,
    pr_id: Uuid,
) -> Result<(), ApiError<op::UnlinkPullRequest>> {
    let deleted = p.query::<sql::UnlinkPr>(
        "unlink the pull request",
        &sql::UnlinkPr::params(task_id, pr_id, project_id),
    )?;
    if !deleted.is_empty() {
        return Ok(());
    }
    // Only on failure: tell a missing task apart from a missing link.
    let task = p.query::<sql::TaskExists>(
        "read the task",
        &sql::TaskExists::params(task_id, project_id),
    )?;
    if task.is_empty() {
        return Err(task_not_found());
    }
    Err(ApiError::new(
        code::GithubPrLinkNotFound,
        "this pull request is not linked to this task",
    ))
}
