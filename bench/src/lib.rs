//! `paca-bench`: the plugin measured in devhost against the raw-SQL floor (`cargo xtask bench`,
//! the binary), and the deterministic budgets checked in `cargo xtask test` (`tests/`): host
//! calls per operation and flat linear memory, through the real `github.wasm`.

pub mod calls;
pub mod floor;
pub mod inproc;
pub mod load;
pub mod mix;
pub mod report;
pub mod samples;
pub mod svg;
pub mod world;
