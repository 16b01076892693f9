//! Core events the plugin subscribes to. Delivery is at-least-once, so each handler is
//! idempotent; failures are logged (the host ignores HandleEvent's outcome).
//!
//! Only `task.deleted`: Paca never publishes `project.deleted` (projects are hard-deleted and
//! the plugin's rows go with them through `ON DELETE CASCADE`). The webhooks of a deleted
//! project stay on GitHub; each of their deliveries costs one lookup and gets a 404.

use super::Plugin;
use crate::host::{Host, LogLevel};
use crate::sql::{self, Statement};
use serde_json::Value;
use uuid::Uuid;

pub(super) fn handle<H: Host>(p: &Plugin<'_, H>, topic: &str, payload: &[u8]) {
    let payload: Value = match serde_json::from_slice(payload) {
        Ok(v) => v,
        Err(e) => {
            p.log(
                LogLevel::Warn,
                &format!("github: ignoring {topic}: invalid payload: {e}"),
            );
            return;
        }
    };
    let id = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| payload.get(*k)?.as_str()?.parse::<Uuid>().ok())
    };
    match topic {
        // The payload's `id` is the *activity* id; the task is `task_id`.
        "task.deleted" => match id(&["task_id"]) {
            Some(task_id) => task_deleted(p, task_id),
            None => p.log(
                LogLevel::Warn,
                "github: ignoring task.deleted without a task_id",
            ),
        },
        other => p.log(LogLevel::Debug, &format!("github: ignoring event {other}")),
    }
}

/// Tasks are soft-deleted, so the foreign-key cascade never fires: remove the task's branch and
/// PR links here, but only if the task really is deleted (a replayed event for a restored task
/// must not drop its links).
fn task_deleted<H: Host>(p: &Plugin<'_, H>, task_id: Uuid) {
    let result = p.host.db_exec(
        sql::TaskDeletedCleanup::SQL,
        &sql::TaskDeletedCleanup::params(task_id),
    );
    match result {
        Ok(n) => p.log(
            LogLevel::Debug,
            &format!("github: task {task_id} deleted, {n} PR link(s) removed"),
        ),
        Err(e) => p.log(
            LogLevel::Error,
            &format!("github: cleaning up after task {task_id} failed: {e}"),
        ),
    }
}
