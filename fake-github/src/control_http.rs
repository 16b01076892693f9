//! `/_control/…`: the control API over HTTP (for `cargo xtask dev` and non-Rust tests).
//! Mirrors [`crate::Control`]. Errors are `{message, …}` with a 4xx status.

use std::sync::Arc;

use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Shared;
use crate::control::{Control, RepoSeed};
use crate::delivery::Tamper;
use crate::faults::FaultRule;
use crate::ops::{Error, PrChange};

type S = Arc<Shared>;

fn ctl(shared: &S) -> Control {
    Control::new(shared.clone())
}

fn ok<T: serde::Serialize>(v: T) -> Response {
    Json(serde_json::to_value(v).unwrap_or(Value::Null)).into_response()
}

pub(crate) fn router(shared: S) -> Router {
    Router::new()
        .route("/_control/state", get(state))
        .route("/_control/seed-demo", post(seed_demo))
        .route("/_control/users", post(add_user))
        .route("/_control/tokens", post(add_token))
        .route("/_control/orgs", post(add_org))
        .route("/_control/repos", post(add_repo))
        .route("/_control/repos/{owner}/{repo}", get(get_repo))
        .route("/_control/repos/{owner}/{repo}/branches", post(add_branch))
        .route(
            "/_control/repos/{owner}/{repo}/branches/{*branch}",
            delete(delete_branch),
        )
        .route("/_control/repos/{owner}/{repo}/push", post(push))
        .route("/_control/repos/{owner}/{repo}/rename", post(rename_repo))
        .route(
            "/_control/repos/{owner}/{repo}/transfer",
            post(transfer_repo),
        )
        .route("/_control/repos/{owner}/{repo}/pulls", post(open_pr))
        .route(
            "/_control/repos/{owner}/{repo}/check-runs",
            post(crate::pr_workflow::control_check_run),
        )
        .route(
            "/_control/repos/{owner}/{repo}/statuses",
            post(crate::pr_workflow::control_status),
        )
        .route(
            "/_control/repos/{owner}/{repo}/pulls/{number}/{op}",
            post(change_pr),
        )
        .route(
            "/_control/deliveries",
            get(deliveries).delete(clear_deliveries),
        )
        .route("/_control/deliveries/{id}", get(delivery))
        .route("/_control/deliveries/{id}/redeliver", post(redeliver))
        .route("/_control/tamper", post(tamper))
        .route(
            "/_control/faults",
            get(faults).post(add_fault).delete(clear_faults),
        )
        .route("/_control/settings", post(settings))
        .route("/_control/requests", get(requests))
        .with_state(shared)
}

#[derive(Deserialize)]
struct RenameBody {
    name: String,
}

async fn rename_repo(
    AxState(s): AxState<S>,
    Path((owner, repo)): Path<(String, String)>,
    Json(b): Json<RenameBody>,
) -> Result<Response, Error> {
    Ok(ok(ctl(&s).rename_repo(&format!("{owner}/{repo}"), &b.name)?))
}

#[derive(Deserialize)]
struct TransferBody {
    new_owner: String,
}

async fn transfer_repo(
    AxState(s): AxState<S>,
    Path((owner, repo)): Path<(String, String)>,
    Json(b): Json<TransferBody>,
) -> Result<Response, Error> {
    Ok(ok(
        ctl(&s).transfer_repo(&format!("{owner}/{repo}"), &b.new_owner)?
    ))
}

async fn state(AxState(s): AxState<S>) -> Response {
    ok(ctl(&s).snapshot())
}

async fn seed_demo(AxState(s): AxState<S>) -> Result<Response, Error> {
    ctl(&s).seed_demo()?;
    Ok(ok(json!({"token": "ghp_demo_token", "login": "demo"})))
}

#[derive(Deserialize)]
struct UserBody {
    login: String,
    name: Option<String>,
    token: Option<String>,
    scopes: Option<Vec<String>>,
}

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

#[derive(Deserialize)]
struct TokenBody {
    token: String,
    login: String,
    scopes: Option<Vec<String>>,
}

async fn add_token(AxState(s): AxState<S>, Json(b): Json<TokenBody>) -> Response {
    let scopes: Option<Vec<&str>> = b
        .scopes
        .as_ref()
        .map(|v| v.iter().map(String::as_str).collect());
    ctl(&s).add_token(&b.token, &b.login, scopes.as_deref());
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct OrgBody {
    login: String,
    #[serde(default)]
    members: Vec<String>,
}

async fn add_org(AxState(s): AxState<S>, Json(b): Json<OrgBody>) -> Response {
    let members: Vec<&str> = b.members.iter().map(String::as_str).collect();
    (
        StatusCode::CREATED,
        Json(ctl(&s).add_org(&b.login, &members)),
    )
        .into_response()
}

async fn add_repo(AxState(s): AxState<S>, Json(b): Json<RepoSeed>) -> Result<Response, Error> {
    let r = ctl(&s).add_repo(b)?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

async fn get_repo(
    AxState(s): AxState<S>,
    Path((o, r)): Path<(String, String)>,
) -> Result<Response, Error> {
    ctl(&s)
        .repo(&format!("{o}/{r}"))
        .map(ok)
        .ok_or_else(Error::not_found)
}

#[derive(Deserialize)]
struct BranchBody {
    name: String,
    at: Option<String>,
}

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

async fn delete_branch(
    AxState(s): AxState<S>,
    Path((o, r, branch)): Path<(String, String, String)>,
) -> Result<Response, Error> {
    Ok(ok(ctl(&s)
        .delete_branch(&format!("{o}/{r}"), &branch)
        .await?))
}

#[derive(Deserialize)]
struct PushBody {
    branch: String,
    /// Create the branch at this branch/sha instead of pushing a new commit.
    from: Option<String>,
}

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

#[derive(Deserialize)]
struct PrBody {
    head: String,
    base: Option<String>,
    title: String,
    user: Option<String>,
}

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

#[derive(Deserialize, Default)]
struct ChangeBody {
    title: Option<String>,
}

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

async fn deliveries(AxState(s): AxState<S>) -> Response {
    ok(ctl(&s).deliveries())
}

async fn clear_deliveries(AxState(s): AxState<S>) -> StatusCode {
    ctl(&s).clear_deliveries();
    StatusCode::NO_CONTENT
}

async fn delivery(AxState(s): AxState<S>, Path(id): Path<String>) -> Result<Response, Error> {
    ctl(&s).delivery(&id).map(ok).ok_or_else(Error::not_found)
}

#[derive(Deserialize, Default)]
struct TamperBody {
    #[serde(default)]
    tamper: Tamper,
    count: Option<u32>,
}

async fn redeliver(
    AxState(s): AxState<S>,
    Path(id): Path<String>,
    body: Option<Json<TamperBody>>,
) -> Result<Response, Error> {
    let b = body.map(|Json(b)| b).unwrap_or_default();
    Ok(ok(ctl(&s).redeliver(&id, b.tamper).await?))
}

async fn tamper(AxState(s): AxState<S>, Json(b): Json<TamperBody>) -> StatusCode {
    ctl(&s).tamper_next(b.tamper, b.count.unwrap_or(1));
    StatusCode::NO_CONTENT
}

async fn faults(AxState(s): AxState<S>) -> Response {
    ok(ctl(&s).faults())
}

async fn add_fault(AxState(s): AxState<S>, Json(rule): Json<FaultRule>) -> StatusCode {
    ctl(&s).inject_fault(rule);
    StatusCode::NO_CONTENT
}

async fn clear_faults(AxState(s): AxState<S>) -> StatusCode {
    ctl(&s).clear_faults();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct SettingsBody {
    reject_private_urls: Option<bool>,
    html_base: Option<String>,
}

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

async fn requests(AxState(s): AxState<S>) -> Response {
    ok(ctl(&s).requests())
}
