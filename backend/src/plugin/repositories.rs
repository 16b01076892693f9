//! Repositories linked to a project, each with its webhook on GitHub.

use super::Plugin;
use super::integration::{Hook, not_connected, remove_hooks};
use super::support::repo_html_url;
use crate::entropy;
use crate::generated::api::*;
use crate::github::GithubError;
use crate::host::{Host, LogLevel};
use crate::sql::{self, Statement};
use crate::validate;
use uuid::Uuid;

/// The error of `linkRepository`, the operation most of this module serves.
type Error = ApiError<op::LinkRepository>;

/// What GitHub sends for each linked repository.
pub const WEBHOOK_EVENTS: &[&str] = &["push", "pull_request", "check_run"];

pub(super) fn dto(r: sql::ListRepositoriesRow) -> LinkedRepository {
    LinkedRepository {
        // Links made before clone URLs were stored keep the rebuilt form on this management
        // route; the repository capability completes them from GitHub instead.
        clone_url: r
            .clone_url
            .clone()
            .unwrap_or_else(|| format!("{}.git", repo_html_url(&r.full_name))),
        html_url: repo_html_url(&r.full_name),
        id: r.id,
        project_id: r.project_id,
        owner: r.owner,
        repo_name: r.repo_name,
        full_name: r.full_name,
        default_branch: r.default_branch,
        webhook_active: r.webhook_id > 0,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

pub(super) fn list<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
) -> Result<Vec<LinkedRepository>, ApiError<op::ListLinkedRepositories>> {
    let rows = p.rows::<sql::ListRepositories>(
        "list linked repositories",
        &sql::ListRepositories::params(project_id),
    )?;
    Ok(rows.into_iter().map(dto).collect())
}

/// The public callback GitHub delivers to, from `PUBLIC_URL`.
fn webhook_url<H: Host>(p: &Plugin<'_, H>, project_id: Uuid) -> Result<String, Error> {
    let base = p
        .host
        .config("PUBLIC_URL")
        .map(|s| s.trim().trim_end_matches('/').to_string());
    match base {
        Some(base) if base.starts_with("https://") || base.starts_with("http://") => Ok(format!(
            "{base}/api/v1/plugins/com.paca.github/projects/{project_id}/webhook"
        )),
        Some(_) => Err(ApiError::new(
            code::GithubWebhookUrlRequired,
            "PUBLIC_URL must be an absolute http(s) URL of the Paca server",
        )),
        None => Err(ApiError::new(
            code::GithubWebhookUrlRequired,
            "PUBLIC_URL is not configured: GitHub needs it to deliver webhooks",
        )),
    }
}

pub(super) fn link<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    body: LinkRepositoryRequest,
) -> Result<LinkedRepository, Error> {
    let owner = body.owner.trim();
    let name = body.repo_name.trim().trim_end_matches(".git");
    if !validate::is_valid_owner(owner) {
        return Err(ApiError::new(
            code::InvalidRepositoryName,
            format!("`{owner}` is not a valid GitHub owner name"),
        ));
    }
    if !validate::is_valid_repo(name) {
        return Err(ApiError::new(
            code::InvalidRepositoryName,
            format!("`{name}` is not a valid GitHub repository name"),
        ));
    }
    // Everything that can fail without side effects goes first.
    let hook_url = webhook_url(p, project_id)?;
    let key = p.key()?;
    let ctx = p.row::<sql::LinkContext>(
        "read the integration",
        &sql::LinkContext::params(project_id),
    )?;
    let ctx = ctx.ok_or_else(not_connected)?;
    let token = p.decrypt(&key, "decrypt the token", &ctx.access_token_enc)?;
    let gh = p.github(token);
    // GitHub's canonical name and id may differ from what was asked (renamed, transferred):
    // the id is what identifies the repository, a name only until the next rename.
    let repo = gh.get_repo(owner, name).map_err(|e| match e {
        GithubError::NotFound | GithubError::Forbidden { .. } => ApiError::new(
            code::GithubRepoNotAccessible,
            format!("{owner}/{name} does not exist or the token cannot access it"),
        ),
        other => p.github_error("read the repository", other),
    })?;
    let (secret, nonce) = entropy::webhook_secret_and_nonce(p.host)
        .map_err(|e| p.internal("draw a webhook secret", e))?;
    let secret_enc = key.encrypt(secret.as_bytes(), &nonce);
    // Claim the row first: of racing links (replicas, double clicks) exactly one gets it, and
    // only that one touches hooks. The secret is stored now so the ping GitHub sends as soon
    // as the hook exists already verifies; webhook_id 0 means "hook not created yet".
    // GitHub's own clone URL; never rebuilt from the name (Enterprise Server differs).
    let clone_url = (!repo.clone_url.is_empty()).then_some(repo.clone_url.as_str());
    let claimed = p.row::<sql::ClaimRepository>(
        "store the linked repository",
        &sql::ClaimRepository::params(
            project_id,
            ctx.integration_id,
            &repo.owner.login,
            &repo.name,
            &repo.full_name,
            &secret_enc,
            &repo.default_branch,
            repo.id,
            repo.updated_at.as_deref(),
            clone_url,
            repo.private,
        ),
    )?;
    // No row: linked already (concurrently, under a former name, or before ids were stored).
    let claimed = claimed.ok_or_else(|| already_linked(&repo.owner.login, &repo.name))?;
    // From here on the row is ours: any failure removes it again, and every hook we created.
    let release = |error: Error| {
        if let Err(e) = p.host.db_exec(
            sql::ReleaseRepository::SQL,
            &sql::ReleaseRepository::params(claimed.id),
        ) {
            p.log(
                LogLevel::Error,
                &format!(
                    "github: could not release the link of {} after a failed link: {e}",
                    repo.full_name
                ),
            );
        }
        error
    };
    let hook_id = create_hook(
        p,
        &gh,
        project_id,
        &repo.owner.login,
        &repo.name,
        &hook_url,
        &secret,
    )
    .map_err(release)?;
    let remove_hook = |error: Error| {
        if let Err(e) = gh.delete_hook(&repo.owner.login, &repo.name, hook_id) {
            p.log(
                LogLevel::Error,
                &format!(
                    "github: could not remove webhook {hook_id} of {} after a failed link: {e}",
                    repo.full_name
                ),
            );
        }
        error
    };
    let filled = p
        .row::<sql::FillWebhook>(
            "store the webhook",
            &sql::FillWebhook::params(claimed.id, hook_id),
        )
        .map_err(|e| remove_hook(release(e.into())))?;
    // The row was unlinked while the hook was being created: the hook is ours to remove.
    let filled = filled.ok_or_else(|| {
        remove_hook(ApiError::new(
            code::GithubRepoAlreadyLinked,
            format!(
                "{} was unlinked while it was being linked: link it again",
                repo.full_name
            ),
        ))
    })?;
    Ok(LinkedRepository {
        id: claimed.id,
        project_id,
        clone_url: if repo.clone_url.is_empty() {
            format!("{}.git", repo_html_url(&repo.full_name))
        } else {
            repo.clone_url.clone()
        },
        html_url: repo_html_url(&repo.full_name),
        owner: repo.owner.login,
        repo_name: repo.name,
        full_name: repo.full_name,
        default_branch: repo.default_branch,
        webhook_active: true,
        created_at: claimed.created_at,
        updated_at: filled.updated_at,
    })
}

fn already_linked(owner: &str, name: &str) -> Error {
    ApiError::new(
        code::GithubRepoAlreadyLinked,
        format!("{owner}/{name} is already linked to this project"),
    )
}

/// Creates the webhook; when GitHub says a hook with our URL already exists, that hook is
/// replaced so its old secret stops working. The caller holds the only row of this repository
/// in this project (the URL names the project), so that hook backs no live link: it is left
/// over from an unlink or a failed link whose cleanup did not reach GitHub.
fn create_hook<H: Host>(
    p: &Plugin<'_, H>,
    gh: &crate::github::GithubClient<'_, H>,
    project_id: Uuid,
    owner: &str,
    name: &str,
    url: &str,
    secret: &str,
) -> Result<i64, Error> {
    let mut replaced = false;
    loop {
        match gh.create_hook(owner, name, url, secret, WEBHOOK_EVENTS) {
            Ok(id) => return Ok(id),
            Err(GithubError::Validation { message, details }) => {
                let text = format!("{message} {}", details.join(" ")).to_ascii_lowercase();
                if text.contains("already exists") && !replaced {
                    remove_existing_hook(p, gh, project_id, owner, name, url)?;
                    replaced = true;
                    continue;
                }
                if [
                    "isn't reachable",
                    "not reachable",
                    "not publicly reachable",
                    "localhost",
                    "public internet",
                ]
                .iter()
                .any(|m| text.contains(m))
                {
                    return Err(ApiError::new(
                        code::GithubWebhookUrlNotPublic,
                        format!(
                            "GitHub cannot reach the webhook URL {url}: PUBLIC_URL must be reachable from the internet"
                        ),
                    ));
                }
                return Err(ApiError::new(
                    code::GithubWebhookCreationFailed,
                    format!("GitHub refused to create the webhook: {}", text.trim()),
                ));
            }
            Err(GithubError::NotFound) => {
                // GitHub answers 404 on the hooks API when the token lacks admin rights.
                return Err(ApiError::new(
                    code::GithubTokenInsufficientPermissions,
                    format!(
                        "the token cannot manage webhooks of {owner}/{name} (it needs admin:repo_hook and admin access)"
                    ),
                ));
            }
            Err(
                e @ (GithubError::Upstream { .. }
                | GithubError::Transport(_)
                | GithubError::Decode(_)),
            ) => {
                p.log(
                    LogLevel::Warn,
                    &format!("github: creating the webhook of {owner}/{name} failed: {e}"),
                );
                return Err(ApiError::new(
                    code::GithubWebhookCreationFailed,
                    format!("could not create the webhook: {e}"),
                ));
            }
            Err(other) => return Err(p.github_error("create the webhook", other)),
        }
    }
}

fn remove_existing_hook<H: Host>(
    p: &Plugin<'_, H>,
    gh: &crate::github::GithubClient<'_, H>,
    project_id: Uuid,
    owner: &str,
    name: &str,
    url: &str,
) -> Result<(), Error> {
    let mut page = 1;
    loop {
        let listed = gh
            .list_hooks(owner, name, page)
            .map_err(|e| p.github_fault("list webhooks", e))?;
        if let Some(hook) = listed
            .items
            .iter()
            .find(|h| h.config.url.as_deref() == Some(url))
        {
            // Belt and braces: a row still naming this hook (one linked before GitHub ids
            // were stored, under another name) keeps it.
            let live = p.query::<sql::LiveWebhook>(
                "check the existing webhook",
                &sql::LiveWebhook::params(project_id, hook.id),
            )?;
            if !live.is_empty() {
                return Err(already_linked(owner, name));
            }
            p.log(
                LogLevel::Info,
                &format!(
                    "github: replacing stale webhook {} of {owner}/{name}",
                    hook.id
                ),
            );
            return gh
                .delete_hook(owner, name, hook.id)
                .map_err(|e| p.github_fault("delete the stale webhook", e).into());
        }
        match listed.next_page {
            Some(next) if next > page && page < 10 => page = next,
            _ => return Ok(()),
        }
    }
}

pub(super) fn unlink<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    repo_id: Uuid,
) -> Result<RepositoryRemoval, ApiError<op::UnlinkRepository>> {
    let target = p.row::<sql::UnlinkTarget>(
        "read the repository",
        &sql::UnlinkTarget::params(repo_id, project_id),
    )?;
    let target = target.ok_or_else(|| {
        ApiError::new(
            code::GithubRepositoryNotFound,
            "no such repository is linked to this project",
        )
    })?;
    let (webhook_deleted, webhook_error) = if target.webhook_id > 0 {
        let hooks = [Hook {
            owner: target.owner,
            repo_name: target.repo_name,
            full_name: target.full_name,
            webhook_id: target.webhook_id,
        }];
        let (deleted, failures) = remove_hooks(p, &target.access_token_enc, &hooks);
        (deleted == 1, failures.into_iter().next().map(|f| f.reason))
    } else {
        (false, None)
    };
    p.exec::<sql::DeleteRepository>(
        "delete the repository link",
        &sql::DeleteRepository::params(repo_id, project_id),
    )?;
    Ok(RepositoryRemoval {
        id: repo_id,
        webhook_deleted,
        webhook_error,
    })
}
