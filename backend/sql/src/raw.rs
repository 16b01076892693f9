//! The statements sea-query cannot express, written as text — still over the generated
//! `Iden`s (a renamed column fails to compile here too), still typed, still in the
//! [`catalogue`](crate::catalogue) and so still PREPAREd by the native test:
//!
//! - `DELETE … USING`: sea-query 1.0's `DeleteStatement` has no `USING` clause.
//! - `WITH` whose CTEs are data-modifying and whose main statement is a `DELETE` with a
//!   sub-select or an `INSERT … ON CONFLICT`: sea-query renders a `WithQuery` only around a `SelectStatement` target
//!   for PostgreSQL in the form these need, and `DELETE … WHERE x IN (SELECT … LIMIT n)`
//!   reads clearer as the SQL it is.

use crate::core::Tasks;

use crate::schema::{
    GithubPullRequests as Pr, GithubTaskBranches as B, GithubTaskPrLinks as L,
    GithubWebhookDeliveries as D,
};
use crate::{Mode, Output, Params, SqlType, Statement};
use sea_query::Iden;

/// Records are kept this long (GitHub redelivers from the last 3 days), then deleted in
/// batches of [`RETENTION_BATCH`] when a later delivery is recorded.
pub const RETENTION: &str = "7 days";
pub const RETENTION_BATCH: usize = 100;
/// An unfinished record older than this is taken over: only a former version of the plugin
/// left such rows (it claimed before the work; the host's budget for one call is 5 s, so that
/// attempt is over by then).
pub const CLAIM_LEASE: &str = "30 seconds";

/// The quoted SQL name of an `Iden`.
fn n<I: Iden>(i: I) -> String {
    format!("\"{}\"", i.to_string())
}

pub(crate) fn all() -> Vec<Statement> {
    vec![unlink_pr(), record_delivery(), task_deleted_cleanup()]
}

fn unlink_pr() -> Statement {
    let mut p = Params::new();
    let task = p.add("task_id", SqlType::Uuid);
    let pr = p.add("pull_request_id", SqlType::Uuid);
    let project = p.add("project_id", SqlType::Uuid);
    let [task, pr, project] = [task, pr, project].map(crate::statements::text_of);
    let sql = format!(
        "DELETE FROM {links} AS \"l\" USING {tasks} AS \"t\", {prs} AS \"pr\" \
         WHERE \"l\".{l_task} = {task} AND \"l\".{l_pr} = {pr} AND \"t\".{t_id} = \"l\".{l_task} \
         AND \"t\".{t_project} = {project} AND \"t\".{t_deleted} IS NULL \
         AND \"pr\".{pr_id} = \"l\".{l_pr} AND \"pr\".{pr_project} = {project} RETURNING \"l\".{l_id}",
        links = n(L::Table),
        tasks = n(Tasks::Table),
        prs = n(Pr::Table),
        l_task = n(L::TaskId),
        l_pr = n(L::PullRequestId),
        l_id = n(L::Id),
        t_id = n(Tasks::Id),
        t_project = n(Tasks::ProjectId),
        t_deleted = n(Tasks::DeletedAt),
        pr_id = n(Pr::Id),
        pr_project = n(Pr::ProjectId),
    );
    Statement {
        name: "UnlinkPr",
        doc: "Unlinks a PR from a live task of the project; no row when there was no such link.",
        mode: Mode::Query,
        sql,
        params: p.into_vec(),
        outputs: vec![Output::col(L::Id)],
        row: None,
    }
}

/// Records a `pull_request` delivery after its work, with a retention batch. The record is
/// the claim on what only one call may do per delivery — announce its state to the linked
/// tasks: the row count (1, or 0 when another call recorded it) says whether this call
/// does. Everything before it is idempotent, and an attempt that crashed before recording
/// leaves nothing that would swallow the redelivery. A claim a former version of the plugin
/// left unfinished is taken over after the lease.
fn record_delivery() -> Statement {
    let mut p = Params::new();
    let [id, repo, event] = [
        p.add("delivery_id", SqlType::Text),
        p.add("repo_id", SqlType::Uuid),
        p.add("event", SqlType::Text),
    ]
    .map(crate::statements::text_of);
    let sql = format!(
        "WITH \"retention\" AS (DELETE FROM {d} WHERE {delivery} IN (SELECT {delivery} FROM {d} \
         WHERE {received} < NOW() - INTERVAL '{RETENTION}' ORDER BY {received} LIMIT {RETENTION_BATCH})) \
         INSERT INTO {d} ({delivery}, {d_repo}, {d_event}, {completed}) VALUES ({id}, {repo}, {event}, NOW()) \
         ON CONFLICT ({delivery}) DO UPDATE SET {received} = NOW(), {completed} = NOW(), {d_repo} = \"excluded\".{d_repo} \
         WHERE {d}.{completed} IS NULL AND {d}.{received} < NOW() - INTERVAL '{CLAIM_LEASE}'",
        d = n(D::Table),
        delivery = n(D::DeliveryId),
        d_repo = n(D::RepoId),
        d_event = n(D::Event),
        completed = n(D::CompletedAt),
        received = n(D::ReceivedAt),
    );
    Statement {
        name: "RecordDelivery",
        doc: "Records a delivery and deletes a retention batch; 1 row when this call recorded \
              it, 0 when another did.",
        mode: Mode::Exec,
        sql,
        params: p.into_vec(),
        outputs: vec![],
        row: None,
    }
}

fn task_deleted_cleanup() -> Statement {
    let mut p = Params::new();
    let id = crate::statements::text_of(p.add("task_id", SqlType::Uuid));
    let sql = format!(
        "WITH \"gone\" AS (SELECT {id} AS \"id\" WHERE NOT EXISTS \
         (SELECT 1 FROM {tasks} WHERE {t_id} = {id} AND {t_deleted} IS NULL)), \
         \"branches\" AS (DELETE FROM {b} WHERE {b_task} IN (SELECT \"id\" FROM \"gone\")) \
         DELETE FROM {l} WHERE {l_task} IN (SELECT \"id\" FROM \"gone\")",
        tasks = n(Tasks::Table),
        t_id = n(Tasks::Id),
        t_deleted = n(Tasks::DeletedAt),
        b = n(B::Table),
        b_task = n(B::TaskId),
        l = n(L::Table),
        l_task = n(L::TaskId),
    );
    Statement {
        name: "TaskDeletedCleanup",
        doc: "Removes the branch and PR links of a task, only if it really is deleted.",
        mode: Mode::Exec,
        sql,
        params: p.into_vec(),
        outputs: vec![],
        row: None,
    }
}
