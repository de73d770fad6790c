//! Card profiles: complete simulated chips described by data files
//! (`fixtures/cards/*.toml`, format in `fixtures/cards/README.md`).
//!
//! A profile names the chip's behaviour (ATR, UID, extended length, how it refuses a
//! large Le, whether SELECT MF works), its access control (BAC, PACE), its holder (from
//! which DG1, and for Vietnamese cards DG13, are encoded), a synthetic face (DG2), the
//! chip authentication and active authentication keys (DG14, DG15), and the document
//! signer that signs its EF.SOD at load time over exactly the bytes served. Raw files
//! (a dump, or the BSI reference data set) can be served instead, EF.SOD included.
//!
//! Every holder here is invented. Names use Vietnamese diacritics on purpose: the
//! readers must carry them through unchanged.

use std::path::{Path, PathBuf};

use apdu::emulator::CardImage;
use apdu::mrz::MrzKey;
use apdu::pace::ChipStaticKey;
use apdu::read_binary::ICAO_AID;
use apdu::security_infos::ChipAuthenticationInfo;
use zeroize::Zeroizing;

use crate::lds::LdsFile;
use apdu::hash::HashAlgorithm;

use builder::Builder;
use format::ProfileFile;

mod attack;
mod builder;
mod document_signer;
mod format;
mod keys;
mod personalize;

/// The profiles that ship with cancuoc, by name: the genuine cards, then the attack
/// cards (`attack-…`, each a forgery or a clone a reader must not call genuine).
pub const BUILTIN: &[&str] = &[
    "vn-cccd",
    "vn-cccd-bac",
    "vn-cccd-cam",
    "vn-cccd-ext-unannounced",
    "vn-cccd-le224",
    "vn-cccd-dg11-dg12",
    "passport",
    "bsi-reference",
    "attack-clone-refuses-proofs",
    "attack-clone-hides-keys",
    "attack-grafted-dg13",
    "attack-foreign-csca",
    "attack-cam-wrong-proof",
    "attack-revoked-intermediate",
];

/// File identifier of EF.CardSecurity in the master file.
pub const EF_CARD_SECURITY: u16 = 0x011D;
/// Short file identifier of EF.CardSecurity.
pub const EF_CARD_SECURITY_SFI: u8 = 0x1D;

/// Largest file a profile may name (faces, dumps); real data groups stay far below.
const MAX_FILE: u64 = 1 << 20;

/// Why a profile could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// A file could not be read.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The profile file is not valid TOML for the format.
    #[error("{path}: {message}")]
    Format {
        /// The profile file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A value in the profile is wrong.
    #[error("profile {profile}: {message}")]
    Invalid {
        /// The profile's name.
        profile: String,
        /// What is wrong.
        message: String,
    },
    /// A file could not be encoded.
    #[error(transparent)]
    Lds(#[from] crate::lds::Error),
}

/// What a tester needs to open a simulated card: the numbers printed on it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct PrintedData {
    /// The 12-digit personal identification number (Vietnamese cards), else empty.
    pub id_number: String,
    /// The document number in the MRZ.
    pub document_number: String,
    /// Date of birth, `YYMMDD`.
    pub birth: String,
    /// Date of expiry, `YYMMDD`.
    pub expiry: String,
    /// The card access number (Vietnamese cards: last six digits of the ID number);
    /// empty when the card has none.
    pub can: String,
    /// The whole MRZ, lines joined without separators.
    pub mrz: String,
}

impl core::fmt::Debug for PrintedData {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PrintedData([redacted])")
    }
}

/// A private key as a profile holds it: DER, zeroized on drop.
#[derive(Clone)]
pub struct KeyMaterial {
    /// The encoding of `der`.
    pub format: KeyFormat,
    /// The key.
    pub der: Zeroizing<Vec<u8>>,
}

impl core::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "KeyMaterial({:?}, [redacted])", self.format)
    }
}

/// How a private key is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyFormat {
    /// PKCS#8 PrivateKeyInfo (the BSI data set's `*_sk.pkcs8`).
    Pkcs8,
    /// RFC 5915 ECPrivateKey (PEM `EC PRIVATE KEY`).
    Sec1,
    /// PKCS#1 RSAPrivateKey (PEM `RSA PRIVATE KEY`).
    Pkcs1,
}

/// The chip authentication key of a profile, for the chip side of CA.
#[derive(Clone, Debug)]
pub struct ChipAuthKey {
    /// What DG14 advertises.
    pub info: ChipAuthenticationInfo,
    /// The private key as stored.
    pub key: KeyMaterial,
    /// The key pair on its group, when the curve is a standardized one.
    pub static_key: Option<ChipStaticKey>,
}

/// The active authentication key of a profile.
#[derive(Clone, Debug)]
pub struct ActiveAuthKey {
    /// The private key as stored.
    pub key: KeyMaterial,
    /// The hash it signs with.
    pub hash: HashAlgorithm,
}

/// A simulated card: its chip image, what is printed on it, and its keys.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Profile name (`vn-cccd`).
    pub name: String,
    /// One line about the card.
    pub description: String,
    /// The chip.
    pub image: CardImage,
    /// The card's printed data.
    pub printed: PrintedData,
    /// The contactless UID (4 or 7 bytes) a PC/SC reader reports.
    pub uid: Vec<u8>,
    /// The CSCA that verifies its EF.SOD, when known.
    pub csca: Option<PathBuf>,
    /// Chip authentication key (also in `image.chip_authentication` when its curve is a
    /// standardized one).
    pub chip_authentication: Option<ChipAuthKey>,
    /// Active authentication key (also in `image.active_authentication`).
    pub active_authentication: Option<ActiveAuthKey>,
    /// The profile file it came from.
    pub source: PathBuf,
}

impl Profile {
    /// The MRZ information that opens the chip with BAC.
    pub fn mrz_key(&self) -> Result<MrzKey, apdu::Error> {
        MrzKey::new(
            &self.printed.document_number,
            &self.printed.birth,
            &self.printed.expiry,
        )
    }

    /// The bytes a file of the eMRTD application holds.
    pub fn file(&self, file: LdsFile) -> Option<&[u8]> {
        self.image
            .applications
            .get(ICAO_AID.as_slice())
            .and_then(|files| files.get(&file.fid()))
            .map(|f| f.data.as_slice())
    }
}

/// Where the bundled fixtures are: `$CANCUOC_FIXTURES`, the source tree this binary was
/// built from, `./fixtures`, or `/usr/local/share/cancuoc/fixtures`.
pub fn fixtures_dir() -> PathBuf {
    let candidates = [
        std::env::var_os("CANCUOC_FIXTURES").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")),
        Some(PathBuf::from("fixtures")),
        Some(PathBuf::from("/usr/local/share/cancuoc/fixtures")),
    ];
    let found = candidates
        .iter()
        .flatten()
        .find(|p| p.join("cards").is_dir())
        .cloned();
    let dir = found.unwrap_or_else(|| PathBuf::from("fixtures"));
    dir.canonicalize().unwrap_or(dir)
}

/// The third-party reference data (`$CANCUOC_SHARED`, else `shared/` beside the
/// checkout).
pub fn shared_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CANCUOC_SHARED") {
        return PathBuf::from(dir);
    }
    let dir = fixtures_dir().join("../../shared");
    dir.canonicalize().unwrap_or(dir)
}

/// Options for loading a profile.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Replaces the profile's `[files] dir` (e.g. another copy of the BSI data set).
    pub files_dir: Option<PathBuf>,
}

/// The built-in Vietnamese CCCD profile.
pub fn vn_cccd() -> Result<Profile, ProfileError> {
    load("vn-cccd", &LoadOptions::default())
}

/// Loads a profile by built-in name or by path to a `.toml` file.
pub fn load(name_or_path: &str, options: &LoadOptions) -> Result<Profile, ProfileError> {
    let path = if BUILTIN.contains(&name_or_path) {
        fixtures_dir()
            .join("cards")
            .join(format!("{name_or_path}.toml"))
    } else {
        PathBuf::from(name_or_path)
    };
    let text = read_limited(&path)?;
    let text = String::from_utf8(text).map_err(|_| ProfileError::Format {
        path: path.clone(),
        message: "not UTF-8".into(),
    })?;
    let file: ProfileFile = toml::from_str(&text).map_err(|e| ProfileError::Format {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let base = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    Builder {
        file,
        base,
        source: path,
        options: options.clone(),
    }
    .build()
}

fn read_limited(path: &Path) -> Result<Vec<u8>, ProfileError> {
    let io = |message: String| ProfileError::Io {
        path: path.to_path_buf(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| io(e.to_string()))?;
    if meta.len() > MAX_FILE {
        return Err(io(format!("larger than {MAX_FILE} bytes")));
    }
    std::fs::read(path).map_err(|e| io(e.to_string()))
}
