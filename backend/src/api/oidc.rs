//! The console's OpenID Connect sign-in: the provider list for the sign-in page, the redirect
//! to a provider, the callback that opens the same session cookie as `POST /c/login`, and the
//! user-name choice of a first sign-in.
//!
//! These are browser navigations, so failures answer with a short HTML page saying what went
//! wrong and linking back to the sign-in page: 400 for a sign-in that cannot be finished (state
//! mismatch, expired, refused at the provider), 404 for an unknown provider, 502 when the
//! provider cannot be reached or is misconfigured. Never a 500 for a provider's fault.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::audit::{self, Entry};
use super::login::session_cookies;
use crate::app::AppState;
use crate::auth::oidc::{OidcError, OidcIdentity};
use crate::auth::session::{self, OidcOrigin};
use crate::db::entities::user;
use crate::error::{ApiError, ApiErrorCode};
use crate::oidc::onboard::{self, OnboardError, Policy};
use crate::oidc::{ProviderSummary, SharedProvider, pending};

/// Binds a started sign-in to the browser that started it (against login CSRF).
const STATE_COOKIE: &str = "__oidc_state";
/// Holds the ticket of an identity waiting for a user name.
const TICKET_COOKIE: &str = "__oidc_ticket";

pub fn configure(cfg: &mut web::ServiceConfig) {
    let query = || {
        web::QueryConfig::default().error_handler(|err, _| {
            ApiError::bad_request(format!("invalid query parameters: {err}")).into()
        })
    };
    let form = web::FormConfig::default().error_handler(|err, _| {
        let code = match err {
            actix_web::error::UrlencodedError::ContentType => ApiErrorCode::UnsupportedMediaType,
            _ => ApiErrorCode::BadRequest,
        };
        ApiError::new(code, format!("invalid form: {err}")).into()
    });
    cfg.service(
        web::resource("/c/oidc/providers")
            .route(web::get().to(providers))
            .default_service(web::to(super::unrouted)),
    )
    .service(
        web::resource("/c/oidc/login")
            .app_data(query())
            .route(web::get().to(login))
            .default_service(web::to(super::unrouted)),
    )
    .service(
        web::resource("/c/oidc/callback")
            .app_data(query())
            .route(web::get().to(callback))
            .default_service(web::to(super::unrouted)),
    )
    .service(
        web::resource("/c/oidc/onboard")
            .app_data(form)
            .route(web::get().to(onboard_form))
            .route(web::post().to(onboard))
            .default_service(web::to(super::unrouted)),
    );
}

/// The origin the browser used, for the callback URL when `server.external_url` is unset.
pub(crate) fn origin(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

/// What the browser sees when a sign-in fails.
fn page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
             <body><main><h1>{t}</h1><p id=\"message\">{m}</p>\
             <p><a href=\"/\">Back to the sign-in page</a></p></main></body></html>",
            t = escape(title),
            m = escape(message)
        ))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn failure(err: &OidcError) -> HttpResponse {
    let status = match err {
        OidcError::StateMismatch => StatusCode::BAD_REQUEST,
        OidcError::Unavailable { .. }
        | OidcError::Misconfigured { .. }
        | OidcError::Refused { .. }
        | OidcError::InvalidIdToken { .. }
        | OidcError::MissingClaim { .. } => StatusCode::BAD_GATEWAY,
    };
    tracing::warn!(error = %err, "OIDC sign-in failed");
    page(status, "Sign-in failed", &err.to_string())
}

fn unavailable(detail: &dyn std::fmt::Display) -> HttpResponse {
    tracing::error!(error = %detail, "OIDC sign-in: database failure");
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in failed",
        "Berth cannot reach its database; try again shortly.",
    )
}

/// A console path to return to: only local absolute paths, never another origin.
fn local_path(redirect: Option<&str>) -> String {
    match redirect {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn short_cookie(name: &str, value: String, max_age: i64) -> Cookie<'static> {
    Cookie::build(name.to_owned(), value)
        .path("/c/oidc")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(max_age))
        .finish()
}

/// Lists the OpenID Connect providers for the sign-in page.
///
/// No authentication: the sign-in page shows one button per provider.
#[utoipa::path(
    get,
    operation_id = "oidc_providers",
    path = "/c/oidc/providers",
    tag = "auth",
    responses(
        (status = 200, description = "Name and button label of each provider", body = [ProviderSummary]),
        (status = 503, description = "The database cannot be reached", body = super::docs::Errors),
    )
)]
pub async fn providers(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.oidc.summaries(&state.db).await?))
}

/// Where a sign-in should go.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct LoginQuery {
    /// The provider's name (from `/c/oidc/providers`).
    provider: String,
    /// A console path to return to after signing in (default `/`).
    redirect: Option<String>,
}

/// Starts a sign-in: redirects the browser to the provider.
///
/// The sign-in's state, nonce and PKCE verifier are kept in the database, so any replica can
/// finish it; the state is also set in a short-lived cookie that the callback checks.
#[utoipa::path(
    get,
    operation_id = "oidc_login",
    path = "/c/oidc/login",
    tag = "auth",
    params(LoginQuery),
    responses(
        (status = 302, description = "To the provider's authorization endpoint"),
        (status = 404, description = "No such provider (HTML page)"),
        (status = 502, description = "The provider cannot be reached or is misconfigured (HTML page)"),
    )
)]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
) -> HttpResponse {
    let redirect_url = state.oidc.redirect_url(Some(&origin(&req)));
    let provider = match state
        .oidc
        .get(&state.db, &query.provider, &redirect_url)
        .await
    {
        Ok(Some(provider)) => provider,
        Ok(None) => {
            return page(
                StatusCode::NOT_FOUND,
                "Sign-in failed",
                &format!("There is no identity provider named {:?}.", query.provider),
            );
        }
        Err(e) => return failure(&e),
    };
    let (url, started) = provider.start_login();
    let back = local_path(query.redirect.as_deref());
    if let Err(e) = pending::save(&state.db, &started, &back).await {
        return unavailable(&e);
    }
    HttpResponse::Found()
        .insert_header(("Location", url.to_string()))
        .insert_header(("Cache-Control", "no-store"))
        .cookie(short_cookie(STATE_COOKIE, started.state, 900))
        .finish()
}

/// The provider's redirect back to Berth.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    /// Set by the provider when it refused the sign-in.
    error: Option<String>,
    error_description: Option<String>,
}

/// Finishes a sign-in: checks the state, exchanges the code, verifies the ID token, creates or
/// updates the user and their OIDC groups, opens a console session and redirects into the
/// console.
///
/// A first sign-in whose user name must be chosen (auto-onboarding off, or the name taken)
/// redirects to `/c/oidc/onboard` instead.
#[utoipa::path(
    get,
    operation_id = "oidc_callback",
    path = "/c/oidc/callback",
    tag = "auth",
    params(CallbackQuery),
    responses(
        (status = 302, description = "Signed in: session cookies set, to the console path the sign-in started with"),
        (status = 400, description = "State mismatch, an expired sign-in, or the provider refused (HTML page)"),
        (status = 502, description = "The provider cannot be reached, refused the client, or sent an invalid ID token (HTML page)"),
    )
)]
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<CallbackQuery>,
) -> HttpResponse {
    if let Some(error) = &query.error {
        let detail = query.error_description.as_deref().unwrap_or(error);
        return page(
            StatusCode::BAD_REQUEST,
            "Sign-in refused",
            &format!("The identity provider refused the sign-in: {detail}"),
        );
    }
    let (Some(state_value), Some(code)) = (&query.state, &query.code) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Sign-in failed",
            "The identity provider's answer has no state or code.",
        );
    };
    let bound = req
        .cookie(STATE_COOKIE)
        .is_some_and(|c| session::tokens_match(c.value(), state_value));
    let started = match pending::take(&state.db, state_value).await {
        Ok(found) => found,
        Err(e) => return unavailable(&e),
    };
    let Some((started, back)) = started.filter(|_| bound) else {
        return failure(&OidcError::StateMismatch);
    };
    let redirect_url = state.oidc.redirect_url(Some(&origin(&req)));
    let provider = match state
        .oidc
        .get(&state.db, &started.provider, &redirect_url)
        .await
    {
        Ok(Some(provider)) => provider,
        Ok(None) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Sign-in failed",
                "The identity provider of this sign-in was removed.",
            );
        }
        Err(e) => return failure(&e),
    };
    let identity = match provider.finish_login(&started, state_value, code).await {
        Ok(identity) => identity,
        Err(e) => return failure(&e),
    };
    let signed_in = onboard::sign_in(&state.db, &identity, policy(&provider)).await;
    let response = match signed_in {
        Ok(Some(found)) => open_session(&state, found, &identity, &back).await,
        Ok(None) => match pending::park_identity(&state.db, &identity, &back).await {
            Ok(ticket) => HttpResponse::Found()
                .insert_header(("Location", "/c/oidc/onboard"))
                .cookie(short_cookie(TICKET_COOKIE, ticket, 900))
                .finish(),
            Err(e) => unavailable(&e),
        },
        Err(e) => unavailable(&e),
    };
    with_cleared(response, STATE_COOKIE)
}

fn policy(provider: &SharedProvider) -> Policy {
    Policy {
        auto_onboard: provider.auto_onboard(),
        manages_admin: provider.config().admin_group.is_some(),
    }
}

fn with_cleared(mut response: HttpResponse, name: &str) -> HttpResponse {
    let _ = response.add_cookie(&short_cookie(name, String::new(), 0));
    response
}

async fn open_session(
    state: &AppState,
    found: user::Model,
    identity: &OidcIdentity,
    back: &str,
) -> HttpResponse {
    let entry = Entry {
        operator: &found.username,
        project_id: None,
        operation: "login",
        resource_type: "user",
        resource: &found.username,
        success: true,
    };
    audit::record_quietly(&state.db, entry).await;
    let origin = OidcOrigin {
        provider: identity.provider.clone(),
        id_token: identity.id_token.clone(),
    };
    let ttl = state.config.auth.session_ttl_seconds;
    let opened = match session::open_with(&state.db, found.id, ttl, Some(origin)).await {
        Ok(opened) => opened,
        Err(e) => return unavailable(&e),
    };
    let mut response = HttpResponse::Found();
    response
        .insert_header(("Location", back.to_owned()))
        .insert_header(("Cache-Control", "no-store"));
    session_cookies(&mut response, opened, ttl);
    response.finish()
}

/// Shows the form of a first sign-in's user-name choice.
///
/// The waiting identity is named by a short-lived HttpOnly cookie set by the callback.
#[utoipa::path(
    get,
    operation_id = "oidc_onboard_form",
    path = "/c/oidc/onboard",
    tag = "auth",
    responses(
        (status = 200, description = "The user-name form (HTML)"),
        (status = 400, description = "No sign-in is waiting for a user name (HTML page)"),
    )
)]
pub async fn onboard_form(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Some(ticket) = req.cookie(TICKET_COOKIE) else {
        return no_ticket();
    };
    match pending::peek_identity(&state.db, ticket.value()).await {
        Ok(Some(identity)) => name_form(StatusCode::OK, &identity.username, None),
        Ok(None) => no_ticket(),
        Err(e) => unavailable(&e),
    }
}

fn no_ticket() -> HttpResponse {
    page(
        StatusCode::BAD_REQUEST,
        "Sign-in expired",
        "No sign-in is waiting for a user name here; sign in again.",
    )
}

fn name_form(status: StatusCode, suggested: &str, error: Option<&str>) -> HttpResponse {
    let error = error
        .map(|e| format!("<p id=\"error\">{}</p>", escape(e)))
        .unwrap_or_default();
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Choose a user name</title>\
             </head><body><main><h1>Choose your Berth user name</h1>{error}\
             <form method=\"post\" action=\"/c/oidc/onboard\">\
             <label>User name <input id=\"username\" name=\"username\" value=\"{}\"></label>\
             <button id=\"submit\" type=\"submit\">Continue</button></form></main></body></html>",
            escape(suggested)
        ))
}

/// The chosen user name.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct OnboardForm {
    username: String,
}

/// Creates the user of a first sign-in under the chosen name.
///
/// Then signs the user in as `/c/oidc/callback` does; a taken or invalid name shows the form
/// again with the reason.
#[utoipa::path(
    post,
    operation_id = "oidc_onboard",
    path = "/c/oidc/onboard",
    tag = "auth",
    request_body(content = OnboardForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 302, description = "Signed in; session cookies set"),
        (status = 400, description = "No sign-in is waiting (HTML page)"),
        (status = 409, description = "The name is taken or invalid: the form again, with the reason (HTML)"),
        (status = 415, description = "The body is not `application/x-www-form-urlencoded`", body = super::docs::Errors),
    )
)]
pub async fn onboard(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<OnboardForm>,
) -> HttpResponse {
    let Some(ticket) = req.cookie(TICKET_COOKIE).map(|c| c.value().to_owned()) else {
        return no_ticket();
    };
    let identity = match pending::peek_identity(&state.db, &ticket).await {
        Ok(Some(identity)) => identity,
        Ok(None) => return no_ticket(),
        Err(e) => return unavailable(&e),
    };
    let manages_admin = match state.oidc.find(&state.db, &identity.provider).await {
        Ok(found) => found.is_some_and(|(c, _)| c.admin_group.is_some()),
        Err(e) => return unavailable(&e),
    };
    let policy = Policy {
        auto_onboard: true,
        manages_admin,
    };
    let username = form.username.trim();
    match onboard::create(&state.db, &identity, username, policy).await {
        Ok(created) => match pending::take_identity(&state.db, &ticket).await {
            Ok(Some((identity, back))) => with_cleared(
                open_session(&state, created, &identity, &back).await,
                TICKET_COOKIE,
            ),
            Ok(None) => no_ticket(),
            Err(e) => unavailable(&e),
        },
        Err(e @ (OnboardError::NameTaken(_) | OnboardError::InvalidName(_))) => {
            name_form(StatusCode::CONFLICT, username, Some(&e.to_string()))
        }
        Err(OnboardError::Database(e)) => unavailable(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path(Some("/projects/1")), "/projects/1");
        assert_eq!(local_path(Some("//evil.test/")), "/");
        assert_eq!(local_path(Some("https://evil.test/")), "/");
        assert_eq!(local_path(Some("/\\evil.test")), "/");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn pages_escape_what_they_show() {
        assert_eq!(
            escape("<a href=\"x\">&"),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
    }
}
