//! The OpenAPI description of the REST API, generated from the handlers' `utoipa` annotations,
//! and the Swagger UI that browses it, both served from the binary itself.

use serde::Serialize;
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

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
        super::gc::list,
        super::gc::get,
        super::gc::stop,
        super::gc::log,
        super::gc::get_schedule,
        super::gc::create_schedule,
        super::gc::update_schedule,
        super::immutable::list,
        super::immutable::create,
        super::immutable::update,
        super::immutable::delete,
        super::jobservice::list_jobs,
        super::jobservice::get_job,
        super::jobservice::act_on_job,
        super::jobservice::job_log,
        super::jobservice::list_queues,
        super::jobservice::act_on_queue,
        super::labels::list,
        super::registries::list,
        super::registries::create,
        super::registries::ping,
        super::registries::get,
        super::registries::update,
        super::registries::delete,
        super::registries::adapters,
        super::labels::create,
        super::labels::get,
        super::labels::update,
        super::labels::delete,
        super::labels::attach,
        super::labels::detach,
        super::login::login,
        super::login::log_out,
        super::oidc::providers,
        super::oidc::login,
        super::oidc::callback,
        super::oidc::onboard_form,
        super::oidc::onboard,
        super::credentials::get_cli_secret,
        super::credentials::set_cli_secret,
        super::credentials::revoke_cli_secret,
        super::credentials::list_tokens,
        super::credentials::create_token,
        super::credentials::revoke_token,
        super::oidc_providers::list,
        super::oidc_providers::get,
        super::oidc_providers::create,
        super::oidc_providers::update,
        super::oidc_providers::delete,
        super::oidc_providers::ping,
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
        super::quotas::list,
        super::quotas::recalculate,
        super::quotas::get,
        super::quotas::update,
        super::repositories::list_all,
        super::repositories::list,
        super::repositories::get,
        super::repositories::update,
        super::repositories::delete,
        super::retentions::metadatas,
        super::retentions::create,
        super::retentions::get,
        super::retentions::update,
        super::retentions::delete,
        super::retentions::execute,
        super::retentions::executions,
        super::retentions::stop,
        super::retentions::tasks,
        super::retentions::task_log,
        super::robots::create,
        super::robots::list,
        super::robots::get,
        super::robots::update,
        super::robots::refresh,
        super::robots::delete,
        super::robots::catalogue,
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
        super::webhooks::list,
        super::webhooks::create,
        super::webhooks::get,
        super::webhooks::update,
        super::webhooks::delete,
        super::webhooks::executions,
        super::webhooks::execution_log,
        super::webhooks::last_trigger,
        super::webhooks::events,
    ),
    components(schemas(
        Errors,
        ErrorEntry,
        super::gc::GcHistory,
        super::gc::ScheduleBody,
        super::jobservice::JobView,
        super::jobservice::ActionBody,
        super::jobservice::QueueView,
        super::quotas::QuotaView,
        super::quotas::QuotaRef,
        super::quotas::Storage,
        super::quotas::UpdateBody,
        super::quotas::Hard,
        super::retentions::ExecuteBody,
        super::retentions::ExecutionView,
        super::retentions::StopBody,
        super::retentions::TaskView,
    )),
    modifiers(&InvalidInput)
)]
pub struct ApiDoc;

/// Documents the `400` every operation with parameters or a body can answer when they do not
/// parse (a path id out of range, a malformed query or JSON), where the handler did not.
struct InvalidInput;

impl Modify for InvalidInput {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let bad_request = ResponseBuilder::new()
            .description("Malformed path, query or body")
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Errors")))
                    .build(),
            )
            .build();
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
            ];
            for operation in operations.into_iter().flatten() {
                let takes_input = operation.parameters.as_ref().is_some_and(|p| !p.is_empty())
                    || operation.request_body.is_some();
                if takes_input {
                    operation
                        .responses
                        .responses
                        .entry("400".into())
                        .or_insert_with(|| bad_request.clone().into());
                }
            }
        }
    }
}

/// The methods the API description lists for a concrete request path.
pub fn methods_of(path: &str) -> Vec<&'static str> {
    use std::sync::OnceLock;
    static ROUTES: OnceLock<Vec<(actix_web::dev::ResourceDef, Vec<&'static str>)>> =
        OnceLock::new();
    let routes = ROUTES.get_or_init(|| {
        let spec = ApiDoc::openapi();
        spec.paths
            .paths
            .iter()
            .map(|(pattern, item)| {
                let mut methods = Vec::new();
                for (name, present) in [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("HEAD", item.head.is_some()),
                ] {
                    if present {
                        methods.push(name);
                    }
                }
                (actix_web::dev::ResourceDef::new(pattern.as_str()), methods)
            })
            .collect()
    });
    let path = path.trim_end_matches('/');
    routes
        .iter()
        .find(|(def, _)| def.is_match(path))
        .map(|(_, methods)| methods.clone())
        .unwrap_or_default()
}
