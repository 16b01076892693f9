//! Snapshots of `codegen::sql` on fixture migrations: the generated `tables.rs` and
//! `schema.rs` text, the table IR, and the exact error text for every kind of migration the
//! generator refuses.

use std::path::{Path, PathBuf};

use paca_codegen::sql::{generate_schema, generate_tables, parse_migrations};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sql")
}

/// `(file name, text)` of every `.sql` file in `dir`, in name order.
fn read_dir(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn bad(name: &str) -> String {
    let file = format!("{name}.sql");
    let text = std::fs::read_to_string(fixtures().join("bad").join(&file)).unwrap();
    match generate_tables(&[(file, text)]) {
        Ok(_) => panic!("{name}: expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn ok_tables_rs() {
    let text = generate_tables(&read_dir(&fixtures().join("ok"))).unwrap_or_else(|e| panic!("{e}"));
    assert!(!text.contains('\r'));
    insta::assert_snapshot!("ok_tables_rs", text);
}

#[test]
fn ok_schema_rs() {
    let text = generate_schema(&read_dir(&fixtures().join("ok"))).unwrap_or_else(|e| panic!("{e}"));
    assert!(text.starts_with("// @generated"));
    insta::assert_snapshot!("ok_schema_rs", text);
}

#[test]
fn ok_ir() {
    let schema = parse_migrations(&read_dir(&fixtures().join("ok"))).unwrap();
    insta::assert_debug_snapshot!("ok_ir", schema);
}

#[test]
fn output_is_deterministic() {
    let files = read_dir(&fixtures().join("ok"));
    assert_eq!(
        generate_tables(&files).unwrap(),
        generate_tables(&files).unwrap()
    );
}

/// The runtime (decoding, parameters) is the SDK's: the file only brings it into scope.
#[test]
fn empty_input_still_brings_the_sdk_runtime_into_scope() {
    let text = generate_tables(&[]).unwrap();
    assert!(text.contains("pub use paca_plugin_sdk::db::{"), "{text}");
    assert!(!text.contains("impl QueryResult"), "{text}");
    assert!(!text.contains("fn to_host_param"), "{text}");
}

#[test]
fn alter_of_table_from_an_earlier_file() {
    let files = vec![
        (
            "0001_a.sql".to_string(),
            "CREATE TABLE a (id UUID PRIMARY KEY);".to_string(),
        ),
        (
            "0002_b.sql".to_string(),
            "ALTER TABLE a ADD COLUMN note TEXT;".to_string(),
        ),
    ];
    let schema = parse_migrations(&files).unwrap();
    let a = schema.table("a").unwrap();
    assert_eq!(a.created_in, "0001_a.sql");
    assert!(a.column("note").unwrap().nullable);
    // The same ALTER before the CREATE fails: files are applied in the order given.
    let reversed: Vec<_> = files.into_iter().rev().collect();
    let err = parse_migrations(&reversed).unwrap_err();
    assert_eq!(err.file, "0002_b.sql");
    assert_eq!(err.line, 1);
}

macro_rules! error_snapshots {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                insta::assert_snapshot!(concat!("error_", stringify!($name)), bad(stringify!($name)));
            }
        )*

        /// Every file in `fixtures/sql/bad` has a test above.
        #[test]
        fn every_bad_fixture_is_covered() {
            let mut covered = vec![$(concat!(stringify!($name), ".sql")),*];
            covered.sort();
            let found: Vec<String> = read_dir(&fixtures().join("bad")).into_iter().map(|(n, _)| n).collect();
            assert_eq!(found, covered);
        }
    };
}

error_snapshots!(
    add_not_null_without_default,
    alter_unknown_table,
    bad_do_block,
    column_named_table,
    drop_column,
    drop_table,
    duplicate_column,
    duplicate_table,
    forbidden_prefix,
    index_unknown_column,
    insert,
    qualified_name,
    rename_column,
    unknown_type,
    unparseable,
);
