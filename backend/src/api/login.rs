//! Console login and logout (`POST /c/login`, `GET /c/log_out`), as Harbor's portal does them:
//! a form post opens a session held in an HttpOnly cookie, with a CSRF token for mutating calls.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::audit::{self, Entry};
use super::auth_error;
use crate::app::AppState;
use crate::auth::{Principal, session};
use crate::error::{ApiError, ApiErrorCode};

pub fn configure(cfg: &mut web::ServiceConfig) {
    let form = web::FormConfig::default().error_handler(|err, _| {
        let code = match err {
            actix_web::error::UrlencodedError::ContentType => ApiErrorCode::UnsupportedMediaType,
            _ => ApiErrorCode::BadRequest,
        };
        ApiError::new(code, format!("invalid login form: {err}")).into()
    });
    cfg.service(
        web::resource("/c/login")
            .app_data(form)
            .route(web::post().to(login))
            .default_service(web::to(super::unrouted)),
    )
    .service(
        web::resource("/c/log_out")
            .route(web::get().to(log_out))
            .default_service(web::to(super::unrouted)),
    );
}

/// The login form: Harbor's field names.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginForm {
    /// User name (robot accounts cannot open console sessions).
    pub principal: String,
    pub password: String,
}

fn cookie(name: &str, value: String, http_only: bool, max_age: i64) -> Cookie<'static> {
    Cookie::build(name.to_owned(), value)
        .path("/")
        .http_only(http_only)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(max_age))
        .finish()
}

/// Signs a user in with a form post and opens a console session.
///
/// Sets the HttpOnly `sid` cookie and the `__csrf` cookie, whose value must be sent in
/// `X-Harbor-CSRF-Token` on every mutating API call made with the session.
#[utoipa::path(
    post,
    operation_id = "login_login",
    path = "/c/login",
    tag = "auth",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Signed in; session cookies set"),
        (status = 401, description = "Wrong user name or password", body = crate::api::docs::Errors),
        (status = 415, description = "The body is not `application/x-www-form-urlencoded`", body = crate::api::docs::Errors),
        (status = 429, description = "Account locked after repeated failures", body = crate::api::docs::Errors),
    )
)]
pub async fn login(
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, ApiError> {
    let result = state
        .authenticator
        .authenticate(&state.db, &form.principal, &form.password)
        .await;
    let outcome = match result {
        Ok(Principal::User { id, .. }) => Ok(id),
        Ok(Principal::Robot(_) | Principal::Anonymous) => Err(ApiError::unauthorized(
            "robot accounts cannot sign in to the console",
        )),
        Err(e) => Err(auth_error(e)),
    };
    audit::record_quietly(
        &state.db,
        Entry {
            operator: &form.principal,
            project_id: None,
            operation: "login",
            resource_type: "user",
            resource: &form.principal,
            success: outcome.is_ok(),
        },
    )
    .await;
    let ttl = state.config.auth.session_ttl_seconds;
    let opened = session::open(&state.db, outcome?, ttl).await?;
    let mut response = HttpResponse::Ok();
    session_cookies(&mut response, opened, ttl);
    Ok(response.finish())
}

/// Sets the cookies of a new console session (also used by the OIDC sign-in).
pub(crate) fn session_cookies(
    response: &mut actix_web::HttpResponseBuilder,
    opened: session::NewSession,
    ttl_seconds: u64,
) {
    let max_age = i64::try_from(ttl_seconds).unwrap_or(i64::MAX);
    response
        .cookie(cookie(
            session::SESSION_COOKIE,
            opened.cookie,
            true,
            max_age,
        ))
        .cookie(cookie(
            session::CSRF_COOKIE,
            opened.csrf_token.clone(),
            false,
            max_age,
        ))
        .insert_header((session::CSRF_HEADER, opened.csrf_token));
}

/// What the console does after signing out.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LoggedOut {
    /// The identity provider's end-session URL to send the browser to (RP-initiated logout),
    /// when the session came from a provider that has one; otherwise `null`.
    end_session_url: Option<String>,
}

/// Ends the console session and clears its cookies.
///
/// Always answers 200 and clears the cookies; the session row is deleted when it existed. A
/// session opened through an OpenID Connect provider that supports RP-initiated logout also
/// gets the provider's end-session URL, which the console follows to end the provider session.
#[utoipa::path(
    get,
    operation_id = "login_log_out",
    path = "/c/log_out",
    tag = "auth",
    responses((status = 200, description = "Signed out (also when no session was open)", body = LoggedOut))
)]
pub async fn log_out(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut end_session_url = None;
    if let Some(sid) = req.cookie(session::SESSION_COOKIE) {
        let ttl = state.config.auth.session_ttl_seconds;
        if let Some(live) = session::resume(&state.db, sid.value(), ttl).await? {
            session::close(&state.db, sid.value()).await?;
            if let Some(origin) = &live.oidc {
                end_session_url = provider_logout(&state, &req, origin).await;
            }
            let name = live.principal.name().to_owned();
            let entry = Entry {
                operator: &name,
                project_id: None,
                operation: "logout",
                resource_type: "user",
                resource: &name,
                success: true,
            };
            audit::record_quietly(&state.db, entry).await;
        }
    }
    Ok(HttpResponse::Ok()
        .cookie(cookie(session::SESSION_COOKIE, String::new(), true, 0))
        .cookie(cookie(session::CSRF_COOKIE, String::new(), false, 0))
        .json(LoggedOut { end_session_url }))
}

/// The provider's end-session URL for a session it opened; `None` when it has none or cannot
/// be reached now (Berth's session is ended either way).
async fn provider_logout(
    state: &AppState,
    req: &HttpRequest,
    origin: &session::OidcOrigin,
) -> Option<String> {
    let here = super::oidc::origin(req);
    let redirect_url = state.oidc.redirect_url(Some(&here));
    let provider = match state
        .oidc
        .get(&state.db, &origin.provider, &redirect_url)
        .await
    {
        Ok(found) => found?,
        Err(e) => {
            tracing::warn!(error = %e, "RP-initiated logout skipped");
            return None;
        }
    };
    let home = redirect_url.trim_end_matches("/c/oidc/callback").to_owned() + "/";
    provider
        .logout_url(&home, Some(&origin.id_token))
        .map(|u| u.to_string())
}
