//! Prints every statement of the catalogue: `cargo run -p paca-github-sql --example print_catalogue`.

fn main() {
    for s in paca_github_sql::catalogue() {
        let params: Vec<String> = s
            .params
            .iter()
            .map(|p| format!("{}: {}", p.name, p.ty.cast()))
            .collect();
        println!(
            "-- {} ({:?}; {})\n{}\n",
            s.name,
            s.mode,
            params.join(", "),
            s.sql
        );
    }
}
