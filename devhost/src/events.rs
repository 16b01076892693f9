//! Observable records of what the plugin did through the host: `event_emit` calls,
//! `activity_record` calls, log lines and dispatched core events.

use serde::Serialize;
use serde_json::Value;
use std::sync::Mutex;

/// One `event_emit` call, as the host publishes it: `{"type","source","payload"}`.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EmittedEvent {
    #[serde(rename = "type")]
    pub topic: String,
    pub source: String,
    pub payload: Value,
}

/// One `log` call.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LogLine {
    pub level: &'static str,
    pub message: String,
}

/// One core event delivered (or not) to `HandleEvent`.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DispatchedEvent {
    pub topic: String,
    pub payload: Value,
    /// false when the topic is not in `eventSubscriptions`, the payload was over the
    /// limit, or `HandleEvent` is not exported.
    pub delivered: bool,
}

#[derive(Default, Debug)]
pub struct EventLog {
    emitted: Mutex<Vec<EmittedEvent>>,
    activities: Mutex<Vec<Value>>,
    logs: Mutex<Vec<LogLine>>,
    dispatched: Mutex<Vec<DispatchedEvent>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl EventLog {
    pub fn record_emit(&self, e: EmittedEvent) {
        lock(&self.emitted).push(e);
    }
    /// Every `event_emit` call so far, in order.
    pub fn emitted(&self) -> Vec<EmittedEvent> {
        lock(&self.emitted).clone()
    }
    pub fn record_activity(&self, v: Value) {
        lock(&self.activities).push(v);
    }
    /// Events fanned out by successful `activity_record` calls.
    pub fn activities(&self) -> Vec<Value> {
        lock(&self.activities).clone()
    }
    pub fn record_log(&self, l: LogLine) {
        lock(&self.logs).push(l);
    }
    pub fn logs(&self) -> Vec<LogLine> {
        lock(&self.logs).clone()
    }
    pub fn record_dispatch(&self, d: DispatchedEvent) {
        lock(&self.dispatched).push(d);
    }
    pub fn dispatched(&self) -> Vec<DispatchedEvent> {
        lock(&self.dispatched).clone()
    }
    /// Forgets everything recorded so far.
    pub fn clear(&self) {
        lock(&self.emitted).clear();
        lock(&self.activities).clear();
        lock(&self.logs).clear();
        lock(&self.dispatched).clear();
    }
}
