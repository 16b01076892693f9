//! OpenAPI side of the generator: parse + validate into [`ir::Api`], then emit.
pub mod ir;
pub mod manifest;
pub mod mcp;
pub mod parse;
pub mod rust;

pub use parse::{SpecErrors, parse};
