//! A profile file on its way to a [`Profile`](super::Profile): what every part of
//! personalization (files, keys, document signer, attacks) reads from.

use std::path::PathBuf;

use super::format::ProfileFile;
use super::{LoadOptions, ProfileError, fixtures_dir, shared_dir};

/// A profile file on its way to a profile: the file, where it lies, how it is loaded.
pub(super) struct Builder {
    pub(super) file: ProfileFile,
    pub(super) base: PathBuf,
    pub(super) source: PathBuf,
    pub(super) options: LoadOptions,
}

impl Builder {
    pub(super) fn invalid(&self, message: impl Into<String>) -> ProfileError {
        ProfileError::Invalid {
            profile: self.file.name.clone(),
            message: message.into(),
        }
    }

    /// A path from the profile: `{fixtures}`, `{shared}` and `{files}` expanded,
    /// relative ones taken from the profile's folder.
    pub(super) fn path(&self, text: &str) -> PathBuf {
        let files = self.files_dir().unwrap_or_default();
        let expanded = text
            .replace("{fixtures}", &fixtures_dir().to_string_lossy())
            .replace("{shared}", &shared_dir().to_string_lossy())
            .replace("{files}", &files.to_string_lossy());
        let p = PathBuf::from(expanded);
        if p.is_absolute() {
            p
        } else {
            self.base.join(p)
        }
    }

    pub(super) fn files_dir(&self) -> Option<PathBuf> {
        if let Some(dir) = &self.options.files_dir {
            return Some(dir.clone());
        }
        let dir = self.file.files.as_ref()?.dir.as_str();
        let expanded = dir
            .replace("{fixtures}", &fixtures_dir().to_string_lossy())
            .replace("{shared}", &shared_dir().to_string_lossy());
        let p = PathBuf::from(expanded);
        Some(if p.is_absolute() {
            p
        } else {
            self.base.join(p)
        })
    }
}

/// Hex bytes written in a profile; spaces and colons between them are allowed.
pub(super) fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    hex::decode(compact).ok()
}
