//! What every handler shares: host calls mapped to API errors, the encryption key, the stored
//! token, GitHub error mapping and event emission.
//!
//! Rule for errors: the message a client sees never carries database text, ciphertexts or
//! tokens; the details go to the host log instead.
//!
//! Which codes an operation may return is checked by the compiler ([`ApiError<O>`] only takes
//! codes `O` declares). Failures shared by many operations are [`Fault`]s of a code set —
//! [`Internal`], [`CryptoFault`], [`GithubFault`] — that convert for free into the
//! `ApiError<O>` of any operation declaring the set's codes, so the code building them stays
//! non-generic (one copy in the wasm).

use super::Plugin;
use crate::crypto::{CryptoError, EncryptionKey};
use crate::generated::api::{ApiError, code};
use crate::generated::tables::DecodeError;
use crate::github::{GithubClient, GithubError};
use crate::host::{Host, LogLevel, QueryResult};
use crate::sql::Statement;
use paca_plugin_sdk::error::{Fault, FitsIn, Operation};
use serde_json::{Value, json};
use std::fmt::Display;
use uuid::Uuid;

paca_plugin_sdk::code_set! {
    /// A failure of the host or of our own bookkeeping: always `INTERNAL_ERROR`.
    pub(crate) InternalCodes = [code::InternalError];
}
paca_plugin_sdk::code_set! {
    /// Loading the key or decrypting with it: `ENCRYPTION_KEY` missing or malformed is the
    /// operator's to fix; anything else is internal.
    pub(crate) KeyCodes = [code::EncryptionNotConfigured, code::InternalError];
}
paca_plugin_sdk::code_set! {
    /// The GitHub failures every call shares (see [`Plugin::github_fault`]).
    pub(crate) GithubCodes = [
        code::GithubInvalidToken,
        code::GithubTokenInsufficientPermissions,
        code::GithubRateLimited,
        code::GithubUnavailable,
    ];
}

/// INTERNAL_ERROR, its detail logged (see [`Plugin::internal`]).
pub(crate) type Internal = Fault<InternalCodes>;
pub(crate) type CryptoFault = Fault<KeyCodes>;
pub(crate) type GithubFault = Fault<GithubCodes>;

impl<H: Host> Plugin<'_, H> {
    pub(crate) fn log(&self, level: LogLevel, message: &str) {
        self.host.log(level, message);
    }

    /// Logs `detail` and returns an INTERNAL_ERROR that says only what failed.
    pub(crate) fn internal(&self, what: &str, detail: impl Display) -> Internal {
        Fault::new(code::InternalError, self.internal_message(what, detail))
    }

    /// Logs `detail`; the message a client gets says only what failed.
    fn internal_message(&self, what: &str, detail: impl Display) -> String {
        self.log(LogLevel::Error, &format!("github: {what}: {detail}"));
        format!("internal error while trying to {what}")
    }

    /// Runs a `db_query2` statement of the catalogue.
    pub(crate) fn query<S: Statement>(
        &self,
        what: &str,
        params: &[Value],
    ) -> Result<QueryResult, Internal> {
        self.host
            .db_query(S::SQL, params)
            .map_err(|e| self.internal(what, e))
    }

    /// Runs a `db_exec` statement of the catalogue.
    pub(crate) fn exec<S: Statement>(&self, what: &str, params: &[Value]) -> Result<u64, Internal> {
        self.host
            .db_exec(S::SQL, params)
            .map_err(|e| self.internal(what, e))
    }

    /// Every row of a statement, decoded into its generated row type.
    pub(crate) fn rows<S: Statement>(
        &self,
        what: &str,
        params: &[Value],
    ) -> Result<Vec<S::Row>, Internal> {
        let result = self.query::<S>(what, params)?;
        result
            .decode()
            .map_err(|e: DecodeError| self.internal(what, e))
    }

    /// The first row of a statement, if any.
    pub(crate) fn row<S: Statement>(
        &self,
        what: &str,
        params: &[Value],
    ) -> Result<Option<S::Row>, Internal> {
        let result = self.query::<S>(what, params)?;
        result
            .decode_one()
            .map_err(|e: DecodeError| self.internal(what, e))
    }

    /// The AES key, loaded before any side effect so a misconfiguration fails early.
    pub(crate) fn key(&self) -> Result<EncryptionKey, CryptoFault> {
        EncryptionKey::from_host(self.host).map_err(|e| self.crypto_error("load ENCRYPTION_KEY", e))
    }

    pub(crate) fn crypto_error(&self, what: &str, e: CryptoError) -> CryptoFault {
        if e.is_config_error() {
            self.log(LogLevel::Error, &format!("github: {what}: {e}"));
            Fault::new(code::EncryptionNotConfigured, e.to_string())
        } else {
            Fault::new(code::InternalError, self.internal_message(what, e))
        }
    }

    /// Decrypts a stored token (or secret) with `key`.
    pub(crate) fn decrypt(
        &self,
        key: &EncryptionKey,
        what: &str,
        stored: &str,
    ) -> Result<String, CryptoFault> {
        key.decrypt_string(stored)
            .map_err(|e| self.crypto_error(what, e))
    }

    pub(crate) fn github(&self, token: String) -> GithubClient<'_, H> {
        GithubClient::new(self.host, token)
    }

    /// Maps the GitHub failures every call shares; `NotFound` and `Validation` are the caller's
    /// to interpret, so they arrive here only when the caller has no better meaning for them.
    pub(crate) fn github_fault(&self, what: &str, e: GithubError) -> GithubFault {
        match e {
            GithubError::Unauthorized => Fault::new(
                code::GithubInvalidToken,
                "GitHub rejected the stored token (expired or revoked): set a new token",
            ),
            GithubError::Forbidden { message } => Fault::new(
                code::GithubTokenInsufficientPermissions,
                format!("the GitHub token is not allowed to {what}: {message}"),
            ),
            GithubError::RateLimited { retry_after_secs } => Fault::new(
                code::GithubRateLimited,
                match retry_after_secs {
                    Some(s) => format!("GitHub's rate limit is exhausted; retry in {s} s"),
                    None => "GitHub's rate limit is exhausted; retry later".to_string(),
                },
            ),
            other => {
                self.log(LogLevel::Warn, &format!("github: {what}: {other}"));
                Fault::new(
                    code::GithubUnavailable,
                    format!("GitHub failed to {what}: {other}"),
                )
            }
        }
    }

    /// [`Self::github_fault`] as the error of operation `O`, for `map_err` arms that mix it
    /// with codes of their own.
    pub(crate) fn github_error<O>(&self, what: &str, e: GithubError) -> ApiError<O>
    where
        O: Operation,
        GithubCodes: FitsIn<O>,
    {
        self.github_fault(what, e).into()
    }

    /// Publishes an event; a failure is logged, never fatal (the data change already happened).
    pub(crate) fn emit(&self, topic: &str, payload: Value) {
        if let Err(e) = self.host.emit(topic, &payload) {
            self.log(
                LogLevel::Warn,
                &format!("github: emitting {topic} failed: {e}"),
            );
        }
    }
}

/// `https://github.com/<full_name>` — GitHub's web URL for a repository.
pub(crate) fn repo_html_url(full_name: &str) -> String {
    format!("https://github.com/{full_name}")
}

/// The common part of every event payload: the ids the automation engine binds a run to.
pub(crate) fn event(project_id: Uuid, task_id: Uuid, repo_id: Uuid, extra: Value) -> Value {
    let mut v = json!({
        "project_id": project_id.to_string(),
        "task_id": task_id.to_string(),
        "repo_id": repo_id.to_string(),
    });
    if let (Value::Object(base), Value::Object(more)) = (&mut v, extra) {
        base.extend(more);
    }
    v
}
