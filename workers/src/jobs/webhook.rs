//! Delivers one webhook event to one target: a POST of the payload queued with the event.
//!
//! The target's address, headers and secret are read from its policy when the delivery runs,
//! so they never sit in the job's parameters; a policy deleted meanwhile ends the delivery
//! without retries. Anything but a 2xx answer fails the attempt, and the queue retries it.

use std::time::Duration;

use async_trait::async_trait;
use berth::db::entities::webhook_policy;
use berth::jobs::kinds;
use berth::webhooks;
use sea_orm::EntityTrait;

use crate::{Job, JobContext, JobError};

/// How long one delivery attempt may take.
const TIMEOUT: Duration = Duration::from_secs(15);

pub struct Webhook;

#[async_trait]
impl Job for Webhook {
    fn kind(&self) -> &'static str {
        kinds::WEBHOOK
    }

    async fn run(&self, ctx: &JobContext) -> Result<String, JobError> {
        let param = |name: &str| {
            ctx.params
                .get(name)
                .cloned()
                .ok_or_else(|| JobError::Params(format!("{name} is missing")))
        };
        let policy_id = param("policy_id")?
            .as_i64()
            .ok_or_else(|| JobError::Params("policy_id is not a number".into()))?;
        let index = param("target")?
            .as_u64()
            .ok_or_else(|| JobError::Params("target is not a number".into()))?;
        let body = param("body")?
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| JobError::Params("body is not text".into()))?;
        let content_type = param("content_type")?
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| "application/json".into());
        let policy = webhook_policy::Entity::find_by_id(policy_id)
            .one(&ctx.state.db)
            .await?
            .ok_or_else(|| JobError::Params(format!("webhook policy {policy_id} was deleted")))?;
        let target = usize::try_from(index)
            .ok()
            .and_then(|i| webhooks::targets(&policy).into_iter().nth(i))
            .ok_or_else(|| {
                JobError::Params(format!("policy {} has no target {index}", policy.name))
            })?;
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .danger_accept_invalid_certs(target.skip_cert_verify)
            .user_agent(concat!("berth-webhook/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| JobError::Other(format!("HTTP client: {e}")))?;
        let mut request = client
            .post(&target.address)
            .header(reqwest::header::CONTENT_TYPE, content_type);
        if let Some(auth) = target.auth_header.as_deref().filter(|a| !a.is_empty()) {
            request = request.header(reqwest::header::AUTHORIZATION, auth);
        }
        if let Some(secret) = target.secret.as_deref().filter(|s| !s.is_empty()) {
            request = request.header(
                webhooks::SIGNATURE_HEADER,
                webhooks::signature(secret, body.as_bytes()),
            );
        }
        let response = request.body(body).send().await.map_err(|e| {
            JobError::Other(format!("POST {} failed: {}", target.address, chain(&e)))
        })?;
        let status = response.status();
        if status.is_success() {
            Ok(format!("delivered to {}: {status}", target.address))
        } else {
            Err(JobError::Other(format!(
                "{} answered {status}",
                target.address
            )))
        }
    }
}

fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}
