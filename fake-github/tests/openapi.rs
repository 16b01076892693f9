//! `/__github/openapi.json`: the control API's document is served, parses as OpenAPI, and
//! describes exactly the control routes the router serves (a new route without a
//! `#[utoipa::path]`, or a documented route that is gone, fails here).

use std::collections::BTreeSet;

use fake_github::FakeGithub;
use serde_json::Value;

/// `(method, path)` of every operation in an OpenAPI document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("`paths` is an object");
    let mut ops = BTreeSet::new();
    for (path, item) in paths {
        for method in item.as_object().expect("a path item is an object").keys() {
            if ["get", "put", "post", "delete", "patch", "head", "options"]
                .contains(&method.as_str())
            {
                ops.insert((method.clone(), path.clone()));
            }
        }
    }
    ops
}

/// axum's `{*rest}` wildcard is an ordinary `{rest}` parameter in OpenAPI.
fn openapi_path(axum_path: &str) -> String {
    axum_path.replace("{*", "{")
}

#[tokio::test]
async fn the_document_lists_every_served_control_route() {
    let gh = FakeGithub::start().await.unwrap();
    let resp = reqwest::get(format!("{}/__github/openapi.json", gh.base_url()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let doc: Value = resp.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "not an OpenAPI 3 document: {doc}"
    );
    assert_eq!(doc["info"]["title"], "fake-github control API");

    let served: BTreeSet<(String, String)> = fake_github::control_http::served_routes()
        .into_iter()
        .map(|(m, p)| (m.to_string(), openapi_path(p)))
        .collect();
    let documented = documented(&doc);
    let undocumented: Vec<_> = served.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in /__github/openapi.json (add a #[utoipa::path] and list it in \
         ControlApi's paths): {undocumented:?}"
    );
    let stale: Vec<_> = documented.difference(&served).collect();
    assert!(stale.is_empty(), "documented but not served: {stale:?}");
}

#[tokio::test]
async fn every_referenced_schema_is_defined() {
    let gh = FakeGithub::start().await.unwrap();
    let doc: Value = reqwest::get(format!("{}/__github/openapi.json", gh.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = doc.to_string();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &part[..part.find('"').unwrap()];
        assert!(
            schemas.contains_key(name),
            "$ref to undefined schema {name}"
        );
    }
}
