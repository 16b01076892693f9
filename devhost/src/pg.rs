//! Ephemeral PostgreSQL for tests and `paca-devhost` (no `DATABASE_URL` needed).
//!
//! [`fresh_database`] gives every caller its own new database on one cluster per process:
//! the cluster at `DATABASE_URL` when set (it must allow `CREATE DATABASE`), else a
//! private cluster started with `initdb` + `pg_ctl` in a temp dir (as the `postgres` OS
//! user when running as root), stopped when the process exits.

use anyhow::{Context, bail};
use sqlx::{Connection, Executor, PgConnection};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A private PostgreSQL cluster, stopped (and its directory removed) on drop.
#[derive(Debug)]
pub struct PgCluster {
    dir: Option<tempfile::TempDir>,
    bin: PathBuf,
    run_as: Option<String>,
    port: u16,
}

unsafe extern "C" {
    fn geteuid() -> u32;
    fn atexit(cb: extern "C" fn()) -> i32;
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { geteuid() == 0 }
}

/// Finds the directory holding `initdb` and `pg_ctl` (PATH, then /usr/lib/postgresql/*/bin).
pub fn find_bin_dir() -> anyhow::Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    let mut versioned: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versioned.sort();
    versioned.reverse();
    candidates.extend(versioned);
    for dir in candidates {
        if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
            // resolve symlinks (Debian's /usr/bin wrappers point elsewhere)
            let real = std::fs::canonicalize(dir.join("initdb"))
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .unwrap_or(dir);
            return Ok(real);
        }
    }
    bail!(
        "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin; \
         install them with `apt-get install postgresql`, or set DATABASE_URL to an existing server"
    )
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn uid_gid(user: &str) -> anyhow::Result<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd")?;
    for line in passwd.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() > 3 && f[0] == user {
            return Ok((f[2].parse()?, f[3].parse()?));
        }
    }
    bail!(
        "OS user {user:?} not found (PostgreSQL refuses to run as root; install the postgresql package)"
    )
}

impl PgCluster {
    fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.arg("-u").arg(user).arg("--").arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir
            .as_ref()
            .map(|d| d.path().join("data"))
            .unwrap_or_default()
    }

    /// initdb + pg_ctl start -w on a free loopback port (retries on a port race).
    pub fn start() -> anyhow::Result<PgCluster> {
        let bin = find_bin_dir()?;
        let dir = tempfile::Builder::new()
            .prefix("paca-devhost-pg-")
            .tempdir()?;
        let run_as = if is_root() {
            Some("postgres".to_owned())
        } else {
            None
        };
        if let Some(user) = &run_as {
            let (uid, gid) = uid_gid(user)?;
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))?;
        }
        let mut cluster = PgCluster {
            dir: Some(dir),
            bin,
            run_as,
            port: 0,
        };
        let data = cluster.data_dir();
        let out = cluster
            .command("initdb")
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .output()
            .context("running initdb")?;
        if !out.status.success() {
            bail!("initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let sock = cluster
            .dir
            .as_ref()
            .map(|d| d.path().to_path_buf())
            .unwrap_or_default();
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = free_port()?;
            let opts = format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -F -c fsync=off -c synchronous_commit=off \
                 -c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB",
                sock.display()
            );
            let out = cluster
                .command("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(sock.join("postgres.log"))
                .args(["-o", &opts, "-w", "-t", "60", "start"])
                .output()
                .context("running pg_ctl start")?;
            if out.status.success() {
                cluster.port = port;
                return Ok(cluster);
            }
            last_err = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                std::fs::read_to_string(sock.join("postgres.log")).unwrap_or_default()
            );
        }
        bail!("pg_ctl start failed: {last_err}")
    }

    /// Admin URL (database `postgres`).
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (idempotent).
    pub fn stop(&mut self) {
        if self.port != 0 {
            let _ = self
                .command("pg_ctl")
                .arg("-D")
                .arg(self.data_dir())
                .args(["-m", "immediate", "-w", "stop"])
                .output();
            self.port = 0;
        }
        self.dir.take();
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

enum Server {
    External(String),
    Ephemeral(Mutex<PgCluster>, String),
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

extern "C" fn stop_at_exit() {
    if let Some(Ok(Server::Ephemeral(c, _))) = SERVER.get() {
        c.lock().unwrap_or_else(|p| p.into_inner()).stop();
    }
}

/// Admin URL of the per-process server (starting the ephemeral cluster on first use).
pub fn admin_url() -> anyhow::Result<String> {
    let server = SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("DATABASE_URL")
            && !url.is_empty()
        {
            return Ok(Server::External(url));
        }
        match PgCluster::start() {
            Ok(c) => {
                let url = c.admin_url();
                // SAFETY: registering a plain extern "C" fn with no captured state.
                unsafe { atexit(stop_at_exit) };
                Ok(Server::Ephemeral(Mutex::new(c), url))
            }
            Err(e) => Err(format!("{e:#}")),
        }
    });
    match server {
        Ok(Server::External(u)) | Ok(Server::Ephemeral(_, u)) => Ok(u.clone()),
        Err(e) => bail!("{e}"),
    }
}

/// Replaces the database name of a postgres URL.
pub fn with_database(url: &str, db: &str) -> anyhow::Result<String> {
    let mut u = url::Url::parse(url).context("parsing database URL")?;
    u.set_path(&format!("/{db}"));
    Ok(u.to_string())
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Creates a new empty database and returns its URL.
pub async fn fresh_database() -> anyhow::Result<String> {
    let admin = admin_url()?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!("devhost_{}_{}_{n}", std::process::id(), nanos);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut conn = loop {
        match PgConnection::connect(&admin).await {
            Ok(c) => break c,
            Err(e) if Instant::now() >= deadline => {
                return Err(e).context("connecting to PostgreSQL");
            }
            Err(_) => tokio::task::yield_now().await,
        }
    };
    conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {name}"
    ))))
    .await
    .context("CREATE DATABASE")?;
    let _ = conn.close().await;
    with_database(&admin, &name)
}

/// Connects a pool with the session settings the host encoding relies on
/// (`TimeZone=UTC`, `DateStyle=ISO`).
pub async fn connect(url: &str) -> anyhow::Result<sqlx::PgPool> {
    use std::str::FromStr;
    let opts = sqlx::postgres::PgConnectOptions::from_str(url)?
        .options([("TimeZone", "UTC"), ("DateStyle", "ISO, MDY")]);
    Ok(sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .connect_with(opts)
        .await?)
}
