//! The authenticated caller.

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

    pub fn is_sysadmin(&self) -> bool {
        matches!(self, Self::User { sysadmin: true, .. })
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
