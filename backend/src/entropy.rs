//! Randomness drawn from PostgreSQL.
//!
//! Why not WASI `random_get` (what `getrandom`/`rand` use)? The Paca host (wazero) never sets a
//! random source, and wazero's default is a *deterministic* stream: every load of the plugin
//! would produce the same "random" webhook secrets and AES-GCM nonces. Nonce reuse under one
//! GCM key is catastrophic, and predictable webhook secrets defeat signature checks.
//!
//! PostgreSQL's `gen_random_uuid()` (v4, 122 random bits from the server's CSPRNG) is allowed by
//! the host's SQL guard. One `db_query2` call selects enough UUIDs for the requested number of
//! bytes (plus one spare), which are then expanded with SHA-256 in counter mode so the output
//! bytes are uniform (UUID text has fixed version/variant bits and hyphens).

use sha2::{Digest, Sha256};

use crate::host::{Host, HostError};

/// Random bits in one v4 UUID.
const UUID_RANDOM_BITS: usize = 122;
/// Upper bound on one draw, to keep the SQL small (≈ 1 KiB of output).
pub const MAX_BYTES: usize = 1024;

/// Builds `SELECT gen_random_uuid()::text AS u0, …` for `count` UUIDs.
fn entropy_sql(count: usize) -> String {
    let mut sql = String::from("SELECT ");
    for i in 0..count {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("gen_random_uuid()::text AS u{i}"));
    }
    sql
}

/// How many UUIDs give at least `8n` random bits, plus one spare.
fn uuid_count(n: usize) -> usize {
    (n * 8).div_ceil(UUID_RANDOM_BITS) + 1
}

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
    let count = uuid_count(n);
    let result = host.db_query(&entropy_sql(count), &[])?;
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

/// A new webhook secret: 64 lowercase hex chars (32 random bytes). The string itself is both
/// what GitHub gets and the HMAC key bytes.
pub fn webhook_secret<H: Host>(host: &H) -> Result<String, HostError> {
    Ok(hex::encode(db_entropy(host, 32)?))
}

/// A fresh 96-bit AES-GCM nonce.
pub fn nonce<H: Host>(host: &H) -> Result<[u8; 12], HostError> {
    let b = db_entropy(host, 12)?;
    let mut n = [0u8; 12];
    n.copy_from_slice(&b);
    Ok(n)
}

/// Nonces for `K` encryptions in one round trip (e.g. token + secret in one operation).
pub fn nonces<H: Host, const K: usize>(host: &H) -> Result<[[u8; 12]; K], HostError> {
    let b = db_entropy(host, 12 * K)?;
    let mut out = [[0u8; 12]; K];
    for (o, c) in out.iter_mut().zip(b.chunks_exact(12)) {
        o.copy_from_slice(c);
    }
    Ok(out)
}

/// A webhook secret and the nonce to encrypt it with, in one DB round trip.
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

    fn script(h: &FakeHost, count: usize, salt: u8) {
        let cols: Vec<String> = (0..count).map(|i| format!("u{i}")).collect();
        let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
        h.on_query(
            r"^SELECT gen_random_uuid\(\)::text",
            &cols,
            vec![uuids(count, salt)],
        );
    }

    #[test]
    fn uuid_counts_cover_requested_bits() {
        for n in 1..=MAX_BYTES {
            assert!((uuid_count(n) - 1) * UUID_RANDOM_BITS >= n * 8, "n={n}");
        }
        assert_eq!(uuid_count(12), 2);
        assert_eq!(uuid_count(32), 4);
        assert_eq!(uuid_count(44), 4);
        assert_eq!(
            entropy_sql(2),
            "SELECT gen_random_uuid()::text AS u0, gen_random_uuid()::text AS u1"
        );
    }

    #[test]
    fn one_db_call_per_draw_and_distinct_outputs() {
        let h = FakeHost::new();
        script(&h, 4, 1);
        script(&h, 4, 2);
        let a = webhook_secret(&h).unwrap();
        let b = webhook_secret(&h).unwrap();
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        );
        assert_ne!(a, b);
        assert_eq!(h.calls().db_query, 2);
        assert!(h.db_calls().iter().all(|c| c.params.is_empty()));
        h.assert_all_consumed();
    }

    #[test]
    fn combined_secret_and_nonce_is_one_round_trip() {
        let h = FakeHost::new();
        script(&h, 4, 9);
        let (secret, n) = webhook_secret_and_nonce(&h).unwrap();
        assert_eq!(secret.len(), 64);
        assert_ne!(n, [0u8; 12]);
        assert_eq!(h.calls().total(), 1);

        script(&h, 3, 5);
        let [n1, n2] = nonces::<_, 2>(&h).unwrap();
        assert_ne!(n1, n2);
        script(&h, 2, 6);
        assert_ne!(nonce(&h).unwrap(), [0u8; 12]);
        assert_eq!(h.calls().db_query, 3);
    }

    #[test]
    fn same_uuids_same_bytes_different_uuids_different_bytes() {
        let h = FakeHost::new();
        script(&h, 2, 7);
        script(&h, 2, 7);
        script(&h, 2, 8);
        let a = db_entropy(&h, 12).unwrap();
        assert_eq!(a, db_entropy(&h, 12).unwrap());
        assert_ne!(a, db_entropy(&h, 12).unwrap());
    }

    #[test]
    fn bad_db_answers_are_errors() {
        let cases: Vec<Vec<Vec<Value>>> = vec![
            vec![],                                      // no row
            vec![uuids(2, 1), uuids(2, 2)],              // two rows
            vec![uuids(1, 1)],                           // too few columns
            vec![vec![json!("not-a-uuid"), json!("x")]], // not uuids
            vec![vec![json!(1), json!(2)]],              // not strings
            vec![{
                let u = uuids(1, 3)[0].clone();
                vec![u.clone(), u]
            }], // duplicates
            vec![vec![
                json!("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), // v1
                json!("6ba7b811-9dad-11d1-80b4-00c04fd430c8"),
            ]],
        ];
        for rows in cases {
            let h = FakeHost::new();
            h.on_query("gen_random_uuid", &["u0", "u1"], rows.clone());
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
