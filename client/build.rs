//! Generates the client from `spec/openapi.yaml` with progenitor into `$OUT_DIR/codegen.rs`.

use std::path::Path;

fn main() {
    let spec_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.yaml");
    println!("cargo:rerun-if-changed={}", spec_path.display());
    let text = std::fs::read_to_string(&spec_path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", spec_path.display()));
    let spec: openapiv3::OpenAPI = serde_norway::from_str(&text)
        .unwrap_or_else(|e| panic!("parsing {} as OpenAPI 3.0: {e}", spec_path.display()));
    let mut generator = progenitor::Generator::default();
    let tokens = generator
        .generate_tokens(&spec)
        .unwrap_or_else(|e| panic!("progenitor cannot generate a client for the spec: {e}"));
    let file: syn::File = syn::parse2(tokens).expect("progenitor output parses as Rust");
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("codegen.rs");
    std::fs::write(&out, prettyplease::unparse(&file))
        .unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
}
