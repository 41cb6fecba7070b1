//! Small named values kept in the database and shared by every replica (signing keys, flags).

use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait};

use super::entities::system_property;

/// Reads a property, or stores `make()` under `name` if it is absent and returns it. When two
/// replicas race, the first insert wins and both return the stored value.
///
/// # Errors
/// Database failures.
pub async fn get_or_insert_with(
    db: &DatabaseConnection,
    name: &str,
    make: impl FnOnce() -> String,
) -> Result<String, DbErr> {
    if let Some(found) = system_property::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
    {
        return Ok(found.value);
    }
    let row = system_property::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(make()),
    };
    // A concurrent first start may insert it first: the stored value wins either way.
    system_property::Entity::insert(row)
        .on_conflict_do_nothing()
        .exec(db)
        .await?;
    system_property::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .map(|p| p.value)
        .ok_or_else(|| DbErr::RecordNotFound(format!("system property {name}")))
}
