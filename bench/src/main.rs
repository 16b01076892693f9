//! `paca-bench`: what `cargo xtask bench` runs. Measures the real `github.wasm` in devhost on
//! a real PostgreSQL against the raw-SQL floor of the same statements, in one run, on
//! loopback, and writes `docs/perf.md` and `docs/perf.svg`.

mod calls;
mod floor;
mod inproc;
mod load;
mod report;
mod samples;
mod svg;
mod world;

use anyhow::{Context, ensure};
use inproc::{Call, EnvelopeParts, client_headers};
use paca_devhost::canon::canonical_header_key;
use paca_devhost::{HostEnv, Limits, Plugin};
use report::{Breakdown, LIST, Machine, Report, Series, WEBHOOK};
use samples::Samples;
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

/// A signed delivery that can be replayed with fresh delivery ids.
struct Hook {
    url: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Hook {
    fn from(w: &World) -> anyhow::Result<Hook> {
        let d = &w.opened;
        let skip = ["x-github-delivery", "content-length", "host"];
        let marker = "/api/v1/plugins/com.paca.github/";
        Ok(Hook {
            path: d
                .url
                .split_once(marker)
                .map(|(_, p)| p.to_owned())
                .context("delivery URL")?,
            url: d.url.clone(),
            headers: d
                .headers
                .iter()
                .filter(|(k, _)| !skip.iter().any(|s| k.eq_ignore_ascii_case(s)))
                .cloned()
                .collect(),
            body: d.body.clone(),
        })
    }

    async fn send(&self, http: &reqwest::Client, id: &str) -> anyhow::Result<()> {
        let mut req = http.post(&self.url).body(self.body.clone());
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let resp = req.header("X-GitHub-Delivery", id).send().await?;
        let status = resp.status().as_u16();
        let text = resp.text().await?;
        ensure!(
            status == 200 && text.contains("\"processed\""),
            "webhook answered {status}: {text}"
        );
        Ok(())
    }

    /// The same delivery as devhost hands it to the plugin (public route: no caller).
    fn call(&self, id: &str, tamper: bool) -> Call {
        let mut headers: BTreeMap<String, String> = self
            .headers
            .iter()
            .map(|(k, v)| (canonical_header_key(k), v.clone()))
            .collect();
        headers.insert("X-Github-Delivery".into(), id.into());
        headers.insert("Host".into(), "127.0.0.1".into());
        if tamper {
            headers.insert(
                "X-Hub-Signature-256".into(),
                format!("sha256={}", "0".repeat(64)),
            );
        }
        let mut c = EnvelopeParts {
            method: "POST",
            path: &self.path,
            project_id: "",
            caller_id: "",
            user_id: "",
            caller_role: "",
            headers,
            body: self.body.as_bytes(),
        }
        .call(&[], if tamper { 401 } else { 200 });
        if let Some(ctx) = &mut c.ctx {
            Arc::make_mut(ctx).actions.clear();
        }
        c
    }
}

/// A member route as devhost hands it to the plugin.
fn member_call(w: &World, admin: bool, path: &str, want: u16) -> Call {
    let c = if admin { &w.admin } else { &w.member };
    let actions: &[&str] = if admin {
        &["*"]
    } else {
        &["tasks:read", "tasks:write"]
    };
    EnvelopeParts {
        method: "GET",
        path,
        project_id: &w.p.id,
        caller_id: &c.caller_id,
        user_id: &c.user_id,
        caller_role: &c.role,
        headers: client_headers(Some(&c.token)),
        body: b"",
    }
    .call(actions, want)
}

/// Runs blocking work (wasm calls whose imports block on the runtime) off the executor.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f).await?
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
        let plugin = load::run(c, total, plan.max_wall, move |i| {
            let (h, http) = (h.clone(), http.clone());
            async move { h.send(&http, &format!("hook-{c}-{i}")).await }
        })
        .await?;
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
        let floor = load::run(c, total, plan.max_wall, move |i| {
            let (pool, bound) = (pool.clone(), bound.clone());
            async move { floor::run(&pool, &bound[i]).await }
        })
        .await?;
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
        let plugin = load::run(c, total, plan.max_wall, get).await?;
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
        let floor = load::run(c, total, plan.max_wall, floor_op).await?;
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
    let mix: Vec<Call> = vec![
        member_call(&w, false, &list_path, 200),
        member_call(&w, true, &format!("projects/{}/github", w.p.id), 200),
        hook.call("mem-0", false),
        hook.call("mem-bad", true),
        member_call(
            &w,
            true,
            &format!("projects/{}/github/linked-repositories", w.p.id),
            200,
        ),
        member_call(&w, false, &format!("projects/{}/nothing-here", w.p.id), 404),
    ];
    let mut env = HostEnv::new("com.paca.github", rt.clone());
    env.db = Some(w.host.pool().clone());
    env.config = [
        ("ENCRYPTION_KEY", world::ENCRYPTION_KEY),
        ("PUBLIC_URL", "https://paca.example.com"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    env.allowed_config_keys = w.host.manifest().backend().allowed_config_keys.clone();
    let (w2, h2, total) = (wasm.clone(), hook.clone(), plan.memory_calls);
    let memory = blocking(move || {
        let fresh = Plugin::load_blocking(&w2, Arc::new(env), Limits::default())?;
        inproc::memory(&fresh, total, |i| match i % mix.len() {
            // every delivery is a new one, so it is applied, not deduplicated
            2 => h2.call(&format!("mem-{i}"), false),
            k => mix[k].clone(),
        })
    })
    .await?;

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
