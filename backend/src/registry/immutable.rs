//! Enforcement of tag immutability rules on pushes and deletions.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{Registry, RegistryError};
use crate::db::entities::{immutable_rule, repository};
use crate::names;
use crate::policy::ImmutableRule;
use crate::policy::immutable::StoredSelectors;

/// The enabled immutability rules of project `project_id`, by priority.
///
/// # Errors
/// Database failures.
pub async fn project_rules(
    db: &impl ConnectionTrait,
    project_id: i64,
) -> Result<Vec<ImmutableRule>, RegistryError> {
    let rows = immutable_rule::Entity::find()
        .filter(immutable_rule::Column::ProjectId.eq(project_id))
        .filter(immutable_rule::Column::Disabled.eq(false))
        .order_by_asc(immutable_rule::Column::Priority)
        .order_by_asc(immutable_rule::Column::Id)
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(rule_of).collect())
}

/// A stored row as a rule; a row whose selectors no longer parse protects nothing and is
/// reported by the API when read.
pub fn rule_of(row: immutable_rule::Model) -> Option<ImmutableRule> {
    let stored: StoredSelectors = serde_json::from_str(&row.selectors).ok()?;
    Some(ImmutableRule {
        id: row.id,
        project_id: row.project_id,
        disabled: row.disabled,
        priority: row.priority,
        action: "immutable".into(),
        template: "immutable_template".into(),
        params: serde_json::Map::new(),
        tag_selectors: stored.tag_selectors,
        scope_selectors: stored.scope_selectors,
    })
}

/// The repository's name inside its project, as selectors match it.
pub fn name_in_project(repository: &str) -> &str {
    let project = names::project_of(repository);
    repository
        .strip_prefix(project)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(repository)
}

impl Registry {
    /// Fails with [`RegistryError::TagImmutable`] when a rule protects one of `tags` of
    /// `repository`.
    pub(crate) async fn refuse_immutable(
        &self,
        db: &impl ConnectionTrait,
        repository: &repository::Model,
        tags: &[String],
    ) -> Result<(), RegistryError> {
        if tags.is_empty() {
            return Ok(());
        }
        let rules = project_rules(db, repository.project_id).await?;
        let inner = name_in_project(&repository.name);
        if let Some(tag) = tags
            .iter()
            .find(|t| rules.iter().any(|r| r.protects(inner, t)))
        {
            return Err(RegistryError::TagImmutable {
                repository: repository.name.clone(),
                tag: tag.clone(),
            });
        }
        Ok(())
    }
}
