//! Pull requests linked to tasks, and the PR cache they are read from.

use super::integration::not_connected;
use super::support::event;
use super::support::{row_type, uuid_param};
use super::{Plugin, topics};
use crate::generated::api::*;
use crate::github::{GithubError, PullRequest as GithubPull};
use crate::host::Host;
use serde_json::{Value, json};
use uuid::Uuid;

row_type!(
    /// A cached PR as the API returns it; `id` is null on the task-only row of a LEFT JOIN.
    PrRow {
        id: Option<Uuid>,
        project_id: Option<Uuid>,
        repo_id: Option<Uuid>,
        repo_full_name: Option<String>,
        pr_number: Option<i32>,
        github_pr_id: Option<i64>,
        title: Option<String>,
        state: Option<String>,
        html_url: Option<String>,
        head_branch: Option<String>,
        base_branch: Option<String>,
        author: Option<String>,
        merged_at: Option<String>,
        created_at: Option<String>,
        updated_at: Option<String>,
    }
);

row_type!(
    /// The task (always present when the row exists), the repository and the token.
    TaskRepoContext {
        repo_id: Option<Uuid>,
        owner: Option<String>,
        repo_name: Option<String>,
        full_name: Option<String>,
        default_branch: Option<String>,
        access_token_enc: Option<String>,
    }
);

/// The columns of a cached PR joined with its repository, as `PrRow` reads them.
pub(super) const PR_COLUMNS: &str = "pr.id, pr.project_id, pr.repo_id, r.full_name AS repo_full_name, pr.pr_number, \
    pr.github_pr_id, pr.title, pr.state, pr.html_url, pr.head_branch, pr.base_branch, pr.author, pr.merged_at, \
    pr.created_at, pr.updated_at";

fn dto<H: Host>(p: &Plugin<'_, H>, r: PrRow) -> Result<Option<PullRequest>, ApiError> {
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

pub(super) fn task_not_found() -> ApiError {
    ApiError::new(ErrorCode::TaskNotFound, "no such task in this project")
}

/// One round trip: no row means the task is not in the project (or deleted); a row with a
/// null PR means the task has no PRs.
pub(super) fn list<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    task_id: Uuid,
) -> Result<Vec<PullRequest>, ApiError> {
    let sql = format!(
        "SELECT {PR_COLUMNS} FROM tasks t \
         LEFT JOIN github_task_pr_links l ON l.task_id = t.id \
         LEFT JOIN github_pull_requests pr ON pr.id = l.pull_request_id AND pr.project_id = t.project_id \
         LEFT JOIN github_repositories r ON r.id = pr.repo_id \
         WHERE t.id = $1 AND t.project_id = $2 AND t.deleted_at IS NULL \
         ORDER BY l.created_at, l.id"
    );
    let rows: Vec<PrRow> = p.rows(
        "list the task's pull requests",
        &sql,
        &[uuid_param(task_id), uuid_param(project_id)],
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
pub(super) fn task_repo_context<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    task_id: Uuid,
    repo_id: Uuid,
) -> Result<(Uuid, String, String, String, String, String), ApiError> {
    let ctx: Option<TaskRepoContext> = p.row(
        "read the task and repository",
        "SELECT r.id AS repo_id, r.owner, r.repo_name, r.full_name, r.default_branch, i.access_token_enc \
         FROM tasks t \
         LEFT JOIN github_integrations i ON i.project_id = t.project_id \
         LEFT JOIN github_repositories r ON r.id = $3 AND r.project_id = t.project_id \
         WHERE t.id = $1 AND t.project_id = $2 AND t.deleted_at IS NULL",
        &[uuid_param(task_id), uuid_param(project_id), uuid_param(repo_id)],
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
        (Some(id), Some(owner), Some(name), Some(full), Some(default_branch)) => {
            Ok((id, owner, name, full, default_branch, token))
        }
        _ => Err(ApiError::new(
            ErrorCode::GithubRepositoryNotFound,
            "no such repository is linked to this project",
        )),
    }
}

/// Parameters of [`UPSERT_PR`] for a PR as GitHub describes it.
pub(super) fn upsert_params(project_id: Uuid, repo_id: Uuid, pr: &GithubPull) -> Vec<Value> {
    vec![
        uuid_param(project_id),
        uuid_param(repo_id),
        Value::from(pr.number),
        Value::from(pr.id),
        Value::String(pr.title.clone()),
        Value::String(pr.effective_state().to_string()),
        Value::String(pr.html_url.clone()),
        Value::String(pr.head.ref_name.clone()),
        Value::String(pr.base.ref_name.clone()),
        Value::String(
            pr.user
                .as_ref()
                .map(|u| u.login.clone())
                .unwrap_or_default(),
        ),
        pr.merged_at.clone().map_or(Value::Null, Value::String),
        pr.updated_at.clone().map_or(Value::Null, Value::String),
    ]
}

/// Inserts or refreshes a cached PR. The `WHERE` is the ordering guard: a payload older than
/// the cached one (GitHub's `updated_at`) changes nothing and returns no row.
pub(super) const UPSERT_PR: &str = "INSERT INTO github_pull_requests AS pr (project_id, repo_id, pr_number, \
    github_pr_id, title, state, html_url, head_branch, base_branch, author, merged_at, github_updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
    ON CONFLICT (repo_id, pr_number) DO UPDATE SET github_pr_id = EXCLUDED.github_pr_id, title = EXCLUDED.title, \
    state = EXCLUDED.state, html_url = EXCLUDED.html_url, head_branch = EXCLUDED.head_branch, \
    base_branch = EXCLUDED.base_branch, author = EXCLUDED.author, merged_at = EXCLUDED.merged_at, \
    github_updated_at = EXCLUDED.github_updated_at, updated_at = NOW() \
    WHERE pr.github_updated_at IS NULL OR EXCLUDED.github_updated_at IS NULL \
       OR EXCLUDED.github_updated_at >= pr.github_updated_at";

pub(super) fn link<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    task_id: Uuid,
    body: LinkPullRequestRequest,
) -> Result<PullRequest, ApiError> {
    let key = p.key()?;
    let (repo_id, owner, name, full_name, _, stored) =
        task_repo_context(p, project_id, task_id, body.repo_id)?;
    let token = p.decrypt(&key, "decrypt the token", &stored)?;
    let number = body.pr_number;
    let pr = p
        .github(token)
        .get_pull(&owner, &name, number as u64)
        .map_err(|e| match e {
            GithubError::NotFound => ApiError::new(
                ErrorCode::GithubPrNotFound,
                format!("pull request #{number} not found in {full_name}"),
            ),
            other => p.github_error("read the pull request", other),
        })?;
    let cached = cache(p, project_id, repo_id, &full_name, &pr)?;
    let linked = p.query(
        "link the pull request",
        "INSERT INTO github_task_pr_links (task_id, pull_request_id) VALUES ($1, $2) \
         ON CONFLICT (task_id, pull_request_id) DO NOTHING RETURNING id",
        &[uuid_param(task_id), uuid_param(cached.id)],
    )?;
    if linked.is_empty() {
        return Err(ApiError::new(
            ErrorCode::GithubPrAlreadyLinked,
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
) -> Result<PullRequest, ApiError> {
    let sql = format!(
        "{UPSERT_PR} RETURNING {}",
        PR_COLUMNS.replace(
            "r.full_name AS repo_full_name",
            "$13::text AS repo_full_name"
        )
    );
    let mut params = upsert_params(project_id, repo_id, pr);
    params.push(Value::String(full_name.to_string()));
    let row: Option<PrRow> = p.row("cache the pull request", &sql, &params)?;
    let cached = match row {
        Some(row) => dto(p, row)?,
        // The cache already holds a newer state of this PR (a webhook won the race).
        None => cached_pr(p, repo_id, pr.number as i32)?,
    };
    cached.ok_or_else(|| p.internal("cache the pull request", "no cached row after the upsert"))
}

fn cached_pr<H: Host>(
    p: &Plugin<'_, H>,
    repo_id: Uuid,
    number: i32,
) -> Result<Option<PullRequest>, ApiError> {
    let sql = format!(
        "SELECT {PR_COLUMNS} FROM github_pull_requests pr JOIN github_repositories r ON r.id = pr.repo_id \
         WHERE pr.repo_id = $1 AND pr.pr_number = $2"
    );
    let row: Option<PrRow> = p.row(
        "read the cached pull request",
        &sql,
        &[uuid_param(repo_id), Value::from(number)],
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
) -> Result<(), ApiError> {
    let deleted = p.query(
        "unlink the pull request",
        "DELETE FROM github_task_pr_links l USING tasks t, github_pull_requests pr \
         WHERE l.task_id = $1 AND l.pull_request_id = $2 AND t.id = l.task_id AND t.project_id = $3 \
         AND t.deleted_at IS NULL AND pr.id = l.pull_request_id AND pr.project_id = $3 RETURNING l.id",
        &[uuid_param(task_id), uuid_param(pr_id), uuid_param(project_id)],
    )?;
    if !deleted.is_empty() {
        return Ok(());
    }
    // Only on failure: tell a missing task apart from a missing link.
    let task = p.query(
        "read the task",
        "SELECT 1 FROM tasks WHERE id = $1 AND project_id = $2 AND deleted_at IS NULL",
        &[uuid_param(task_id), uuid_param(project_id)],
    )?;
    if task.is_empty() {
        return Err(task_not_found());
    }
    Err(ApiError::new(
        ErrorCode::GithubPrLinkNotFound,
        "this pull request is not linked to this task",
    ))
}
