//! The normalised model every OpenAPI emitter reads. `$ref`s are resolved here once; emitters
//! never see raw OpenAPI.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Api {
    pub version: String,
    /// The root `x-paca` block (plugin metadata for plugin.json), verbatim.
    pub plugin: serde_json::Map<String, Value>,
    pub schemas: Vec<NamedSchema>,
    pub error_codes: Vec<ErrorCodeDef>,
    pub operations: Vec<Operation>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ErrorCodeDef {
    pub name: String,
    pub status: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NamedSchema {
    pub name: String,
    pub description: Option<String>,
    pub kind: SchemaKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SchemaKind {
    Object(Vec<Field>),
    StringEnum(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub ty: TypeRef,
    pub required: bool,
    pub nullable: bool,
    pub description: Option<String>,
    pub constraints: Constraints,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeRef {
    String,
    Uuid,
    DateTime,
    I32,
    I64,
    F64,
    Bool,
    /// A free-form JSON object.
    Any,
    Array(Box<TypeRef>),
    Named(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
    /// Literal values allowed (only `enum: [true]`/`[false]` on booleans is supported).
    pub const_bool: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Literal(String),
    Param(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub ty: TypeRef,
    pub required: bool,
    pub default: Option<Value>,
    pub description: Option<String>,
    pub constraints: Constraints,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A JSON body decoded into the named object schema.
    Json { schema: String },
    /// The raw bytes are handed to the handler undecoded (webhook signatures need them).
    Raw,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Success {
    pub status: u16,
    pub description: String,
    /// `None` for an empty response (204).
    pub data: Option<TypeRef>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ErrorResponse {
    pub status: u16,
    pub description: String,
    pub codes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    /// No Paca credentials; the handler authenticates the request itself.
    Public,
    /// `requireActions` with project scope.
    Actions(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mcp {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub id: String,
    pub method: Method,
    /// The spec path, e.g. `/projects/{projectId}/github`.
    pub path: String,
    pub segments: Vec<Segment>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub path_params: Vec<Param>,
    pub query_params: Vec<Param>,
    pub body: Option<Body>,
    pub access: Access,
    pub mcp: Option<Mcp>,
    pub successes: Vec<Success>,
    pub errors: Vec<ErrorResponse>,
}

impl Api {
    pub fn schema(&self, name: &str) -> Option<&NamedSchema> {
        self.schemas.iter().find(|s| s.name == name)
    }

    pub fn error_status(&self, code: &str) -> Option<u16> {
        self.error_codes
            .iter()
            .find(|c| c.name == code)
            .map(|c| c.status)
    }
}
