//! Files the command line writes with personal data in them (`--face`, `--raw`).

use std::fs::File;
use std::io;
use std::path::Path;

/// Creates (or truncates) `path` for writing, readable by its owner only (mode 0600),
/// refusing to follow a symlink at `path` (`ELOOP`): a link planted where the output is
/// expected must not redirect personal data elsewhere. An existing file keeps its
/// owner but is brought to mode 0600 before anything is written.
pub fn create_private(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(nix::libc::ELOOP) {
                io::Error::other("a symlink; not following it")
            } else {
                e
            }
        })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// Writes `data` to a file made by [`create_private`].
pub fn write_private(path: &Path, data: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    let mut file = create_private(path)?;
    file.write_all(data)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("cancuoc-output-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn new_and_existing_files_are_owner_only() {
        let d = dir("mode");
        let new = d.join("face.jpg");
        write_private(&new, b"jpeg").unwrap();
        assert_eq!(
            std::fs::metadata(&new).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let old = d.join("old.bin");
        std::fs::write(&old, b"previous, longer content").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&old, b"new").unwrap();
        assert_eq!(
            std::fs::metadata(&old).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(std::fs::read(&old).unwrap(), b"new");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_symlink_is_not_followed() {
        let d = dir("link");
        let target = d.join("elsewhere");
        std::fs::write(&target, b"untouched").unwrap();
        let link = d.join("face.png");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = write_private(&link, b"png").unwrap_err();
        assert!(err.to_string().contains("symlink"), "{err}");
        assert_eq!(std::fs::read(&target).unwrap(), b"untouched");
        // A dangling link is refused too: nothing is created at its target.
        let dangling = d.join("dangling.png");
        std::os::unix::fs::symlink(d.join("absent"), &dangling).unwrap();
        assert!(write_private(&dangling, b"png").is_err());
        assert!(!d.join("absent").exists());
        let _ = std::fs::remove_dir_all(&d);
    }
}
