//! URL helpers: path-segment escaping and `Link` header pagination.

/// Percent-escapes one path segment: RFC 3986 unreserved characters are kept, everything else
/// (including '/', so `fix/sched-fair` → `fix%2Fsched-fair`) becomes `%XX`. A segment of only
/// dots is escaped fully so it can never act as `.`/`..` in the path.
pub fn escape_segment(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let all_dots = !s.is_empty() && s.bytes().all(|c| c == b'.');
    let mut out = String::with_capacity(s.len());
    for c in s.bytes() {
        let keep = c.is_ascii_alphanumeric()
            || matches!(c, b'-' | b'_' | b'~')
            || (c == b'.' && !all_dots);
        if keep {
            out.push(c as char);
        } else {
            out.push('%');
            out.push(HEX[(c >> 4) as usize] as char);
            out.push(HEX[(c & 15) as usize] as char);
        }
    }
    out
}

/// The URL of the `rel="next"` entry of an RFC 8288 `Link` header. Link values are split at
/// commas outside `<…>`, since a target URL may itself contain commas (e.g.
/// `affiliation=owner,collaborator`).
pub fn link_next(header: &str) -> Option<&str> {
    let mut rest = header;
    loop {
        let start = rest.find('<')?;
        let end = start + rest[start..].find('>')?;
        let url = &rest[start + 1..end];
        let after = &rest[end + 1..];
        // the parameters run until the next comma (rel values never contain one)
        let params_end = after.find(',').unwrap_or(after.len());
        let is_next = after[..params_end].split(';').any(|p| {
            let Some((k, v)) = p.split_once('=') else {
                return false;
            };
            k.trim().eq_ignore_ascii_case("rel")
                && v.trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(url);
        }
        rest = &after[params_end..];
    }
}

/// The `page` query parameter of a URL.
pub fn page_param(url: &str) -> Option<u32> {
    let (_, query) = url.split_once('?')?;
    let query = query.split('#').next().unwrap_or_default();
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "page")
        .and_then(|(_, v)| v.parse().ok())
}

/// The next page number announced by a `Link` header.
pub fn next_page(link: Option<&str>) -> Option<u32> {
    page_param(link_next(link?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        let table = [
            ("fix/sched-fair", "fix%2Fsched-fair"),
            ("feat/PROJ-42_x.y~z", "feat%2FPROJ-42_x.y~z"),
            ("a b", "a%20b"),
            ("a%2F", "a%252F"),
            ("?#&=+", "%3F%23%26%3D%2B"),
            ("ü", "%C3%BC"),
            (".", "%2E"),
            ("..", "%2E%2E"),
            (".github", ".github"),
            ("", ""),
        ];
        for (raw, want) in table {
            assert_eq!(escape_segment(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn link_header_parsing() {
        let gh = r#"<https://api.github.com/user/repos?page=3&per_page=100>; rel="next", <https://api.github.com/user/repos?page=50&per_page=100>; rel="last", <https://api.github.com/user/repos?page=1&per_page=100>; rel="first""#;
        assert_eq!(next_page(Some(gh)), Some(3));
        let last_page = r#"<https://api.github.com/user/repos?page=1>; rel="prev", <https://api.github.com/user/repos?page=1>; rel="first""#;
        assert_eq!(next_page(Some(last_page)), None);
        assert_eq!(next_page(None), None);
        assert_eq!(next_page(Some("")), None);
        assert_eq!(next_page(Some("garbage")), None);
        // rel order, case, extra params, unquoted rel, multiple rel values.
        assert_eq!(
            next_page(Some(
                r#"<https://x/y?per_page=5&page=7>; title="t"; REL=next"#
            )),
            Some(7)
        );
        assert_eq!(
            next_page(Some(r#"<https://x/y?page=9>; rel="prev next""#)),
            Some(9)
        );
        // `page` must be the exact key.
        assert_eq!(
            next_page(Some(r#"<https://x/y?per_page=9>; rel="next""#)),
            None
        );
        assert_eq!(page_param("https://x/y?page=12#frag"), Some(12));
        // commas inside a target URL do not split it
        let commas = r#"<https://x/user/repos?affiliation=owner,collaborator&per_page=2&page=2>; rel="next", <https://x/user/repos?affiliation=owner,collaborator&per_page=2&page=3>; rel="last""#;
        assert_eq!(next_page(Some(commas)), Some(2));
        let commas_last =
            r#"<https://x/r?a=b,c&page=1>; rel="prev", <https://x/r?a=b,c&page=1>; rel="first""#;
        assert_eq!(next_page(Some(commas_last)), None);
    }
}
