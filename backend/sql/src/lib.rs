//! Every SQL statement the GitHub plugin issues, as data.
//!
//! The statements are written with sea-query over the `Iden`s that `cargo xtask codegen`
//! generates from `migrations/*.sql` ([`schema`]), plus the few Paca core tables the plugin
//! reads ([`core`]). They are **rendered at build time**: `backend/build.rs` calls
//! [`catalogue`] and writes one `const` SQL string, one typed parameter function and one row
//! struct per statement into the backend's `OUT_DIR`, so the wasm carries the SQL text and
//! none of sea-query's builder. A renamed or retyped column therefore fails the backend build
//! (the `Iden` variant is gone, or the row field changes type), and the native PREPARE test in
//! `devhost/tests/statements.rs` checks every statement of the catalogue against the migrated
//! schema with the parameter types the host will infer.
//!
//! Parameters are always written `$n::type` ([`Params`]): the host binds JSON values with
//! types PostgreSQL infers, so an explicit cast makes the inferred type the declared one and
//! rules out `42P18` (untyped) and `42P08` (one `$n`, two types).

pub mod core;
mod raw;
pub mod render;
#[rustfmt::skip]
pub mod schema;
mod statements;

use sea_query::{Expr, Iden};

/// The column types statements use, with the cast spelling and the Rust type they map to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlType {
    Uuid,
    Text,
    BigInt,
    Int,
    Bool,
    /// RFC 3339 text on the wire.
    Timestamptz,
    Jsonb,
    /// `json` (what `json_agg` returns); JSON text on the wire like `jsonb`.
    Json,
    Double,
}

impl SqlType {
    /// The spelling used in `$n::type` casts.
    pub fn cast(self) -> &'static str {
        match self {
            SqlType::Uuid => "uuid",
            SqlType::Text => "text",
            SqlType::BigInt => "bigint",
            SqlType::Int => "integer",
            SqlType::Bool => "boolean",
            SqlType::Timestamptz => "timestamptz",
            SqlType::Jsonb => "jsonb",
            SqlType::Json => "json",
            SqlType::Double => "double precision",
        }
    }

    /// PostgreSQL's own name of the type (`format_type`, `regtype` output).
    pub fn pg_name(self) -> &'static str {
        match self {
            SqlType::Timestamptz => "timestamp with time zone",
            other => other.cast(),
        }
    }
}

/// What the generated schema says about one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnInfo {
    pub name: &'static str,
    pub ty: SqlType,
    pub nullable: bool,
}

/// Implemented by every generated (and core) table `Iden` enum.
pub trait Column: Iden + Copy + 'static {
    const TABLE: &'static str;
    fn info(self) -> ColumnInfo;
}

/// Which host import runs the statement (the host's SQL guard differs per import).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `db_query2`: SELECT, or INSERT/UPDATE/DELETE with RETURNING (never `WITH`).
    Query,
    /// `db_exec`: INSERT/UPDATE/DELETE/WITH, rows affected only.
    Exec,
}

/// One `$n` of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The Rust argument name of the generated `params` function.
    pub name: &'static str,
    pub ty: SqlType,
    /// `Option<_>` in Rust, JSON `null` on the wire.
    pub nullable: bool,
}

/// One output column: its name in the result and the type of the row struct's field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub name: String,
    pub ty: SqlType,
    pub nullable: bool,
}

impl Output {
    /// A column of a table, under its own name, typed as the migrations say.
    pub fn col<C: Column>(col: C) -> Output {
        let info = col.info();
        Output {
            name: info.name.to_string(),
            ty: info.ty,
            nullable: info.nullable,
        }
    }
    /// A table column under another name.
    pub fn col_as<C: Column>(col: C, name: &str) -> Output {
        Output {
            name: name.to_string(),
            ..Output::col(col)
        }
    }
    /// A computed column.
    pub fn computed(name: &str, ty: SqlType, nullable: bool) -> Output {
        Output {
            name: name.to_string(),
            ty,
            nullable,
        }
    }
    /// The same column, NULL when an outer join finds nothing.
    pub fn or_null(self) -> Output {
        Output {
            nullable: true,
            ..self
        }
    }
}

/// A statement the backend issues: its SQL, how it is sent, its typed parameters and output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// UpperCamelCase: the name of the generated Rust type, and of the statement in test
    /// failures.
    pub name: &'static str,
    pub doc: &'static str,
    pub mode: Mode,
    pub sql: String,
    pub params: Vec<Param>,
    /// Empty for `db_exec` statements and for queries whose rows only count.
    pub outputs: Vec<Output>,
    /// The row struct's name when several statements return the same columns and share
    /// one (`None`: `<name>Row`).
    pub row: Option<&'static str>,
}

impl Statement {
    /// Shares the row struct `row` with the other statements that name it (their outputs
    /// must be identical; rendering checks).
    pub fn with_row(self, row: &'static str) -> Statement {
        Statement {
            row: Some(row),
            ..self
        }
    }
}

/// The parameters of a statement being defined: each call adds `$n` and returns its
/// `$n::type` expression; [`Params::get`] re-uses one (same `$n`, same type).
#[derive(Debug, Default)]
pub struct Params {
    params: Vec<Param>,
}

impl Params {
    pub fn new() -> Self {
        Self::default()
    }
    fn push(&mut self, name: &'static str, ty: SqlType, nullable: bool) -> Expr {
        assert!(
            self.params.iter().all(|p| p.name != name),
            "parameter `{name}` declared twice"
        );
        self.params.push(Param { name, ty, nullable });
        self.get(name)
    }
    /// A new parameter that is never NULL.
    pub fn add(&mut self, name: &'static str, ty: SqlType) -> Expr {
        self.push(name, ty, false)
    }
    /// A new parameter that may be NULL.
    pub fn add_opt(&mut self, name: &'static str, ty: SqlType) -> Expr {
        self.push(name, ty, true)
    }
    /// An already declared parameter, again.
    pub fn get(&self, name: &str) -> Expr {
        let (i, p) = self
            .params
            .iter()
            .enumerate()
            .find(|(_, p)| p.name == name)
            .unwrap_or_else(|| panic!("parameter `{name}` is not declared"));
        Expr::cust(format!("${}::{}", i + 1, p.ty.cast()))
    }
    pub fn into_vec(self) -> Vec<Param> {
        self.params
    }
}

/// Every statement the backend can issue, in a stable order (the PREPARE test and
/// `backend/build.rs` both read it; nothing greps the sources).
pub fn catalogue() -> Vec<Statement> {
    let mut all = statements::all();
    all.extend(raw::all());
    for s in &mut all {
        s.sql = compact(&s.sql);
    }
    let mut names = std::collections::BTreeSet::new();
    for s in &all {
        assert!(names.insert(s.name), "statement `{}` defined twice", s.name);
    }
    all
}

/// Words PostgreSQL refuses as a bare column or table name (its reserved and
/// type/function-name keywords): those keep their quotes.
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "binary",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "not",
    "notnull",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "overlaps",
    "placing",
    "primary",
    "references",
    "returning",
    "right",
    "select",
    "session_user",
    "similar",
    "some",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

/// The SQL as the wasm carries it, shorter than sea-query writes it (the module is
/// size-budgeted): `"name"` loses its quotes where the bare word means the same (lowercase,
/// not a keyword), and `($3::uuid)` its parentheses. String literals are left alone; the
/// PREPARE test runs the compacted text.
pub fn compact(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(c) = rest.chars().next() {
        match c {
            '\'' => {
                // a literal up to its closing quote ('' is an escaped quote inside it)
                let mut end = 1;
                let bytes = rest.as_bytes();
                while end < bytes.len() {
                    if bytes[end] == b'\'' {
                        if bytes.get(end + 1) == Some(&b'\'') {
                            end += 2;
                            continue;
                        }
                        end += 1;
                        break;
                    }
                    end += 1;
                }
                out.push_str(&rest[..end]);
                rest = &rest[end..];
            }
            '"' => {
                let close = rest[1..].find('"').map(|i| i + 1);
                match close {
                    Some(i) if bare(&rest[1..i]) => {
                        out.push_str(&rest[1..i]);
                        rest = &rest[i + 1..];
                    }
                    _ => {
                        let end = close.map_or(rest.len(), |i| i + 1);
                        out.push_str(&rest[..end]);
                        rest = &rest[end..];
                    }
                }
            }
            // `($3::uuid)` as a grouping, not the parentheses of a call like `lower($3::text)`
            '(' => match cast_param(&rest[1..]) {
                Some(len)
                    if rest[1 + len..].starts_with(')')
                        && !out
                            .chars()
                            .next_back()
                            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '"') =>
                {
                    out.push_str(&rest[1..1 + len]);
                    rest = &rest[len + 2..];
                }
                _ => {
                    out.push('(');
                    rest = &rest[1..];
                }
            },
            _ => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// Lowercase ASCII letters, digits and `_`, not starting with a digit: a name that is also a
/// valid Rust field name, and the same bare in SQL unless it is a keyword.
pub(crate) fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn bare(ident: &str) -> bool {
    is_ident(ident) && !RESERVED.contains(&ident)
}

/// The length of a `$n::type` at the start of `s` (type: lowercase letters and `[]`).
fn cast_param(s: &str) -> Option<usize> {
    let digits = s.strip_prefix('$')?;
    let n = digits.bytes().take_while(u8::is_ascii_digit).count();
    let after = digits[n..].strip_prefix("::")?;
    let t = after
        .bytes()
        .take_while(|b| b.is_ascii_lowercase() || *b == b'[' || *b == b']')
        .count();
    (n > 0 && t > 0).then_some(1 + n + 2 + t)
}

#[cfg(test)]
mod compact_tests {
    use super::compact;

    #[test]
    fn idens_render_the_migrations_names() {
        use crate::schema::{GithubPullRequests, GithubRepositories, GithubTaskPrLinks};
        use sea_query::{Expr, ExprTrait, Iden, PostgresQueryBuilder, Query};
        assert_eq!(GithubRepositories::Table.to_string(), "github_repositories");
        assert_eq!(
            GithubTaskPrLinks::PullRequestId.to_string(),
            "pull_request_id"
        );
        assert_eq!(GithubRepositories::COLUMNS.len(), 15);
        let sql = Query::select()
            .columns(GithubPullRequests::COLUMNS.iter().copied())
            .from(GithubPullRequests::Table)
            .and_where(Expr::col(GithubPullRequests::GithubPrId).eq(Expr::cust("$1::bigint")))
            .to_string(PostgresQueryBuilder);
        assert!(
            sql.starts_with(r#"SELECT "id", "project_id", "repo_id", "pr_number""#),
            "{sql}"
        );
        assert!(
            sql.ends_with(r#"WHERE "github_pr_id" = ($1::bigint)"#),
            "{sql}"
        );
    }

    #[test]
    fn drops_quotes_and_cast_parentheses_but_not_inside_literals_or_keywords() {
        assert_eq!(
            compact(
                r#"SELECT "id", "user", "Mixed" FROM "t" WHERE "id" = ($1::uuid) AND "x" IN ($2::text, $3::text)"#
            ),
            r#"SELECT id, "user", "Mixed" FROM t WHERE id = $1::uuid AND x IN ($2::text, $3::text)"#
        );
        assert_eq!(
            compact(
                r#"SELECT lower("r"."full_name") = lower($5::text), "f"(($2::int)), ($3::uuid)"#
            ),
            r#"SELECT lower(r.full_name) = lower($5::text), f($2::int), $3::uuid"#
        );
        assert_eq!(
            compact(r#"SELECT '"id" (''$1::uuid'')' AS "a", coalesce(json_agg("b"), '[]'::json)"#),
            r#"SELECT '"id" (''$1::uuid'')' AS a, coalesce(json_agg(b), '[]'::json)"#
        );
    }
}
