//! Dumps: the files of one read as the chip gave them, in a folder that `cancuoc
//! verify DIR` checks offline and `cancuoc sim --from-dump DIR` serves as a card.
//!
//! A dump folder holds one file per file read, named after it (`EF_COM.bin`,
//! `EF_SOD.bin`, `EF_CardAccess.bin`, `EF_CardSecurity.bin`, `DG1.bin` … `DG16.bin`,
//! the exact bytes), and `manifest.json`: the reader, the ATR, how the card was opened,
//! how many APDUs the read took, the cancuoc version and the time. The access key (CAN,
//! MRZ) is never written: whoever replays a dump gives it again.
//!
//! A dump folder is untrusted input (it travels by mail): [`Dump::load`] reads only the
//! files the manifest names, only by their canonical names, never through a symbolic
//! link, and within fixed sizes. Files are written with mode 0600, created new, never
//! through a symbolic link.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use apdu::{Card, Command, Error, Response};
use serde::{Deserialize, Serialize};

/// The manifest's name in a dump folder.
pub const MANIFEST: &str = "manifest.json";
/// The format written, `format` in the manifest.
pub const FORMAT: u32 = 1;
/// Largest manifest read.
pub const MAX_MANIFEST: u64 = 64 * 1024;
/// Largest file of a dump (DG2/DG3 with images stay well under this).
pub const MAX_FILE: u64 = 4 * 1024 * 1024;
/// Largest sum of a dump's files.
pub const MAX_TOTAL: u64 = 16 * 1024 * 1024;
/// Largest ATR (ISO/IEC 7816-3: 33 bytes).
pub const MAX_ATR: usize = 33;
/// Largest text field of the manifest (reader name, access method, version).
const MAX_TEXT: usize = 256;

/// Why a dump could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// A file system error on `path`.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        message: String,
    },
    /// The manifest or the folder is not a dump this version reads.
    #[error("{0}")]
    Format(String),
}

fn io(path: &Path, e: impl std::fmt::Display) -> DumpError {
    DumpError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn format(message: impl Into<String>) -> DumpError {
    DumpError::Format(message.into())
}

/// `manifest.json`: what the dump is, never who it is of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The dump format, [`FORMAT`].
    pub format: u32,
    /// The cancuoc version that read the card.
    pub cancuoc_version: String,
    /// When the read ended, RFC 3339 UTC.
    pub time: String,
    /// The reader, as named on the command line or by pcscd.
    pub reader: String,
    /// The card's ATR, hex (empty when the reader gave none).
    pub atr: String,
    /// How the card was opened (`verification.access` of the result: `PACE-CAN`, `BAC`…).
    pub access: String,
    /// Command APDUs the read sent.
    pub apdus: u64,
    /// The files, by name (`EF.SOD`, `DG1`), each with its size.
    pub files: BTreeMap<String, u64>,
}

/// One read's files and what is known of the read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dump {
    /// The manifest (its `files` match `files`).
    pub manifest: Manifest,
    /// The files by name, as the chip gave them.
    pub files: BTreeMap<String, Vec<u8>>,
}

/// Whether `name` is a file a dump may hold.
pub fn known_name(name: &str) -> bool {
    matches!(
        name,
        "EF.COM" | "EF.SOD" | "EF.CardAccess" | "EF.CardSecurity"
    ) || crate::lds::DataGroup::all().any(|dg| dg.name() == name)
}

/// The file name in the folder of the file `name` (`EF.SOD` → `EF_SOD.bin`).
pub fn file_name(name: &str) -> String {
    format!("{}.bin", name.replace('.', "_"))
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    hex::decode(text).ok()
}

impl Manifest {
    /// Parses and checks a manifest.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, DumpError> {
        if bytes.len() as u64 > MAX_MANIFEST {
            return Err(format("manifest.json: too large"));
        }
        let manifest: Manifest = serde_json::from_slice(bytes)
            .map_err(|e| format(std::format!("manifest.json: {e}")))?;
        manifest.check()?;
        Ok(manifest)
    }

    fn check(&self) -> Result<(), DumpError> {
        if self.format != FORMAT {
            return Err(format(std::format!(
                "manifest.json: format {} (this version reads {FORMAT})",
                self.format
            )));
        }
        for (field, text) in [
            ("cancuoc_version", &self.cancuoc_version),
            ("time", &self.time),
            ("reader", &self.reader),
            ("access", &self.access),
        ] {
            if text.len() > MAX_TEXT || text.chars().any(char::is_control) {
                return Err(format(std::format!(
                    "manifest.json: {field}: not a short line"
                )));
            }
        }
        match self.atr_bytes() {
            Some(atr) if atr.len() <= MAX_ATR => {}
            _ => return Err(format("manifest.json: atr: hex of at most 33 bytes")),
        }
        let mut total = 0u64;
        for (name, &size) in &self.files {
            if !known_name(name) {
                return Err(format(std::format!(
                    "manifest.json: {name:?} is not a file of a dump"
                )));
            }
            if size > MAX_FILE {
                return Err(format(std::format!("{name}: larger than {MAX_FILE} bytes")));
            }
            total = total.saturating_add(size);
        }
        if total > MAX_TOTAL {
            return Err(format(std::format!(
                "the files add up to more than {MAX_TOTAL} bytes"
            )));
        }
        if !self.files.contains_key("EF.SOD") {
            return Err(format("the dump holds no EF.SOD"));
        }
        Ok(())
    }

    /// The ATR's bytes; `None` when the manifest's is not hex.
    pub fn atr_bytes(&self) -> Option<Vec<u8>> {
        hex_decode(&self.atr)
    }
}

impl Dump {
    /// Checks `manifest` against `files` (a reader that returns each file the manifest
    /// names, by name, at most `limit` bytes): sizes must match what the manifest says.
    pub fn from_parts(
        manifest: Manifest,
        mut read: impl FnMut(&str, u64) -> Result<Vec<u8>, DumpError>,
    ) -> Result<Dump, DumpError> {
        manifest.check()?;
        let mut files = BTreeMap::new();
        for (name, &size) in &manifest.files {
            let data = read(name, MAX_FILE)?;
            if data.len() as u64 != size {
                return Err(format(std::format!(
                    "{name}: {} bytes, the manifest says {size}",
                    data.len()
                )));
            }
            files.insert(name.clone(), data);
        }
        Ok(Dump { manifest, files })
    }

    /// Reads the dump in `dir`.
    pub fn load(dir: &Path) -> Result<Dump, DumpError> {
        let manifest = read_bounded(&dir.join(MANIFEST), MAX_MANIFEST)?;
        let manifest = Manifest::parse(&manifest)?;
        Dump::from_parts(manifest, |name, limit| {
            read_bounded(&dir.join(file_name(name)), limit)
        })
    }

    /// Writes the dump into `dir` (created with mode 0700 if missing; an existing
    /// folder must not hold the dump's names already). The manifest comes last, so a
    /// folder with a manifest is complete.
    pub fn write(&self, dir: &Path) -> Result<(), DumpError> {
        self.manifest.check()?;
        match std::fs::symlink_metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(io(dir, "not a folder")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| io(dir, e))?,
            Err(e) => return Err(io(dir, e)),
        }
        for (name, data) in &self.files {
            write_new(&dir.join(file_name(name)), data)?;
        }
        let mut text =
            serde_json::to_vec_pretty(&self.manifest).map_err(|e| format(e.to_string()))?;
        text.push(b'\n');
        write_new(&dir.join(MANIFEST), &text)
    }

    /// The dump of a finished read: `files` as the session returned them.
    pub fn of_read(
        files: BTreeMap<String, Vec<u8>>,
        reader: &str,
        atr: &[u8],
        access: &str,
        apdus: u64,
    ) -> Dump {
        let manifest = Manifest {
            format: FORMAT,
            cancuoc_version: env!("CARGO_PKG_VERSION").to_owned(),
            time: crate::pki::time::Time::now().to_string(),
            reader: reader
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_TEXT)
                .collect(),
            atr: hex::encode_upper(atr),
            access: access.to_owned(),
            apdus,
            files: files
                .iter()
                .map(|(name, data)| (name.clone(), data.len() as u64))
                .collect(),
        };
        Dump { manifest, files }
    }

    /// A file of the dump.
    pub fn file(&self, name: &str) -> Option<&[u8]> {
        self.files.get(name).map(Vec::as_slice)
    }
}

/// Opens `path` for reading, never through a symbolic link, and reads at most `limit`
/// bytes of a regular file.
fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, DumpError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(path)
        .map_err(|e| io(path, e))?;
    let meta = file.metadata().map_err(|e| io(path, e))?;
    if !meta.is_file() {
        return Err(io(path, "not a regular file"));
    }
    if meta.len() > limit {
        return Err(io(path, std::format!("larger than {limit} bytes")));
    }
    let mut data = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut data)
        .map_err(|e| io(path, e))?;
    if data.len() as u64 > limit {
        return Err(io(path, std::format!("larger than {limit} bytes")));
    }
    Ok(data)
}

/// Creates `path` (mode 0600; it must not exist, and is never reached through a
/// symbolic link) and writes `data`.
fn write_new(path: &Path, data: &[u8]) -> Result<(), DumpError> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(path)
        .map_err(|e| io(path, e))?;
    file.write_all(data).map_err(|e| io(path, e))?;
    file.sync_all().map_err(|e| io(path, e))
}

/// The paths of a dump's files, for `cancuoc verify DIR`.
pub fn paths(dir: &Path, dump: &Dump) -> Vec<PathBuf> {
    dump.files.keys().map(|n| dir.join(file_name(n))).collect()
}

/// A card that counts the command APDUs sent through it (for the manifest).
#[derive(Debug)]
pub struct Counting<C> {
    inner: C,
    /// Commands sent.
    pub apdus: u64,
}

impl<C: Card> Counting<C> {
    /// Counts the commands sent to `inner`.
    pub fn new(inner: C) -> Counting<C> {
        Counting { inner, apdus: 0 }
    }
}

impl<C: Card> Card for Counting<C> {
    fn transmit(&mut self, command: &Command) -> Result<Response, Error> {
        self.apdus += 1;
        self.inner.transmit(command)
    }
    fn extended_length(&self) -> bool {
        self.inner.extended_length()
    }
    fn max_le(&self) -> usize {
        self.inner.max_le()
    }
    fn extended_length_announced(&self) -> Option<bool> {
        self.inner.extended_length_announced()
    }
    fn extended_length_untried(&self) -> bool {
        self.inner.extended_length_untried()
    }
    fn extended_length_unconfirmed(&self) -> bool {
        self.inner.extended_length_unconfirmed()
    }
    fn set_extended_length(&mut self, works: bool) {
        self.inner.set_extended_length(works);
    }
    fn max_le_extended(&self) -> usize {
        self.inner.max_le_extended()
    }
    fn transmit_length_probe(&mut self, command: &Command) -> Result<Response, Error> {
        self.apdus += 1;
        self.inner.transmit_length_probe(command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Dump {
        let mut files = BTreeMap::new();
        files.insert("EF.SOD".to_owned(), vec![0x77, 0x01, 0x00]);
        files.insert("DG1".to_owned(), vec![0x61, 0x00]);
        Dump::of_read(files, "Virtual PCD 00 00", &[0x3B, 0x80], "PACE-CAN", 12)
    }

    fn temp(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(std::format!("cancuoc-dump-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn round_trip_with_private_modes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp("round-trip");
        let dump = sample();
        dump.write(&dir).unwrap();
        assert_eq!(Dump::load(&dir).unwrap(), dump);
        for name in ["manifest.json", "EF_SOD.bin", "DG1.bin"] {
            let mode = std::fs::metadata(dir.join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
        // Never over an earlier dump.
        assert!(dump.write(&dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn symbolic_links_are_neither_written_nor_read() {
        let dir = temp("links");
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("target");
        std::fs::write(&target, b"x").unwrap();
        std::os::unix::fs::symlink(&target, dir.join("EF_SOD.bin")).unwrap();
        assert!(sample().write(&dir).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"x");
        std::fs::remove_dir_all(&dir).unwrap();

        let dir = temp("links-read");
        sample().write(&dir).unwrap();
        std::fs::remove_file(dir.join("DG1.bin")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.join("DG1.bin")).unwrap();
        assert!(Dump::load(&dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hostile_manifests_are_refused() {
        let good = serde_json::to_value(&sample().manifest).unwrap();
        let with = |key: &str, value: serde_json::Value| {
            let mut m = good.clone();
            m[key] = value;
            serde_json::to_vec(&m).unwrap()
        };
        assert!(Manifest::parse(&serde_json::to_vec(&good).unwrap()).is_ok());
        for bad in [
            with(
                "files",
                serde_json::json!({"../etc/passwd": 1, "EF.SOD": 3}),
            ),
            with("files", serde_json::json!({"EF.SOD": MAX_FILE + 1})),
            with("files", serde_json::json!({"DG1": 2})),
            with("atr", serde_json::json!("zz")),
            with("atr", serde_json::json!("00".repeat(34))),
            with("format", serde_json::json!(2)),
            with("reader", serde_json::json!("a\nb")),
            with("key", serde_json::json!("123456")),
        ] {
            assert!(
                Manifest::parse(&bad).is_err(),
                "{}",
                String::from_utf8_lossy(&bad)
            );
        }
        // A file whose size differs from the manifest's.
        let dump = Dump::from_parts(sample().manifest, |_, _| Ok(vec![0; 5]));
        assert!(dump.is_err());
    }
}
