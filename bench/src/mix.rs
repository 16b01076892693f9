//! What the bench and the budget tests replay: a signed delivery with fresh ids, member routes
//! as devhost hands them to the plugin, and the mixed in-process run that checks linear memory.

use crate::inproc::{self, Call, EnvelopeParts, client_headers};
use crate::world::{self, World};
use anyhow::{Context, ensure};
use paca_devhost::canon::canonical_header_key;
use paca_devhost::{HostEnv, Limits, Plugin};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A signed delivery that can be replayed with fresh delivery ids.
pub struct Hook {
    url: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Hook {
    pub fn from(w: &World) -> anyhow::Result<Hook> {
        let d = &w.opened;
        let skip = ["x-github-delivery", "content-length", "host"];
        let marker = "/api/v1/plugins/com.paca.github/";
        Ok(Hook {
            path: d
                .url
                .split_once(marker)
                .map(|(_, p)| p.to_owned())
                .context("delivery URL")?,
            url: d.url.clone(),
            headers: d
                .headers
                .iter()
                .filter(|(k, _)| !skip.iter().any(|s| k.eq_ignore_ascii_case(s)))
                .cloned()
                .collect(),
            body: d.body.clone(),
        })
    }

    pub async fn send(&self, http: &reqwest::Client, id: &str) -> anyhow::Result<()> {
        let mut req = http.post(&self.url).body(self.body.clone());
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let resp = req.header("X-GitHub-Delivery", id).send().await?;
        let status = resp.status().as_u16();
        let text = resp.text().await?;
        ensure!(
            status == 200 && text.contains("\"processed\""),
            "webhook answered {status}: {text}"
        );
        Ok(())
    }

    /// The same delivery as devhost hands it to the plugin (public route: no caller). A
    /// tampered one carries a well-formed but wrong signature: the plugin's uniform 404.
    pub fn call(&self, id: &str, tamper: bool) -> Call {
        let mut headers: BTreeMap<String, String> = self
            .headers
            .iter()
            .map(|(k, v)| (canonical_header_key(k), v.clone()))
            .collect();
        headers.insert("X-Github-Delivery".into(), id.into());
        headers.insert("Host".into(), "127.0.0.1".into());
        if tamper {
            headers.insert(
                "X-Hub-Signature-256".into(),
                format!("sha256={}", "0".repeat(64)),
            );
        }
        let mut c = EnvelopeParts {
            method: "POST",
            path: &self.path,
            project_id: "",
            caller_id: "",
            user_id: "",
            caller_role: "",
            headers,
            body: self.body.as_bytes(),
        }
        .call(&[], if tamper { 404 } else { 200 });
        if let Some(ctx) = &mut c.ctx {
            Arc::make_mut(ctx).actions.clear();
        }
        c
    }
}

/// A member route as devhost hands it to the plugin.
pub fn member_call(w: &World, admin: bool, path: &str, want: u16) -> Call {
    let c = if admin { &w.admin } else { &w.member };
    let actions: &[&str] = if admin {
        &["*"]
    } else {
        &["tasks:read", "tasks:write"]
    };
    EnvelopeParts {
        method: "GET",
        path,
        project_id: &w.p.id,
        caller_id: &c.caller_id,
        user_id: &c.user_id,
        caller_role: &c.role,
        headers: client_headers(Some(&c.token)),
        body: b"",
    }
    .call(actions, want)
}

/// Runs blocking work (wasm calls whose imports block on the runtime) off the executor.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f).await?
}

/// Linear memory of a fresh instance serving `total` mixed requests in process (list and
/// status reads, a new signed delivery, a refused one, a linked-repository read, a routing
/// miss): `[after the first, after 1,000, after all]`. The host never frees what it writes
/// into the guest, so anything the plugin fails to release on `ResetAllocator` shows here.
pub async fn memory(
    w: &World,
    hook: &Arc<Hook>,
    wasm: Arc<Vec<u8>>,
    rt: tokio::runtime::Handle,
    total: usize,
) -> anyhow::Result<[usize; 3]> {
    let list_path = format!(
        "projects/{}/tasks/{}/github/pull-requests",
        w.p.id, w.p.tasks[1]
    );
    let mix: Vec<Call> = vec![
        member_call(w, false, &list_path, 200),
        member_call(w, true, &format!("projects/{}/github", w.p.id), 200),
        hook.call("mem-0", false),
        hook.call("mem-bad", true),
        member_call(
            w,
            true,
            &format!("projects/{}/github/linked-repositories", w.p.id),
            200,
        ),
        member_call(w, false, &format!("projects/{}/nothing-here", w.p.id), 404),
    ];
    let mut env = HostEnv::new("com.paca.github", rt);
    env.db = Some(w.host.pool().clone());
    env.config = [
        ("ENCRYPTION_KEY", world::ENCRYPTION_KEY),
        ("PUBLIC_URL", "https://paca.example.com"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    env.allowed_config_keys = w.host.manifest().backend().allowed_config_keys.clone();
    let hook = hook.clone();
    blocking(move || {
        let fresh = Plugin::load_blocking(&wasm, Arc::new(env), Limits::default())?;
        inproc::memory(&fresh, total, |i| match i % mix.len() {
            // every delivery is a new one, so it is applied, not deduplicated
            2 => hook.call(&format!("mem-{i}"), false),
            k => mix[k].clone(),
        })
    })
    .await
}
