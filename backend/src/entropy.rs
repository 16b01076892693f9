//! Randomness drawn from PostgreSQL.
//!
//! Why not WASI `random_get` (what `getrandom`/`rand` use)? The Paca host (wazero) never sets a
//! random source, and wazero's default is a *deterministic* stream: every load of the plugin
//! would produce the same "random" webhook secrets and AES-GCM nonces. Nonce reuse under one
//! GCM key is catastrophic, and predictable webhook secrets defeat signature checks.
//!
//! PostgreSQL's `gen_random_uuid()` (v4, 122 random bits from the server's CSPRNG) is allowed by
//! the host's SQL guard. One `db_query2` call (the catalogue's fixed `DrawEntropy`, so it is
//! PREPAREd with every other statement) selects [`UUIDS`] of them, which are then expanded with
//! SHA-256 in counter mode so the output bytes are uniform (UUID text has fixed
//! version/variant bits and hyphens).

use sha2::{Digest, Sha256};

use crate::host::{Host, HostError};
use crate::sql::{self, Statement};

/// Random bits in one v4 UUID.
const UUID_RANDOM_BITS: usize = 122;
/// UUIDs `DrawEntropy` selects (columns `u0…u3`; a test pins the two together).
const UUIDS: usize = 4;
/// The largest draw: all but one UUID's bits (the spare is margin, never relied upon).
pub const MAX_BYTES: usize = (UUIDS - 1) * UUID_RANDOM_BITS / 8;
// The largest draw is a webhook secret and its nonce.
const _: () = assert!(MAX_BYTES >= 32 + 12);

/// Draws `n` uniformly random bytes (n ≤ [`MAX_BYTES`]) in exactly one `db_query2` call.
pub fn db_entropy<H: Host>(host: &H, n: usize) -> Result<Vec<u8>, HostError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if n > MAX_BYTES {
        return Err(HostError::Protocol(format!(
            "db_entropy: {n} bytes requested, at most {MAX_BYTES} per call"
        )));
    }
    let count = UUIDS;
    let result = host.db_query(sql::DrawEntropy::SQL, &sql::DrawEntropy::params())?;
    let bad = |why: &str| HostError::Protocol(format!("db_entropy: {why}"));
    let [row] = result.rows.as_slice() else {
        return Err(bad("expected exactly one row"));
    };
    if row.len() != count {
        return Err(bad("unexpected column count"));
    }
    let mut seed = Vec::with_capacity(count * 16);
    for v in row {
        let text = v
            .as_str()
            .ok_or_else(|| bad("uuid column is not a string"))?;
        let u = uuid::Uuid::parse_str(text).map_err(|_| bad("column is not a uuid"))?;
        if u.get_version_num() != 4 {
            return Err(bad("uuid is not version 4"));
        }
        let bytes = u.into_bytes();
        if seed.chunks(16).any(|c| c == bytes) {
            return Err(bad("duplicate uuid"));
        }
        seed.extend_from_slice(&bytes);
    }
    let mut out = Vec::with_capacity(n.next_multiple_of(32));
    let mut counter: u32 = 0;
    while out.len() < n {
        let mut h = Sha256::new();
        h.update(b"paca-github/entropy/v1");
        h.update(counter.to_be_bytes());
        h.update(&seed);
        out.extend_from_slice(&h.finalize());
        counter += 1;
    }
    out.truncate(n);
    Ok(out)
}

/// A fresh 96-bit AES-GCM nonce.
pub fn nonce<H: Host>(host: &H) -> Result<[u8; 12], HostError> {
    let b = db_entropy(host, 12)?;
    let mut n = [0u8; 12];
    n.copy_from_slice(&b);
    Ok(n)
}

/// A new webhook secret (64 lowercase hex chars, 32 random bytes; the string itself is both
/// what GitHub gets and the HMAC key bytes) and the nonce to encrypt it with, in one draw.
pub fn webhook_secret_and_nonce<H: Host>(host: &H) -> Result<(String, [u8; 12]), HostError> {
    let b = db_entropy(host, 32 + 12)?;
    let mut n = [0u8; 12];
    n.copy_from_slice(&b[32..]);
    Ok((hex::encode(&b[..32]), n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_host::FakeHost;
    use serde_json::{Value, json};

    /// Deterministic distinct v4 uuids for the fake.
    fn uuids(count: usize, salt: u8) -> Vec<Value> {
        (0..count)
            .map(|i| {
                let mut b = [salt; 16];
                b[0] = i as u8;
                let u = uuid::Builder::from_random_bytes(b).into_uuid();
                json!(u.to_string())
            })
            .collect()
    }

    fn columns() -> Vec<String> {
        (0..UUIDS).map(|i| format!("u{i}")).collect()
    }

    fn script(h: &FakeHost, salt: u8) {
        let cols = columns();
        let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
        h.on_query(
            r"^SELECT gen_random_uuid\(\)::text AS u0,",
            &cols,
            vec![uuids(UUIDS, salt)],
        );
    }

    #[test]
    fn the_statement_draws_enough_uuids_for_every_use() {
        assert_eq!(
            sql::DrawEntropy::SQL.matches("gen_random_uuid()").count(),
            UUIDS
        );
        for (i, c) in columns().iter().enumerate() {
            assert!(sql::DrawEntropy::SQL.contains(&format!("AS {c}")), "u{i}");
        }
    }

    #[test]
    fn one_db_call_per_draw_and_distinct_outputs() {
        let h = FakeHost::new();
        script(&h, 1);
        script(&h, 2);
        let (a, n) = webhook_secret_and_nonce(&h).unwrap();
        let (b, m) = webhook_secret_and_nonce(&h).unwrap();
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        );
        assert_ne!((a, n), (b, m));
        assert_eq!(h.calls().db_query, 2);
        assert_eq!(h.calls().total(), 2);
        assert!(h.db_calls().iter().all(|c| c.params.is_empty()));
        script(&h, 6);
        assert_ne!(nonce(&h).unwrap(), [0u8; 12]);
        h.assert_all_consumed();
    }

    #[test]
    fn same_uuids_same_bytes_different_uuids_different_bytes() {
        let h = FakeHost::new();
        script(&h, 7);
        script(&h, 7);
        script(&h, 8);
        let a = db_entropy(&h, 12).unwrap();
        assert_eq!(a, db_entropy(&h, 12).unwrap());
        assert_ne!(a, db_entropy(&h, 12).unwrap());
    }

    #[test]
    fn bad_db_answers_are_errors() {
        let mut duplicate = uuids(UUIDS, 3);
        duplicate[1] = duplicate[0].clone();
        let mut v1 = uuids(UUIDS, 4);
        v1[2] = json!("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
        let cases: Vec<Vec<Vec<Value>>> = vec![
            vec![],                                       // no row
            vec![uuids(UUIDS, 1), uuids(UUIDS, 2)],       // two rows
            vec![uuids(UUIDS - 1, 1)],                    // too few columns
            vec![vec![json!("not-a-uuid"); UUIDS]],       // not uuids
            vec![(0..UUIDS).map(|i| json!(i)).collect()], // not strings
            vec![duplicate],
            vec![v1],
        ];
        let cols = columns();
        let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
        for rows in cases {
            let h = FakeHost::new();
            h.on_query("gen_random_uuid", &cols, rows.clone());
            assert!(
                matches!(db_entropy(&h, 12), Err(HostError::Protocol(_))),
                "{rows:?}"
            );
        }
        let h = FakeHost::new();
        h.on_query_err("gen_random_uuid", "ERROR: nope");
        assert_eq!(
            db_entropy(&h, 12).unwrap_err(),
            HostError::Db("ERROR: nope".into())
        );
        assert!(db_entropy(&h, MAX_BYTES + 1).is_err());
        assert!(db_entropy(&h, 0).unwrap().is_empty());
        assert_eq!(h.calls().db_query, 1);
    }
}
