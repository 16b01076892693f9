//! `paca-devhost`: serve a Paca plugin locally.

use paca_devhost::{DevHost, DevHostConfig};
use std::net::SocketAddr;

const USAGE: &str = "usage: paca-devhost --wasm PATH --manifest PATH [--migrations DIR] [--listen ADDR] \
[--database-url URL] [--config KEY=VALUE]... [--github-api URL] [--map-host HOST=URL]... \
[--max-request-body-bytes N] [--max-call-seconds N] [--mcp-file PATH] [--skills-dir DIR] [--instances N] \
[--frontend-dir DIR] [--shell-dir DIR]";

fn parse() -> anyhow::Result<DevHostConfig> {
    let mut args = std::env::args().skip(1);
    let (mut wasm, mut manifest) = (None, None);
    let mut cfg = DevHostConfig::new("", "").listen(SocketAddr::from(([127, 0, 0, 1], 8787)));
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let mut value = || {
            args.next()
                .ok_or_else(|| anyhow::anyhow!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--wasm" => wasm = Some(value()?),
            "--manifest" => manifest = Some(value()?),
            "--migrations" => cfg.migrations = Some(value()?.into()),
            "--listen" => cfg.listen = value()?.parse()?,
            "--database-url" => cfg.database_url = Some(value()?),
            "--config" => {
                let v = value()?;
                let (k, val) = v
                    .split_once('=')
                    .ok_or_else(|| anyhow::anyhow!("--config expects KEY=VALUE"))?;
                cfg.config.insert(k.into(), val.into());
            }
            "--github-api" => {
                cfg.host_map.insert("api.github.com".into(), value()?);
            }
            "--map-host" => {
                let v = value()?;
                let (h, url) = v
                    .split_once('=')
                    .ok_or_else(|| anyhow::anyhow!("--map-host expects HOST=URL"))?;
                cfg.host_map.insert(h.to_ascii_lowercase(), url.into());
            }
            "--frontend-dir" => cfg.frontend.dist = Some(value()?.into()),
            "--shell-dir" => cfg.frontend.shell = Some(value()?.into()),
            "--max-request-body-bytes" => cfg.limits.max_request_body_bytes = value()?.parse()?,
            "--max-call-seconds" => {
                cfg.limits.max_call_duration = std::time::Duration::from_secs_f64(value()?.parse()?)
            }
            "--mcp-file" => cfg.mcp_assets.mcp_file = Some(value()?.into()),
            "--skills-dir" => cfg.mcp_assets.skills_dir = Some(value()?.into()),
            "--instances" => cfg.instances = value()?.parse::<usize>()?.max(1),
            other => anyhow::bail!("unknown flag {other}\n{USAGE}"),
        }
    }
    cfg.wasm = wasm
        .ok_or_else(|| anyhow::anyhow!("--wasm is required\n{USAGE}"))?
        .into();
    cfg.manifest = manifest
        .ok_or_else(|| anyhow::anyhow!("--manifest is required\n{USAGE}"))?
        .into();
    Ok(cfg)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cfg = parse()?;
    let cfg_has_mcp = cfg.mcp_assets.mcp_file.is_some();
    let cfg_frontend = cfg.frontend.clone();
    let host = DevHost::start(cfg).await?;
    println!("paca-devhost listening on {}", host.base_url());
    println!(
        "plugin API:   {}projects/<project id>/github (every route in the README's HTTP API table)",
        host.plugin_url("")
    );
    if cfg_frontend.dist.is_some() {
        println!(
            "frontend:     {}/plugins/{}/assets/remoteEntry.js",
            host.base_url(),
            host.manifest().id
        );
    }
    if cfg_frontend.shell.is_some() {
        println!(
            "dev shell:    {}{}?project=<project id>",
            host.base_url(),
            paca_devhost::frontend::SHELL_PATH
        );
    }
    println!("events:       {}/__devhost/events", host.base_url());
    println!("database:     {}", host.database_url());
    if cfg_has_mcp {
        println!(
            "MCP bundle:   {}/plugins-mcp/{}/mcp.js",
            host.base_url(),
            host.manifest().id
        );
    }
    println!(
        "tokens:       dev-admin (every action), dev-member (tasks:read, tasks:write), dev-viewer (tasks:read),\n              \
         dev-stale-password (must change its password: every route refuses it with PASSWORD_CHANGE_REQUIRED)\n              \
         as `Authorization: Bearer …`, `X-API-Key: …` or the session cookie `access_token=…`"
    );
    println!("agent keys:   dev-agent, dev-agent-basic (X-API-Key: …)");
    tokio::signal::ctrl_c().await?;
    println!("stopping…");
    host.shutdown().await;
    // the ephemeral cluster (if any) is stopped by its exit hook
    Ok(())
}
