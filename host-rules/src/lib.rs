//! Rules of the Paca host's SQL guard (paca-host-contract §4.2) that more than one crate holds
//! a plugin to: devhost's guard enforces them on every statement, and codegen rejects
//! migrations that name what the guard would refuse. A crate of its own, without dependencies,
//! so the host model does not build the generators (and their parsers) to learn them.

/// Identifier prefixes that may not appear in any word or quoted identifier of a query. A
/// table or column with such a name could never be queried, so codegen rejects it too.
pub const FORBIDDEN_PREFIXES: &[&str] = &[
    "pg_read_",
    "pg_ls_",
    "pg_file_",
    "pg_stat_file",
    "pg_logdir_ls",
    "pg_terminate_",
    "pg_cancel_",
    "pg_reload_",
    "pg_rotate_",
    "pg_switch_",
    "pg_promote",
    "pg_create_",
    "pg_drop_",
    "pg_replication_",
    "pg_logical_",
    "pg_backup_",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_import_",
    "pg_export_",
    "pg_wal_",
    "pg_current_logfile",
    "pg_sleep",
    "pg_execute_server_program",
    "lo_",
    "loread",
    "lowrite",
    "dblink",
    "set_config",
    "query_to_",
    "cursor_to_",
    "table_to_",
    "schema_to_",
    "database_to_",
];

/// Core tables a plugin may never write (unqualified or `public.`).
pub const BLOCKED_WRITE_TABLES: &[&str] = &[
    "roles",
    "role_attachments",
    "project_members",
    "users",
    "api_keys",
    "password_set_tokens",
];
