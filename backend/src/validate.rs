//! Input rules for names that end up in GitHub API paths.
//!
//! Every segment is also percent-escaped by the client; these checks exist so bad input is a
//! clear 400 instead of a confusing GitHub error (and so user input cannot steer requests).

/// GitHub owner (user or organisation) login: 1–39 ASCII alphanumerics or single hyphens, not
/// starting or ending with '-'.
pub fn is_valid_owner(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=39).contains(&b.len())
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !s.contains("--")
}

/// GitHub repository name: 1–100 of `[A-Za-z0-9._-]`, not `.` or `..`.
pub fn is_valid_repo(s: &str) -> bool {
    (1..=100).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
        && s != "."
        && s != ".."
}

/// Maximum branch name length we accept (bytes).
pub const MAX_BRANCH_LEN: usize = 255;

/// Why a branch name is refused, following `git check-ref-format --branch`, or `None` if valid.
pub fn branch_name_problem(s: &str) -> Option<&'static str> {
    if s.is_empty() {
        return Some("branch name is empty");
    }
    if s.len() > MAX_BRANCH_LEN {
        return Some("branch name is longer than 255 bytes");
    }
    if s == "@" {
        return Some("branch name cannot be '@'");
    }
    if s.starts_with('-') {
        return Some("branch name cannot start with '-'");
    }
    if s.starts_with('/') || s.ends_with('/') {
        return Some("branch name cannot start or end with '/'");
    }
    if s.ends_with('.') {
        return Some("branch name cannot end with '.'");
    }
    if s.contains("//") {
        return Some("branch name cannot contain '//'");
    }
    if s.contains("..") {
        return Some("branch name cannot contain '..'");
    }
    if s.contains("@{") {
        return Some("branch name cannot contain '@{'");
    }
    if s.bytes().any(|c| {
        c < 0x20 || c == 0x7f || matches!(c, b' ' | b'~' | b'^' | b':' | b'?' | b'*' | b'[' | b'\\')
    }) {
        return Some("branch name contains a forbidden character");
    }
    if s.split('/')
        .any(|c| c.starts_with('.') || c.ends_with(".lock"))
    {
        return Some("branch name component cannot start with '.' or end with '.lock'");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners() {
        let long39 = "a".repeat(39);
        let long40 = "a".repeat(40);
        let table: &[(&str, bool)] = &[
            ("octocat", true),
            ("Paca-AI", true),
            ("a", true),
            ("a-b-c", true),
            ("9lives", true),
            (&long39, true),
            ("", false),
            (&long40, false),
            ("-lead", false),
            ("trail-", false),
            ("dou--ble", false),
            ("under_score", false),
            ("dot.ted", false),
            ("sla/sh", false),
            ("spa ce", false),
            ("ünï", false),
            ("..", false),
        ];
        for (s, ok) in table {
            assert_eq!(is_valid_owner(s), *ok, "{s:?}");
        }
    }

    #[test]
    fn repos() {
        let long100 = "r".repeat(100);
        let long101 = "r".repeat(101);
        let table: &[(&str, bool)] = &[
            ("paca", true),
            ("paca-plugin-github", true),
            ("my_repo.js", true),
            (".github", true),
            ("...", true),
            ("-x-", true),
            (&long100, true),
            ("", false),
            (".", false),
            ("..", false),
            (&long101, false),
            ("a/b", false),
            ("a b", false),
            ("a%2Fb", false),
            ("a?b", false),
            ("é", false),
        ];
        for (s, ok) in table {
            assert_eq!(is_valid_repo(s), *ok, "{s:?}");
        }
    }

    #[test]
    fn branches() {
        let long255 = "b".repeat(255);
        let long256 = "b".repeat(256);
        let table: &[(&str, bool)] = &[
            ("main", true),
            ("feat/PROJ-42-add-auth", true),
            ("fix/sched-fair", true),
            ("release/v1.2", true),
            ("a.b", true),
            ("user@host", true),
            ("@x", true),
            ("x@", true),
            ("ünïcode", true),
            ("a-", true),
            ("a/b.c/d", true),
            ("lock.lock.x", true),
            (&long255, true),
            ("", false),
            (&long256, false),
            ("@", false),
            ("-leading", false),
            ("/leading", false),
            ("trailing/", false),
            ("trailing.", false),
            ("a//b", false),
            ("a..b", false),
            ("a@{b", false),
            ("a b", false),
            ("a~b", false),
            ("a^b", false),
            ("a:b", false),
            ("a?b", false),
            ("a*b", false),
            ("a[b", false),
            ("a\\b", false),
            ("a\tb", false),
            ("a\u{7f}b", false),
            (".hidden", false),
            ("a/.hidden", false),
            ("x.lock", false),
            ("a/x.lock/b", false),
            ("a/b.lock", false),
        ];
        for (s, ok) in table {
            assert_eq!(
                branch_name_problem(s).is_none(),
                *ok,
                "{s:?}: {:?}",
                branch_name_problem(s)
            );
        }
        assert_eq!(
            branch_name_problem("a..b"),
            Some("branch name cannot contain '..'")
        );
    }
}
