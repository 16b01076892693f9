//! Go's `textproto.CanonicalMIMEHeaderKey`, re-implemented.

fn valid_token_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// `content-type` → `Content-Type`, `x-github-event` → `X-Github-Event`. Keys with a
/// byte that is not a valid header-token byte are returned unchanged, as Go does.
pub fn canonical_header_key(key: &str) -> String {
    let b = key.as_bytes();
    if b.is_empty() || !b.iter().all(|c| valid_token_byte(*c)) {
        return key.to_owned();
    }
    let mut upper = true;
    let mut out = String::with_capacity(b.len());
    for &c in b {
        let c = if upper {
            c.to_ascii_uppercase()
        } else {
            c.to_ascii_lowercase()
        };
        out.push(c as char);
        upper = c == b'-';
    }
    out
}

#[cfg(test)]
mod tests {
    use super::canonical_header_key as k;

    #[test]
    fn like_go() {
        assert_eq!(k("content-type"), "Content-Type");
        assert_eq!(k("X-GITHUB-EVENT"), "X-Github-Event");
        assert_eq!(k("x-hub-signature-256"), "X-Hub-Signature-256");
        assert_eq!(k("www-authenticate"), "Www-Authenticate");
        assert_eq!(k("bad key"), "bad key");
        assert_eq!(k("-x-"), "-X-");
    }
}
