//! `cargo xtask dev [--github-api URL] [--port N]`: the plugin in the local Paca-compatible
//! host, with its frontend in the dev shell, a fake GitHub and a seeded demo project. Ctrl-C stops everything (the devhost
//! stops its PostgreSQL cluster itself).

use crate::{Result, root, tools};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const DEMO_TOKEN: &str = "ghp_demo_token";
const DEMO_REPO: (&str, &str) = ("demo-org", "paca-demo");
const TASKS: &[&str] = &[
    "Connect GitHub",
    "Auto-link pull requests",
    "Show CI state on tasks",
];

struct Options {
    github_api: Option<String>,
    public_url: Option<String>,
    port: u16,
}

fn options(args: &[String]) -> Result<Options> {
    let mut o = Options {
        github_api: None,
        public_url: None,
        port: 8787,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--public-url" => {
                o.public_url = Some(it.next().ok_or("--public-url needs a URL")?.clone())
            }
            "--github-api" => {
                o.github_api = Some(it.next().ok_or("--github-api needs a URL")?.clone())
            }
            "--port" => {
                o.port = it
                    .next()
                    .ok_or("--port needs a number")?
                    .parse()
                    .map_err(|_| "--port needs a number")?
            }
            other => {
                return Err(format!(
                    "unknown dev flag `{other}` (expected --github-api URL, --public-url URL, --port N)"
                ));
            }
        }
    }
    Ok(o)
}

/// Kills the children when `dev` returns for any reason.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn run(args: &[String]) -> Result {
    let opts = options(args)?;
    let root = root();
    tools::step("Checking tools");
    tools::ensure_postgres()?;
    let wasm = tools::build_wasm()?;
    let mcp_bundle = crate::mcp::build(&root, false)?;
    let frontend = tools::build_frontend()?;
    tools::step("Building the local host and the fake GitHub");
    // TLS is only needed to reach a real GitHub; the fake is plain http on loopback.
    let real_github = opts
        .github_api
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let mut build = vec![
        "build",
        "-p",
        "paca-devhost",
        "-p",
        "fake-github",
        "--locked",
    ];
    if real_github {
        build.extend(["--features", "paca-devhost/real-tls"]);
    }
    tools::cargo(&build)?;
    let bin = root.join("target/debug");

    let host_addr = SocketAddr::from(([127, 0, 0, 1], opts.port));
    let base = format!("http://{host_addr}");
    let mut children = Children(Vec::new());

    let github_api = match &opts.github_api {
        Some(url) => url.clone(),
        None => {
            tools::step("Starting the fake GitHub (seeded: user demo, token ghp_demo_token)");
            let addr = SocketAddr::from(([127, 0, 0, 1], opts.port + 1));
            children.0.push(
                Command::new(bin.join("fake-github"))
                    .args(["--listen", &addr.to_string(), "--seed-demo"])
                    .spawn()
                    .map_err(|e| format!("could not start fake-github: {e}"))?,
            );
            wait_for(addr, "fake-github", &mut children)?;
            format!("http://{addr}")
        }
    };

    tools::step("Starting paca-devhost (PostgreSQL, migrations, github.wasm)");
    let key = dev_key()?;
    children.0.push(
        Command::new(bin.join("paca-devhost"))
            .current_dir(&root)
            .args([
                "--wasm",
                &wasm.to_string_lossy(),
                "--manifest",
                "plugin.json",
                "--migrations",
                "migrations",
            ])
            .args(["--listen", &host_addr.to_string()])
            .args(["--config", &format!("ENCRYPTION_KEY={key}")])
            .args([
                "--config",
                &format!("PUBLIC_URL={}", opts.public_url.as_deref().unwrap_or(&base)),
            ])
            .args(["--github-api", &github_api])
            .args([
                "--mcp-file",
                &mcp_bundle.to_string_lossy(),
                "--skills-dir",
                "skills",
            ])
            .args(["--frontend-dir", &frontend.dist.to_string_lossy()])
            .args(["--shell-dir", &frontend.shell.to_string_lossy()])
            .spawn()
            .map_err(|e| format!("could not start paca-devhost: {e}"))?,
    );
    wait_for(host_addr, "paca-devhost", &mut children)?;

    tools::step("Seeding the demo project DEMO");
    let demo = seed(host_addr, opts.github_api.is_none())?;
    let project = &demo.project;
    let api = format!("{base}/api/v1/plugins/com.paca.github/projects/{project}");
    let shell = format!("{base}/__devhost/shell/?project={project}");
    let task1 = demo.tasks.first().map(String::as_str).unwrap_or_default();
    println!(
        "\nReady.\n\n  \
         UI (dev shell)  {shell}\n  \
         task DEMO-1     {shell}&view=task&task={task1}\n                  \
         switch identity (admin / member / viewer) and dark mode in its top bar\n  \
         plugin API      {api}/github\n  \
         events          {base}/__devhost/events\n  \
         devhost API     {base}/__devhost/openapi.json  (OpenAPI of the /__devhost/ control endpoints)\n  \
         GitHub          {github_api}\n\n\
         Dev identities (Authorization: Bearer …, X-API-Key: … or cookie access_token=…):\n  \
         dev-admin   every action, including github:manage (connect the token, link repositories)\n  \
         dev-member  tasks:read, tasks:write (the task section: create branches, link pull requests)\n  \
         dev-viewer  tasks:read (sees everything, changes nothing)\n  \
         dev-stale-password  must change its password: every route refuses it (PASSWORD_CHANGE_REQUIRED)\n\n\
         Agent keys (X-API-Key: …): dev-agent (tasks + github:use), dev-agent-basic (tasks only).\n  \
         MCP bundle  {base}/plugins-mcp/com.paca.github/mcp.js (an MCP client can run \
         `PACA_BASE_URL={base} PACA_API_KEY=dev-agent node mcp/dev/stdio-server.mjs`)\n\n\
         Try:\n  curl -H 'Authorization: Bearer dev-admin' {api}/github\n  \
         curl -H 'Authorization: Bearer dev-member' {api}/github/linked-repositories\n"
    );
    if opts.github_api.is_none() {
        print!("{}", control_help(&github_api));
    }
    println!("\nCtrl-C stops everything.");
    // The devhost exits on Ctrl-C (it receives the terminal's SIGINT too) after stopping
    // PostgreSQL; then the fake GitHub is stopped by `Children`.
    let status = children.0.last_mut().map(|c| c.wait());
    match status {
        Some(Ok(s)) if s.success() => Ok(()),
        Some(Ok(s)) => Err(format!("paca-devhost exited with {s}")),
        Some(Err(e)) => Err(format!("waiting for paca-devhost: {e}")),
        None => Ok(()),
    }
}

/// A fresh AES key per run: the dev database is ephemeral too.
fn dev_key() -> Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("reading /dev/urandom: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Polls until `addr` accepts connections (bounded), failing early if a child died.
fn wait_for(addr: SocketAddr, name: &str, children: &mut Children) -> Result {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            println!("{name} is up on {addr}");
            return Ok(());
        }
        for c in &mut children.0 {
            if let Ok(Some(status)) = c.try_wait() {
                return Err(format!("{name} exited before it was ready ({status})"));
            }
        }
        if Instant::now() > deadline {
            return Err(format!("{name} did not listen on {addr} within 120 s"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What the fake GitHub's control API does for the demo loop (it is the only way to act "on
/// GitHub" locally: every action delivers the webhooks a real GitHub would).
fn control_help(gh: &str) -> String {
    let (owner, repo) = DEMO_REPO;
    let r = format!("{gh}/_control/repos/{owner}/{repo}");
    let j = "-H 'Content-Type: application/json'";
    format!(
        "\nDrive GitHub (the fake's control API; the UI updates within seconds, no reload):\n  \
         push a branch    curl -X POST {r}/push {j} -d '{{\"branch\":\"feat/DEMO-2-auto-link\"}}'\n  \
         open a PR        curl -X POST {r}/pulls {j} -d '{{\"head\":\"feat/DEMO-2-auto-link\",\"title\":\"DEMO-2 Auto-link\"}}'\n  \
         merge PR #1      curl -X POST {r}/pulls/1/merge\n  \
         close / reopen   curl -X POST {r}/pulls/1/close   (or …/reopen)\n  \
         everything       curl {gh}/_control/state\n  \
         the whole API    curl {gh}/__github/openapi.json   (OpenAPI: seeding, PRs, deliveries, faults)\n  \
         (a branch named after a task key, like feat/DEMO-2-…, links to that task; a PR from a\n  \
         task's branch, or naming its key, links to the task; create a branch in the task view first\n  \
         to open a PR from it)\n"
    )
}

struct Demo {
    project: String,
    tasks: Vec<String>,
}

fn seed(host: SocketAddr, fake_github: bool) -> Result<Demo> {
    let project = http(
        host,
        "POST",
        "/__devhost/seed/project",
        None,
        r#"{"name":"Demo","task_id_prefix":"DEMO"}"#,
    )?;
    let id = json_string_field(&project, "id")
        .ok_or_else(|| format!("unexpected seed answer: {project}"))?;
    let mut tasks = Vec::new();
    for title in TASKS {
        let body = format!(r#"{{"project_id":"{id}","title":"{title}"}}"#);
        let task = http(host, "POST", "/__devhost/seed/task", None, &body)?;
        tasks.push(
            json_string_field(&task, "id")
                .ok_or_else(|| format!("unexpected seed answer: {task}"))?,
        );
    }
    println!(
        "project DEMO ({id}) with tasks DEMO-1..DEMO-{}",
        TASKS.len()
    );
    if fake_github {
        let api = format!("/api/v1/plugins/com.paca.github/projects/{id}/github");
        http(
            host,
            "POST",
            &format!("{api}/token"),
            Some("dev-admin"),
            &format!(r#"{{"token":"{DEMO_TOKEN}"}}"#),
        )?;
        let (owner, repo) = DEMO_REPO;
        let body = format!(r#"{{"owner":"{owner}","repo_name":"{repo}"}}"#);
        http(
            host,
            "POST",
            &format!("{api}/linked-repositories"),
            Some("dev-admin"),
            &body,
        )?;
        println!(
            "connected the demo token and linked {owner}/{repo} (its webhook delivers to the devhost)"
        );
    }
    Ok(Demo { project: id, tasks })
}

/// The value of a top-level string field in a small JSON object (enough for the seed answers).
fn json_string_field(json: &str, field: &str) -> Option<String> {
    let key = format!("\"{field}\":\"");
    let start = json.find(&key)? + key.len();
    let end = json[start..].find('"')? + start;
    Some(json[start..end].to_string())
}

/// A minimal HTTP/1.1 client over std, for the seed calls (xtask keeps its dependencies small).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: &str,
) -> Result<String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("{method} {path}: {e}"))?;
    let auth = bearer
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\n\
         {auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("{method} {path}: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("{method} {path}: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{method} {path}: malformed response"))?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    if !(200..300).contains(&status) {
        return Err(format!("{method} {path} answered {status}: {body}"));
    }
    Ok(body)
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}
