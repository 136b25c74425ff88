//! Which run a checkpoint belongs to, and the file name it lives under.
//!
//! A run is a crate, a module path, a function (or the name the user chose)
//! and a fingerprint of the arguments that identify it. File names are built
//! from a sanitized, shortened name plus a hash of the whole identity, so
//! that no identity can name a file outside the checkpoint directory.

use serde::Serialize;

use crate::bytes::canonical;
use crate::bytes::format::Identity;
use crate::error::{Error, Result};

/// A stable 64-bit fingerprint of some bytes (XXH3). Stable across
/// platforms and releases: it is written into checkpoint files.
pub(crate) fn fingerprint(bytes: &[u8]) -> u64 {
    twox_hash::XxHash3_64::oneshot(bytes)
}

/// The fingerprint of a value's serde bytes (postcard, with every map's
/// entries in a canonical order, so a `HashMap` fingerprints the same in every
/// process), e.g. the arguments that identify a run.
pub(crate) fn fingerprint_of<K: Serialize + ?Sized>(key: &K) -> Result<u64> {
    let bytes = canonical::to_canonical_bytes(key)
        .map_err(|err| Error::Encode(format!("the run's key arguments: {err}")))?;
    Ok(fingerprint(&bytes))
}

/// The file-name stem of a run: `{name}-{hash}`, where `name` keeps only
/// `[A-Za-z0-9_-]` (at most 48 characters) and `hash` covers the whole identity.
pub(crate) fn file_stem(identity: &Identity) -> String {
    let mut whole = Vec::new();
    for part in [
        identity.crate_name.as_str(),
        identity.module_path.as_str(),
        identity.name.as_str(),
    ] {
        whole.extend_from_slice(&(part.len() as u64).to_le_bytes());
        whole.extend_from_slice(part.as_bytes());
    }
    whole.extend_from_slice(&identity.key_fingerprint.to_le_bytes());
    let readable: String = identity
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(48)
        .collect();
    let readable = readable.trim_start_matches(['-', '_']);
    let readable = if readable.is_empty() { "run" } else { readable };
    format!("{readable}-{:016x}", fingerprint(&whole))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(name: &str, key: u64) -> Identity {
        Identity {
            crate_name: "demo".into(),
            module_path: "demo::sim".into(),
            function: "run".into(),
            name: name.into(),
            key_fingerprint: key,
        }
    }

    #[test]
    fn stems_stay_inside_the_directory() {
        for name in [
            "../../etc/passwd",
            "/abs/path",
            "nul\0byte",
            ".hidden",
            "",
            &"x".repeat(10_000),
        ] {
            let stem = file_stem(&identity(name, 1));
            assert!(!stem.contains('/') && !stem.contains('\0'), "{stem}");
            assert!(!stem.starts_with('.') && !stem.starts_with('-'), "{stem}");
            assert!(stem.len() <= 48 + 17, "{stem}");
        }
    }

    #[test]
    fn stems_differ_by_key_and_name() {
        assert_ne!(
            file_stem(&identity("run", 1)),
            file_stem(&identity("run", 2))
        );
        assert_ne!(
            file_stem(&identity("a/b", 1)),
            file_stem(&identity("a_b", 1))
        );
        assert_eq!(
            file_stem(&identity("run", 7)),
            file_stem(&identity("run", 7))
        );
    }
}
