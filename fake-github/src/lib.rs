//! A stateful fake of the GitHub REST subset `com.paca.github` uses, served on loopback, that
//! signs and delivers real webhooks.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let gh = fake_github::FakeGithub::start().await?;
//! gh.seed_user("alice", "ghp_alice");
//! gh.add_repo(fake_github::RepoSeed::new("alice", "app").branches(&["feature"]))?;
//! let pr = gh.open_pr("alice/app", "feature", "main", "Add things").await?;
//! assert_eq!(pr.value.number, 1);
//! # Ok(()) }
//! ```
//!
//! Deliveries are synchronous: a call that causes webhooks returns after every delivery was
//! answered (or failed) and recorded in the delivery log.

mod control;
pub mod control_http;
pub mod delivery;
pub mod faults;
mod json;
pub mod ops;
mod pr_workflow;
mod rest;
pub mod served;
pub mod state;

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

pub use control::{Control, Outcome, RepoSeed};
pub use delivery::{Delivery, Tamper, sign};
pub use faults::{FaultAction, FaultRule, PathMatch};
pub use ops::{Error, HookSpec, PrChange, PushInfo, ZERO_SHA};
pub use state::{
    CheckRun, Comment, CommitStatus, Hook, Org, PrState, PullRequest, Repo, RequestRecord, Review,
    State, Token, User,
};

pub(crate) struct Shared {
    pub state: Mutex<State>,
    pub base_url: String,
    pub client: reqwest::Client,
    /// Deliveries caused by REST calls, sent after the response like GitHub does (a client
    /// that is itself the webhook receiver must not wait on its own delivery).
    pub background: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Request extension that lets a fault close the connection without answering.
#[derive(Clone)]
pub(crate) struct ConnKill(pub Arc<Notify>);

/// Entry point: `FakeGithub::start().await`.
pub struct FakeGithub;

impl FakeGithub {
    /// Start on `127.0.0.1:0` (a free port).
    pub async fn start() -> std::io::Result<FakeGithubHandle> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Start on a given address.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<FakeGithubHandle> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            base_url: format!("http://{local}"),
            client: delivery::client(),
            background: Mutex::new(Vec::new()),
        });
        let router = rest::router(shared.clone()).merge(control_http::router(shared.clone()));
        let task = tokio::spawn(serve(listener, router));
        Ok(FakeGithubHandle {
            control: Control::new(shared),
            addr: local,
            task,
        })
    }
}

/// A running fake. Dereferences to [`Control`] (seed, act, inspect, inject faults); the server
/// stops when the handle is dropped.
pub struct FakeGithubHandle {
    control: Control,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl FakeGithubHandle {
    /// `http://127.0.0.1:PORT` (no trailing slash): use as the GitHub API base URL.
    pub fn base_url(&self) -> String {
        self.control.base_url().to_string()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A cloneable controller for the same fake (usable after moving it into other tasks).
    pub fn control(&self) -> Control {
        self.control.clone()
    }
}

impl Deref for FakeGithubHandle {
    type Target = Control;
    fn deref(&self) -> &Control {
        &self.control
    }
}

impl Drop for FakeGithubHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(listener: TcpListener, router: Router) {
    // Owning the connection tasks here means aborting this task closes every connection.
    let mut conns = JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let router = router.clone();
        conns.spawn(async move {
            let kill = Arc::new(Notify::new());
            let k = kill.clone();
            let svc = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnKill(k.clone()));
                    tower::ServiceExt::oneshot(router.clone(), req)
                },
            );
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                _ = kill.notified() => {}
            }
        });
    }
}
