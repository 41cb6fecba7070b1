//! Harbor's error envelope: `{"errors":[{"code","message"}]}`.

use serde::{Deserialize, Serialize};

/// The body of every failed REST response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub errors: Vec<ErrorItem>,
}

/// One error: a snake_case or upper case code and a sentence for people.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorItem {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl ErrorBody {
    /// All messages joined into one line, for showing to a person.
    pub fn summary(&self) -> String {
        self.errors
            .iter()
            .map(|e| e.message.as_str())
            .filter(|m| !m.is_empty())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_joins_messages_and_skips_empty_ones() {
        let body = ErrorBody {
            errors: vec![
                ErrorItem {
                    code: "NOT_FOUND".into(),
                    message: "project x not found".into(),
                },
                ErrorItem {
                    code: "X".into(),
                    message: String::new(),
                },
                ErrorItem {
                    code: "Y".into(),
                    message: "second".into(),
                },
            ],
        };
        assert_eq!(body.summary(), "project x not found; second");
    }
}
