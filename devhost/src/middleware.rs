//! Route middlewares of the host (contract §5.2) and the IAM decision of `requireActions`
//! (contract updates §1): who the caller is, and what they hold **in the route's project**.
//!
//! Permissions are per project and role: a member holds the built-in role of their
//! membership (Admin `*`, Editor, Viewer) plus the roles attached to them in that project
//! ([`crate::seed::project_actions`]); a non-member is refused. An agent's API key is judged
//! on the agent's own memberships and attachments. Without a project, actions are checked on
//! the platform root, where only `SUPER_ADMIN` holds anything (`*`).

use crate::manifest::Middleware;
use crate::seed::Identity;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// Paca's API error envelope, as the host's own middlewares answer.
pub fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"success": false, "error": message, "error_code": code}).to_string();
    (status, [("content-type", "application/json")], body).into_response()
}

pub(crate) enum Cred {
    None,
    Jwt(String),
    ApiKey(String),
}

pub(crate) fn credentials(headers: &BTreeMap<String, String>) -> Cred {
    if let Some(cookie) = headers.get("Cookie") {
        for part in cookie.split(';') {
            if let Some(v) = part.trim().strip_prefix("access_token=")
                && !v.is_empty()
            {
                return Cred::Jwt(v.to_owned());
            }
        }
    }
    if let Some(auth) = headers.get("Authorization") {
        if let Some(t) = auth.strip_prefix("Bearer ") {
            return Cred::Jwt(t.trim().to_owned());
        }
        if let Some(k) = auth.strip_prefix("ApiKey ") {
            return Cred::ApiKey(k.trim().to_owned());
        }
    }
    if let Some(k) = headers.get("X-Api-Key") {
        return Cred::ApiKey(k.clone());
    }
    Cred::None
}

/// Who is calling, as the middlewares resolved it.
pub struct Caller {
    pub identity: Option<Identity>,
    pub via_api_key: bool,
    pub project_id: String,
    pub caller_id: String,
    /// What the caller holds on the request's scope: the route's project when it has one,
    /// else the platform root. `permission_check` answers from this.
    pub actions: Vec<String>,
}

/// Actions held at platform scope (requests without a project).
fn platform_actions(id: &Identity) -> Vec<String> {
    if id.role == "SUPER_ADMIN" {
        vec!["*".into()]
    } else {
        Vec::new()
    }
}

fn holds(held: &[String], action: &str) -> bool {
    held.iter().any(|h| h == "*" || h == action)
}

/// Runs the route's middlewares in order; `Err` is the host's refusal.
pub async fn apply(
    identities: &Mutex<Vec<Identity>>,
    pool: &PgPool,
    mws: &[Middleware],
    params: &HashMap<String, String>,
    headers: &BTreeMap<String, String>,
) -> Result<Caller, Response> {
    let mut caller = Caller {
        identity: None,
        via_api_key: false,
        project_id: String::new(),
        caller_id: String::new(),
        actions: Vec::new(),
    };
    let lookup = |t: &str| {
        identities
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|i| i.token == t)
            .cloned()
    };
    let unauth = || {
        error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "authentication required",
        )
    };
    for mw in mws {
        match mw.name.to_ascii_lowercase().as_str() {
            "authn" => match credentials(headers) {
                Cred::None => return Err(unauth()),
                Cred::Jwt(t) | Cred::ApiKey(t) => {
                    let api = matches!(credentials(headers), Cred::ApiKey(_));
                    caller.identity = Some(lookup(&t).ok_or_else(unauth)?);
                    caller.via_api_key = api;
                }
            },
            "optionalauthn" => match credentials(headers) {
                Cred::None => {}
                Cred::Jwt(t) => caller.identity = Some(lookup(&t).ok_or_else(unauth)?),
                Cred::ApiKey(k) => {
                    if let Some(id) = lookup(&k) {
                        caller.identity = Some(id);
                        caller.via_api_key = true;
                    }
                }
            },
            "requirefreshpassword" => {
                if caller
                    .identity
                    .as_ref()
                    .is_some_and(|i| i.must_change_password)
                {
                    return Err(error(
                        StatusCode::FORBIDDEN,
                        "PASSWORD_CHANGE_REQUIRED",
                        "password change required",
                    ));
                }
            }
            "requirejwtauth" => {
                if caller.via_api_key {
                    return Err(error(
                        StatusCode::FORBIDDEN,
                        "FORBIDDEN",
                        "JWT authentication required",
                    ));
                }
            }
            "requireactions" => require_actions(pool, mw, params, &mut caller).await?,
            "requirepermissions" => {
                return Err(error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_ERROR",
                    "requirePermissions is no longer supported; use requireActions with IAM actions",
                ));
            }
            _ => {
                return Err(error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_ERROR",
                    "unsupported middleware",
                ));
            }
        }
    }
    if caller.actions.is_empty()
        && caller.project_id.is_empty()
        && let Some(id) = &caller.identity
    {
        caller.actions = platform_actions(id);
    }
    Ok(caller)
}

/// `requireActions`: every action must be held on the route's project (scope `project` with
/// the param present) or on the platform root otherwise.
async fn require_actions(
    pool: &PgPool,
    mw: &Middleware,
    params: &HashMap<String, String>,
    caller: &mut Caller,
) -> Result<(), Response> {
    let Some(id) = caller.identity.clone() else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "authentication required",
        ));
    };
    let param = mw
        .project_param
        .clone()
        .unwrap_or_else(|| "projectId".into());
    let project = if mw.scope.as_deref() == Some("project") {
        params.get(&param).cloned()
    } else {
        None
    };
    let held = match &project {
        Some(pid) => {
            if !is_uuid(pid) {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    "invalid project id",
                ));
            }
            let member = crate::seed::project_actions(pool, pid, &id.user_id)
                .await
                .map_err(|e| {
                    error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "INTERNAL_ERROR",
                        &e.to_string(),
                    )
                })?;
            let Some((member_id, actions)) = member else {
                return Err(error(
                    StatusCode::FORBIDDEN,
                    "FORBIDDEN",
                    "not a member of this project",
                ));
            };
            caller.project_id = pid.clone();
            caller.caller_id = member_id;
            actions
        }
        None => platform_actions(&id),
    };
    if !mw.actions.iter().all(|a| holds(&held, a)) {
        return Err(error(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "permission denied",
        ));
    }
    caller.actions = held;
    Ok(())
}

pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    let hex = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_hexdigit);
    if b.len() == 36 {
        b[8] == b'-'
            && b[13] == b'-'
            && b[18] == b'-'
            && b[23] == b'-'
            && hex(0..8)
            && hex(9..13)
            && hex(14..18)
            && hex(19..23)
            && hex(24..36)
    } else {
        b.len() == 32 && hex(0..32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_check() {
        assert!(is_uuid("00000000-0000-4000-8000-000000000001"));
        assert!(!is_uuid("not-a-uuid"));
        assert!(!is_uuid("00000000-0000-4000-8000-00000000000g"));
    }
}
