//! The Rust control API: seed the world, make things happen (with deliveries), inspect.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::Shared;
use crate::delivery::{self, Delivery, Outgoing, Tamper};
use crate::faults::FaultRule;
use crate::json::Urls;
use crate::ops::{self, Error, PrChange, PushInfo};
use crate::state::{Org, PullRequest, Repo, RequestRecord, State, Token, User};

/// The result of an action plus the webhook deliveries it caused (already sent and logged).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Outcome<T> {
    pub value: T,
    pub deliveries: Vec<Delivery>,
}

/// What [`Control::add_repo`] creates. The default branch gets an initial commit; every extra
/// branch gets its own commit on top of it (so a PR from it into the default branch has commits).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RepoSeed {
    pub owner: String,
    pub name: String,
    #[serde(default)]
    pub private: bool,
    #[serde(default = "main")]
    pub default_branch: String,
    #[serde(default)]
    pub branches: Vec<String>,
    #[serde(default)]
    pub collaborators: Vec<String>,
}

fn main() -> String {
    "main".to_string()
}

impl RepoSeed {
    pub fn new(owner: &str, name: &str) -> Self {
        RepoSeed {
            owner: owner.to_string(),
            name: name.to_string(),
            private: false,
            default_branch: main(),
            branches: Vec::new(),
            collaborators: Vec::new(),
        }
    }
    pub fn private(mut self) -> Self {
        self.private = true;
        self
    }
    pub fn default_branch(mut self, b: &str) -> Self {
        self.default_branch = b.to_string();
        self
    }
    pub fn branches(mut self, b: &[&str]) -> Self {
        self.branches = b.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn collaborators(mut self, c: &[&str]) -> Self {
        self.collaborators = c.iter().map(|s| s.to_string()).collect();
        self
    }
}

/// Cloneable controller of one running fake. Repositories are named `"owner/name"`
/// (case-insensitive).
#[derive(Clone)]
pub struct Control {
    shared: Arc<Shared>,
}

impl Control {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Control { shared }
    }

    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// Run `f` under the lock with the URL context, then send the deliveries it planned.
    async fn act<T>(
        &self,
        f: impl FnOnce(&mut State, &Urls) -> Result<(T, Vec<Outgoing>), Error>,
    ) -> Result<Outcome<T>, Error> {
        let (value, out) = {
            let mut st = self.shared.lock();
            let html = st.html_base.clone();
            let urls = Urls {
                api: &self.shared.base_url,
                html: &html,
            };
            f(&mut st, &urls)?
        };
        let deliveries = self.send(out).await;
        Ok(Outcome { value, deliveries })
    }

    /// Waits until every delivery caused by a REST call (sent after the response, as GitHub
    /// does) has been answered and logged.
    pub async fn settle(&self) {
        loop {
            let pending = std::mem::take(
                &mut *self
                    .shared
                    .background
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()),
            );
            if pending.is_empty() {
                return;
            }
            for task in pending {
                let _ = task.await;
            }
        }
    }

    /// Send planned deliveries one after the other and log each outcome.
    pub(crate) async fn send(&self, out: Vec<Outgoing>) -> Vec<Delivery> {
        let mut done = Vec::with_capacity(out.len());
        for o in out {
            let d = delivery::send(&self.shared.client, o.into_delivery()).await;
            let mut st = self.shared.lock();
            if let Some(h) = st
                .repos
                .get_mut(&d.repo_id)
                .and_then(|r| r.hooks.get_mut(&d.hook_id))
            {
                h.last_response = Some(match (&d.status, &d.error) {
                    (Some(s), _) => (Some(*s), "OK".to_string()),
                    (None, e) => (None, e.clone().unwrap_or_default()),
                });
            }
            st.deliveries.push(d.clone());
            done.push(d);
        }
        done
    }

    fn repo_id(st: &State, full_name: &str) -> Result<u64, Error> {
        st.repo_by_full_name(full_name)
            .ok_or_else(|| Error::new(404, &format!("no repository {full_name}")))
    }

    // ---------------------------------------------------------------- seeding

    /// Add a user (or return the existing one with that login).
    pub fn add_user(&self, login: &str) -> User {
        let mut st = self.shared.lock();
        if let Some(u) = st.user(login) {
            return u.clone();
        }
        let id = st.id();
        let u = User {
            id,
            login: login.to_string(),
            name: None,
        };
        st.users.insert(login.to_string(), u.clone());
        u
    }

    /// Register `token` for `login` (created if absent). `scopes: None` = fine-grained-like.
    pub fn add_token(&self, token: &str, login: &str, scopes: Option<&[&str]>) {
        let u = self.add_user(login);
        self.shared.lock().tokens.insert(
            token.to_string(),
            Token {
                login: u.login,
                scopes: scopes.map(|s| s.iter().map(|x| x.to_string()).collect()),
            },
        );
    }

    /// A user with one token (no scope restrictions).
    pub fn seed_user(&self, login: &str, token: &str) -> User {
        self.add_token(token, login, None);
        self.add_user(login)
    }

    /// Remove a token (it then gets 401 "Bad credentials").
    pub fn revoke_token(&self, token: &str) {
        self.shared.lock().tokens.remove(token);
    }

    /// Add an org with members (members are created as users if absent).
    pub fn add_org(&self, login: &str, members: &[&str]) -> Org {
        for m in members {
            self.add_user(m);
        }
        let mut st = self.shared.lock();
        let existing = st.org(login).map(|o| o.login.clone());
        let key = match existing {
            Some(k) => k,
            None => {
                let id = st.id();
                st.orgs.insert(
                    login.to_string(),
                    Org {
                        id,
                        login: login.to_string(),
                        members: Default::default(),
                    },
                );
                login.to_string()
            }
        };
        let org = st.orgs.get_mut(&key).expect("org");
        org.members.extend(members.iter().map(|m| m.to_string()));
        org.clone()
    }

    /// Create a repository (its owner becomes a user unless it is an org).
    pub fn add_repo(&self, seed: RepoSeed) -> Result<Repo, Error> {
        if self.shared.lock().org(&seed.owner).is_none() {
            self.add_user(&seed.owner);
        }
        for c in &seed.collaborators {
            self.add_user(c);
        }
        let mut st = self.shared.lock();
        if st.repo_id(&seed.owner, &seed.name).is_some() {
            return Err(Error::validation(
                "Repository",
                Some("name"),
                "custom",
                "name already exists on this account",
            ));
        }
        let owner = st
            .org(&seed.owner)
            .map(|o| o.login.clone())
            .or_else(|| st.user(&seed.owner).map(|u| u.login.clone()))
            .expect("owner");
        let id = st.id();
        let now = st.tick();
        let root = st.new_sha();
        let mut repo = Repo {
            id,
            owner,
            name: seed.name,
            private: seed.private,
            default_branch: seed.default_branch.clone(),
            branches: Default::default(),
            commits: Default::default(),
            hooks: Default::default(),
            pulls: Default::default(),
            collaborators: seed.collaborators.into_iter().collect(),
            created_at: now,
            updated_at: now,
            pushed_at: now,
            check_runs: Default::default(),
            statuses: Default::default(),
        };
        repo.branches.insert(seed.default_branch, root.clone());
        repo.commits.insert(root);
        for b in seed.branches {
            if repo.branches.contains_key(&b) {
                continue;
            }
            let sha = st.new_sha();
            repo.commits.insert(sha.clone());
            repo.branches.insert(b, sha);
        }
        // A new repository under a former name ends that name's redirect, like on GitHub.
        st.redirects.remove(&repo.full_name().to_ascii_lowercase());
        st.repos.insert(id, repo.clone());
        Ok(repo)
    }

    /// Renames a repository like GitHub does: deliveries and API answers carry the new name,
    /// and the old name answers with a redirect (301 for GET/HEAD, 307 otherwise).
    pub fn rename_repo(&self, full_name: &str, new_name: &str) -> Result<Repo, Error> {
        self.move_repo(full_name, None, new_name)
    }

    /// Transfers a repository to another owner (a user, created if needed, or an org); the old
    /// name redirects like after a rename.
    pub fn transfer_repo(&self, full_name: &str, new_owner: &str) -> Result<Repo, Error> {
        if self.shared.lock().org(new_owner).is_none() {
            self.add_user(new_owner);
        }
        let name = full_name.split_once('/').map_or("", |(_, n)| n).to_string();
        self.move_repo(full_name, Some(new_owner), &name)
    }

    fn move_repo(
        &self,
        full_name: &str,
        new_owner: Option<&str>,
        new_name: &str,
    ) -> Result<Repo, Error> {
        let mut st = self.shared.lock();
        let id = Self::repo_id(&st, full_name)?;
        let owner = match new_owner {
            Some(o) => st
                .org(o)
                .map(|x| x.login.clone())
                .or_else(|| st.user(o).map(|u| u.login.clone()))
                .ok_or_else(|| Error::new(404, &format!("no account {o}")))?,
            None => st.repos[&id].owner.clone(),
        };
        if new_name.is_empty()
            || st
                .repo_id(&owner, new_name)
                .is_some_and(|other| other != id)
        {
            return Err(Error::validation(
                "Repository",
                Some("name"),
                "custom",
                "name already exists on this account",
            ));
        }
        let old = st.repos[&id].full_name().to_ascii_lowercase();
        let now = st.tick();
        let repo = st.repos.get_mut(&id).expect("repo");
        repo.owner = owner;
        repo.name = new_name.to_string();
        repo.updated_at = now;
        let repo = repo.clone();
        st.redirects.remove(&repo.full_name().to_ascii_lowercase());
        st.redirects.insert(old, id);
        Ok(repo)
    }

    /// Give `login` push access to a repository.
    pub fn add_collaborator(&self, full_name: &str, login: &str) -> Result<(), Error> {
        self.add_user(login);
        let mut st = self.shared.lock();
        let id = Self::repo_id(&st, full_name)?;
        st.repos
            .get_mut(&id)
            .expect("repo")
            .collaborators
            .insert(login.to_string());
        Ok(())
    }

    /// Create or move a branch silently (no delivery). `at`: a branch name or a known sha;
    /// `None` = a new commit. Returns the branch's sha.
    pub fn add_branch(
        &self,
        full_name: &str,
        branch: &str,
        at: Option<&str>,
    ) -> Result<String, Error> {
        let mut st = self.shared.lock();
        let id = Self::repo_id(&st, full_name)?;
        let sha = match at {
            None => st.new_sha(),
            Some(a) => {
                let r = &st.repos[&id];
                r.branches
                    .get(a)
                    .cloned()
                    .or_else(|| r.commits.contains(a).then(|| a.to_string()))
                    .ok_or_else(|| Error::new(422, &format!("unknown branch or sha {a}")))?
            }
        };
        let r = st.repos.get_mut(&id).expect("repo");
        r.commits.insert(sha.clone());
        r.branches.insert(branch.to_string(), sha.clone());
        Ok(sha)
    }

    /// Refuse (or allow) localhost/private hook URLs like github.com. Default: allowed.
    pub fn set_reject_private_urls(&self, on: bool) {
        self.shared.lock().reject_private_urls = on;
    }

    /// Seed the demo world used by `fake-github --seed-demo`: user `demo` (token
    /// `ghp_demo_token`), org `demo-org`, repos `demo-org/paca-demo` (private) and
    /// `demo/playground`, each with a few branches.
    pub fn seed_demo(&self) -> Result<(), Error> {
        self.add_user("demo");
        self.shared.lock().users.get_mut("demo").expect("demo").name =
            Some("Demo User".to_string());
        self.add_token(
            "ghp_demo_token",
            "demo",
            Some(&["repo", "admin:repo_hook", "read:org"]),
        );
        self.add_org("demo-org", &["demo"]);
        self.add_repo(
            RepoSeed::new("demo-org", "paca-demo")
                .private()
                .branches(&["develop", "feature/DEMO-1-login-page"]),
        )?;
        self.add_repo(RepoSeed::new("demo", "playground").branches(&["experiment"]))?;
        Ok(())
    }

    // ---------------------------------------------------------------- actions (deliver)

    /// Push a new commit to `branch` (creating it if absent) → `push` delivery (`created: true`
    /// with `before` = 40 zeros for a new branch), plus `pull_request synchronize` for open PRs
    /// whose head is that branch.
    pub async fn push_branch(
        &self,
        full_name: &str,
        branch: &str,
    ) -> Result<Outcome<PushInfo>, Error> {
        self.act(|st, urls| {
            let id = Self::repo_id(st, full_name)?;
            let sender = st.default_actor(&st.repos[&id]);
            Ok(ops::push(st, urls, id, branch, None, &sender))
        })
        .await
    }

    /// Create `branch` pointing at `from` (a branch or sha) → `push` with `created: true`.
    pub async fn create_branch(
        &self,
        full_name: &str,
        branch: &str,
        from: &str,
    ) -> Result<Outcome<PushInfo>, Error> {
        self.act(|st, urls| {
            let id = Self::repo_id(st, full_name)?;
            let r = &st.repos[&id];
            if r.branches.contains_key(branch) {
                return Err(Error::unprocessable("Reference already exists"));
            }
            let sha = r
                .branches
                .get(from)
                .cloned()
                .or_else(|| r.commits.contains(from).then(|| from.to_string()))
                .ok_or_else(|| Error::unprocessable("Object does not exist"))?;
            let sender = st.default_actor(r);
            Ok(ops::push(st, urls, id, branch, Some(sha), &sender))
        })
        .await
    }

    /// Delete a branch → `push` with `deleted: true`.
    pub async fn delete_branch(
        &self,
        full_name: &str,
        branch: &str,
    ) -> Result<Outcome<PushInfo>, Error> {
        self.act(|st, urls| {
            let id = Self::repo_id(st, full_name)?;
            let sender = st.default_actor(&st.repos[&id]);
            ops::delete_branch(st, urls, id, branch, &sender)
        })
        .await
    }

    /// Open a PR `head` → `base` by the repo's default actor → `pull_request opened`.
    pub async fn open_pr(
        &self,
        full_name: &str,
        head: &str,
        base: &str,
        title: &str,
    ) -> Result<Outcome<PullRequest>, Error> {
        self.open_pr_as(full_name, head, base, title, None).await
    }

    /// Open a PR authored by `user` (default: the repo's default actor).
    pub async fn open_pr_as(
        &self,
        full_name: &str,
        head: &str,
        base: &str,
        title: &str,
        user: Option<&str>,
    ) -> Result<Outcome<PullRequest>, Error> {
        self.act(|st, urls| {
            let id = Self::repo_id(st, full_name)?;
            let user = user.map_or_else(|| st.default_actor(&st.repos[&id]), str::to_string);
            ops::open_pr(st, urls, id, head, base, title, None, &user)
        })
        .await
    }

    /// Apply a [`PrChange`] → `pull_request closed|reopened|edited`.
    pub async fn change_pr(
        &self,
        full_name: &str,
        number: u64,
        change: PrChange,
    ) -> Result<Outcome<PullRequest>, Error> {
        self.act(|st, urls| {
            let id = Self::repo_id(st, full_name)?;
            ops::change_pr(st, urls, id, number, change, None)
        })
        .await
    }

    pub async fn close_pr(
        &self,
        full_name: &str,
        number: u64,
    ) -> Result<Outcome<PullRequest>, Error> {
        self.change_pr(full_name, number, PrChange::Close).await
    }

    pub async fn reopen_pr(
        &self,
        full_name: &str,
        number: u64,
    ) -> Result<Outcome<PullRequest>, Error> {
        self.change_pr(full_name, number, PrChange::Reopen).await
    }

    /// Merge: `merged = true`, `merged_at` set, state `closed`, base branch moves to the merge
    /// commit → `pull_request closed` with `merged: true`.
    pub async fn merge_pr(
        &self,
        full_name: &str,
        number: u64,
    ) -> Result<Outcome<PullRequest>, Error> {
        self.change_pr(full_name, number, PrChange::Merge).await
    }

    pub async fn edit_pr_title(
        &self,
        full_name: &str,
        number: u64,
        title: &str,
    ) -> Result<Outcome<PullRequest>, Error> {
        let change = PrChange::EditTitle {
            title: title.to_string(),
        };
        self.change_pr(full_name, number, change).await
    }

    /// Send a past delivery again: same `X-GitHub-Delivery`, same body, to the hook's current
    /// URL, optionally tampered. Logged as a new entry with `redelivery: true`.
    pub async fn redeliver(&self, delivery_id: &str, tamper: Tamper) -> Result<Delivery, Error> {
        let out = {
            let mut st = self.shared.lock();
            let d = st
                .deliveries
                .iter()
                .rev()
                .find(|d| d.id == delivery_id)
                .cloned()
                .ok_or_else(|| Error::new(404, &format!("no delivery {delivery_id}")))?;
            let hook = st
                .repos
                .get(&d.repo_id)
                .and_then(|r| r.hooks.get(&d.hook_id))
                .cloned();
            Outgoing {
                seq: st.seq(),
                id: d.id,
                event: d.event,
                action: d.action,
                hook_id: d.hook_id,
                repo_id: d.repo_id,
                url: hook.as_ref().map_or(d.url, |h| h.url.clone()),
                secret: hook
                    .as_ref()
                    .and_then(|h| h.secret.clone())
                    .filter(|s| !s.is_empty()),
                content_type: hook.map_or_else(|| "json".to_string(), |h| h.content_type),
                payload: d.payload,
                tamper,
                redelivery: true,
                known_signature: d.signature,
            }
        };
        Ok(self.send(vec![out]).await.remove(0))
    }

    /// Tamper with the next `count` deliveries (any event, any hook).
    pub fn tamper_next(&self, tamper: Tamper, count: u32) {
        let mut st = self.shared.lock();
        st.tamper_next = tamper;
        st.tamper_remaining = count;
    }

    // ---------------------------------------------------------------- faults

    pub fn inject_fault(&self, rule: FaultRule) {
        self.shared.lock().faults.push(rule);
    }

    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// The rules still active (with their remaining `times`).
    pub fn faults(&self) -> Vec<FaultRule> {
        self.shared.lock().faults.clone()
    }

    // ---------------------------------------------------------------- inspection

    /// The delivery log, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.lock().deliveries.clone()
    }

    /// Deliveries of one event (`"push"`, `"pull_request"`, `"ping"`…).
    pub fn deliveries_of(&self, event: &str) -> Vec<Delivery> {
        let st = self.shared.lock();
        st.deliveries
            .iter()
            .filter(|d| d.event == event)
            .cloned()
            .collect()
    }

    /// The last logged attempt with this `X-GitHub-Delivery` id.
    pub fn delivery(&self, id: &str) -> Option<Delivery> {
        let st = self.shared.lock();
        st.deliveries.iter().rev().find(|d| d.id == id).cloned()
    }

    pub fn clear_deliveries(&self) {
        self.shared.lock().deliveries.clear();
    }

    /// Every REST request served, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.lock().requests.clone()
    }

    pub fn repo(&self, full_name: &str) -> Option<Repo> {
        let st = self.shared.lock();
        st.repo_by_full_name(full_name)
            .map(|id| st.repos[&id].clone())
    }

    pub fn pull(&self, full_name: &str, number: u64) -> Option<PullRequest> {
        self.repo(full_name)?.pulls.get(&number).cloned()
    }

    /// A copy of the whole state.
    pub fn snapshot(&self) -> State {
        self.shared.lock().clone()
    }

    /// Direct access for anything the helpers do not cover (no deliveries are sent).
    pub fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.shared.lock())
    }
}
