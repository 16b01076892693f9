//! The pull-request workflow of a task: open a PR and link it (idempotently), read its details
//! and diff, its CI state, comment, review, and link an existing branch.
//!
//! Every route resolves the task, the link, the PR and its repository inside the caller's
//! project in one query before it talks to GitHub, so a foreign id is a 404 and nothing else.

use super::branches::{branch_event, branch_url, check_branch_name};
use super::integration::not_connected;
use super::pull_requests::{TaskRepo, cache, pr_event, task_not_found, task_repo_context};
use super::support::{GithubFault, InternalCodes, KeyCodes};
use super::{Plugin, topics};
use crate::generated::api::*;
use crate::github::{GithubError, PullRequest as GithubPull};
use crate::host::Host;
use crate::sql;
use paca_plugin_sdk::error::{Declares, FitsIn};
use serde_json::json;
use uuid::Uuid;

/// Largest diff returned, in bytes: the response must fit the host's 1 MiB envelope after JSON
/// escaping and base64, next to a body of up to 65,536 characters.
pub const DIFF_MAX_BYTES: usize = 256 * 1024;
/// Largest JSON-escaped size of the returned diff (escaping can grow a byte up to six).
const DIFF_MAX_ESCAPED: usize = 320 * 1024;

/// A resolved PR with the decrypted token.
struct Target {
    pr_id: Uuid,
    repo_id: Uuid,
    number: u64,
    owner: String,
    repo_name: String,
    full_name: String,
    token: String,
}

fn link_not_found<O: Declares<code::GithubPrLinkNotFound>>() -> ApiError<O> {
    ApiError::new(
        code::GithubPrLinkNotFound,
        "this pull request is not linked to this task",
    )
}

/// The PR linked to the task, in one round trip: no row → no such task; no PR → not linked
/// (also when the PR or its repository belongs to another project).
// Out of line: generic over the operation only in its error type, so it compiles to one
// body; inlined, every operation using it would carry a copy.
#[inline(never)]
fn resolve<H: Host, O>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    task_id: Uuid,
    pr_id: Uuid,
) -> Result<Target, ApiError<O>>
where
    O: Declares<code::TaskNotFound>
        + Declares<code::GithubPrLinkNotFound>
        + Declares<code::GithubIntegrationNotFound>,
    InternalCodes: FitsIn<O>,
    KeyCodes: FitsIn<O>,
{
    let key = p.key()?;
    let row = p.row::<sql::ResolveLinkedPr>(
        "read the linked pull request",
        &sql::ResolveLinkedPr::params(task_id, project_id, pr_id),
    )?;
    let row = row.ok_or_else(task_not_found)?;
    let (Some(pr_id), Some(repo_id), Some(number), Some(owner), Some(repo_name), Some(full_name)) = (
        row.pr_id,
        row.repo_id,
        row.pr_number,
        row.owner,
        row.repo_name,
        row.full_name,
    ) else {
        return Err(link_not_found());
    };
    let stored = row.access_token_enc.ok_or_else(not_connected)?;
    let token = p.decrypt(&key, "decrypt the token", &stored)?;
    Ok(Target {
        pr_id,
        repo_id,
        number: number as u64,
        owner,
        repo_name,
        full_name,
        token,
    })
}

fn pr_not_found<O: Declares<code::GithubPrNotFound>>(t: &Target) -> ApiError<O> {
    ApiError::new(
        code::GithubPrNotFound,
        format!(
            "pull request #{} no longer exists in {} (or the token cannot see it)",
            t.number, t.full_name
        ),
    )
}

fn refused<O: Declares<code::GithubPrValidationFailed>>(
    what: &str,
    message: &str,
    details: &[String],
) -> ApiError<O> {
    let mut text = message.to_string();
    if !details.is_empty() {
        text.push_str(&format!(" ({})", details.join("; ")));
    }
    ApiError::new(
        code::GithubPrValidationFailed,
        format!("GitHub refused to {what}: {text}"),
    )
}

fn branch<O: Declares<code::InvalidBranchName>>(
    field: &str,
    raw: &str,
) -> Result<String, ApiError<O>> {
    let name = raw.trim().trim_start_matches("refs/heads/").to_string();
    check_branch_name(field, &name)?;
    Ok(name)
}

pub(super) enum Creation {
    Created(PullRequestCreation),
    Existing(PullRequestCreation),
}

pub(super) fn create<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    task_id: Uuid,
    repo_id: Uuid,
    body: CreatePullRequestRequest,
) -> Result<Creation, ApiError<op::CreatePullRequest>> {
    let title = body.title.trim().to_string();
    if title.is_empty() {
        return Err(ApiError::new(code::BadRequest, "`title` is blank"));
    }
    let head = branch("head_branch", &body.head_branch)?;
    let base = match &body.base_branch {
        Some(b) => Some(branch("base_branch", b)?),
        None => None,
    };
    let key = p.key()?;
    let TaskRepo {
        repo_id,
        owner,
        repo_name: name,
        full_name,
        default_branch,
        access_token_enc: stored,
    } = task_repo_context(p, project_id, task_id, repo_id)?;
    let base = base.unwrap_or(default_branch);
    let token = p.decrypt(&key, "decrypt the token", &stored)?;
    let gh = p.github(token);
    let opened = gh.create_pull(
        &owner,
        &name,
        &title,
        &head,
        &base,
        body.body.as_deref(),
        false,
    );
    let (pr, created): (GithubPull, bool) = match opened {
        Ok(d) => (d.pr, true),
        Err(GithubError::Validation { message, details })
            if format!("{message} {}", details.join(" "))
                .to_ascii_lowercase()
                .contains("already exists") =>
        {
            let open = gh
                .find_open_pulls(&owner, &name, &head, &base)
                .map_err(|e| p.github_fault("find the existing pull request", e))?;
            let existing = open.into_iter().next().ok_or_else(|| {
                refused(
                    "open the pull request",
                    &format!(
                        "a pull request from `{head}` already exists, but none is open into `{base}`"
                    ),
                    &[],
                )
            })?;
            (existing, false)
        }
        Err(GithubError::Validation { message, details }) => {
            return Err(refused("open the pull request", &message, &details));
        }
        // GitHub answers 404 when the token may read but not write the repository.
        Err(GithubError::NotFound) => {
            return Err(ApiError::new(
                code::GithubTokenInsufficientPermissions,
                format!(
                    "the token cannot open pull requests in {full_name} (it needs write access)"
                ),
            ));
        }
        Err(other) => return Err(p.github_error("open the pull request", other)),
    };
    let cached = cache(p, project_id, repo_id, &full_name, &pr)?;
    let inserted = p.query::<sql::LinkPr>(
        "link the pull request",
        &sql::LinkPr::params(task_id, cached.id),
    )?;
    let linked = !inserted.is_empty();
    if linked {
        let source = if created { "created" } else { "manual" };
        p.emit(
            topics::PR_LINKED,
            pr_event(project_id, task_id, &cached, json!({ "source": source })),
        );
    }
    let out = PullRequestCreation {
        pull_request: cached,
        created,
        linked,
    };
    Ok(if created {
        Creation::Created(out)
    } else {
        Creation::Existing(out)
    })
}

/// JSON-escaped length of one character (what `serde_json` writes for it).
fn escaped_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// Cuts `diff` to at most [`DIFF_MAX_BYTES`] (and [`DIFF_MAX_ESCAPED`] once escaped), at the
/// last line end that fits. Returns the text and whether it was cut.
pub(crate) fn bound_diff(diff: &str) -> (&str, bool) {
    let (mut raw, mut escaped) = (0, 0);
    let mut end = diff.len();
    for (i, c) in diff.char_indices() {
        if raw + c.len_utf8() > DIFF_MAX_BYTES || escaped + escaped_len(c) > DIFF_MAX_ESCAPED {
            end = i;
            break;
        }
        raw += c.len_utf8();
        escaped += escaped_len(c);
    }
    if end == diff.len() {
        return (diff, false);
    }
    let cut = &diff[..end];
    // Keep whole lines when there is at least one line end to cut at.
    match cut.rfind('\n') {
        Some(nl) => (&diff[..=nl], true),
        None => (cut, true),
    }
}

pub(super) fn details<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    task_id: Uuid,
    pr_id: Uuid,
) -> Result<PullRequestDetails, ApiError<op::GetPullRequestDetails>> {
    let t = resolve(p, project_id, task_id, pr_id)?;
    let gh = p.github(t.token.clone());
    let map = |e: GithubError| match e {
        GithubError::NotFound => pr_not_found(&t),
        other => p.github_error("read the pull request", other),
    };
    let d = gh
        .get_pull_details(&t.owner, &t.repo_name, t.number)
        .map_err(map)?;
    let diff = gh
        .get_pull_diff(&t.owner, &t.repo_name, t.number)
        .map_err(map)?;
    // Keep the cache current while we have GitHub's view at hand.
    let cached = cache(p, project_id, t.repo_id, &t.full_name, &d.pr)?;
    let (shown, truncated) = bound_diff(&diff);
    Ok(PullRequestDetails {
        id: t.pr_id,
        repo_id: t.repo_id,
        repo_full_name: t.full_name.clone(),
        pr_number: t.number as i32,
        title: d.pr.title.clone(),
        body: d.body.unwrap_or_default(),
        state: cached.state,
        draft: d.draft,
        mergeable: d.mergeable,
        mergeable_state: d.mergeable_state.unwrap_or_else(|| "unknown".into()),
        author: d.pr.user.map(|u| u.login).unwrap_or_default(),
        head_branch: d.pr.head.ref_name,
        head_sha: d.pr.head.sha,
        base_branch: d.pr.base.ref_name,
        additions: d.additions,
        deletions: d.deletions,
        changed_files: d.changed_files,
        html_url: d.pr.html_url,
        diff: shown.to_string(),
        diff_truncated: truncated,
        diff_size: diff.len() as i64,
    })
}

/// The state one check contributes: `None` when it passed (or does not count).
fn check_state(status: &str, conclusion: Option<&str>) -> Option<CiState> {
    match (status, conclusion) {
        (_, Some("success" | "neutral" | "skipped")) => None,
        (
            _,
            Some(
                "failure" | "error" | "timed_out" | "cancelled" | "action_required"
                | "startup_failure" | "stale",
            ),
        ) => Some(CiState::Failure),
        _ => Some(CiState::Pending),
    }
}

/// Folds individual checks: any failure → failure, else any pending → pending, else success;
/// no checks at all → unknown.
pub(crate) fn overall(checks: &[CiCheck]) -> CiState {
    if checks.is_empty() {
        return CiState::Unknown;
    }
    let states: Vec<CiState> = checks
        .iter()
        .filter_map(|c| check_state(&c.status, c.conclusion.as_deref()))
        .collect();
    if states.contains(&CiState::Failure) {
        CiState::Failure
    } else if states.contains(&CiState::Pending) {
        CiState::Pending
    } else {
        CiState::Success
    }
}

/// A head commit GitHub no longer knows (force-pushed away) simply has no checks.
fn none_if_missing<H: Host, T>(
    p: &Plugin<'_, H>,
    r: Result<Vec<T>, GithubError>,
    what: &str,
) -> Result<Vec<T>, GithubFault> {
    match r {
        Ok(v) => Ok(v),
        Err(GithubError::NotFound) => Ok(Vec::new()),
        Err(e) => Err(p.github_fault(what, e)),
    }
}

pub(super) fn ci_status<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    task_id: Uuid,
    pr_id: Uuid,
) -> Result<CiStatus, ApiError<op::GetPullRequestCiStatus>> {
    let t = resolve(p, project_id, task_id, pr_id)?;
    let gh = p.github(t.token.clone());
    let pr = gh
        .get_pull(&t.owner, &t.repo_name, t.number)
        .map_err(|e| match e {
            GithubError::NotFound => pr_not_found(&t),
            other => p.github_error("read the pull request", other),
        })?;
    let sha = pr.head.sha;
    let runs = none_if_missing(
        p,
        gh.check_runs(&t.owner, &t.repo_name, &sha),
        "read the check runs",
    )?;
    let statuses = none_if_missing(
        p,
        gh.commit_statuses(&t.owner, &t.repo_name, &sha),
        "read the commit statuses",
    )?;
    let mut checks: Vec<CiCheck> = runs
        .into_iter()
        .map(|r| CiCheck {
            name: r.name,
            kind: "check_run".into(),
            status: r.status,
            conclusion: r.conclusion,
            url: r.html_url,
        })
        .collect();
    checks.extend(statuses.into_iter().map(|s| {
        let pending = s.state == "pending";
        CiCheck {
            name: s.context,
            kind: "status".into(),
            status: if pending { "pending" } else { "completed" }.into(),
            conclusion: (!pending).then_some(s.state),
            url: s.target_url,
        }
    }));
    Ok(CiStatus {
        state: overall(&checks),
        head_sha: sha,
        checks,
    })
}

pub(super) fn comment<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    task_id: Uuid,
    pr_id: Uuid,
    body: PullRequestCommentRequest,
) -> Result<PullRequestComment, ApiError<op::CommentOnPullRequest>> {
    if body.body.trim().is_empty() {
        return Err(ApiError::new(code::BadRequest, "`body` is blank"));
    }
    let t = resolve(p, project_id, task_id, pr_id)?;
    let posted = p
        .github(t.token.clone())
        .create_issue_comment(&t.owner, &t.repo_name, t.number, &body.body)
        .map_err(|e| match e {
            GithubError::NotFound => pr_not_found(&t),
            GithubError::Validation { message, details } => {
                refused("add the comment", &message, &details)
            }
            other => p.github_error("comment on the pull request", other),
        })?;
    Ok(PullRequestComment {
        id: posted.id,
        html_url: posted.html_url,
        author: posted.user.map(|u| u.login).unwrap_or_default(),
        created_at: posted.created_at.unwrap_or_default(),
    })
}

pub(super) fn review<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    task_id: Uuid,
    pr_id: Uuid,
    body: PullRequestReviewRequest,
) -> Result<PullRequestReview, ApiError<op::ReviewPullRequest>> {
    let text = body.body.as_deref().map(str::trim).unwrap_or("");
    if body.event != ReviewEvent::Approve && text.is_empty() {
        return Err(ApiError::new(
            code::BadRequest,
            format!("`body` is required for a {} review", body.event.as_str()),
        ));
    }
    let t = resolve(p, project_id, task_id, pr_id)?;
    let posted = p
        .github(t.token.clone())
        .create_review(
            &t.owner,
            &t.repo_name,
            t.number,
            body.event.as_str(),
            body.body.as_deref(),
        )
        .map_err(|e| match e {
            GithubError::NotFound => pr_not_found(&t),
            GithubError::Validation { message, details } => {
                refused("submit the review", &message, &details)
            }
            other => p.github_error("review the pull request", other),
        })?;
    Ok(PullRequestReview {
        id: posted.id,
        state: posted.state.unwrap_or_default(),
        html_url: posted.html_url,
        author: posted.user.map(|u| u.login).unwrap_or_default(),
    })
}

pub(super) fn link_branch<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    task_id: Uuid,
    body: LinkBranchRequest,
) -> Result<Branch, ApiError<op::LinkBranch>> {
    let name = branch("branch_name", &body.branch_name)?;
    let key = p.key()?;
    let TaskRepo {
        repo_id,
        owner,
        repo_name: repo,
        full_name,
        access_token_enc: stored,
        ..
    } = task_repo_context(p, project_id, task_id, body.repo_id)?;
    let token = p.decrypt(&key, "decrypt the token", &stored)?;
    p.github(token)
        .get_branch_head(&owner, &repo, &name)
        .map_err(|e| match e {
            GithubError::NotFound => ApiError::new(
                code::GithubBranchNotFound,
                format!("branch `{name}` does not exist in {full_name}"),
            ),
            other => p.github_error("read the branch", other),
        })?;
    let inserted = p.row::<sql::LinkCreatedBranch>(
        "link the branch",
        &sql::LinkCreatedBranch::params(task_id, repo_id, &name),
    )?;
    let Some(inserted) = inserted else {
        return Err(ApiError::new(
            code::GithubBranchAlreadyLinked,
            format!("`{name}` is already linked to this task"),
        ));
    };
    p.emit(
        topics::BRANCH_LINKED,
        branch_event(project_id, task_id, repo_id, &name, "manual"),
    );
    Ok(Branch {
        id: inserted.id,
        task_id,
        repo_id,
        html_url: branch_url(&full_name, &name),
        repo_full_name: full_name,
        branch_name: name,
        created_at: inserted.created_at,
    })
}
