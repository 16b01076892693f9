//! AES-256-GCM encryption of stored secrets (GitHub tokens, webhook secrets).
//!
//! Wire-compatible with the reference plugin: the key is config `ENCRYPTION_KEY` (64 hex chars),
//! and the stored text is lowercase `hex(nonce(12) ‖ ciphertext ‖ tag(16))` with no AAD.
//! The nonce is supplied by the caller (see [`crate::entropy`]); this module never draws
//! randomness, because WASI randomness is deterministic under the Paca host.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};

use crate::host::Host;

pub const KEY_CONFIG: &str = "ENCRYPTION_KEY";
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CryptoError {
    /// `ENCRYPTION_KEY` is absent or empty.
    KeyMissing,
    /// `ENCRYPTION_KEY` is not 64 hex characters.
    KeyMalformed,
    /// The stored value is not hex, or too short to hold a nonce and a tag.
    CiphertextMalformed,
    /// Authentication failed: wrong key, or the value was altered.
    DecryptFailed,
    /// The decrypted bytes are not UTF-8 (for [`EncryptionKey::decrypt_string`]).
    NotUtf8,
}

impl CryptoError {
    /// True for operator misconfiguration (as opposed to bad stored data).
    pub fn is_config_error(&self) -> bool {
        matches!(self, CryptoError::KeyMissing | CryptoError::KeyMalformed)
    }
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CryptoError::KeyMissing => "ENCRYPTION_KEY is not configured",
            CryptoError::KeyMalformed => "ENCRYPTION_KEY must be 64 hex characters (32 bytes)",
            CryptoError::CiphertextMalformed => "encrypted value is malformed",
            CryptoError::DecryptFailed => {
                "decryption failed (wrong ENCRYPTION_KEY or tampered value)"
            }
            CryptoError::NotUtf8 => "decrypted value is not valid UTF-8",
        })
    }
}

impl std::error::Error for CryptoError {}

/// A loaded AES-256-GCM key. Its `Debug` never shows key material.
#[derive(Clone)]
pub struct EncryptionKey {
    cipher: Aes256Gcm,
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey(<redacted>)")
    }
}

impl EncryptionKey {
    /// Parses 64 hex chars (surrounding whitespace trimmed; either case).
    pub fn from_hex(text: &str) -> Result<EncryptionKey, CryptoError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(CryptoError::KeyMissing);
        }
        if t.len() != 64 {
            return Err(CryptoError::KeyMalformed);
        }
        let mut key = [0u8; 32];
        hex::decode_to_slice(t, &mut key).map_err(|_| CryptoError::KeyMalformed)?;
        let cipher = Aes256Gcm::new_from_slice(&key).map_err(|_| CryptoError::KeyMalformed)?;
        key.fill(0);
        Ok(EncryptionKey { cipher })
    }

    /// Loads the key from host config (one `config_get` call).
    pub fn from_host<H: Host>(host: &H) -> Result<EncryptionKey, CryptoError> {
        let v = host.config(KEY_CONFIG).ok_or(CryptoError::KeyMissing)?;
        EncryptionKey::from_hex(&v)
    }

    /// Encrypts with the given (unique, random) nonce; returns the stored hex text.
    pub fn encrypt(&self, plaintext: &[u8], nonce: &[u8; NONCE_LEN]) -> String {
        let n = Nonce::from(*nonce);
        // Encryption only fails for plaintexts beyond GCM's 64 GiB limit.
        let sealed = self
            .cipher
            .encrypt(&n, plaintext)
            .expect("AES-GCM plaintext within size limits");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(nonce);
        out.extend_from_slice(&sealed);
        hex::encode(out)
    }

    /// Decrypts stored hex text (either case).
    pub fn decrypt(&self, stored: &str) -> Result<Vec<u8>, CryptoError> {
        let raw = hex::decode(stored.trim()).map_err(|_| CryptoError::CiphertextMalformed)?;
        if raw.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::CiphertextMalformed);
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce
            .try_into()
            .map_err(|_| CryptoError::CiphertextMalformed)?;
        self.cipher
            .decrypt(&Nonce::from(nonce), sealed)
            .map_err(|_| CryptoError::DecryptFailed)
    }

    /// Decrypts stored hex text holding a UTF-8 secret (tokens, webhook secrets).
    pub fn decrypt_string(&self, stored: &str) -> Result<String, CryptoError> {
        String::from_utf8(self.decrypt(stored)?).map_err(|_| CryptoError::NotUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_host::FakeHost;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn key() -> EncryptionKey {
        EncryptionKey::from_hex(KEY).unwrap()
    }

    #[test]
    fn round_trip_and_format() {
        let nonce = [7u8; 12];
        let stored = key().encrypt(b"ghp_secret_token", &nonce);
        // nonce ‖ ct(16) ‖ tag(16), lowercase hex.
        assert_eq!(stored.len(), 2 * (12 + 16 + 16));
        assert!(stored.starts_with("070707070707070707070707"));
        assert_eq!(stored, stored.to_lowercase());
        assert_eq!(key().decrypt_string(&stored).unwrap(), "ghp_secret_token");
        // Upper-case hex and surrounding whitespace are accepted on read.
        let upper = format!(" {}\n", stored.to_uppercase());
        assert_eq!(key().decrypt(&upper).unwrap(), b"ghp_secret_token");
        // Different nonces give different ciphertexts.
        assert_ne!(key().encrypt(b"ghp_secret_token", &[8u8; 12]), stored);
        // Empty plaintext round-trips too.
        let empty = key().encrypt(b"", &nonce);
        assert_eq!(key().decrypt(&empty).unwrap(), b"");
    }

    #[test]
    fn tampering_is_detected() {
        let stored = key().encrypt(b"secret", &[1u8; 12]);
        let bytes = hex::decode(&stored).unwrap();
        for i in [0, 11, 12, bytes.len() - 1] {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            assert_eq!(
                key().decrypt(&hex::encode(&b)),
                Err(CryptoError::DecryptFailed),
                "flipped byte {i}"
            );
        }
        // Truncated tag.
        assert_eq!(
            key().decrypt(&stored[..stored.len() - 2]),
            Err(CryptoError::DecryptFailed)
        );
    }

    #[test]
    fn malformed_ciphertexts() {
        for bad in ["", "zz", "abc", &"00".repeat(27)] {
            assert_eq!(
                key().decrypt(bad),
                Err(CryptoError::CiphertextMalformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn wrong_key_fails() {
        let stored = key().encrypt(b"secret", &[2u8; 12]);
        let other = EncryptionKey::from_hex(&"ab".repeat(32)).unwrap();
        assert_eq!(other.decrypt(&stored), Err(CryptoError::DecryptFailed));
    }

    /// Known-answer vectors laid out as the reference stores them: hex(nonce ‖ ct ‖ tag).
    #[test]
    fn known_answer_vectors() {
        // McGrew & Viega, "The Galois/Counter Mode of Operation", test case 14:
        // K = 0^256, IV = 0^96, P = 0^128.
        let k = EncryptionKey::from_hex(&"00".repeat(32)).unwrap();
        let stored = format!(
            "{}{}{}",
            "000000000000000000000000",
            "cea7403d4d606b6e074ec5d3baf39d18",
            "d0d1c8a799996bf0265b98b5d48ab919"
        );
        assert_eq!(k.decrypt(&stored).unwrap(), [0u8; 16]);
        assert_eq!(k.encrypt(&[0u8; 16], &[0u8; 12]), stored);

        // McGrew & Viega test case 15 (AES-256, 96-bit IV, no AAD).
        let k = EncryptionKey::from_hex(
            "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        )
        .unwrap();
        let plaintext = hex::decode(concat!(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72",
            "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
        ))
        .unwrap();
        let stored = concat!(
            "cafebabefacedbaddecaf888",
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa",
            "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
            "b094dac5d93471bdec1a502270e3cc6c"
        );
        assert_eq!(k.decrypt(stored).unwrap(), plaintext);

        // NIST CAVP gcmEncryptExtIV256 (96-bit IV, no AAD, 128-bit plaintext).
        let k = EncryptionKey::from_hex(
            "31bdadd96698c204aa9ce1448ea94ae1fb4a9a0b3c9d773b51bb1822666b8f22",
        )
        .unwrap();
        let stored = concat!(
            "0d18e06c7c725ac9e362e1ce",
            "fa4362189661d163fcd6a56d8bf0405a",
            "d636ac1bbedd5cc3ee727dc2ab4a9489"
        );
        assert_eq!(
            k.decrypt(stored).unwrap(),
            hex::decode("2db5168e932556f8089a0622981d017d").unwrap()
        );
    }

    #[test]
    fn key_errors_are_clear_and_never_echo_the_key() {
        let bad_keys = [
            "",
            "   ",
            "abc",
            &"g".repeat(64),
            &"00".repeat(31),
            &"00".repeat(33),
        ];
        for k in bad_keys {
            let e = EncryptionKey::from_hex(k).unwrap_err();
            assert!(e.is_config_error());
            if !k.trim().is_empty() {
                assert_eq!(e, CryptoError::KeyMalformed);
                assert_eq!(
                    e.to_string(),
                    "ENCRYPTION_KEY must be 64 hex characters (32 bytes)"
                );
            } else {
                assert_eq!(e.to_string(), "ENCRYPTION_KEY is not configured");
            }
        }
        // Whitespace around a valid key is trimmed.
        assert!(EncryptionKey::from_hex(&format!("  {KEY}\n")).is_ok());
        let dbg = format!("{:?}", key());
        assert!(!dbg.contains("0001020304"), "{dbg}");
    }

    #[test]
    fn loads_from_host_config() {
        let h = FakeHost::new();
        assert_eq!(
            EncryptionKey::from_host(&h).unwrap_err(),
            CryptoError::KeyMissing
        );
        h.set_config(KEY_CONFIG, "nothex");
        assert_eq!(
            EncryptionKey::from_host(&h).unwrap_err(),
            CryptoError::KeyMalformed
        );
        h.set_config(KEY_CONFIG, KEY);
        let k = EncryptionKey::from_host(&h).unwrap();
        let s = k.encrypt(b"x", &[3u8; 12]);
        assert_eq!(key().decrypt(&s).unwrap(), b"x");
        assert_eq!(h.calls().config, 3);
    }
}
