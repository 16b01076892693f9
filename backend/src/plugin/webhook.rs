//! `POST /projects/{projectId}/webhook`: GitHub deliveries.
//!
//! Order matters: find the candidate repositories *within the path's project*, verify the
//! signature over the raw bytes with their secrets (fail closed), and only then touch anything.
//! Until a signature verifies, every answer is the same (one 404, one message): the caller
//! learns nothing about which repositories are linked. A redelivery, or the same delivery
//! reaching two Paca replicas, announces nothing twice: a link is announced by the call whose
//! insert made it, and a PR's new state by the call that recorded the delivery
//! (`RecordDelivery`, after the idempotent work).

use super::branches::branch_event;
use super::support::event;
use super::{Plugin, topics};
use crate::abi::envelope::Request;
use crate::generated::api::*;
use crate::github::PullRequest as GithubPull;
use crate::host::{Host, LogLevel};
use crate::sql::{self, Statement};
use crate::{signature, taskref, validate};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// At most this many task keys from one branch name or title are looked up.
const MAX_KEYS: usize = 5;
const ZERO_SHA: &str = "0000000000000000000000000000000000000000";
/// Longest `X-GitHub-Delivery` stored as sent; longer ones are stored as their SHA-256.
const MAX_DELIVERY_ID: usize = 128;

/// The error of `receiveWebhook`.
type Error = ApiError<op::ReceiveWebhook>;

/// The linked row a delivery was verified against.
type HookRepo = sql::HookRepoCandidatesRow;

/// A query of the delivery's work. The repository can be unlinked (or its project's token
/// deleted) by another replica while the delivery runs: the foreign key then fails, and the
/// answer is the same 404 as for any repository that is not linked, not a 500.
fn webhook_rows<H: Host, S: Statement>(
    p: &Plugin<'_, H>,
    what: &str,
    params: &[Value],
) -> Result<Vec<S::Row>, Error> {
    let result = p
        .host
        .db_query(S::SQL, params)
        .map_err(|e| work_failed(p, what, e))?;
    Ok(result.decode().map_err(|e| p.internal(what, e))?)
}

/// [`webhook_rows`] for an exec statement: the row count.
fn webhook_exec<H: Host, S: Statement>(
    p: &Plugin<'_, H>,
    what: &str,
    params: &[Value],
) -> Result<u64, Error> {
    p.host
        .db_exec(S::SQL, params)
        .map_err(|e| work_failed(p, what, e))
}

fn work_failed<H: Host>(p: &Plugin<'_, H>, what: &str, e: crate::host::HostError) -> Error {
    if e.to_string().contains("23503") {
        p.log(
            LogLevel::Info,
            &format!("github: the repository went away while trying to {what}: {e}"),
        );
        not_verified()
    } else {
        p.internal(what, e).into()
    }
}

fn webhook_row<H: Host, S: Statement>(
    p: &Plugin<'_, H>,
    what: &str,
    params: &[Value],
) -> Result<Option<S::Row>, Error> {
    Ok(webhook_rows::<H, S>(p, what, params)?.into_iter().next())
}

#[derive(Deserialize)]
struct Envelope {
    repository: Option<RepositoryRef>,
}

#[derive(Deserialize)]
struct RepositoryRef {
    id: Option<i64>,
    full_name: Option<String>,
    name: Option<String>,
    owner: Option<OwnerRef>,
    /// ISO 8601 in every event (push payloads use integers for the other timestamps).
    updated_at: Option<Value>,
}

#[derive(Deserialize)]
struct OwnerRef {
    login: Option<String>,
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

fn bad_request(message: impl Into<String>) -> Error {
    ApiError::new(code::BadRequest, message)
}

/// The one answer for every delivery no linked repository's secret verifies: unknown project,
/// unknown repository, wrong signature, no usable secret. It names nothing.
fn not_verified() -> Error {
    ApiError::new(
        code::WebhookRepositoryNotFound,
        "no repository linked to this project accepts this delivery",
    )
}

/// PostgreSQL text cannot hold NUL: GitHub's strings are input, sanitised before any query.
fn clean(s: &str) -> String {
    s.replace('\0', "")
}

/// The stored form of `X-GitHub-Delivery`: as sent when short, else its SHA-256 (so an
/// over-long id still de-duplicates instead of silently disabling the claim).
fn delivery_key(id: &str) -> String {
    if id.len() <= MAX_DELIVERY_ID {
        clean(id)
    } else {
        format!("sha256:{}", hex::encode(Sha256::digest(id.as_bytes())))
    }
}

pub(super) fn receive<H: Host>(
    p: &Plugin<'_, H>,
    req: &Request,
    project_id: Uuid,
) -> Result<WebhookOutcome, Error> {
    let event = req
        .header("X-GitHub-Event")
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| bad_request("missing X-GitHub-Event header: not a GitHub delivery"))?
        .to_string();
    let delivery_id = req
        .header("X-GitHub-Delivery")
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(delivery_key);
    // Without a well-formed signature nothing can verify: refuse before any lookup.
    signature::well_formed(req.header(signature::HEADER)).map_err(|e| {
        ApiError::new(
            code::WebhookSignatureInvalid,
            format!("invalid webhook signature: {e}"),
        )
    })?;
    // Only what selects the secret is read before the signature is checked.
    let envelope: Envelope = serde_json::from_slice(&req.body)
        .map_err(|e| bad_request(format!("the body is not a GitHub event payload: {e}")))?;
    // The key before the lookup, so a misconfiguration answers the same for every repository.
    let key = p.key()?;
    let repository = envelope.repository.ok_or_else(not_verified)?;
    let full_name = clean(repository.full_name.as_deref().unwrap_or_default());
    let candidates = p.rows::<sql::HookRepoCandidates>(
        "find the webhook's repository",
        &sql::HookRepoCandidates::params(project_id, repository.id, &full_name),
    )?;
    let repo = candidates
        .into_iter()
        .find(|r| verifies(p, &key, req, r))
        .ok_or_else(|| {
            p.log(
                LogLevel::Warn,
                &format!(
                    "github: rejected a {event} delivery for project {project_id}: no linked repository's secret verifies it"
                ),
            );
            not_verified()
        })?;
    reconcile(p, &repo, &repository);

    let outcome = match event.as_str() {
        "ping" => WebhookOutcomeKind::Processed,
        "pull_request" => {
            // Straight into the typed event: a detour through `Value` would compile every
            // field's decoder a second time (for the `Value` deserializer) into the wasm.
            let mut payload: PullRequestEvent = serde_json::from_slice(&req.body)
                .map_err(|e| bad_request(format!("invalid pull_request payload: {e}")))?;
            let from_fork = from_fork(repository.id, &payload.pull_request);
            let number = payload.pull_request.number;
            if !(1..=i64::from(i32::MAX)).contains(&number) {
                return Err(bad_request(format!(
                    "invalid pull_request payload: number {number} is not a pull request number"
                )));
            }
            sanitise(&mut payload.pull_request);
            // Recorded by its id; one without (not GitHub's) by its bytes.
            let key = delivery_id.clone().unwrap_or_else(|| {
                format!("body-sha256:{}", hex::encode(Sha256::digest(&req.body)))
            });
            let delivery = Delivery {
                key: &key,
                event: &event,
            };
            pull_request(p, project_id, &repo, delivery, payload, from_fork)?
        }
        "push" => {
            let payload: PushEvent = serde_json::from_slice(&req.body)
                .map_err(|e| bad_request(format!("invalid push payload: {e}")))?;
            match new_branch_keys(&payload, &repo.task_id_prefix) {
                Some((branch, numbers)) => push(p, project_id, &repo, &branch, &numbers)?,
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

/// Strips what PostgreSQL text cannot store from the strings that are cached or compared.
fn sanitise(pr: &mut GithubPull) {
    for s in [
        &mut pr.title,
        &mut pr.html_url,
        &mut pr.head.ref_name,
        &mut pr.base.ref_name,
    ] {
        if s.contains('\0') {
            *s = clean(s);
        }
    }
    if let Some(u) = pr.user.as_mut() {
        u.login = clean(&u.login);
    }
}

/// Renamed or transferred on GitHub (or linked before the id was stored): take GitHub's id
/// and current names from the verified payload. An older payload (a redelivery from before the
/// rename) never renames the row back. Best effort: a failure is logged, the delivery proceeds.
fn reconcile<H: Host>(p: &Plugin<'_, H>, repo: &HookRepo, r: &RepositoryRef) {
    let Some(id) = r.id else { return };
    let full = clean(r.full_name.as_deref().unwrap_or_default());
    let Some((split_owner, split_name)) = full.split_once('/') else {
        return;
    };
    let owner = r
        .owner
        .as_ref()
        .and_then(|o| o.login.as_deref())
        .map_or_else(|| split_owner.to_string(), clean);
    let name = r
        .name
        .as_deref()
        .map_or_else(|| split_name.to_string(), clean);
    if !validate::is_valid_owner(&owner)
        || !validate::is_valid_repo(&name)
        || full != format!("{owner}/{name}")
    {
        return;
    }
    if repo.github_repo_id == Some(id)
        && repo.full_name == full
        && repo.owner == owner
        && repo.repo_name == name
    {
        return;
    }
    let updated_at = r.updated_at.as_ref().and_then(Value::as_str).map(clean);
    let result = p.host.db_exec(
        sql::ReconcileRepository::SQL,
        &sql::ReconcileRepository::params(repo.id, id, &owner, &name, &full, updated_at.as_deref()),
    );
    match result {
        Ok(n) if n > 0 => p.log(
            LogLevel::Info,
            &format!("github: repository {} is now {full}", repo.full_name),
        ),
        Ok(_) => {}
        Err(e) => p.log(
            LogLevel::Warn,
            &format!(
                "github: could not record the new name {full} of {}: {e}",
                repo.full_name
            ),
        ),
    }
}

/// Whether `repo`'s secret verifies the delivery. Fail closed: no secret, an undecryptable
/// secret or a wrong signature is `false` (logged, never told to the caller).
fn verifies<H: Host>(
    p: &Plugin<'_, H>,
    key: &crate::crypto::EncryptionKey,
    req: &Request,
    repo: &HookRepo,
) -> bool {
    if repo.webhook_secret_enc.is_empty() {
        p.log(
            LogLevel::Warn,
            &format!(
                "github: no webhook secret is stored for {}: unlink and link it again",
                repo.full_name
            ),
        );
        return false;
    }
    let secret = match key.decrypt_string(&repo.webhook_secret_enc) {
        Ok(s) => s,
        Err(e) => {
            p.log(
                LogLevel::Error,
                &format!(
                    "github: the webhook secret of {} cannot be decrypted: {e}",
                    repo.full_name
                ),
            );
            return false;
        }
    };
    signature::verify(&secret, &req.body, req.header(signature::HEADER)).is_ok()
}

/// Task numbers named by `text` for the project's prefix (bounded).
fn keys(text: &str, prefix: &str) -> Vec<i64> {
    let mut numbers = taskref::task_numbers_in(text, prefix);
    numbers.truncate(MAX_KEYS);
    numbers
}

/// `N` key parameters: the numbers first, NULL for the slots left over.
fn key_slots<const N: usize>(numbers: &[i64]) -> [Option<i64>; N] {
    debug_assert!(numbers.len() <= N, "more keys than the statement takes");
    let mut slots = [None; N];
    for (slot, n) in slots.iter_mut().zip(numbers) {
        *slot = Some(*n);
    }
    slots
}

/// Whether the PR's head branch lives in another repository (a fork, or a deleted one): its
/// branch name then says nothing about the base repository's linked branches.
/// GitHub always sends `head.repo`; it is `null` when the fork was deleted.
fn from_fork(base: Option<i64>, pr: &GithubPull) -> bool {
    match (base, &pr.head.repo) {
        (Some(base), Some(head)) => head.and_then(|r| r.id) != Some(base),
        _ => false,
    }
}

/// What a delivery is recorded under: its key (`X-GitHub-Delivery`, or the body's hash) and
/// `X-GitHub-Event`.
#[derive(Clone, Copy)]
struct Delivery<'a> {
    key: &'a str,
    event: &'a str,
}

/// Records the delivery (`RecordDelivery`): false when another call recorded it first (a
/// duplicate, which announces nothing more).
fn record<H: Host>(
    p: &Plugin<'_, H>,
    repo: &HookRepo,
    delivery: Delivery<'_>,
) -> Result<bool, Error> {
    let recorded = webhook_exec::<H, sql::RecordDelivery>(
        p,
        "record the delivery",
        &sql::RecordDelivery::params(delivery.key, repo.id, delivery.event),
    )?;
    Ok(recorded > 0)
}

/// Task ids from a JSON array the statements aggregate.
fn task_ids<H: Host>(p: &Plugin<'_, H>, v: Value) -> Result<Vec<Uuid>, Error> {
    Ok(serde_json::from_value(v).map_err(|e| p.internal("read the linked tasks", e))?)
}

/// A `pull_request` delivery: cache the PR, link an opened one to its tasks, record the
/// delivery, announce. Everything before the record is idempotent (the upsert never rolls the
/// cache back), so a duplicate may repeat it harmlessly. A link is announced by the call that
/// made it (`LinkPrToTasks` returns exactly those, whoever races it: a replica, the route that
/// opened the PR); the PR's new state only by the call that recorded the delivery. At most
/// four DB calls, the lookup included; three when there is nothing to link.
fn pull_request<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    repo: &HookRepo,
    delivery: Delivery<'_>,
    payload: PullRequestEvent,
    from_fork: bool,
) -> Result<WebhookOutcomeKind, Error> {
    let pr = &payload.pull_request;
    let opened = matches!(payload.action.as_str(), "opened" | "reopened");
    // Candidate tasks of an opened PR: those whose linked branch it comes from (same
    // repository only: from a fork, the branch name says nothing about our linked branches,
    // so NULL matches none), and those a key in its branch name or title names. Other
    // actions link nothing: every slot NULL.
    let mut numbers = Vec::new();
    let mut link_branch = None;
    if opened {
        numbers = keys(&pr.head.ref_name, &repo.task_id_prefix);
        for n in keys(&pr.title, &repo.task_id_prefix) {
            if !numbers.contains(&n) && numbers.len() < MAX_KEYS * 2 {
                numbers.push(n);
            }
        }
        link_branch = (!from_fork).then_some(pr.head.ref_name.as_str());
    }
    let [k1, k2, k3, k4, k5, k6, k7, k8, k9, k10] = key_slots(&numbers);
    let params = sql::UpsertPrReturningLinks::params(
        project_id,
        repo.id,
        pr.number,
        pr.id,
        &pr.title,
        pr.effective_state(),
        &pr.html_url,
        &pr.head.ref_name,
        &pr.base.ref_name,
        super::pull_requests::author(pr),
        pr.merged_at.as_deref(),
        pr.updated_at.as_deref(),
        link_branch,
        k1,
        k2,
        k3,
        k4,
        k5,
        k6,
        k7,
        k8,
        k9,
        k10,
    );
    let (pr_id, mut linked, candidates, fresh) = match webhook_row::<H, sql::UpsertPrReturningLinks>(
        p,
        "cache the pull request",
        &params,
    )? {
        Some(u) => (
            u.id,
            task_ids(p, u.linked_tasks)?,
            task_ids(p, u.candidate_tasks)?,
            true,
        ),
        // An older delivery than the cached state: applying it would roll the cache back.
        // An `opened` that arrives after a newer state still links (the order of deliveries
        // must not decide which tasks get the PR), but announces no (stale) state.
        None if opened => {
            let cached = webhook_row::<H, sql::CachedPrLinks>(
                p,
                "read the cached pull request",
                &sql::CachedPrLinks::params(
                    repo.id,
                    pr.number,
                    project_id,
                    link_branch,
                    k1,
                    k2,
                    k3,
                    k4,
                    k5,
                    k6,
                    k7,
                    k8,
                    k9,
                    k10,
                ),
            )?;
            match cached {
                Some(c) => (
                    c.id,
                    task_ids(p, c.linked_tasks)?,
                    task_ids(p, c.candidate_tasks)?,
                    false,
                ),
                None => return Ok(WebhookOutcomeKind::Ignored),
            }
        }
        None => return Ok(WebhookOutcomeKind::Ignored),
    };
    // Only candidates not linked yet can make a link: none, no call.
    let unlinked: Vec<Uuid> = candidates
        .into_iter()
        .filter(|t| !linked.contains(t))
        .collect();
    let new_links: Vec<Uuid> = if unlinked.is_empty() {
        Vec::new()
    } else {
        webhook_rows::<H, sql::LinkPrToTasks>(
            p,
            "auto-link the pull request",
            &sql::LinkPrToTasks::params(pr_id, &json!(unlinked)),
        )?
        .into_iter()
        .map(|r| r.task_id)
        .collect()
    };
    let details = |action: &str| {
        json!({
            "pull_request_id": pr_id.to_string(),
            "pr_number": pr.number,
            "title": pr.title,
            "state": pr.effective_state(),
            "html_url": pr.html_url,
            "head_branch": pr.head.ref_name,
            "action": action,
        })
    };
    // Announced before the record: the links are committed, and a redelivery would not make
    // (or announce) them again.
    for task_id in &new_links {
        let mut extra = details(&payload.action);
        extra["source"] = json!("webhook");
        p.emit(
            topics::PR_LINKED,
            event(project_id, *task_id, repo.id, extra),
        );
    }
    if !record(p, repo, delivery)? {
        return Ok(WebhookOutcomeKind::Duplicate);
    }
    for task_id in &new_links {
        if !linked.contains(task_id) {
            linked.push(*task_id);
        }
    }
    // An `opened` older than the cache announces its links, never its (stale) state.
    if !fresh {
        return Ok(WebhookOutcomeKind::Processed);
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
    // Not a name git allows (NUL, control characters…): nothing to link.
    if validate::branch_name_problem(branch).is_some() {
        return None;
    }
    let numbers = keys(branch, prefix);
    (!numbers.is_empty()).then(|| (branch.to_string(), numbers))
}

/// A push that creates a branch naming task keys: link it to those tasks and announce the
/// links this call made (`AutoLinkBranch` returns exactly those, whoever races it: a replica,
/// a redelivery, the route that created the branch); a push that links nothing new is
/// `ignored`. Nothing else happens, so there is nothing to record. Two DB calls, the lookup
/// included.
fn push<H: Host>(
    p: &Plugin<'_, H>,
    project_id: Uuid,
    repo: &HookRepo,
    branch: &str,
    numbers: &[i64],
) -> Result<WebhookOutcomeKind, Error> {
    let [k1, k2, k3, k4, k5] = key_slots(numbers);
    let rows = webhook_rows::<H, sql::AutoLinkBranch>(
        p,
        "auto-link the branch",
        &sql::AutoLinkBranch::params(repo.id, branch, project_id, k1, k2, k3, k4, k5),
    )?;
    for row in &rows {
        p.emit(
            topics::BRANCH_LINKED,
            branch_event(project_id, row.task_id, repo.id, branch, "push"),
        );
    }
    // Linked already (by a redelivery, another replica or the route that made the branch).
    if rows.is_empty() {
        return Ok(WebhookOutcomeKind::Ignored);
    }
    Ok(WebhookOutcomeKind::Processed)
}
