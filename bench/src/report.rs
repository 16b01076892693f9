//! The printed table and `docs/perf.md`.

use crate::calls::{Budget, Counted};
use crate::inproc::{LoadTimes, Split};
use crate::samples::{Samples, ms, us};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub load_start: String,
    pub load_end: String,
    pub postgres: String,
    pub date: String,
}

impl Machine {
    pub fn probe() -> Machine {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let date = std::process::Command::new("date")
            .args(["-u", "+%Y-%m-%d %H:%M UTC"])
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            load_start: loadavg(),
            load_end: String::new(),
            postgres: String::new(),
            date,
        }
    }
}

/// `/proc/loadavg`'s 1/5/15-minute figures.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|t| t.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// One operation at one concurrency, plugin and floor.
pub struct Series {
    pub op: &'static str,
    pub concurrency: usize,
    pub plugin: Samples,
    pub floor: Samples,
}

impl Series {
    pub fn ratio(&self) -> f64 {
        ms(self.plugin.p50()) / ms(self.floor.p50()).max(1e-9)
    }
}

/// Where a request's time goes (means at concurrency 1).
pub struct Breakdown {
    pub op: &'static str,
    pub e2e: Duration,
    pub split: Split,
    pub floor: Duration,
    /// The host's membership lookup alone (member routes), measured directly.
    pub membership: Option<Duration>,
}

pub struct Report {
    pub machine: Machine,
    pub wasm_bytes: u64,
    pub load: LoadTimes,
    pub abi: Samples,
    pub calls: Vec<(Budget, Option<Counted>)>,
    pub series: Vec<Series>,
    pub breakdowns: Vec<Breakdown>,
    /// Linear memory after the first call, after 1,000 and after all calls.
    pub memory: [usize; 3],
    pub memory_calls: usize,
    pub instances: usize,
    pub elapsed: Duration,
    /// Reference DB round trips of the two e2e operations (webhook, list).
    pub reference_db: BTreeMap<&'static str, u64>,
}

fn kib(b: u64) -> String {
    format!("{:.1} KiB", b as f64 / 1024.0)
}

fn mib(b: usize) -> String {
    format!("{:.2} MiB", b as f64 / (1024.0 * 1024.0))
}

fn fmt_ms(d: Duration) -> String {
    format!("{:.3}", ms(d))
}

pub const WEBHOOK: &str = "webhook pull_request.opened";
pub const LIST: &str = "GET task pull-requests";

impl Report {
    fn series(&self, op: &str) -> impl Iterator<Item = &Series> {
        self.series.iter().filter(move |s| s.op == op)
    }

    /// Per-call floor of an operation at concurrency 1 (its floor ÷ its DB calls).
    fn floor_per_call(&self, op: &str, db_calls: u64) -> Option<Duration> {
        let s = self.series(op).find(|s| s.concurrency == 1)?;
        Some(s.floor.p50() / db_calls.max(1) as u32)
    }

    fn counted(&self, scenario: &str) -> Option<Counted> {
        self.calls
            .iter()
            .find(|(b, _)| b.scenario == scenario)
            .and_then(|(_, c)| *c)
    }

    /// The one table `cargo xtask bench` prints.
    pub fn summary(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "| figure | Rust plugin | raw-SQL floor | plugin ÷ floor | Go reference (derived) |"
        );
        let _ = writeln!(t, "|---|---|---|---|---|");
        let _ = writeln!(
            t,
            "| github.wasm (release) | {} | | | not derivable |",
            kib(self.wasm_bytes)
        );
        let _ = writeln!(
            t,
            "| compile + instantiate + Init | {:.1} ms (compile {:.1} ms) | | | not derivable |",
            ms(self.load.load),
            ms(self.load.compile)
        );
        let _ = writeln!(
            t,
            "| ABI overhead, undeclared route → 404 | p50 {:.1} µs · p99 {:.1} µs | | | |",
            us(self.abi.p50()),
            us(self.abi.p99())
        );
        for (op, scenario) in [
            (WEBHOOK, "receive_webhook_pull_request_opened_linked_branch"),
            (LIST, "list_task_pull_requests"),
        ] {
            let ours = self.counted(scenario).map_or(0, |c| c.db);
            let theirs = self.reference_db.get(op).copied().unwrap_or(0);
            for s in self.series(op) {
                let reference = if s.concurrency == 1 {
                    match self.floor_per_call(op, ours) {
                        Some(per) => format!(
                            "{theirs} DB calls: floor ≈ {:.3} ms",
                            ms(per * theirs as u32)
                        ),
                        None => format!("{theirs} DB calls"),
                    }
                } else {
                    String::new()
                };
                let _ = writeln!(
                    t,
                    "| {op}, c={} | p50 {} · p99 {} ms · {:.0}/s | p50 {} · p99 {} ms · {:.0}/s | {:.2}× | {reference} |",
                    s.concurrency,
                    fmt_ms(s.plugin.p50()),
                    fmt_ms(s.plugin.p99()),
                    s.plugin.throughput(),
                    fmt_ms(s.floor.p50()),
                    fmt_ms(s.floor.p99()),
                    s.floor.throughput(),
                    s.ratio()
                );
            }
        }
        for b in &self.breakdowns {
            let _ = writeln!(
                t,
                "| time split, {} (mean, c=1) | guest {} · host DB {} · other imports {} · HTTP+middleware {} ms | {} ms | | |",
                b.op,
                fmt_ms(b.split.guest()),
                fmt_ms(b.split.db),
                fmt_ms(b.split.other_imports + b.split.fetch),
                fmt_ms(b.e2e.saturating_sub(b.split.export)),
                fmt_ms(b.floor)
            );
        }
        let _ = writeln!(
            t,
            "| linear memory: first call → {} calls | {} → {} | | | ≥ 10 MiB static arena + Go heap |",
            self.memory_calls,
            mib(self.memory[0]),
            mib(self.memory[2])
        );
        t
    }

    pub fn markdown(&self, svg_name: &str) -> String {
        let m = &self.machine;
        let mut d = String::new();
        let _ = writeln!(d, "# Performance of `com.paca.github`\n");
        let _ = writeln!(
            d,
            "Generated by `cargo xtask bench` on {} — do not edit by hand; rerun it instead.\n",
            m.date
        );
        let _ = writeln!(d, "## Machine and conditions\n");
        let _ = writeln!(d, "- CPU: {} × {}", m.cpus, m.cpu_model);
        let _ = writeln!(
            d,
            "- Load average (1/5/15 min) at start: {}; at end: {}. The machine is shared, so other \
             work may run during the bench.",
            m.load_start, m.load_end
        );
        let _ = writeln!(
            d,
            "- PostgreSQL: {} (ephemeral cluster, fsync off, loopback)",
            m.postgres
        );
        let _ = writeln!(
            d,
            "- devhost and the bench: {}; wasmtime 48 (cranelift), {} wasm instance(s), PostgreSQL \
             pool of 8 connections; the floor uses its own pool of 8.",
            if cfg!(debug_assertions) {
                "**dev profile (unoptimised)**: host-side figures (HTTP, middleware, the host's DB \
                 path, and the sqlx floor itself) are slower than an optimised host's; the guest \
                 is compiled by cranelift either way. `cargo xtask bench` builds profile `perf`"
            } else {
                "profile `perf` (opt-level 3)"
            },
            self.instances
        );
        let _ = writeln!(
            d,
            "- Bench wall time: {:.0} s\n",
            self.elapsed.as_secs_f64()
        );
        let _ = writeln!(d, "## Summary\n");
        d.push_str(&self.summary());
        let _ = writeln!(
            d,
            "\nThe floor of an operation is the statements the plugin sent in that run (captured by \
             devhost, params bound the way the host binds them), executed directly with sqlx in the \
             host's transaction shape — `BEGIN; SET LOCAL search_path …; <statement>; COMMIT` per \
             call — plus, on member routes, the host's membership lookup. It has no wasm, no HTTP \
             and no JSON mapping, so `plugin ÷ floor` is everything the plugin and the host add on \
             top of the database. The Go column counts the reference's documented round trips \
             (`shared/docs/reference-plugin.md`); its floor is that count times this run's floor \
             per call.\n"
        );
        let _ = writeln!(d, "![latency distributions]({svg_name})\n");

        let _ = writeln!(d, "## Host calls per operation\n");
        let _ = writeln!(
            d,
            "Counted through devhost's imports while each scenario ran once (deterministic); the \
             budget is `backend/host-call-budget.txt`.\n"
        );
        let _ = writeln!(
            d,
            "| scenario | DB calls | fetches | events | budget DB / fetch | Go reference DB / fetch |"
        );
        let _ = writeln!(d, "|---|---|---|---|---|---|");
        let opt = |v: Option<u64>| v.map_or("–".to_string(), |v| v.to_string());
        for (b, c) in &self.calls {
            let (db, fetch, emits) = match c {
                Some(c) => (c.db.to_string(), c.fetch.to_string(), c.emits.to_string()),
                None => ("not measured".into(), String::new(), String::new()),
            };
            let _ = writeln!(
                d,
                "| {} | {db} | {fetch} | {emits} | {} / {} | {} / {} |",
                b.scenario,
                b.db,
                b.fetch,
                opt(b.ref_db),
                opt(b.ref_fetch)
            );
        }

        let _ = writeln!(
            d,
            "\n## Where the time goes (means per request, concurrency 1)\n"
        );
        let _ = writeln!(
            d,
            "`export call` is `HandleRequest` timed in process on devhost's instance with the same \
             envelope devhost builds; `host DB` and `other imports` are devhost's import timers \
             during those calls (they include writing the result into the guest); `guest` is the \
             rest (envelope and JSON decoding, routing, HMAC and AES-GCM, SQL building, response \
             encoding). `HTTP+middleware` is the end-to-end mean minus the export call: client, \
             axum, the host's middlewares (the membership lookup on member routes), the blocking \
             hand-off and the instance lock.\n"
        );
        let _ = writeln!(
            d,
            "| operation | end-to-end | HTTP+middleware | export call | guest | host DB (calls) | other imports | floor |"
        );
        let _ = writeln!(d, "|---|---|---|---|---|---|---|---|");
        for b in &self.breakdowns {
            let membership = b
                .membership
                .map(|m| format!(" (membership lookup alone {} ms)", fmt_ms(m)))
                .unwrap_or_default();
            let _ = writeln!(
                d,
                "| {} | {} ms | {} ms{membership} | {} ms | {} ms ({:.0}%) | {} ms ({:.1}) | {} ms | {} ms |",
                b.op,
                fmt_ms(b.e2e),
                fmt_ms(b.e2e.saturating_sub(b.split.export)),
                fmt_ms(b.split.export),
                fmt_ms(b.split.guest()),
                100.0 * b.split.guest().as_secs_f64() / b.e2e.as_secs_f64().max(1e-12),
                fmt_ms(b.split.db),
                b.split.db_calls,
                fmt_ms(b.split.other_imports + b.split.fetch),
                fmt_ms(b.floor)
            );
        }

        let _ = writeln!(d, "\n## Latency and throughput\n");
        let _ = writeln!(
            d,
            "Closed loop: `c` clients send back to back over keep-alive connections; every request is \
             checked (status and outcome). The plugin and its floor are measured in {} alternating \
             slices of each series, so drift in the shared machine's load hits both alike. Webhook \
             deliveries are the signed `pull_request opened` payload GitHub sent for a branch linked \
             to a task, each with a new `X-GitHub-Delivery`; the list is a task with 3 linked PRs \
             read as a project member.\n",
            crate::load::SLICES
        );
        let _ = writeln!(
            d,
            "| operation | c | requests | plugin p50 / p99 ms | plugin req/s | floor p50 / p99 ms | floor req/s | p50 ratio |"
        );
        let _ = writeln!(d, "|---|---|---|---|---|---|---|---|");
        for s in &self.series {
            let _ = writeln!(
                d,
                "| {} | {} | {} | {} / {} | {:.0} | {} / {} | {:.0} | {:.2}× |",
                s.op,
                s.concurrency,
                s.plugin.len(),
                fmt_ms(s.plugin.p50()),
                fmt_ms(s.plugin.p99()),
                s.plugin.throughput(),
                fmt_ms(s.floor.p50()),
                fmt_ms(s.floor.p99()),
                s.floor.throughput(),
                s.ratio()
            );
        }

        let _ = writeln!(d, "\n## Module size, load and memory\n");
        let _ = writeln!(
            d,
            "| figure | Rust plugin | Go reference |\n|---|---|---|\n\
             | github.wasm | {} (budget 400 KiB after wasm-opt, `cargo xtask build`) | not derivable |\n\
             | compile (cranelift, `Module::new`) | {:.1} ms | not derivable |\n\
             | compile + instantiate + `Init` (devhost's load) | {:.1} ms | not derivable |\n\
             | ABI overhead per request (404, in process) | p50 {:.1} µs · p99 {:.1} µs ({} calls) | not derivable |\n\
             | linear memory after the first call | {} | ≥ 10 MiB: the SDK's static `mallocBuffer` arena, plus the Go runtime's heap |\n\
             | … after 1,000 calls | {} | same arena (it never grows; a bigger result fails) |\n\
             | … after {} mixed calls | {} | same |\n",
            kib(self.wasm_bytes),
            ms(self.load.compile),
            ms(self.load.load),
            us(self.abi.p50()),
            us(self.abi.p99()),
            self.abi.len(),
            mib(self.memory[0]),
            mib(self.memory[1]),
            self.memory_calls,
            mib(self.memory[2])
        );
        let _ = writeln!(
            d,
            "Memory is measured on a fresh instance over the real database, cycling through a task's \
             PR list, the integration status, a signed webhook delivery, a rejected (badly signed) \
             delivery, the linked repositories and an undeclared route. `cargo xtask test` keeps it \
             flat (`devhost/tests/e2e_memory.rs`)."
        );
        d
    }
}
