//! Who is calling and what they may do: passwords, credentials, registry tokens and RBAC.

pub mod credentials;
pub mod oidc;
pub mod password;
pub mod personal;
pub mod principal;
pub mod rbac;
pub mod robot;
pub mod session;
pub mod token;

pub use credentials::{AuthError, Authenticator, Credentials, next_credential_version};
pub use principal::Principal;
pub use rbac::{Action, ProjectAccess, ProjectRole, Rbac, Resource};
pub use robot::{RobotAccount, RobotLevel, RobotPermission};
pub use token::{Access, Claims, TokenService};
