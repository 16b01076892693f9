//! The Paca core tables the plugin reads. They are not in `migrations/` (Paca owns them), so
//! their `Iden`s are written here, with only the columns `paca-host-contract.md` and the
//! reference plugin document (devhost's `seed.rs` creates the same columns for tests).

use crate::{Column, ColumnInfo, SqlType};

/// `public.tasks` (soft-deleted: `deleted_at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sea_query::Iden)]
pub enum Tasks {
    Table,
    Id,
    ProjectId,
    TaskNumber,
    DeletedAt,
}

impl Column for Tasks {
    const TABLE: &'static str = "tasks";
    fn info(self) -> ColumnInfo {
        let (name, ty, nullable) = match self {
            Tasks::Table => panic!("`tasks` itself is not a column"),
            Tasks::Id => ("id", SqlType::Uuid, false),
            Tasks::ProjectId => ("project_id", SqlType::Uuid, false),
            Tasks::TaskNumber => ("task_number", SqlType::BigInt, false),
            Tasks::DeletedAt => ("deleted_at", SqlType::Timestamptz, true),
        };
        ColumnInfo { name, ty, nullable }
    }
}

/// `public.projects` (hard-deleted; `deleted_at` may not exist on every host generation, so
/// statements read it through `to_jsonb(p)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sea_query::Iden)]
pub enum Projects {
    Table,
    Id,
    TaskIdPrefix,
}

impl Column for Projects {
    const TABLE: &'static str = "projects";
    fn info(self) -> ColumnInfo {
        let (name, ty, nullable) = match self {
            Projects::Table => panic!("`projects` itself is not a column"),
            Projects::Id => ("id", SqlType::Uuid, false),
            Projects::TaskIdPrefix => ("task_id_prefix", SqlType::Text, false),
        };
        ColumnInfo { name, ty, nullable }
    }
}
