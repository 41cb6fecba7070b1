//! The authenticated caller.

/// Who a request acts for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// No credentials were presented.
    Anonymous,
    /// A user account.
    User {
        id: i64,
        username: String,
        sysadmin: bool,
    },
}

impl Principal {
    /// The name recorded in tokens and logs; empty for anonymous callers.
    pub fn name(&self) -> &str {
        match self {
            Self::Anonymous => "",
            Self::User { username, .. } => username,
        }
    }

    pub fn is_sysadmin(&self) -> bool {
        matches!(self, Self::User { sysadmin: true, .. })
    }

    pub fn user_id(&self) -> Option<i64> {
        match self {
            Self::User { id, .. } => Some(*id),
            Self::Anonymous => None,
        }
    }
}
