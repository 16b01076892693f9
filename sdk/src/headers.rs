//! Header maps as the host sends them: case-insensitive lookup and a `Debug` form that hides
//! credentials. Shared by the envelopes ([`crate::abi::envelope`]) and the host types
//! ([`crate::host`]), which otherwise know nothing of each other.

use std::collections::BTreeMap;

/// Headers whose values are credentials: never formatted.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-hub-signature",
    "x-hub-signature-256",
];

/// A header map for `Debug`: names kept, credential values replaced by `<redacted>`.
pub(crate) struct RedactedHeaders<'a>(pub &'a BTreeMap<String, String>);

impl std::fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| {
                let secret = SECRET_HEADERS.iter().any(|s| k.eq_ignore_ascii_case(s));
                (k, if secret { "<redacted>" } else { v.as_str() })
            }))
            .finish()
    }
}

/// Case-insensitive lookup in a header map: the host sends Go-canonical keys (`X-Github-Event`),
/// GitHub documents other spellings (`X-GitHub-Event`).
pub fn header_value<'a>(headers: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
