//! Migration text → statements → [`Schema`].

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnDef, ColumnOption, CreateIndex, CreateTable,
    DataType, Expr, ForeignKeyConstraint, Ident, IndexColumn, ObjectName, ObjectNamePart,
    ObjectType, Spanned, Statement, TableConstraint, TimezoneInfo,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use heck::ToUpperCamelCase;
use paca_host_rules::FORBIDDEN_PREFIXES;

use super::emit::FIXED_ITEMS;
use super::error::{SqlError, SqlErrorKind};
use super::ir::{Column, ColumnType, ForeignKey, Index, Schema, Table};

/// One statement of a migration file: its tokens (without the closing `;`) and first line.
pub(crate) struct RawStatement {
    pub tokens: Vec<TokenWithSpan>,
    pub line: u64,
    pub excerpt: String,
}

/// Applies every migration, in the order given, to an empty schema.
pub fn parse_migrations(migrations: &[(String, String)]) -> Result<Schema, SqlError> {
    let mut schema = Schema::default();
    for (file, sql) in migrations {
        for stmt in split(file, sql)? {
            let cx = Cx {
                file,
                line: stmt.line,
                excerpt: &stmt.excerpt,
            };
            apply(&mut schema, &cx, stmt.tokens)?;
        }
    }
    Ok(schema)
}

/// Error context: where the current statement is.
struct Cx<'a> {
    file: &'a str,
    line: u64,
    excerpt: &'a str,
}

impl Cx<'_> {
    fn err(&self, kind: SqlErrorKind) -> SqlError {
        self.err_at(0, kind)
    }

    /// An error at a more precise line inside the statement (0: the statement's first line).
    fn err_at(&self, line: u64, kind: SqlErrorKind) -> SqlError {
        SqlError {
            file: self.file.to_string(),
            line: if line == 0 { self.line } else { line },
            statement: self.excerpt.to_string(),
            kind: Box::new(kind),
        }
    }
}

fn excerpt_of(sql: &str, line: u64) -> String {
    let text = sql
        .lines()
        .nth(line.saturating_sub(1) as usize)
        .unwrap_or("")
        .trim();
    const MAX: usize = 80;
    if text.chars().count() > MAX {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    } else {
        text.to_string()
    }
}

fn is_trivia(t: &TokenWithSpan) -> bool {
    matches!(t.token, Token::Whitespace(_))
}

/// Splits a file into statements at top-level `;`. Dollar-quoted bodies, strings and comments are
/// single tokens, so their `;` never split.
pub(crate) fn split(file: &str, sql: &str) -> Result<Vec<RawStatement>, SqlError> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| {
            let line = e.location.line;
            SqlError {
                file: file.to_string(),
                line,
                statement: excerpt_of(sql, line),
                kind: Box::new(SqlErrorKind::Parse(e.message.clone())),
            }
        })?;
    let mut out = Vec::new();
    let mut current: Vec<TokenWithSpan> = Vec::new();
    let mut flush = |current: &mut Vec<TokenWithSpan>| {
        let tokens = std::mem::take(current);
        if let Some(first) = tokens.iter().find(|t| !is_trivia(t)) {
            let line = first.span.start.line;
            out.push(RawStatement {
                excerpt: excerpt_of(sql, line),
                line,
                tokens,
            });
        }
    };
    for t in tokens {
        match t.token {
            Token::SemiColon => flush(&mut current),
            Token::EOF => {}
            _ => current.push(t),
        }
    }
    flush(&mut current);
    Ok(out)
}

fn apply(schema: &mut Schema, cx: &Cx<'_>, tokens: Vec<TokenWithSpan>) -> Result<(), SqlError> {
    let words: Vec<&Token> = tokens
        .iter()
        .filter(|t| !is_trivia(t))
        .map(|t| &t.token)
        .collect();
    // `DO $$ … $$ [LANGUAGE x]`: procedural blocks are accepted and ignored; the IR cannot see
    // inside them (use them only for constraints and other things the generated code ignores).
    if let Some(Token::Word(w)) = words.first()
        && w.keyword == Keyword::DO
    {
        return check_do_block(cx, &words);
    }
    let dialect = PostgreSqlDialect {};
    let mut parser = Parser::new(&dialect).with_tokens_with_locations(tokens);
    let stmt = parser
        .parse_statement()
        .map_err(|e| cx.err(SqlErrorKind::Parse(e.to_string())))?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err(cx.err(SqlErrorKind::Parse(format!(
            "unexpected `{}` after the statement at line {}, column {}",
            next.token, next.span.start.line, next.span.start.column
        ))));
    }
    apply_statement(schema, cx, stmt)
}

fn check_do_block(cx: &Cx<'_>, words: &[&Token]) -> Result<(), SqlError> {
    let is_language = |t: &Token| matches!(t, Token::Word(w) if w.keyword == Keyword::LANGUAGE);
    let is_body = |t: &Token| matches!(t, Token::DollarQuotedString(_));
    let ok = match &words[1..] {
        [body] => is_body(body),
        [body, lang, Token::Word(_)] => is_body(body) && is_language(lang),
        [lang, Token::Word(_), body] => is_language(lang) && is_body(body),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(cx.err(SqlErrorKind::Parse(
            "expected `DO [LANGUAGE name] $$ … $$ [LANGUAGE name]`".to_string(),
        )))
    }
}

fn apply_statement(schema: &mut Schema, cx: &Cx<'_>, stmt: Statement) -> Result<(), SqlError> {
    match stmt {
        Statement::CreateTable(ct) => create_table(schema, cx, ct),
        Statement::CreateIndex(ci) => create_index(schema, cx, ci),
        Statement::AlterTable(at) => {
            let table = object_name(cx, &at.name)?;
            if at.operations.is_empty() {
                return Err(cx.err(SqlErrorKind::Unsupported(
                    "ALTER TABLE without operations".into(),
                )));
            }
            for op in at.operations {
                alter_table(schema, cx, &table, op)?;
            }
            Ok(())
        }
        Statement::Comment { .. } => Ok(()),
        Statement::Drop {
            object_type: ObjectType::Index,
            if_exists,
            names,
            ..
        } => {
            for name in &names {
                let name = object_name(cx, name)?;
                match schema.indexes.iter().position(|i| i.name == name) {
                    Some(pos) => {
                        schema.indexes.remove(pos);
                    }
                    None if if_exists => {}
                    None => {
                        return Err(cx.err(SqlErrorKind::Unsupported(format!(
                            "DROP INDEX of unknown index `{name}`"
                        ))));
                    }
                }
            }
            Ok(())
        }
        Statement::Drop { object_type, .. } => Err(cx.err(SqlErrorKind::UnsupportedStatement(
            format!("DROP {object_type}"),
        ))),
        other => {
            let kind = statement_kind(&other);
            Err(cx.err(SqlErrorKind::UnsupportedStatement(kind)))
        }
    }
}

/// The leading keywords of a statement, for error messages.
fn statement_kind(stmt: &Statement) -> String {
    let text = stmt.to_string();
    let words: Vec<&str> = text
        .split_whitespace()
        .take_while(|w| w.chars().all(|c| c.is_ascii_alphabetic() || c == '_'))
        .take(3)
        .collect();
    if words.is_empty() {
        "(unknown)".to_string()
    } else {
        words.join(" ")
    }
}

/// Lower-cases unquoted identifiers (as PostgreSQL does) and validates the result.
fn ident(cx: &Cx<'_>, id: &Ident) -> Result<String, SqlError> {
    let name = if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_lowercase()
    };
    check_name(cx, id.span.start.line, &name)?;
    Ok(name)
}

fn check_name(cx: &Cx<'_>, line: u64, name: &str) -> Result<(), SqlError> {
    let mut chars = name.chars();
    let valid = matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_lowercase())
        && chars.all(|c| c == '_' || c.is_ascii_lowercase() || c.is_ascii_digit());
    if !valid {
        return Err(cx.err_at(line, SqlErrorKind::InvalidIdentifier(name.to_string())));
    }
    if let Some(prefix) = FORBIDDEN_PREFIXES.iter().find(|p| name.starts_with(**p)) {
        return Err(cx.err_at(
            line,
            SqlErrorKind::ForbiddenIdentifier {
                ident: name.to_string(),
                prefix,
            },
        ));
    }
    Ok(())
}

/// An unqualified object name (the host sets search_path; qualified names are rejected).
fn object_name(cx: &Cx<'_>, name: &ObjectName) -> Result<String, SqlError> {
    match name.0.as_slice() {
        [ObjectNamePart::Identifier(id)] => ident(cx, id),
        _ => Err(cx.err_at(
            name.span().start.line,
            SqlErrorKind::InvalidIdentifier(name.to_string()),
        )),
    }
}

fn map_type(
    cx: &Cx<'_>,
    line: u64,
    table: &str,
    column: &str,
    dt: &DataType,
) -> Result<ColumnType, SqlError> {
    let ty = match dt {
        DataType::Uuid => ColumnType::Uuid,
        DataType::Text | DataType::Varchar(_) | DataType::CharacterVarying(_) => ColumnType::Text,
        DataType::BigInt(None) | DataType::Int8(None) => ColumnType::BigInt,
        DataType::Int(None)
        | DataType::Integer(None)
        | DataType::Int4(None)
        | DataType::SmallInt(None)
        | DataType::Int2(None) => ColumnType::Int,
        DataType::Bool | DataType::Boolean => ColumnType::Bool,
        DataType::Timestamp(None, TimezoneInfo::Tz | TimezoneInfo::WithTimeZone) => {
            ColumnType::Timestamptz
        }
        DataType::JSON | DataType::JSONB => ColumnType::Json,
        DataType::DoublePrecision | DataType::Float8 | DataType::Real | DataType::Float4 => {
            ColumnType::Double
        }
        other => {
            return Err(cx.err_at(
                line,
                SqlErrorKind::UnsupportedType {
                    table: table.to_string(),
                    column: column.to_string(),
                    sql_type: other.to_string(),
                },
            ));
        }
    };
    Ok(ty)
}

/// Constraints collected from a column definition.
#[derive(Default)]
struct ColumnConstraints {
    primary_key: bool,
    unique: bool,
    foreign_key: Option<ForeignKey>,
    check: bool,
}

fn column_def(
    cx: &Cx<'_>,
    table: &str,
    def: &ColumnDef,
) -> Result<(Column, ColumnConstraints), SqlError> {
    let name = ident(cx, &def.name)?;
    let line = def.name.span.start.line;
    let ty = map_type(cx, line, table, &name, &def.data_type)?;
    let mut column = Column {
        name: name.clone(),
        ty,
        sql_type: def.data_type.to_string(),
        nullable: true,
        default: None,
    };
    let mut cons = ColumnConstraints::default();
    for opt in &def.options {
        if let Some(n) = &opt.name {
            ident(cx, n)?;
        }
        match &opt.option {
            ColumnOption::Null => column.nullable = true,
            ColumnOption::NotNull => column.nullable = false,
            ColumnOption::Default(expr) => column.default = Some(expr.to_string()),
            ColumnOption::PrimaryKey(_) => {
                cons.primary_key = true;
                column.nullable = false;
            }
            ColumnOption::Unique(_) => cons.unique = true,
            ColumnOption::ForeignKey(fk) => {
                let mut fk = foreign_key(cx, fk)?;
                fk.columns = vec![name.clone()];
                cons.foreign_key = Some(fk);
            }
            ColumnOption::Check(_) => cons.check = true,
            other => {
                return Err(cx.err(SqlErrorKind::Unsupported(format!(
                    "column option `{other}` on `{table}.{name}`"
                ))));
            }
        }
    }
    Ok((column, cons))
}

fn foreign_key(cx: &Cx<'_>, fk: &ForeignKeyConstraint) -> Result<ForeignKey, SqlError> {
    if let Some(n) = &fk.name {
        ident(cx, n)?;
    }
    Ok(ForeignKey {
        columns: fk
            .columns
            .iter()
            .map(|c| ident(cx, c))
            .collect::<Result<_, _>>()?,
        foreign_table: object_name(cx, &fk.foreign_table)?,
        referred_columns: fk
            .referred_columns
            .iter()
            .map(|c| ident(cx, c))
            .collect::<Result<_, _>>()?,
        on_delete: fk.on_delete.map(|a| a.to_string()),
    })
}

fn index_columns(cx: &Cx<'_>, cols: &[IndexColumn]) -> Result<Vec<String>, SqlError> {
    cols.iter()
        .map(|c| match &c.column.expr {
            Expr::Identifier(id) => ident(cx, id),
            other => Ok(other.to_string()),
        })
        .collect()
}

fn plain_index_columns(cx: &Cx<'_>, cols: &[IndexColumn]) -> Result<Vec<String>, SqlError> {
    cols.iter()
        .map(|c| match &c.column.expr {
            Expr::Identifier(id) => ident(cx, id),
            other => Err(cx.err(SqlErrorKind::Unsupported(format!(
                "constraint on expression `{other}`"
            )))),
        })
        .collect()
}

fn require_columns(cx: &Cx<'_>, table: &Table, cols: &[String]) -> Result<(), SqlError> {
    for c in cols {
        let is_plain = c.chars().all(|ch| ch == '_' || ch.is_ascii_alphanumeric());
        if is_plain && table.column(c).is_none() {
            return Err(cx.err(SqlErrorKind::UnknownColumn {
                table: table.name.clone(),
                column: c.clone(),
            }));
        }
    }
    Ok(())
}

fn add_table_constraint(
    cx: &Cx<'_>,
    table: &mut Table,
    constraint: &TableConstraint,
) -> Result<(), SqlError> {
    match constraint {
        TableConstraint::PrimaryKey(pk) => {
            if let Some(n) = &pk.name {
                ident(cx, n)?;
            }
            let cols = plain_index_columns(cx, &pk.columns)?;
            require_columns(cx, table, &cols)?;
            if !table.primary_key.is_empty() {
                return Err(cx.err(SqlErrorKind::Unsupported(format!(
                    "a second PRIMARY KEY on `{}`",
                    table.name
                ))));
            }
            for c in &cols {
                if let Some(col) = table.column_mut(c) {
                    col.nullable = false;
                }
            }
            table.primary_key = cols;
        }
        TableConstraint::Unique(u) => {
            if let Some(n) = &u.name {
                ident(cx, n)?;
            }
            let cols = plain_index_columns(cx, &u.columns)?;
            require_columns(cx, table, &cols)?;
            table.uniques.push(cols);
        }
        TableConstraint::ForeignKey(fk) => {
            let fk = foreign_key(cx, fk)?;
            require_columns(cx, table, &fk.columns)?;
            table.foreign_keys.push(fk);
        }
        TableConstraint::Check(c) => {
            if let Some(n) = &c.name {
                ident(cx, n)?;
            }
            table.checks += 1;
        }
        other => {
            return Err(cx.err(SqlErrorKind::Unsupported(format!(
                "table constraint `{other}`"
            ))));
        }
    }
    Ok(())
}

fn add_column(
    cx: &Cx<'_>,
    table: &mut Table,
    column: Column,
    cons: ColumnConstraints,
) -> Result<(), SqlError> {
    let name = column.name.clone();
    let variant = name.to_upper_camel_case();
    let taken = variant == "Table"
        || table
            .columns
            .iter()
            .any(|c| c.name.to_upper_camel_case() == variant);
    if taken || variant.is_empty() || matches!(name.as_str(), "self" | "super" | "crate" | "_") {
        return Err(cx.err(SqlErrorKind::NameClash(format!(
            "column `{}.{name}` would be the Rust name `{variant}` / `{name}`, which is \
             already used or reserved",
            table.name
        ))));
    }
    if cons.primary_key {
        if !table.primary_key.is_empty() {
            return Err(cx.err(SqlErrorKind::Unsupported(format!(
                "a second PRIMARY KEY on `{}`",
                table.name
            ))));
        }
        table.primary_key = vec![name.clone()];
    }
    if cons.unique {
        table.uniques.push(vec![name.clone()]);
    }
    if let Some(fk) = cons.foreign_key {
        table.foreign_keys.push(fk);
    }
    if cons.check {
        table.checks += 1;
    }
    table.columns.push(column);
    Ok(())
}

fn create_table(schema: &mut Schema, cx: &Cx<'_>, ct: CreateTable) -> Result<(), SqlError> {
    let name = object_name(cx, &ct.name)?;
    if ct.query.is_some() || ct.like.is_some() || ct.clone.is_some() {
        return Err(cx.err(SqlErrorKind::Unsupported(format!(
            "CREATE TABLE `{name}` from a query, LIKE or CLONE"
        ))));
    }
    if ct.temporary || ct.or_replace {
        return Err(cx.err(SqlErrorKind::Unsupported(format!(
            "TEMPORARY or OR REPLACE table `{name}`"
        ))));
    }
    if schema.table(&name).is_some() {
        return Err(cx.err(SqlErrorKind::DuplicateTable(name)));
    }
    let rust_name = name.to_upper_camel_case();
    let row_name = format!("{rust_name}Row");
    let mut taken: Vec<String> = FIXED_ITEMS.iter().map(|s| s.to_string()).collect();
    for t in &schema.tables {
        let n = t.name.to_upper_camel_case();
        taken.push(format!("{n}Row"));
        taken.push(n);
    }
    if let Some(used) = taken.iter().find(|t| **t == rust_name || **t == row_name) {
        return Err(cx.err(SqlErrorKind::NameClash(format!(
            "table `{name}` would generate `{rust_name}` and `{row_name}`, but `{used}` is \
             already used"
        ))));
    }
    let mut table = Table {
        name: name.clone(),
        columns: Vec::new(),
        primary_key: Vec::new(),
        uniques: Vec::new(),
        foreign_keys: Vec::new(),
        checks: 0,
        created_in: cx.file.to_string(),
        created_line: cx.line,
    };
    for def in &ct.columns {
        let (column, cons) = column_def(cx, &name, def)?;
        if table.column(&column.name).is_some() {
            return Err(cx.err_at(
                def.name.span.start.line,
                SqlErrorKind::DuplicateColumn {
                    table: name,
                    column: column.name,
                },
            ));
        }
        add_column(cx, &mut table, column, cons)?;
    }
    if table.columns.is_empty() {
        return Err(cx.err(SqlErrorKind::Unsupported(format!(
            "table `{name}` has no columns"
        ))));
    }
    for c in &ct.constraints {
        add_table_constraint(cx, &mut table, c)?;
    }
    schema.tables.push(table);
    Ok(())
}

fn create_index(schema: &mut Schema, cx: &Cx<'_>, ci: CreateIndex) -> Result<(), SqlError> {
    let table_name = object_name(cx, &ci.table_name)?;
    let Some(table) = schema.table(&table_name) else {
        return Err(cx.err(SqlErrorKind::UnknownTable(table_name)));
    };
    let Some(name) = &ci.name else {
        return Err(cx.err(SqlErrorKind::Unsupported(
            "CREATE INDEX without a name (name it so IF NOT EXISTS can work)".into(),
        )));
    };
    let name = object_name(cx, name)?;
    let columns = index_columns(cx, &ci.columns)?;
    require_columns(cx, table, &columns)?;
    if schema.indexes.iter().any(|i| i.name == name) {
        if ci.if_not_exists {
            return Ok(());
        }
        return Err(cx.err(SqlErrorKind::DuplicateIndex(name)));
    }
    schema.indexes.push(Index {
        name,
        table: table_name,
        columns,
        unique: ci.unique,
    });
    Ok(())
}

fn alter_table(
    schema: &mut Schema,
    cx: &Cx<'_>,
    table_name: &str,
    op: AlterTableOperation,
) -> Result<(), SqlError> {
    let Some(table) = schema.table_mut(table_name) else {
        return Err(cx.err(SqlErrorKind::UnknownTable(table_name.to_string())));
    };
    match op {
        AlterTableOperation::AddColumn {
            if_not_exists,
            column_def: def,
            column_position: None,
            ..
        } => {
            let (column, cons) = column_def(cx, table_name, &def)?;
            if let Some(existing) = table.column(&column.name) {
                // PostgreSQL skips `ADD COLUMN IF NOT EXISTS` for an existing column; a
                // different definition would leave the generated type lying about the DB.
                let same = existing.ty == column.ty && existing.nullable == column.nullable;
                if if_not_exists && same {
                    return Ok(());
                }
                return Err(cx.err(SqlErrorKind::DuplicateColumn {
                    table: table_name.to_string(),
                    column: column.name,
                }));
            }
            if !column.nullable && column.default.is_none() && !cons.primary_key {
                // Legal on an empty table, but fails on any installed plugin with rows.
                return Err(cx.err(SqlErrorKind::Unsupported(format!(
                    "ADD COLUMN `{table_name}.{}` NOT NULL without a DEFAULT fails on existing rows",
                    column.name
                ))));
            }
            add_column(cx, table, column, cons)
        }
        AlterTableOperation::AddConstraint { constraint, .. } => {
            add_table_constraint(cx, table, &constraint)
        }
        AlterTableOperation::AlterColumn { column_name, op } => {
            let col_name = ident(cx, &column_name)?;
            let Some(col) = table.column_mut(&col_name) else {
                return Err(cx.err(SqlErrorKind::UnknownColumn {
                    table: table_name.to_string(),
                    column: col_name,
                }));
            };
            match op {
                AlterColumnOperation::SetNotNull => col.nullable = false,
                AlterColumnOperation::DropNotNull => col.nullable = true,
                AlterColumnOperation::SetDefault { value } => col.default = Some(value.to_string()),
                AlterColumnOperation::DropDefault => col.default = None,
                other => {
                    return Err(cx.err(SqlErrorKind::Unsupported(format!(
                        "ALTER COLUMN `{table_name}.{col_name}` {other}"
                    ))));
                }
            }
            Ok(())
        }
        other => {
            let text = other.to_string();
            let upper = text.to_uppercase();
            let what = if upper.starts_with("DROP") || upper.starts_with("RENAME") {
                format!("ALTER TABLE `{table_name}` {text} (DROP/RENAME cannot be modelled)")
            } else {
                format!("ALTER TABLE `{table_name}` {text}")
            };
            Err(cx.err(SqlErrorKind::Unsupported(what)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_dollar_bodies_whole() {
        let sql = "CREATE TABLE a (x INT);\nDO $$ BEGIN PERFORM 1; END $$;\n-- c;\n";
        let stmts = split("f.sql", sql).unwrap();
        assert_eq!(stmts.len(), 2);
        assert_eq!(stmts[0].line, 1);
        assert_eq!(stmts[1].line, 2);
        assert_eq!(stmts[1].excerpt, "DO $$ BEGIN PERFORM 1; END $$;");
    }
}
