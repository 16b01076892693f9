//! Fault injection on REST routes.

use serde::{Deserialize, Serialize};

/// What a matching request gets instead of (or before) the normal answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultAction {
    /// A status code with a GitHub-like `{message, documentation_url}` body.
    Status {
        status: u16,
        message: Option<String>,
    },
    /// Primary rate limit: 403, `X-RateLimit-Remaining: 0`, `X-RateLimit-Reset` =
    /// now + `reset_after_secs` (epoch seconds, wall clock).
    RateLimit { reset_after_secs: u64 },
    /// Secondary rate limit: `status` (default 429) with `Retry-After: retry_after_secs`.
    SecondaryRateLimit {
        retry_after_secs: u64,
        status: Option<u16>,
    },
    /// Sleep this long inside the server, then answer normally.
    Latency { millis: u64 },
    /// Close the connection without writing any response.
    Drop,
}

/// How `path` is matched against the request path (percent-encoded, as sent).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PathMatch {
    #[default]
    Exact,
    Prefix,
    /// `*` matches one path segment, a trailing `**` matches any rest (including nothing).
    Glob,
}

/// One injection rule. Rules are tried in order; the first match applies and uses up one of
/// its `times` (`None` = always).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FaultRule {
    /// HTTP method (case-insensitive); `None` matches any.
    #[serde(default)]
    pub method: Option<String>,
    pub path: String,
    #[serde(default, rename = "match")]
    pub path_match: PathMatch,
    #[serde(default)]
    pub times: Option<u32>,
    pub action: FaultAction,
}

impl FaultRule {
    /// Every request to exactly `path` (any method), always.
    pub fn new(path: impl Into<String>, action: FaultAction) -> Self {
        FaultRule {
            method: None,
            path: path.into(),
            path_match: PathMatch::Exact,
            times: None,
            action,
        }
    }
    pub fn method(mut self, m: &str) -> Self {
        self.method = Some(m.to_ascii_uppercase());
        self
    }
    pub fn prefix(mut self) -> Self {
        self.path_match = PathMatch::Prefix;
        self
    }
    pub fn glob(mut self) -> Self {
        self.path_match = PathMatch::Glob;
        self
    }
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    pub fn matches(&self, method: &str, path: &str) -> bool {
        if let Some(m) = &self.method
            && !m.eq_ignore_ascii_case(method)
        {
            return false;
        }
        match self.path_match {
            PathMatch::Exact => self.path == path,
            PathMatch::Prefix => path.starts_with(&self.path),
            PathMatch::Glob => {
                let pat: Vec<&str> = self.path.trim_matches('/').split('/').collect();
                let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
                glob(&pat, &segs)
            }
        }
    }
}

fn glob(pat: &[&str], segs: &[&str]) -> bool {
    match (pat.first(), segs.first()) {
        (Some(&"**"), _) if pat.len() == 1 => true,
        (Some(&"*"), Some(_)) => glob(&pat[1..], &segs[1..]),
        (Some(p), Some(s)) if p == s => glob(&pat[1..], &segs[1..]),
        (None, None) => true,
        _ => false,
    }
}

/// Take the first matching rule's action, consuming one use.
pub(crate) fn take(rules: &mut Vec<FaultRule>, method: &str, path: &str) -> Option<FaultAction> {
    let i = rules.iter().position(|r| r.matches(method, path))?;
    let action = rules[i].action.clone();
    if let Some(n) = rules[i].times.as_mut() {
        *n = n.saturating_sub(1);
        if *n == 0 {
            rules.remove(i);
        }
    }
    Some(action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        let a = FaultAction::Drop;
        assert!(FaultRule::new("/user", a.clone()).matches("GET", "/user"));
        assert!(!FaultRule::new("/user", a.clone()).matches("GET", "/user/repos"));
        assert!(
            FaultRule::new("/repos/", a.clone())
                .prefix()
                .matches("POST", "/repos/a/b/hooks")
        );
        let g = FaultRule::new("/repos/*/*/hooks/**", a.clone())
            .glob()
            .method("delete");
        assert!(g.matches("DELETE", "/repos/a/b/hooks/3"));
        assert!(g.matches("DELETE", "/repos/a/b/hooks"));
        assert!(!g.matches("GET", "/repos/a/b/hooks/3"));
        assert!(!g.matches("DELETE", "/repos/a/hooks/3"));
    }

    #[test]
    fn times_are_consumed() {
        let mut rules = vec![FaultRule::new("/user", FaultAction::Drop).times(2)];
        assert!(take(&mut rules, "GET", "/user").is_some());
        assert!(take(&mut rules, "GET", "/user").is_some());
        assert!(take(&mut rules, "GET", "/user").is_none());
        assert!(rules.is_empty());
    }
}
