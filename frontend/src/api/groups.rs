//! User groups and group memberships of projects.

use berth_api_types::{GroupMemberReq, MemberGroup, NewUserGroup, UserGroup};
use gloo_net::http::Request;

use super::{ApiError, BASE, Page, encode, page, send, send_json};

/// `GET /usergroups?page=&page_size=` (system administrators).
pub async fn list_groups(page_no: u64, page_size: u64) -> Result<Page<UserGroup>, ApiError> {
    let url = format!("{BASE}/usergroups?page={page_no}&page_size={page_size}");
    page(send(Request::get(&url)).await?).await
}

/// `POST /usergroups`: a locally managed (HTTP) group.
pub async fn create_group(name: String) -> Result<(), ApiError> {
    let body = NewUserGroup {
        group_name: name,
        group_type: 2,
    };
    send_json(Request::post(&format!("{BASE}/usergroups")), &body)
        .await
        .map(drop)
}

/// `DELETE /usergroups/{id}`.
pub async fn delete_group(id: i64) -> Result<(), ApiError> {
    send(Request::delete(&format!("{BASE}/usergroups/{id}")))
        .await
        .map(drop)
}

/// `POST /projects/{project}/members` for a group, by name.
pub async fn add_group_member(
    project: &str,
    group_name: String,
    role_id: i32,
) -> Result<(), ApiError> {
    let request = Request::post(&format!("{BASE}/projects/{}/members", encode(project)))
        .header("X-Is-Resource-Name", "true");
    let body = GroupMemberReq {
        role_id,
        member_group: MemberGroup { group_name },
    };
    send_json(request, &body).await.map(drop)
}
