//! Background jobs and storage governance: the durable job queue, schedules and locks; blob and
//! manifest touch times for online garbage collection; per-project quota charges and events;
//! immutability rules; tag retention policies with their result log.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    Status,
    Params,
    Trigger,
    DedupeKey,
    Attempt,
    MaxAttempts,
    TimeoutSeconds,
    RunAt,
    LeaseOwner,
    LeaseUntil,
    StopRequested,
    Progress,
    Message,
    CreatedAt,
    UpdatedAt,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum JobLogs {
    Table,
    Id,
    JobId,
    Level,
    Message,
    CreatedAt,
}

#[derive(DeriveIden)]
enum JobKinds {
    Table,
    Kind,
    Paused,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum JobLocks {
    Table,
    Name,
    Owner,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum JobSchedules {
    Table,
    Name,
    Kind,
    ScheduleType,
    Cron,
    Params,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Blobs {
    Table,
    Id,
    TouchedAt,
}

#[derive(DeriveIden)]
enum Manifests {
    Table,
    TouchedAt,
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ProjectBlobs {
    Table,
    ProjectId,
    BlobId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum QuotaEvents {
    Table,
    Id,
    ProjectId,
    Kind,
    UsedBytes,
    LimitBytes,
    Message,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ImmutableRules {
    Table,
    Id,
    ProjectId,
    Priority,
    Disabled,
    Selectors,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RetentionPolicies {
    Table,
    Id,
    ProjectId,
    Policy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RetentionTasks {
    Table,
    Id,
    JobId,
    Repository,
    Status,
    Total,
    Retained,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RetentionRecords {
    Table,
    Id,
    TaskId,
    Digest,
    Tags,
    PushedAt,
    PulledAt,
    Action,
}

fn timestamp<T: IntoIden>(name: T) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    column.timestamp_with_time_zone().not_null();
    column
}

fn id<T: IntoIden>(name: T) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    column
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key();
    column
}

fn fk<T: IntoIden>(name: T) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    column.big_integer().not_null();
    column
}

fn cascade_to_project<T: IntoIden + 'static>(table: T, column: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Projects::Table, Projects::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// Statements that record existing manifests as blobs and charge existing content to projects,
/// so data written before this migration is collected and counted like new data.
const BACKFILL: [&str; 3] = [
    "INSERT INTO blobs (digest, size, created_at) \
     SELECT m.digest, MAX(m.size), MIN(m.created_at) FROM manifests m \
     WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.digest = m.digest) GROUP BY m.digest",
    "INSERT INTO project_blobs (project_id, blob_id, created_at) \
     SELECT r.project_id, b.id, MIN(m.created_at) FROM manifests m \
     JOIN repositories r ON r.id = m.repository_id \
     JOIN manifest_references mr ON mr.manifest_id = m.id AND mr.kind = 'blob' \
     JOIN blobs b ON b.digest = mr.digest GROUP BY r.project_id, b.id",
    "INSERT INTO project_blobs (project_id, blob_id, created_at) \
     SELECT r.project_id, b.id, MIN(m.created_at) FROM manifests m \
     JOIN repositories r ON r.id = m.repository_id \
     JOIN blobs b ON b.digest = m.digest \
     WHERE NOT EXISTS (SELECT 1 FROM project_blobs pb \
       WHERE pb.project_id = r.project_id AND pb.blob_id = b.id) \
     GROUP BY r.project_id, b.id",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .col(id(Jobs::Id))
                    .col(ColumnDef::new(Jobs::Kind).string_len(64).not_null())
                    .col(ColumnDef::new(Jobs::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Jobs::Params).text().not_null())
                    .col(ColumnDef::new(Jobs::Trigger).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Jobs::DedupeKey)
                            .string_len(255)
                            .null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Jobs::Attempt)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(Jobs::MaxAttempts).integer().not_null())
                    .col(
                        ColumnDef::new(Jobs::TimeoutSeconds)
                            .big_integer()
                            .not_null(),
                    )
                    .col(timestamp(Jobs::RunAt))
                    .col(ColumnDef::new(Jobs::LeaseOwner).string_len(64).null())
                    .col(
                        ColumnDef::new(Jobs::LeaseUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Jobs::StopRequested)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(Jobs::Progress).text().null())
                    .col(ColumnDef::new(Jobs::Message).text().null())
                    .col(timestamp(Jobs::CreatedAt))
                    .col(timestamp(Jobs::UpdatedAt))
                    .col(
                        ColumnDef::new(Jobs::StartedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Jobs::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_jobs_status_run_at")
                    .table(Jobs::Table)
                    .col(Jobs::Status)
                    .col(Jobs::RunAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_jobs_kind")
                    .table(Jobs::Table)
                    .col(Jobs::Kind)
                    .col(Jobs::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(JobLogs::Table)
                    .col(id(JobLogs::Id))
                    .col(fk(JobLogs::JobId))
                    .col(ColumnDef::new(JobLogs::Level).string_len(8).not_null())
                    .col(ColumnDef::new(JobLogs::Message).text().not_null())
                    .col(timestamp(JobLogs::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(JobLogs::Table, JobLogs::JobId)
                            .to(Jobs::Table, Jobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_job_logs_job")
                    .table(JobLogs::Table)
                    .col(JobLogs::JobId)
                    .col(JobLogs::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(JobKinds::Table)
                    .col(
                        ColumnDef::new(JobKinds::Kind)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(JobKinds::Paused)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(timestamp(JobKinds::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(JobLocks::Table)
                    .col(
                        ColumnDef::new(JobLocks::Name)
                            .string_len(128)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(JobLocks::Owner).string_len(64).not_null())
                    .col(timestamp(JobLocks::ExpiresAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(JobSchedules::Table)
                    .col(
                        ColumnDef::new(JobSchedules::Name)
                            .string_len(128)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(JobSchedules::Kind).string_len(64).not_null())
                    .col(
                        ColumnDef::new(JobSchedules::ScheduleType)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(JobSchedules::Cron)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(ColumnDef::new(JobSchedules::Params).text().not_null())
                    .col(timestamp(JobSchedules::CreatedAt))
                    .col(timestamp(JobSchedules::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Blobs::Table)
                    .add_column(
                        ColumnDef::new(Blobs::TouchedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Manifests::Table)
                    .add_column(
                        ColumnDef::new(Manifests::TouchedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProjectBlobs::Table)
                    .col(fk(ProjectBlobs::ProjectId))
                    .col(fk(ProjectBlobs::BlobId))
                    .col(timestamp(ProjectBlobs::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(ProjectBlobs::ProjectId)
                            .col(ProjectBlobs::BlobId),
                    )
                    .foreign_key(&mut cascade_to_project(
                        ProjectBlobs::Table,
                        ProjectBlobs::ProjectId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProjectBlobs::Table, ProjectBlobs::BlobId)
                            .to(Blobs::Table, Blobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_project_blobs_blob")
                    .table(ProjectBlobs::Table)
                    .col(ProjectBlobs::BlobId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(QuotaEvents::Table)
                    .col(id(QuotaEvents::Id))
                    .col(fk(QuotaEvents::ProjectId))
                    .col(ColumnDef::new(QuotaEvents::Kind).string_len(16).not_null())
                    .col(
                        ColumnDef::new(QuotaEvents::UsedBytes)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(QuotaEvents::LimitBytes)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(QuotaEvents::Message).text().not_null())
                    .col(timestamp(QuotaEvents::CreatedAt))
                    .foreign_key(&mut cascade_to_project(
                        QuotaEvents::Table,
                        QuotaEvents::ProjectId,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ImmutableRules::Table)
                    .col(id(ImmutableRules::Id))
                    .col(fk(ImmutableRules::ProjectId))
                    .col(
                        ColumnDef::new(ImmutableRules::Priority)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(ImmutableRules::Disabled)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(ImmutableRules::Selectors).text().not_null())
                    .col(timestamp(ImmutableRules::CreatedAt))
                    .col(timestamp(ImmutableRules::UpdatedAt))
                    .foreign_key(&mut cascade_to_project(
                        ImmutableRules::Table,
                        ImmutableRules::ProjectId,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RetentionPolicies::Table)
                    .col(id(RetentionPolicies::Id))
                    .col(fk(RetentionPolicies::ProjectId).unique_key())
                    .col(ColumnDef::new(RetentionPolicies::Policy).text().not_null())
                    .col(timestamp(RetentionPolicies::CreatedAt))
                    .col(timestamp(RetentionPolicies::UpdatedAt))
                    .foreign_key(&mut cascade_to_project(
                        RetentionPolicies::Table,
                        RetentionPolicies::ProjectId,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RetentionTasks::Table)
                    .col(id(RetentionTasks::Id))
                    .col(fk(RetentionTasks::JobId))
                    .col(
                        ColumnDef::new(RetentionTasks::Repository)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RetentionTasks::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(RetentionTasks::Total).integer().not_null())
                    .col(
                        ColumnDef::new(RetentionTasks::Retained)
                            .integer()
                            .not_null(),
                    )
                    .col(timestamp(RetentionTasks::CreatedAt))
                    .col(timestamp(RetentionTasks::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RetentionTasks::Table, RetentionTasks::JobId)
                            .to(Jobs::Table, Jobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .index(
                        Index::create()
                            .unique()
                            .col(RetentionTasks::JobId)
                            .col(RetentionTasks::Repository),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RetentionRecords::Table)
                    .col(id(RetentionRecords::Id))
                    .col(fk(RetentionRecords::TaskId))
                    .col(
                        ColumnDef::new(RetentionRecords::Digest)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(ColumnDef::new(RetentionRecords::Tags).text().not_null())
                    .col(
                        ColumnDef::new(RetentionRecords::PushedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(RetentionRecords::PulledAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(RetentionRecords::Action)
                            .string_len(8)
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RetentionRecords::Table, RetentionRecords::TaskId)
                            .to(RetentionTasks::Table, RetentionTasks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        for statement in BACKFILL {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
