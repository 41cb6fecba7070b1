//! User accounts.

use serde::{Deserialize, Serialize};

/// A user as `GET /users` and `GET /users/current` return it; never carries a password.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub user_id: i64,
    pub username: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub realname: String,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub sysadmin_flag: bool,
    #[serde(default)]
    pub creation_time: String,
    #[serde(default)]
    pub update_time: String,
}

/// The body of `POST /users`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCreationReq {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub realname: String,
    #[serde(default)]
    pub comment: String,
}
