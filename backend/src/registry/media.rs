//! Manifest media types and what Berth reads out of a manifest.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::RegistryError;
use crate::digest::Digest;

/// The manifest media types Berth stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaType {
    OciManifest,
    OciIndex,
    DockerManifest,
    DockerManifestList,
}

impl MediaType {
    pub const OCI_MANIFEST: &'static str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_INDEX: &'static str = "application/vnd.oci.image.index.v1+json";
    pub const DOCKER_MANIFEST: &'static str =
        "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_MANIFEST_LIST: &'static str =
        "application/vnd.docker.distribution.manifest.list.v2+json";

    pub fn parse(value: &str) -> Option<Self> {
        // Parameters such as `; charset=utf-8` are not part of the type.
        let essence = value.split(';').next().unwrap_or("").trim();
        match essence {
            Self::OCI_MANIFEST => Some(Self::OciManifest),
            Self::OCI_INDEX => Some(Self::OciIndex),
            Self::DOCKER_MANIFEST => Some(Self::DockerManifest),
            Self::DOCKER_MANIFEST_LIST => Some(Self::DockerManifestList),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OciManifest => Self::OCI_MANIFEST,
            Self::OciIndex => Self::OCI_INDEX,
            Self::DockerManifest => Self::DOCKER_MANIFEST,
            Self::DockerManifestList => Self::DOCKER_MANIFEST_LIST,
        }
    }

    pub fn is_index(self) -> bool {
        matches!(self, Self::OciIndex | Self::DockerManifestList)
    }
}

/// A content descriptor inside a manifest.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDescriptor {
    media_type: Option<String>,
    digest: String,
    size: i64,
    #[serde(default)]
    urls: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    schema_version: Option<i64>,
    media_type: Option<String>,
    artifact_type: Option<String>,
    config: Option<RawDescriptor>,
    layers: Option<Vec<RawDescriptor>>,
    manifests: Option<Vec<RawDescriptor>>,
    subject: Option<RawDescriptor>,
    annotations: Option<Map<String, Value>>,
}

/// A descriptor Berth checks: its digest and whether it must exist in the repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub digest: Digest,
    pub size: u64,
    /// False for non-distributable (foreign) layers, which live outside the registry.
    pub must_exist: bool,
}

/// What Berth needs to know about a manifest to store it.
#[derive(Clone, Debug)]
pub struct ParsedManifest {
    pub media_type: MediaType,
    /// `artifactType`, or the config media type for image manifests.
    pub artifact_type: Option<String>,
    /// Config and layers of an image manifest.
    pub blobs: Vec<Reference>,
    /// Children of an index.
    pub children: Vec<Reference>,
    pub subject: Option<Digest>,
    pub annotations: Option<Map<String, Value>>,
}

fn descriptor(raw: &RawDescriptor, what: &str) -> Result<Reference, RegistryError> {
    let digest: Digest = raw.digest.parse().map_err(|e| {
        RegistryError::ManifestInvalid(format!("{what} has an invalid digest: {e}"))
    })?;
    if raw.size < 0 {
        return Err(RegistryError::ManifestInvalid(format!(
            "{what} has a negative size"
        )));
    }
    let foreign = raw
        .media_type
        .as_deref()
        .is_some_and(|m| m.contains(".nondistributable.") || m.contains(".foreign."))
        || raw.urls.as_ref().is_some_and(|u| !u.is_empty());
    Ok(Reference {
        digest,
        size: raw.size as u64,
        must_exist: !foreign,
    })
}

/// Parses and validates a manifest body sent with `content_type`.
///
/// # Errors
/// [`RegistryError::ManifestInvalid`] for anything that is not a well-formed manifest of a
/// supported type.
pub fn parse_manifest(
    body: &[u8],
    content_type: Option<&str>,
) -> Result<ParsedManifest, RegistryError> {
    let raw: RawManifest = serde_json::from_slice(body)
        .map_err(|e| RegistryError::ManifestInvalid(format!("not a valid manifest JSON: {e}")))?;
    let declared = raw.media_type.as_deref();
    let media_type = match (declared, content_type.and_then(MediaType::parse)) {
        (Some(declared), header) => {
            let parsed = MediaType::parse(declared).ok_or_else(|| {
                RegistryError::ManifestInvalid(format!(
                    "unsupported manifest media type {declared:?}"
                ))
            })?;
            if let Some(header) = header
                && header != parsed
            {
                return Err(RegistryError::ManifestInvalid(format!(
                    "Content-Type {} does not match the manifest's mediaType {declared}",
                    header.as_str()
                )));
            }
            parsed
        }
        (None, Some(header)) => header,
        // Neither says: an index has `manifests`, an image manifest has `config`.
        (None, None) if raw.manifests.is_some() => MediaType::OciIndex,
        (None, None) if raw.config.is_some() => MediaType::OciManifest,
        (None, None) => {
            return Err(RegistryError::ManifestInvalid(
                "manifest has no mediaType and the request no manifest Content-Type".into(),
            ));
        }
    };
    if raw.schema_version != Some(2) {
        return Err(RegistryError::ManifestInvalid(
            "schemaVersion must be 2".into(),
        ));
    }
    let subject = raw
        .subject
        .as_ref()
        .map(|s| descriptor(s, "subject").map(|r| r.digest))
        .transpose()?;
    let mut blobs = Vec::new();
    let mut children = Vec::new();
    let artifact_type = if media_type.is_index() {
        let manifests = raw.manifests.as_ref().ok_or_else(|| {
            RegistryError::ManifestInvalid("an index must have a manifests array".into())
        })?;
        for (i, child) in manifests.iter().enumerate() {
            children.push(descriptor(child, &format!("manifests[{i}]"))?);
        }
        raw.artifact_type.clone()
    } else {
        let config = raw.config.as_ref().ok_or_else(|| {
            RegistryError::ManifestInvalid("an image manifest must have a config".into())
        })?;
        blobs.push(descriptor(config, "config")?);
        let layers = raw.layers.as_ref().ok_or_else(|| {
            RegistryError::ManifestInvalid("an image manifest must have a layers array".into())
        })?;
        for (i, layer) in layers.iter().enumerate() {
            blobs.push(descriptor(layer, &format!("layers[{i}]"))?);
        }
        raw.artifact_type
            .clone()
            .or_else(|| config.media_type.clone())
    };
    Ok(ParsedManifest {
        media_type,
        artifact_type,
        blobs,
        children,
        subject,
        annotations: raw.annotations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const M1: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:f138e3eebb0e49daacab1b742ee6907a476ef98ab81ede2b4defa0949e6e9062","size":12}]}"#;

    #[test]
    fn parses_an_image_manifest() {
        let parsed = parse_manifest(M1.as_bytes(), None).expect("valid");
        assert_eq!(parsed.media_type, MediaType::OciManifest);
        assert_eq!(parsed.blobs.len(), 2);
        assert_eq!(
            parsed.artifact_type.as_deref(),
            Some("application/vnd.oci.image.config.v1+json")
        );
    }

    #[test]
    fn infers_the_type_from_the_content_type_header() {
        let helm = M1.replace(
            r#""mediaType":"application/vnd.oci.image.manifest.v1+json","#,
            "",
        );
        let parsed = parse_manifest(helm.as_bytes(), Some(MediaType::OCI_MANIFEST)).expect("valid");
        assert_eq!(parsed.media_type, MediaType::OciManifest);
    }

    #[test]
    fn rejects_mismatched_types_and_garbage() {
        assert!(parse_manifest(M1.as_bytes(), Some(MediaType::OCI_INDEX)).is_err());
        assert!(parse_manifest(b"not json", None).is_err());
        assert!(parse_manifest(br#"{"schemaVersion":1}"#, None).is_err());
        let bad_digest = M1.replace("sha256:f138", "sha256:zz38");
        assert!(parse_manifest(bad_digest.as_bytes(), None).is_err());
    }
}
