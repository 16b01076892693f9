//! `/_control/…`: the control API over HTTP (for `cargo xtask dev` and non-Rust tests).
//! Mirrors [`crate::Control`]. Errors are `{message, …}` with a 4xx status.
//!
//! Its OpenAPI document ([`ControlApi`], written with utoipa next to the handlers) is served at
//! `/__github/openapi.json`; the GitHub REST subset the fake imitates is not in it.

use std::sync::Arc;

use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{OpenApi, ToSchema};

use crate::Shared;
use crate::control::{Control, Outcome, RepoSeed};
use crate::delivery::{Delivery, Tamper};
use crate::faults::{FaultAction, FaultRule, PathMatch};
use crate::ops::{Error, PrChange, PushInfo};
use crate::served::ServedRoutes;
use crate::state::{
    CheckRun, Comment, CommitStatus, Hook, Org, PrState, PullRequest, Repo, RequestRecord, Review,
    State, Token, User,
};

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/__github/openapi.json";

/// The control API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "fake-github control API",
        description = "Acting \"on GitHub\" locally: seeding users, tokens, organisations and \
                       repositories, pushing, opening and merging pull requests (each sends the \
                       signed webhooks GitHub would), the delivery log and redelivery, fault \
                       injection, and inspection."
    ),
    paths(
        state,
        seed_demo,
        add_user,
        add_token,
        add_org,
        add_repo,
        get_repo,
        add_branch,
        delete_branch,
        push,
        rename_repo,
        transfer_repo,
        open_pr,
        crate::pr_workflow::control_check_run,
        crate::pr_workflow::control_status,
        change_pr,
        deliveries,
        clear_deliveries,
        delivery,
        redeliver,
        tamper,
        faults,
        add_fault,
        clear_faults,
        settings,
        requests,
        openapi_json
    ),
    components(schemas(
        State,
        User,
        Token,
        Org,
        Hook,
        Repo,
        PullRequest,
        PrState,
        Comment,
        Review,
        CheckRun,
        CommitStatus,
        RequestRecord,
        Delivery,
        Tamper,
        FaultRule,
        FaultAction,
        PathMatch,
        PushInfo,
        RepoSeed,
        GithubError,
        DemoLogin,
        BranchCreated
    ))
)]
pub struct ControlApi;

/// A GitHub-like error body.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the JSON `ops::Error` carries
pub struct GithubError {
    message: String,
    documentation_url: Option<String>,
    /// Validation failures (422), as GitHub lists them.
    errors: Option<Vec<Value>>,
}

/// What `POST /_control/seed-demo` answers.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the JSON `seed_demo` builds
pub struct DemoLogin {
    /// Always `ghp_demo_token`.
    token: String,
    /// Always `demo`.
    login: String,
}

/// A branch created through the control API.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the JSON `add_branch` builds
pub struct BranchCreated {
    name: String,
    sha: String,
}

type S = Arc<Shared>;

fn ctl(shared: &S) -> Control {
    Control::new(shared.clone())
}

fn ok<T: serde::Serialize>(v: T) -> Response {
    Json(serde_json::to_value(v).unwrap_or(Value::Null)).into_response()
}

/// The control routes; every one of them must have a `#[utoipa::path]` in [`ControlApi`].
fn routes() -> ServedRoutes<S> {
    ServedRoutes::new()
        .get("/_control/state", state)
        .post("/_control/seed-demo", seed_demo)
        .post("/_control/users", add_user)
        .post("/_control/tokens", add_token)
        .post("/_control/orgs", add_org)
        .post("/_control/repos", add_repo)
        .get("/_control/repos/{owner}/{repo}", get_repo)
        .post("/_control/repos/{owner}/{repo}/branches", add_branch)
        .delete(
            "/_control/repos/{owner}/{repo}/branches/{*branch}",
            delete_branch,
        )
        .post("/_control/repos/{owner}/{repo}/push", push)
        .post("/_control/repos/{owner}/{repo}/rename", rename_repo)
        .post("/_control/repos/{owner}/{repo}/transfer", transfer_repo)
        .post("/_control/repos/{owner}/{repo}/pulls", open_pr)
        .post(
            "/_control/repos/{owner}/{repo}/check-runs",
            crate::pr_workflow::control_check_run,
        )
        .post(
            "/_control/repos/{owner}/{repo}/statuses",
            crate::pr_workflow::control_status,
        )
        .post(
            "/_control/repos/{owner}/{repo}/pulls/{number}/{op}",
            change_pr,
        )
        .get("/_control/deliveries", deliveries)
        .delete("/_control/deliveries", clear_deliveries)
        .get("/_control/deliveries/{id}", delivery)
        .post("/_control/deliveries/{id}/redeliver", redeliver)
        .post("/_control/tamper", tamper)
        .get("/_control/faults", faults)
        .post("/_control/faults", add_fault)
        .delete("/_control/faults", clear_faults)
        .post("/_control/settings", settings)
        .get("/_control/requests", requests)
        .get(OPENAPI_PATH, openapi_json)
}

pub(crate) fn router(shared: S) -> Router {
    routes().into_router().with_state(shared)
}

/// `(lower-case method, path)` of every control route served, for the OpenAPI test.
pub fn served_routes() -> Vec<(&'static str, &'static str)> {
    routes().served()
}

#[derive(Deserialize, ToSchema)]
struct RenameBody {
    name: String,
}

#[utoipa::path(
    post,
    path = "/_control/repos/{owner}/{repo}/rename",
    tag = "repos",
    description = "Renames a repository (the old name redirects, as on GitHub)",
    params(("owner" = String, Path, description = "Repository owner"), ("repo" = String, Path, description = "Repository name")),
    request_body(content = RenameBody, content_type = "application/json"),
    responses((status = 200, description = "The repository", body = Repo), (status = 404, description = "No such repository", body = GithubError), (status = 422, description = "Refused, as GitHub would", body = GithubError))
)]
async fn rename_repo(
    AxState(s): AxState<S>,
    Path((owner, repo)): Path<(String, String)>,
    Json(b): Json<RenameBody>,
) -> Result<Response, Error> {
    Ok(ok(ctl(&s).rename_repo(&format!("{owner}/{repo}"), &b.name)?))
}

#[derive(Deserialize, ToSchema)]
struct TransferBody {
    new_owner: String,
}

#[utoipa::path(
    post,
    path = "/_control/repos/{owner}/{repo}/transfer",
    tag = "repos",
    description = "Transfers a repository to another owner",
    params(("owner" = String, Path, description = "Repository owner"), ("repo" = String, Path, description = "Repository name")),
    request_body(content = TransferBody, content_type = "application/json"),
    responses((status = 200, description = "The repository", body = Repo), (status = 404, description = "No such repository", body = GithubError), (status = 422, description = "Refused, as GitHub would", body = GithubError))
)]
async fn transfer_repo(
    AxState(s): AxState<S>,
    Path((owner, repo)): Path<(String, String)>,
    Json(b): Json<TransferBody>,
) -> Result<Response, Error> {
    Ok(ok(
        ctl(&s).transfer_repo(&format!("{owner}/{repo}"), &b.new_owner)?
    ))
}

#[utoipa::path(
    get,
    path = "/_control/state",
    tag = "state",
    description = "Everything the fake holds",
    responses((status = 200, description = "The whole state", body = State))
)]
async fn state(AxState(s): AxState<S>) -> Response {
    ok(ctl(&s).snapshot())
}

#[utoipa::path(
    post,
    path = "/_control/seed-demo",
    tag = "seed",
    description = "Seeds the demo world: user `demo`, token `ghp_demo_token`, `demo-org/paca-demo`, `demo/playground`",
    responses((status = 200, description = "The demo credentials", body = DemoLogin), (status = 422, description = "Already seeded", body = GithubError))
)]
async fn seed_demo(AxState(s): AxState<S>) -> Result<Response, Error> {
    ctl(&s).seed_demo()?;
    Ok(ok(json!({"token": "ghp_demo_token", "login": "demo"})))
}

#[derive(Deserialize, ToSchema)]
struct UserBody {
    login: String,
    name: Option<String>,
    token: Option<String>,
    scopes: Option<Vec<String>>,
}

#[utoipa::path(
    post,
    path = "/_control/users",
    tag = "seed",
    description = "Adds a user, optionally with a token",
    request_body(content = UserBody, content_type = "application/json"),
    responses((status = 201, description = "The user", body = User))
)]
async fn add_user(AxState(s): AxState<S>, Json(b): Json<UserBody>) -> Response {
    let c = ctl(&s);
    let mut u = c.add_user(&b.login);
    if let Some(name) = b.name {
        u = c.with_state(|st| {
            let user = st.users.get_mut(&u.login).expect("user");
            user.name = Some(name);
            user.clone()
        });
    }
    if let Some(t) = b.token {
        let scopes: Option<Vec<&str>> = b
            .scopes
            .as_ref()
            .map(|v| v.iter().map(String::as_str).collect());
        c.add_token(&t, &u.login, scopes.as_deref());
    }
    (StatusCode::CREATED, Json(u)).into_response()
}

#[derive(Deserialize, ToSchema)]
struct TokenBody {
    token: String,
    login: String,
    scopes: Option<Vec<String>>,
}

#[utoipa::path(
    post,
    path = "/_control/tokens",
    tag = "seed",
    description = "Adds a token for a user (`scopes` absent: a fine-grained token without `X-OAuth-Scopes`)",
    request_body(content = TokenBody, content_type = "application/json"),
    responses((status = 204, description = "Added"))
)]
async fn add_token(AxState(s): AxState<S>, Json(b): Json<TokenBody>) -> Response {
    let scopes: Option<Vec<&str>> = b
        .scopes
        .as_ref()
        .map(|v| v.iter().map(String::as_str).collect());
    ctl(&s).add_token(&b.token, &b.login, scopes.as_deref());
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize, ToSchema)]
struct OrgBody {
    login: String,
    #[serde(default)]
    members: Vec<String>,
}

#[utoipa::path(
    post,
    path = "/_control/orgs",
    tag = "seed",
    description = "Adds an organisation with members",
    request_body(content = OrgBody, content_type = "application/json"),
    responses((status = 201, description = "The organisation", body = Org))
)]
async fn add_org(AxState(s): AxState<S>, Json(b): Json<OrgBody>) -> Response {
    let members: Vec<&str> = b.members.iter().map(String::as_str).collect();
    (
        StatusCode::CREATED,
        Json(ctl(&s).add_org(&b.login, &members)),
    )
        .into_response()
}

#[utoipa::path(
    post,
    path = "/_control/repos",
    tag = "seed",
    description = "Adds a repository (the default branch gets an initial commit, every extra branch its own)",
    request_body(content = RepoSeed, content_type = "application/json"),
    responses((status = 201, description = "The repository", body = Repo), (status = 404, description = "No such repository", body = GithubError), (status = 422, description = "Refused, as GitHub would", body = GithubError))
)]
async fn add_repo(AxState(s): AxState<S>, Json(b): Json<RepoSeed>) -> Result<Response, Error> {
    let r = ctl(&s).add_repo(b)?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[utoipa::path(
    get,
    path = "/_control/repos/{owner}/{repo}",
    tag = "repos",
    description = "One repository",
    params(("owner" = String, Path, description = "Repository owner"), ("repo" = String, Path, description = "Repository name")),
    responses((status = 200, description = "The repository", body = Repo), (status = 404, description = "No such repository", body = GithubError))
)]
async fn get_repo(
    AxState(s): AxState<S>,
    Path((o, r)): Path<(String, String)>,
) -> Result<Response, Error> {
    ctl(&s)
        .repo(&format!("{o}/{r}"))
        .map(ok)
        .ok_or_else(Error::not_found)
}

#[derive(Deserialize, ToSchema)]
struct BranchBody {
    name: String,
    at: Option<String>,
}

#[utoipa::path(
    post,
    path = "/_control/repos/{owner}/{repo}/branches",
    tag = "repos",
    description = "Creates a branch without a push webhook",
    params(("owner" = String, Path, description = "Repository owner"), ("repo" = String, Path, description = "Repository name")),
    request_body(content = BranchBody, content_type = "application/json"),
    responses((status = 201, description = "The branch and its head", body = BranchCreated), (status = 404, description = "No such repository", body = GithubError), (status = 422, description = "Refused, as GitHub would", body = GithubError))
)]
async fn add_branch(
    AxState(s): AxState<S>,
    Path((o, r)): Path<(String, String)>,
    Json(b): Json<BranchBody>,
) -> Result<Response, Error> {
    let sha = ctl(&s).add_branch(&format!("{o}/{r}"), &b.name, b.at.as_deref())?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"name": b.name, "sha": sha})),
    )
        .into_response())
}

#[utoipa::path(
    delete,
    path = "/_control/repos/{owner}/{repo}/branches/{branch}",
    tag = "repos",
    description = "Deletes a branch (sends `push` with `deleted: true`)",
    params(("owner" = String, Path, description = "Repository owner"), ("repo" = String, Path, description = "Repository name"), ("branch" = String, Path, description = "Branch name; may contain `/`")),
    responses((status = 200, description = "The push and its deliveries", body = Outcome<PushInfo>), (status = 404, description = "No such repository", body = GithubError), (status = 422, description = "Refused, as GitHub would", body = GithubError))
)]
async fn delete_branch(
    AxState(s): AxState<S>,
    Path((o, r, branch)): Path<(String, String, String)>,
) -> Result<Response, Error> {
    Ok(ok(ctl(&s)
        .delete_branch(&format!("{o}/{r}"), &branch)
        .await?))
}

#[derive(Deserialize, ToSchema)]
struct PushBody {
    branch: String,
    /// Create the branch at this branch/sha instead of pushing a new commit.
    from: Option<String>,
}

#[utoipa::path(
    post,
    path = "/_control/repos/{owner}/{repo}/push",
    tag = "repos",
    description = "Pushes a new commit to a branch (created if missing), or creates it at `from`; sends `push` and, for open PRs from it, `pull_request synchronize`",
    params(("owner" = String, Path, description = "Repository owner"), ("repo" = String, Path, description = "Repository name")),
    request_body(content = PushBody, content_type = "application/json"),
    responses((status = 200, description = "The push and its deliveries", body = Outcome<PushInfo>), (status = 404, description = "No such repository", body = GithubError), (status = 422, description = "Refused, as GitHub would", body = GithubError))
)]
async fn push(
    AxState(s): AxState<S>,
    Path((o, r)): Path<(String, String)>,
    Json(b): Json<PushBody>,
) -> Result<Response, Error> {
    let c = ctl(&s);
    let full = format!("{o}/{r}");
    let out = match b.from {
        Some(from) => c.create_branch(&full, &b.branch, &from).await?,
        None => c.push_branch(&full, &b.branch).await?,
    };
    Ok(ok(out))
}

#[derive(Deserialize, ToSchema)]
struct PrBody {
    head: String,
    base: Option<String>,
    title: String,
    user: Option<String>,
}

#[utoipa::path(
    post,
    path = "/_control/repos/{owner}/{repo}/pulls",
    tag = "pulls",
    description = "Opens a pull request (base: the default branch unless given); sends `pull_request opened`",
    params(("owner" = String, Path, description = "Repository owner"), ("repo" = String, Path, description = "Repository name")),
    request_body(content = PrBody, content_type = "application/json"),
    responses((status = 201, description = "The pull request and its deliveries", body = Outcome<PullRequest>), (status = 404, description = "No such repository", body = GithubError), (status = 422, description = "Refused, as GitHub would", body = GithubError))
)]
async fn open_pr(
    AxState(s): AxState<S>,
    Path((o, r)): Path<(String, String)>,
    Json(b): Json<PrBody>,
) -> Result<Response, Error> {
    let c = ctl(&s);
    let full = format!("{o}/{r}");
    let base = match b.base {
        Some(base) => base,
        None => c.repo(&full).ok_or_else(Error::not_found)?.default_branch,
    };
    let out = c
        .open_pr_as(&full, &b.head, &base, &b.title, b.user.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

#[derive(Deserialize, Default, ToSchema)]
struct ChangeBody {
    title: Option<String>,
}

#[utoipa::path(
    post,
    path = "/_control/repos/{owner}/{repo}/pulls/{number}/{op}",
    tag = "pulls",
    description = "Closes, reopens, merges or retitles a pull request; sends the matching `pull_request` webhook",
    params(("owner" = String, Path, description = "Repository owner"), ("repo" = String, Path, description = "Repository name"), ("number" = u64, Path, description = "Pull request number"), ("op" = String, Path, description = "`close`, `reopen`, `merge` or `edit` (needs `{\"title\"}`)")),
    request_body(content = Option<ChangeBody>, content_type = "application/json", description = "Optional"),
    responses((status = 200, description = "The pull request and its deliveries", body = Outcome<PullRequest>), (status = 400, description = "`edit` without a title", body = GithubError), (status = 404, description = "No such repository", body = GithubError), (status = 422, description = "Refused, as GitHub would", body = GithubError))
)]
async fn change_pr(
    AxState(s): AxState<S>,
    Path((o, r, number, op)): Path<(String, String, u64, String)>,
    body: Option<Json<ChangeBody>>,
) -> Result<Response, Error> {
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let change = match op.as_str() {
        "close" => PrChange::Close,
        "reopen" => PrChange::Reopen,
        "merge" => PrChange::Merge,
        "edit" => PrChange::EditTitle {
            title: body
                .title
                .ok_or_else(|| Error::new(400, "edit needs {\"title\"}"))?,
        },
        _ => return Err(Error::not_found()),
    };
    Ok(ok(ctl(&s)
        .change_pr(&format!("{o}/{r}"), number, change)
        .await?))
}

#[utoipa::path(
    get,
    path = "/_control/deliveries",
    tag = "deliveries",
    description = "Every webhook delivery so far, in order",
    responses((status = 200, description = "The delivery log", body = Vec<Delivery>))
)]
async fn deliveries(AxState(s): AxState<S>) -> Response {
    ok(ctl(&s).deliveries())
}

#[utoipa::path(
    delete,
    path = "/_control/deliveries",
    tag = "deliveries",
    description = "Forgets the delivery log",
    responses((status = 204, description = "Cleared"))
)]
async fn clear_deliveries(AxState(s): AxState<S>) -> StatusCode {
    ctl(&s).clear_deliveries();
    StatusCode::NO_CONTENT
}

#[utoipa::path(
    get,
    path = "/_control/deliveries/{id}",
    tag = "deliveries",
    description = "One delivery",
    params(("id" = String, Path, description = "The `X-GitHub-Delivery` id")),
    responses((status = 200, description = "The delivery", body = Delivery), (status = 404, description = "No such delivery", body = GithubError))
)]
async fn delivery(AxState(s): AxState<S>, Path(id): Path<String>) -> Result<Response, Error> {
    ctl(&s).delivery(&id).map(ok).ok_or_else(Error::not_found)
}

#[derive(Deserialize, Default, ToSchema)]
struct TamperBody {
    #[serde(default)]
    tamper: Tamper,
    count: Option<u32>,
}

#[utoipa::path(
    post,
    path = "/_control/deliveries/{id}/redeliver",
    tag = "deliveries",
    description = "Sends a delivery again (same id, like GitHub's redeliver), optionally tampered",
    params(("id" = String, Path, description = "The `X-GitHub-Delivery` id")),
    request_body(content = Option<TamperBody>, content_type = "application/json", description = "Optional"),
    responses((status = 200, description = "The new delivery", body = Delivery), (status = 404, description = "No such delivery", body = GithubError))
)]
async fn redeliver(
    AxState(s): AxState<S>,
    Path(id): Path<String>,
    body: Option<Json<TamperBody>>,
) -> Result<Response, Error> {
    let b = body.map(|Json(b)| b).unwrap_or_default();
    Ok(ok(ctl(&s).redeliver(&id, b.tamper).await?))
}

#[utoipa::path(
    post,
    path = "/_control/tamper",
    tag = "faults",
    description = "Tampers with the next `count` (default 1) deliveries",
    request_body(content = TamperBody, content_type = "application/json"),
    responses((status = 204, description = "Armed"))
)]
async fn tamper(AxState(s): AxState<S>, Json(b): Json<TamperBody>) -> StatusCode {
    ctl(&s).tamper_next(b.tamper, b.count.unwrap_or(1));
    StatusCode::NO_CONTENT
}

#[utoipa::path(
    get,
    path = "/_control/faults",
    tag = "faults",
    description = "The fault rules in force",
    responses((status = 200, description = "The rules, in match order", body = Vec<FaultRule>))
)]
async fn faults(AxState(s): AxState<S>) -> Response {
    ok(ctl(&s).faults())
}

#[utoipa::path(
    post,
    path = "/_control/faults",
    tag = "faults",
    description = "Adds a fault rule for REST requests",
    request_body(content = FaultRule, content_type = "application/json"),
    responses((status = 204, description = "Added"))
)]
async fn add_fault(AxState(s): AxState<S>, Json(rule): Json<FaultRule>) -> StatusCode {
    ctl(&s).inject_fault(rule);
    StatusCode::NO_CONTENT
}

#[utoipa::path(
    delete,
    path = "/_control/faults",
    tag = "faults",
    description = "Removes every fault rule",
    responses((status = 204, description = "Cleared"))
)]
async fn clear_faults(AxState(s): AxState<S>) -> StatusCode {
    ctl(&s).clear_faults();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize, ToSchema)]
struct SettingsBody {
    reject_private_urls: Option<bool>,
    html_base: Option<String>,
}

#[utoipa::path(
    post,
    path = "/_control/settings",
    tag = "settings",
    description = "Changes the fake's settings",
    request_body(content = SettingsBody, content_type = "application/json"),
    responses((status = 204, description = "Changed"))
)]
async fn settings(AxState(s): AxState<S>, Json(b): Json<SettingsBody>) -> StatusCode {
    ctl(&s).with_state(|st| {
        if let Some(v) = b.reject_private_urls {
            st.reject_private_urls = v;
        }
        if let Some(h) = b.html_base {
            st.html_base = h.trim_end_matches('/').to_string();
        }
    });
    StatusCode::NO_CONTENT
}

#[utoipa::path(
    get,
    path = "/_control/requests",
    tag = "inspect",
    description = "Every REST request the fake answered, in order",
    responses((status = 200, description = "The request log", body = Vec<RequestRecord>))
)]
async fn requests(AxState(s): AxState<S>) -> Response {
    ok(ctl(&s).requests())
}

#[utoipa::path(
    get,
    path = "/__github/openapi.json",
    tag = "meta",
    responses((status = 200, description = "This document", content_type = "application/json"))
)]
async fn openapi_json() -> Response {
    Json(ControlApi::openapi()).into_response()
}
