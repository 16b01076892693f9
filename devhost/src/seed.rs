//! Minimal Paca core schema in `public`, seed helpers and the core read functions.

use serde_json::{Value, json};
use sqlx::{PgPool, Row};

/// Idempotent DDL for the core tables the plugin may read (and the dev identities).
pub const CORE_SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS public.users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    username TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL DEFAULT 'USER',
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE TABLE IF NOT EXISTS public.projects (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    task_id_prefix TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    deleted_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS public.project_members (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id UUID NOT NULL REFERENCES public.projects(id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES public.users(id) ON DELETE CASCADE,
    role_name TEXT NOT NULL DEFAULT 'MEMBER',
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    UNIQUE (project_id, user_id)
);
CREATE TABLE IF NOT EXISTS public.tasks (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id UUID NOT NULL REFERENCES public.projects(id) ON DELETE CASCADE,
    task_number BIGINT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    status_id UUID,
    assignee_ids UUID[],
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    deleted_at TIMESTAMPTZ,
    UNIQUE (project_id, task_number)
);
-- IAM: a project member holds the built-in role named by project_members.role_name, plus
-- the roles attached to them in that project. Built-in roles have project_id NULL.
ALTER TABLE public.users ADD COLUMN IF NOT EXISTS default_actions TEXT[] NOT NULL DEFAULT '{}';
CREATE TABLE IF NOT EXISTS public.roles (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id UUID REFERENCES public.projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    actions TEXT[] NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX IF NOT EXISTS roles_builtin_name ON public.roles (name) WHERE project_id IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS roles_project_name ON public.roles (project_id, name)
    WHERE project_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS public.role_attachments (
    role_id UUID NOT NULL REFERENCES public.roles(id) ON DELETE CASCADE,
    project_id UUID NOT NULL REFERENCES public.projects(id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES public.users(id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, project_id, user_id)
);
"#;

/// The built-in project roles (contract updates §1): Admin holds `*` on the project
/// (plugin custom permissions included); Editor reads and writes the project's content but
/// holds no plugin custom permission; Viewer only reads.
pub const BUILTIN_ROLES: &[(&str, &[&str])] = &[
    ("Admin", &["*"]),
    (
        "Editor",
        &[
            "projects:read",
            "tasks:read",
            "tasks:write",
            "docs:read",
            "docs:write",
            "sprints:read",
            "sprints:write",
            "views:read",
            "views:write",
            "workflows:read",
            "workflows:write",
            "agents:read",
            "agents:write",
        ],
    ),
    (
        "Viewer",
        &[
            "projects:read",
            "tasks:read",
            "docs:read",
            "sprints:read",
            "views:read",
            "workflows:read",
            "agents:read",
        ],
    ),
];

/// The narrowest built-in role holding the built-in actions among `actions`, and the other
/// actions (plugin custom permissions…), which are granted per project on top of it.
pub fn role_for(actions: &[String]) -> (&'static str, Vec<String>) {
    if actions.iter().any(|a| a == "*") {
        return ("Admin", Vec::new());
    }
    let role = |name: &str| {
        BUILTIN_ROLES
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(&[][..], |(_, r)| *r)
    };
    let builtin = |a: &String| BUILTIN_ROLES.iter().any(|(_, r)| r.contains(&a.as_str()));
    let (core, extra): (Vec<String>, Vec<String>) = actions.iter().cloned().partition(builtin);
    for name in ["Viewer", "Editor"] {
        if core.iter().all(|a| role(name).contains(&a.as_str())) {
            return (name, extra);
        }
    }
    ("Admin", Vec::new())
}

/// A dev identity (bearer token or API key → user; an agent's key → the agent's own user).
#[derive(Clone, Debug)]
pub struct Identity {
    pub token: String,
    pub user_id: String,
    pub username: String,
    /// Global role claim (`SUPER_ADMIN`, `USER`). `SUPER_ADMIN` holds `*` at platform scope.
    pub role: String,
    /// The actions this identity gets in a project it joins ([`Seed::dev_members`],
    /// [`Seed::join`], or [`Seed::member`] with a legacy role name): they become a built-in
    /// role plus per-project grants there. Permissions are always judged per project.
    pub actions: Vec<String>,
    pub must_change_password: bool,
}

/// The built-in identities: `dev-admin` (Admin: every action), `dev-member` (Editor:
/// tasks:read, tasks:write…), `dev-viewer` (Viewer: tasks:read…), `dev-stale-password`
/// (must change password), and the agent keys `dev-agent` (Editor + `github:use`) and
/// `dev-agent-basic` (Editor), as members of every project seeded with `dev_members`.
pub fn dev_identities() -> Vec<Identity> {
    let mk =
        |token: &str, n: u8, username: &str, role: &str, actions: &[&str], stale: bool| Identity {
            token: token.into(),
            user_id: format!("00000000-0000-4000-8000-0000000000{n:02x}"),
            username: username.into(),
            role: role.into(),
            actions: actions.iter().map(|s| s.to_string()).collect(),
            must_change_password: stale,
        };
    vec![
        mk("dev-admin", 1, "admin", "SUPER_ADMIN", &["*"], false),
        mk(
            "dev-member",
            2,
            "member",
            "USER",
            &["tasks:read", "tasks:write"],
            false,
        ),
        mk("dev-viewer", 3, "viewer", "USER", &["tasks:read"], false),
        mk(
            "dev-stale-password",
            4,
            "stale",
            "USER",
            &["tasks:read", "tasks:write"],
            true,
        ),
        mk(
            "dev-agent",
            5,
            "agent",
            "USER",
            &["tasks:read", "tasks:write", "github:use"],
            false,
        ),
        mk(
            "dev-agent-basic",
            6,
            "agent-basic",
            "USER",
            &["tasks:read", "tasks:write"],
            false,
        ),
    ]
}

/// Serializes schema setup of several devhosts (or test hosts) on one database: concurrent
/// `CREATE TABLE IF NOT EXISTS` of one table can fail with a unique violation.
pub const CORE_SCHEMA_LOCK: i64 = 0x7061_6361_636f_7265; // "pacacore"

/// Creates the core schema, the built-in roles and the dev users (idempotent, safe to run
/// from several processes at once).
pub async fn ensure_core_schema(pool: &PgPool) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CORE_SCHEMA_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(CORE_SCHEMA).execute(&mut *tx).await?;
    for (name, actions) in BUILTIN_ROLES {
        sqlx::query(
            "INSERT INTO public.roles (name, actions) VALUES ($1, $2) \
             ON CONFLICT (name) WHERE project_id IS NULL DO UPDATE SET actions = EXCLUDED.actions",
        )
        .bind(name)
        .bind(actions.iter().map(|a| a.to_string()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    for id in dev_identities() {
        ensure_user(pool, &id).await?;
    }
    Ok(())
}

/// Inserts the identity's user row if missing (and records its default actions).
pub async fn ensure_user(pool: &PgPool, id: &Identity) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO public.users (id, username, full_name, role, must_change_password, default_actions) \
         VALUES ($1::uuid, $2, $2, $3, $4, $5) \
         ON CONFLICT (id) DO UPDATE SET default_actions = EXCLUDED.default_actions",
    )
    .bind(&id.user_id)
    .bind(&id.username)
    .bind(&id.role)
    .bind(id.must_change_password)
    .bind(&id.actions)
    .execute(pool)
    .await?;
    Ok(())
}

/// Seed helpers over a pool.
#[derive(Clone, Debug)]
pub struct Seed {
    pub pool: PgPool,
}

/// A created task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeededTask {
    pub id: String,
    pub task_number: i64,
}

impl Seed {
    /// Creates a project; returns its id.
    pub async fn project(&self, name: &str, task_id_prefix: &str) -> anyhow::Result<String> {
        let row = sqlx::query(
            "INSERT INTO public.projects (name, task_id_prefix) VALUES ($1, $2) RETURNING id::text",
        )
        .bind(name)
        .bind(task_id_prefix)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.get(0))
    }

    /// Creates a task with the next task number of the project.
    pub async fn task(&self, project_id: &str, title: &str) -> anyhow::Result<SeededTask> {
        let row = sqlx::query(
            "INSERT INTO public.tasks (project_id, task_number, title) \
             SELECT $1::uuid, COALESCE(MAX(task_number), 0) + 1, $2 FROM public.tasks WHERE project_id = $1::uuid \
             RETURNING id::text, task_number",
        )
        .bind(project_id)
        .bind(title)
        .fetch_one(&self.pool)
        .await?;
        Ok(SeededTask {
            id: row.get(0),
            task_number: row.get(1),
        })
    }

    /// Adds a user as project member with a role; returns the `project_members.id` (the
    /// caller_id). `role_name` is a built-in role (`Admin`, `Editor`, `Viewer`, any case);
    /// any other name (the legacy `OWNER` / `MEMBER`) gives the user its identity's default
    /// actions in this project.
    pub async fn member(
        &self,
        project_id: &str,
        user_id: &str,
        role_name: &str,
    ) -> anyhow::Result<String> {
        let row = sqlx::query(
            "INSERT INTO public.project_members (project_id, user_id, role_name) VALUES ($1::uuid, $2::uuid, $3) \
             ON CONFLICT (project_id, user_id) DO UPDATE SET role_name = EXCLUDED.role_name RETURNING id::text",
        )
        .bind(project_id)
        .bind(user_id)
        .bind(role_name)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.get(0))
    }

    /// Grants `action` (e.g. a plugin custom permission such as `github:manage`) to a member
    /// in this project only, through a project role attachment.
    pub async fn grant(&self, project_id: &str, user_id: &str, action: &str) -> anyhow::Result<()> {
        let role_name = format!("grant:{action}");
        let mut tx = self.pool.begin().await?;
        let role: (String,) = sqlx::query_as(
            "INSERT INTO public.roles (project_id, name, actions) VALUES ($1::uuid, $2, ARRAY[$3]) \
             ON CONFLICT (project_id, name) WHERE project_id IS NOT NULL \
             DO UPDATE SET actions = EXCLUDED.actions RETURNING id::text",
        )
        .bind(project_id)
        .bind(&role_name)
        .bind(action)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO public.role_attachments (role_id, project_id, user_id) \
             VALUES ($1::uuid, $2::uuid, $3::uuid) ON CONFLICT DO NOTHING",
        )
        .bind(&role.0)
        .bind(project_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes `identity` a member of the project with the built-in role covering its
    /// actions, plus per-project grants of the actions that role lacks (e.g. `github:use`).
    pub async fn join(&self, project_id: &str, identity: &Identity) -> anyhow::Result<String> {
        let (role, extra) = role_for(&identity.actions);
        let member = self.member(project_id, &identity.user_id, role).await?;
        for action in extra {
            self.grant(project_id, &identity.user_id, &action).await?;
        }
        Ok(member)
    }

    /// Adds every dev identity as a member of the project ([`Seed::join`]).
    pub async fn dev_members(&self, project_id: &str) -> anyhow::Result<()> {
        for id in dev_identities() {
            self.join(project_id, &id).await?;
        }
        Ok(())
    }
}

/// What a user holds in a project: the `project_members.id` and the actions of their role
/// and of the roles attached to them there. `None` when they are not a member.
pub async fn project_actions(
    pool: &PgPool,
    project_id: &str,
    user_id: &str,
) -> Result<Option<(String, Vec<String>)>, sqlx::Error> {
    let row: Option<(String, Vec<String>)> = sqlx::query_as(
        "SELECT m.id::text, \
           COALESCE((SELECT r.actions FROM public.roles r \
                     WHERE r.project_id IS NULL AND lower(r.name) = lower(m.role_name)), u.default_actions) \
           || COALESCE((SELECT array_agg(a) FROM public.role_attachments ra \
                        JOIN public.roles r ON r.id = ra.role_id, unnest(r.actions) a \
                        WHERE ra.project_id = m.project_id AND ra.user_id = m.user_id), '{}') \
         FROM public.project_members m JOIN public.users u ON u.id = m.user_id \
         WHERE m.project_id = $1::uuid AND m.user_id = $2::uuid",
    )
    .bind(project_id)
    .bind(user_id)
    .fetch_optional(pool)
    .await?;
    Ok(row)
}

/// Backs `tasks_list`, `task_get`, `project_get`, `members_list`.
pub async fn core_read(pool: &PgPool, which: &str, arg: &str) -> Result<Value, String> {
    let e = |e: sqlx::Error| crate::db::pg_error_text(&e);
    match which {
        "tasks_list" | "task_get" => {
            let (cond, with_project) = if which == "tasks_list" {
                ("project_id::text = $1", false)
            } else {
                ("id::text = $1", true)
            };
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id::text, project_id::text, title, status_id::text, \
                 (SELECT array_agg(x::text) FROM unnest(assignee_ids) x), task_number \
                 FROM public.tasks WHERE {cond} AND deleted_at IS NULL ORDER BY task_number"
            )))
            .bind(arg)
            .fetch_all(pool)
            .await
            .map_err(e)?;
            let items: Vec<Value> = rows
                .iter()
                .map(|r| {
                    let mut v = json!({
                        "id": r.get::<String, _>(0), "title": r.get::<String, _>(2),
                        "status_id": r.get::<Option<String>, _>(3),
                        "assignee_ids": r.get::<Option<Vec<String>>, _>(4),
                        "task_number": r.get::<i64, _>(5),
                    });
                    if with_project {
                        v["project_id"] = json!(r.get::<String, _>(1));
                    }
                    v
                })
                .collect();
            if which == "task_get" {
                items
                    .into_iter()
                    .next()
                    .ok_or_else(|| "task not found".to_owned())
            } else {
                Ok(Value::Array(items))
            }
        }
        "project_get" => {
            let r = sqlx::query(
                "SELECT id::text, name, description, task_id_prefix FROM public.projects WHERE id::text = $1",
            )
            .bind(arg)
            .fetch_optional(pool)
            .await
            .map_err(e)?
            .ok_or_else(|| "project not found".to_owned())?;
            Ok(
                json!({"id": r.get::<String, _>(0), "name": r.get::<String, _>(1),
                      "description": r.get::<String, _>(2), "task_id_prefix": r.get::<String, _>(3)}),
            )
        }
        _ => {
            let rows = sqlx::query(
                "SELECT m.id::text, u.username, u.full_name, m.role_name FROM public.project_members m \
                 JOIN public.users u ON u.id = m.user_id WHERE m.project_id::text = $1 ORDER BY u.username",
            )
            .bind(arg)
            .fetch_all(pool)
            .await
            .map_err(e)?;
            Ok(Value::Array(
                rows.iter()
                    .map(|r| json!({"id": r.get::<String, _>(0), "username": r.get::<String, _>(1),
                                    "full_name": r.get::<String, _>(2), "role_name": r.get::<String, _>(3)}))
                    .collect(),
            ))
        }
    }
}
