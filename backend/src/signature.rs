//! GitHub webhook signature verification (`X-Hub-Signature-256`).
//!
//! `sha256=<lowercase hex>` of HMAC-SHA256 with key = the webhook secret string's bytes (the 64
//! ASCII hex chars, *not* hex-decoded — that is what GitHub was given) over the raw body.
//! The comparison is constant-time (`Mac::verify_slice`).

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header GitHub sends (look it up case-insensitively).
pub const HEADER: &str = "X-Hub-Signature-256";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// No (or an empty) signature header.
    Missing,
    /// Not `sha256=` followed by 64 hex chars.
    Malformed,
    /// Well-formed, but not the body's HMAC under this secret.
    Mismatch,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureError::Missing => "missing X-Hub-Signature-256 header",
            SignatureError::Malformed => "malformed X-Hub-Signature-256 header",
            SignatureError::Mismatch => "webhook signature does not match",
        })
    }
}

impl std::error::Error for SignatureError {}

fn mac(secret: &str, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length.
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    m.update(body);
    m
}

/// The 32 signature bytes of a well-formed header.
fn parse(header: Option<&str>) -> Result<[u8; 32], SignatureError> {
    let value = header.map(str::trim).unwrap_or_default();
    if value.is_empty() {
        return Err(SignatureError::Missing);
    }
    let hex_part = value
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let mut expected = [0u8; 32];
    if hex_part.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    hex::decode_to_slice(hex_part, &mut expected).map_err(|_| SignatureError::Malformed)?;
    Ok(expected)
}

/// Whether `header` could be a signature at all (checked before any secret is looked up).
pub fn well_formed(header: Option<&str>) -> Result<(), SignatureError> {
    parse(header).map(|_| ())
}

/// Verifies `header` (the value of `X-Hub-Signature-256`, if any) for `body`.
pub fn verify(secret: &str, body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let expected = parse(header)?;
    mac(secret, body)
        .verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// The header value GitHub would send for `body` (for tests).
#[cfg(test)]
pub fn sign(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(mac(secret, body).finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // GitHub's documented example ("Validating webhook deliveries").
    const DOC_SECRET: &str = "It's a Secret to Everybody";
    const DOC_BODY: &[u8] = b"Hello, World!";
    const DOC_SIG: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    #[test]
    fn githubs_documented_example() {
        assert_eq!(sign(DOC_SECRET, DOC_BODY), DOC_SIG);
        assert_eq!(verify(DOC_SECRET, DOC_BODY, Some(DOC_SIG)), Ok(()));
    }

    #[test]
    fn hex_secret_is_used_as_ascii_bytes() {
        let secret = "a".repeat(64);
        let body = br#"{"zen":"Keep it logically awesome."}"#;
        let sig = sign(&secret, body);
        assert_eq!(verify(&secret, body, Some(&sig)), Ok(()));
        // Using the hex-decoded bytes as key would give a different MAC.
        let decoded = String::from_utf8_lossy(&hex::decode(&secret).unwrap()).into_owned();
        assert_ne!(sign(&decoded, body), sig);
    }

    #[test]
    fn error_table() {
        let cases: &[(Option<&str>, &[u8], SignatureError)] = &[
            (None, DOC_BODY, SignatureError::Missing),
            (Some(""), DOC_BODY, SignatureError::Missing),
            (Some("   "), DOC_BODY, SignatureError::Missing),
            (
                Some("sha1=757107ea0eb2509fc211221cce984b8a37570b6d"),
                DOC_BODY,
                SignatureError::Malformed,
            ),
            (
                Some("757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
                DOC_BODY,
                SignatureError::Malformed,
            ),
            (Some("sha256="), DOC_BODY, SignatureError::Malformed),
            (Some("sha256=abcd"), DOC_BODY, SignatureError::Malformed),
            (
                Some("sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
                DOC_BODY,
                SignatureError::Malformed,
            ),
            (
                Some("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1700"),
                DOC_BODY,
                SignatureError::Malformed,
            ),
            // Right format, wrong body / wrong MAC.
            (Some(DOC_SIG), b"Hello, World?", SignatureError::Mismatch),
            (
                Some("sha256=857107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
                DOC_BODY,
                SignatureError::Mismatch,
            ),
        ];
        for (header, body, want) in cases {
            assert_eq!(
                verify(DOC_SECRET, body, *header),
                Err(*want),
                "header {header:?}"
            );
        }
        assert_eq!(
            verify("another secret", DOC_BODY, Some(DOC_SIG)),
            Err(SignatureError::Mismatch)
        );
    }
}
