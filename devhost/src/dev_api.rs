//! The devhost's own control endpoints under `/__devhost/`: what the plugin recorded (events,
//! activities, dispatches, logs), seeding projects and tasks, deleting a task (which dispatches
//! `task.deleted`), and their OpenAPI document at `/__devhost/openapi.json`.
//!
//! The document is written with utoipa next to the handlers. The plugin's own API is not
//! described here: it is spec-first (`spec/openapi.yaml`).

use crate::core_events::delete_task;
use crate::events::{DispatchedEvent, EmittedEvent, LogLine};
use crate::middleware::error;
use crate::seed::Seed;
use crate::server::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use fake_github::served::ServedRoutes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use utoipa::{OpenApi, ToSchema};

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/__devhost/openapi.json";

/// The control API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "paca-devhost control API",
        description = "The local host's own endpoints for demos and tests: recorded plugin \
                       events, seeding, task deletion. The plugin's API is described by \
                       spec/openapi.yaml, not here."
    ),
    paths(
        events_get,
        events_clear,
        task_delete,
        seed_project,
        seed_task,
        openapi_json
    ),
    components(schemas(
        EventsSnapshot,
        EmittedEvent,
        DispatchedEvent,
        LogLine,
        TaskDeleted,
        SeedProjectRequest,
        SeededProject,
        SeedTaskRequest,
        SeededTask,
        ErrorEnvelope
    ))
)]
pub struct ControlApi;

fn routes() -> ServedRoutes<Arc<AppState>> {
    ServedRoutes::new()
        .get("/__devhost/events", events_get)
        .delete("/__devhost/events", events_clear)
        .post("/__devhost/tasks/{task_id}/delete", task_delete)
        .post("/__devhost/seed/project", seed_project)
        .post("/__devhost/seed/task", seed_task)
        .get(OPENAPI_PATH, openapi_json)
}

/// The control routes (state still to be provided).
pub(crate) fn router() -> Router<Arc<AppState>> {
    routes().into_router()
}

/// `(lower-case method, path)` of every control route the router serves; the test of the
/// OpenAPI document compares it with the document's operations.
pub fn served_routes() -> Vec<(&'static str, &'static str)> {
    routes().served()
}

/// Everything the plugin recorded so far, oldest first.
#[derive(Serialize, ToSchema)]
pub struct EventsSnapshot {
    /// `event_emit` calls.
    emitted: Vec<EmittedEvent>,
    /// Events fanned out by successful `activity_record` calls.
    activities: Vec<Value>,
    /// Core events sent (or not) to `HandleEvent`.
    dispatched: Vec<DispatchedEvent>,
    /// `log` calls.
    logs: Vec<LogLine>,
}

/// The `task.deleted` activity payload that was dispatched (field order as Paca's Go struct).
#[derive(ToSchema)]
#[allow(dead_code)] // describes the JSON `core_events::delete_task` builds
pub struct TaskDeleted {
    id: String,
    task_id: String,
    project_id: String,
    /// Always `task.deleted`.
    activity_type: String,
    /// Always `{}`.
    content: String,
    created_at: String,
    updated_at: String,
    /// The user behind the bearer token, when one was sent.
    actor_id: Option<String>,
}

/// Body of `POST /__devhost/seed/project`; a missing or unreadable body means all defaults.
#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct SeedProjectRequest {
    /// Default `Dev project`.
    name: Option<String>,
    /// Default `DEV`.
    task_id_prefix: Option<String>,
}

/// A created project (the dev identities are members).
#[derive(Serialize, ToSchema)]
pub struct SeededProject {
    id: String,
}

/// Body of `POST /__devhost/seed/task`; a missing or unreadable body means all defaults.
#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct SeedTaskRequest {
    project_id: Option<String>,
    /// Default `Task`.
    title: Option<String>,
}

/// A created task.
#[derive(Serialize, ToSchema)]
pub struct SeededTask {
    id: String,
    /// The next number in its project.
    task_number: i64,
}

/// Paca's error envelope.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the JSON `middleware::error` builds
pub struct ErrorEnvelope {
    /// Always `false`.
    success: bool,
    error: String,
    error_code: String,
}

#[utoipa::path(
    get,
    path = "/__devhost/events",
    tag = "events",
    responses((status = 200, description = "What the plugin recorded", body = EventsSnapshot))
)]
async fn events_get(State(s): State<Arc<AppState>>) -> Response {
    axum::Json(EventsSnapshot {
        emitted: s.events.emitted(),
        activities: s.events.activities(),
        dispatched: s.events.dispatched(),
        logs: s.events.logs(),
    })
    .into_response()
}

#[utoipa::path(
    delete,
    path = "/__devhost/events",
    tag = "events",
    responses((status = 204, description = "Everything recorded is forgotten"))
)]
async fn events_clear(State(s): State<Arc<AppState>>) -> StatusCode {
    s.events.clear();
    StatusCode::NO_CONTENT
}

fn bearer_user(s: &AppState, headers: &HeaderMap) -> Option<String> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let token = auth.strip_prefix("Bearer ")?;
    s.identities
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .find(|i| i.token == token)
        .map(|i| i.user_id.clone())
}

#[utoipa::path(
    post,
    path = "/__devhost/tasks/{task_id}/delete",
    tag = "tasks",
    description = "Soft-deletes the task and dispatches `task.deleted` to the plugin when it \
                   subscribes; the bearer token, if any, names the actor.",
    params(
        ("task_id" = String, Path, description = "The task's id"),
        ("Authorization" = Option<String>, Header, description = "`Bearer <dev token>`: the actor")
    ),
    responses(
        (status = 200, description = "The payload dispatched", body = TaskDeleted),
        (status = 404, description = "No such task, or already deleted", body = ErrorEnvelope)
    )
)]
async fn task_delete(
    State(s): State<Arc<AppState>>,
    Path(task_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let actor = bearer_user(&s, &headers);
    match delete_task(&s, &task_id, actor.as_deref()).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => error(StatusCode::NOT_FOUND, "NOT_FOUND", &e.to_string()),
    }
}

/// Reads a JSON body leniently, like the endpoints always did: anything unreadable is defaults.
fn lenient<T: for<'de> Deserialize<'de> + Default>(body: &[u8]) -> T {
    serde_json::from_slice(body).unwrap_or_default()
}

#[utoipa::path(
    post,
    path = "/__devhost/seed/project",
    tag = "seed",
    request_body(content = SeedProjectRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The project, with the dev identities as members", body = SeededProject),
        (status = 400, description = "The database refused it", body = ErrorEnvelope)
    )
)]
async fn seed_project(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    let req: SeedProjectRequest = lenient(&body);
    let seed = Seed {
        pool: s.pool.clone(),
    };
    let name = req.name.as_deref().unwrap_or("Dev project");
    let prefix = req.task_id_prefix.as_deref().unwrap_or("DEV");
    let r = async {
        let id = seed.project(name, prefix).await?;
        seed.dev_members(&id).await?;
        anyhow::Ok(id)
    }
    .await;
    match r {
        Ok(id) => axum::Json(SeededProject { id }).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &e.to_string()),
    }
}

#[utoipa::path(
    post,
    path = "/__devhost/seed/task",
    tag = "seed",
    request_body(content = SeedTaskRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The task", body = SeededTask),
        (status = 400, description = "No such project, or the database refused it", body = ErrorEnvelope)
    )
)]
async fn seed_task(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    let req: SeedTaskRequest = lenient(&body);
    let seed = Seed {
        pool: s.pool.clone(),
    };
    match seed
        .task(
            req.project_id.as_deref().unwrap_or_default(),
            req.title.as_deref().unwrap_or("Task"),
        )
        .await
    {
        Ok(t) => axum::Json(SeededTask {
            id: t.id,
            task_number: t.task_number,
        })
        .into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &e.to_string()),
    }
}

#[utoipa::path(
    get,
    path = "/__devhost/openapi.json",
    tag = "meta",
    responses((status = 200, description = "This document", content_type = "application/json"))
)]
async fn openapi_json() -> Response {
    axum::Json(ControlApi::openapi()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_path_is_the_served_one() {
        assert!(served_routes().contains(&("get", OPENAPI_PATH)));
    }
}
