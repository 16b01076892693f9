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
"#;

/// A dev identity (bearer token → user).
#[derive(Clone, Debug)]
pub struct Identity {
    pub token: String,
    pub user_id: String,
    pub username: String,
    /// Global role claim (`SUPER_ADMIN`, `USER`).
    pub role: String,
    /// Actions held (`"*"` = every action).
    pub actions: Vec<String>,
    pub must_change_password: bool,
}

/// The built-in identities: `dev-admin` (all actions), `dev-member` (tasks:read,
/// tasks:write), `dev-viewer` (tasks:read), `dev-stale-password` (must change password).
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

/// Creates the core schema and the dev users (idempotent).
pub async fn ensure_core_schema(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::raw_sql(CORE_SCHEMA).execute(pool).await?;
    for id in dev_identities() {
        ensure_user(pool, &id).await?;
    }
    Ok(())
}

/// Inserts the identity's user row if missing.
pub async fn ensure_user(pool: &PgPool, id: &Identity) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO public.users (id, username, full_name, role, must_change_password) \
         VALUES ($1::uuid, $2, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&id.user_id)
    .bind(&id.username)
    .bind(&id.role)
    .bind(id.must_change_password)
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

    /// Adds a user as project member; returns the `project_members.id` (the caller_id).
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

    /// Adds every dev identity as a member of the project.
    pub async fn dev_members(&self, project_id: &str) -> anyhow::Result<()> {
        for id in dev_identities() {
            self.member(
                project_id,
                &id.user_id,
                if id.role == "SUPER_ADMIN" {
                    "OWNER"
                } else {
                    "MEMBER"
                },
            )
            .await?;
        }
        Ok(())
    }
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
