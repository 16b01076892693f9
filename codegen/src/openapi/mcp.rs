//! [`Api`] → `mcp/src/generated/tools.json`: one MCP tool per `x-mcp` operation, with a JSON
//! Schema 2020-12 input schema (path, query and body arguments flattened), a mapper from each
//! argument back to where it goes in the HTTP request, the success result's schema and the
//! error codes the operation declares. `mcp/src/` is one generic dispatcher over this file.

use super::ir::*;
use super::manifest::GENERATED_NOTE;
use heck::ToLowerCamelCase;
use serde_json::{Map, Value, json};

pub fn emit(api: &Api) -> String {
    let tools: Vec<Value> = api
        .operations
        .iter()
        .filter_map(|op| tool(api, op))
        .collect();
    let doc = json!({ "//": GENERATED_NOTE, "tools": tools });
    let mut text = serde_json::to_string_pretty(&doc).expect("tools.json is plain JSON");
    text.push('\n');
    text
}

fn tool(api: &Api, op: &Operation) -> Option<Value> {
    let mcp = op.mcp.as_ref()?;
    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut args = Map::new();
    let mut defs = Map::new();
    for p in &op.path_params {
        properties.insert(p.name.clone(), param_schema(api, p, &mut defs));
        required.push(Value::String(p.name.clone()));
        args.insert(p.name.clone(), json!({ "in": "path", "name": p.name }));
    }
    for p in &op.query_params {
        let arg = arg_name(&p.name);
        properties.insert(arg.clone(), param_schema(api, p, &mut defs));
        if p.required {
            required.push(Value::String(arg.clone()));
        }
        args.insert(arg, json!({ "in": "query", "name": p.name }));
    }
    if let Some(Body::Json { schema }) = &op.body
        && let Some(SchemaKind::Object(fields)) = api.schema(schema).map(|s| &s.kind)
    {
        for f in fields {
            let mut s = type_schema(api, &f.ty, f.nullable, &f.constraints, &mut defs);
            describe(&mut s, f.description.as_deref());
            let arg = arg_name(&f.name);
            properties.insert(arg.clone(), s);
            if f.required {
                required.push(Value::String(arg.clone()));
            }
            args.insert(arg, json!({ "in": "body", "name": f.name }));
        }
    }
    let mut input = Map::new();
    input.insert("type".into(), json!("object"));
    input.insert("properties".into(), Value::Object(properties));
    input.insert("required".into(), Value::Array(required));
    input.insert("additionalProperties".into(), json!(false));
    if !defs.is_empty() {
        input.insert("$defs".into(), Value::Object(defs));
    }
    let read_only = op.method == Method::Get;
    let mut errors: Vec<&str> = Vec::new();
    for code in op.errors.iter().flat_map(|e| &e.codes) {
        if !errors.contains(&code.as_str()) {
            errors.push(code);
        }
    }
    Some(json!({
        "name": mcp.name,
        "summary": op.summary.as_deref().unwrap_or(&mcp.name),
        "description": mcp.description,
        "inputSchema": input,
        "annotations": {
            "readOnlyHint": read_only,
            "destructiveHint": op.method == Method::Delete,
        },
        "http": {
            "method": op.method.as_str(),
            // Relative to /api/v1/plugins/<id>/, the form Paca's plugin API clients take.
            "path": op.path.trim_start_matches('/'),
            "args": args,
        },
        "result": result(op),
        "errors": errors,
    }))
}

/// The MCP argument for a query parameter or body field: Paca's MCP tools name ids in
/// camelCase (`projectId`, `taskId`, `repoId`; its single-project guard reads `projectId`), other
/// arguments keep the API's snake_case (`pr_number`, `head_branch`). So `repo_id` → `repoId`.
pub fn arg_name(field: &str) -> String {
    match field.strip_suffix("_id") {
        Some(stem) if !stem.is_empty() => {
            format!("{}Id", stem.to_lower_camel_case())
        }
        _ => field.to_string(),
    }
}

/// The first success response: its status and the `data` schema the presenter formats.
fn result(op: &Operation) -> Value {
    let Some(s) = op.successes.iter().min_by_key(|s| s.status) else {
        return Value::Null;
    };
    let (schema, list) = match &s.data {
        None => (None, false),
        Some(TypeRef::Named(n)) => (Some(n.as_str()), false),
        Some(TypeRef::Array(inner)) => match inner.as_ref() {
            TypeRef::Named(n) => (Some(n.as_str()), true),
            _ => (None, true),
        },
        Some(_) => (None, false),
    };
    json!({ "status": s.status, "schema": schema, "list": list })
}

fn param_schema(api: &Api, p: &Param, defs: &mut Map<String, Value>) -> Value {
    let mut s = type_schema(api, &p.ty, false, &p.constraints, defs);
    if let (Some(d), Value::Object(m)) = (&p.default, &mut s) {
        m.insert("default".into(), d.clone());
    }
    describe(&mut s, p.description.as_deref());
    s
}

fn describe(s: &mut Value, description: Option<&str>) {
    if let (Some(d), Value::Object(m)) = (description, s) {
        m.insert("description".into(), Value::String(d.trim().to_string()));
    }
}

fn type_schema(
    api: &Api,
    ty: &TypeRef,
    nullable: bool,
    c: &Constraints,
    defs: &mut Map<String, Value>,
) -> Value {
    let mut m = Map::new();
    let base = match ty {
        TypeRef::String => "string",
        TypeRef::Uuid => {
            m.insert("format".into(), json!("uuid"));
            "string"
        }
        TypeRef::DateTime => {
            m.insert("format".into(), json!("date-time"));
            "string"
        }
        TypeRef::I32 | TypeRef::I64 => "integer",
        TypeRef::F64 => "number",
        TypeRef::Bool => "boolean",
        TypeRef::Any => "object",
        TypeRef::Array(inner) => {
            m.insert(
                "items".into(),
                type_schema(api, inner, false, &Constraints::default(), defs),
            );
            "array"
        }
        TypeRef::Named(name) => {
            named_def(api, name, defs);
            let reference = json!({ "$ref": format!("#/$defs/{name}") });
            return if nullable {
                json!({ "anyOf": [reference, { "type": "null" }] })
            } else {
                reference
            };
        }
    };
    m.insert(
        "type".into(),
        if nullable {
            json!([base, "null"])
        } else {
            json!(base)
        },
    );
    if let Some(v) = c.min_length {
        m.insert("minLength".into(), json!(v));
    }
    if let Some(v) = c.max_length {
        m.insert("maxLength".into(), json!(v));
    }
    if let Some(v) = c.minimum {
        m.insert("minimum".into(), json!(v));
    }
    if let Some(v) = c.maximum {
        m.insert("maximum".into(), json!(v));
    }
    if let Some(v) = c.const_bool {
        m.insert("const".into(), json!(v));
    }
    Value::Object(m)
}

fn named_def(api: &Api, name: &str, defs: &mut Map<String, Value>) {
    if defs.contains_key(name) {
        return;
    }
    let Some(schema) = api.schema(name) else {
        return;
    };
    defs.insert(name.to_string(), Value::Null); // reserve: stops recursion on cycles
    let def = match &schema.kind {
        SchemaKind::StringEnum(values) => json!({ "type": "string", "enum": values }),
        SchemaKind::Object(fields) => {
            let mut props = Map::new();
            let mut required = Vec::new();
            for f in fields {
                let mut s = type_schema(api, &f.ty, f.nullable, &f.constraints, defs);
                describe(&mut s, f.description.as_deref());
                props.insert(f.name.clone(), s);
                if f.required {
                    required.push(json!(f.name));
                }
            }
            json!({ "type": "object", "properties": props, "required": required })
        }
    };
    defs.insert(name.to_string(), def);
}
