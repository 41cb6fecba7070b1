//! From a verified identity to a Berth user: the (issuer, subject) link, first-login onboarding,
//! and the user's OIDC groups and administrator flag brought in line with the ID token at every
//! sign-in.

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use crate::auth::oidc::OidcIdentity;
use crate::db::entities::{oidc_identity, user, user_group, user_group_member};

/// Harbor's group type of groups that come from an OIDC groups claim.
pub const OIDC_GROUP_TYPE: i32 = 3;

/// Why an identity could not become a user.
#[derive(Debug, thiserror::Error)]
pub enum OnboardError {
    #[error("the user name {0:?} is taken; choose another")]
    NameTaken(String),
    #[error(
        "{0:?} is not a valid user name: 1-255 characters without spaces or any of , \" ~ # $ % : /"
    )]
    InvalidName(String),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// How a provider's settings shape onboarding.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Create users at first sign-in under the username claim.
    pub auto_onboard: bool,
    /// Whether the provider names an admin group, in which case the administrator flag follows
    /// membership of it (granted and revoked); otherwise the flag is left as it is.
    pub manages_admin: bool,
}

/// The user of an identity signing in, after syncing its groups; `None` when the user must
/// first choose a user name (a new identity with auto-onboarding off, or its name taken).
///
/// # Errors
/// Database failures.
pub async fn sign_in(
    db: &DatabaseConnection,
    identity: &OidcIdentity,
    policy: Policy,
) -> Result<Option<user::Model>, DbErr> {
    let link = oidc_identity::Entity::find()
        .filter(oidc_identity::Column::Issuer.eq(&identity.issuer))
        .filter(oidc_identity::Column::Subject.eq(&identity.subject))
        .one(db)
        .await?;
    let found = match &link {
        Some(link) => user::Entity::find_by_id(link.user_id).one(db).await?,
        None => None,
    };
    if let (Some(link), None) = (&link, &found) {
        // The user was deleted (the foreign key cascades, but be sure): start afresh.
        oidc_identity::Entity::delete_by_id(link.id)
            .exec(db)
            .await?;
    }
    if let (Some(link), Some(found)) = (link, found) {
        let txn = crate::db::begin_write(db).await?;
        oidc_identity::Entity::update_many()
            .col_expr(oidc_identity::Column::LastLoginAt, Expr::value(Utc::now()))
            .col_expr(
                oidc_identity::Column::Provider,
                Expr::value(identity.provider.clone()),
            )
            .filter(oidc_identity::Column::Id.eq(link.id))
            .exec(&txn)
            .await?;
        let synced = sync(&txn, found, identity, policy).await?;
        txn.commit().await?;
        return Ok(Some(synced));
    }
    if !policy.auto_onboard {
        return Ok(None);
    }
    match create(db, identity, &identity.username, policy).await {
        Ok(created) => Ok(Some(created)),
        Err(OnboardError::NameTaken(_) | OnboardError::InvalidName(_)) => Ok(None),
        Err(OnboardError::Database(e)) => Err(e),
    }
}

/// Creates the user of a new identity under `username`, links the identity and syncs its
/// groups, in one transaction.
///
/// # Errors
/// [`OnboardError::InvalidName`], [`OnboardError::NameTaken`] or a database failure.
pub async fn create(
    db: &DatabaseConnection,
    identity: &OidcIdentity,
    username: &str,
    policy: Policy,
) -> Result<user::Model, OnboardError> {
    if !crate::api::valid_username(username) {
        return Err(OnboardError::InvalidName(username.to_owned()));
    }
    let txn = crate::db::begin_write(db).await?;
    let taken = user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(&txn)
        .await?;
    if taken.is_some() {
        return Err(OnboardError::NameTaken(username.to_owned()));
    }
    let now = Utc::now();
    let inserted = user::Entity::insert(user::ActiveModel {
        username: Set(username.to_owned()),
        email: Set(identity.email.clone().unwrap_or_default()),
        realname: Set(identity.name.clone().unwrap_or_default()),
        comment: Set(format!(
            "signed up through OIDC provider {}",
            identity.provider
        )),
        // No local password: an empty hash verifies nothing. The user signs in through the
        // provider, and uses a CLI secret or access token elsewhere.
        password_hash: Set(String::new()),
        sysadmin: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await;
    let created = match inserted {
        Ok(row) => row,
        Err(e) if crate::db::is_unique_violation(&e) => {
            return Err(OnboardError::NameTaken(username.to_owned()));
        }
        Err(e) => return Err(e.into()),
    };
    oidc_identity::Entity::insert(oidc_identity::ActiveModel {
        user_id: Set(created.id),
        provider: Set(identity.provider.clone()),
        issuer: Set(identity.issuer.clone()),
        subject: Set(identity.subject.clone()),
        created_at: Set(now),
        last_login_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let synced = sync(&txn, created, identity, policy).await?;
    txn.commit().await?;
    tracing::info!(
        user.name = %synced.username,
        oidc.provider = %identity.provider,
        "user onboarded through OIDC"
    );
    Ok(synced)
}

/// Brings the user's OIDC groups, profile and (when the provider manages it) administrator
/// flag in line with the identity. Groups of other types are left alone.
async fn sync<C: ConnectionTrait>(
    db: &C,
    found: user::Model,
    identity: &OidcIdentity,
    policy: Policy,
) -> Result<user::Model, DbErr> {
    let now = Utc::now();
    for name in &identity.groups {
        user_group::Entity::insert(user_group::ActiveModel {
            group_name: Set(name.clone()),
            group_type: Set(OIDC_GROUP_TYPE),
            ldap_group_dn: Set(String::new()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .on_conflict_do_nothing_on([user_group::Column::GroupType, user_group::Column::GroupName])
        .exec(db)
        .await?;
    }
    let wanted: Vec<i64> = if identity.groups.is_empty() {
        Vec::new()
    } else {
        user_group::Entity::find()
            .filter(user_group::Column::GroupType.eq(OIDC_GROUP_TYPE))
            .filter(user_group::Column::GroupName.is_in(identity.groups.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|g| g.id)
            .collect()
    };
    let oidc_groups = Query::select()
        .column(user_group::Column::Id)
        .from(user_group::Entity)
        .and_where(user_group::Column::GroupType.eq(OIDC_GROUP_TYPE))
        .to_owned();
    user_group_member::Entity::delete_many()
        .filter(user_group_member::Column::UserId.eq(found.id))
        .filter(user_group_member::Column::GroupId.in_subquery(oidc_groups))
        .filter(user_group_member::Column::GroupId.is_not_in(wanted.clone()))
        .exec(db)
        .await?;
    for group_id in wanted {
        user_group_member::Entity::insert(user_group_member::ActiveModel {
            group_id: Set(group_id),
            user_id: Set(found.id),
        })
        .on_conflict_do_nothing_on([
            user_group_member::Column::GroupId,
            user_group_member::Column::UserId,
        ])
        .exec(db)
        .await?;
    }
    let sysadmin = if policy.manages_admin {
        identity.is_admin
    } else {
        found.sysadmin
    };
    let email = identity.email.clone().unwrap_or(found.email.clone());
    let realname = identity.name.clone().unwrap_or(found.realname.clone());
    if sysadmin == found.sysadmin && email == found.email && realname == found.realname {
        return Ok(found);
    }
    user::Entity::update_many()
        .col_expr(user::Column::Sysadmin, Expr::value(sysadmin))
        .col_expr(user::Column::Email, Expr::value(email.clone()))
        .col_expr(user::Column::Realname, Expr::value(realname.clone()))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(found.id))
        .exec(db)
        .await?;
    Ok(user::Model {
        sysadmin,
        email,
        realname,
        updated_at: now,
        ..found
    })
}
