//! Codegen rejects identifiers the host's SQL guard would refuse at run time; the devhost ports
//! that guard. Both lists restate the same host rule, so they must not drift apart.

#[test]
fn forbidden_prefixes_match_the_devhost_guard() {
    let ours: Vec<&str> = paca_codegen::sql::FORBIDDEN_PREFIXES.to_vec();
    let guard: Vec<&str> = paca_devhost::guard::FORBIDDEN_PREFIXES.to_vec();
    assert_eq!(
        ours, guard,
        "update codegen::sql::FORBIDDEN_PREFIXES and devhost's guard together"
    );
}
