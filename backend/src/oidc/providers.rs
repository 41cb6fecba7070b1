//! Which OpenID Connect providers exist, and their discovered clients.
//!
//! Providers come from `[[oidc.providers]]` in the configuration file and from the
//! `oidc_providers` table an administrator fills through the API; a name is either one or the
//! other (the API refuses names the file uses). The table is read at each use, so a change made
//! through any replica applies everywhere; discovery results are cached per provider for a few
//! minutes, keyed by the settings they came from, so an edited provider is rediscovered at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, QueryOrder};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::SharedProvider;
use crate::auth::oidc::{OidcError, OidcProvider};
use crate::config::OidcProviderConfig;
use crate::db::entities::oidc_provider;

/// How long a discovery result (metadata and signing keys) is reused.
const DISCOVERY_TTL: Duration = Duration::from_secs(300);

/// Where a provider's settings live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProviderSource {
    /// `[[oidc.providers]]` in the configuration file (read-only through the API).
    Config,
    /// Added through the API.
    Api,
}

/// A provider as the sign-in page lists it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ProviderSummary {
    pub name: String,
    pub display_name: String,
}

/// The providers and a cache of their discovered clients.
pub struct Providers {
    from_config: Vec<OidcProviderConfig>,
    external_url: Option<String>,
    cache: Mutex<HashMap<String, (String, SharedProvider, Instant)>>,
}

impl Providers {
    pub fn new(from_config: Vec<OidcProviderConfig>, external_url: Option<String>) -> Self {
        Self {
            from_config,
            external_url,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Berth's callback URL: under `server.external_url` when set, else under the origin the
    /// browser used (`origin`, e.g. `http://127.0.0.1:5000`).
    pub fn redirect_url(&self, origin: Option<&str>) -> String {
        let base = self
            .external_url
            .as_deref()
            .or(origin)
            .unwrap_or("http://localhost");
        format!("{}/c/oidc/callback", base.trim_end_matches('/'))
    }

    /// Whether the configuration file defines a provider of this name.
    pub fn is_configured(&self, name: &str) -> bool {
        self.from_config.iter().any(|p| p.name == name)
    }

    /// Every provider: the configuration file's first, then the API's by name.
    ///
    /// # Errors
    /// Database failures.
    pub async fn all(
        &self,
        db: &DatabaseConnection,
    ) -> Result<Vec<(OidcProviderConfig, ProviderSource)>, DbErr> {
        let mut all: Vec<_> = self
            .from_config
            .iter()
            .cloned()
            .map(|p| (p, ProviderSource::Config))
            .collect();
        let stored = oidc_provider::Entity::find()
            .order_by_asc(oidc_provider::Column::Name)
            .all(db)
            .await?;
        for row in stored {
            if self.is_configured(&row.name) {
                continue;
            }
            match stored_config(&row) {
                Some(config) => all.push((config, ProviderSource::Api)),
                None => {
                    tracing::error!(oidc.provider = %row.name, "stored OIDC provider unreadable")
                }
            }
        }
        Ok(all)
    }

    /// The sign-in page's list.
    ///
    /// # Errors
    /// Database failures.
    pub async fn summaries(&self, db: &DatabaseConnection) -> Result<Vec<ProviderSummary>, DbErr> {
        Ok(self
            .all(db)
            .await?
            .into_iter()
            .map(|(p, _)| ProviderSummary {
                display_name: p.display_name.clone().unwrap_or_else(|| p.name.clone()),
                name: p.name,
            })
            .collect())
    }

    /// The settings of the provider named `name`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn find(
        &self,
        db: &DatabaseConnection,
        name: &str,
    ) -> Result<Option<(OidcProviderConfig, ProviderSource)>, DbErr> {
        if let Some(found) = self.from_config.iter().find(|p| p.name == name) {
            return Ok(Some((found.clone(), ProviderSource::Config)));
        }
        let row = oidc_provider::Entity::find_by_id(name.to_owned())
            .one(db)
            .await?;
        Ok(row
            .as_ref()
            .and_then(stored_config)
            .map(|c| (c, ProviderSource::Api)))
    }

    /// The discovered client of the provider named `name`; `Ok(None)` when there is none.
    ///
    /// # Errors
    /// Discovery fails ([`OidcError::Unavailable`], [`OidcError::Misconfigured`]); a database
    /// failure is reported as the provider being unavailable.
    pub async fn get(
        &self,
        db: &DatabaseConnection,
        name: &str,
        redirect_url: &str,
    ) -> Result<Option<SharedProvider>, OidcError> {
        let found = self
            .find(db, name)
            .await
            .map_err(|e| OidcError::Unavailable {
                provider: name.to_owned(),
                detail: format!("database: {e}"),
            })?;
        match found {
            Some((config, _)) => self.discovered(config, redirect_url).await.map(Some),
            None => Ok(None),
        }
    }

    /// The discovered client of the provider whose issuer is `issuer`.
    ///
    /// # Errors
    /// As [`Providers::get`].
    pub async fn by_issuer(
        &self,
        db: &DatabaseConnection,
        issuer: &str,
        redirect_url: &str,
    ) -> Result<Option<SharedProvider>, OidcError> {
        let all = self.all(db).await.map_err(|e| OidcError::Unavailable {
            provider: issuer.to_owned(),
            detail: format!("database: {e}"),
        })?;
        let same = |a: &str| a.trim_end_matches('/') == issuer.trim_end_matches('/');
        match all.into_iter().find(|(p, _)| same(&p.issuer)) {
            Some((config, _)) => self.discovered(config, redirect_url).await.map(Some),
            None => Ok(None),
        }
    }

    async fn discovered(
        &self,
        config: OidcProviderConfig,
        redirect_url: &str,
    ) -> Result<SharedProvider, OidcError> {
        let key = fingerprint(&config, redirect_url);
        if let Ok(cache) = self.cache.lock()
            && let Some((k, provider, at)) = cache.get(&config.name)
            && *k == key
            && at.elapsed() < DISCOVERY_TTL
        {
            return Ok(provider.clone());
        }
        let name = config.name.clone();
        let provider = Arc::new(OidcProvider::discover(config, redirect_url).await?);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(name, (key, provider.clone(), Instant::now()));
        }
        Ok(provider)
    }

    /// Forgets the discovery result of a provider (after it was edited or removed).
    pub fn forget(&self, name: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(name);
        }
    }
}

/// The settings of a stored provider (the secret is a column of its own).
fn stored_config(row: &oidc_provider::Model) -> Option<OidcProviderConfig> {
    let mut settings: serde_json::Value = serde_json::from_str(&row.settings).ok()?;
    let object = settings.as_object_mut()?;
    object.insert("name".into(), row.name.clone().into());
    object.insert("client_secret".into(), row.client_secret.clone().into());
    serde_json::from_value(settings).ok()
}

/// Stores (creates or replaces) a provider added through the API.
///
/// # Errors
/// Database failures.
pub async fn store(db: &DatabaseConnection, config: &OidcProviderConfig) -> Result<(), DbErr> {
    // `client_secret` is never serialized, so the settings column cannot hold it.
    let mut settings = serde_json::to_value(config).unwrap_or_default();
    if let Some(object) = settings.as_object_mut() {
        object.remove("name");
    }
    let now = Utc::now();
    let row = oidc_provider::ActiveModel {
        name: Set(config.name.clone()),
        settings: Set(settings.to_string()),
        client_secret: Set(config.client_secret.expose_secret().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    oidc_provider::Entity::insert(row)
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(oidc_provider::Column::Name)
                .update_columns([
                    oidc_provider::Column::Settings,
                    oidc_provider::Column::ClientSecret,
                    oidc_provider::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Removes a provider added through the API; `false` when there was none.
///
/// # Errors
/// Database failures.
pub async fn remove(db: &DatabaseConnection, name: &str) -> Result<bool, DbErr> {
    let deleted = oidc_provider::Entity::delete_by_id(name.to_owned())
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}

fn fingerprint(config: &OidcProviderConfig, redirect_url: &str) -> String {
    let settings = serde_json::to_string(config).unwrap_or_default();
    hex::encode(
        Sha256::new()
            .chain_update(settings)
            .chain_update([0])
            .chain_update(config.client_secret.expose_secret())
            .chain_update([0])
            .chain_update(redirect_url)
            .finalize(),
    )
}
