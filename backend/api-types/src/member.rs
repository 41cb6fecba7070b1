//! Project members: users holding a project role.

use serde::{Deserialize, Serialize};

/// A member as `GET /projects/{project}/members` returns it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectMember {
    pub id: i64,
    pub project_id: i64,
    pub entity_name: String,
    /// `u` for a user, `g` for a group.
    pub entity_type: String,
    pub entity_id: i64,
    pub role_id: i32,
    #[serde(default)]
    pub role_name: String,
}

/// The body of `POST /projects/{project}/members`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectMemberReq {
    pub role_id: i32,
    pub member_user: MemberUser,
}

/// Names the user to add, by id or by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberUser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// The body of `PUT /projects/{project}/members/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleReq {
    pub role_id: i32,
}

/// The body of `POST /projects/{project}/members` adding a user group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMemberReq {
    pub role_id: i32,
    pub member_group: MemberGroup,
}

/// Names the group to add, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberGroup {
    pub group_name: String,
}

/// A user group (`GET /usergroups`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserGroup {
    pub id: i64,
    pub group_name: String,
    /// 1 LDAP, 2 HTTP (local), 3 OIDC.
    #[serde(default)]
    pub group_type: i32,
}

/// The body of `POST /usergroups`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUserGroup {
    pub group_name: String,
    pub group_type: i32,
}
