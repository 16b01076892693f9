//! The frontend routes (built remote, dev shell) and Paca's core reads served by devhost.

mod common;
use common::*;
use paca_devhost::frontend::FrontendConfig;
use paca_devhost::{DevHost, DevHostConfig, Identity};
use serde_json::{Value, json};

const PID: &str = "com.paca.github";

struct Env {
    host: DevHost,
    _dir: tempfile::TempDir,
    http: reqwest::Client,
}

async fn start(frontend: bool) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("plugin.wasm");
    std::fs::write(&wasm, guest("", XECHO)).unwrap();
    let mf = dir.path().join("plugin.json");
    std::fs::write(
        &mf,
        json!({"id": PID, "backend": {"routes": []}}).to_string(),
    )
    .unwrap();
    let dist = dir.path().join("dist");
    let shell = dir.path().join("dist-shell");
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::create_dir_all(&shell).unwrap();
    std::fs::write(dist.join("assets/remoteEntry.js"), "export const init = 1;").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "do not serve").unwrap();
    std::fs::write(
        shell.join("index.html"),
        "<!doctype html><title>shell</title>",
    )
    .unwrap();
    let mut cfg = DevHostConfig::new(&wasm, &mf);
    cfg.identities.push(Identity {
        token: "outsider".into(),
        user_id: "00000000-0000-4000-8000-0000000000aa".into(),
        username: "outsider".into(),
        role: "USER".into(),
        actions: vec!["*".into()],
        must_change_password: false,
    });
    if frontend {
        cfg.frontend = FrontendConfig {
            dist: Some(dist),
            shell: Some(shell),
        };
    }
    let host = DevHost::start(cfg).await.unwrap();
    Env {
        host,
        _dir: dir,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

impl Env {
    async fn get(&self, path: &str, auth: Option<(&str, &str)>) -> (u16, String, String) {
        let mut rb = self.http.get(format!("{}{path}", self.host.base_url()));
        if let Some((k, v)) = auth {
            rb = rb.header(k, v);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .or_else(|| r.headers().get("location"))
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, ct, r.text().await.unwrap())
    }
}

#[tokio::test]
async fn serves_the_remote_and_the_shell_and_nothing_outside_them() {
    let e = start(true).await;
    let (s, ct, body) = e
        .get(&format!("/plugins/{PID}/assets/remoteEntry.js"), None)
        .await;
    assert_eq!((s, ct.as_str()), (200, "text/javascript; charset=utf-8"));
    assert_eq!(body, "export const init = 1;");
    let (s, ct, body) = e.get("/__devhost/shell/", None).await;
    assert_eq!((s, ct.as_str()), (200, "text/html; charset=utf-8"));
    assert!(body.contains("<title>shell</title>"));
    let (s, location, _) = e.get("/__devhost/shell?project=p1", None).await;
    assert_eq!(
        (s, location.as_str()),
        (308, "/__devhost/shell/?project=p1")
    );
    for path in [
        format!("/plugins/{PID}/assets/missing.js"),
        format!("/plugins/{PID}/%2e%2e/secret.txt"),
        format!("/plugins/{PID}/assets/%2e%2e/%2e%2e/secret.txt"),
        "/__devhost/shell/%2e%2e/secret.txt".to_owned(),
        "/plugins/other.plugin/assets/remoteEntry.js".to_owned(),
    ] {
        let (s, _, body) = e.get(&path, None).await;
        assert_eq!(s, 404, "{path}");
        assert!(!body.contains("do not serve"), "{path}");
    }
}

#[tokio::test]
async fn without_the_flags_the_routes_say_which_flag_is_missing() {
    let e = start(false).await;
    let (s, _, body) = e
        .get(&format!("/plugins/{PID}/assets/remoteEntry.js"), None)
        .await;
    assert_eq!(s, 404);
    assert!(body.contains("--frontend-dir"), "{body}");
    let (s, _, body) = e.get("/__devhost/shell/", None).await;
    assert_eq!(s, 404);
    assert!(body.contains("--shell-dir"), "{body}");
}

#[tokio::test]
async fn core_reads_in_pacas_shapes_scoped_to_members() {
    let e = start(false).await;
    let seed = e.host.seed();
    let p = seed.project("Demo", "DEMO").await.unwrap();
    seed.dev_members(&p).await.unwrap();
    let t1 = seed.task(&p, "Connect GitHub").await.unwrap();
    let other = seed.project("Other", "OTH").await.unwrap();
    seed.dev_members(&other).await.unwrap();
    let t_other = seed.task(&other, "Elsewhere").await.unwrap();
    let json = |b: &str| serde_json::from_str::<Value>(b).unwrap();
    let cookie = Some(("cookie", "theme=x; access_token=dev-viewer"));

    let (s, _, b) = e.get(&format!("/api/v1/projects/{p}"), cookie).await;
    assert_eq!(s, 200, "{b}");
    let v = json(&b);
    assert_eq!(v["success"], true);
    assert_eq!(
        (
            &v["data"]["id"],
            &v["data"]["name"],
            &v["data"]["task_id_prefix"]
        ),
        (&json!(p), &json!("Demo"), &json!("DEMO"))
    );

    let (s, _, b) = e
        .get(
            &format!("/api/v1/projects/{p}/tasks/{}", t1.id),
            Some(("authorization", "Bearer dev-member")),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let v = json(&b);
    assert_eq!(v["data"]["task_number"], 1);
    assert_eq!(v["data"]["title"], "Connect GitHub");
    assert_eq!(v["data"]["project_id"], json!(p));

    let (s, _, b) = e
        .get(
            &format!("/api/v1/projects/{p}/tasks"),
            Some(("x-api-key", "dev-admin")),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let v = json(&b);
    assert_eq!(v["data"]["total"], 1);
    assert_eq!(v["data"]["items"][0]["id"], json!(t1.id));

    // a task of another project through this project's path is not found
    let (s, _, b) = e
        .get(
            &format!("/api/v1/projects/{p}/tasks/{}", t_other.id),
            cookie,
        )
        .await;
    assert_eq!(s, 404, "{b}");
    assert_eq!(json(&b)["error_code"], "NOT_FOUND");

    // who may read: envelopes like Paca's middlewares answer
    let path = format!("/api/v1/projects/{p}");
    for (auth, status, code) in [
        (None, 401, "UNAUTHORIZED"),
        (
            Some(("authorization", "Bearer nobody")),
            401,
            "UNAUTHORIZED",
        ),
        (
            Some(("authorization", "Bearer dev-stale-password")),
            403,
            "PASSWORD_CHANGE_REQUIRED",
        ),
        (Some(("authorization", "Bearer outsider")), 403, "FORBIDDEN"),
    ] {
        let (s, _, b) = e.get(&path, auth).await;
        assert_eq!(
            (s, json(&b)["error_code"].as_str()),
            (status, Some(code)),
            "{auth:?}"
        );
        assert_eq!(json(&b)["success"], false);
    }
    let (s, _, b) = e
        .get(
            "/api/v1/projects/not-a-uuid",
            Some(("authorization", "Bearer dev-admin")),
        )
        .await;
    assert_eq!(
        (s, json(&b)["error_code"].as_str()),
        (400, Some("BAD_REQUEST"))
    );
}
