//! Harbor's project roles and what the console lets each do.
//!
//! The server decides every request; these rules only choose which buttons the console shows,
//! following Harbor's role matrix.

/// One of Harbor's five project roles, with its wire id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProjectRole {
    ProjectAdmin,
    Developer,
    Guest,
    Maintainer,
    LimitedGuest,
}

impl ProjectRole {
    /// Every role, in the order a picker lists them (most to least powerful).
    pub const ALL: [Self; 5] = [
        Self::ProjectAdmin,
        Self::Maintainer,
        Self::Developer,
        Self::Guest,
        Self::LimitedGuest,
    ];

    /// The id used in `role_id`.
    pub fn id(self) -> i32 {
        match self {
            Self::ProjectAdmin => 1,
            Self::Developer => 2,
            Self::Guest => 3,
            Self::Maintainer => 4,
            Self::LimitedGuest => 5,
        }
    }

    /// The role with this wire id.
    pub fn from_id(id: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.id() == id)
    }

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Self::ProjectAdmin => "Project Admin",
            Self::Developer => "Developer",
            Self::Guest => "Guest",
            Self::Maintainer => "Maintainer",
            Self::LimitedGuest => "Limited Guest",
        }
    }
}

/// Whether a caller with these project roles (or a system administrator) may add, change and
/// remove members: only project admins can.
pub fn can_manage_members(sysadmin: bool, role_ids: &[i32]) -> bool {
    sysadmin || role_ids.contains(&ProjectRole::ProjectAdmin.id())
}

/// Whether the caller may see the member list: every role but limited guest.
pub fn can_list_members(sysadmin: bool, role_ids: &[i32]) -> bool {
    sysadmin
        || role_ids
            .iter()
            .any(|&id| id != ProjectRole::LimitedGuest.id() && ProjectRole::from_id(id).is_some())
}

/// Whether the caller may create projects under the server's `project_creation_restriction`.
pub fn can_create_projects(sysadmin: bool, restriction: Option<&str>) -> bool {
    sysadmin || restriction != Some("adminonly")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_ids_round_trip() {
        for role in ProjectRole::ALL {
            assert_eq!(ProjectRole::from_id(role.id()), Some(role));
        }
        assert_eq!(ProjectRole::from_id(0), None);
        assert_eq!(ProjectRole::from_id(6), None);
    }

    #[test]
    fn only_project_admins_and_sysadmins_manage_members() {
        assert!(can_manage_members(true, &[]));
        assert!(can_manage_members(false, &[2, 1]));
        assert!(!can_manage_members(false, &[4, 2, 3, 5]));
    }

    #[test]
    fn limited_guests_and_strangers_do_not_list_members() {
        assert!(can_list_members(false, &[3]));
        assert!(!can_list_members(false, &[5]));
        assert!(!can_list_members(false, &[]));
        assert!(can_list_members(true, &[]));
    }

    #[test]
    fn admin_only_creation_hides_the_button_from_users() {
        assert!(can_create_projects(false, Some("everyone")));
        assert!(can_create_projects(false, None));
        assert!(!can_create_projects(false, Some("adminonly")));
        assert!(can_create_projects(true, Some("adminonly")));
    }
}
