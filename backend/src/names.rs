//! Validation of repository names, tags and project names, per the OCI distribution spec.
//!
//! A repository name is `<project>/<path>`: its first component names the project (tenant) that
//! owns it. The grammar is checked by hand rather than by a regular expression because it runs on
//! every request.

/// The longest repository name accepted. Clients stop at 255 characters for `host/name`, so a
/// longer name could be pushed by no client and is refused at the first request.
pub const MAX_NAME_LEN: usize = 255;

/// Checks one path component: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn is_valid_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if alnum(b) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &component[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// True when `name` is a valid repository name with a project and at least one more component.
pub fn is_valid_repository(name: &str) -> bool {
    name.len() <= MAX_NAME_LEN && name.contains('/') && name.split('/').all(is_valid_component)
}

/// The project part of a repository name (its first component).
pub fn project_of(repository: &str) -> &str {
    repository.split_once('/').map_or(repository, |(p, _)| p)
}

/// True when `tag` matches `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
pub fn is_valid_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    !bytes.is_empty()
        && bytes.len() <= 128
        && word(bytes[0])
        && bytes[1..]
            .iter()
            .all(|&b| word(b) || b == b'.' || b == b'-')
}

/// Project names follow Harbor's rule: 1-255 characters, lower case letters, digits and `._-`,
/// starting and ending with a letter or digit, usable as a repository path component.
pub fn is_valid_project(name: &str) -> bool {
    name.len() <= MAX_NAME_LEN && is_valid_component(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_follow_the_spec() {
        for ok in [
            "proj/app",
            "proj/a__b",
            "proj/a--b",
            "proj/a.b",
            "proj/team/sub/deep/app",
        ] {
            assert!(is_valid_repository(ok), "{ok} must be valid");
        }
        for bad in [
            "app",
            "proj/App",
            "proj/a___b",
            "proj/-a",
            "proj/a/",
            "proj//a",
            "/proj/a",
            "proj/a-",
            "proj/a._b",
            "",
        ] {
            assert!(!is_valid_repository(bad), "{bad} must be invalid");
        }
        assert!(is_valid_repository(&format!("p/{}", "a".repeat(253))));
        assert!(!is_valid_repository(&format!("p/{}", "a".repeat(254))));
    }

    #[test]
    fn tags_follow_the_spec() {
        assert!(is_valid_tag("v1"));
        assert!(is_valid_tag("_x"));
        assert!(is_valid_tag("0.1.0_build.1"));
        assert!(is_valid_tag(&"a".repeat(128)));
        assert!(!is_valid_tag(&"a".repeat(129)));
        assert!(!is_valid_tag(".bad..tag"));
        assert!(!is_valid_tag("0.1.0+build"));
        assert!(!is_valid_tag(""));
    }

    #[test]
    fn project_of_takes_the_first_component() {
        assert_eq!(project_of("proj/team/app"), "proj");
    }
}
