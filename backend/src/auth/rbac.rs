//! Role-based access control decided by casbin.
//!
//! Harbor's project role matrix is the built-in policy: each `(role, resource, action)` it
//! allows becomes one casbin policy line. Which role a caller holds in a project comes from the
//! database at request time, so every replica decides the same way without sharing memory.
//! System administrators are allowed everything.
//!
//! Objects are paths, `/project/<name>/<resource>` and `/system/<resource>`, matched with
//! casbin's `keyMatch2`, so one model serves both the role matrix (whose lines hold for every
//! project) and robot accounts (whose lines name projects, or `*` for all of them).

use std::collections::HashMap;
use std::sync::RwLock;

use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use super::Principal;
use super::personal::TokenPermission;
use super::robot;
use crate::db::entities::{project, project_member, user_group_member};

const MODEL: &str = r#"
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && keyMatch2(r.obj, p.obj) && r.act == p.act
"#;

/// The subject of a robot's own policy lines (each robot has its own enforcer).
pub(crate) const ROBOT_SUBJECT: &str = "robot";

/// A project role, with Harbor's ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProjectRole {
    ProjectAdmin,
    Developer,
    Guest,
    Maintainer,
    LimitedGuest,
    /// Anyone who is not a member of a public project.
    PublicReader,
}

impl ProjectRole {
    /// The member roles, in Harbor's id order.
    pub const MEMBER_ROLES: [Self; 5] = [
        Self::ProjectAdmin,
        Self::Developer,
        Self::Guest,
        Self::Maintainer,
        Self::LimitedGuest,
    ];

    /// Harbor's `role_id` (1-5); `None` for the non-member public reader.
    pub fn id(self) -> Option<i32> {
        match self {
            Self::ProjectAdmin => Some(1),
            Self::Developer => Some(2),
            Self::Guest => Some(3),
            Self::Maintainer => Some(4),
            Self::LimitedGuest => Some(5),
            Self::PublicReader => None,
        }
    }

    pub fn from_id(id: i32) -> Option<Self> {
        Self::MEMBER_ROLES.into_iter().find(|r| r.id() == Some(id))
    }

    /// Harbor's role name as the REST API shows it.
    pub fn name(self) -> &'static str {
        match self {
            Self::ProjectAdmin => "projectAdmin",
            Self::Developer => "developer",
            Self::Guest => "guest",
            Self::Maintainer => "maintainer",
            Self::LimitedGuest => "limitedGuest",
            Self::PublicReader => "public",
        }
    }

    fn subject(self) -> String {
        format!("role:{}", self.name())
    }
}

/// A project-scoped resource of the permission matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    Project,
    Member,
    Metadata,
    Log,
    Label,
    Quota,
    Repository,
    Artifact,
    ArtifactAddition,
    Tag,
    Accessory,
    ArtifactLabel,
    TagRetention,
    ImmutableTag,
    Configuration,
    Robot,
    NotificationPolicy,
    Scan,
    Sbom,
    Scanner,
    PreheatPolicy,
    ExportCve,
}

impl Resource {
    /// Every project resource, in the matrix's order.
    pub const ALL: [Self; 22] = [
        Self::Project,
        Self::Member,
        Self::Metadata,
        Self::Log,
        Self::Label,
        Self::Quota,
        Self::Repository,
        Self::Artifact,
        Self::ArtifactAddition,
        Self::Tag,
        Self::Accessory,
        Self::ArtifactLabel,
        Self::TagRetention,
        Self::ImmutableTag,
        Self::Configuration,
        Self::Robot,
        Self::NotificationPolicy,
        Self::Scan,
        Self::Sbom,
        Self::Scanner,
        Self::PreheatPolicy,
        Self::ExportCve,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Project => "project",
            Self::Member => "member",
            Self::Metadata => "metadata",
            Self::Log => "log",
            Self::Label => "label",
            Self::Quota => "quota",
            Self::Repository => "repository",
            Self::Artifact => "artifact",
            Self::ArtifactAddition => "artifact-addition",
            Self::Tag => "tag",
            Self::Accessory => "accessory",
            Self::ArtifactLabel => "artifact-label",
            Self::TagRetention => "tag-retention",
            Self::ImmutableTag => "immutable-tag",
            Self::Configuration => "configuration",
            Self::Robot => "robot",
            Self::NotificationPolicy => "notification-policy",
            Self::Scan => "scan",
            Self::Sbom => "sbom",
            Self::Scanner => "scanner",
            Self::PreheatPolicy => "preheat-policy",
            Self::ExportCve => "export-cve",
        }
    }
}

/// An action on a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Create,
    Read,
    Update,
    Delete,
    List,
    Pull,
    Push,
    Operate,
    Stop,
}

impl Action {
    pub const ALL: [Self; 9] = [
        Self::Create,
        Self::Read,
        Self::Update,
        Self::Delete,
        Self::List,
        Self::Pull,
        Self::Push,
        Self::Operate,
        Self::Stop,
    ];

    /// The action of a catalogue name (`create`, `pull`, ...).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Read => "read",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::List => "list",
            Self::Pull => "pull",
            Self::Push => "push",
            Self::Operate => "operate",
            Self::Stop => "stop",
        }
    }
}

/// Harbor's project permission matrix. Letters: C create, R read, U update, D delete, L list;
/// words: pull, push, operate, stop. Columns: projectAdmin, maintainer, developer, guest,
/// limitedGuest, public reader.
const MATRIX: &[(&str, [&str; 6])] = &[
    ("project", ["R U D", "R", "R", "R", "R", "R"]),
    ("member", ["C R U D L", "R L", "R L", "R L", "", ""]),
    ("metadata", ["C R U D", "R", "", "", "", ""]),
    ("log", ["L", "", "", "", "", ""]),
    ("label", ["C R U D L", "C R U D L", "R L", "R L", "", "R L"]),
    ("quota", ["R", "R", "R", "R", "R", ""]),
    (
        "repository",
        [
            "C R U D L pull push",
            "C R U D L pull push",
            "C R U L pull push",
            "R L pull",
            "R L pull",
            "L pull",
        ],
    ),
    (
        "artifact",
        ["C R D L", "C R D L", "C R L", "R L", "R L", "R L"],
    ),
    ("artifact-addition", ["R", "R", "R", "R", "R", "R"]),
    ("tag", ["C D L", "C D L", "C L", "L", "L", "L"]),
    ("accessory", ["L", "L", "L", "L", "L", "L"]),
    ("artifact-label", ["C D", "C D", "C D", "", "", ""]),
    (
        "tag-retention",
        ["C R U D L operate", "C R U D L operate", "R L", "", "", ""],
    ),
    ("immutable-tag", ["C U D L", "C U D L", "", "", "", ""]),
    ("configuration", ["R U", "R", "R", "R", "R", ""]),
    ("robot", ["C R U D L", "R L", "R L", "R L", "", ""]),
    ("notification-policy", ["C R U D L", "R L", "", "", "", ""]),
    ("scan", ["C R stop", "C R stop", "R", "R", "R", "R"]),
    ("sbom", ["C R stop", "C R stop", "R", "R", "R", ""]),
    ("scanner", ["C R", "R", "R", "R", "R", "R"]),
    ("preheat-policy", ["C R U D L", "", "", "", "", ""]),
    ("export-cve", ["C R L", "C R L", "C R L", "", "", ""]),
];

/// The matrix's column order.
const COLUMNS: [ProjectRole; 6] = [
    ProjectRole::ProjectAdmin,
    ProjectRole::Maintainer,
    ProjectRole::Developer,
    ProjectRole::Guest,
    ProjectRole::LimitedGuest,
    ProjectRole::PublicReader,
];

fn expand(letters: &str) -> impl Iterator<Item = &'static str> + '_ {
    letters.split_whitespace().map(|word| match word {
        "C" => "create",
        "R" => "read",
        "U" => "update",
        "D" => "delete",
        "L" => "list",
        "pull" => "pull",
        "push" => "push",
        "operate" => "operate",
        "stop" => "stop",
        other => panic!("unknown action {other:?} in the permission matrix"),
    })
}

/// The permission decider shared by the REST API and the token service.
pub struct Rbac {
    enforcer: Enforcer,
    /// Decisions already asked of casbin; the built-in policy never changes while running.
    memo: RwLock<HashMap<(ProjectRole, Resource, Action), bool>>,
}

/// What a caller is to one project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectAccess {
    pub project_id: i64,
    pub project_name: String,
    pub public: bool,
    /// Roles held: member roles, plus the public reader role on a public project.
    pub roles: Vec<ProjectRole>,
    pub sysadmin: bool,
    /// The robot account calling, whose own permissions count beside its member roles.
    pub robot: Option<robot::Robot>,
}

pub(crate) async fn enforcer_with(policies: Vec<Vec<String>>) -> Result<Enforcer, casbin::Error> {
    let model = DefaultModel::from_str(MODEL).await?;
    let mut enforcer = Enforcer::new(model, MemoryAdapter::default()).await?;
    if !policies.is_empty() {
        enforcer.add_policies(policies).await?;
    }
    Ok(enforcer)
}

impl Rbac {
    /// Builds the enforcer from the built-in permission matrix.
    ///
    /// # Errors
    /// casbin rejects the model or the policy (a programming error caught by the unit tests).
    pub async fn new() -> Result<Self, casbin::Error> {
        let mut policies = Vec::new();
        for (resource, cells) in MATRIX {
            for (role, cell) in COLUMNS.iter().zip(cells) {
                for action in expand(cell) {
                    let object = robot::project_object(":project", resource);
                    policies.push(vec![role.subject(), object, action.to_owned()]);
                }
            }
        }
        Ok(Self {
            enforcer: enforcer_with(policies).await?,
            memo: RwLock::new(HashMap::new()),
        })
    }

    /// Whether `principal` may perform `action` on the system-scope `resource` (a robot
    /// catalogue name such as `project`, `robot`, `user`, `audit-log`). Administrators may do
    /// everything, robots what their system permissions grant, other users nothing here.
    pub fn system_allows(&self, principal: &Principal, resource: &str, action: Action) -> bool {
        match principal {
            Principal::User { .. } => principal.is_sysadmin(),
            Principal::Robot(robot) => robot.grants(&robot::system_object(resource), action.name()),
            Principal::Anonymous => false,
        }
    }

    /// Whether `role` may perform `action` on `resource`.
    pub fn role_allows(&self, role: ProjectRole, resource: Resource, action: Action) -> bool {
        let key = (role, resource, action);
        if let Some(&decided) = self
            .memo
            .read()
            .ok()
            .and_then(|m| m.get(&key).copied())
            .as_ref()
        {
            return decided;
        }
        let object = robot::project_object("_", resource.name());
        let decided = self
            .enforcer
            .enforce((role.subject(), object.as_str(), action.name()))
            .unwrap_or(false);
        if let Ok(mut memo) = self.memo.write() {
            memo.insert(key, decided);
        }
        decided
    }

    /// Whether a caller with `access` may perform `action` on `resource` in that project.
    pub fn allows(&self, access: &ProjectAccess, resource: Resource, action: Action) -> bool {
        access.sysadmin
            || access
                .roles
                .iter()
                .any(|&role| self.role_allows(role, resource, action))
            || access.robot.as_ref().is_some_and(|robot| {
                let object = robot::project_object(&access.project_name, resource.name());
                robot.grants(&object, action.name())
            })
    }

    /// Looks up what `principal` is to the project named `project_name`; `None` when the project
    /// does not exist.
    ///
    /// # Errors
    /// Database failures.
    pub async fn project_access(
        &self,
        db: &DatabaseConnection,
        principal: &Principal,
        project_name: &str,
    ) -> Result<Option<ProjectAccess>, DbErr> {
        let Some(project) = project::Entity::find()
            .filter(project::Column::Name.eq(project_name))
            .one(db)
            .await?
        else {
            return Ok(None);
        };
        self.access_to(db, principal, &project).await.map(Some)
    }

    /// What `principal` is to an already loaded project.
    ///
    /// # Errors
    /// Database failures.
    pub async fn access_to(
        &self,
        db: &DatabaseConnection,
        principal: &Principal,
        project: &project::Model,
    ) -> Result<ProjectAccess, DbErr> {
        let mut roles = Vec::new();
        let outside_token = principal
            .token_scope()
            .is_some_and(|scope| !scope.covers_project(&project.name));
        let entity = match principal {
            // A token limited to other projects holds no role here.
            Principal::User { .. } if outside_token => None,
            Principal::User { id, .. } => {
                let groups = sea_orm::sea_query::Query::select()
                    .column(user_group_member::Column::GroupId)
                    .from(user_group_member::Entity)
                    .and_where(user_group_member::Column::UserId.eq(*id))
                    .to_owned();
                Some(
                    Condition::any()
                        .add(
                            Condition::all()
                                .add(project_member::Column::EntityType.eq("u"))
                                .add(project_member::Column::EntityId.eq(*id)),
                        )
                        .add(
                            Condition::all()
                                .add(project_member::Column::EntityType.eq("g"))
                                .add(project_member::Column::EntityId.in_subquery(groups)),
                        ),
                )
            }
            Principal::Robot(robot) => Some(
                Condition::all()
                    .add(project_member::Column::EntityType.eq("r"))
                    .add(project_member::Column::EntityId.eq(robot.id)),
            ),
            Principal::Anonymous => None,
        };
        if let Some(entity) = entity {
            let memberships = project_member::Entity::find()
                .filter(project_member::Column::ProjectId.eq(project.id))
                .filter(entity)
                .all(db)
                .await?;
            roles.extend(
                memberships
                    .iter()
                    .filter_map(|m| ProjectRole::from_id(m.role_id)),
            );
        }
        roles.sort_by_key(|r| r.id());
        roles.dedup();
        if project.public {
            roles.push(ProjectRole::PublicReader);
        }
        Ok(ProjectAccess {
            project_id: project.id,
            project_name: project.name.clone(),
            public: project.public,
            roles,
            sysadmin: principal.is_sysadmin(),
            robot: match principal {
                Principal::Robot(robot) => Some(robot.clone()),
                _ => None,
            },
        })
    }
}

/// The repository actions of the token protocol, with the matrix action each one needs.
pub const REPOSITORY_ACTIONS: [(&str, Action); 3] = [
    ("pull", Action::Pull),
    ("push", Action::Push),
    ("delete", Action::Delete),
];

impl Rbac {
    /// Which of the `requested` token actions (`pull`, `push`, `delete`, `*`) `principal` holds on
    /// repository `repository`, in the order of [`REPOSITORY_ACTIONS`]. A system administrator is
    /// granted every action even before the project exists, so a push there fails later with a
    /// clear "project unknown" rather than a bare denial.
    ///
    /// # Errors
    /// Database failures.
    pub async fn repository_actions(
        &self,
        db: &DatabaseConnection,
        principal: &Principal,
        repository: &str,
        requested: &[&str],
    ) -> Result<Vec<&'static str>, DbErr> {
        let wanted = |name: &str| requested.iter().any(|r| *r == name || *r == "*");
        let token_grants = |name: &str| {
            principal.token_scope().is_none_or(|scope| {
                let needed = if name == "pull" {
                    TokenPermission::RegistryPull
                } else {
                    TokenPermission::RegistryPush
                };
                scope.has(needed)
            })
        };
        let access = match self
            .project_access(db, principal, crate::names::project_of(repository))
            .await?
        {
            Some(access) => access,
            None if principal.is_sysadmin() => ProjectAccess {
                project_id: 0,
                project_name: String::new(),
                public: false,
                roles: Vec::new(),
                sysadmin: true,
                robot: None,
            },
            None => return Ok(Vec::new()),
        };
        Ok(REPOSITORY_ACTIONS
            .iter()
            .filter(|(name, action)| {
                wanted(name)
                    && token_grants(name)
                    && self.allows(&access, Resource::Repository, *action)
            })
            .map(|(name, _)| *name)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn matrix_decides_registry_actions_like_harbor() {
        use ProjectRole::*;
        let rbac = Rbac::new().await.expect("rbac");
        let repo = Resource::Repository;
        let expect = [
            (ProjectAdmin, [true, true, true]),
            (Maintainer, [true, true, true]),
            (Developer, [true, true, false]),
            (Guest, [true, false, false]),
            (LimitedGuest, [true, false, false]),
            (PublicReader, [true, false, false]),
        ];
        for (role, [pull, push, delete]) in expect {
            assert_eq!(
                rbac.role_allows(role, repo, Action::Pull),
                pull,
                "{role:?} pull"
            );
            assert_eq!(
                rbac.role_allows(role, repo, Action::Push),
                push,
                "{role:?} push"
            );
            assert_eq!(
                rbac.role_allows(role, repo, Action::Delete),
                delete,
                "{role:?} delete"
            );
        }
        assert!(rbac.role_allows(ProjectAdmin, Resource::Member, Action::Create));
        assert!(!rbac.role_allows(Maintainer, Resource::Member, Action::Create));
        assert!(!rbac.role_allows(LimitedGuest, Resource::Member, Action::List));
        assert!(!rbac.role_allows(PublicReader, Resource::Quota, Action::Read));
    }

    #[tokio::test]
    async fn sysadmin_is_allowed_everything() {
        let rbac = Rbac::new().await.expect("rbac");
        let access = ProjectAccess {
            project_id: 1,
            project_name: "p".into(),
            public: false,
            roles: Vec::new(),
            sysadmin: true,
            robot: None,
        };
        assert!(rbac.allows(&access, Resource::PreheatPolicy, Action::Delete));
        let nobody = ProjectAccess {
            sysadmin: false,
            ..access
        };
        assert!(!rbac.allows(&nobody, Resource::Repository, Action::Pull));
    }
}
