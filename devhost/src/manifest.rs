//! The `plugin.json` fields the host reads (contract §5.1).

use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Manifest {
    pub id: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub backend: Option<Backend>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Backend {
    #[serde(default)]
    pub routes: Vec<Route>,
    #[serde(default)]
    pub event_subscriptions: Vec<String>,
    #[serde(default)]
    pub allowed_outbound_domains: Vec<String>,
    #[serde(default)]
    pub allowed_config_keys: Vec<String>,
    /// Core (`table.column`) or other plugins' (`owner:table.column`) sensitive fields
    /// this plugin asks to read and write (§4.4).
    #[serde(default)]
    pub requested_sensitive_fields: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Route {
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub public: bool,
    /// `None` = omitted/null → default policy; `Some([])` = none.
    #[serde(default)]
    pub middlewares: Option<Vec<Middleware>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Middleware {
    pub name: String,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub project_param: Option<String>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

impl Manifest {
    pub fn from_json(text: &str) -> anyhow::Result<Manifest> {
        let m: Manifest = serde_json::from_str(text)?;
        anyhow::ensure!(!m.id.is_empty(), "plugin.json: id is required");
        Ok(m)
    }

    pub fn load(path: &Path) -> anyhow::Result<Manifest> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        Self::from_json(&text)
    }

    pub fn backend(&self) -> Backend {
        self.backend.clone().unwrap_or_default()
    }
}

impl Route {
    /// The effective middleware list (default policy `authn` + `requireFreshPassword`).
    pub fn effective_middlewares(&self) -> Vec<Middleware> {
        if self.public {
            return Vec::new();
        }
        match &self.middlewares {
            Some(list) => list.clone(),
            None => ["authn", "requireFreshPassword"]
                .iter()
                .map(|n| Middleware {
                    name: (*n).into(),
                    ..Default::default()
                })
                .collect(),
        }
    }
}
