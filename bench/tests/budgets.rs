//! Issue 13's deterministic budgets, through the real `github.wasm` in devhost on a real
//! PostgreSQL (no timings here; those belong to `cargo xtask bench`):
//! - host calls per operation at or below the committed table `backend/host-call-budget.txt`,
//!   every operation of the spec with a row, every list route one DB call;
//! - linear memory flat over 10,000 mixed requests.
//!
//! The wasm's size budget is enforced where the module is built (`cargo xtask build`).

use paca_bench::calls::{self, Budget};
use paca_bench::mix::{self, Hook};
use paca_bench::world::{Inputs, World};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ is in the workspace")
        .to_path_buf()
}

fn inputs() -> Inputs {
    let wasm = std::env::var_os("PACA_GITHUB_WASM")
        .map(PathBuf::from)
        .expect("PACA_GITHUB_WASM must name the release github.wasm (`cargo xtask test` sets it)");
    Inputs {
        wasm,
        manifest: root().join("plugin.json"),
        migrations: root().join("migrations"),
        instances: 2,
    }
}

/// The spec's operation ids, in order.
fn spec_operations() -> Vec<String> {
    let spec = std::fs::read_to_string(root().join("spec/openapi.yaml")).expect("spec");
    spec.lines()
        .filter_map(|l| l.trim().strip_prefix("operationId:"))
        .map(|id| id.trim().trim_matches(['"', '\'']).to_owned())
        .collect()
}

/// `listTaskPullRequests` → `list_task_pull_requests`.
fn snake(id: &str) -> String {
    let mut s = String::new();
    for c in id.chars() {
        if c.is_ascii_uppercase() {
            s.push('_');
        }
        s.push(c.to_ascii_lowercase());
    }
    s
}

fn rows_of<'b>(budget: &'b [Budget], op: &str) -> Vec<&'b Budget> {
    budget
        .iter()
        .filter(|b| b.scenario == op || b.scenario.starts_with(&format!("{op}_")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_calls_per_operation_stay_within_the_committed_budget() {
    let w = World::start(&inputs()).await.expect("bench world");
    let counted = calls::count_all(&w).await.expect("every scenario runs");
    let budget = calls::read_budget(&root().join("backend/host-call-budget.txt")).expect("budget");
    let mut problems = Vec::new();
    for b in &budget {
        match counted.get(&b.scenario) {
            None => problems.push(format!(
                "{}: has a budget row but no scenario in bench/src/calls.rs counts it",
                b.scenario
            )),
            Some(c) if c.db > b.db || c.fetch > b.fetch => problems.push(format!(
                "{}: {} DB calls and {} fetches, over the budget of {} and {}",
                b.scenario, c.db, c.fetch, b.db, b.fetch
            )),
            Some(_) => {}
        }
    }
    for scenario in counted.keys() {
        if !budget.iter().any(|b| &b.scenario == scenario) {
            problems.push(format!("{scenario}: counted, but has no budget row"));
        }
    }
    for op in spec_operations() {
        let name = snake(&op);
        let rows = rows_of(&budget, &name);
        if rows.is_empty() {
            problems.push(format!(
                "{op}: an operation of the spec without a budget row"
            ));
        }
        if name.starts_with("list_") {
            for b in rows.iter().filter(|b| b.db != 1) {
                problems.push(format!(
                    "{}: a list route must make one DB call, the budget says {}",
                    b.scenario, b.db
                ));
            }
        }
    }
    let table: Vec<String> = counted
        .iter()
        .map(|(s, c)| format!("{s:<52} db {:>2}  fetch {:>2}", c.db, c.fetch))
        .collect();
    assert!(
        problems.is_empty(),
        "{}\n\ncounted:\n{}",
        problems.join("\n"),
        table.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linear_memory_stays_flat_over_ten_thousand_mixed_requests() {
    let inputs = inputs();
    let w = World::start(&inputs).await.expect("bench world");
    let hook = Arc::new(Hook::from(&w).expect("the opened delivery replays"));
    let wasm = Arc::new(std::fs::read(&inputs.wasm).expect("wasm"));
    let [first, at_1000, last] =
        mix::memory(&w, &hook, wasm, tokio::runtime::Handle::current(), 10_000)
            .await
            .expect("10,000 requests");
    assert_eq!(
        last, at_1000,
        "linear memory grew from {at_1000} bytes after 1,000 requests to {last} after 10,000 \
         (after the first: {first}): something the host writes into the guest is not released \
         on ResetAllocator"
    );
}
