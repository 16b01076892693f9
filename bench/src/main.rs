//! `paca-bench`: what `cargo xtask bench` runs. Measures the real `github.wasm` in devhost on
//! a real PostgreSQL against the raw-SQL floor of the same statements, in one run, on
//! loopback, and writes `docs/perf.md` and `docs/perf.svg`.

use anyhow::{Context, ensure};
use paca_bench::mix::{self, Hook, blocking, member_call};
use paca_bench::samples::Samples;
use paca_bench::{calls, floor, inproc, load, report, svg, world};
use paca_devhost::Plugin;
use report::{Breakdown, LIST, Machine, Report, Series, WEBHOOK};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use world::{Inputs, World};

const USAGE: &str = "usage: paca-bench --wasm PATH --manifest PATH --migrations DIR --budget PATH \
--docs DIR [--quick] [--instances N]";

struct Args {
    inputs: Inputs,
    budget: PathBuf,
    docs: PathBuf,
    quick: bool,
}

fn args() -> anyhow::Result<Args> {
    let mut it = std::env::args().skip(1);
    let (mut wasm, mut manifest, mut migrations, mut budget, mut docs) =
        (None, None, None, None, None);
    let (mut quick, mut instances) = (false, 2);
    while let Some(a) = it.next() {
        let mut v = || {
            it.next()
                .with_context(|| format!("{a} needs a value\n{USAGE}"))
        };
        match a.as_str() {
            "--wasm" => wasm = Some(PathBuf::from(v()?)),
            "--manifest" => manifest = Some(PathBuf::from(v()?)),
            "--migrations" => migrations = Some(PathBuf::from(v()?)),
            "--budget" => budget = Some(PathBuf::from(v()?)),
            "--docs" => docs = Some(PathBuf::from(v()?)),
            "--instances" => instances = v()?.parse()?,
            "--quick" => quick = true,
            other => anyhow::bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    let need = |o: Option<PathBuf>, n: &str| o.with_context(|| format!("{n} is required\n{USAGE}"));
    Ok(Args {
        inputs: Inputs {
            wasm: need(wasm, "--wasm")?,
            manifest: need(manifest, "--manifest")?,
            migrations: need(migrations, "--migrations")?,
            instances,
        },
        budget: need(budget, "--budget")?,
        docs: need(docs, "--docs")?,
        quick,
    })
}

/// How much to measure.
struct Plan {
    /// (concurrency, requests) per series.
    levels: Vec<(usize, usize)>,
    max_wall: Duration,
    warmup: usize,
    abi_calls: usize,
    split_calls: usize,
    memory_calls: usize,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                levels: vec![(1, 150), (4, 200), (16, 300)],
                max_wall: Duration::from_secs(10),
                warmup: 20,
                abi_calls: 2_000,
                split_calls: 50,
                memory_calls: 10_000,
            }
        } else {
            Plan {
                levels: vec![(1, 1_500), (4, 3_000), (16, 4_000)],
                max_wall: Duration::from_secs(25),
                warmup: 100,
                abi_calls: 10_000,
                split_calls: 500,
                memory_calls: 10_000,
            }
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let plan = Plan::new(args.quick);
    let started = Instant::now();
    let mut machine = Machine::probe();
    let rt = tokio::runtime::Handle::current();
    let wasm = Arc::new(std::fs::read(&args.inputs.wasm).context("reading the wasm")?);
    let wasm_bytes = wasm.len() as u64;

    eprintln!("bench: module load and ABI overhead");
    let (w2, rt2) = (wasm.clone(), rt.clone());
    let reps = if args.quick { 1 } else { 5 };
    let load = blocking(move || inproc::load_times(&w2, rt2, reps)).await?;
    let (w2, rt2, n) = (wasm.clone(), rt.clone(), plan.abi_calls);
    let abi = blocking(move || {
        let plugin = inproc::bare_plugin(&w2, rt2)?;
        inproc::repeat(&plugin, &inproc::not_found_call(), 500, n)
    })
    .await?;

    eprintln!("bench: seeding devhost, fake GitHub and PostgreSQL");
    let w = Arc::new(World::start(&args.inputs).await?);
    machine.postgres = sqlx::query_scalar::<_, String>("SELECT version()")
        .fetch_one(w.host.pool())
        .await?
        .split(" on ")
        .next()
        .unwrap_or_default()
        .to_owned();

    eprintln!("bench: host calls per scenario");
    let counted = calls::count_all(&w).await?;
    let calls: Vec<_> = calls::read_budget(&args.budget)?
        .into_iter()
        .map(|b| {
            let c = counted.get(&b.scenario).copied();
            (b, c)
        })
        .collect();

    let floor_pool = paca_devhost::pg::connect(w.host.database_url()).await?;
    let hook = Arc::new(Hook::from(&w)?);
    let capture = |on: bool| w.host.plugin().env().stats.set_capture(on);

    // The statements each operation sends, captured from one real request.
    w.host.plugin().env().stats.take_captured();
    capture(true);
    hook.send(&w.http, "bench-capture-0").await?;
    capture(false);
    let hook_sql = w.host.plugin().env().stats.take_captured();
    let list_path = format!(
        "projects/{}/tasks/{}/github/pull-requests",
        w.p.id, w.p.tasks[1]
    );
    capture(true);
    w.call_ok("GET", &list_path, &w.member.token, None, 200)
        .await?;
    capture(false);
    let list_sql = w.host.plugin().env().stats.take_captured();
    ensure!(
        !hook_sql.is_empty() && list_sql.len() == 1,
        "captured {} webhook and {} list statements",
        hook_sql.len(),
        list_sql.len()
    );

    let mut series = Vec::new();
    for &(c, total) in &plan.levels {
        eprintln!("bench: {WEBHOOK}, concurrency {c}");
        let (h, http) = (hook.clone(), w.http.clone());
        for i in 0..plan.warmup {
            h.send(&http, &format!("warm-{c}-{i}")).await?;
        }
        let send = move |i: usize| {
            let (h, http) = (h.clone(), http.clone());
            async move { h.send(&http, &format!("hook-{c}-{i}")).await }
        };
        let bound: Arc<Vec<floor::Statements>> = Arc::new(
            (0..total + plan.warmup)
                .map(|i| {
                    floor::bind(
                        &hook_sql,
                        Some(("bench-capture-0", &format!("floor-{c}-{i}"))),
                    )
                })
                .collect::<anyhow::Result<_>>()?,
        );
        for s in &bound[total..] {
            floor::run(&floor_pool, s).await?;
        }
        let pool = floor_pool.clone();
        let replay = move |i: usize| {
            let (pool, bound) = (pool.clone(), bound.clone());
            async move { floor::run(&pool, &bound[i]).await }
        };
        let (plugin, floor) = load::paired(c, total, plan.max_wall, send, replay).await?;
        series.push(Series {
            op: WEBHOOK,
            concurrency: c,
            plugin,
            floor,
        });
    }

    let list_stmt = Arc::new(floor::bind(&list_sql, None)?);
    let (project, member_user) = (w.p.id.clone(), w.member.user_id.clone());
    for &(c, total) in &plan.levels {
        eprintln!("bench: {LIST}, concurrency {c}");
        let url = Arc::new(w.host.plugin_url(&list_path));
        let bearer = Arc::new(format!("Bearer {}", w.member.token));
        let get = {
            let (http, url, bearer) = (w.http.clone(), url.clone(), bearer.clone());
            move |_i: usize| {
                let (http, url, bearer) = (http.clone(), url.clone(), bearer.clone());
                async move {
                    let resp = http
                        .get(url.as_str())
                        .header("Authorization", bearer.as_str())
                        .send()
                        .await?;
                    let status = resp.status().as_u16();
                    let text = resp.text().await?;
                    ensure!(
                        status == 200 && text.starts_with("{\"success\":true"),
                        "list answered {status}: {text}"
                    );
                    Ok(())
                }
            }
        };
        for i in 0..plan.warmup {
            get(i).await?;
        }
        let floor_op = {
            let (pool, stmt, project, user) = (
                floor_pool.clone(),
                list_stmt.clone(),
                project.clone(),
                member_user.clone(),
            );
            move |_i: usize| {
                let (pool, stmt, project, user) =
                    (pool.clone(), stmt.clone(), project.clone(), user.clone());
                async move {
                    floor::membership(&pool, &project, &user).await?;
                    floor::run(&pool, &stmt).await
                }
            }
        };
        for i in 0..plan.warmup {
            floor_op(i).await?;
        }
        let (plugin, floor) = load::paired(c, total, plan.max_wall, get, floor_op).await?;
        series.push(Series {
            op: LIST,
            concurrency: c,
            plugin,
            floor,
        });
    }

    eprintln!("bench: time split");
    let c1 = |op: &str| {
        series
            .iter()
            .find(|s| s.op == op && s.concurrency == 1)
            .map(|s| (s.plugin.mean(), s.floor.mean()))
            .unwrap_or_default()
    };
    let plugin = w.host.plugin().clone();
    let n = plan.split_calls;
    let (p2, h2) = (plugin.clone(), hook.clone());
    let stats_of = move |p: &Plugin| p.env().stats.snapshot();
    let hook_split = blocking(move || {
        inproc::split(
            &p2,
            || stats_of(&p2),
            n,
            |i| h2.call(&format!("split-{i}"), false),
        )
    })
    .await?;
    let list_call = member_call(&w, false, &list_path, 200);
    let p2 = plugin.clone();
    let list_split =
        blocking(move || inproc::split(&p2, || stats_of(&p2), n, |_| list_call.clone())).await?;
    let mut membership = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        floor::membership(&floor_pool, &project, &member_user).await?;
        membership.push(t.elapsed());
    }
    let membership = Samples::new(membership, Duration::ZERO).mean();
    let (hook_e2e, hook_floor) = c1(WEBHOOK);
    let (list_e2e, list_floor) = c1(LIST);
    let breakdowns = vec![
        Breakdown {
            op: WEBHOOK,
            e2e: hook_e2e,
            split: hook_split,
            floor: hook_floor,
            membership: None,
        },
        Breakdown {
            op: LIST,
            e2e: list_e2e,
            split: list_split,
            floor: list_floor,
            membership: Some(membership),
        },
    ];

    eprintln!("bench: linear memory over {} calls", plan.memory_calls);
    let memory = mix::memory(&w, &hook, wasm.clone(), rt.clone(), plan.memory_calls).await?;

    machine.load_end = report::loadavg();
    let reference_db = BTreeMap::from([
        (
            WEBHOOK,
            calls
                .iter()
                .find(|(b, _)| b.scenario == "receive_webhook_pull_request_opened_linked_branch")
                .and_then(|(b, _)| b.ref_db)
                .unwrap_or(0),
        ),
        (
            LIST,
            calls
                .iter()
                .find(|(b, _)| b.scenario == "list_task_pull_requests")
                .and_then(|(b, _)| b.ref_db)
                .unwrap_or(0),
        ),
    ]);
    let report = Report {
        machine,
        wasm_bytes,
        load,
        abi,
        calls,
        series,
        breakdowns,
        memory,
        memory_calls: plan.memory_calls,
        instances: w.instances,
        elapsed: started.elapsed(),
        reference_db,
    };

    let rows: Vec<svg::Row<'_>> = report
        .series
        .iter()
        .flat_map(|s| {
            [
                svg::Row {
                    label: format!("{} c={} plugin", s.op, s.concurrency),
                    samples: &s.plugin,
                    plugin: true,
                },
                svg::Row {
                    label: format!("{} c={} floor", s.op, s.concurrency),
                    samples: &s.floor,
                    plugin: false,
                },
            ]
        })
        .collect();
    std::fs::create_dir_all(&args.docs)?;
    let svg_path = args.docs.join("perf.svg");
    std::fs::write(
        &svg_path,
        svg::render("Latency per request (log scale)", &rows),
    )?;
    let md_path = args.docs.join("perf.md");
    std::fs::write(&md_path, report.markdown("perf.svg"))?;
    println!("{}", report.summary());
    println!(
        "wrote {} and {} ({:.0} s)",
        md_path.display(),
        svg_path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
