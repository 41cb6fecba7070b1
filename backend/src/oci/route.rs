//! Parsing `/v2/...` paths into routes.
//!
//! Repository names contain slashes and may even contain `manifests` or `blobs` as components
//! (`proj/manifests/manifests/v1` names manifest `v1` of repository `proj/manifests`), so a path
//! is read from its end: the last one to three segments choose the route, the rest is the name.

/// A `/v2` endpoint with its path parameters.
#[derive(Debug, PartialEq, Eq)]
pub enum Route<'a> {
    Base,
    Catalog,
    Tags { name: &'a str },
    Manifest { name: &'a str, reference: &'a str },
    Referrers { name: &'a str, digest: &'a str },
    Blob { name: &'a str, digest: &'a str },
    Uploads { name: &'a str },
    Upload { name: &'a str, id: &'a str },
}

impl<'a> Route<'a> {
    /// Parses the path after `/v2/` (already percent-decoded). `None` when no endpoint matches.
    pub fn parse(path: &'a str) -> Option<Self> {
        if path.is_empty() {
            return Some(Self::Base);
        }
        if path == "_catalog" {
            return Some(Self::Catalog);
        }
        if let Some(name) = path.strip_suffix("/tags/list") {
            return Some(Self::Tags { name });
        }
        if let Some(name) = path
            .strip_suffix("/blobs/uploads/")
            .or_else(|| path.strip_suffix("/blobs/uploads"))
        {
            return Some(Self::Uploads { name });
        }
        let (head, last) = path.rsplit_once('/')?;
        if last.is_empty() {
            return None;
        }
        if let Some(name) = head.strip_suffix("/blobs/uploads") {
            return Some(Self::Upload { name, id: last });
        }
        let (name, kind) = head.rsplit_once('/')?;
        match kind {
            "manifests" => Some(Self::Manifest {
                name,
                reference: last,
            }),
            "referrers" => Some(Self::Referrers { name, digest: last }),
            "blobs" => Some(Self::Blob { name, digest: last }),
            _ => None,
        }
    }

    /// The repository name the route addresses, if any.
    pub fn name(&self) -> Option<&'a str> {
        match *self {
            Self::Base | Self::Catalog => None,
            Self::Tags { name }
            | Self::Manifest { name, .. }
            | Self::Referrers { name, .. }
            | Self::Blob { name, .. }
            | Self::Uploads { name }
            | Self::Upload { name, .. } => Some(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_routes_from_the_end_of_the_path() {
        assert_eq!(Route::parse(""), Some(Route::Base));
        assert_eq!(Route::parse("_catalog"), Some(Route::Catalog));
        assert_eq!(
            Route::parse("proj/team/app/tags/list"),
            Some(Route::Tags {
                name: "proj/team/app"
            })
        );
        assert_eq!(
            Route::parse("proj/manifests/manifests/v1"),
            Some(Route::Manifest {
                name: "proj/manifests",
                reference: "v1"
            })
        );
        assert_eq!(
            Route::parse("proj/blobs/uploads/blobs/uploads/"),
            Some(Route::Uploads {
                name: "proj/blobs/uploads"
            })
        );
        assert_eq!(
            Route::parse("proj/blobs/uploads/tags/list"),
            Some(Route::Tags {
                name: "proj/blobs/uploads"
            })
        );
        assert_eq!(
            Route::parse("proj/app/blobs/uploads/0b8f"),
            Some(Route::Upload {
                name: "proj/app",
                id: "0b8f"
            })
        );
        assert_eq!(
            Route::parse("proj/app/blobs/sha256:abc"),
            Some(Route::Blob {
                name: "proj/app",
                digest: "sha256:abc"
            })
        );
        assert_eq!(
            Route::parse("proj/app/referrers/sha256:abc"),
            Some(Route::Referrers {
                name: "proj/app",
                digest: "sha256:abc"
            })
        );
        assert_eq!(Route::parse("proj/app"), None);
        assert_eq!(Route::parse("proj/app/manifests/"), None);
    }
}
