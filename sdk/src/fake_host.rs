//! A scriptable [`Host`] for native unit tests.
//!
//! - DB: queue responses matched by a regex on the SQL and by the mode (query vs exec). Scripts
//!   are consumed in FIFO order, first match wins; use [`FakeHost::on_query_always`] for a
//!   response that may be used any number of times.
//! - fetch: queue responses keyed by exact method + URL.
//! - config: a plain map. Emits and logs are recorded; every call is counted by kind.
//!
//! An unscripted DB or fetch call panics with the SQL / URL in the message, so a test never
//! passes by accident on a call nobody expected.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};

use regex::Regex;
use serde_json::Value;

use crate::host::{FetchRequest, FetchResponse, Host, HostError, LogLevel, QueryResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbMode {
    Query,
    Exec,
}

#[derive(Debug, Clone)]
enum DbReply {
    Rows(Result<QueryResult, String>),
    Affected(Result<u64, String>),
}

struct DbScript {
    mode: DbMode,
    pattern: Regex,
    reply: DbReply,
    sticky: bool,
}

/// One DB call as the plugin made it.
#[derive(Debug, Clone, PartialEq)]
pub struct DbCall {
    pub mode: DbMode,
    pub sql: String,
    pub params: Vec<Value>,
}

/// Host calls made so far, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallCounts {
    pub db_query: usize,
    pub db_exec: usize,
    pub config: usize,
    pub fetch: usize,
    pub emit: usize,
    pub log: usize,
    pub activity: usize,
}

impl CallCounts {
    pub fn db(&self) -> usize {
        self.db_query + self.db_exec
    }

    pub fn total(&self) -> usize {
        self.db_query
            + self.db_exec
            + self.config
            + self.fetch
            + self.emit
            + self.log
            + self.activity
    }
}

#[derive(Default)]
struct State {
    db: Vec<DbScript>,
    fetch: BTreeMap<(String, String), VecDeque<Result<FetchResponse, String>>>,
    config: BTreeMap<String, String>,
    db_calls: Vec<DbCall>,
    fetches: Vec<FetchRequest>,
    emits: Vec<(String, Value)>,
    emit_failure: Option<String>,
    /// `(task_id, activity_type, content)` of each recorded activity.
    activities: Vec<(String, String, Value)>,
    activity_failure: bool,
    logs: Vec<(LogLevel, String)>,
    counts: CallCounts,
}

#[derive(Default)]
pub struct FakeHost {
    state: RefCell<State>,
}

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("bad FakeHost SQL pattern {pattern:?}: {e}"))
}

impl FakeHost {
    pub fn new() -> Self {
        Self::default()
    }

    // ---- scripting -------------------------------------------------------------------------

    pub fn set_config(&self, key: &str, value: &str) -> &Self {
        self.state
            .borrow_mut()
            .config
            .insert(key.to_owned(), value.to_owned());
        self
    }

    fn push_db(&self, mode: DbMode, pattern: &str, reply: DbReply, sticky: bool) -> &Self {
        self.state.borrow_mut().db.push(DbScript {
            mode,
            pattern: regex(pattern),
            reply,
            sticky,
        });
        self
    }

    /// Next `db_query` whose SQL matches `pattern` (a regex) returns these rows, once.
    pub fn on_query(&self, pattern: &str, columns: &[&str], rows: Vec<Vec<Value>>) -> &Self {
        let q = QueryResult::new(columns, rows);
        self.push_db(DbMode::Query, pattern, DbReply::Rows(Ok(q)), false)
    }

    /// Like [`on_query`](Self::on_query) but never consumed.
    pub fn on_query_always(&self, pattern: &str, columns: &[&str], rows: Vec<Vec<Value>>) -> &Self {
        let q = QueryResult::new(columns, rows);
        self.push_db(DbMode::Query, pattern, DbReply::Rows(Ok(q)), true)
    }

    /// Next matching `db_query` fails with this host error text, once.
    pub fn on_query_err(&self, pattern: &str, error: &str) -> &Self {
        let reply = DbReply::Rows(Err(error.to_owned()));
        self.push_db(DbMode::Query, pattern, reply, false)
    }

    /// Next matching `db_exec` reports `rows` affected, once.
    pub fn on_exec(&self, pattern: &str, rows: u64) -> &Self {
        self.push_db(DbMode::Exec, pattern, DbReply::Affected(Ok(rows)), false)
    }

    /// Next matching `db_exec` fails with this host error text, once.
    pub fn on_exec_err(&self, pattern: &str, error: &str) -> &Self {
        let reply = DbReply::Affected(Err(error.to_owned()));
        self.push_db(DbMode::Exec, pattern, reply, false)
    }

    /// Next `fetch` of exactly `method url` returns `response`.
    pub fn on_fetch(&self, method: &str, url: &str, response: FetchResponse) -> &Self {
        self.state
            .borrow_mut()
            .fetch
            .entry((method.to_ascii_uppercase(), url.to_owned()))
            .or_default()
            .push_back(Ok(response));
        self
    }

    /// Next `fetch` of exactly `method url` returns a JSON body with this status.
    pub fn on_fetch_json(&self, method: &str, url: &str, status: u16, body: &Value) -> &Self {
        let resp = FetchResponse::new(status, body.to_string())
            .with_header("Content-Type", "application/json");
        self.on_fetch(method, url, resp)
    }

    /// Next `fetch` of exactly `method url` fails at the transport (host error text).
    pub fn on_fetch_err(&self, method: &str, url: &str, error: &str) -> &Self {
        self.state
            .borrow_mut()
            .fetch
            .entry((method.to_ascii_uppercase(), url.to_owned()))
            .or_default()
            .push_back(Err(error.to_owned()));
        self
    }

    /// Makes every later `emit` fail.
    pub fn fail_emits(&self, error: &str) -> &Self {
        self.state.borrow_mut().emit_failure = Some(error.to_owned());
        self
    }

    /// Makes every later `activity` fail, as the host does outside a project request.
    pub fn fail_activities(&self) -> &Self {
        self.state.borrow_mut().activity_failure = true;
        self
    }

    // ---- inspection ------------------------------------------------------------------------

    /// Successfully recorded activities `(task_id, activity_type, content)`, in order.
    pub fn activities(&self) -> Vec<(String, String, Value)> {
        self.state.borrow().activities.clone()
    }

    pub fn calls(&self) -> CallCounts {
        self.state.borrow().counts
    }

    pub fn db_calls(&self) -> Vec<DbCall> {
        self.state.borrow().db_calls.clone()
    }

    pub fn fetches(&self) -> Vec<FetchRequest> {
        self.state.borrow().fetches.clone()
    }

    /// Successfully emitted events, in order.
    pub fn emits(&self) -> Vec<(String, Value)> {
        self.state.borrow().emits.clone()
    }

    pub fn logs(&self) -> Vec<(LogLevel, String)> {
        self.state.borrow().logs.clone()
    }

    /// Panics if a non-sticky DB script or a fetch script was never used.
    pub fn assert_all_consumed(&self) {
        let s = self.state.borrow();
        let db: Vec<String> =
            s.db.iter()
                .filter(|d| !d.sticky)
                .map(|d| format!("{:?} /{}/", d.mode, d.pattern))
                .collect();
        let fetch: Vec<String> = s
            .fetch
            .iter()
            .filter(|(_, q)| !q.is_empty())
            .map(|((m, u), q)| format!("{m} {u} (×{})", q.len()))
            .collect();
        assert!(
            db.is_empty() && fetch.is_empty(),
            "unused FakeHost scripts: db {db:?}, fetch {fetch:?}"
        );
    }

    fn take_db(&self, mode: DbMode, sql: &str, params: &[Value]) -> DbReply {
        let mut s = self.state.borrow_mut();
        s.db_calls.push(DbCall {
            mode,
            sql: sql.to_owned(),
            params: params.to_vec(),
        });
        match mode {
            DbMode::Query => s.counts.db_query += 1,
            DbMode::Exec => s.counts.db_exec += 1,
        }
        let Some(i) =
            s.db.iter()
                .position(|d| d.mode == mode && d.pattern.is_match(sql))
        else {
            panic!("FakeHost: unscripted {mode:?} call\n  sql: {sql}\n  params: {params:?}");
        };
        if s.db[i].sticky {
            s.db[i].reply.clone()
        } else {
            s.db.remove(i).reply
        }
    }
}

impl Host for FakeHost {
    fn db_query(&self, sql: &str, params: &[Value]) -> Result<QueryResult, HostError> {
        match self.take_db(DbMode::Query, sql, params) {
            DbReply::Rows(r) => r.map_err(HostError::Db),
            DbReply::Affected(_) => unreachable!("mode-checked"),
        }
    }

    fn db_exec(&self, sql: &str, params: &[Value]) -> Result<u64, HostError> {
        match self.take_db(DbMode::Exec, sql, params) {
            DbReply::Affected(r) => r.map_err(HostError::Db),
            DbReply::Rows(_) => unreachable!("mode-checked"),
        }
    }

    fn config(&self, key: &str) -> Option<String> {
        let mut s = self.state.borrow_mut();
        s.counts.config += 1;
        s.config.get(key).filter(|v| !v.is_empty()).cloned()
    }

    fn fetch(&self, req: &FetchRequest) -> Result<FetchResponse, HostError> {
        let mut s = self.state.borrow_mut();
        s.counts.fetch += 1;
        s.fetches.push(req.clone());
        let method = if req.method.is_empty() {
            "GET".to_owned()
        } else {
            req.method.to_ascii_uppercase()
        };
        let key = (method, req.url.clone());
        match s.fetch.get_mut(&key).and_then(VecDeque::pop_front) {
            Some(r) => r.map_err(HostError::Fetch),
            None => panic!("FakeHost: unscripted fetch {} {}", key.0, key.1),
        }
    }

    fn emit(&self, topic: &str, payload: &Value) -> Result<(), HostError> {
        let mut s = self.state.borrow_mut();
        s.counts.emit += 1;
        if let Some(e) = &s.emit_failure {
            return Err(HostError::Emit(e.clone()));
        }
        s.emits.push((topic.to_owned(), payload.clone()));
        Ok(())
    }

    fn activity(
        &self,
        task_id: &str,
        activity_type: &str,
        content: &Value,
    ) -> Result<(), HostError> {
        let mut s = self.state.borrow_mut();
        s.counts.activity += 1;
        if s.activity_failure {
            return Err(HostError::Activity("activity_record returned 0".into()));
        }
        s.activities.push((
            task_id.to_owned(),
            activity_type.to_owned(),
            content.clone(),
        ));
        Ok(())
    }

    fn log(&self, level: LogLevel, message: &str) {
        let mut s = self.state.borrow_mut();
        s.counts.log += 1;
        s.logs.push((level, message.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn db_scripts_match_by_regex_and_mode_fifo() {
        let h = FakeHost::new();
        h.on_query("FROM github_repositories", &["id"], vec![vec![json!("a")]])
            .on_query("FROM github_repositories", &["id"], vec![])
            .on_exec("^DELETE FROM github_repositories", 1);
        let q = h
            .db_query("SELECT id FROM github_repositories WHERE x=$1", &[json!(1)])
            .unwrap();
        assert_eq!(q.rows, vec![vec![json!("a")]]);
        assert!(
            h.db_query("SELECT id FROM github_repositories", &[])
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            h.db_exec("DELETE FROM github_repositories WHERE id=$1", &[])
                .unwrap(),
            1
        );
        assert_eq!(h.calls().db_query, 2);
        assert_eq!(h.calls().db_exec, 1);
        assert_eq!(h.calls().db(), 3);
        assert_eq!(h.db_calls()[0].params, vec![json!(1)]);
        h.assert_all_consumed();
    }

    #[test]
    #[should_panic(expected = "SELECT secret FROM nowhere")]
    fn unscripted_query_panics_with_sql() {
        let h = FakeHost::new();
        let _ = h.db_query("SELECT secret FROM nowhere", &[]);
    }

    #[test]
    #[should_panic(expected = "unscripted Exec call")]
    fn mode_mismatch_is_unscripted() {
        let h = FakeHost::new();
        h.on_query("github", &[], vec![]);
        let _ = h.db_exec("DELETE FROM github", &[]);
    }

    #[test]
    #[should_panic(expected = "unscripted fetch GET https://api.github.com/user")]
    fn unscripted_fetch_panics_with_url() {
        let h = FakeHost::new();
        let _ = h.fetch(&FetchRequest::new("GET", "https://api.github.com/user"));
    }

    #[test]
    #[should_panic(expected = "unused FakeHost scripts")]
    fn unused_scripts_are_reported() {
        let h = FakeHost::new();
        h.on_exec("UPDATE", 0);
        h.assert_all_consumed();
    }

    #[test]
    fn sticky_scripts_errors_config_emits_logs() {
        let h = FakeHost::new();
        h.on_query_always("gen_random_uuid", &["a"], vec![vec![json!("x")]])
            .on_query_err("boom", "ERROR: boom (SQLSTATE 23505)")
            .on_exec_err("UPDATE", "paca.db_exec: nope")
            .on_fetch_err(
                "GET",
                "https://x.test/",
                "fetch: domain not permitted by plugin manifest",
            )
            .set_config("ENCRYPTION_KEY", "k")
            .set_config("PUBLIC_URL", "");
        for _ in 0..3 {
            assert_eq!(
                h.db_query("SELECT gen_random_uuid()", &[]).unwrap().len(),
                1
            );
        }
        assert_eq!(
            h.db_query("SELECT boom", &[]).unwrap_err(),
            HostError::Db("ERROR: boom (SQLSTATE 23505)".into())
        );
        assert!(matches!(h.db_exec("UPDATE t", &[]), Err(HostError::Db(_))));
        assert!(matches!(
            h.fetch(&FetchRequest::new("GET", "https://x.test/")),
            Err(HostError::Fetch(_))
        ));
        assert_eq!(h.config("ENCRYPTION_KEY").as_deref(), Some("k"));
        assert_eq!(h.config("PUBLIC_URL"), None);
        assert_eq!(h.config("OTHER"), None);
        h.emit("github.pr_linked", &json!({"a":1})).unwrap();
        h.log(LogLevel::Warn, "hello");
        h.fail_emits("publish failed");
        assert!(h.emit("github.pr_linked", &json!({})).is_err());
        assert_eq!(
            h.emits(),
            vec![("github.pr_linked".to_owned(), json!({"a":1}))]
        );
        assert_eq!(h.logs(), vec![(LogLevel::Warn, "hello".to_owned())]);
        let c = h.calls();
        assert_eq!(
            (c.db_query, c.db_exec, c.fetch, c.config, c.emit, c.log),
            (4, 1, 1, 3, 2, 1)
        );
        assert_eq!(c.total(), 12);
        h.assert_all_consumed();
    }

    #[test]
    fn fetch_queue_per_method_and_url() {
        let h = FakeHost::new();
        h.on_fetch("get", "https://a.test/1", FetchResponse::new(200, "one"))
            .on_fetch("GET", "https://a.test/1", FetchResponse::new(404, "two"))
            .on_fetch("POST", "https://a.test/1", FetchResponse::new(201, "three"));
        let get = FetchRequest::new("GET", "https://a.test/1");
        assert_eq!(h.fetch(&get).unwrap().body, "one");
        assert_eq!(
            h.fetch(&FetchRequest::new("POST", "https://a.test/1"))
                .unwrap()
                .status,
            201
        );
        assert_eq!(h.fetch(&get).unwrap().status, 404);
        assert_eq!(h.fetches().len(), 3);
        h.assert_all_consumed();
    }
}
