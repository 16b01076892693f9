//! The GitHub REST routes, fault injection and the request log.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, RawQuery, Request, State as AxState};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::control::Control;
use crate::faults::{self, FaultAction};
use crate::json::{self, Urls};
use crate::ops::{self, Error, HookSpec, PrChange};
use crate::pr_workflow;
use crate::state::{RequestRecord, State};
use crate::{ConnKill, Shared};

type S = Arc<Shared>;

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, Json(self.body)).into_response();
        for (k, v) in self.headers {
            if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
                resp.headers_mut().insert(k, v);
            }
        }
        resp
    }
}

/// The caller, from `Authorization: Bearer <t>` or `token <t>`.
pub(crate) struct Auth {
    pub(crate) login: String,
    scopes: Option<Vec<String>>,
}

impl Auth {
    fn has_scope(&self, any: &[&str]) -> bool {
        self.scopes
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| any.contains(&x.as_str())))
    }
}

impl FromRequestParts<S> for Auth {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let bad = || Error::new(401, "Bad credentials");
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::new(401, "Requires authentication"))?;
        let (scheme, token) = value.trim().split_once(' ').ok_or_else(bad)?;
        if !(scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token")) {
            return Err(bad());
        }
        let st = state.lock();
        let t = st.tokens.get(token.trim()).ok_or_else(bad)?;
        st.user(&t.login).ok_or_else(bad)?;
        Ok(Auth {
            login: t.login.clone(),
            scopes: t.scopes.clone(),
        })
    }
}

pub(crate) fn router(shared: S) -> Router {
    Router::new()
        .route("/user", get(get_user))
        .route("/user/repos", get(user_repos))
        .route("/user/orgs", get(user_orgs))
        .route("/orgs/{org}/repos", get(org_repos))
        .route("/repos/{owner}/{repo}", get(get_repo))
        .route(
            "/repos/{owner}/{repo}/hooks",
            get(list_hooks).post(create_hook),
        )
        .route(
            "/repos/{owner}/{repo}/hooks/{id}",
            get(get_hook).delete(delete_hook),
        )
        .route(
            "/repos/{owner}/{repo}/pulls",
            get(pr_workflow::list_pulls).post(create_pull),
        )
        .route("/repos/{owner}/{repo}/pulls/{number}", get(get_pull))
        .route(
            "/repos/{owner}/{repo}/pulls/{number}/merge",
            put(merge_pull),
        )
        .route("/repos/{owner}/{repo}/git/ref/{*reference}", get(get_ref))
        .route("/repos/{owner}/{repo}/git/refs", post(create_ref))
        .route(
            "/repos/{owner}/{repo}/commits/{reference}/status",
            get(combined_status),
        )
        .route(
            "/repos/{owner}/{repo}/commits/{reference}/check-runs",
            get(check_runs),
        )
        .merge(pr_workflow::routes())
        .fallback(|| async { Error::not_found() })
        .layer(middleware::from_fn_with_state(shared.clone(), redirects))
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            faults_and_log,
        ))
        .with_state(shared)
}

/// Apply injected faults, then log the request with its status.
async fn faults_and_log(AxState(shared): AxState<S>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let (fault, user_id) = {
        let mut st = shared.lock();
        let fault = faults::take(&mut st.faults, &method, &path);
        (fault, st.users.values().next().map_or(1, |u| u.id))
    };
    let log = |status: Option<u16>| {
        shared.lock().requests.push(RequestRecord {
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            status,
        })
    };
    let resp = match fault {
        None => next.run(req).await,
        Some(FaultAction::Latency { millis }) => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            next.run(req).await
        }
        Some(FaultAction::Status { status, message }) => {
            let msg = message.unwrap_or_else(|| {
                StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Error")
                    .to_string()
            });
            Error::new(status, &msg).into_response()
        }
        Some(FaultAction::RateLimit { reset_after_secs }) => {
            let reset = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
                + reset_after_secs;
            let mut e = Error::new(
                403,
                &format!(
                    "API rate limit exceeded for user ID {user_id}. If you reach out to GitHub Support for help, please include the request ID."
                ),
            );
            e.headers = vec![
                ("x-ratelimit-limit".into(), "5000".into()),
                ("x-ratelimit-remaining".into(), "0".into()),
                ("x-ratelimit-reset".into(), reset.to_string()),
                ("x-ratelimit-used".into(), "5000".into()),
                ("x-ratelimit-resource".into(), "core".into()),
            ];
            e.into_response()
        }
        Some(FaultAction::SecondaryRateLimit {
            retry_after_secs,
            status,
        }) => {
            let mut e = Error::new(
                status.unwrap_or(429),
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            );
            e.headers = vec![("retry-after".into(), retry_after_secs.to_string())];
            e.into_response()
        }
        Some(FaultAction::Drop) => {
            log(None);
            if let Some(ConnKill(kill)) = req.extensions().get::<ConnKill>().cloned() {
                kill.notify_one();
                std::future::pending::<()>().await;
            }
            // Not served through our accept loop: the best we can do is an empty 502.
            return StatusCode::BAD_GATEWAY.into_response();
        }
    };
    log(Some(resp.status().as_u16()));
    resp
}

/// `/repos/{old owner}/{old name}/…` of a renamed or transferred repository: GitHub answers
/// 301 (GET, HEAD) or 307 (other methods, so clients repeat the method and body) with the
/// same path under the new name.
async fn redirects(AxState(shared): AxState<S>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let mut parts = path.splitn(5, '/');
    let (Some(""), Some("repos"), Some(owner), Some(name)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return next.run(req).await;
    };
    let rest = parts.next().map(|r| format!("/{r}")).unwrap_or_default();
    let target = {
        let st = shared.lock();
        st.redirect(owner, name).map(|id| st.repos[&id].full_name())
    };
    let Some(target) = target else {
        return next.run(req).await;
    };
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let location = format!("{}/repos/{target}{rest}{query}", shared.base_url);
    let status = if matches!(req.method().as_str(), "GET" | "HEAD") {
        StatusCode::MOVED_PERMANENTLY
    } else {
        StatusCode::TEMPORARY_REDIRECT
    };
    let body = json!({
        "message": "Moved Permanently",
        "url": location,
        "documentation_url": "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects",
    });
    let mut resp = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::try_from(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

pub(crate) fn urls_of<'a>(shared: &'a Shared, html: &'a str) -> Urls<'a> {
    Urls {
        api: &shared.base_url,
        html,
    }
}

/// Resolve a repository visible to the caller (404 otherwise).
pub(crate) fn visible_repo(st: &State, auth: &Auth, owner: &str, repo: &str) -> Result<u64, Error> {
    let id = st.repo_id(owner, repo).ok_or_else(Error::not_found)?;
    if st.can_see(&auth.login, auth.scopes.as_deref(), &st.repos[&id]) {
        Ok(id)
    } else {
        Err(Error::not_found())
    }
}

/// Resolve a repository the caller may write to (404 otherwise, like GitHub).
fn writable_repo(st: &State, auth: &Auth, owner: &str, repo: &str) -> Result<u64, Error> {
    let id = visible_repo(st, auth, owner, repo)?;
    if st.has_push(&auth.login, &st.repos[&id]) {
        Ok(id)
    } else {
        Err(Error::not_found())
    }
}

pub(crate) fn parse_body(body: &Bytes) -> Result<Value, Error> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| Error::new(400, "Problems parsing JSON"))
}

/// Run an action under the lock, answer, and send its deliveries in the background: GitHub
/// delivers asynchronously, and the caller may be the very host that receives the webhook.
/// `Control::settle` waits for them.
async fn act<T>(
    shared: &S,
    f: impl FnOnce(&mut State, &Urls) -> Result<(T, Vec<crate::delivery::Outgoing>), Error>,
) -> Result<T, Error> {
    let (value, out) = {
        let mut st = shared.lock();
        let html = st.html_base.clone();
        f(&mut st, &urls_of(shared, &html))?
    };
    if !out.is_empty() {
        let control = Control::new(shared.clone());
        let task = tokio::spawn(async move {
            control.send(out).await;
        });
        shared
            .background
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(task);
    }
    Ok(value)
}

// ------------------------------------------------------------------ pagination

/// Slice `items` per `per_page`/`page` and add GitHub's `Link` header.
fn paginate(shared: &Shared, path: &str, raw_query: Option<&str>, items: Vec<Value>) -> Response {
    let q: HashMap<String, String> = raw_query
        .map(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    let per_page = q
        .get("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(30)
        .min(100);
    let page = q
        .get("page")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(1);
    let total = items.len();
    let last = total.div_ceil(per_page).max(1);
    let body: Vec<Value> = items
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    let link_to = |n: usize| {
        let mut parts: Vec<String> = raw_query
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                if p.starts_with("page=") {
                    format!("page={n}")
                } else {
                    p.to_string()
                }
            })
            .collect();
        if !parts.iter().any(|p| p.starts_with("page=")) {
            parts.push(format!("page={n}"));
        }
        format!("<{}{path}?{}>", shared.base_url, parts.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", link_to((page - 1).min(last))));
    }
    if page < last {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
        links.push(format!("{}; rel=\"last\"", link_to(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", link_to(1)));
    }
    let mut resp = Json(Value::Array(body)).into_response();
    if !links.is_empty()
        && let Ok(v) = HeaderValue::try_from(links.join(", "))
    {
        resp.headers_mut().insert(header::LINK, v);
    }
    resp
}

// ------------------------------------------------------------------ handlers

async fn get_user(AxState(shared): AxState<S>, auth: Auth) -> Response {
    let st = shared.lock();
    let html = st.html_base.clone();
    let body = json::authenticated_user(&st, &urls_of(&shared, &html), &auth.login);
    let mut resp = Json(body).into_response();
    if let Some(scopes) = &auth.scopes
        && let Ok(v) = HeaderValue::try_from(scopes.join(", "))
    {
        resp.headers_mut().insert("x-oauth-scopes", v);
    }
    resp
}

async fn user_repos(
    AxState(shared): AxState<S>,
    auth: Auth,
    Query(q): Query<HashMap<String, String>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let (mut visibility, mut affiliation) = (
        q.get("visibility").cloned().unwrap_or_else(|| "all".into()),
        q.get("affiliation")
            .cloned()
            .unwrap_or_else(|| "owner,collaborator,organization_member".into()),
    );
    match q.get("type").map(String::as_str) {
        Some("owner") => affiliation = "owner".into(),
        Some("member") => affiliation = "collaborator,organization_member".into(),
        Some(v @ ("public" | "private")) => visibility = v.into(),
        _ => {}
    }
    let aff: Vec<&str> = affiliation.split(',').map(str::trim).collect();
    let st = shared.lock();
    let html = st.html_base.clone();
    let urls = urls_of(&shared, &html);
    let me = auth.login.as_str();
    let mut repos: Vec<_> = st
        .repos
        .values()
        .filter(|r| match visibility.as_str() {
            "public" => !r.private,
            "private" => r.private,
            _ => true,
        })
        .filter(|r| !r.private || auth.has_scope(&["repo"]))
        .filter(|r| {
            (aff.contains(&"owner") && r.owner.eq_ignore_ascii_case(me))
                || (aff.contains(&"collaborator")
                    && r.collaborators.iter().any(|c| c.eq_ignore_ascii_case(me)))
                || (aff.contains(&"organization_member")
                    && st
                        .org(&r.owner)
                        .is_some_and(|o| o.members.iter().any(|m| m.eq_ignore_ascii_case(me))))
        })
        .collect();
    repos.sort_by_key(|r| r.full_name().to_ascii_lowercase());
    let items = repos
        .into_iter()
        .map(|r| json::repo(&st, &urls, r, Some(me)))
        .collect();
    drop(st);
    paginate(&shared, "/user/repos", raw.as_deref(), items)
}

async fn user_orgs(AxState(shared): AxState<S>, auth: Auth, RawQuery(raw): RawQuery) -> Response {
    let st = shared.lock();
    let html = st.html_base.clone();
    let urls = urls_of(&shared, &html);
    let mut orgs: Vec<_> = st
        .orgs
        .values()
        .filter(|o| {
            o.members
                .iter()
                .any(|m| m.eq_ignore_ascii_case(&auth.login))
        })
        .collect();
    orgs.sort_by_key(|o| o.id);
    let items = orgs.into_iter().map(|o| json::org(&urls, o)).collect();
    drop(st);
    paginate(&shared, "/user/orgs", raw.as_deref(), items)
}

async fn org_repos(
    AxState(shared): AxState<S>,
    auth: Auth,
    Path(org): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Error> {
    let st = shared.lock();
    let o = st.org(&org).ok_or_else(Error::not_found)?;
    let login = o.login.clone();
    let html = st.html_base.clone();
    let urls = urls_of(&shared, &html);
    let kind = q.get("type").map_or("all", String::as_str);
    let mut repos: Vec<_> = st
        .repos
        .values()
        .filter(|r| r.owner == login)
        .filter(|r| st.can_see(&auth.login, auth.scopes.as_deref(), r))
        .filter(|r| match kind {
            "public" => !r.private,
            "private" => r.private,
            "forks" => false,
            _ => true,
        })
        .collect();
    // GitHub's default for org repos: sort by creation, newest first.
    repos.sort_by_key(|r| std::cmp::Reverse(r.id));
    let items = repos
        .into_iter()
        .map(|r| json::repo(&st, &urls, r, Some(&auth.login)))
        .collect();
    drop(st);
    Ok(paginate(
        &shared,
        &format!("/orgs/{login}/repos"),
        raw.as_deref(),
        items,
    ))
}

async fn get_repo(
    AxState(shared): AxState<S>,
    auth: Auth,
    Path((owner, repo)): Path<(String, String)>,
) -> Result<Json<Value>, Error> {
    let st = shared.lock();
    let id = visible_repo(&st, &auth, &owner, &repo)?;
    let html = st.html_base.clone();
    Ok(Json(json::repo(
        &st,
        &urls_of(&shared, &html),
        &st.repos[&id],
        Some(&auth.login),
    )))
}

const HOOK_SCOPES: &[&str] = &["repo", "admin:repo_hook", "write:repo_hook"];
const HOOK_READ_SCOPES: &[&str] = &[
    "repo",
    "admin:repo_hook",
    "write:repo_hook",
    "read:repo_hook",
];

async fn list_hooks(
    AxState(shared): AxState<S>,
    auth: Auth,
    Path((owner, repo)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Error> {
    let st = shared.lock();
    let id = writable_repo(&st, &auth, &owner, &repo)?;
    if !auth.has_scope(HOOK_READ_SCOPES) {
        return Err(Error::not_found());
    }
    let html = st.html_base.clone();
    let urls = urls_of(&shared, &html);
    let r = &st.repos[&id];
    let items = r.hooks.values().map(|h| json::hook(&urls, r, h)).collect();
    let path = format!("/repos/{}/hooks", r.full_name());
    drop(st);
    Ok(paginate(&shared, &path, raw.as_deref(), items))
}

async fn get_hook(
    AxState(shared): AxState<S>,
    auth: Auth,
    Path((owner, repo, hook)): Path<(String, String, String)>,
) -> Result<Json<Value>, Error> {
    let st = shared.lock();
    let id = writable_repo(&st, &auth, &owner, &repo)?;
    let r = &st.repos[&id];
    let h = hook
        .parse::<u64>()
        .ok()
        .and_then(|n| r.hooks.get(&n))
        .ok_or_else(Error::not_found)?;
    let html = st.html_base.clone();
    Ok(Json(json::hook(&urls_of(&shared, &html), r, h)))
}

async fn create_hook(
    AxState(shared): AxState<S>,
    auth: Auth,
    Path((owner, repo)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Error> {
    let b = parse_body(&body)?;
    let name = b["name"].as_str().unwrap_or("web");
    if name != "web" {
        return Err(Error::validation(
            "Hook",
            Some("name"),
            "custom",
            "Name must be 'web'",
        ));
    }
    let config = &b["config"];
    let Some(url) = config["url"].as_str() else {
        return Err(Error::validation(
            "Hook",
            Some("url"),
            "missing_field",
            "url is missing",
        ));
    };
    let events = match &b["events"] {
        Value::Array(a) => a
            .iter()
            .filter_map(|e| e.as_str().map(str::to_string))
            .collect(),
        _ => vec!["push".to_string()],
    };
    let insecure_ssl = match &config["insecure_ssl"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => "0".to_string(),
    };
    let spec = HookSpec {
        url: url.to_string(),
        secret: config["secret"].as_str().map(str::to_string),
        events,
        active: b["active"].as_bool().unwrap_or(true),
        content_type: config["content_type"]
            .as_str()
            .unwrap_or("form")
            .to_string(),
        insecure_ssl,
    };
    let hook = act(&shared, |st, urls| {
        let id = writable_repo(st, &auth, &owner, &repo)?;
        if !auth.has_scope(HOOK_SCOPES) {
            return Err(Error::not_found());
        }
        ops::create_hook(st, urls, id, spec, &auth.login)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(hook)).into_response())
}

async fn delete_hook(
    AxState(shared): AxState<S>,
    auth: Auth,
    Path((owner, repo, hook)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    let mut st = shared.lock();
    let id = writable_repo(&st, &auth, &owner, &repo)?;
    if !auth.has_scope(HOOK_SCOPES) {
        return Err(Error::not_found());
    }
    let n = hook.parse::<u64>().map_err(|_| Error::not_found())?;
    st.repos
        .get_mut(&id)
        .expect("repo")
        .hooks
        .remove(&n)
        .ok_or_else(Error::not_found)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_pull(
    AxState(shared): AxState<S>,
    auth: Auth,
    headers: axum::http::HeaderMap,
    Path((owner, repo, number)): Path<(String, String, String)>,
) -> Result<Response, Error> {
    let st = shared.lock();
    let id = visible_repo(&st, &auth, &owner, &repo)?;
    let r = &st.repos[&id];
    let p = number
        .parse::<u64>()
        .ok()
        .and_then(|n| r.pulls.get(&n))
        .ok_or_else(Error::not_found)?;
    if pr_workflow::wants_diff(&headers) {
        return Ok(pr_workflow::diff_response(r, p));
    }
    let html = st.html_base.clone();
    Ok(Json(json::pull(&st, &urls_of(&shared, &html), r, p)).into_response())
}

async fn create_pull(
    AxState(shared): AxState<S>,
    auth: Auth,
    Path((owner, repo)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Error> {
    let b = parse_body(&body)?;
    let field = |f: &str| b[f].as_str().map(str::to_string);
    let (Some(title), Some(head), Some(base)) = (field("title"), field("head"), field("base"))
    else {
        let missing = ["title", "head", "base"]
            .into_iter()
            .find(|f| b[*f].as_str().is_none())
            .unwrap_or("title");
        return Err(Error::validation(
            "PullRequest",
            Some(missing),
            "missing_field",
            &format!("{missing} wasn't supplied."),
        ));
    };
    let pr = act(&shared, |st, urls| {
        let id = writable_repo(st, &auth, &owner, &repo)?;
        let (pr, out) = ops::open_pr(
            st,
            urls,
            id,
            &head,
            &base,
            &title,
            field("body"),
            &auth.login,
        )?;
        let draft = b["draft"].as_bool().unwrap_or(false);
        let pr = if draft {
            let p = st
                .repos
                .get_mut(&id)
                .and_then(|r| r.pulls.get_mut(&pr.number));
            let p = p.expect("the pull just opened");
            p.draft = true;
            p.clone()
        } else {
            pr
        };
        Ok((json::pull(st, urls, &st.repos[&id], &pr), out))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(pr)).into_response())
}

async fn merge_pull(
    AxState(shared): AxState<S>,
    auth: Auth,
    Path((owner, repo, number)): Path<(String, String, String)>,
) -> Result<Json<Value>, Error> {
    let n = number.parse::<u64>().map_err(|_| Error::not_found())?;
    let pr = act(&shared, |st, urls| {
        let id = writable_repo(st, &auth, &owner, &repo)?;
        ops::change_pr(st, urls, id, n, PrChange::Merge, Some(&auth.login))
    })
    .await?;
    Ok(Json(json!({
        "sha": pr.merge_commit_sha,
        "merged": true,
        "message": "Pull Request successfully merged",
    })))
}

async fn get_ref(
    AxState(shared): AxState<S>,
    auth: Auth,
    Path((owner, repo, reference)): Path<(String, String, String)>,
) -> Result<Json<Value>, Error> {
    let st = shared.lock();
    let id = visible_repo(&st, &auth, &owner, &repo)?;
    let r = &st.repos[&id];
    let branch = reference
        .strip_prefix("heads/")
        .ok_or_else(Error::not_found)?;
    let sha = r.branches.get(branch).ok_or_else(Error::not_found)?;
    let html = st.html_base.clone();
    Ok(Json(ops::ref_json(
        &urls_of(&shared, &html),
        &r.full_name(),
        branch,
        sha,
    )))
}

async fn create_ref(
    AxState(shared): AxState<S>,
    auth: Auth,
    Path((owner, repo)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Error> {
    let b = parse_body(&body)?;
    let Some(reference) = b["ref"].as_str().map(str::to_string) else {
        return Err(Error::unprocessable(
            "Invalid request.\n\n\"ref\" wasn't supplied.",
        ));
    };
    let Some(sha) = b["sha"].as_str().map(str::to_string) else {
        return Err(Error::unprocessable(
            "Invalid request.\n\n\"sha\" wasn't supplied.",
        ));
    };
    let v = act(&shared, |st, urls| {
        let id = writable_repo(st, &auth, &owner, &repo)?;
        ops::create_ref(st, urls, id, &reference, &sha, &auth.login)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

fn resolve_commit(st: &State, id: u64, reference: &str) -> Result<String, Error> {
    let r = &st.repos[&id];
    let name = reference.strip_prefix("heads/").unwrap_or(reference);
    r.branches
        .get(name)
        .cloned()
        .or_else(|| r.commits.contains(reference).then(|| reference.to_string()))
        .ok_or_else(|| Error::unprocessable(&format!("No commit found for SHA: {reference}")))
}

async fn combined_status(
    AxState(shared): AxState<S>,
    auth: Auth,
    Path((owner, repo, reference)): Path<(String, String, String)>,
) -> Result<Json<Value>, Error> {
    let st = shared.lock();
    let id = visible_repo(&st, &auth, &owner, &repo)?;
    let sha = resolve_commit(&st, id, &reference)?;
    let html = st.html_base.clone();
    let urls = urls_of(&shared, &html);
    let (statuses, state) = pr_workflow::statuses_json(&st.repos[&id], &sha);
    Ok(Json(json!({
        "state": state,
        "total_count": statuses.len(),
        "statuses": statuses,
        "sha": sha,
        "repository": json::repo(&st, &urls, &st.repos[&id], None),
    })))
}

async fn check_runs(
    AxState(shared): AxState<S>,
    auth: Auth,
    Path((owner, repo, reference)): Path<(String, String, String)>,
) -> Result<Json<Value>, Error> {
    let st = shared.lock();
    let id = visible_repo(&st, &auth, &owner, &repo)?;
    let sha = resolve_commit(&st, id, &reference)?;
    let html = st.html_base.clone();
    Ok(Json(pr_workflow::check_runs_json(
        &urls_of(&shared, &html),
        &st.repos[&id],
        &sha,
    )))
}
