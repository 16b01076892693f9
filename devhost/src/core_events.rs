//! Core events the devhost sends to the plugin's `HandleEvent`: any subscribed topic, and the
//! soft deletion of a task with the `task.deleted` activity payload Paca publishes.

use crate::events::DispatchedEvent;
use crate::server::AppState;
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

/// The `task.deleted` activity payload (field order as the host's Go struct).
#[derive(Serialize)]
struct ActivityPayload<'a> {
    id: String,
    task_id: &'a str,
    project_id: String,
    activity_type: &'a str,
    content: &'a str,
    created_at: String,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor_id: Option<&'a str>,
}

pub(crate) async fn emit(state: &AppState, topic: &str, payload: &Value) -> bool {
    let subscribed = state
        .manifest
        .backend()
        .event_subscriptions
        .iter()
        .any(|t| t == topic);
    let delivered = subscribed
        && state
            .plugins
            .dispatch_event(topic, serde_json::to_vec(payload).unwrap_or_default())
            .await;
    state.events.record_dispatch(DispatchedEvent {
        topic: topic.to_owned(),
        payload: payload.clone(),
        delivered,
    });
    delivered
}

pub(crate) async fn delete_task(
    state: &AppState,
    task_id: &str,
    actor: Option<&str>,
) -> anyhow::Result<Value> {
    let row = sqlx::query(
        "UPDATE public.tasks SET deleted_at = now(), updated_at = now() \
         WHERE id::text = $1 AND deleted_at IS NULL \
         RETURNING project_id::text, gen_random_uuid()::text, \
         to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')",
    )
    .bind(task_id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(|| anyhow::anyhow!("task {task_id} not found or already deleted"))?;
    let now = trim_frac(&row.get::<String, _>(2));
    let payload = ActivityPayload {
        id: row.get(1),
        task_id,
        project_id: row.get(0),
        activity_type: "task.deleted",
        content: "{}",
        created_at: now.clone(),
        updated_at: now,
        actor_id: actor,
    };
    let value = serde_json::to_value(&payload)?;
    // keep the Go field order on the wire
    let bytes = serde_json::to_vec(&payload)?;
    let subscribed = state
        .manifest
        .backend()
        .event_subscriptions
        .iter()
        .any(|t| t == "task.deleted");
    let delivered = subscribed && state.plugins.dispatch_event("task.deleted", bytes).await;
    state.events.record_dispatch(DispatchedEvent {
        topic: "task.deleted".into(),
        payload: value.clone(),
        delivered,
    });
    Ok(value)
}

/// `…T03:04:05.120000` → `…T03:04:05.12Z` (RFC3339Nano, UTC).
fn trim_frac(s: &str) -> String {
    let t = s.trim_end_matches('0').trim_end_matches('.');
    format!("{t}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frac_trim() {
        assert_eq!(
            trim_frac("2024-01-02T03:04:05.120000"),
            "2024-01-02T03:04:05.12Z"
        );
        assert_eq!(
            trim_frac("2024-01-02T03:04:05.000000"),
            "2024-01-02T03:04:05Z"
        );
    }
}
