//! The OpenAPI description of the REST API, generated from the handlers' `utoipa` annotations,
//! and the Swagger UI that browses it, both served from the binary itself.

use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

/// Harbor's error envelope.
#[derive(Serialize, ToSchema)]
pub struct Errors {
    pub errors: Vec<ErrorEntry>,
}

/// One error: a stable code (`BAD_REQUEST`, `NOT_FOUND`, ...) and a readable message.
#[derive(Serialize, ToSchema)]
pub struct ErrorEntry {
    pub code: String,
    pub message: String,
}

/// The whole API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Berth API",
        description = "Harbor-compatible management API of Berth."
    ),
    paths(
        super::artifacts::list,
        super::artifacts::get,
        super::artifacts::delete,
        super::artifacts::copy,
        super::artifacts::list_tags,
        super::artifacts::create_tag,
        super::artifacts::delete_tag,
        super::artifacts::accessories,
        super::artifacts::addition,
        super::audit_logs::list,
        super::audit_logs::list_project,
        super::configurations::get,
        super::configurations::update,
        super::labels::list,
        super::labels::create,
        super::labels::get,
        super::labels::update,
        super::labels::delete,
        super::labels::attach,
        super::labels::detach,
        super::login::login,
        super::login::log_out,
        super::members::list,
        super::members::create,
        super::members::get,
        super::members::update,
        super::members::delete,
        super::project_meta::list,
        super::project_meta::add,
        super::project_meta::get,
        super::project_meta::update,
        super::project_meta::delete,
        super::project_meta::summary,
        super::project_meta::deletable,
        super::projects::create,
        super::projects::list,
        super::projects::exists,
        super::projects::get,
        super::projects::update,
        super::projects::delete,
        super::repositories::list_all,
        super::repositories::list,
        super::repositories::get,
        super::repositories::update,
        super::repositories::delete,
        super::robots::create,
        super::robots::list,
        super::robots::get,
        super::robots::update,
        super::robots::refresh,
        super::robots::delete,
        super::search::search,
        super::search::statistics,
        super::search::systeminfo,
        super::system::ping,
        super::system::health,
        super::usergroups::list,
        super::usergroups::search,
        super::usergroups::create,
        super::usergroups::get,
        super::usergroups::update,
        super::usergroups::delete,
        super::usergroups::list_members,
        super::usergroups::add_member,
        super::usergroups::remove_member,
        super::users::create,
        super::users::list,
        super::users::current,
        super::users::permissions,
        super::users::search,
        super::users::get,
        super::users::update,
        super::users::delete,
        super::users::change_password,
        super::users::set_sysadmin,
    ),
    components(schemas(Errors, ErrorEntry))
)]
pub struct ApiDoc;
