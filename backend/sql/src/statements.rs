//! The statements sea-query expresses, one function each, grouped by the backend module that
//! issues them. Table aliases are the short ones the SQL always used (`r`, `i`, `pr`, `l`,
//! `b`, `t`, `p`); every parameter is `$n::type` (see [`Params`]).

use crate::core::{Projects, Tasks};
use crate::schema::{
    GithubIntegrations as I, GithubPullRequests as Pr, GithubRepositories as R,
    GithubTaskBranches as B, GithubTaskPrLinks as L,
};
use crate::{Column, Mode, Output, Params, SqlType, Statement};
use sea_query::{
    Alias, Cond, Expr, ExprTrait, JoinType, OnConflict, Order, PostgresQueryBuilder, Query,
    SelectStatement,
};

/// At most this many task keys are looked up per branch name or title; the auto-link
/// statements take exactly this many per text (unused ones NULL, which `IN` never matches).
pub const MAX_KEYS: usize = 5;

fn a(alias: &str) -> Alias {
    Alias::new(alias)
}

/// `alias.column`.
fn c<C: Column>(alias: &str, col: C) -> Expr {
    Expr::col((a(alias), col))
}

fn now() -> Expr {
    Expr::cust("NOW()")
}

/// The SQL of one expression, for the places sea-query takes only text (an aliased
/// RETURNING item).
pub(crate) fn text_of(e: Expr) -> String {
    let sql = Query::select().expr(e).to_string(PostgresQueryBuilder);
    sql.strip_prefix("SELECT ")
        .expect("SELECT prefix")
        .to_string()
}

/// `expr AS "alias"` as one RETURNING item.
fn returning_as(e: Expr, alias: &str) -> Expr {
    Expr::cust(format!("{} AS \"{alias}\"", text_of(e)))
}

fn stmt(
    name: &'static str,
    doc: &'static str,
    mode: Mode,
    sql: String,
    params: Params,
    outputs: Vec<Output>,
) -> Statement {
    Statement {
        name,
        doc,
        mode,
        sql,
        params: params.into_vec(),
        outputs,
        row: None,
    }
}

pub(crate) fn all() -> Vec<Statement> {
    vec![
        integration_timestamps(),
        upsert_token(),
        delete_integration(),
        stored_token(),
        list_repositories(),
        link_context(),
        claim_repository(),
        release_repository(),
        fill_webhook(),
        live_webhook(),
        unlink_target(),
        delete_repository(),
        list_task_prs(),
        task_repo_context(),
        upsert_pr_returning_dto(),
        link_pr(),
        cached_pr(),
        task_exists(),
        list_task_branches(),
        link_branch(),
        backfill_clone_url(),
        capability_repositories(),
        clone_info(),
        resolve_linked_pr(),
        link_created_branch(),
        hook_repo_candidates(),
        reconcile_repository(),
        cached_pr_links(),
        upsert_pr_returning_links(),
        auto_link_branch(),
        link_pr_to_tasks(),
        draw_entropy(),
    ]
}

// ---- integration.rs -------------------------------------------------------------------------

fn integration_timestamps() -> Statement {
    let mut p = Params::new();
    let project = p.add("project_id", SqlType::Uuid);
    let sql = Query::select()
        .columns([I::CreatedAt, I::UpdatedAt])
        .from(I::Table)
        .and_where(Expr::col(I::ProjectId).eq(project))
        .to_string(PostgresQueryBuilder);
    stmt(
        "IntegrationTimestamps",
        "The project's integration, if any.",
        Mode::Query,
        sql,
        p,
        vec![Output::col(I::CreatedAt), Output::col(I::UpdatedAt)],
    )
}

fn upsert_token() -> Statement {
    let mut p = Params::new();
    let project = p.add("project_id", SqlType::Uuid);
    let token = p.add("access_token_enc", SqlType::Text);
    let sql = Query::insert()
        .into_table(I::Table)
        .columns([I::ProjectId, I::AccessTokenEnc])
        .values_panic([project, token])
        .on_conflict(
            OnConflict::column(I::ProjectId)
                .update_column(I::AccessTokenEnc)
                .value(I::UpdatedAt, now())
                .to_owned(),
        )
        .returning(Query::returning().columns([I::CreatedAt, I::UpdatedAt]))
        .to_string(PostgresQueryBuilder);
    stmt(
        "UpsertToken",
        "Stores (or replaces) the project's encrypted token.",
        Mode::Query,
        sql,
        p,
        vec![Output::col(I::CreatedAt), Output::col(I::UpdatedAt)],
    )
}

fn delete_integration() -> Statement {
    let mut p = Params::new();
    let project = p.add("project_id", SqlType::Uuid);
    // `[owner, repo_name, full_name, webhook_id]` of every repository that had a webhook.
    let hooks = Query::select()
        .expr(Expr::cust(format!(
            "coalesce(json_agg(json_build_array({}, {}, {}, {}) ORDER BY {}, {}), '[]'::json)",
            text_of(c("r", R::Owner)),
            text_of(c("r", R::RepoName)),
            text_of(c("r", R::FullName)),
            text_of(c("r", R::WebhookId)),
            text_of(c("r", R::CreatedAt)),
            text_of(c("r", R::Id)),
        )))
        .from_as(R::Table, a("r"))
        .and_where(c("r", R::IntegrationId).equals((I::Table, I::Id)))
        .and_where(c("r", R::WebhookId).gt(Expr::cust("0")))
        .to_owned();
    let sql = Query::delete()
        .from_table(I::Table)
        .and_where(Expr::col(I::ProjectId).eq(project))
        .returning(sea_query::ReturningClause::Exprs(vec![
            Expr::col(I::AccessTokenEnc),
            returning_as(Expr::SubQuery(None, Box::new(hooks.into())), "hooks"),
        ]))
        .to_string(PostgresQueryBuilder);
    stmt(
        "DeleteIntegration",
        "Deletes the integration (its repositories cascade) and returns its token and the \
         webhooks to remove.",
        Mode::Query,
        sql,
        p,
        vec![
            Output::col(I::AccessTokenEnc),
            Output::computed("hooks", SqlType::Json, false),
        ],
    )
}

fn stored_token() -> Statement {
    let mut p = Params::new();
    let project = p.add("project_id", SqlType::Uuid);
    let sql = Query::select()
        .column(I::AccessTokenEnc)
        .from(I::Table)
        .and_where(Expr::col(I::ProjectId).eq(project))
        .to_string(PostgresQueryBuilder);
    stmt(
        "StoredToken",
        "The project's encrypted token.",
        Mode::Query,
        sql,
        p,
        vec![Output::col(I::AccessTokenEnc)],
    )
}

// ---- repositories.rs ------------------------------------------------------------------------

fn list_repositories() -> Statement {
    let mut p = Params::new();
    let project = p.add("project_id", SqlType::Uuid);
    let sql = Query::select()
        .columns(R::COLUMNS.iter().copied())
        .from(R::Table)
        .and_where(Expr::col(R::ProjectId).eq(project))
        .order_by(R::CreatedAt, Order::Asc)
        .order_by(R::Id, Order::Asc)
        .to_string(PostgresQueryBuilder);
    stmt(
        "ListRepositories",
        "Every column of the project's linked repositories, oldest first.",
        Mode::Query,
        sql,
        p,
        R::COLUMNS.iter().map(|&col| Output::col(col)).collect(),
    )
}

fn link_context() -> Statement {
    let mut p = Params::new();
    let project = p.add("project_id", SqlType::Uuid);
    let sql = Query::select()
        .expr_as(Expr::col(I::Id), a("integration_id"))
        .column(I::AccessTokenEnc)
        .from(I::Table)
        .and_where(Expr::col(I::ProjectId).eq(project))
        .to_string(PostgresQueryBuilder);
    stmt(
        "LinkContext",
        "The integration a new link hangs off, with its token.",
        Mode::Query,
        sql,
        p,
        vec![
            Output::col_as(I::Id, "integration_id"),
            Output::col(I::AccessTokenEnc),
        ],
    )
}

fn claim_repository() -> Statement {
    let mut p = Params::new();
    let project = p.add("project_id", SqlType::Uuid);
    let integration = p.add("integration_id", SqlType::Uuid);
    let owner = p.add("owner", SqlType::Text);
    let repo_name = p.add("repo_name", SqlType::Text);
    let full_name = p.add("full_name", SqlType::Text);
    let secret = p.add("webhook_secret_enc", SqlType::Text);
    let default_branch = p.add("default_branch", SqlType::Text);
    let github_id = p.add("github_repo_id", SqlType::BigInt);
    let updated = p.add_opt("github_repo_updated_at", SqlType::Timestamptz);
    let clone_url = p.add_opt("clone_url", SqlType::Text);
    let private = p.add("private", SqlType::Bool);
    // Rows linked before GitHub ids were stored are matched by name (case-insensitively).
    let legacy = Query::select()
        .expr(Expr::cust("1"))
        .from_as(R::Table, a("r"))
        .and_where(c("r", R::ProjectId).eq(p.get("project_id")))
        .and_where(c("r", R::GithubRepoId).is_null())
        .and_where(
            Expr::cust_with_expr("lower($1)", c("r", R::FullName))
                .eq(Expr::cust_with_expr("lower($1)", p.get("full_name"))),
        )
        .to_owned();
    let select = Query::select()
        .exprs([
            project,
            integration,
            owner,
            repo_name,
            full_name,
            Expr::cust("0"),
            secret,
            default_branch,
            github_id,
            updated,
            clone_url,
            private,
        ])
        .and_where(Expr::exists(legacy).not())
        .to_owned();
    let sql = Query::insert()
        .into_table(R::Table)
        .columns([
            R::ProjectId,
            R::IntegrationId,
            R::Owner,
            R::RepoName,
            R::FullName,
            R::WebhookId,
            R::WebhookSecretEnc,
            R::DefaultBranch,
            R::GithubRepoId,
            R::GithubRepoUpdatedAt,
            R::CloneUrl,
            R::Private,
        ])
        .select_from(select)
        .expect("columns match")
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .returning(Query::returning().columns([R::Id, R::CreatedAt]))
        .to_string(PostgresQueryBuilder);
    stmt(
        "ClaimRepository",
        "Claims the link (webhook_id 0: no hook yet); no row when it exists already, by id or \
         under a former name.",
        Mode::Query,
        sql,
        p,
        vec![Output::col(R::Id), Output::col(R::CreatedAt)],
    )
}

fn release_repository() -> Statement {
    let mut p = Params::new();
    let id = p.add("repo_id", SqlType::Uuid);
    let sql = Query::delete()
        .from_table(R::Table)
        .and_where(Expr::col(R::Id).eq(id))
        .and_where(Expr::col(R::WebhookId).eq(Expr::cust("0")))
        .to_string(PostgresQueryBuilder);
    stmt(
        "ReleaseRepository",
        "Gives up a claimed link whose hook was never stored.",
        Mode::Exec,
        sql,
        p,
        vec![],
    )
}

fn fill_webhook() -> Statement {
    let mut p = Params::new();
    let id = p.add("repo_id", SqlType::Uuid);
    let hook = p.add("webhook_id", SqlType::BigInt);
    let sql = Query::update()
        .table(R::Table)
        .value(R::WebhookId, hook)
        .value(R::UpdatedAt, now())
        .and_where(Expr::col(R::Id).eq(id))
        .returning(Query::returning().column(R::UpdatedAt))
        .to_string(PostgresQueryBuilder);
    stmt(
        "FillWebhook",
        "Stores the created hook's id in the claimed row; no row when it was unlinked meanwhile.",
        Mode::Query,
        sql,
        p,
        vec![Output::col(R::UpdatedAt)],
    )
}

fn live_webhook() -> Statement {
    let mut p = Params::new();
    let project = p.add("project_id", SqlType::Uuid);
    let hook = p.add("webhook_id", SqlType::BigInt);
    let sql = Query::select()
        .expr(Expr::cust("1"))
        .from(R::Table)
        .and_where(Expr::col(R::ProjectId).eq(project))
        .and_where(Expr::col(R::WebhookId).eq(hook))
        .to_string(PostgresQueryBuilder);
    stmt(
        "LiveWebhook",
        "Whether a row of the project still names this hook.",
        Mode::Query,
        sql,
        p,
        vec![],
    )
}

fn unlink_target() -> Statement {
    let mut p = Params::new();
    let id = p.add("repo_id", SqlType::Uuid);
    let project = p.add("project_id", SqlType::Uuid);
    let sql = Query::select()
        .exprs([
            c("r", R::Owner),
            c("r", R::RepoName),
            c("r", R::FullName),
            c("r", R::WebhookId),
            c("i", I::AccessTokenEnc),
        ])
        .from_as(R::Table, a("r"))
        .join_as(
            JoinType::InnerJoin,
            I::Table,
            a("i"),
            c("i", I::Id).equals((a("r"), R::IntegrationId)),
        )
        .and_where(c("r", R::Id).eq(id))
        .and_where(c("r", R::ProjectId).eq(project))
        .to_string(PostgresQueryBuilder);
    stmt(
        "UnlinkTarget",
        "The repository to unlink, with what removing its hook needs.",
        Mode::Query,
        sql,
        p,
        vec![
            Output::col(R::Owner),
            Output::col(R::RepoName),
            Output::col(R::FullName),
            Output::col(R::WebhookId),
            Output::col(I::AccessTokenEnc),
        ],
    )
}

fn delete_repository() -> Statement {
    let mut p = Params::new();
    let id = p.add("repo_id", SqlType::Uuid);
    let project = p.add("project_id", SqlType::Uuid);
    let sql = Query::delete()
        .from_table(R::Table)
        .and_where(Expr::col(R::Id).eq(id))
        .and_where(Expr::col(R::ProjectId).eq(project))
        .to_string(PostgresQueryBuilder);
    stmt(
        "DeleteRepository",
        "Unlinks a repository.",
        Mode::Exec,
        sql,
        p,
        vec![],
    )
}

// ---- pull_requests.rs -----------------------------------------------------------------------

/// The columns of a cached PR joined with its repository (`repo_full_name`), as the API
/// shows it, all nullable (the task-only row of a LEFT JOIN).
fn pr_exprs(repo_full_name: Expr) -> Vec<(Expr, &'static str)> {
    let mut out = vec![
        (c("pr", Pr::Id), "id"),
        (c("pr", Pr::ProjectId), "project_id"),
        (c("pr", Pr::RepoId), "repo_id"),
        (repo_full_name, "repo_full_name"),
    ];
    for (col, name) in [
        (Pr::PrNumber, "pr_number"),
        (Pr::GithubPrId, "github_pr_id"),
        (Pr::Title, "title"),
        (Pr::State, "state"),
        (Pr::HtmlUrl, "html_url"),
        (Pr::HeadBranch, "head_branch"),
        (Pr::BaseBranch, "base_branch"),
        (Pr::Author, "author"),
        (Pr::MergedAt, "merged_at"),
        (Pr::CreatedAt, "created_at"),
        (Pr::UpdatedAt, "updated_at"),
    ] {
        out.push((c("pr", col), name));
    }
    out
}

fn pr_outputs() -> Vec<Output> {
    let mut out = vec![
        Output::col(Pr::Id).or_null(),
        Output::col(Pr::ProjectId).or_null(),
        Output::col(Pr::RepoId).or_null(),
        Output::col_as(R::FullName, "repo_full_name").or_null(),
    ];
    for col in [
        Pr::PrNumber,
        Pr::GithubPrId,
        Pr::Title,
        Pr::State,
        Pr::HtmlUrl,
        Pr::HeadBranch,
        Pr::BaseBranch,
        Pr::Author,
        Pr::MergedAt,
        Pr::CreatedAt,
        Pr::UpdatedAt,
    ] {
        out.push(Output::col(col).or_null());
    }
    out
}

fn select_pr_columns(s: &mut SelectStatement) {
    for (e, name) in pr_exprs(c("r", R::FullName)) {
        if name == "repo_full_name" {
            s.expr_as(e, a(name));
        } else {
            s.expr(e);
        }
    }
}

/// `FROM tasks t` where `t` is the caller's live task.
fn live_task(s: &mut SelectStatement, p: &Params) {
    s.and_where(c("t", Tasks::Id).eq(p.get("task_id")))
        .and_where(c("t", Tasks::ProjectId).eq(p.get("project_id")))
        .and_where(c("t", Tasks::DeletedAt).is_null());
}

fn list_task_prs() -> Statement {
    let mut p = Params::new();
    p.add("task_id", SqlType::Uuid);
    p.add("project_id", SqlType::Uuid);
    let mut s = Query::select();
    select_pr_columns(&mut s);
    s.from_as(Tasks::Table, a("t"))
        .join_as(
            JoinType::LeftJoin,
            L::Table,
            a("l"),
            c("l", L::TaskId).equals((a("t"), Tasks::Id)),
        )
        .join_as(
            JoinType::LeftJoin,
            Pr::Table,
            a("pr"),
            c("pr", Pr::Id)
                .equals((a("l"), L::PullRequestId))
                .and(c("pr", Pr::ProjectId).equals((a("t"), Tasks::ProjectId))),
        )
        .join_as(
            JoinType::LeftJoin,
            R::Table,
            a("r"),
            c("r", R::Id).equals((a("pr"), Pr::RepoId)),
        );
    live_task(&mut s, &p);
    let sql = s
        .order_by((a("l"), L::CreatedAt), Order::Asc)
        .order_by((a("l"), L::Id), Order::Asc)
        .to_string(PostgresQueryBuilder);
    stmt(
        "ListTaskPrs",
        "The task's linked PRs; one row with a null `id` when the task has none, no row when \
         there is no such live task.",
        Mode::Query,
        sql,
        p,
        pr_outputs(),
    )
    .with_row("PrRow")
}

fn task_repo_context() -> Statement {
    let mut p = Params::new();
    p.add("task_id", SqlType::Uuid);
    p.add("project_id", SqlType::Uuid);
    let repo = p.add("repo_id", SqlType::Uuid);
    let mut s = Query::select();
    s.expr_as(c("r", R::Id), a("repo_id"))
        .exprs([
            c("r", R::Owner),
            c("r", R::RepoName),
            c("r", R::FullName),
            c("r", R::DefaultBranch),
            c("i", I::AccessTokenEnc),
        ])
        .from_as(Tasks::Table, a("t"))
        .join_as(
            JoinType::LeftJoin,
            I::Table,
            a("i"),
            c("i", I::ProjectId).equals((a("t"), Tasks::ProjectId)),
        )
        .join_as(
            JoinType::LeftJoin,
            R::Table,
            a("r"),
            c("r", R::Id)
                .eq(repo)
                .and(c("r", R::ProjectId).equals((a("t"), Tasks::ProjectId))),
        );
    live_task(&mut s, &p);
    stmt(
        "TaskRepoContext",
        "The live task (a row at all), the repository in its project and the token.",
        Mode::Query,
        s.to_string(PostgresQueryBuilder),
        p,
        vec![
            Output::col_as(R::Id, "repo_id").or_null(),
            Output::col(R::Owner).or_null(),
            Output::col(R::RepoName).or_null(),
            Output::col(R::FullName).or_null(),
            Output::col(R::DefaultBranch).or_null(),
            Output::col(I::AccessTokenEnc).or_null(),
        ],
    )
}

/// The upsert of a cached PR. The `WHERE` is the ordering guard: a payload older than the
/// cached one (GitHub's `updated_at`) changes nothing and returns no row.
fn upsert_pr(p: &mut Params) -> sea_query::InsertStatement {
    let cols = [
        (Pr::ProjectId, "project_id", SqlType::Uuid, false),
        (Pr::RepoId, "repo_id", SqlType::Uuid, false),
        (Pr::PrNumber, "pr_number", SqlType::BigInt, false),
        (Pr::GithubPrId, "github_pr_id", SqlType::BigInt, false),
        (Pr::Title, "title", SqlType::Text, false),
        (Pr::State, "state", SqlType::Text, false),
        (Pr::HtmlUrl, "html_url", SqlType::Text, false),
        (Pr::HeadBranch, "head_branch", SqlType::Text, false),
        (Pr::BaseBranch, "base_branch", SqlType::Text, false),
        (Pr::Author, "author", SqlType::Text, false),
        (Pr::MergedAt, "merged_at", SqlType::Timestamptz, true),
        (
            Pr::GithubUpdatedAt,
            "github_updated_at",
            SqlType::Timestamptz,
            true,
        ),
    ];
    let values: Vec<Expr> = cols
        .iter()
        .map(|&(_, name, ty, nullable)| {
            if nullable {
                p.add_opt(name, ty)
            } else {
                p.add(name, ty)
            }
        })
        .collect();
    let cached = Expr::col((Pr::Table, Pr::GithubUpdatedAt));
    let incoming = Expr::col((a("excluded"), Pr::GithubUpdatedAt));
    let refreshed = [
        Pr::GithubPrId,
        Pr::Title,
        Pr::State,
        Pr::HtmlUrl,
        Pr::HeadBranch,
        Pr::BaseBranch,
        Pr::Author,
        Pr::MergedAt,
        Pr::GithubUpdatedAt,
    ];
    // `updated_at` says when the cached copy last changed: a redelivery or a re-read of the
    // same state rewrites the row but keeps it.
    let row_of = |table: &str| {
        let cols: Vec<String> = refreshed
            .iter()
            .map(|col| format!("\"{table}\".\"{}\"", sea_query::Iden::to_string(col)))
            .collect();
        format!("({})", cols.join(", "))
    };
    let touched = Expr::cust(format!(
        "CASE WHEN {} IS DISTINCT FROM {} THEN NOW() ELSE \"github_pull_requests\".\"updated_at\" END",
        row_of("excluded"),
        row_of("github_pull_requests"),
    ));
    Query::insert()
        .into_table(Pr::Table)
        .columns(cols.iter().map(|c| c.0))
        .values_panic(values)
        .on_conflict(
            OnConflict::columns([Pr::RepoId, Pr::PrNumber])
                .update_columns(refreshed)
                .value(Pr::UpdatedAt, touched)
                .action_cond_where(
                    Cond::any()
                        .add(cached.clone().is_null())
                        .add(incoming.clone().is_null())
                        .add(incoming.gte(cached)),
                )
                .to_owned(),
        )
        .to_owned()
}

fn upsert_pr_returning_dto() -> Statement {
    let mut p = Params::new();
    let mut insert = upsert_pr(&mut p);
    let full_name = p.add("repo_full_name", SqlType::Text);
    let items = pr_exprs(full_name)
        .into_iter()
        .map(|(e, name)| {
            let e = match text_of(e.clone()).strip_prefix("\"pr\".") {
                Some(col) => Expr::cust(format!("\"github_pull_requests\".{col}")),
                None => e,
            };
            returning_as(e, name)
        })
        .collect::<Vec<_>>();
    insert.returning(sea_query::ReturningClause::Exprs(items));
    stmt(
        "UpsertPr",
        "Caches a PR opened or linked through the API and returns it as the API shows it; no \
         row when the cache already holds a newer state.",
        Mode::Query,
        insert.to_string(PostgresQueryBuilder),
        p,
        pr_outputs(),
    )
    .with_row("PrRow")
}

fn link_pr() -> Statement {
    let mut p = Params::new();
    let task = p.add("task_id", SqlType::Uuid);
    let pr = p.add("pull_request_id", SqlType::Uuid);
    let sql = Query::insert()
        .into_table(L::Table)
        .columns([L::TaskId, L::PullRequestId])
        .values_panic([task, pr])
        .on_conflict(
            OnConflict::columns([L::TaskId, L::PullRequestId])
                .do_nothing()
                .to_owned(),
        )
        .returning(Query::returning().column(L::Id))
        .to_string(PostgresQueryBuilder);
    stmt(
        "LinkPr",
        "Links a cached PR to a task; no row when it was linked already.",
        Mode::Query,
        sql,
        p,
        vec![Output::col(L::Id)],
    )
}

fn cached_pr() -> Statement {
    let mut p = Params::new();
    let repo = p.add("repo_id", SqlType::Uuid);
    let number = p.add("pr_number", SqlType::BigInt);
    let mut s = Query::select();
    select_pr_columns(&mut s);
    let sql = s
        .from_as(Pr::Table, a("pr"))
        .join_as(
            JoinType::InnerJoin,
            R::Table,
            a("r"),
            c("r", R::Id).equals((a("pr"), Pr::RepoId)),
        )
        .and_where(c("pr", Pr::RepoId).eq(repo))
        .and_where(c("pr", Pr::PrNumber).eq(number))
        .to_string(PostgresQueryBuilder);
    stmt(
        "CachedPr",
        "A cached PR by repository and number, as the API shows it.",
        Mode::Query,
        sql,
        p,
        pr_outputs(),
    )
    .with_row("PrRow")
}

fn task_exists() -> Statement {
    let mut p = Params::new();
    p.add("task_id", SqlType::Uuid);
    p.add("project_id", SqlType::Uuid);
    let mut s = Query::select();
    s.expr(Expr::cust("1")).from_as(Tasks::Table, a("t"));
    live_task(&mut s, &p);
    stmt(
        "TaskExists",
        "Whether the task is live in the project.",
        Mode::Query,
        s.to_string(PostgresQueryBuilder),
        p,
        vec![],
    )
}

// ---- branches.rs ----------------------------------------------------------------------------

fn list_task_branches() -> Statement {
    let mut p = Params::new();
    p.add("task_id", SqlType::Uuid);
    p.add("project_id", SqlType::Uuid);
    let mut s = Query::select();
    s.exprs([c("b", B::Id), c("b", B::RepoId)])
        .expr_as(c("r", R::FullName), a("repo_full_name"))
        .exprs([c("b", B::BranchName), c("b", B::CreatedAt)])
        .from_as(Tasks::Table, a("t"))
        .join_as(
            JoinType::LeftJoin,
            B::Table,
            a("b"),
            c("b", B::TaskId).equals((a("t"), Tasks::Id)),
        )
        .join_as(
            JoinType::LeftJoin,
            R::Table,
            a("r"),
            c("r", R::Id).equals((a("b"), B::RepoId)),
        );
    live_task(&mut s, &p);
    let sql = s
        .order_by((a("b"), B::CreatedAt), Order::Asc)
        .order_by((a("b"), B::Id), Order::Asc)
        .to_string(PostgresQueryBuilder);
    stmt(
        "ListTaskBranches",
        "The task's linked branches; one row of nulls when it has none, no row when there is \
         no such live task.",
        Mode::Query,
        sql,
        p,
        vec![
            Output::col(B::Id).or_null(),
            Output::col(B::RepoId).or_null(),
            Output::col_as(R::FullName, "repo_full_name").or_null(),
            Output::col(B::BranchName).or_null(),
            Output::col(B::CreatedAt).or_null(),
        ],
    )
}

fn link_branch() -> Statement {
    let mut p = Params::new();
    let task = p.add("task_id", SqlType::Uuid);
    let repo = p.add("repo_id", SqlType::Uuid);
    let name = p.add("branch_name", SqlType::Text);
    let mut insert = Query::insert();
    insert
        .into_table(B::Table)
        .columns([B::TaskId, B::RepoId, B::BranchName])
        .values_panic([task, repo, name])
        // A no-op update, so the existing row comes back too; `xmax = 0` tells them apart.
        .on_conflict(
            OnConflict::columns([B::TaskId, B::RepoId, B::BranchName])
                .value(B::BranchName, Expr::col((B::Table, B::BranchName)))
                .to_owned(),
        )
        .returning(sea_query::ReturningClause::Exprs(vec![
            Expr::col(B::Id),
            Expr::col(B::CreatedAt),
            returning_as(Expr::cust("xmax").eq(Expr::cust("0")), "inserted"),
        ]));
    stmt(
        "LinkBranch",
        "Links a branch to a task, or finds the link; `inserted` says which.",
        Mode::Query,
        insert.to_string(PostgresQueryBuilder),
        p,
        vec![
            Output::col(B::Id),
            Output::col(B::CreatedAt),
            Output::computed("inserted", SqlType::Bool, false),
        ],
    )
}

// ---- capability.rs --------------------------------------------------------------------------

fn backfill_clone_url() -> Statement {
    let mut p = Params::new();
    let url = p.add("clone_url", SqlType::Text);
    let private = p.add("private", SqlType::Bool);
    let branch = p.add("default_branch", SqlType::Text);
    let id = p.add("repo_id", SqlType::Uuid);
    let project = p.add("project_id", SqlType::Uuid);
    let sql = Query::update()
        .table(R::Table)
        .value(R::CloneUrl, url)
        .value(R::Private, private)
        .value(R::DefaultBranch, branch)
        .value(R::UpdatedAt, now())
        .and_where(Expr::col(R::Id).eq(id))
        .and_where(Expr::col(R::ProjectId).eq(project))
        .to_string(PostgresQueryBuilder);
    stmt(
        "BackfillCloneUrl",
        "Stores what GitHub says of a repository linked before clone URLs were stored.",
        Mode::Exec,
        sql,
        p,
        vec![],
    )
}

fn repo_columns(s: &mut SelectStatement) {
    s.exprs([
        c("r", R::Id),
        c("r", R::Owner),
        c("r", R::RepoName),
        c("r", R::FullName),
        c("r", R::DefaultBranch),
        c("r", R::CloneUrl),
        c("r", R::Private),
        c("i", I::AccessTokenEnc),
    ]);
}

fn repo_outputs() -> Vec<Output> {
    vec![
        Output::col(R::Id).or_null(),
        Output::col(R::Owner).or_null(),
        Output::col(R::RepoName).or_null(),
        Output::col(R::FullName).or_null(),
        Output::col(R::DefaultBranch).or_null(),
        Output::col(R::CloneUrl).or_null(),
        Output::col(R::Private).or_null(),
        Output::col(I::AccessTokenEnc),
        Output::computed("task_found", SqlType::Bool, true),
    ]
}

fn capability_repositories() -> Statement {
    let mut p = Params::new();
    let project = p.add("project_id", SqlType::Uuid);
    let mut s = Query::select();
    repo_columns(&mut s);
    let sql = s
        .expr_as(Expr::cust("NULL::boolean"), a("task_found"))
        .from_as(I::Table, a("i"))
        .join_as(
            JoinType::LeftJoin,
            R::Table,
            a("r"),
            c("r", R::ProjectId).equals((a("i"), I::ProjectId)),
        )
        .and_where(c("i", I::ProjectId).eq(project))
        .order_by((a("r"), R::CreatedAt), Order::Asc)
        .order_by((a("r"), R::Id), Order::Asc)
        .to_string(PostgresQueryBuilder);
    stmt(
        "CapabilityRepositories",
        "The linked repositories with the token; no row when the project has no token, one \
         row with a null `id` when it has no repository.",
        Mode::Query,
        sql,
        p,
        repo_outputs(),
    )
    .with_row("RepoRow")
}

fn clone_info() -> Statement {
    let mut p = Params::new();
    let project = p.add("project_id", SqlType::Uuid);
    let repo = p.add("repo_id", SqlType::Uuid);
    let task = p.add_opt("task_id", SqlType::Uuid);
    let task_live = Query::select()
        .expr(Expr::cust("1"))
        .from_as(Tasks::Table, a("t"))
        .and_where(c("t", Tasks::Id).eq(p.get("task_id")))
        .and_where(c("t", Tasks::ProjectId).equals((a("i"), I::ProjectId)))
        .and_where(c("t", Tasks::DeletedAt).is_null())
        .to_owned();
    let task_found =
        Expr::case(task.is_null(), Expr::cust("NULL")).finally(Expr::exists(task_live));
    let mut s = Query::select();
    repo_columns(&mut s);
    let sql = s
        .expr_as(task_found, a("task_found"))
        .from_as(I::Table, a("i"))
        .join_as(
            JoinType::LeftJoin,
            R::Table,
            a("r"),
            c("r", R::Id)
                .eq(repo)
                .and(c("r", R::ProjectId).equals((a("i"), I::ProjectId))),
        )
        .and_where(c("i", I::ProjectId).eq(project))
        .to_string(PostgresQueryBuilder);
    stmt(
        "CloneInfo",
        "One repository with the token, and whether the named task (if any) is live.",
        Mode::Query,
        sql,
        p,
        repo_outputs(),
    )
    .with_row("RepoRow")
}

// ---- pr_workflow.rs -------------------------------------------------------------------------

fn resolve_linked_pr() -> Statement {
    let mut p = Params::new();
    p.add("task_id", SqlType::Uuid);
    p.add("project_id", SqlType::Uuid);
    let pr = p.add("pull_request_id", SqlType::Uuid);
    let mut s = Query::select();
    s.expr_as(c("pr", Pr::Id), a("pr_id"))
        .exprs([
            c("pr", Pr::RepoId),
            c("pr", Pr::PrNumber),
            c("r", R::Owner),
            c("r", R::RepoName),
            c("r", R::FullName),
            c("i", I::AccessTokenEnc),
        ])
        .from_as(Tasks::Table, a("t"))
        .join_as(
            JoinType::LeftJoin,
            I::Table,
            a("i"),
            c("i", I::ProjectId).equals((a("t"), Tasks::ProjectId)),
        )
        .join_as(
            JoinType::LeftJoin,
            L::Table,
            a("l"),
            c("l", L::TaskId)
                .equals((a("t"), Tasks::Id))
                .and(c("l", L::PullRequestId).eq(pr)),
        )
        .join_as(
            JoinType::LeftJoin,
            Pr::Table,
            a("pr"),
            c("pr", Pr::Id)
                .equals((a("l"), L::PullRequestId))
                .and(c("pr", Pr::ProjectId).equals((a("t"), Tasks::ProjectId))),
        )
        .join_as(
            JoinType::LeftJoin,
            R::Table,
            a("r"),
            c("r", R::Id)
                .equals((a("pr"), Pr::RepoId))
                .and(c("r", R::ProjectId).equals((a("t"), Tasks::ProjectId))),
        );
    live_task(&mut s, &p);
    stmt(
        "ResolveLinkedPr",
        "The live task (a row at all), the PR linked to it with its repository, and the token.",
        Mode::Query,
        s.to_string(PostgresQueryBuilder),
        p,
        vec![
            Output::col_as(Pr::Id, "pr_id").or_null(),
            Output::col(Pr::RepoId).or_null(),
            Output::col(Pr::PrNumber).or_null(),
            Output::col(R::Owner).or_null(),
            Output::col(R::RepoName).or_null(),
            Output::col(R::FullName).or_null(),
            Output::col(I::AccessTokenEnc).or_null(),
        ],
    )
}

fn link_created_branch() -> Statement {
    let mut p = Params::new();
    let task = p.add("task_id", SqlType::Uuid);
    let repo = p.add("repo_id", SqlType::Uuid);
    let name = p.add("branch_name", SqlType::Text);
    let sql = Query::insert()
        .into_table(B::Table)
        .columns([B::TaskId, B::RepoId, B::BranchName])
        .values_panic([task, repo, name])
        .on_conflict(
            OnConflict::columns([B::TaskId, B::RepoId, B::BranchName])
                .do_nothing()
                .to_owned(),
        )
        .returning(Query::returning().columns([B::Id, B::CreatedAt]))
        .to_string(PostgresQueryBuilder);
    stmt(
        "LinkCreatedBranch",
        "Links a branch created through the API; no row when it was linked already.",
        Mode::Query,
        sql,
        p,
        vec![Output::col(B::Id), Output::col(B::CreatedAt)],
    )
}

// ---- webhook.rs -----------------------------------------------------------------------------

/// Rows whose secret a delivery may be checked against (rows without a GitHub id match any
/// delivery of the project, so this bounds the work an unsigned request can cause).
pub const MAX_CANDIDATES: u64 = 10;

fn hook_repo_candidates() -> Statement {
    let mut p = Params::new();
    let project = p.add("project_id", SqlType::Uuid);
    let github_id = p.add_opt("github_repo_id", SqlType::BigInt);
    p.add("full_name", SqlType::Text);
    let same_name = || {
        Expr::cust_with_expr("lower($1)", c("r", R::FullName))
            .eq(Expr::cust_with_expr("lower($1)", p.get("full_name")))
    };
    // Older hosts' `projects` have no `deleted_at`: read it through JSON so the query works
    // with and without it.
    let project_live =
        Expr::cust_with_expr("(to_jsonb($1) ->> 'deleted_at')", Expr::col(a("p"))).is_null();
    let sql = Query::select()
        .exprs([
            c("r", R::Id),
            c("r", R::Owner),
            c("r", R::RepoName),
            c("r", R::FullName),
            c("r", R::GithubRepoId),
            c("r", R::WebhookSecretEnc),
            c("p", Projects::TaskIdPrefix),
        ])
        .from_as(R::Table, a("r"))
        .join_as(
            JoinType::InnerJoin,
            Projects::Table,
            a("p"),
            c("p", Projects::Id).equals((a("r"), R::ProjectId)),
        )
        .and_where(c("r", R::ProjectId).eq(project))
        .and_where(project_live)
        .cond_where(
            Cond::any()
                .add(c("r", R::GithubRepoId).eq(github_id.clone()))
                .add(c("r", R::GithubRepoId).is_null())
                .add(github_id.is_null().and(same_name())),
        )
        .order_by_expr(c("r", R::GithubRepoId).is_not_null(), Order::Desc)
        .order_by_expr(same_name(), Order::Desc)
        .order_by((a("r"), R::CreatedAt), Order::Asc)
        .order_by((a("r"), R::Id), Order::Asc)
        .limit(MAX_CANDIDATES)
        .to_string(PostgresQueryBuilder);
    stmt(
        "HookRepoCandidates",
        "The linked rows a delivery may belong to, best match first.",
        Mode::Query,
        sql,
        p,
        vec![
            Output::col(R::Id),
            Output::col(R::Owner),
            Output::col(R::RepoName),
            Output::col(R::FullName),
            Output::col(R::GithubRepoId),
            Output::col(R::WebhookSecretEnc),
            Output::col(Projects::TaskIdPrefix),
        ],
    )
}

fn reconcile_repository() -> Statement {
    let mut p = Params::new();
    let id = p.add("repo_id", SqlType::Uuid);
    let github_id = p.add("github_repo_id", SqlType::BigInt);
    let owner = p.add("owner", SqlType::Text);
    let name = p.add("repo_name", SqlType::Text);
    let full = p.add("full_name", SqlType::Text);
    let updated = p.add_opt("github_repo_updated_at", SqlType::Timestamptz);
    let stored = Expr::col(R::GithubRepoUpdatedAt);
    let sql = Query::update()
        .table(R::Table)
        .value(R::GithubRepoId, github_id.clone())
        .value(R::Owner, owner)
        .value(R::RepoName, name)
        .value(R::FullName, full)
        .value(
            R::GithubRepoUpdatedAt,
            Expr::cust_with_exprs("coalesce($1, $2)", [updated.clone(), stored.clone()]),
        )
        .value(R::UpdatedAt, now())
        .and_where(Expr::col(R::Id).eq(id))
        .cond_where(
            Cond::any()
                .add(Expr::col(R::GithubRepoId).is_null())
                .add(Expr::col(R::GithubRepoId).eq(github_id)),
        )
        .cond_where(
            Cond::any()
                .add(stored.clone().is_null())
                .add(updated.clone().is_null())
                .add(updated.gte(stored)),
        )
        .to_string(PostgresQueryBuilder);
    stmt(
        "ReconcileRepository",
        "Follows a rename or transfer GitHub reports (never backwards in time).",
        Mode::Exec,
        sql,
        p,
        vec![],
    )
}

fn cached_pr_links() -> Statement {
    let mut p = Params::new();
    let repo = p.add("repo_id", SqlType::Uuid);
    let number = p.add("pr_number", SqlType::BigInt);
    let project = p.add("project_id", SqlType::Uuid);
    let candidates = candidates_json(&mut p, repo.clone(), project);
    let sql = Query::select()
        .column(Pr::Id)
        .expr_as(
            linked_json(Expr::col((Pr::Table, Pr::Id))),
            a("linked_tasks"),
        )
        .expr_as(candidates, a("candidate_tasks"))
        .from(Pr::Table)
        .and_where(Expr::col(Pr::RepoId).eq(repo))
        .and_where(Expr::col(Pr::PrNumber).eq(number))
        .to_string(PostgresQueryBuilder);
    stmt(
        "CachedPrLinks",
        "A cached PR's id, live linked tasks and the tasks an opened PR links to, for an \
         `opened` delivery older than the cached state.",
        Mode::Query,
        sql,
        p,
        vec![
            Output::col(Pr::Id),
            Output::computed("linked_tasks", SqlType::Json, false),
            Output::computed("candidate_tasks", SqlType::Json, false),
        ],
    )
}

/// `[task_id, …]` of the live tasks linked to the cached PR `pr_id` refers to, oldest first.
fn linked_json(pr_id: Expr) -> Expr {
    let linked = Query::select()
        .expr(Expr::cust(
            "coalesce(json_agg(\"l\".\"task_id\" ORDER BY \"l\".\"created_at\", \"l\".\"id\"), '[]'::json)",
        ))
        .from_as(L::Table, a("l"))
        .join_as(
            JoinType::InnerJoin,
            Tasks::Table,
            a("t"),
            c("t", Tasks::Id)
                .equals((a("l"), L::TaskId))
                .and(c("t", Tasks::DeletedAt).is_null()),
        )
        .and_where(c("l", L::PullRequestId).eq(pr_id))
        .to_owned();
    Expr::SubQuery(None, Box::new(linked.into()))
}

fn upsert_pr_returning_links() -> Statement {
    let mut p = Params::new();
    let mut insert = upsert_pr(&mut p);
    let (repo, project) = (p.get("repo_id"), p.get("project_id"));
    let candidates = candidates_json(&mut p, repo, project);
    insert.returning(sea_query::ReturningClause::Exprs(vec![
        Expr::col(Pr::Id),
        returning_as(linked_json(Expr::col((Pr::Table, Pr::Id))), "linked_tasks"),
        returning_as(candidates, "candidate_tasks"),
    ]));
    stmt(
        "UpsertPrReturningLinks",
        "Caches a PR a webhook reports; returns its id, its live linked tasks and the tasks an \
         opened PR links to (none when `link_branch` and the keys are NULL); no row when the \
         cache already holds a newer state.",
        Mode::Query,
        insert.to_string(PostgresQueryBuilder),
        p,
        vec![
            Output::col(Pr::Id),
            Output::computed("linked_tasks", SqlType::Json, false),
            Output::computed("candidate_tasks", SqlType::Json, false),
        ],
    )
}

/// `t.task_number IN ($a, …)` over `names.len()` key parameters (unused ones NULL).
fn numbers_in(p: &mut Params, names: &[&'static str]) -> Expr {
    let keys: Vec<Expr> = names
        .iter()
        .map(|n| p.add_opt(n, SqlType::BigInt))
        .collect();
    c("t", Tasks::TaskNumber).is_in(keys)
}

/// Key parameter names: a PR's head branch and title name up to [`MAX_KEYS`] each.
const KEYS: [&str; 2 * MAX_KEYS] = [
    "key_1", "key_2", "key_3", "key_4", "key_5", "key_6", "key_7", "key_8", "key_9", "key_10",
];

/// The live tasks an opened PR links to: those whose linked branch (of `repo`) it comes from,
/// and those of `project` whose keys it names (`in_keys`).
fn link_candidates(repo: Expr, branch: Expr, project: Expr, in_keys: Expr) -> SelectStatement {
    let by_branch = Query::select()
        .expr(c("b", B::TaskId))
        .from_as(B::Table, a("b"))
        .join_as(
            JoinType::InnerJoin,
            Tasks::Table,
            a("t"),
            c("t", Tasks::Id)
                .equals((a("b"), B::TaskId))
                .and(c("t", Tasks::DeletedAt).is_null()),
        )
        .and_where(c("b", B::RepoId).eq(repo))
        .and_where(c("b", B::BranchName).eq(branch))
        .to_owned();
    let by_key = Query::select()
        .expr(c("t", Tasks::Id))
        .from_as(Tasks::Table, a("t"))
        .and_where(c("t", Tasks::ProjectId).eq(project))
        .and_where(c("t", Tasks::DeletedAt).is_null())
        .and_where(in_keys)
        .to_owned();
    by_branch
        .clone()
        .union(sea_query::UnionType::Distinct, by_key)
        .to_owned()
}

/// `[task_id, …]` of [`link_candidates`] as one JSON value (for a RETURNING item).
fn candidates_json(p: &mut Params, repo: Expr, project: Expr) -> Expr {
    // NULL when the delivery links nothing (not `opened`) or comes from a fork.
    let branch = p.add_opt("link_branch", SqlType::Text);
    let in_keys = numbers_in(p, &KEYS);
    let candidates = link_candidates(repo, branch, project, in_keys);
    let agg = Query::select()
        .expr(Expr::cust(
            "coalesce(json_agg(\"candidates\".\"task_id\"), '[]'::json)",
        ))
        .from_subquery(candidates, a("candidates"))
        .to_owned();
    Expr::SubQuery(None, Box::new(agg.into()))
}

fn auto_link_branch() -> Statement {
    let mut p = Params::new();
    let repo = p.add("repo_id", SqlType::Uuid);
    let branch = p.add("branch_name", SqlType::Text);
    let project = p.add("project_id", SqlType::Uuid);
    let in_keys = numbers_in(&mut p, &KEYS[..MAX_KEYS]);
    let select = Query::select()
        .expr(c("t", Tasks::Id))
        .exprs([repo, branch])
        .from_as(Tasks::Table, a("t"))
        .and_where(c("t", Tasks::ProjectId).eq(project))
        .and_where(c("t", Tasks::DeletedAt).is_null())
        .and_where(in_keys)
        .to_owned();
    let sql = Query::insert()
        .into_table(B::Table)
        .columns([B::TaskId, B::RepoId, B::BranchName])
        .select_from(select)
        .expect("columns match")
        .on_conflict(
            OnConflict::columns([B::TaskId, B::RepoId, B::BranchName])
                .do_nothing()
                .to_owned(),
        )
        .returning(Query::returning().column(B::TaskId))
        .to_string(PostgresQueryBuilder);
    stmt(
        "AutoLinkBranch",
        "Links a pushed new branch to the live tasks whose keys it names (up to five keys; \
         unused ones NULL).",
        Mode::Query,
        sql,
        p,
        vec![Output::col(B::TaskId)],
    )
}

/// Links a PR to the given live tasks (the candidates its cache upsert returned); returns the
/// links this call made, so each is announced once whoever races it.
fn link_pr_to_tasks() -> Statement {
    let mut p = Params::new();
    let pr = p.add("pull_request_id", SqlType::Uuid);
    let tasks = p.add("task_ids", SqlType::Json);
    let select = Query::select()
        .expr(c("t", Tasks::Id))
        .expr(pr)
        .from_as(Tasks::Table, a("t"))
        .and_where(
            c("t", Tasks::Id).in_subquery(
                Query::select()
                    .expr(Expr::cust("\"value\"::uuid"))
                    .from_function(
                        sea_query::Func::cust("json_array_elements_text").arg(tasks),
                        a("ids"),
                    )
                    .to_owned(),
            ),
        )
        .and_where(c("t", Tasks::DeletedAt).is_null())
        .to_owned();
    let sql = Query::insert()
        .into_table(L::Table)
        .columns([L::TaskId, L::PullRequestId])
        .select_from(select)
        .expect("columns match")
        .on_conflict(
            OnConflict::columns([L::TaskId, L::PullRequestId])
                .do_nothing()
                .to_owned(),
        )
        .returning(Query::returning().column(L::TaskId))
        .to_string(PostgresQueryBuilder);
    stmt(
        "LinkPrToTasks",
        "Links a PR to the given live tasks; returns the links this call made.",
        Mode::Query,
        sql,
        p,
        vec![Output::col(L::TaskId)],
    )
}

// ---- entropy.rs -----------------------------------------------------------------------------

/// UUIDs one entropy draw selects: three carry 366 random bits, enough for the largest draw
/// (a webhook secret and its nonce, 44 bytes), and one is spare.
pub const ENTROPY_UUIDS: usize = 4;

fn draw_entropy() -> Statement {
    let mut s = Query::select();
    let mut outputs = Vec::new();
    for i in 0..ENTROPY_UUIDS {
        let name = format!("u{i}");
        s.expr_as(Expr::cust("gen_random_uuid()::text"), a(&name));
        outputs.push(Output::computed(&name, SqlType::Text, false));
    }
    stmt(
        "DrawEntropy",
        "Random v4 UUIDs from the server's CSPRNG, the plugin's only entropy source.",
        Mode::Query,
        s.to_string(PostgresQueryBuilder),
        Params::new(),
        outputs,
    )
}
