//! The `paca` host module (contract §2). Every function the real host registers is
//! registered here, with the exact wasm signature, so an unknown or mismatched import
//! fails instantiation and any subset loads.

use crate::events::{EmittedEvent, LogLine};
use crate::runtime::HostEnv;
use crate::state::{HostState, write_to_guest};
use crate::stats::Import;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::{Caller, Extern, Linker, Memory};

type C<'a> = Caller<'a, HostState>;

/// The guest's exported `memory` (shared with the WASI module).
pub(crate) fn memory(c: &mut C<'_>) -> Option<Memory> {
    c.get_export("memory").and_then(Extern::into_memory)
}

/// Reads guest bytes; pointers/lengths are i64 truncated to u32. len 0 → empty.
fn read(c: &mut C<'_>, ptr: i64, len: i64) -> Option<Vec<u8>> {
    let (p, l) = (ptr as u32 as usize, len as u32 as usize);
    if l == 0 {
        return Some(Vec::new());
    }
    let m = memory(c)?;
    m.data(&*c).get(p..p.checked_add(l)?).map(<[u8]>::to_vec)
}

fn write_u32(c: &mut C<'_>, at: i64, v: u32) {
    if let Some(m) = memory(c) {
        let _ = m.write(&mut *c, at as u32 as usize, &v.to_le_bytes());
    }
}

fn write_u64(c: &mut C<'_>, at: i64, v: u64) {
    if let Some(m) = memory(c) {
        let _ = m.write(&mut *c, at as u32 as usize, &v.to_le_bytes());
    }
}

/// `writeToMemory`: malloc through the guest (re-entrant), `(0,0)` on failure/empty.
fn write_out(c: &mut C<'_>, bytes: &[u8]) -> (u32, u32) {
    let mem = memory(c);
    let malloc = c
        .get_export("paca_malloc")
        .or_else(|| c.get_export("malloc"))
        .and_then(Extern::into_func);
    match write_to_guest(&mut *c, mem, malloc, bytes) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!("host write to guest failed: {e}");
            (0, 0)
        }
    }
}

fn write_pair(c: &mut C<'_>, ptr_ptr: i64, len_ptr: i64, bytes: &[u8]) {
    let (p, l) = write_out(c, bytes);
    write_u32(c, ptr_ptr, p);
    write_u32(c, len_ptr, l);
}

/// Runs `f` to completion from the guest's (blocking) thread. The future is spawned onto the
/// runtime rather than polled here: its socket round trips (a DB call has five: the pool's
/// ping, BEGIN, SET LOCAL, the statement, COMMIT) then wake a runtime worker, which owns the
/// I/O driver, instead of each waking this parked thread — one cross-thread hand-off per
/// import call instead of one per round trip.
fn block_on<F>(c: &C<'_>, f: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let rt = &c.data().env.rt;
    match rt.block_on(rt.spawn(f)) {
        Ok(out) => out,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

fn deadline(c: &C<'_>) -> Option<Instant> {
    c.data().deadline
}

fn no_db() -> String {
    "database not configured in devhost".into()
}

/// Runs the future `f` builds from this plugin's pool, environment and call deadline; without
/// a database, the host's error for `import`.
fn on_db<T, Fut>(
    c: &C<'_>,
    import: &str,
    f: impl FnOnce(PgPool, Arc<HostEnv>, Option<Instant>) -> Fut,
) -> Result<T, String>
where
    Fut: Future<Output = Result<T, String>> + Send + 'static,
    T: Send + 'static,
{
    let env = c.data().env.clone();
    let Some(pool) = env.db.clone() else {
        return Err(format!("paca.{import}: {}", no_db()));
    };
    let dl = deadline(c);
    block_on(c, f(pool, env, dl))
}

/// `db_query2` / `db_query`: the result JSON text.
fn run_query(c: &C<'_>, sql: Vec<u8>, params: Vec<u8>) -> Result<String, String> {
    on_db(c, "db_query", move |pool, env, dl| async move {
        crate::db::query_with(&pool, &env.schema, &sql, &params, dl, &env.sensitive).await
    })
}

/// `db_exec`: the rows affected.
fn run_exec(c: &C<'_>, sql: Vec<u8>, params: Vec<u8>) -> Result<u64, String> {
    on_db(c, "db_exec", move |pool, env, dl| async move {
        crate::db::exec_with(&pool, &env.schema, &sql, &params, dl, &env.sensitive).await
    })
}

/// Registers all `paca` functions.
pub fn register(l: &mut Linker<HostState>) -> wasmtime::Result<()> {
    l.func_wrap("paca", "log", |mut c: C<'_>, level: i32, p: i64, n: i64| {
        let host = c.data().env.clone();
        let _t = host.stats.timer(Import::Log);
        let Some(msg) = read(&mut c, p, n) else {
            return;
        };
        let msg = String::from_utf8_lossy(&msg).into_owned();
        let level = match level {
            0 => "debug",
            1 => "info",
            2 => "warn",
            _ => "error",
        };
        let plugin = c.data().env.plugin_id.clone();
        tracing::info!(plugin, level, "{msg}");
        c.data().env.events.record_log(LogLine {
            level,
            message: msg,
        });
    })?;

    l.func_wrap(
        "paca",
        "config_get",
        |mut c: C<'_>, kp: i64, kl: i64, vpp: i64, vlp: i64| {
            let env = c.data().env.clone();
            let _t = env.stats.timer(Import::ConfigGet);
            let Some(key) = read(&mut c, kp, kl) else {
                return;
            };
            let key = String::from_utf8_lossy(&key).into_owned();
            let value = if key.is_empty() || !env.allowed_config_keys.contains(&key) {
                String::new()
            } else {
                env.config.get(&key).cloned().unwrap_or_default()
            };
            if value.is_empty() {
                write_u32(&mut c, vpp, 0);
                write_u32(&mut c, vlp, 0);
            } else {
                write_pair(&mut c, vpp, vlp, value.as_bytes());
            }
        },
    )?;

    l.func_wrap(
        "paca",
        "db_query2",
        |mut c: C<'_>,
         sp: i64,
         sl: i64,
         pp: i64,
         pl: i64,
         rpp: i64,
         rlp: i64,
         epp: i64,
         elp: i64| {
            let env = c.data().env.clone();
            let _t = env.stats.timer(Import::DbQuery);
            let Some(sql) = read(&mut c, sp, sl) else {
                return;
            };
            let Some(params) = read(&mut c, pp, pl) else {
                return;
            };
            env.stats.capture(Import::DbQuery, &sql, &params);
            let res = run_query(&c, sql, params);
            match res {
                Ok(json) => {
                    write_pair(&mut c, rpp, rlp, json.as_bytes());
                    write_u32(&mut c, epp, 0);
                    write_u32(&mut c, elp, 0);
                }
                Err(e) => {
                    write_u32(&mut c, rpp, 0);
                    write_u32(&mut c, rlp, 0);
                    write_pair(&mut c, epp, elp, e.as_bytes());
                }
            }
        },
    )?;

    l.func_wrap(
        "paca",
        "db_query",
        |mut c: C<'_>, sp: i64, sl: i64, pp: i64, pl: i64, rpp: i64, rlp: i64| {
            let env = c.data().env.clone();
            let _t = env.stats.timer(Import::DbQuery);
            let Some(sql) = read(&mut c, sp, sl) else {
                return;
            };
            let Some(params) = read(&mut c, pp, pl) else {
                return;
            };
            env.stats.capture(Import::DbQuery, &sql, &params);
            // legacy: on error (no database included) nothing is written
            if let Ok(json) = run_query(&c, sql, params) {
                write_pair(&mut c, rpp, rlp, json.as_bytes());
            }
        },
    )?;

    l.func_wrap(
        "paca",
        "db_exec",
        |mut c: C<'_>, sp: i64, sl: i64, pp: i64, pl: i64, rowsp: i64, epp: i64, elp: i64| {
            let env = c.data().env.clone();
            let _t = env.stats.timer(Import::DbExec);
            let Some(sql) = read(&mut c, sp, sl) else {
                return;
            };
            let Some(params) = read(&mut c, pp, pl) else {
                return;
            };
            env.stats.capture(Import::DbExec, &sql, &params);
            let res = run_exec(&c, sql, params);
            match res {
                Ok(n) => {
                    write_u64(&mut c, rowsp, n);
                    write_u32(&mut c, epp, 0);
                    write_u32(&mut c, elp, 0);
                }
                Err(e) => {
                    write_u64(&mut c, rowsp, 0);
                    write_pair(&mut c, epp, elp, e.as_bytes());
                }
            }
        },
    )?;

    l.func_wrap(
        "paca",
        "storage_get",
        |mut c: C<'_>, kp: i64, kl: i64, vpp: i64, vlp: i64| {
            let Some(key) = read(&mut c, kp, kl) else {
                return;
            };
            let key = String::from_utf8_lossy(&key).into_owned();
            let env = c.data().env.clone();
            let Some(pool) = env.db.clone() else { return };
            let sql = format!("SELECT value FROM {}.plugin_kv WHERE key = $1", env.schema);
            let r: Result<Option<(String,)>, _> = block_on(&c, async move {
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(key)
                    .fetch_optional(&pool)
                    .await
            });
            match r {
                Ok(Some((v,))) => write_pair(&mut c, vpp, vlp, v.as_bytes()),
                Ok(None) => {
                    write_u32(&mut c, vpp, 0);
                    write_u32(&mut c, vlp, 0);
                }
                Err(_) => {} // other DB error: nothing written
            }
        },
    )?;

    l.func_wrap("paca", "storage_set", |mut c: C<'_>, kp: i64, kl: i64, vp: i64, vl: i64| -> i32 {
        let (Some(key), Some(val)) = (read(&mut c, kp, kl), read(&mut c, vp, vl)) else { return 0 };
        let env = c.data().env.clone();
        let Some(pool) = env.db.clone() else { return 0 };
        let sql = format!(
            "INSERT INTO {}.plugin_kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            env.schema
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(String::from_utf8_lossy(&key).into_owned())
            .bind(String::from_utf8_lossy(&val).into_owned());
        block_on(&c, async move { q.execute(&pool).await }).is_ok() as i32
    })?;

    l.func_wrap(
        "paca",
        "storage_delete",
        |mut c: C<'_>, kp: i64, kl: i64| -> i32 {
            let Some(key) = read(&mut c, kp, kl) else {
                return 0;
            };
            let env = c.data().env.clone();
            let Some(pool) = env.db.clone() else { return 0 };
            let sql = format!("DELETE FROM {}.plugin_kv WHERE key = $1", env.schema);
            let q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(String::from_utf8_lossy(&key).into_owned());
            block_on(&c, async move { q.execute(&pool).await }).is_ok() as i32
        },
    )?;

    // cache_* (in-memory stand-in for Valkey, same key prefix)
    fn cache_key(c: &C<'_>, key: &[u8]) -> String {
        let name = &c.data().env.plugin_id;
        format!(
            "plugin:{}:{}:{}",
            name.len(),
            name,
            String::from_utf8_lossy(key)
        )
    }
    l.func_wrap(
        "paca",
        "cache_get",
        |mut c: C<'_>, kp: i64, kl: i64, vpp: i64, vlp: i64| {
            let key = read(&mut c, kp, kl).unwrap_or_default();
            let val = if key.is_empty() {
                None
            } else {
                let k = cache_key(&c, &key);
                let env = c.data().env.clone();
                let mut cache = env.cache.lock().unwrap_or_else(|p| p.into_inner());
                match cache.get(&k) {
                    Some((_, Some(exp))) if *exp <= Instant::now() => {
                        cache.remove(&k);
                        None
                    }
                    Some((v, _)) => Some(v.clone()),
                    None => None,
                }
            };
            match val {
                Some(v) => write_pair(&mut c, vpp, vlp, v.as_bytes()),
                None => {
                    write_u32(&mut c, vpp, 0);
                    write_u32(&mut c, vlp, 0);
                }
            }
        },
    )?;
    l.func_wrap(
        "paca",
        "cache_set",
        |mut c: C<'_>, kp: i64, kl: i64, vp: i64, vl: i64, ttl: i32| -> i32 {
            let (Some(key), Some(val)) = (read(&mut c, kp, kl), read(&mut c, vp, vl)) else {
                return 0;
            };
            if key.is_empty() || ttl < 0 {
                return 0;
            }
            let k = cache_key(&c, &key);
            let exp = (ttl > 0).then(|| Instant::now() + Duration::from_secs(ttl as u64));
            let env = c.data().env.clone();
            env.cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(k, (String::from_utf8_lossy(&val).into_owned(), exp));
            1
        },
    )?;
    l.func_wrap(
        "paca",
        "cache_delete",
        |mut c: C<'_>, kp: i64, kl: i64| -> i32 {
            let Some(key) = read(&mut c, kp, kl) else {
                return 0;
            };
            if key.is_empty() {
                return 0;
            }
            let k = cache_key(&c, &key);
            let env = c.data().env.clone();
            env.cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&k);
            1
        },
    )?;

    l.func_wrap(
        "paca",
        "permission_check",
        |mut c: C<'_>, ap: i64, al: i64| -> i32 {
            let Some(action) = read(&mut c, ap, al) else {
                return 0;
            };
            let action = String::from_utf8_lossy(&action).into_owned();
            match &c.data().request {
                Some(r) => r.actions.iter().any(|a| a == "*" || *a == action) as i32,
                None => 0,
            }
        },
    )?;

    l.func_wrap("paca", "http_request_body", |mut c: C<'_>| -> (i64, i64) {
        let Some(r) = c.data().request.clone() else {
            return (0, 0);
        };
        let (p, l) = write_out(&mut c, &r.body);
        (p as i64, l as i64)
    })?;
    l.func_wrap(
        "paca",
        "http_request_headers",
        |mut c: C<'_>| -> (i64, i64) {
            let Some(r) = c.data().request.clone() else {
                return (0, 0);
            };
            let json = serde_json::to_vec(&r.headers).unwrap_or_default();
            let (p, l) = write_out(&mut c, &json);
            (p as i64, l as i64)
        },
    )?;
    l.func_wrap("paca", "http_caller_identity", |mut c: C<'_>| -> (i64, i64) {
        let Some(r) = c.data().request.clone() else { return (0, 0) };
        let json = json!({"caller_id": r.caller_id, "user_id": r.user_id, "caller_role": r.caller_role, "project_id": r.project_id});
        let (p, l) = write_out(&mut c, json.to_string().as_bytes());
        (p as i64, l as i64)
    })?;
    l.func_wrap(
        "paca",
        "http_respond",
        |_c: C<'_>, _status: i32, _p: i64, _l: i64| {},
    )?;

    l.func_wrap(
        "paca",
        "event_emit",
        |mut c: C<'_>, tp: i64, tl: i64, pp: i64, pl: i64| -> i32 {
            let env = c.data().env.clone();
            let _t = env.stats.timer(Import::EventEmit);
            let (Some(topic), Some(payload)) = (read(&mut c, tp, tl), read(&mut c, pp, pl)) else {
                return 0;
            };
            let payload = serde_json::from_slice::<Value>(&payload).unwrap_or_else(|_| json!({}));
            env.events.record_emit(EmittedEvent {
                topic: String::from_utf8_lossy(&topic).into_owned(),
                source: env.plugin_id.clone(),
                payload,
            });
            1
        },
    )?;
    l.func_wrap(
        "paca",
        "event_subscribe",
        |_c: C<'_>, _p: i64, _l: i64| -> i32 { 1 },
    )?;

    l.func_wrap("paca", "activity_record", |mut c: C<'_>, pp: i64, pl: i64| -> i32 {
        let Some(payload) = read(&mut c, pp, pl) else { return 0 };
        let Some(req) = c.data().request.clone() else { return 0 };
        let env = c.data().env.clone();
        let Ok(input) = serde_json::from_slice::<Value>(&payload) else { return 0 };
        let task_id = input.get("task_id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let activity_type =
            input.get("activity_type").and_then(Value::as_str).unwrap_or_default().to_owned();
        let content = input.get("content").cloned().unwrap_or(Value::Null).to_string();
        if req.project_id.is_empty() || req.user_id.is_empty() || activity_type.is_empty() {
            return 0;
        }
        let Some(pool) = env.db.clone() else { return 0 };
        let (task, project) = (task_id.clone(), req.project_id.clone());
        let found: Result<Option<(String, String)>, _> = block_on(&c, async move {
            sqlx::query_as(
                "SELECT gen_random_uuid()::text, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') \
                 FROM public.tasks WHERE id::text = $1 AND project_id::text = $2 AND deleted_at IS NULL",
            )
            .bind(task)
            .bind(project)
            .fetch_optional(&pool)
            .await
        });
        let Ok(Some((id, now))) = found else { return 0 };
        env.events.record_activity(json!({
            "id": id, "task_id": task_id, "project_id": req.project_id,
            "activity_type": activity_type, "content": content,
            "created_at": now, "updated_at": now, "actor_id": req.user_id,
        }));
        1
    })?;

    l.func_wrap(
        "paca",
        "fetch",
        |mut c: C<'_>, rp: i64, rl: i64, opp: i64, olp: i64| {
            let host = c.data().env.clone();
            let _t = host.stats.timer(Import::Fetch);
            let out = match read(&mut c, rp, rl) {
                Some(req) => {
                    let (dl, host) = (deadline(&c), host.clone());
                    block_on(&c, async move { host.fetch.perform(&req, dl).await })
                }
                None => crate::fetch::error_json("fetch: invalid request"),
            };
            write_pair(&mut c, opp, olp, out.as_bytes());
        },
    )?;

    l.func_wrap("paca", "settings_get", |mut c: C<'_>, rpp: i64, rlp: i64| {
        let json = json!({"logo_url": "", "brand_name": "Paca", "primary_color_light": "", "primary_color_dark": ""});
        write_pair(&mut c, rpp, rlp, json.to_string().as_bytes());
    })?;

    fn gated(c: &C<'_>, perm: &str) -> bool {
        c.data().env.permissions.iter().any(|p| p == perm)
    }
    l.func_wrap(
        "paca",
        "send_email",
        |mut c: C<'_>, rp: i64, rl: i64, opp: i64, olp: i64| {
            let req = read(&mut c, rp, rl).unwrap_or_default();
            let out = if !gated(&c, "email.send") {
                json!({"error": "plugin lacks the email.send permission"})
            } else {
                let env = c.data().env.clone();
                let payload = serde_json::from_slice::<Value>(&req).unwrap_or(Value::Null);
                env.events.record_emit(EmittedEvent {
                    topic: "devhost.email".into(),
                    source: env.plugin_id.clone(),
                    payload,
                });
                json!({"error": ""})
            };
            write_pair(&mut c, opp, olp, out.to_string().as_bytes());
        },
    )?;
    l.func_wrap(
        "paca",
        "password_set_token_issue",
        |mut c: C<'_>, _rp: i64, _rl: i64, opp: i64, olp: i64| {
            let out = if !gated(&c, "users.password_set_token.issue") {
                json!({"error": "plugin lacks the users.password_set_token.issue permission"})
            } else {
                json!({"error": "password set tokens are not supported by devhost"})
            };
            write_pair(&mut c, opp, olp, out.to_string().as_bytes());
        },
    )?;

    // Core read-only functions (multi-value results).
    fn core(c: &mut C<'_>, p: i64, l: i64, which: &'static str) -> (i64, i64) {
        let arg = read(c, p, l)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let env = c.data().env.clone();
        let out = match env.db.clone() {
            None => json!({"error": no_db()}),
            Some(pool) => block_on(c, async move {
                crate::seed::core_read(&pool, which, &arg).await
            })
            .unwrap_or_else(|e| json!({"error": e})),
        };
        let (p, l) = write_out(c, out.to_string().as_bytes());
        (p as i64, l as i64)
    }
    l.func_wrap("paca", "tasks_list", |mut c: C<'_>, p: i64, n: i64| {
        core(&mut c, p, n, "tasks_list")
    })?;
    l.func_wrap("paca", "task_get", |mut c: C<'_>, p: i64, n: i64| {
        core(&mut c, p, n, "task_get")
    })?;
    l.func_wrap("paca", "project_get", |mut c: C<'_>, p: i64, n: i64| {
        core(&mut c, p, n, "project_get")
    })?;
    l.func_wrap("paca", "members_list", |mut c: C<'_>, p: i64, n: i64| {
        core(&mut c, p, n, "members_list")
    })?;
    Ok(())
}
