//! Sensitive fields (contract §4.4): what the host does when plugin SQL reaches a table
//! with sensitive columns the plugin has not requested (`backend.requestedSensitiveFields`).
//!
//! - Writes: a DML statement (any `db_exec`, INSERT/UPDATE/DELETE through `db_query2`)
//!   referencing such a table is rejected whole.
//! - Reads: result columns whose output name is an unrequested sensitive column (or an
//!   `AS` alias of one) come back as `"***"`. Because redaction works on output names
//!   only, such a query must have a shape in which a sensitive value can only surface under
//!   its own name: sensitive columns and `*` only as bare top-level select items, no
//!   WITH / set operations / derived tables, no whole-row references.
//! - Any token equal to a core sensitive table name (`users`, `api_keys`, …) anywhere in
//!   the SQL triggers the read rules, even an alias or a plugin table of that name.
//! - The plugin's own schema is never sensitive to itself. Devhost runs one plugin, so other
//!   plugins' `sensitiveFields` never apply here; core fields do.

use crate::guard::{self, Mode, Tok, Token};
use std::collections::HashSet;

/// The value the host puts in place of a redacted column.
pub const REDACTED: &str = "***";

/// Core columns every plugin must request explicitly (`table.column`).
pub const CORE_SENSITIVE: &[(&str, &[&str])] = &[
    ("users", &["password_hash"]),
    ("api_keys", &["key_hash"]),
    ("agents", &["llm_api_key_secret", "acp_bridge_token_hash"]),
    ("agent_mcp_servers", &["env"]),
    ("agent_environment_variables", &["encrypted_value"]),
];

fn core_columns(table: &str) -> &'static [&'static str] {
    CORE_SENSITIVE
        .iter()
        .find(|(t, _)| *t == table)
        .map_or(&[], |(_, c)| c)
}

/// The calling plugin's view of sensitive fields.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// `backend.requestedSensitiveFields` (`table.column` for core fields), compared
    /// case-insensitively.
    pub requested: Vec<String>,
}

impl Policy {
    pub fn new(requested: &[String]) -> Policy {
        Policy {
            requested: requested.iter().map(|r| r.to_ascii_lowercase()).collect(),
        }
    }

    fn is_requested(&self, table: &str, col: &str) -> bool {
        let key = format!("{table}.{col}");
        self.requested.contains(&key)
    }

    /// Unrequested sensitive columns of a table reference (`t` or `schema.t`).
    fn unrequested(&self, reference: &str, own_schema: &str) -> Vec<&'static str> {
        let (schema, table) = match reference.split_once('.') {
            Some((s, t)) => (s, t),
            None => ("", reference),
        };
        if !schema.is_empty() && schema != "public" {
            // own schema: never sensitive; another plugin's schema: none loaded here
            let _ = own_schema;
            return Vec::new();
        }
        core_columns(table)
            .iter()
            .copied()
            .filter(|c| !self.is_requested(table, c))
            .collect()
    }

    /// Admits `sql` (already past the SQL guard) for `mode`; returns the lower-cased
    /// output column names to redact.
    pub fn admit(
        &self,
        sql: &str,
        own_schema: &str,
        mode: Mode,
    ) -> Result<HashSet<String>, String> {
        let toks = guard::lex(sql).map_err(|e| e.0)?;
        let verb = match toks.first().map(|t| &t.tok) {
            Some(Tok::Word(w)) => w.as_str(),
            _ => "",
        };
        let refs = guard::referenced_tables(&toks);
        let is_dml = matches!(verb, "insert" | "update" | "delete");
        if mode == Mode::Exec || is_dml {
            for r in &refs {
                if !self.unrequested(r, own_schema).is_empty() {
                    let table = r.rsplit('.').next().unwrap_or(r);
                    return Err(format!(
                        "table {table:?} has sensitive fields this plugin has not requested access to \
                         (declare requestedSensitiveFields in plugin.json)"
                    ));
                }
            }
        }
        if mode == Mode::Exec {
            return Ok(HashSet::new());
        }
        let mut tables: HashSet<String> = HashSet::new();
        let mut cols: HashSet<String> = HashSet::new();
        let mut add = |table: &str, found: Vec<&'static str>| {
            if !found.is_empty() {
                tables.insert(table.to_owned());
                cols.extend(found.iter().map(|c| (*c).to_owned()));
            }
        };
        for r in &refs {
            add(
                r.rsplit('.').next().unwrap_or(r),
                self.unrequested(r, own_schema),
            );
        }
        for t in &toks {
            if let Some(name) = ident(t)
                && !core_columns(&name).is_empty()
            {
                let found = self.unrequested(&name, own_schema);
                add(&name, found);
            }
        }
        if cols.is_empty() {
            return Ok(HashSet::new());
        }
        let aliases = check_read_shape(sql, &toks, &cols, &tables)?;
        let mut redact = cols;
        redact.extend(aliases);
        Ok(redact)
    }
}

fn ident(t: &Token) -> Option<String> {
    match &t.tok {
        Tok::Word(w) => Some(w.clone()),
        Tok::QuotedIdent(q) => Some(q.to_ascii_lowercase()),
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Clause {
    Select,
    From,
    Other,
}

const NOT_AN_ALIAS: &[&str] = &[
    "where",
    "join",
    "inner",
    "left",
    "right",
    "full",
    "outer",
    "cross",
    "natural",
    "on",
    "using",
    "group",
    "order",
    "limit",
    "offset",
    "having",
    "window",
    "for",
    "fetch",
    "returning",
    "tablesample",
    "lateral",
];

/// The shape rules of a query reading sensitive tables; returns the `AS` aliases given to
/// sensitive columns (they are redacted too).
// every rule looks at a token's neighbours, so the passes walk indices
#[allow(clippy::needless_range_loop)]
fn check_read_shape(
    sql: &str,
    all: &[Token],
    cols: &HashSet<String>,
    tables: &HashSet<String>,
) -> Result<Vec<String>, String> {
    let toks: &[Token] = match all.last() {
        Some(t) if t.tok == Tok::Semicolon => &all[..all.len() - 1],
        _ => all,
    };
    let n = toks.len();
    let word =
        |i: usize, w: &str| matches!(toks.get(i).map(|t| &t.tok), Some(Tok::Word(x)) if x == w);
    let word_before = |i: usize, w: &str| i > 0 && word(i - 1, w);
    let is = |i: usize, tok: Tok| toks.get(i).map(|t| &t.tok) == Some(&tok);
    let before = |i: usize, tok: Tok| i > 0 && is(i - 1, tok);
    let star = |i: usize| {
        toks.get(i)
            .is_some_and(|t| t.tok == Tok::Other && &sql[t.start..t.end] == "*")
    };
    let id = |i: usize| toks.get(i).and_then(ident);

    // depth and clause of every token (innermost query block / parenthesis)
    let mut depth = vec![0usize; n];
    let mut clause = vec![Clause::Other; n];
    let mut stack = vec![Clause::Other];
    for (i, t) in toks.iter().enumerate() {
        if t.tok == Tok::RParen && stack.len() > 1 {
            stack.pop();
        }
        depth[i] = stack.len() - 1;
        clause[i] = *stack.last().unwrap_or(&Clause::Other);
        match &t.tok {
            Tok::LParen => stack.push(Clause::Other),
            Tok::Word(w) => {
                let top = stack.last_mut().expect("non-empty");
                match w.as_str() {
                    "select" => *top = Clause::Select,
                    "from" | "join" => *top = Clause::From,
                    "where" | "group" | "order" | "having" | "limit" | "offset" | "window"
                    | "fetch" | "for" | "returning" => *top = Clause::Other,
                    _ => {}
                }
            }
            _ => {}
        }
    }

    for t in toks {
        if let Tok::Word(w) = &t.tok
            && matches!(w.as_str(), "with" | "union" | "intersect" | "except")
        {
            return Err(format!(
                "{w:?} is not allowed in a query that reads sensitive columns"
            ));
        }
    }
    for i in 0..n {
        if is(i, Tok::LParen)
            && (word(i + 1, "select") || word(i + 1, "values") || word(i + 1, "table"))
            && !["in", "exists", "any", "all", "some"]
                .iter()
                .any(|w| word_before(i, w))
        {
            return Err(
                "subqueries are only allowed as IN/EXISTS/ANY/ALL/SOME operands in a query \
                        that reads sensitive columns"
                    .into(),
            );
        }
    }

    // whole-row references to a sensitive table or its alias
    let mut names: HashSet<String> = tables.clone();
    let mut table_pos = vec![false; n];
    let mut alias_def = vec![false; n];
    for i in 0..n {
        let Some(name) = id(i) else { continue };
        if !names.contains(&name) {
            continue;
        }
        let positioned = before(i, Tok::Dot)
            || ["from", "join", "only", "table"]
                .iter()
                .any(|w| word_before(i, w))
            || (before(i, Tok::Comma) && clause[i] == Clause::From);
        if !positioned {
            continue;
        }
        table_pos[i] = true;
        let mut j = i + 1;
        if word(j, "as") {
            j += 1;
        }
        if let Some(alias) = id(j) {
            let quoted = matches!(toks[j].tok, Tok::QuotedIdent(_));
            if quoted || !NOT_AN_ALIAS.contains(&alias.as_str()) {
                alias_def[j] = true;
                names.insert(alias);
            }
        }
    }
    for i in 0..n {
        let Some(name) = id(i) else { continue };
        if !names.contains(&name)
            || table_pos[i]
            || alias_def[i]
            || is(i + 1, Tok::Dot)
            || before(i, Tok::Dot)
        {
            continue;
        }
        return Err(format!(
            "{name:?} may not be referenced as a whole-row value in a query that reads sensitive columns"
        ));
    }

    // sensitive columns and wildcards only as bare top-level select items
    let item_start = |j: usize| {
        j > 0
            && depth[j] == 0
            && clause[j] == Clause::Select
            && (word(j - 1, "select")
                || word(j - 1, "distinct")
                || word(j - 1, "all")
                || is(j - 1, Tok::Comma))
    };
    let qualifier_start = |i: usize| {
        let mut j = i;
        while j >= 2 && is(j - 1, Tok::Dot) && id(j - 2).is_some() {
            j -= 2;
        }
        j
    };
    let mut aliases = Vec::new();
    for i in 0..n {
        if let Some(name) = id(i) {
            if !cols.contains(&name) {
                continue;
            }
            if !item_start(qualifier_start(i)) {
                return Err(format!(
                    "sensitive column {name:?} may only be selected directly, not used in an \
                     expression, filter or subquery"
                ));
            }
            if i + 1 >= n || is(i + 1, Tok::Comma) || word(i + 1, "from") {
                continue;
            }
            match (word(i + 1, "as"), id(i + 2)) {
                (true, Some(alias)) => aliases.push(alias),
                _ => {
                    return Err(format!(
                        "sensitive column {name:?} may only be selected directly (use AS to rename it)"
                    ));
                }
            }
        } else if star(i) {
            if before(i, Tok::LParen) && i >= 2 && word(i - 2, "count") && is(i + 1, Tok::RParen) {
                continue;
            }
            let wildcard = before(i, Tok::Dot)
                || word_before(i, "select")
                || word_before(i, "distinct")
                || word_before(i, "all")
                || (before(i, Tok::Comma) && clause[i] == Clause::Select);
            if !wildcard {
                continue; // multiplication
            }
            if !item_start(qualifier_start(i))
                || (i + 1 < n && !is(i + 1, Tok::Comma) && !word(i + 1, "from"))
            {
                return Err(
                    "\"*\" may only be selected directly in a query that reads sensitive columns"
                        .into(),
                );
            }
        }
    }
    Ok(aliases)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(sql: &str) -> Result<Vec<String>, String> {
        let mut v: Vec<String> = Policy::default()
            .admit(sql, "plugin_data_x", Mode::Query)?
            .into_iter()
            .collect();
        v.sort();
        Ok(v)
    }

    #[test]
    fn reads_redact_by_output_name() {
        assert_eq!(
            read("SELECT id, password_hash FROM users").unwrap(),
            ["password_hash"]
        );
        assert_eq!(
            read("SELECT u.id, u.password_hash AS ph FROM public.users u").unwrap(),
            ["password_hash", "ph"]
        );
        assert_eq!(read("SELECT * FROM users").unwrap(), ["password_hash"]);
        assert_eq!(
            read("SELECT count(*) FROM users").unwrap(),
            ["password_hash"]
        );
        assert!(
            read("SELECT id FROM github_repositories")
                .unwrap()
                .is_empty()
        );
        // a plugin-schema table is its own business
        assert!(
            read("SELECT password_hash FROM plugin_data_x.creds")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn read_shapes_that_could_relabel_a_secret_are_refused() {
        for sql in [
            "SELECT md5(password_hash) FROM users",
            "SELECT id FROM users WHERE password_hash = 'x'",
            "SELECT password_hash || '' FROM users",
            "SELECT x FROM (SELECT password_hash AS x FROM users) s",
            "SELECT id FROM users UNION SELECT id FROM users",
            "SELECT to_jsonb(u) FROM users u",
            "SELECT u FROM users u",
            "SELECT password_hash ph FROM users",
        ] {
            assert!(read(sql).is_err(), "{sql}");
        }
        read("SELECT id FROM users WHERE id IN (SELECT user_id FROM project_members)").unwrap();
    }

    #[test]
    fn writes_to_sensitive_tables_are_refused_unless_requested() {
        let deny = Policy::default();
        let e = deny
            .admit("UPDATE agents SET name = $1", "s", Mode::Exec)
            .unwrap_err();
        assert!(
            e.starts_with("table \"agents\" has sensitive fields"),
            "{e}"
        );
        assert!(
            deny.admit("INSERT INTO t SELECT id FROM users", "s", Mode::Exec)
                .is_err()
        );
        deny.admit("UPDATE tasks SET title = $1", "s", Mode::Exec)
            .unwrap();
        let allow = Policy::new(&[
            "agents.llm_api_key_secret".into(),
            "AGENTS.acp_bridge_token_hash".into(),
        ]);
        allow
            .admit("UPDATE agents SET name = $1", "s", Mode::Exec)
            .unwrap();
        assert!(
            allow
                .admit("SELECT llm_api_key_secret FROM agents", "s", Mode::Query)
                .unwrap()
                .is_empty()
        );
    }
}
