//! `cargo xtask dev`: the plugin in the local Paca-compatible host (arrives with devhost).

use crate::Result;

pub fn run(_args: &[String]) -> Result {
    Err(
        "`cargo xtask dev` is not available yet: the local host (devhost/) is still being built"
            .into(),
    )
}
