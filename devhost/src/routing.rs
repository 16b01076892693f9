//! Manifest route matching (`matchPluginRoute`, contract §5.2).

use crate::manifest::Route;
use std::collections::HashMap;

fn segments(path: &str) -> Vec<&str> {
    let t = path.trim_matches('/');
    if t.is_empty() {
        Vec::new()
    } else {
        t.split('/').collect()
    }
}

/// Matches one pattern; returns the params (`:name` and `*name`).
pub fn match_pattern(pattern: &str, path: &str) -> Option<HashMap<String, String>> {
    let pat = segments(pattern);
    let segs = segments(path);
    let mut params = HashMap::new();
    for (i, p) in pat.iter().enumerate() {
        if let Some(name) = p.strip_prefix('*') {
            if i != pat.len() - 1 || segs.len() <= i {
                return None;
            }
            params.insert(name.to_owned(), segs[i..].join("/"));
            return Some(params);
        }
        let s = segs.get(i)?;
        if let Some(name) = p.strip_prefix(':') {
            if s.is_empty() {
                return None;
            }
            params.insert(name.to_owned(), (*s).to_owned());
        } else if p != s {
            return None;
        }
    }
    (segs.len() == pat.len()).then_some(params)
}

fn specificity(pattern: &str) -> (usize, usize, usize) {
    let pat = segments(pattern);
    let wild = pat.iter().filter(|s| s.starts_with('*')).count();
    let params = pat.iter().filter(|s| s.starts_with(':')).count();
    let stat = pat.len() - wild - params;
    (wild, stat, params)
}

type SpecKey = (usize, std::cmp::Reverse<usize>, usize, usize);

/// The most specific matching route: fewer wildcards, more static segments, fewer
/// params, then manifest order. Method compare is case-insensitive.
pub fn match_route<'a>(
    routes: &'a [Route],
    method: &str,
    path: &str,
) -> Option<(&'a Route, HashMap<String, String>)> {
    let mut best: Option<(SpecKey, &Route, HashMap<String, String>)> = None;
    for (idx, r) in routes.iter().enumerate() {
        if !r.method.eq_ignore_ascii_case(method) {
            continue;
        }
        let Some(params) = match_pattern(&r.path, path) else {
            continue;
        };
        let (w, s, p) = specificity(&r.path);
        let key = (w, std::cmp::Reverse(s), p, idx);
        if best.as_ref().is_none_or(|(k, _, _)| key < *k) {
            best = Some((key, r, params));
        }
    }
    best.map(|(_, r, p)| (r, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &str, path: &str) -> Route {
        Route {
            method: method.into(),
            path: path.into(),
            ..Default::default()
        }
    }

    #[test]
    fn patterns() {
        let p = match_pattern("/projects/:projectId/items/:id", "projects/p1/items/i2").unwrap();
        assert_eq!(p["projectId"], "p1");
        assert_eq!(p["id"], "i2");
        assert!(match_pattern("/projects/:projectId", "projects/p1/x").is_none());
        assert!(match_pattern("/projects/:projectId", "projects").is_none());
        let w = match_pattern("/files/*rest", "files/a/b").unwrap();
        assert_eq!(w["rest"], "a/b");
        assert!(match_pattern("/files/*rest", "files").is_none());
        assert!(match_pattern("/webhook", "/webhook/").is_some());
    }

    #[test]
    fn specificity_order() {
        let routes = vec![
            route("GET", "/projects/*rest"),
            route("GET", "/projects/:projectId/:x"),
            route("get", "/projects/:projectId/settings"),
            route("GET", "/projects/:a/settings"),
        ];
        let (r, _) = match_route(&routes, "GET", "projects/1/settings").unwrap();
        assert_eq!(r.path, "/projects/:projectId/settings"); // tie → manifest order
        let (r, _) = match_route(&routes, "get", "projects/1/other").unwrap();
        assert_eq!(r.path, "/projects/:projectId/:x");
        let (r, _) = match_route(&routes, "GET", "projects/1/a/b").unwrap();
        assert_eq!(r.path, "/projects/*rest");
        assert!(match_route(&routes, "POST", "projects/1/settings").is_none());
    }
}
