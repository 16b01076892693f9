//! The slice of Paca's core API the plugin's frontend reads, served from devhost's core tables:
//! `GET /api/v1/projects/{projectId}`, `GET /api/v1/projects/{projectId}/tasks` and
//! `GET /api/v1/projects/{projectId}/tasks/{taskId}`, in Paca's envelope `{success, data}`.
//! Shapes follow Paca's plugin SDK types: project `{id, name, description, task_id_prefix, …}`,
//! task `{id, project_id, task_number, title, description, status_id, assignee_ids, …}`, the task
//! list `{items, total}`. Callers authenticate like on plugin routes (session cookie
//! `access_token`, bearer token or API key of a dev identity), must be members of the project and
//! hold `tasks:read`. Identities added at run time with `DevHost::add_identity` are not seen here.

use crate::middleware::{Cred, credentials, error};
use crate::seed::Identity;
use axum::Router;
use axum::extract::{Path as AxPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use sqlx::{PgPool, Row};
use std::collections::BTreeMap;
use std::sync::Arc;

struct Core {
    pool: PgPool,
    identities: Vec<Identity>,
}

pub fn routes(cfg: &crate::DevHostConfig, pool: PgPool) -> Router {
    let mut identities = crate::seed::dev_identities();
    identities.extend(cfg.identities.iter().cloned());
    Router::new()
        .route("/api/v1/projects/{project_id}", get(project))
        .route("/api/v1/projects/{project_id}/tasks", get(tasks))
        .route("/api/v1/projects/{project_id}/tasks/{task_id}", get(task))
        .with_state(Arc::new(Core { pool, identities }))
}

fn ok(data: Value) -> Response {
    axum::Json(json!({"success": true, "data": data})).into_response()
}

fn internal(e: sqlx::Error) -> Response {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL_ERROR",
        &crate::db::pg_error_text(&e),
    )
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.chars().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Who is calling, and may they read tasks of `project_id`? (Paca answers the same way.)
async fn authorize(core: &Core, headers: &HeaderMap, project_id: &str) -> Result<(), Response> {
    let canonical: BTreeMap<String, String> = headers
        .iter()
        .map(|(k, v)| {
            (
                crate::canon::canonical_header_key(k.as_str()),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let token = match credentials(&canonical) {
        Cred::None => None,
        Cred::Jwt(t) | Cred::ApiKey(t) => Some(t),
    };
    let unauth = || {
        error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "authentication required",
        )
    };
    let id = token
        .and_then(|t| core.identities.iter().find(|i| i.token == t))
        .ok_or_else(unauth)?;
    if id.must_change_password {
        return Err(error(
            StatusCode::FORBIDDEN,
            "PASSWORD_CHANGE_REQUIRED",
            "password change required",
        ));
    }
    if !is_uuid(project_id) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "invalid project id",
        ));
    }
    // Per project and role, as the plugin routes' requireActions judges it.
    let held = crate::seed::project_actions(&core.pool, project_id, &id.user_id)
        .await
        .map_err(internal)?;
    let member = held.as_ref();
    let reads = held
        .as_ref()
        .is_some_and(|(_, actions)| actions.iter().any(|a| a == "*" || a == "tasks:read"));
    if member.is_none() || !reads {
        return Err(error(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "permission denied",
        ));
    }
    Ok(())
}

async fn project(
    State(core): State<Arc<Core>>,
    AxPath(project_id): AxPath<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authorize(&core, &headers, &project_id).await {
        return r;
    }
    let row = sqlx::query(
        "SELECT id::text, name, description, task_id_prefix, created_at::text, updated_at::text \
         FROM public.projects WHERE id = $1::uuid AND deleted_at IS NULL",
    )
    .bind(&project_id)
    .fetch_optional(&core.pool)
    .await;
    match row {
        Ok(Some(r)) => ok(json!({
            "id": r.get::<String, _>(0), "name": r.get::<String, _>(1),
            "description": r.get::<String, _>(2), "task_id_prefix": r.get::<String, _>(3),
            "created_at": r.get::<String, _>(4), "updated_at": r.get::<String, _>(5),
        })),
        Ok(None) => error(StatusCode::NOT_FOUND, "NOT_FOUND", "project not found"),
        Err(e) => internal(e),
    }
}

const TASK_COLUMNS: &str = "id::text, project_id::text, task_number, title, description, status_id::text, \
     (SELECT array_agg(x::text) FROM unnest(assignee_ids) x), created_at::text, updated_at::text";

fn task_json(r: &sqlx::postgres::PgRow) -> Value {
    json!({
        "id": r.get::<String, _>(0), "project_id": r.get::<String, _>(1),
        "task_number": r.get::<i64, _>(2), "title": r.get::<String, _>(3),
        "description": r.get::<String, _>(4), "status_id": r.get::<Option<String>, _>(5),
        "assignee_ids": r.get::<Option<Vec<String>>, _>(6),
        "created_at": r.get::<String, _>(7), "updated_at": r.get::<String, _>(8),
    })
}

async fn tasks(
    State(core): State<Arc<Core>>,
    AxPath(project_id): AxPath<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authorize(&core, &headers, &project_id).await {
        return r;
    }
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {TASK_COLUMNS} FROM public.tasks \
         WHERE project_id = $1::uuid AND deleted_at IS NULL ORDER BY task_number"
    )))
    .bind(&project_id)
    .fetch_all(&core.pool)
    .await;
    match rows {
        Ok(rows) => {
            let items: Vec<Value> = rows.iter().map(task_json).collect();
            ok(json!({"total": items.len(), "items": items}))
        }
        Err(e) => internal(e),
    }
}

async fn task(
    State(core): State<Arc<Core>>,
    AxPath((project_id, task_id)): AxPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authorize(&core, &headers, &project_id).await {
        return r;
    }
    if !is_uuid(&task_id) {
        return error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "invalid task id");
    }
    // scoped to the path's project: a task of another project is simply not found
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {TASK_COLUMNS} FROM public.tasks \
         WHERE id = $1::uuid AND project_id = $2::uuid AND deleted_at IS NULL"
    )))
    .bind(&task_id)
    .bind(&project_id)
    .fetch_optional(&core.pool)
    .await;
    match row {
        Ok(Some(r)) => ok(task_json(&r)),
        Ok(None) => error(StatusCode::NOT_FOUND, "NOT_FOUND", "task not found"),
        Err(e) => internal(e),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuid_shape() {
        assert!(super::is_uuid("00000000-0000-4000-8000-000000000001"));
        assert!(!super::is_uuid("00000000000040008000000000000001"));
        assert!(!super::is_uuid("00000000-0000-4000-8000-00000000000z"));
    }
}
