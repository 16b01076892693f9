//! `fake-github --listen 127.0.0.1:PORT [--seed-demo]`: run the fake GitHub for manual use.

use std::net::SocketAddr;
use std::process::ExitCode;

const USAGE: &str = "usage: fake-github [--listen 127.0.0.1:PORT] [--seed-demo]";

#[tokio::main]
async fn main() -> ExitCode {
    let mut listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut seed_demo = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => match args.next().and_then(|v| v.parse().ok()) {
                Some(addr) => listen = addr,
                None => {
                    eprintln!("--listen needs an address like 127.0.0.1:9999\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "--seed-demo" => seed_demo = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let gh = match fake_github::FakeGithub::start_on(listen).await {
        Ok(gh) => gh,
        Err(e) => {
            eprintln!("fake-github: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if seed_demo && let Err(e) = gh.seed_demo() {
        eprintln!("fake-github: seeding failed: {e}");
        return ExitCode::FAILURE;
    }
    println!("fake-github listening on {}", gh.base_url());
    if seed_demo {
        println!(
            "seeded: user demo, token ghp_demo_token, repos demo-org/paca-demo, demo/playground"
        );
    }
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
