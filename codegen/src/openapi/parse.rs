//! OpenAPI 3.0 text → [`Api`], with the validation gate: anything the emitters cannot express
//! faithfully is an error naming where it is, never a silent best effort. All problems are
//! collected so one run reports every one of them.

use super::ir::*;
use heck::ToSnakeCase;
use openapiv3::{
    AdditionalProperties, IntegerFormat, OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr,
    Response, Schema, SchemaKind as OaKind, StatusCode, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};
use serde_json::Value;
use std::collections::BTreeSet;

/// Every problem found in a spec, each prefixed with where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecErrors(pub Vec<String>);

impl std::fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "spec/openapi.yaml is not supported by the generator ({} problem(s)):",
            self.0.len()
        )?;
        for e in &self.0 {
            writeln!(f, "  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}

/// Built-in Paca IAM domains an operation may require (`domain:verb`); the plugin's own custom
/// permissions are added from `x-paca.customPermissions`.
const BUILTIN_ACTION_DOMAINS: &[&str] = &["projects", "tasks"];
const OPERATION_EXTENSIONS: &[&str] = &["x-paca", "x-mcp"];
const ERROR_ENVELOPE: &str = "ErrorEnvelope";
const ERROR_CODE: &str = "ErrorCode";

pub fn parse(spec_text: &str) -> Result<Api, SpecErrors> {
    let doc: OpenAPI = serde_norway::from_str(spec_text)
        .map_err(|e| SpecErrors(vec![format!("not a valid OpenAPI 3.0 document: {e}")]))?;
    let mut p = Parser {
        doc: &doc,
        errors: Vec::new(),
    };
    let api = p.api();
    if p.errors.is_empty() {
        Ok(api)
    } else {
        Err(SpecErrors(p.errors))
    }
}

struct Parser<'a> {
    doc: &'a OpenAPI,
    errors: Vec<String>,
}

impl<'a> Parser<'a> {
    fn err(&mut self, at: &str, msg: impl Into<String>) {
        self.errors.push(format!("{at}: {}", msg.into()));
    }

    fn api(&mut self) -> Api {
        if !self.doc.openapi.starts_with("3.0.") {
            self.err(
                "openapi",
                format!("version {} is not 3.0.x", self.doc.openapi),
            );
        }
        let plugin = match self.doc.extensions.get("x-paca") {
            Some(Value::Object(m)) => m.clone(),
            _ => {
                self.err(
                    "x-paca",
                    "the root must carry the plugin metadata object `x-paca`",
                );
                Default::default()
            }
        };
        let plugin_prefix = match plugin.get("id").and_then(Value::as_str) {
            Some(id) => id.rsplit('.').next().unwrap_or(id).replace('-', "_"),
            None => {
                self.err("x-paca.id", "missing plugin id");
                "plugin".into()
            }
        };
        let mut action_domains: BTreeSet<String> = BUILTIN_ACTION_DOMAINS
            .iter()
            .map(|s| s.to_string())
            .collect();
        for cp in plugin
            .get("customPermissions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match cp.get("key").and_then(Value::as_str) {
                Some(key) if valid_action(key) => {
                    action_domains.insert(key.split(':').next().unwrap_or_default().to_string());
                }
                other => self.err(
                    "x-paca.customPermissions",
                    format!("invalid key {other:?}: expected `<ns>:<verb>`"),
                ),
            }
        }

        let schemas = self.schemas();
        let error_codes = self.error_codes();
        for required in [
            "BAD_REQUEST",
            "FORBIDDEN",
            "ROUTE_NOT_FOUND",
            "INTERNAL_ERROR",
        ] {
            if !error_codes.iter().any(|c| c.name == required) {
                self.err(
                    "components.schemas.ErrorCode",
                    format!("the router needs the code `{required}`"),
                );
            }
        }
        let mut api = Api {
            version: self.doc.info.version.clone(),
            plugin,
            schemas,
            error_codes,
            operations: Vec::new(),
        };
        self.operations(&mut api, &action_domains, &plugin_prefix);
        api
    }

    // ---- schemas ----------------------------------------------------------------------------

    fn schemas(&mut self) -> Vec<NamedSchema> {
        let mut out = Vec::new();
        let Some(components) = &self.doc.components else {
            return out;
        };
        for (name, schema) in &components.schemas {
            let at = format!("components.schemas.{name}");
            if !is_type_name(name) {
                self.err(&at, "schema names must be UpperCamelCase identifiers");
            }
            let ReferenceOr::Item(schema) = schema else {
                self.err(&at, "a top-level schema must not be a $ref alias");
                continue;
            };
            let description = schema.schema_data.description.clone();
            let kind = match &schema.schema_kind {
                OaKind::Type(Type::String(s)) if !s.enumeration.is_empty() => {
                    let mut values = Vec::new();
                    for v in &s.enumeration {
                        match v {
                            Some(v) if is_enum_value(v) => values.push(v.clone()),
                            other => self.err(
                                &at,
                                format!("enum value {other:?} is not a plain identifier"),
                            ),
                        }
                    }
                    SchemaKind::StringEnum(values)
                }
                OaKind::Type(Type::Object(o)) => {
                    if o.properties.is_empty() {
                        self.err(&at, "named object schemas need properties (free-form objects belong inline)");
                    }
                    for r in &o.required {
                        if !o.properties.contains_key(r) {
                            self.err(&at, format!("required property `{r}` is not defined"));
                        }
                    }
                    let mut fields = Vec::new();
                    for (fname, fschema) in &o.properties {
                        let fat = format!("{at}.properties.{fname}");
                        if !is_field_name(fname) {
                            self.err(&fat, "property names must be snake_case identifiers");
                        }
                        if let Some((ty, nullable, constraints, description)) =
                            self.type_ref(&fat, fschema)
                        {
                            fields.push(Field {
                                name: fname.clone(),
                                ty,
                                required: o.required.contains(fname),
                                nullable,
                                description,
                                constraints,
                            });
                        }
                    }
                    SchemaKind::Object(fields)
                }
                _ => {
                    self.err(
                        &at,
                        "only object schemas with properties and string enums are supported",
                    );
                    continue;
                }
            };
            for key in schema.schema_data.extensions.keys() {
                if !(name == ERROR_CODE && key == "x-error-status") {
                    self.err(&at, format!("unsupported extension `{key}`"));
                }
            }
            out.push(NamedSchema {
                name: name.clone(),
                description,
                kind,
            });
        }
        out
    }

    /// The type of a property, parameter or array item.
    fn type_ref(
        &mut self,
        at: &str,
        schema: &ReferenceOr<Box<Schema>>,
    ) -> Option<(TypeRef, bool, Constraints, Option<String>)> {
        match schema {
            ReferenceOr::Reference { reference } => {
                let name = self.schema_ref(at, reference)?;
                Some((TypeRef::Named(name), false, Constraints::default(), None))
            }
            ReferenceOr::Item(s) => self.inline_type(at, s),
        }
    }

    fn inline_type(
        &mut self,
        at: &str,
        s: &Schema,
    ) -> Option<(TypeRef, bool, Constraints, Option<String>)> {
        let data = &s.schema_data;
        let mut c = Constraints::default();
        if !data.extensions.is_empty() {
            self.err(at, "extensions are not supported on inline schemas");
        }
        let ty = match &s.schema_kind {
            OaKind::Type(Type::String(st)) => {
                if st.pattern.is_some() {
                    self.err(
                        at,
                        "`pattern` is not supported (the wasm backend carries no regex engine)",
                    );
                }
                if !st.enumeration.is_empty() {
                    self.err(
                        at,
                        "inline string enums are not supported: declare a named enum schema",
                    );
                }
                c.min_length = st.min_length;
                c.max_length = st.max_length;
                match &st.format {
                    VariantOrUnknownOrEmpty::Empty => TypeRef::String,
                    VariantOrUnknownOrEmpty::Item(StringFormat::DateTime) => TypeRef::DateTime,
                    VariantOrUnknownOrEmpty::Unknown(f) if f == "uuid" => TypeRef::Uuid,
                    other => {
                        self.err(at, format!("string format {other:?} is not supported"));
                        return None;
                    }
                }
            }
            OaKind::Type(Type::Integer(it)) => {
                if it.exclusive_minimum || it.exclusive_maximum || it.multiple_of.is_some() {
                    self.err(at, "exclusive bounds and multipleOf are not supported");
                }
                if !it.enumeration.is_empty() {
                    self.err(at, "integer enums are not supported");
                }
                c.minimum = it.minimum;
                c.maximum = it.maximum;
                match &it.format {
                    VariantOrUnknownOrEmpty::Item(IntegerFormat::Int32) => TypeRef::I32,
                    VariantOrUnknownOrEmpty::Item(IntegerFormat::Int64)
                    | VariantOrUnknownOrEmpty::Empty => TypeRef::I64,
                    other => {
                        self.err(at, format!("integer format {other:?} is not supported"));
                        return None;
                    }
                }
            }
            OaKind::Type(Type::Number(_)) => TypeRef::F64,
            OaKind::Type(Type::Boolean(b)) => {
                match b.enumeration.as_slice() {
                    [] => {}
                    [Some(v)] => c.const_bool = Some(*v),
                    _ => self.err(
                        at,
                        "boolean enums other than a single literal are not supported",
                    ),
                }
                TypeRef::Bool
            }
            OaKind::Type(Type::Array(a)) => {
                let Some(items) = &a.items else {
                    self.err(at, "arrays need `items`");
                    return None;
                };
                let (inner, nullable, _, _) = self.type_ref(&format!("{at}.items"), items)?;
                if nullable {
                    self.err(at, "nullable array items are not supported");
                }
                TypeRef::Array(Box::new(inner))
            }
            OaKind::Type(Type::Object(o)) => {
                if !o.properties.is_empty() {
                    self.err(
                        at,
                        "inline objects with properties are not supported: declare a named schema",
                    );
                    return None;
                }
                match o.additional_properties {
                    Some(AdditionalProperties::Any(true)) => TypeRef::Any,
                    _ => {
                        self.err(
                            at,
                            "inline objects must be free-form (`additionalProperties: true`)",
                        );
                        return None;
                    }
                }
            }
            _ => {
                self.err(at, "oneOf/allOf/anyOf/not are not supported");
                return None;
            }
        };
        Some((ty, data.nullable, c, data.description.clone()))
    }

    fn schema_ref(&mut self, at: &str, reference: &str) -> Option<String> {
        let Some(name) = reference.strip_prefix("#/components/schemas/") else {
            self.err(at, format!("unsupported $ref `{reference}`"));
            return None;
        };
        let known = self
            .doc
            .components
            .as_ref()
            .is_some_and(|c| c.schemas.contains_key(name));
        if !known {
            self.err(at, format!("$ref to unknown schema `{name}`"));
            return None;
        }
        Some(name.to_string())
    }

    fn error_codes(&mut self) -> Vec<ErrorCodeDef> {
        let at = format!("components.schemas.{ERROR_CODE}");
        let schema = self
            .doc
            .components
            .as_ref()
            .and_then(|c| c.schemas.get(ERROR_CODE))
            .and_then(ReferenceOr::as_item);
        let Some(schema) = schema else {
            self.err(&at, "the spec must define the string enum `ErrorCode`");
            return Vec::new();
        };
        let OaKind::Type(Type::String(st)) = &schema.schema_kind else {
            self.err(&at, "must be a string enum");
            return Vec::new();
        };
        let statuses = schema
            .schema_data
            .extensions
            .get("x-error-status")
            .and_then(Value::as_object);
        let Some(statuses) = statuses else {
            self.err(&at, "needs `x-error-status`: the HTTP status of every code");
            return Vec::new();
        };
        let mut out = Vec::new();
        for code in st.enumeration.iter().flatten() {
            match statuses.get(code).and_then(Value::as_u64) {
                Some(s @ 400..=599) => out.push(ErrorCodeDef {
                    name: code.clone(),
                    status: s as u16,
                }),
                _ => self.err(
                    &at,
                    format!("x-error-status has no 4xx/5xx status for `{code}`"),
                ),
            }
        }
        for code in statuses.keys() {
            if !out.iter().any(|c| &c.name == code)
                && !st.enumeration.iter().flatten().any(|c| c == code)
            {
                self.err(
                    &at,
                    format!("x-error-status names `{code}`, which is not in the enum"),
                );
            }
        }
        out
    }

    // ---- operations -------------------------------------------------------------------------

    fn operations(&mut self, api: &mut Api, action_domains: &BTreeSet<String>, tool_prefix: &str) {
        let mut ids = BTreeSet::new();
        let mut tools = BTreeSet::new();
        let mut routes = BTreeSet::new();
        for (path, item) in &self.doc.paths.paths {
            let ReferenceOr::Item(item) = item else {
                self.err(
                    &format!("paths.{path}"),
                    "$ref path items are not supported",
                );
                continue;
            };
            for (m, unsupported) in [
                ("head", &item.head),
                ("options", &item.options),
                ("trace", &item.trace),
            ] {
                if unsupported.is_some() {
                    self.err(
                        &format!("paths.{path}.{m}"),
                        "method not supported by Paca plugin routes",
                    );
                }
            }
            let methods = [
                (Method::Get, &item.get),
                (Method::Post, &item.post),
                (Method::Put, &item.put),
                (Method::Patch, &item.patch),
                (Method::Delete, &item.delete),
            ];
            for (method, op) in methods {
                let Some(op) = op else { continue };
                let at = format!(
                    "paths.{path}.{} ({})",
                    method.as_str().to_lowercase(),
                    op.operation_id.as_deref().unwrap_or("no operationId")
                );
                let Some(parsed) = self.operation(
                    &at,
                    api,
                    path,
                    method,
                    &item.parameters,
                    op,
                    action_domains,
                    tool_prefix,
                ) else {
                    continue;
                };
                if !ids.insert(parsed.id.clone()) {
                    self.err(&at, format!("duplicate operationId `{}`", parsed.id));
                }
                if let Some(mcp) = &parsed.mcp
                    && !tools.insert(mcp.name.clone())
                {
                    self.err(&at, format!("duplicate MCP tool name `{}`", mcp.name));
                }
                let shape: Vec<String> = parsed
                    .segments
                    .iter()
                    .map(|s| match s {
                        Segment::Literal(l) => l.clone(),
                        Segment::Param(_) => "{}".into(),
                    })
                    .collect();
                if !routes.insert((method.as_str(), shape)) {
                    self.err(
                        &at,
                        "another operation already has this method and path shape",
                    );
                }
                api.operations.push(parsed);
            }
        }
        if api.operations.is_empty() {
            self.err("paths", "the spec declares no operations");
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn operation(
        &mut self,
        at: &str,
        api: &Api,
        path: &str,
        method: Method,
        path_level: &[ReferenceOr<Parameter>],
        op: &openapiv3::Operation,
        action_domains: &BTreeSet<String>,
        tool_prefix: &str,
    ) -> Option<Operation> {
        let Some(id) = op.operation_id.clone() else {
            self.err(at, "missing operationId");
            return None;
        };
        if !is_operation_id(&id) {
            self.err(at, "operationId must be a lowerCamelCase identifier");
        }
        for key in op.extensions.keys() {
            if !OPERATION_EXTENSIONS.contains(&key.as_str()) {
                self.err(at, format!("unknown extension `{key}`"));
            }
        }
        let segments = self.segments(at, path);

        // Parameters: operation-level override path-level ones with the same name and location.
        let mut params: Vec<(String, Parameter)> = Vec::new();
        for p in path_level.iter().chain(op.parameters.iter()) {
            let Some(p) = self.resolve_parameter(at, p) else {
                continue;
            };
            let key = (p.parameter_data_ref().name.clone(), location(&p));
            params.retain(|(_, q)| (q.parameter_data_ref().name.clone(), location(q)) != key);
            params.push((key.0, p));
        }
        let mut path_params = Vec::new();
        let mut query_params = Vec::new();
        for (name, p) in &params {
            let pat = format!("{at}: parameter `{name}`");
            match p {
                Parameter::Path { parameter_data, .. } => {
                    if let Some(param) = self.param(&pat, parameter_data) {
                        if !matches!(
                            param.ty,
                            TypeRef::Uuid | TypeRef::String | TypeRef::I32 | TypeRef::I64
                        ) {
                            self.err(&pat, "path parameters must be strings, uuids or integers");
                        }
                        path_params.push(param);
                    }
                }
                Parameter::Query { parameter_data, .. } => {
                    if let Some(param) = self.param(&pat, parameter_data) {
                        if matches!(
                            param.ty,
                            TypeRef::Array(_) | TypeRef::Named(_) | TypeRef::Any
                        ) {
                            self.err(&pat, "query parameters must be scalars");
                        }
                        if !is_field_name(&param.name) {
                            self.err(&pat, "query parameter names must be snake_case");
                        }
                        query_params.push(param);
                    }
                }
                Parameter::Header { .. } => self.err(&pat, "header parameters are not supported"),
                Parameter::Cookie { .. } => self.err(&pat, "cookie parameters are not supported"),
            }
        }
        // Path template and declared path parameters must agree, in template order.
        let template: Vec<&str> = segments
            .iter()
            .filter_map(|s| match s {
                Segment::Param(p) => Some(p.as_str()),
                Segment::Literal(_) => None,
            })
            .collect();
        for t in &template {
            if !path_params.iter().any(|p| p.name == *t) {
                self.err(
                    at,
                    format!("path parameter `{t}` is in the template but not declared"),
                );
            }
        }
        for p in &path_params {
            if !template.contains(&p.name.as_str()) {
                self.err(
                    at,
                    format!(
                        "path parameter `{}` is declared but not in the template",
                        p.name
                    ),
                );
            }
            if !p.required {
                self.err(at, format!("path parameter `{}` must be required", p.name));
            }
        }
        path_params.sort_by_key(|p| template.iter().position(|t| *t == p.name));

        let (access, raw_body) = self.access(at, op, action_domains);
        let body = self.body(at, api, op, raw_body);
        let mcp = self.mcp(at, op, &id, tool_prefix, &body);
        let (successes, errors) = self.responses(at, api, op);

        // Router-level failures every operation can produce must be declared.
        let declares = |code: &str| errors.iter().any(|e| e.codes.iter().any(|c| c == code));
        if !declares("INTERNAL_ERROR") {
            self.err(at, "must declare the 500 INTERNAL_ERROR response");
        }
        if (!path_params.is_empty()
            || !query_params.is_empty()
            || matches!(body, Some(Body::Json { .. })))
            && !declares("BAD_REQUEST")
        {
            self.err(
                at,
                "has parameters or a body, so it must declare the 400 BAD_REQUEST response",
            );
        }
        if let Access::Actions(_) = access {
            if !declares("FORBIDDEN") {
                self.err(
                    at,
                    "is project-scoped, so it must declare the 403 FORBIDDEN response",
                );
            }
            if !path_params
                .iter()
                .any(|p| p.name == "projectId" && p.ty == TypeRef::Uuid)
            {
                self.err(
                    at,
                    "project-scoped operations need a `projectId` uuid path parameter",
                );
            }
        }

        if mcp.is_some() {
            let mut names = BTreeSet::new();
            let body_fields: Vec<String> = match &body {
                Some(Body::Json { schema }) => match api.schema(schema).map(|s| &s.kind) {
                    Some(SchemaKind::Object(fields)) => {
                        fields.iter().map(|f| f.name.clone()).collect()
                    }
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
            // Compared as the MCP arguments they become (`repo_id` → `repoId`).
            let all = path_params
                .iter()
                .map(|p| p.name.clone())
                .chain(query_params.iter().map(|p| super::mcp::arg_name(&p.name)))
                .chain(body_fields.iter().map(|f| super::mcp::arg_name(f)));
            for name in all {
                if !names.insert(name.clone()) {
                    self.err(
                        at,
                        format!(
                            "MCP argument `{name}` appears in more than one of path, query and body"
                        ),
                    );
                }
            }
        }

        Some(Operation {
            id,
            method,
            path: path.to_string(),
            segments,
            summary: op.summary.clone(),
            description: op.description.clone(),
            path_params,
            query_params,
            body,
            access,
            mcp,
            successes,
            errors,
        })
    }

    fn segments(&mut self, at: &str, path: &str) -> Vec<Segment> {
        if !path.starts_with('/') || path.ends_with('/') && path.len() > 1 {
            self.err(at, "paths must start with '/' and not end with one");
        }
        let mut out = Vec::new();
        for seg in path.trim_matches('/').split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                if !is_param_name(name) {
                    self.err(
                        at,
                        format!("path parameter name `{name}` must be a lowerCamelCase identifier"),
                    );
                }
                if out.contains(&Segment::Param(name.to_string())) {
                    self.err(
                        at,
                        format!("path parameter `{name}` appears twice in the template"),
                    );
                }
                out.push(Segment::Param(name.to_string()));
            } else if !seg.is_empty()
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                out.push(Segment::Literal(seg.to_string()));
            } else {
                self.err(
                    at,
                    format!("path segment `{seg}` is neither a literal nor a whole `{{param}}`"),
                );
            }
        }
        out
    }

    fn resolve_parameter(&mut self, at: &str, p: &ReferenceOr<Parameter>) -> Option<Parameter> {
        match p {
            ReferenceOr::Item(p) => Some(p.clone()),
            ReferenceOr::Reference { reference } => {
                let found = reference
                    .strip_prefix("#/components/parameters/")
                    .and_then(|n| self.doc.components.as_ref()?.parameters.get(n))
                    .and_then(ReferenceOr::as_item)
                    .cloned();
                if found.is_none() {
                    self.err(at, format!("unresolvable parameter $ref `{reference}`"));
                }
                found
            }
        }
    }

    fn param(&mut self, at: &str, data: &openapiv3::ParameterData) -> Option<Param> {
        if !data.extensions.is_empty() {
            self.err(at, "extensions on parameters are not supported");
        }
        let ParameterSchemaOrContent::Schema(schema) = &data.format else {
            self.err(at, "parameters must use `schema`, not `content`");
            return None;
        };
        let (ty, default) = match schema {
            ReferenceOr::Item(s) => (self.inline_type(at, s), s.schema_data.default.clone()),
            ReferenceOr::Reference { .. } => {
                self.err(at, "parameter schemas must be inline");
                return None;
            }
        };
        let (ty, nullable, constraints, _) = ty?;
        if nullable {
            self.err(at, "nullable parameters are not supported");
        }
        if let Some(d) = &default {
            let fits = match ty {
                TypeRef::I32 | TypeRef::I64 => d.as_i64().is_some_and(|v| {
                    constraints.minimum.is_none_or(|m| v >= m)
                        && constraints.maximum.is_none_or(|m| v <= m)
                }),
                TypeRef::Bool => d.is_boolean(),
                TypeRef::String => d.is_string(),
                _ => false,
            };
            if !fits {
                self.err(
                    at,
                    format!("default {d} does not fit the parameter's type and bounds"),
                );
            }
        }
        Some(Param {
            name: data.name.clone(),
            ty,
            required: data.required,
            default,
            description: data.description.clone(),
            constraints,
        })
    }

    fn access(
        &mut self,
        at: &str,
        op: &openapiv3::Operation,
        domains: &BTreeSet<String>,
    ) -> (Access, bool) {
        let Some(Value::Object(x)) = op.extensions.get("x-paca") else {
            self.err(
                at,
                "missing `x-paca` (the IAM actions it needs, or `public: true`)",
            );
            return (Access::Actions(Vec::new()), false);
        };
        for key in x.keys() {
            if !matches!(key.as_str(), "actions" | "public" | "rawBody") {
                self.err(at, format!("unknown x-paca key `{key}`"));
            }
        }
        let raw_body = match x.get("rawBody") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(v) => {
                self.err(at, format!("x-paca.rawBody must be a boolean, not {v}"));
                false
            }
        };
        let public = match x.get("public") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(v) => {
                self.err(at, format!("x-paca.public must be a boolean, not {v}"));
                false
            }
        };
        match (public, x.get("actions")) {
            (true, None) => (Access::Public, raw_body),
            (true, Some(_)) => {
                self.err(
                    at,
                    "x-paca: `public: true` and `actions` exclude each other",
                );
                (Access::Public, raw_body)
            }
            (false, Some(Value::Array(list))) if !list.is_empty() => {
                let mut actions = Vec::new();
                for a in list {
                    match a.as_str() {
                        Some(s) if valid_action(s) && domains.contains(s.split(':').next().unwrap_or_default()) => {
                            actions.push(s.to_string())
                        }
                        _ => self.err(at, format!("unknown x-paca action {a}: expected a built-in `tasks:`/`projects:` action or a declared custom permission")),
                    }
                }
                (Access::Actions(actions), raw_body)
            }
            _ => {
                self.err(
                    at,
                    "x-paca needs a non-empty `actions` list or `public: true`",
                );
                (Access::Actions(Vec::new()), raw_body)
            }
        }
    }

    fn body(&mut self, at: &str, api: &Api, op: &openapiv3::Operation, raw: bool) -> Option<Body> {
        let rb = match &op.request_body {
            None => {
                if raw {
                    self.err(at, "x-paca.rawBody is set but there is no requestBody");
                }
                return None;
            }
            Some(ReferenceOr::Item(rb)) => rb,
            Some(ReferenceOr::Reference { .. }) => {
                self.err(at, "requestBody $refs are not supported");
                return None;
            }
        };
        if rb.content.len() != 1 || !rb.content.contains_key("application/json") {
            self.err(
                at,
                "the request body must have exactly one content type: application/json",
            );
        }
        if !rb.required {
            self.err(at, "request bodies must be `required: true`");
        }
        if raw {
            return Some(Body::Raw);
        }
        let schema = rb
            .content
            .get("application/json")
            .and_then(|m| m.schema.as_ref());
        match schema {
            Some(ReferenceOr::Reference { reference }) => {
                let name = self.schema_ref(at, reference)?;
                if !matches!(
                    api.schema(&name).map(|s| &s.kind),
                    Some(SchemaKind::Object(_))
                ) {
                    self.err(
                        at,
                        format!("request body `{name}` must be an object schema"),
                    );
                }
                Some(Body::Json { schema: name })
            }
            _ => {
                self.err(
                    at,
                    "the JSON request body must be a $ref to a named object schema",
                );
                None
            }
        }
    }

    fn mcp(
        &mut self,
        at: &str,
        op: &openapiv3::Operation,
        id: &str,
        prefix: &str,
        body: &Option<Body>,
    ) -> Option<Mcp> {
        let x = op.extensions.get("x-mcp")?;
        let obj = match x {
            Value::Bool(false) => return None,
            Value::Object(o) => o,
            other => {
                self.err(
                    at,
                    format!("x-mcp must be `false` or an object, not {other}"),
                );
                return None;
            }
        };
        for key in obj.keys() {
            if !matches!(key.as_str(), "description" | "name") {
                self.err(at, format!("unknown x-mcp key `{key}`"));
            }
        }
        if matches!(body, Some(Body::Raw)) {
            self.err(at, "raw-body operations cannot be MCP tools");
        }
        let description = match obj.get("description").and_then(Value::as_str) {
            Some(d) if !d.trim().is_empty() => d.trim().to_string(),
            _ => {
                self.err(at, "x-mcp needs a `description` written for an LLM");
                String::new()
            }
        };
        let name = match obj.get("name") {
            None => format!("{prefix}_{}", id.to_snake_case()),
            Some(Value::String(n)) => n.clone(),
            Some(v) => {
                self.err(at, format!("x-mcp.name must be a string, not {v}"));
                return None;
            }
        };
        let valid = name.len() <= 64
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            self.err(
                at,
                format!(
                    "MCP tool name `{name}` must match [a-z][a-z0-9_]* and be at most 64 characters"
                ),
            );
        }
        Some(Mcp { name, description })
    }

    fn responses(
        &mut self,
        at: &str,
        api: &Api,
        op: &openapiv3::Operation,
    ) -> (Vec<Success>, Vec<ErrorResponse>) {
        let mut successes = Vec::new();
        let mut errors = Vec::new();
        if op.responses.default.is_some() {
            self.err(
                at,
                "`default` responses are not supported: list every status",
            );
        }
        for (status, resp) in &op.responses.responses {
            let StatusCode::Code(status) = *status else {
                self.err(
                    at,
                    format!("status range {status} is not supported: list every status"),
                );
                continue;
            };
            let rat = format!("{at}: response {status}");
            let Some(resp) = self.resolve_response(&rat, resp) else {
                continue;
            };
            for key in resp.extensions.keys() {
                if key != "x-error-codes" {
                    self.err(&rat, format!("unknown extension `{key}`"));
                }
            }
            match status {
                200..=299 => {
                    if resp.extensions.contains_key("x-error-codes") {
                        self.err(&rat, "success responses carry no x-error-codes");
                    }
                    let data = self.success_data(&rat, status, &resp);
                    successes.push(Success {
                        status,
                        description: resp.description.clone(),
                        data,
                    });
                }
                400..=599 => {
                    let codes = self.error_response(&rat, api, status, &resp);
                    errors.push(ErrorResponse {
                        status,
                        description: resp.description.clone(),
                        codes,
                    });
                }
                _ => self.err(&rat, "only 2xx, 4xx and 5xx statuses are supported"),
            }
        }
        if successes.is_empty() {
            self.err(at, "declares no 2xx response");
        }
        (successes, errors)
    }

    fn resolve_response(&mut self, at: &str, r: &ReferenceOr<Response>) -> Option<Response> {
        match r {
            ReferenceOr::Item(r) => Some(r.clone()),
            ReferenceOr::Reference { reference } => {
                let found = reference
                    .strip_prefix("#/components/responses/")
                    .and_then(|n| self.doc.components.as_ref()?.responses.get(n))
                    .and_then(ReferenceOr::as_item)
                    .cloned();
                if found.is_none() {
                    self.err(at, format!("unresolvable response $ref `{reference}`"));
                }
                found
            }
        }
    }

    /// A 2xx body must be Paca's success envelope `{success: true, data: T}`; 204 has none.
    fn success_data(&mut self, at: &str, status: u16, resp: &Response) -> Option<TypeRef> {
        if resp.content.is_empty() {
            if status != 204 {
                self.err(at, "only 204 may have an empty body");
            }
            return None;
        }
        if status == 204 {
            self.err(at, "204 must not have a body");
            return None;
        }
        let schema = resp
            .content
            .get("application/json")
            .and_then(|m| m.schema.as_ref());
        let env = match schema {
            Some(ReferenceOr::Item(s)) if resp.content.len() == 1 => s,
            _ => {
                self.err(at, "the body must be an inline application/json envelope `{success: true, data: …}`");
                return None;
            }
        };
        let OaKind::Type(Type::Object(o)) = &env.schema_kind else {
            self.err(at, "the envelope must be an object");
            return None;
        };
        let success_ok = match o.properties.get("success") {
            Some(ReferenceOr::Item(s)) => {
                matches!(&s.schema_kind, OaKind::Type(Type::Boolean(b)) if b.enumeration == [Some(true)])
            }
            _ => false,
        };
        let required_ok =
            o.required.iter().any(|r| r == "success") && o.required.iter().any(|r| r == "data");
        let Some(data) = o
            .properties
            .get("data")
            .filter(|_| success_ok && required_ok && o.properties.len() == 2)
        else {
            self.err(
                at,
                "the envelope must be exactly {success: {enum: [true]}, data}, both required",
            );
            return None;
        };
        let (ty, nullable, _, _) = self.type_ref(&format!("{at}.data"), data)?;
        if nullable {
            self.err(at, "nullable `data` is not supported");
        }
        Some(ty)
    }

    fn error_response(&mut self, at: &str, api: &Api, status: u16, resp: &Response) -> Vec<String> {
        let envelope_ok = resp.content.len() == 1
            && matches!(
                resp.content.get("application/json").and_then(|m| m.schema.as_ref()),
                Some(ReferenceOr::Reference { reference }) if reference == &format!("#/components/schemas/{ERROR_ENVELOPE}")
            );
        if !envelope_ok {
            self.err(at, format!("error bodies must be application/json `$ref: '#/components/schemas/{ERROR_ENVELOPE}'`"));
        }
        let list = resp
            .extensions
            .get("x-error-codes")
            .and_then(Value::as_array);
        let Some(list) = list.filter(|l| !l.is_empty()) else {
            self.err(
                at,
                "error responses must list their stable codes in `x-error-codes`",
            );
            return Vec::new();
        };
        let mut codes = Vec::new();
        for c in list {
            let Some(code) = c.as_str() else {
                self.err(at, format!("x-error-codes entry {c} is not a string"));
                continue;
            };
            match api.error_status(code) {
                None => self.err(
                    at,
                    format!("unknown error code `{code}` (not in ErrorCode)"),
                ),
                Some(s) if s != status => self.err(
                    at,
                    format!("error code `{code}` has status {s}, not {status}"),
                ),
                Some(_) => codes.push(code.to_string()),
            }
        }
        codes
    }
}

fn location(p: &Parameter) -> u8 {
    match p {
        Parameter::Path { .. } => 0,
        Parameter::Query { .. } => 1,
        Parameter::Header { .. } => 2,
        Parameter::Cookie { .. } => 3,
    }
}

fn valid_action(s: &str) -> bool {
    let Some((ns, verb)) = s.split_once(':') else {
        return false;
    };
    let word = |w: &str| {
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    ns.split('.').all(word) && word(verb)
}

fn is_type_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

fn is_operation_id(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

fn is_param_name(s: &str) -> bool {
    is_operation_id(s)
}

fn is_field_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_enum_value(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
