//! Who may do what on `/v2`: bearer tokens from the token service, or Basic credentials checked
//! directly, both decided by the same RBAC rules.
//!
//! A request without credentials is always challenged, even on a public repository: clients
//! then fetch a (possibly anonymous) token from the realm, as the Docker token flow expects.

use actix_web::HttpRequest;

use crate::app::AppState;
use crate::auth::{AuthError, Claims, Credentials, Principal};
use crate::error::{Challenge, OciError, OciErrorCode};

/// The authenticated caller of a `/v2` request.
pub enum Caller {
    /// A verified registry token; its claims say what it grants.
    Token(Claims),
    /// A user who sent Basic credentials.
    User(Principal),
}

/// The token endpoint clients are sent to: from the configured external URL, or else from the
/// scheme and host the request came through (honouring `Forwarded`/`X-Forwarded-*`).
pub fn realm(state: &AppState, req: &HttpRequest) -> String {
    match &state.config.server.external_url {
        Some(base) => format!("{}/service/token", base.trim_end_matches('/')),
        None => {
            let info = req.connection_info();
            format!("{}://{}/service/token", info.scheme(), info.host())
        }
    }
}

fn challenge(
    state: &AppState,
    req: &HttpRequest,
    scopes: Vec<String>,
    insufficient_scope: bool,
) -> OciError {
    OciError::unauthorized(Challenge {
        realm: realm(state, req),
        service: state.tokens.service().to_owned(),
        scopes,
        insufficient_scope,
    })
}

/// Authenticates the caller without checking any permission (for `/v2/` and the catalog).
///
/// # Errors
/// 401 with a challenge when credentials are absent, malformed or wrong.
pub async fn authenticate(
    state: &AppState,
    req: &HttpRequest,
    scopes: &[String],
) -> Result<Caller, OciError> {
    match Credentials::from_request(req) {
        Ok(Credentials::Bearer(token)) => match state.tokens.verify(&token) {
            Ok(claims) => Ok(Caller::Token(claims)),
            Err(_) => Err(challenge(state, req, scopes.to_vec(), false)),
        },
        Ok(Credentials::Basic { username, password }) => {
            match state
                .authenticator
                .authenticate(&state.db, &username, &password)
                .await
            {
                Ok(principal) => Ok(Caller::User(principal)),
                Err(AuthError::Database(e)) => Err(db_error(&e)),
                Err(AuthError::RobotCorrupt(e)) => Err(OciError::internal(&e)),
                Err(
                    e @ AuthError::Locked {
                        retry_after_seconds,
                    },
                ) => Err(OciError::too_many_requests(
                    e.to_string(),
                    retry_after_seconds,
                )),
                Err(AuthError::BadCredentials | AuthError::Malformed) => {
                    Err(challenge(state, req, scopes.to_vec(), false))
                }
            }
        }
        Ok(Credentials::None) | Err(_) => Err(challenge(state, req, scopes.to_vec(), false)),
    }
}

/// Checks that the caller holds every one of `actions` (`pull`, `push`, `delete`) on
/// repository `name`.
///
/// # Errors
/// 401 with a challenge naming the scope the request needs (with `insufficient_scope` when a
/// token lacks it); 403 `DENIED` when Basic credentials are valid but lack the rights.
pub async fn authorize(
    state: &AppState,
    req: &HttpRequest,
    name: &str,
    actions: &[&str],
) -> Result<Caller, OciError> {
    authorize_with(state, req, name, actions, None).await
}

/// [`authorize`], with one more scope named in the challenge so that the client's token also
/// covers it (the source repository of a cross-repository mount). The extra scope is not
/// required: what the caller lacks there is decided by the handler.
///
/// # Errors
/// As [`authorize`].
pub async fn authorize_with(
    state: &AppState,
    req: &HttpRequest,
    name: &str,
    actions: &[&str],
    extra_scope: Option<String>,
) -> Result<Caller, OciError> {
    let mut scopes = vec![format!("repository:{name}:{}", actions.join(","))];
    scopes.extend(extra_scope);
    let caller = authenticate(state, req, &scopes).await?;
    if holds(state, &caller, name, actions).await? {
        Ok(caller)
    } else {
        match caller {
            Caller::Token(_) => Err(challenge(state, req, scopes, true)),
            Caller::User(_) => Err(OciError::new(
                OciErrorCode::Denied,
                format!(
                    "requested access to {name} ({}) is denied",
                    actions.join(",")
                ),
            )),
        }
    }
}

/// Whether an authenticated caller holds every one of `actions` on repository `name`.
///
/// # Errors
/// Database failures.
pub async fn holds(
    state: &AppState,
    caller: &Caller,
    name: &str,
    actions: &[&str],
) -> Result<bool, OciError> {
    match caller {
        Caller::Token(claims) => Ok(actions.iter().all(|a| claims.allows("repository", name, a))),
        Caller::User(principal) => {
            let granted = state
                .rbac
                .repository_actions(&state.db, principal, name, actions)
                .await
                .map_err(|e| db_error(&e))?;
            Ok(actions.iter().all(|a| granted.contains(a)))
        }
    }
}

/// Whether the caller's identity holds `actions` on repository `name`, whatever its token's
/// scopes say. Used only for the source of a cross-repository mount: clients that already hold a
/// token for the target do not ask again for the source's scope, yet mounting from a repository
/// the user may pull is exactly what the spec intends.
///
/// # Errors
/// Database failures.
pub async fn identity_holds(
    state: &AppState,
    caller: &Caller,
    name: &str,
    actions: &[&str],
) -> Result<bool, OciError> {
    if holds(state, caller, name, actions).await? {
        return Ok(true);
    }
    let Caller::Token(claims) = caller else {
        return Ok(false);
    };
    let principal = principal_of(state, Caller::Token(claims.clone())).await?;
    let granted = state
        .rbac
        .repository_actions(&state.db, &principal, name, actions)
        .await
        .map_err(|e| db_error(&e))?;
    Ok(actions.iter().all(|a| granted.contains(a)))
}

/// The principal behind a caller; for a token, the user named in its subject (anonymous when
/// the subject is empty or the user no longer exists).
///
/// # Errors
/// Database failures.
pub async fn principal_of(state: &AppState, caller: Caller) -> Result<Principal, OciError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    use crate::auth::RobotAccount;
    use crate::db::entities::{robot, user};
    match caller {
        Caller::User(principal) => Ok(principal),
        Caller::Token(claims) if claims.sub.is_empty() => Ok(Principal::Anonymous),
        Caller::Token(claims) if claims.sub.starts_with(crate::auth::robot::ROBOT_PREFIX) => {
            let found = robot::Entity::find()
                .filter(robot::Column::Name.eq(&claims.sub))
                .one(&state.db)
                .await
                .map_err(|e| db_error(&e))?;
            match found {
                Some(row) => {
                    let account = RobotAccount::load(&row)
                        .await
                        .map_err(|e| OciError::internal(&e))?;
                    Ok(Principal::Robot(std::sync::Arc::new(account)))
                }
                None => Ok(Principal::Anonymous),
            }
        }
        Caller::Token(claims) => {
            let found = user::Entity::find()
                .filter(user::Column::Username.eq(&claims.sub))
                .one(&state.db)
                .await
                .map_err(|e| db_error(&e))?;
            Ok(found.map_or(Principal::Anonymous, |u| Principal::User {
                id: u.id,
                username: u.username,
                sysadmin: u.sysadmin,
                scope: None,
            }))
        }
    }
}

pub fn db_error(err: &sea_orm::DbErr) -> OciError {
    if crate::db::is_unavailable(err) {
        OciError::unavailable(err)
    } else {
        OciError::internal(err)
    }
}
