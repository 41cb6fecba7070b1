//! The authenticated caller.

use std::sync::Arc;

use super::personal::TokenScope;
use super::robot::Robot;

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
        /// Set when the user signed in with a personal access token, which narrows what the
        /// user may do.
        scope: Option<Arc<TokenScope>>,
    },
    /// A robot account, with its permissions.
    Robot(Robot),
}

impl Principal {
    /// The name recorded in tokens and logs; empty for anonymous callers.
    pub fn name(&self) -> &str {
        match self {
            Self::Anonymous => "",
            Self::User { username, .. } => username,
            Self::Robot(robot) => &robot.name,
        }
    }

    /// Whether the caller acts as a system administrator. A personal access token limited to
    /// some projects does not carry its user's administrator rights.
    pub fn is_sysadmin(&self) -> bool {
        match self {
            Self::User {
                sysadmin, scope, ..
            } => *sysadmin && scope.as_ref().is_none_or(|s| s.projects.is_none()),
            Self::Anonymous | Self::Robot(_) => false,
        }
    }

    /// The personal access token's narrowing, when the caller used one.
    pub fn token_scope(&self) -> Option<&TokenScope> {
        match self {
            Self::User { scope, .. } => scope.as_deref(),
            Self::Anonymous | Self::Robot(_) => None,
        }
    }

    /// The user id of a user account (robots and anonymous callers have none).
    pub fn user_id(&self) -> Option<i64> {
        match self {
            Self::User { id, .. } => Some(*id),
            Self::Anonymous | Self::Robot(_) => None,
        }
    }

    pub fn robot(&self) -> Option<&Robot> {
        match self {
            Self::Robot(robot) => Some(robot),
            Self::User { .. } | Self::Anonymous => None,
        }
    }
}
