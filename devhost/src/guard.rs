//! The SQL admission guard (contract §4.2), written as a small lexer.
//!
//! The lexer skips comments, string literals (`'…'`, `E'…'`), quoted identifiers and
//! dollar-quoted strings, so keywords and `;` inside them never count. The same token
//! stream is used to substitute `$n` placeholders (see [`substitute_params`]).

use serde_json::Value;

/// Which host import the statement came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `db_query` / `db_query2`: SELECT, or DML with RETURNING.
    Query,
    /// `db_exec`: INSERT / UPDATE / DELETE / WITH.
    Exec,
}

/// A guard rejection; the message is the host's text (without the `paca.db_*: ` prefix).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GuardError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, GuardError> {
    Err(GuardError(msg.into()))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// Bare word, lower-cased (keywords, identifiers, numbers).
    Word(String),
    /// `"…"` identifier, unescaped, case kept.
    QuotedIdent(String),
    /// Any string literal (content irrelevant to the guard).
    Str,
    /// `$n` placeholder.
    Param(usize),
    Semicolon,
    Dot,
    Comma,
    LParen,
    RParen,
    Other,
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}
fn is_ident_char(c: u8) -> bool {
    is_ident_start(c) || c.is_ascii_digit() || c == b'$'
}

/// Tokenizes `sql`. Errors on unterminated constructs and on `U&` strings.
pub(crate) fn lex(sql: &str) -> Result<Vec<Token>, GuardError> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        // whitespace
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        // -- comment
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        // /* nested */ comment
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0usize;
            loop {
                if i + 1 >= b.len() {
                    return err("unterminated comment");
                }
                if b[i] == b'/' && b[i + 1] == b'*' {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b[i + 1] == b'/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            continue;
        }
        // U&'…' / U&"…"
        if (c == b'u' || c == b'U')
            && b.get(i + 1) == Some(&b'&')
            && matches!(b.get(i + 2), Some(b'\'') | Some(b'"'))
        {
            return err("unicode escape strings (U&) are not allowed");
        }
        // E'…' (backslash escapes)
        if (c == b'e' || c == b'E') && b.get(i + 1) == Some(&b'\'') {
            i += 2;
            loop {
                match b.get(i) {
                    None => return err("unterminated string literal"),
                    Some(b'\\') => i += 2,
                    Some(b'\'') if b.get(i + 1) == Some(&b'\'') => i += 2,
                    Some(b'\'') => {
                        i += 1;
                        break;
                    }
                    Some(_) => i += 1,
                }
            }
            out.push(Token {
                tok: Tok::Str,
                start,
                end: i,
            });
            continue;
        }
        // '…' (also B'', X'', N'' after their prefix word: the prefix lexes as a word)
        if c == b'\'' {
            i += 1;
            loop {
                match b.get(i) {
                    None => return err("unterminated string literal"),
                    Some(b'\'') if b.get(i + 1) == Some(&b'\'') => i += 2,
                    Some(b'\'') => {
                        i += 1;
                        break;
                    }
                    Some(_) => i += 1,
                }
            }
            out.push(Token {
                tok: Tok::Str,
                start,
                end: i,
            });
            continue;
        }
        // "quoted identifier"
        if c == b'"' {
            i += 1;
            let mut ident = Vec::new();
            loop {
                match b.get(i) {
                    None => return err("unterminated quoted identifier"),
                    Some(b'"') if b.get(i + 1) == Some(&b'"') => {
                        ident.push(b'"');
                        i += 2
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(&x) => {
                        ident.push(x);
                        i += 1
                    }
                }
            }
            let s = String::from_utf8_lossy(&ident).into_owned();
            out.push(Token {
                tok: Tok::QuotedIdent(s),
                start,
                end: i,
            });
            continue;
        }
        // $n placeholder or $tag$ dollar quote
        if c == b'$' {
            if b.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
                i += 1;
                let ds = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let n: usize = sql[ds..i].parse().unwrap_or(usize::MAX);
                out.push(Token {
                    tok: Tok::Param(n),
                    start,
                    end: i,
                });
                continue;
            }
            let mut j = i + 1;
            if j < b.len() && is_ident_start(b[j]) {
                while j < b.len() && (is_ident_start(b[j]) || b[j].is_ascii_digit()) {
                    j += 1;
                }
            }
            if b.get(j) == Some(&b'$') {
                let tag = &sql[i..=j];
                let body_start = j + 1;
                match sql[body_start..].find(tag) {
                    Some(pos) => {
                        i = body_start + pos + tag.len();
                        out.push(Token {
                            tok: Tok::Str,
                            start,
                            end: i,
                        });
                        continue;
                    }
                    None => return err("unterminated dollar-quoted string"),
                }
            }
            i += 1;
            out.push(Token {
                tok: Tok::Other,
                start,
                end: i,
            });
            continue;
        }
        if is_ident_start(c) || c.is_ascii_digit() {
            while i < b.len() && (is_ident_char(b[i]) || b[i] == b'.' && c.is_ascii_digit()) {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Word(sql[start..i].to_ascii_lowercase()),
                start,
                end: i,
            });
            continue;
        }
        i += 1;
        let tok = match c {
            b';' => Tok::Semicolon,
            b'.' => Tok::Dot,
            b',' => Tok::Comma,
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            _ => Tok::Other,
        };
        // keep multi-byte UTF-8 characters whole
        while i < b.len() && (b[i] & 0xC0) == 0x80 {
            i += 1;
        }
        out.push(Token { tok, start, end: i });
    }
    Ok(out)
}

pub use paca_host_rules::{BLOCKED_WRITE_TABLES, FORBIDDEN_PREFIXES};

/// What the guard learned about an admitted statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admitted {
    /// First keyword, lower-cased (`select`, `insert`, `update`, `delete`, `with`).
    pub verb: String,
    /// Highest `$n` used (0 when none).
    pub max_param: usize,
}

/// Checks `sql` against the guard for `mode`.
pub fn check(sql: &str, mode: Mode) -> Result<Admitted, GuardError> {
    let toks = lex(sql)?;
    // single statement: one trailing ';' allowed
    let mut end = toks.len();
    if let Some(last) = toks.last()
        && last.tok == Tok::Semicolon
    {
        end -= 1;
    }
    let toks = &toks[..end];
    if toks.iter().any(|t| t.tok == Tok::Semicolon) {
        return err("multiple statements are not allowed");
    }
    let Some(first) = toks.first() else {
        return err("empty statement");
    };
    let verb = match &first.tok {
        Tok::Word(w) => w.clone(),
        _ => String::new(),
    };
    let has_word = |w: &str| {
        toks.iter()
            .any(|t| matches!(&t.tok, Tok::Word(x) if x == w))
    };
    match mode {
        Mode::Query => match verb.as_str() {
            "select" => {
                if has_word("into") {
                    return err("SELECT INTO is not allowed");
                }
            }
            "insert" | "update" | "delete" if has_word("returning") => {}
            _ => return err("only SELECT and DML with RETURNING statements are allowed"),
        },
        Mode::Exec => match verb.as_str() {
            "insert" | "update" | "delete" | "with" => {}
            _ => return err("only INSERT, UPDATE, DELETE and WITH statements are allowed"),
        },
    }
    for t in toks {
        let name = match &t.tok {
            Tok::Word(w) => w.as_str().to_owned(),
            Tok::QuotedIdent(q) => q.to_ascii_lowercase(),
            _ => continue,
        };
        if let Some(p) = FORBIDDEN_PREFIXES.iter().find(|p| name.starts_with(**p)) {
            return err(format!("use of {p:?} is not allowed"));
        }
    }
    let is_write = match verb.as_str() {
        "insert" | "update" | "delete" => true,
        "with" => has_word("insert") || has_word("update") || has_word("delete"),
        _ => false,
    };
    if is_write {
        for table in referenced_tables(toks) {
            let bare = table.strip_prefix("public.").unwrap_or(&table);
            if BLOCKED_WRITE_TABLES.contains(&bare) {
                return err(format!("writes to table {bare:?} are not allowed"));
            }
        }
    }
    let max_param = toks
        .iter()
        .filter_map(|t| match t.tok {
            Tok::Param(n) => Some(n),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    Ok(Admitted { verb, max_param })
}

fn ident_at(toks: &[Token], i: usize) -> Option<String> {
    match &toks.get(i)?.tok {
        Tok::Word(w) => Some(w.clone()),
        Tok::QuotedIdent(q) => Some(q.to_ascii_lowercase()),
        _ => None,
    }
}

/// Qualified name starting at `i` (`a` or `a.b`) and the index after it.
fn qualified_at(toks: &[Token], i: usize) -> Option<(String, usize)> {
    let first = ident_at(toks, i)?;
    if toks.get(i + 1).map(|t| &t.tok) == Some(&Tok::Dot)
        && let Some(second) = ident_at(toks, i + 2)
    {
        return Some((format!("{first}.{second}"), i + 3));
    }
    Some((first, i + 1))
}

/// Table names after FROM/JOIN/INTO/USING/UPDATE/TABLE, plus FROM comma lists.
pub(crate) fn referenced_tables(toks: &[Token]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let Tok::Word(w) = &t.tok else { continue };
        if !matches!(
            w.as_str(),
            "from" | "join" | "into" | "using" | "update" | "table"
        ) {
            continue;
        }
        let mut j = i + 1;
        if matches!(ident_at(toks, j).as_deref(), Some("only")) {
            j += 1;
        }
        while let Some((name, next)) = qualified_at(toks, j) {
            out.push(name);
            // optional alias: [as] ident
            let mut k = next;
            if matches!(ident_at(toks, k).as_deref(), Some("as")) {
                k += 1;
            }
            if let Some(alias) = ident_at(toks, k)
                && !is_clause_keyword(&alias)
            {
                k += 1;
            }
            if w == "from" && toks.get(k).map(|t| &t.tok) == Some(&Tok::Comma) {
                j = k + 1;
            } else {
                break;
            }
        }
    }
    out
}

fn is_clause_keyword(w: &str) -> bool {
    matches!(
        w,
        "where"
            | "set"
            | "values"
            | "select"
            | "join"
            | "left"
            | "right"
            | "inner"
            | "outer"
            | "full"
            | "cross"
            | "on"
            | "using"
            | "returning"
            | "group"
            | "order"
            | "limit"
            | "offset"
            | "having"
            | "default"
            | "union"
            | "natural"
            | "for"
    )
}

/// Parses the params JSON text like the host: `""`/`null` → none, else a JSON array.
pub fn parse_params(text: &[u8]) -> Result<Vec<Value>, String> {
    let trimmed = std::str::from_utf8(text).map_err(|e| e.to_string())?.trim();
    if trimmed.is_empty() || trimmed == "null" {
        return Ok(Vec::new());
    }
    serde_json::from_str::<Vec<Value>>(trimmed).map_err(|e| e.to_string())
}

/// Replaces every `$n` outside literals/comments by `literals[n-1]` (the bound values of
/// [`crate::bind`]). `$0` and a `$n` beyond the list are errors.
pub fn substitute_params(sql: &str, literals: &[String]) -> Result<String, GuardError> {
    let toks = lex(sql)?;
    let mut out = String::with_capacity(sql.len() + 16 * literals.len());
    let mut last = 0;
    for t in &toks {
        if let Tok::Param(n) = t.tok {
            let lit = n
                .checked_sub(1)
                .and_then(|i| literals.get(i))
                .ok_or_else(|| GuardError(format!("invalid parameter ${n}")))?;
            out.push_str(&sql[last..t.start]);
            out.push_str(lit);
            last = t.end;
        }
    }
    out.push_str(&sql[last..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(sql: &str) -> Result<Admitted, GuardError> {
        check(sql, Mode::Query)
    }
    fn x(sql: &str) -> Result<Admitted, GuardError> {
        check(sql, Mode::Exec)
    }
    fn msg(r: Result<Admitted, GuardError>) -> String {
        r.expect_err("should be rejected").0
    }

    #[test]
    fn select_allowed_with_trailing_semicolon() {
        assert_eq!(q("SELECT 1;").unwrap().verb, "select");
        assert_eq!(
            q("  select * from tasks where id = $2 and x = $1")
                .unwrap()
                .max_param,
            2
        );
    }

    #[test]
    fn multiple_statements_rejected() {
        assert_eq!(
            msg(q("SELECT 1; SELECT 2")),
            "multiple statements are not allowed"
        );
        assert_eq!(msg(q("SELECT 1;;")), "multiple statements are not allowed");
        assert_eq!(
            msg(x("DELETE FROM a; DROP TABLE b")),
            "multiple statements are not allowed"
        );
    }

    #[test]
    fn semicolons_inside_literals_and_comments_are_ignored() {
        q("SELECT ';' -- ; \n").unwrap();
        q("SELECT E'\\';' /* ; /* nested ; */ */").unwrap();
        q("SELECT $$;$$, $tag$ ; $$ $tag$").unwrap();
        q("SELECT \"a;b\" FROM t").unwrap();
    }

    #[test]
    fn query_mode_rules() {
        assert_eq!(
            msg(q("SELECT a INTO b FROM c")),
            "SELECT INTO is not allowed"
        );
        q("SELECT 'into' FROM c").unwrap();
        q("INSERT INTO t (a) VALUES ($1) RETURNING id").unwrap();
        q("UPDATE t SET a = 1 RETURNING a").unwrap();
        q("DELETE FROM t RETURNING id").unwrap();
        let only = "only SELECT and DML with RETURNING statements are allowed";
        assert_eq!(msg(q("INSERT INTO t (a) VALUES (1)")), only);
        assert_eq!(msg(q("WITH x AS (SELECT 1) SELECT * FROM x")), only);
        assert_eq!(msg(q("CREATE TABLE t (a int)")), only);
        assert_eq!(msg(q("BEGIN")), only);
        assert_eq!(msg(q("SET search_path TO public")), only);
        assert_eq!(msg(q("INSERT INTO t VALUES ('returning')")), only);
    }

    #[test]
    fn exec_mode_rules() {
        x("INSERT INTO t (a) VALUES (1)").unwrap();
        x("UPDATE t SET a = 1").unwrap();
        x("DELETE FROM t").unwrap();
        x("WITH d AS (DELETE FROM t RETURNING 1) SELECT count(*) FROM d").unwrap();
        for ddl in [
            "SELECT 1",
            "CREATE TABLE t (a int)",
            "ALTER TABLE t ADD b int",
            "DROP TABLE t",
            "GRANT ALL ON t TO x",
            "TRUNCATE t",
            "COMMIT",
        ] {
            assert_eq!(
                msg(x(ddl)),
                "only INSERT, UPDATE, DELETE and WITH statements are allowed",
                "{ddl}"
            );
        }
    }

    #[test]
    fn unicode_escapes_rejected() {
        assert!(msg(q("SELECT U&'\\0041'")).contains("U&"));
        assert!(msg(q("SELECT u&\"x\" FROM t")).contains("U&"));
    }

    #[test]
    fn forbidden_prefixes() {
        assert!(msg(q("SELECT pg_sleep(1)")).contains("pg_sleep"));
        assert!(msg(q("SELECT PG_READ_FILE('x')")).contains("pg_read_"));
        assert!(msg(q("SELECT \"lo_import\"('x')")).contains("lo_"));
        assert!(msg(x("UPDATE t SET a = set_config('x','y',false)")).contains("set_config"));
        q("SELECT 'pg_sleep(1)'").unwrap();
        q("SELECT 1 -- pg_sleep\n").unwrap();
    }

    #[test]
    fn blocked_tables_for_writes_only() {
        q("SELECT * FROM users").unwrap();
        q("SELECT * FROM public.project_members m JOIN users u ON u.id = m.user_id").unwrap();
        assert!(msg(x("INSERT INTO users (id) VALUES ($1)")).contains("users"));
        assert!(
            msg(x("UPDATE public.project_members SET role_name = 'x'")).contains("project_members")
        );
        assert!(msg(x("DELETE FROM api_keys")).contains("api_keys"));
        assert!(msg(q("DELETE FROM t USING roles r WHERE true RETURNING 1")).contains("roles"));
        assert!(
            msg(x("WITH a AS (SELECT 1) DELETE FROM password_set_tokens"))
                .contains("password_set_tokens")
        );
        assert!(
            msg(x(
                "UPDATE tasks SET title = 'x' FROM a, role_attachments WHERE true"
            ))
            .contains("role_attachments")
        );
        x("UPDATE public.tasks SET title = $1 WHERE id = $2").unwrap();
        x("INSERT INTO projects_links (a) VALUES (1)").unwrap();
    }

    #[test]
    fn unterminated_constructs() {
        assert!(q("SELECT 'abc").is_err());
        assert!(q("SELECT /* x").is_err());
        assert!(q("SELECT $a$ x").is_err());
    }

    #[test]
    fn params_parse_like_host() {
        assert!(parse_params(b"").unwrap().is_empty());
        assert!(parse_params(b"null").unwrap().is_empty());
        assert_eq!(parse_params(b"[1,\"a\"]").unwrap().len(), 2);
        assert!(parse_params(b"{\"a\":1}").is_err());
    }

    #[test]
    fn param_substitution_skips_literals_and_comments() {
        let sql = "SELECT $1::uuid, '$1', $2 -- $3\n, $2";
        let out = substitute_params(sql, &["A".into(), "B".into()]).unwrap();
        assert_eq!(out, "SELECT A::uuid, '$1', B -- $3\n, B");
        assert!(substitute_params("SELECT $3", &["A".into()]).is_err());
        assert!(substitute_params("SELECT $0", &["A".into()]).is_err());
    }
}
