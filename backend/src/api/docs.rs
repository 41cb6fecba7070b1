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
        super::login::login,
        super::login::log_out,
        super::robots::list,
        super::robots::create,
        super::robots::get,
        super::robots::update,
        super::robots::refresh,
        super::robots::delete,
    ),
    components(schemas(Errors, ErrorEntry))
)]
pub struct ApiDoc;
