//! Wire errors: the OCI `errors` array on `/v2` and Harbor's error envelope on the REST API.
//!
//! Each code is data, kept here once with its HTTP status. Domain errors convert into
//! [`OciError`] or [`ApiError`] through one `From` impl each, so handlers only use `?`.

mod api;
mod oci;

pub use api::{ApiError, ApiErrorCode};
pub use oci::{Challenge, OciError, OciErrorCode};

/// `Retry-After` sent with a 503 while the database or storage backend is unreachable.
pub(crate) const UNAVAILABLE_RETRY_AFTER_SECONDS: u64 = 5;
