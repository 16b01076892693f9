//! The project's GitHub connection: status, token set/replace/delete, accessible repositories.

use super::Plugin;
use super::support::repo_html_url;
use crate::entropy;
use crate::generated::api::*;
use crate::github::GithubError;
use crate::host::{Host, LogLevel};
use crate::sql;
use paca_plugin_sdk::error::Declares;
use serde::Deserialize;
use uuid::Uuid;

/// A webhook to delete on GitHub. `DeleteIntegration` sends each as the JSON array
/// `[owner, repo_name, full_name, webhook_id]`, which serde reads into the named fields.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Hook {
    pub owner: String,
    pub repo_name: String,
    pub full_name: String,
    pub webhook_id: i64,
}

pub(super) fn get<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
) -> Result<Integration, ApiError<op::GetIntegration>> {
    let row = p.row::<sql::IntegrationTimestamps>(
        "read the integration",
        &sql::IntegrationTimestamps::params(project_id),
    )?;
    Ok(integration(project_id, row))
}

fn integration(project_id: Uuid, row: Option<sql::IntegrationTimestampsRow>) -> Integration {
    Integration {
        project_id,
        connected: row.is_some(),
        created_at: row.as_ref().map(|r| r.created_at.clone()),
        updated_at: row.map(|r| r.updated_at),
    }
}

pub(super) fn set_token<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    body: SetTokenRequest,
) -> Result<Integration, ApiError<op::SetToken>> {
    let token = body.token.trim();
    if token.is_empty() {
        return Err(ApiError::new(code::BadRequest, "`token` must not be blank"));
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::new(
            code::BadRequest,
            "`token` must not contain whitespace",
        ));
    }
    // Key first: a misconfigured server must not call GitHub for nothing.
    let key = p.key()?;
    let user = p
        .github(token.to_string())
        .get_user()
        .map_err(|e| match e {
            GithubError::Unauthorized | GithubError::Forbidden { .. } | GithubError::NotFound => {
                ApiError::new(
                    code::GithubInvalidToken,
                    "GitHub rejected the token: it is invalid, expired or lacks access",
                )
            }
            // Every refusal of the token is the token's fault here (the 403 arm above too),
            // so this operation does not declare GITHUB_TOKEN_INSUFFICIENT_PERMISSIONS.
            other => {
                let fault = p.github_fault("validate the token", other);
                if fault.is::<code::GithubRateLimited>() {
                    ApiError::new(code::GithubRateLimited, fault.into_message())
                } else if fault.is::<code::GithubUnavailable>() {
                    ApiError::new(code::GithubUnavailable, fault.into_message())
                } else {
                    ApiError::new(code::GithubInvalidToken, fault.into_message())
                }
            }
        })?;
    p.log(
        LogLevel::Info,
        &format!(
            "github: project {project_id} connected as GitHub user {}",
            user.login
        ),
    );
    let nonce = entropy::nonce(p.host).map_err(|e| p.internal("draw a nonce", e))?;
    let stored = key.encrypt(token.as_bytes(), &nonce);
    let row = p.row::<sql::UpsertToken>(
        "store the token",
        &sql::UpsertToken::params(project_id, &stored),
    )?;
    match row {
        Some(row) => Ok(integration(
            project_id,
            Some(sql::IntegrationTimestampsRow {
                created_at: row.created_at,
                updated_at: row.updated_at,
            }),
        )),
        None => Err(p
            .internal("store the token", "the upsert returned no row")
            .into()),
    }
}

/// Rows first, then hooks: one statement deletes the integration (its repositories cascade)
/// and returns what is needed to remove their webhooks; the webhooks are then deleted best
/// effort within [`HOOK_BUDGET`]. Whatever is left (budget spent, GitHub failing) is reported
/// in `webhook_failures` and only produces deliveries that are refused. So the call is correct
/// for any number of repositories, and a retry finds nothing left to do.
pub(super) fn delete<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
) -> Result<IntegrationRemoval, ApiError<op::DeleteToken>> {
    let removed = p.row::<sql::DeleteIntegration>(
        "delete the integration",
        &sql::DeleteIntegration::params(project_id),
    )?;
    let Some(removed) = removed else {
        return Ok(IntegrationRemoval {
            removed: false,
            webhooks_deleted: 0,
            webhook_failures: Vec::new(),
        });
    };
    let hooks: Vec<Hook> = serde_json::from_value(removed.hooks)
        .map_err(|e| p.internal("read the removed webhooks", e))?;
    let (deleted, failures) = remove_hooks(p, &removed.access_token_enc, &hooks);
    Ok(IntegrationRemoval {
        removed: true,
        webhooks_deleted: deleted,
        webhook_failures: failures,
    })
}

/// Time for webhook deletions in one call: the host gives the whole call 5 s, shared with
/// the DB work around it.
const HOOK_BUDGET: std::time::Duration = std::time::Duration::from_millis(3000);

/// Deletes webhooks on GitHub, best effort and within [`HOOK_BUDGET`]: each failure is
/// reported, none is fatal (the user asked to disconnect; a stale hook only produces deliveries
/// we reject).
pub(super) fn remove_hooks<H: Host>(
    p: &Plugin<'_, H>,
    stored_token: &str,
    hooks: &[Hook],
) -> (i32, Vec<WebhookFailure>) {
    if hooks.is_empty() {
        return (0, Vec::new());
    }
    let token = p
        .key()
        .and_then(|key| p.decrypt(&key, "decrypt the token", stored_token));
    let token = match token {
        Ok(t) => t,
        Err(e) => {
            let reason = format!("the stored token could not be used: {}", e.message());
            let failures = hooks
                .iter()
                .map(|h| WebhookFailure {
                    full_name: h.full_name.clone(),
                    reason: reason.clone(),
                })
                .collect();
            return (0, failures);
        }
    };
    let client = p.github(token);
    let started = std::time::Instant::now();
    let mut deleted = 0;
    let mut failures = Vec::new();
    for Hook {
        owner,
        repo_name: repo,
        full_name,
        webhook_id: hook_id,
    } in hooks
    {
        if started.elapsed() >= HOOK_BUDGET {
            failures.push(WebhookFailure {
                full_name: full_name.clone(),
                reason: format!(
                    "not attempted: out of time for this request; delete webhook {hook_id} in the repository's settings"
                ),
            });
            continue;
        }
        match client.delete_hook(owner, repo, *hook_id) {
            Ok(()) => deleted += 1,
            Err(e) => {
                p.log(
                    LogLevel::Warn,
                    &format!("github: deleting webhook {hook_id} of {full_name} failed: {e}"),
                );
                failures.push(WebhookFailure {
                    full_name: full_name.clone(),
                    reason: e.to_string(),
                });
            }
        }
    }
    (deleted, failures)
}

/// The stored token of a project, decrypted; 404 when the project has no integration.
fn token<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
) -> Result<String, ApiError<op::ListAccessibleRepositories>> {
    let key = p.key()?;
    let row = p.row::<sql::StoredToken>("read the token", &sql::StoredToken::params(project_id))?;
    let row = row.ok_or_else(not_connected)?;
    Ok(p.decrypt(&key, "decrypt the token", &row.access_token_enc)?)
}

pub(super) fn not_connected<O: Declares<code::GithubIntegrationNotFound>>() -> ApiError<O> {
    ApiError::new(
        code::GithubIntegrationNotFound,
        "GitHub is not connected to this project: set a token first",
    )
}

pub(super) fn accessible_repositories<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    query: ListAccessibleRepositoriesQuery,
) -> Result<AccessibleRepositoryPage, ApiError<op::ListAccessibleRepositories>> {
    let token = token(p, project_id)?;
    // The spec bounds both to small positive numbers, so the casts cannot truncate.
    let page = query.page as u32;
    let per_page = query.per_page as u32;
    let listed = p
        .github(token)
        .list_user_repos(page, per_page)
        .map_err(|e| p.github_fault("list repositories", e))?;
    let items = listed
        .items
        .into_iter()
        .map(|r| AccessibleRepository {
            html_url: Some(if r.html_url.is_empty() {
                repo_html_url(&r.full_name)
            } else {
                r.html_url
            }),
            full_name: r.full_name,
            owner: r.owner.login,
            repo_name: r.name,
            default_branch: r.default_branch,
            private: r.private,
            description: r.description,
        })
        .collect();
    Ok(AccessibleRepositoryPage {
        items,
        page: query.page,
        per_page: query.per_page,
        next_page: listed.next_page.map(|n| n as i32),
    })
}
