//! Task keys in branch names (`feat/PROJ-42-add-auth` → task 42 of the project with prefix PROJ).
//!
//! Unlike the reference's project-agnostic regex, the caller passes the project's real
//! `task_id_prefix`, so `utf-8` or `release/v1-2` only link when a project really uses the
//! prefix `UTF` / `V`. A key is `<prefix>-<1..6 digits>`, the prefix compared ASCII
//! case-insensitively, delimited on both sides by the string's ends or a non-alphanumeric
//! character (`/`, `_`, `-`, `.`, …): `feat_PROJ-42` matches, `XPROJ-42` and `PROJ-42a` do not.

/// Longest task number accepted (digits).
pub const MAX_DIGITS: usize = 6;

fn is_delim(c: Option<char>) -> bool {
    c.is_none_or(|c| !c.is_alphanumeric())
}

/// Task numbers referenced in `branch` with the given prefix: deduplicated, in order of first
/// appearance, all > 0. An empty (or blank) prefix matches nothing.
pub fn task_numbers_in(branch: &str, prefix: &str) -> Vec<i64> {
    let prefix = prefix.trim();
    let mut out = Vec::new();
    if prefix.is_empty() {
        return out;
    }
    for (i, _) in branch.char_indices() {
        let before = branch[..i].chars().next_back();
        if !is_delim(before) {
            continue;
        }
        let Some(candidate) = branch.get(i..i + prefix.len()) else {
            continue;
        };
        if !candidate.eq_ignore_ascii_case(prefix) {
            continue;
        }
        let Some(rest) = branch[i + prefix.len()..].strip_prefix('-') else {
            continue;
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > MAX_DIGITS || !is_delim(rest[digits..].chars().next()) {
            continue;
        }
        // ≤ 6 ASCII digits always parse.
        let n: i64 = rest[..digits].parse().unwrap_or(0);
        if n > 0 && !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, &str, &[i64])] = &[
            ("feat/PROJ-42-add-auth", "PROJ", &[42]),
            ("feat/PROJ-42-x", "PROJ", &[42]),
            ("PROJ-1", "PROJ", &[1]),
            ("feat/proj-42", "PROJ", &[42]),
            ("feat/PROJ-42", "proj", &[42]),
            ("feat_PROJ-42", "PROJ", &[42]),
            ("feat.PROJ-42.fix", "PROJ", &[42]),
            ("PROJ-42_PROJ-7/proj-42", "PROJ", &[42, 7]),
            ("PROJ-3-and-PROJ-1", "PROJ", &[3, 1]),
            ("XPROJ-42", "PROJ", &[]),
            ("PROJ-42a", "PROJ", &[]),
            ("PROJ42", "PROJ", &[]),
            ("PROJ-", "PROJ", &[]),
            ("PROJ-0", "PROJ", &[]),
            ("PROJ-000", "PROJ", &[]),
            ("PROJ-007", "PROJ", &[7]),
            ("PROJ-999999", "PROJ", &[999_999]),
            ("PROJ-1234567", "PROJ", &[]),
            ("PROJ-99999999999999999999999", "PROJ", &[]),
            ("release/v1-2", "PROJ", &[]),
            ("release/v1-2", "V1", &[2]),
            ("release/v1-2", "V", &[]),
            ("utf-8", "PROJ", &[]),
            ("utf-8", "UTF", &[8]),
            ("feature/utf-8-fix", "utf", &[8]),
            ("lodash-4.17.21", "LODASH", &[4]),
            ("main", "PROJ", &[]),
            ("feat/PROJ-42", "", &[]),
            ("feat/PROJ-42", "  ", &[]),
            ("", "PROJ", &[]),
            ("éPROJ-1", "PROJ", &[]),
            ("ü/PROJ-5", "PROJ", &[5]),
            ("PROJ-5ü", "PROJ", &[]),
            ("MY-APP-12", "MY-APP", &[12]),
            // '-' delimits, so a prefix that is a suffix of another key still matches.
            ("MY-APP-12", "APP", &[12]),
        ];
        for (branch, prefix, want) in cases {
            assert_eq!(
                task_numbers_in(branch, prefix),
                want.to_vec(),
                "{branch:?} with prefix {prefix:?}"
            );
        }
    }
}
