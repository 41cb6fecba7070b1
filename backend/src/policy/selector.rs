//! Harbor's `doublestar` selectors: `*` matches within one path component, `**` across
//! components, `?` one character, `{a,b}` either alternative.

use serde::{Deserialize, Serialize};

/// Why a selector is unusable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SelectorError {
    #[error("selector kind {0:?} is not supported; use \"doublestar\"")]
    Kind(String),
    #[error("selector decoration {0:?} is not supported here")]
    Decoration(String),
    #[error("selector pattern must not be empty")]
    EmptyPattern,
    #[error("selector pattern {0:?} has an unclosed '{{'")]
    UnclosedBrace(String),
    #[error("selector extras must be a JSON object like {{\"untagged\":true}}")]
    Extras,
}

/// One selector as Harbor writes it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct Selector {
    #[serde(default = "doublestar")]
    pub kind: String,
    /// `matches`/`excludes` for tags, `repoMatches`/`repoExcludes` for repositories.
    pub decoration: String,
    pub pattern: String,
    /// Harbor sends a JSON string such as `"{\"untagged\":true}"`; an object is accepted too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extras: Option<serde_json::Value>,
}

fn doublestar() -> String {
    "doublestar".into()
}

/// `scope_selectors` of a rule: only repositories are selectable.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct ScopeSelectors {
    #[serde(default)]
    pub repository: Vec<Selector>,
}

impl Selector {
    /// Checks kind, decoration (one of `allowed`), pattern and extras.
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self, allowed: &[&str]) -> Result<(), SelectorError> {
        if self.kind != "doublestar" {
            return Err(SelectorError::Kind(self.kind.clone()));
        }
        if !allowed.contains(&self.decoration.as_str()) {
            return Err(SelectorError::Decoration(self.decoration.clone()));
        }
        if self.pattern.is_empty() {
            return Err(SelectorError::EmptyPattern);
        }
        expand_braces(&self.pattern)?;
        self.untagged()?;
        Ok(())
    }

    /// Whether the selector's extras ask to include untagged artifacts.
    ///
    /// # Errors
    /// Extras that are neither an object nor a string holding one.
    pub fn untagged(&self) -> Result<bool, SelectorError> {
        let object = match &self.extras {
            None => return Ok(false),
            Some(serde_json::Value::String(s)) if s.trim().is_empty() => return Ok(false),
            Some(serde_json::Value::String(s)) => {
                serde_json::from_str::<serde_json::Value>(s).map_err(|_| SelectorError::Extras)?
            }
            Some(value) => value.clone(),
        };
        let map = object.as_object().ok_or(SelectorError::Extras)?;
        Ok(map
            .get("untagged")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false))
    }

    /// Whether `name` passes this selector (a "matches" selector that matches, or an
    /// "excludes" selector that does not).
    pub fn accepts(&self, name: &str) -> bool {
        let hit = matches(&self.pattern, name);
        match self.decoration.as_str() {
            "excludes" | "repoExcludes" => !hit,
            _ => hit,
        }
    }
}

/// Whether `name` passes every selector (an empty list accepts everything).
pub fn accepts_all(selectors: &[Selector], name: &str) -> bool {
    selectors.iter().all(|s| s.accepts(name))
}

/// Whether `name` matches the doublestar `pattern`. An invalid pattern matches nothing.
pub fn matches(pattern: &str, name: &str) -> bool {
    let Ok(alternatives) = expand_braces(pattern) else {
        return false;
    };
    alternatives
        .iter()
        .any(|p| glob(p.as_bytes(), name.as_bytes()))
}

/// Expands `{a,b}` groups (nesting allowed) into plain patterns.
fn expand_braces(pattern: &str) -> Result<Vec<String>, SelectorError> {
    let Some(open) = pattern.find('{') else {
        return Ok(vec![pattern.to_owned()]);
    };
    let mut depth = 0;
    let mut close = None;
    let mut splits = Vec::new();
    for (i, c) in pattern[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            ',' if depth == 1 => splits.push(open + i),
            _ => {}
        }
    }
    let close = close.ok_or_else(|| SelectorError::UnclosedBrace(pattern.to_owned()))?;
    let (prefix, suffix) = (&pattern[..open], &pattern[close + 1..]);
    let mut bounds = vec![open];
    bounds.extend(splits);
    bounds.push(close);
    let mut out = Vec::new();
    for pair in bounds.windows(2) {
        let choice = &pattern[pair[0] + 1..pair[1]];
        out.extend(expand_braces(&format!("{prefix}{choice}{suffix}"))?);
    }
    Ok(out)
}

fn glob(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) if rest.first() == Some(&b'*') => {
            let mut rest = &rest[1..];
            // `**/` also matches zero components.
            if rest.first() == Some(&b'/') && glob(&rest[1..], name) {
                return true;
            }
            while rest.first() == Some(&b'*') {
                rest = &rest[1..];
            }
            (0..=name.len()).any(|i| glob(rest, &name[i..]))
        }
        Some((b'*', rest)) => {
            for i in 0..=name.len() {
                if glob(rest, &name[i..]) {
                    return true;
                }
                if name.get(i) == Some(&b'/') {
                    break;
                }
            }
            false
        }
        Some((b'?', rest)) => match name.split_first() {
            Some((c, tail)) if *c != b'/' => glob(rest, tail),
            _ => false,
        },
        Some((p, rest)) => match name.split_first() {
            Some((c, tail)) if c == p => glob(rest, tail),
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doublestar_semantics() {
        assert!(matches("**", "a/b/c"));
        assert!(matches("*", "nginx"));
        assert!(!matches("*", "team/nginx"));
        assert!(matches("team/**", "team/a/b"));
        assert!(matches("**/nginx", "nginx"));
        assert!(matches("**/nginx", "x/y/nginx"));
        assert!(matches("v*", "v1.2.3"));
        assert!(!matches("v*", "latest"));
        assert!(matches("v?.0", "v1.0"));
        assert!(matches("{release,stable}-*", "stable-2"));
        assert!(!matches("{release,stable}-*", "dev-2"));
        assert!(matches("{a,{b,c}}x", "cx"));
        assert!(!matches("{a", "a"));
    }

    #[test]
    fn decorations_and_extras() {
        let excludes = Selector {
            kind: "doublestar".into(),
            decoration: "excludes".into(),
            pattern: "dev-*".into(),
            extras: Some(serde_json::Value::String("{\"untagged\":true}".into())),
        };
        assert!(excludes.accepts("v1"));
        assert!(!excludes.accepts("dev-1"));
        assert_eq!(excludes.untagged(), Ok(true));
        assert_eq!(
            excludes.validate(&["repoMatches"]),
            Err(SelectorError::Decoration("excludes".into()))
        );
        assert_eq!(excludes.validate(&["matches", "excludes"]), Ok(()));
    }
}
