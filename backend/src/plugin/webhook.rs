//! `POST /projects/{projectId}/webhook`: GitHub deliveries.
//!
//! Order matters: find the repository *within the path's project*, verify the signature over
//! the raw bytes with that repository's secret (fail closed), and only then touch anything.
//! Deliveries with side effects are claimed by `X-GitHub-Delivery` first, so a redelivery (or
//! the same delivery reaching two Paca replicas) is applied once and emits no duplicate events.

use super::branches::branch_event;
use super::support::event;
use super::support::{row_type, uuid_param};
use super::{Plugin, topics};
use crate::abi::envelope::Request;
use crate::generated::api::*;
use crate::github::PullRequest as GithubPull;
use crate::host::{Host, LogLevel};
use crate::{signature, taskref};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

/// At most this many task keys from one branch name or title are looked up.
const MAX_KEYS: usize = 5;
const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

row_type!(HookRepo {
    id: Uuid,
    full_name: String,
    webhook_secret_enc: String,
    task_id_prefix: String
});

row_type!(Upserted {
    id: Uuid,
    linked_tasks: Value
});

row_type!(LinkedTask { task_id: Uuid });

#[derive(Deserialize)]
struct Envelope {
    repository: Option<RepositoryRef>,
}

#[derive(Deserialize)]
struct RepositoryRef {
    id: Option<i64>,
    full_name: Option<String>,
}

#[derive(Deserialize)]
struct PullRequestEvent {
    action: String,
    pull_request: GithubPull,
}

#[derive(Deserialize)]
struct PushEvent {
    #[serde(rename = "ref")]
    ref_name: String,
    #[serde(default)]
    created: bool,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    before: String,
    #[serde(default)]
    after: String,
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::BadRequest, message)
}

fn unauthorized(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::WebhookSignatureInvalid, message)
}

pub(super) fn receive<H: Host>(
    p: &Plugin<'_, H>,
    req: &Request,
    project_id: Uuid,
) -> Result<WebhookOutcome, ApiError> {
    let event = req
        .header("X-GitHub-Event")
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| bad_request("missing X-GitHub-Event header: not a GitHub delivery"))?
        .to_string();
    let delivery_id = req
        .header("X-GitHub-Delivery")
        .map(str::trim)
        .filter(|d| !d.is_empty() && d.len() <= 128)
        .map(str::to_string);
    // Only what selects the secret is read before the signature is checked.
    let envelope: Envelope = serde_json::from_slice(&req.body)
        .map_err(|e| bad_request(format!("the body is not a GitHub event payload: {e}")))?;
    let not_linked = || {
        ApiError::new(
            ErrorCode::WebhookRepositoryNotFound,
            "the delivery is not for a repository linked to this project",
        )
    };
    let repository = envelope.repository.ok_or_else(not_linked)?;
    let full_name = repository.full_name.unwrap_or_default();
    let repo: Option<HookRepo> = p.row(
        "find the webhook's repository",
        "SELECT r.id, r.full_name, r.webhook_secret_enc, p.task_id_prefix \
         FROM github_repositories r JOIN projects p ON p.id = r.project_id \
         WHERE r.project_id = $1 AND (r.github_repo_id = $2 OR lower(r.full_name) = lower($3)) \
         ORDER BY (r.github_repo_id = $2) DESC NULLS LAST, r.created_at LIMIT 1",
        &[
            uuid_param(project_id),
            repository.id.map_or(Value::Null, Value::from),
            Value::String(full_name),
        ],
    )?;
    let repo = repo.ok_or_else(not_linked)?;
    verify(p, req, &repo)?;

    let outcome = match event.as_str() {
        "ping" => WebhookOutcomeKind::Processed,
        "pull_request" => {
            let body: Value = serde_json::from_slice(&req.body)
                .map_err(|e| bad_request(format!("invalid pull_request payload: {e}")))?;
            let from_fork = from_fork(&body);
            let payload: PullRequestEvent = serde_json::from_value(body)
                .map_err(|e| bad_request(format!("invalid pull_request payload: {e}")))?;
            claimed(p, delivery_id.as_deref(), repo.id, &event, || {
                pull_request(p, project_id, &repo, payload, from_fork)
            })?
        }
        "push" => {
            let payload: PushEvent = serde_json::from_slice(&req.body)
                .map_err(|e| bad_request(format!("invalid push payload: {e}")))?;
            match new_branch_keys(&payload, &repo.task_id_prefix) {
                Some((branch, numbers)) => {
                    claimed(p, delivery_id.as_deref(), repo.id, &event, || {
                        push(p, project_id, &repo, &branch, &numbers)
                    })?
                }
                None => WebhookOutcomeKind::Ignored,
            }
        }
        _ => WebhookOutcomeKind::Ignored,
    };
    Ok(WebhookOutcome {
        event,
        outcome,
        delivery_id,
    })
}

/// Fail closed: no secret, an undecryptable secret, a missing or wrong signature → 401.
fn verify<H: Host>(p: &Plugin<'_, H>, req: &Request, repo: &HookRepo) -> Result<(), ApiError> {
    if repo.webhook_secret_enc.is_empty() {
        return Err(unauthorized(format!(
            "no webhook secret is stored for {}: unlink and link it again",
            repo.full_name
        )));
    }
    let key = p.key()?;
    let secret = key.decrypt_string(&repo.webhook_secret_enc).map_err(|e| {
        if e.is_config_error() {
            p.crypto_error("load ENCRYPTION_KEY", e)
        } else {
            p.log(
                LogLevel::Error,
                &format!(
                    "github: the webhook secret of {} cannot be decrypted: {e}",
                    repo.full_name
                ),
            );
            unauthorized(
                "the stored webhook secret cannot be used: unlink and link the repository again",
            )
        }
    })?;
    signature::verify(&secret, &req.body, req.header(signature::HEADER)).map_err(|e| {
        p.log(
            LogLevel::Warn,
            &format!("github: rejected a delivery for {}: {e}", repo.full_name),
        );
        unauthorized(format!("invalid webhook signature: {e}"))
    })
}

/// Runs `apply` once per delivery id: the claim is a unique insert made after verification;
/// if `apply` fails the claim is released so GitHub's redelivery can succeed.
fn claimed<H: Host>(
    p: &Plugin<'_, H>,
    delivery_id: Option<&str>,
    repo_id: Uuid,
    event: &str,
    apply: impl FnOnce() -> Result<WebhookOutcomeKind, ApiError>,
) -> Result<WebhookOutcomeKind, ApiError> {
    let Some(id) = delivery_id else {
        return apply();
    };
    let claim = p.query(
        "record the delivery",
        "INSERT INTO github_webhook_deliveries (delivery_id, repo_id, event) VALUES ($1, $2, $3) \
         ON CONFLICT (delivery_id) DO NOTHING RETURNING delivery_id",
        &[
            Value::String(id.to_string()),
            uuid_param(repo_id),
            Value::String(event.to_string()),
        ],
    )?;
    if claim.is_empty() {
        return Ok(WebhookOutcomeKind::Duplicate);
    }
    apply().inspect_err(|_| {
        let released = p.host.db_exec(
            "DELETE FROM github_webhook_deliveries WHERE delivery_id = $1",
            &[Value::String(id.to_string())],
        );
        if let Err(e) = released {
            p.log(
                LogLevel::Error,
                &format!("github: could not release delivery {id}: {e}"),
            );
        }
    })
}

/// Task numbers named by `text` for the project's prefix (bounded).
fn keys(text: &str, prefix: &str) -> Vec<i64> {
    let mut numbers = taskref::task_numbers_in(text, prefix);
    numbers.truncate(MAX_KEYS);
    numbers
}

/// `$first, $first+1, …` placeholders for `count` parameters.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the PR's head branch lives in another repository (a fork, or a deleted one): its
/// branch name then says nothing about the base repository's linked branches.
/// GitHub always sends `head.repo`; it is `null` when the fork was deleted.
fn from_fork(body: &Value) -> bool {
    let base = body.pointer("/repository/id").and_then(Value::as_i64);
    match (base, body.pointer("/pull_request/head/repo")) {
        (Some(base), Some(head)) => head.get("id").and_then(Value::as_i64) != Some(base),
        _ => false,
    }
}

fn pull_request<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    repo: &HookRepo,
    payload: PullRequestEvent,
    from_fork: bool,
) -> Result<WebhookOutcomeKind, ApiError> {
    let pr = &payload.pull_request;
    let sql = format!(
        "{} RETURNING pr.id, (SELECT coalesce(json_agg(l.task_id ORDER BY l.created_at, l.id), '[]'::json) \
         FROM github_task_pr_links l JOIN tasks t ON t.id = l.task_id AND t.deleted_at IS NULL \
         WHERE l.pull_request_id = pr.id) AS linked_tasks",
        super::pull_requests::UPSERT_PR
    );
    let params = super::pull_requests::upsert_params(project_id, repo.id, pr);
    let Some(upserted) = p.row::<Upserted>("cache the pull request", &sql, &params)? else {
        // An older delivery than the cached state: applying it would roll the cache back.
        return Ok(WebhookOutcomeKind::Ignored);
    };
    let mut linked: Vec<Uuid> = serde_json::from_value(upserted.linked_tasks)
        .map_err(|e| p.internal("read the linked tasks", e))?;

    let mut new_links = Vec::new();
    if matches!(payload.action.as_str(), "opened" | "reopened") {
        // Candidate tasks: those whose linked branch this PR comes from (same repository
        // only), and those a key in its branch name or title names.
        let mut numbers = keys(&pr.head.ref_name, &repo.task_id_prefix);
        for n in keys(&pr.title, &repo.task_id_prefix) {
            if !numbers.contains(&n) && numbers.len() < MAX_KEYS * 2 {
                numbers.push(n);
            }
        }
        let mut params = vec![uuid_param(upserted.id)];
        let mut candidates = Vec::new();
        if !from_fork {
            candidates.push(format!(
                "SELECT b.task_id FROM github_task_branches b \
                 JOIN tasks t ON t.id = b.task_id AND t.deleted_at IS NULL \
                 WHERE b.repo_id = ${} AND b.branch_name = ${}",
                params.len() + 1,
                params.len() + 2
            ));
            params.extend([uuid_param(repo.id), Value::String(pr.head.ref_name.clone())]);
        }
        if !numbers.is_empty() {
            candidates.push(format!(
                "SELECT t.id FROM tasks t WHERE t.project_id = ${} AND t.deleted_at IS NULL \
                 AND t.task_number IN ({})",
                params.len() + 1,
                placeholders(params.len() + 2, numbers.len())
            ));
            params.push(uuid_param(project_id));
            params.extend(numbers.iter().map(|n| Value::from(*n)));
        }
        if !candidates.is_empty() {
            let sql = format!(
                "INSERT INTO github_task_pr_links (task_id, pull_request_id) \
                 SELECT task_id, $1::uuid FROM ({}) AS candidates (task_id) \
                 ON CONFLICT (task_id, pull_request_id) DO NOTHING RETURNING task_id",
                candidates.join(" UNION ")
            );
            let rows: Vec<LinkedTask> = p.rows("auto-link the pull request", &sql, &params)?;
            new_links = rows.into_iter().map(|r| r.task_id).collect();
        }
    }

    let details = |action: &str| {
        json!({
            "pull_request_id": upserted.id.to_string(),
            "pr_number": pr.number,
            "title": pr.title,
            "state": pr.effective_state(),
            "html_url": pr.html_url,
            "head_branch": pr.head.ref_name,
            "action": action,
        })
    };
    for task_id in &new_links {
        let mut extra = details(&payload.action);
        extra["source"] = json!("webhook");
        p.emit(
            topics::PR_LINKED,
            event(project_id, *task_id, repo.id, extra),
        );
    }
    for task_id in &new_links {
        if !linked.contains(task_id) {
            linked.push(*task_id);
        }
    }
    for task_id in &linked {
        p.emit(
            topics::PR_UPDATED,
            event(project_id, *task_id, repo.id, details(&payload.action)),
        );
    }
    Ok(WebhookOutcomeKind::Processed)
}

/// The branch and task numbers of a push that creates a branch naming this project's keys.
fn new_branch_keys(push: &PushEvent, prefix: &str) -> Option<(String, Vec<i64>)> {
    let created = push.created || push.before == ZERO_SHA;
    if push.deleted || push.after == ZERO_SHA || !created {
        return None;
    }
    let branch = push.ref_name.strip_prefix("refs/heads/")?;
    let numbers = keys(branch, prefix);
    (!numbers.is_empty()).then(|| (branch.to_string(), numbers))
}

fn push<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    repo: &HookRepo,
    branch: &str,
    numbers: &[i64],
) -> Result<WebhookOutcomeKind, ApiError> {
    let sql = format!(
        "INSERT INTO github_task_branches (task_id, repo_id, branch_name) \
         SELECT t.id, $1::uuid, $2::text FROM tasks t WHERE t.project_id = $3 AND t.deleted_at IS NULL \
         AND t.task_number IN ({}) ON CONFLICT (task_id, repo_id, branch_name) DO NOTHING RETURNING task_id",
        placeholders(4, numbers.len())
    );
    let mut params = vec![
        uuid_param(repo.id),
        Value::String(branch.to_string()),
        uuid_param(project_id),
    ];
    params.extend(numbers.iter().map(|n| Value::from(*n)));
    let rows: Vec<LinkedTask> = p.rows("auto-link the branch", &sql, &params)?;
    for row in &rows {
        p.emit(
            topics::BRANCH_LINKED,
            branch_event(project_id, row.task_id, repo.id, branch, "push"),
        );
    }
    Ok(WebhookOutcomeKind::Processed)
}
