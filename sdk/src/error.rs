//! Typed API errors: which error codes an operation may return is checked by the compiler.
//!
//! Each stable error code is a zero-sized marker implementing [`Code`] (its wire value and HTTP
//! status), each operation an uninhabited marker implementing [`Operation`], and every code an
//! operation's spec lists becomes an `impl Declares<Code> for Operation {}` (the GitHub plugin
//! generates all of it from its OpenAPI spec). [`ApiError::new`] accepts only declared codes,
//! so an undeclared one is a compile error rather than a response the spec does not describe.
//! Helpers shared by several operations say which codes they need with `O: Declares<…>`
//! bounds, and every caller must declare them too.
//!
//! Failures shared by many operations (a database error, a GitHub outage) are better built
//! once, without naming an operation: a [`Fault<S>`] carries a code of the set `S` declared
//! with [`code_set!`], and converts (`?`) into the `ApiError<O>` of every operation that
//! declares all of `S`'s codes, at no cost (same representation).
//!
//! ```
//! use paca_plugin_sdk::error::{ApiError, Code, Declares, Fault, Operation};
//!
//! #[derive(Clone, Copy)]
//! struct NoteNotFound;
//! impl Code for NoteNotFound { const WIRE: &'static str = "NOTE_NOT_FOUND"; const STATUS: u16 = 404; }
//! #[derive(Clone, Copy)]
//! struct InternalError;
//! impl Code for InternalError { const WIRE: &'static str = "INTERNAL_ERROR"; const STATUS: u16 = 500; }
//!
//! enum GetNote {}
//! impl Operation for GetNote {}
//! impl Declares<NoteNotFound> for GetNote {}
//! impl Declares<InternalError> for GetNote {}
//!
//! paca_plugin_sdk::code_set! {
//!     /// What a database call can fail with.
//!     DbCodes = [InternalError];
//! }
//! fn load() -> Result<String, Fault<DbCodes>> {
//!     Err(Fault::new(InternalError, "the database is down"))
//! }
//! fn get_note() -> Result<String, ApiError<GetNote>> {
//!     let note = load()?;
//!     if note.is_empty() {
//!         return Err(ApiError::new(NoteNotFound, "no such note"));
//!     }
//!     Ok(note)
//! }
//!
//! let e = get_note().unwrap_err();
//! assert!(e.is::<InternalError>());
//! assert_eq!(e.into_response().body, br#"{"success":false,"error":"the database is down","error_code":"INTERNAL_ERROR"}"#);
//! ```
//!
//! An operation that does not declare a code cannot return it:
//!
//! ```compile_fail,E0277
//! use paca_plugin_sdk::error::{ApiError, Code, Operation};
//! #[derive(Clone, Copy)]
//! struct NoteNotFound;
//! impl Code for NoteNotFound { const WIRE: &'static str = "NOTE_NOT_FOUND"; const STATUS: u16 = 404; }
//! enum ListNotes {}
//! impl Operation for ListNotes {}
//! // no `impl Declares<NoteNotFound> for ListNotes {}`
//! let _: ApiError<ListNotes> = ApiError::new(NoteNotFound, "no such note");
//! ```
//!
//! Nor does a [`Fault`] convert into an operation that lacks one of its set's codes:
//!
//! ```compile_fail,E0277
//! use paca_plugin_sdk::error::{ApiError, Code, Declares, Fault, Operation};
//! #[derive(Clone, Copy)]
//! struct NoteNotFound;
//! impl Code for NoteNotFound { const WIRE: &'static str = "NOTE_NOT_FOUND"; const STATUS: u16 = 404; }
//! #[derive(Clone, Copy)]
//! struct InternalError;
//! impl Code for InternalError { const WIRE: &'static str = "INTERNAL_ERROR"; const STATUS: u16 = 500; }
//! paca_plugin_sdk::code_set! { Lookup = [NoteNotFound, InternalError]; }
//! enum ListNotes {}
//! impl Operation for ListNotes {}
//! impl Declares<InternalError> for ListNotes {}
//! let _: ApiError<ListNotes> = Fault::<Lookup>::new(InternalError, "db down").into();
//! ```

use crate::abi::envelope::Response;
use std::fmt;
use std::marker::PhantomData;

/// A marker type standing for one stable error code, which always comes with the same HTTP
/// status.
pub trait Code: Copy {
    /// The wire value (`error_code` in the envelope).
    const WIRE: &'static str;
    const STATUS: u16;
}

/// A marker type standing for one operation.
pub trait Operation {}

/// `O: Declares<C>` holds exactly when operation `O` may fail with code `C`.
pub trait Declares<C: Code>: Operation {}

/// A failure of operation `O`: a declared code and a message for people. Messages must never
/// carry secrets.
pub struct ApiError<O: Operation> {
    failure: Failure,
    op: PhantomData<fn() -> O>,
}

/// What an [`ApiError`] or a [`Fault`] carries (both read as one through `Deref`), without
/// the operation ([`ApiError::erase`]): what a router handles once for all operations, after
/// the typed handlers have run.
#[derive(Debug)]
pub struct Failure {
    code: &'static str,
    status: u16,
    message: String,
}

impl Failure {
    fn new<C: Code>(message: String) -> Self {
        Self {
            code: C::WIRE,
            status: C::STATUS,
            message,
        }
    }

    /// Whether the code is `C`.
    pub fn is<C: Code>(&self) -> bool {
        self.code == C::WIRE
    }

    /// The wire value of the code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Paca's error envelope `{"success":false,"error":…,"error_code":…}`.
    pub fn into_response(self) -> Response {
        crate::router::error_response(self.status, self.code, &self.message)
    }
}

impl<O: Operation> ApiError<O> {
    /// Compiles only when `O` declares `C`.
    pub fn new<C: Code>(_code: C, message: impl Into<String>) -> Self
    where
        O: Declares<C>,
    {
        Self {
            failure: Failure::new::<C>(message.into()),
            op: PhantomData,
        }
    }

    /// Paca's error envelope `{"success":false,"error":…,"error_code":…}`.
    pub fn into_response(self) -> Response {
        self.failure.into_response()
    }

    /// Forgets the operation (the code stays one it declares).
    pub fn erase(self) -> Failure {
        self.failure
    }
}

/// A set of error codes (a marker type declared with [`code_set!`]).
pub trait CodeSet {}

/// `S: Contains<C>`: code `C` is in the set `S`.
pub trait Contains<C: Code>: CodeSet {}

/// `S: FitsIn<O>`: operation `O` declares every code of the set `S`. Implemented by
/// [`code_set!`] from the same list as [`Contains`], so the two cannot disagree.
pub trait FitsIn<O: Operation>: CodeSet {}

/// `S: Within<T>`: every code of the set `S` is in the set `T` (see [`Fault::widen`]).
pub trait Within<T: CodeSet>: CodeSet {}

/// A failure whose code is one of the set `S`, built by code shared between operations.
pub struct Fault<S: CodeSet> {
    failure: Failure,
    set: PhantomData<fn() -> S>,
}

impl<S: CodeSet> Fault<S> {
    /// Compiles only when `C` is in `S`.
    pub fn new<C: Code>(_code: C, message: impl Into<String>) -> Self
    where
        S: Contains<C>,
    {
        Self {
            failure: Failure::new::<C>(message.into()),
            set: PhantomData,
        }
    }

    pub fn into_message(self) -> String {
        self.failure.message
    }

    /// The same failure as one of a larger set.
    pub fn widen<T: CodeSet>(self) -> Fault<T>
    where
        S: Within<T>,
    {
        Fault {
            failure: self.failure,
            set: PhantomData,
        }
    }
}

impl<S: FitsIn<O>, O: Operation> From<Fault<S>> for ApiError<O> {
    fn from(fault: Fault<S>) -> Self {
        Self {
            failure: fault.failure,
            op: PhantomData,
        }
    }
}

impl<S: CodeSet> fmt::Debug for Fault<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fault")
            .field("code", &self.failure.code)
            .field("message", &self.failure.message)
            .finish()
    }
}

/// Declares a set of error codes for [`Fault`]: the marker type, which codes it contains,
/// which operations it fits in (those declaring all of them) and which sets include it.
///
/// ```text
/// paca_plugin_sdk::code_set! {
///     /// What every GitHub call can fail with.
///     pub(crate) GithubCodes = [code::GithubUnavailable, code::GithubRateLimited];
/// }
/// ```
/// (The module documentation has a complete example.)
#[macro_export]
macro_rules! code_set {
    ($(#[$meta:meta])* $vis:vis $name:ident = [$($code:path),+ $(,)?];) => {
        $(#[$meta])*
        $vis enum $name {}
        impl $crate::error::CodeSet for $name {}
        $(impl $crate::error::Contains<$code> for $name {})+
        impl<O> $crate::error::FitsIn<O> for $name
        where
            O: $crate::error::Operation $(+ $crate::error::Declares<$code>)+,
        {
        }
        impl<T> $crate::error::Within<T> for $name
        where
            T: $crate::error::CodeSet $(+ $crate::error::Contains<$code>)+,
        {
        }
    };
}

impl<O: Operation> std::ops::Deref for ApiError<O> {
    type Target = Failure;
    fn deref(&self) -> &Failure {
        &self.failure
    }
}

impl<S: CodeSet> std::ops::Deref for Fault<S> {
    type Target = Failure;
    fn deref(&self) -> &Failure {
        &self.failure
    }
}

impl<O: Operation> fmt::Debug for ApiError<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("code", &self.failure.code)
            .field("message", &self.failure.message)
            .finish()
    }
}

impl<O: Operation> fmt::Display for ApiError<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.failure.code, self.failure.message)
    }
}

impl<O: Operation> std::error::Error for ApiError<O> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy)]
    struct Gone;
    impl Code for Gone {
        const WIRE: &'static str = "GONE";
        const STATUS: u16 = 410;
    }
    #[derive(Clone, Copy)]
    struct Busy;
    impl Code for Busy {
        const WIRE: &'static str = "BUSY";
        const STATUS: u16 = 503;
    }
    enum Fetch {}
    impl Operation for Fetch {}
    impl Declares<Gone> for Fetch {}
    impl Declares<Busy> for Fetch {}

    /// A helper shared by operations names the codes it needs; its callers inherit them.
    fn busy<O: Declares<Busy>>() -> ApiError<O> {
        ApiError::new(Busy, "try again")
    }

    crate::code_set! {
        /// Only `BUSY`.
        BusyOnly = [Busy];
    }
    crate::code_set! {
        /// Both codes.
        Either = [Busy, Gone];
    }

    fn overloaded() -> Fault<BusyOnly> {
        Fault::new(Busy, "queue full")
    }

    #[test]
    fn a_fault_converts_into_every_operation_declaring_its_codes() {
        let f: Fault<Either> = overloaded().widen();
        assert_eq!((f.code(), f.message()), ("BUSY", "queue full"));
        assert!(f.is::<Busy>() && !f.is::<Gone>());
        let e: ApiError<Fetch> = f.into();
        assert_eq!((e.status(), e.message()), (503, "queue full"));
        let e: ApiError<Fetch> = Fault::<Either>::new(Gone, "moved").into();
        assert!(e.is::<Gone>());
    }

    #[test]
    fn the_marker_fixes_code_status_and_envelope() {
        let e: ApiError<Fetch> = ApiError::new(Gone, "it moved");
        assert_eq!(
            (e.code(), e.status(), e.message()),
            ("GONE", 410, "it moved")
        );
        assert_eq!(e.to_string(), "GONE: it moved");
        assert_eq!(
            format!("{e:?}"),
            r#"ApiError { code: "GONE", message: "it moved" }"#
        );
        let b = busy::<Fetch>().into_response();
        assert_eq!(b.status, 503);
        assert_eq!(
            b.body,
            br#"{"success":false,"error":"try again","error_code":"BUSY"}"#
        );
    }
}
