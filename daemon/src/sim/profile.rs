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

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use apdu::StatusWord;
use apdu::access::EF_CARD_ACCESS;
use apdu::active_auth::{AaHash, ChipAa};
use apdu::asn1::Oid;
use apdu::crypto::CipherSuite;
use apdu::ec::CurveId;
use apdu::emulator::{CardImage, ChipAttack, ChipLimits, EmulatedFile, FileAccess, LeRefusal};
use apdu::key_agreement::Group;
use apdu::mrz::MrzKey;
use apdu::pace::{Can, ChipPaceConfig, ChipStaticKey, ParameterIdRule};
use apdu::read_binary::ICAO_AID;
use apdu::security_infos::{
    ActiveAuthenticationInfo, CaProtocol, ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo,
    KeyAgreement, Mapping, PaceInfo, PaceProtocol, SecurityInfo, SecurityInfos,
};
use apdu::tlv;
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::lds::dg1::{Dg1, MrzFields, MrzFormat, Sex, vn_optional_data};
use crate::lds::dg2::encode_dg2;
use crate::lds::dg11::Dg11;
use crate::lds::dg12::Dg12;
use crate::lds::dg13::{VnDate, VnExtra, VnIdentity};
use crate::lds::dg15::Dg15;
use crate::lds::ef_com::EfCom;
use crate::lds::{DataGroup, LdsFile};
use crate::trust::certificate::{Certificate, EcDomain};
use crate::trust::issue::{self, PrivateKey, SodOptions};
use crate::trust::signature::{HashAlgorithm, SignatureAlgorithm};
use apdu::rng::DeterministicRng;

use super::face::synthetic_face;
use crate::transport::atr::contactless_atr;

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

// ---- The file format -------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    name: String,
    #[serde(default)]
    description: String,
    chip: ChipSection,
    access: AccessSection,
    holder: Option<HolderSection>,
    face: Option<FaceSection>,
    dg11: Option<Dg11Section>,
    dg12: Option<Dg12Section>,
    dg13: Option<Dg13Section>,
    #[serde(default)]
    data_groups: DataGroupsSection,
    chip_authentication: Option<CaSection>,
    active_authentication: Option<AaSection>,
    sod: Option<SodSection>,
    files: Option<FilesSection>,
    /// How an attack card's chip departs from a genuine one.
    clone: Option<CloneSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChipSection {
    uid: String,
    historical_bytes: Option<String>,
    #[serde(default)]
    extended_length: bool,
    max_le: Option<usize>,
    #[serde(default = "default_le_refusal")]
    le_refusal: String,
    #[serde(default = "yes")]
    select_mf: bool,
    #[serde(default = "yes")]
    sfi: bool,
}

fn default_le_refusal() -> String {
    "6700".into()
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessSection {
    #[serde(default)]
    bac: bool,
    pace: Option<PaceSection>,
    /// SecurityInfos EF.CardAccess carries beside the PACEInfo, as real cards do:
    /// "chip_authentication" (the ChipAuthenticationInfo of [chip_authentication]) and
    /// "terminal_authentication" (a TerminalAuthenticationInfo, version 1).
    #[serde(default)]
    card_access: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PaceSection {
    mapping: String,
    parameter_id: u64,
    cipher: String,
    #[serde(default = "default_passwords")]
    passwords: Vec<String>,
    /// How the chip treats the parameter ID (tag 0x84) in MSE:Set AT: "optional"
    /// (default), "required" (6A80 without it), "refused" (6A87 with it).
    #[serde(default)]
    mse_parameter_id: Option<String>,
}

fn default_passwords() -> Vec<String> {
    vec!["can".into(), "mrz".into()]
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HolderSection {
    document_code: String,
    issuing_state: String,
    nationality: String,
    id_number: Option<String>,
    document_number: Option<String>,
    optional_data: Option<String>,
    can: Option<String>,
    birth: String,
    expiry: String,
    sex: String,
    surname: String,
    given_names: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaceSection {
    seed: u64,
    #[serde(default = "default_face_width")]
    width: u32,
    #[serde(default = "default_face_height")]
    height: u32,
    #[serde(default = "default_face_quality")]
    quality: u8,
}

fn default_face_width() -> u32 {
    360
}
fn default_face_height() -> u32 {
    480
}
fn default_face_quality() -> u8 {
    62
}

/// DG11, additional personal details (ICAO 9303-10 §4.7.11); text as stored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Dg11Section {
    full_name: Option<String>,
    #[serde(default)]
    other_names: Vec<String>,
    personal_number: Option<String>,
    full_birth_date: Option<String>,
    place_of_birth: Option<String>,
    address: Option<String>,
    telephone: Option<String>,
    profession: Option<String>,
    title: Option<String>,
    personal_summary: Option<String>,
    #[serde(default)]
    other_td_numbers: Vec<String>,
    custody_information: Option<String>,
}

/// DG12, additional document details (ICAO 9303-10 §4.7.12); text as stored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Dg12Section {
    issuing_authority: Option<String>,
    date_of_issue: Option<String>,
    #[serde(default)]
    other_persons: Vec<String>,
    endorsements: Option<String>,
    tax_exit_requirements: Option<String>,
    personalization_time: Option<String>,
    personalization_device: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Dg13Section {
    id_number: Option<String>,
    full_name: Option<String>,
    birth_date: Option<String>,
    sex: Option<String>,
    nationality: Option<String>,
    ethnicity: Option<String>,
    religion: Option<String>,
    place_of_origin: Option<String>,
    place_of_residence: Option<String>,
    identifying_marks: Option<String>,
    issue_date: Option<String>,
    expiry_date: Option<String>,
    father_name: Option<String>,
    mother_name: Option<String>,
    spouse_name: Option<String>,
    old_id_number: Option<String>,
    field_16: Option<String>,
    /// Fields above 16 by number (TOML keys are strings: `17 = "…"`).
    #[serde(default)]
    extra: BTreeMap<u32, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataGroupsSection {
    /// Data groups present (placeholder bytes unless given as files) that need
    /// terminal authentication: READ BINARY answers 6982.
    #[serde(default)]
    terminal_authentication: Vec<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaSection {
    key: String,
    #[serde(default = "default_cipher")]
    cipher: String,
    #[serde(default = "one")]
    version: u64,
    key_id: Option<u64>,
    /// Write DG14 from this section (false when a DG14 file is served as is).
    #[serde(default = "yes")]
    generate_dg14: bool,
}

fn default_cipher() -> String {
    "AES-128".into()
}
fn one() -> u64 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AaSection {
    key: String,
    #[serde(default = "default_hash")]
    hash: String,
    #[serde(default = "yes")]
    generate_dg15: bool,
}

fn default_hash() -> String {
    "SHA-256".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SodSection {
    signer: String,
    #[serde(default = "default_hash")]
    hash: String,
    signature: String,
    csca: Option<String>,
    /// Data groups changed after signing (one byte of their last value byte), to make
    /// a forged card.
    #[serde(default)]
    tamper: Vec<u8>,
    /// Data groups served and listed in EF.COM but left out of the hashes signed (a
    /// grafted data group).
    #[serde(default)]
    unsigned: Vec<u8>,
    /// Further certificates (PEM files) carried in the EF.SOD after the DS, e.g. the
    /// intermediate CA that issued it.
    #[serde(default)]
    extra_certificates: Vec<String>,
    /// Seed of the signature's randomness (default: the profile's name); a clone gives
    /// the original's name and so serves a byte-identical EF.SOD.
    seed: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CloneSection {
    /// Status word (hex) answering chip authentication instead of running it.
    refuse_chip_authentication: Option<String>,
    /// Status word (hex) answering INTERNAL AUTHENTICATE instead of signing.
    refuse_active_authentication: Option<String>,
    /// Data groups present (and hashed in EF.SOD) that EF.COM leaves out and the chip
    /// denies having (6A82 to SELECT and READ BINARY by SFI).
    #[serde(default)]
    hide: Vec<u8>,
    /// PACE-CAM proof: "genuine" (default) or "wrong".
    cam_proof: Option<String>,
}

#[derive(Debug, Deserialize)]
struct FilesSection {
    dir: String,
    csca: Option<String>,
    #[serde(flatten)]
    files: BTreeMap<String, String>,
}

// ---- Building the chip -----------------------------------------------------------

struct Builder {
    file: ProfileFile,
    base: PathBuf,
    source: PathBuf,
    options: LoadOptions,
}

impl Builder {
    fn invalid(&self, message: impl Into<String>) -> ProfileError {
        ProfileError::Invalid {
            profile: self.file.name.clone(),
            message: message.into(),
        }
    }

    /// A path from the profile: `{fixtures}`, `{shared}` and `{files}` expanded,
    /// relative ones taken from the profile's folder.
    fn path(&self, text: &str) -> PathBuf {
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

    fn files_dir(&self) -> Option<PathBuf> {
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

    fn build(self) -> Result<Profile, ProfileError> {
        let f = &self.file;
        let limits = ChipLimits {
            extended_length: f.chip.extended_length,
            max_le: f.chip.max_le.unwrap_or(if f.chip.extended_length {
                apdu::command::MAX_EXTENDED_NE
            } else {
                apdu::command::MAX_SHORT_NE
            }),
            le_refusal: match f.chip.le_refusal.as_str() {
                "6700" => LeRefusal::WrongLength,
                "6Cxx" | "6CXX" | "6cxx" => LeRefusal::ExactLe,
                other => return Err(self.invalid(format!("le_refusal {other}: 6700 or 6Cxx"))),
            },
        };
        let uid = parse_hex(&f.chip.uid).ok_or_else(|| self.invalid("chip.uid: hex"))?;
        if uid.len() != 4 && uid.len() != 7 && uid.len() != 10 {
            return Err(self.invalid("chip.uid: 4, 7 or 10 bytes"));
        }
        let historical = match &f.chip.historical_bytes {
            Some(h) => parse_hex(h).ok_or_else(|| self.invalid("chip.historical_bytes: hex"))?,
            None => default_historical_bytes(f.chip.extended_length),
        };
        let atr = contactless_atr(&historical)
            .ok_or_else(|| self.invalid("too many historical bytes"))?;

        // Raw files first; generated ones fill in what they do not give.
        let mut raw: HashMap<LdsFile, Vec<u8>> = HashMap::new();
        let mut csca = None;
        if let Some(files) = &f.files {
            let dir = self.files_dir().unwrap_or_default();
            for (name, file_name) in &files.files {
                if name == "dir" || name == "csca" {
                    continue;
                }
                let kind = lds_file_by_name(name)
                    .ok_or_else(|| self.invalid(format!("files: unknown file {name}")))?;
                raw.insert(kind, read_limited(&dir.join(file_name))?);
            }
            csca = files.csca.as_deref().map(|c| self.path(c));
        }

        // The holder: from the profile, else from a DG1 file.
        let (printed, dg1) = match (&f.holder, raw.get(&LdsFile::DataGroup(DataGroup::DG1))) {
            (_, Some(bytes)) => (printed_from_dg1(bytes)?, bytes.clone()),
            (Some(h), None) => self.holder(h)?,
            (None, None) => return Err(self.invalid("neither [holder] nor a DG1 file")),
        };

        let mut groups: BTreeMap<DataGroup, Vec<u8>> = BTreeMap::new();
        groups.insert(DataGroup::DG1, dg1);
        if let Some(face) = &f.face {
            let jpeg = synthetic_face(face.seed, face.width, face.height, face.quality)
                .map_err(|e| self.invalid(format!("face: {e}")))?;
            groups.insert(DataGroup::DG2, encode_dg2(&jpeg)?);
        }
        for &n in &f.data_groups.terminal_authentication {
            let dg = DataGroup::new(n).ok_or_else(|| self.invalid("data group 1 to 16"))?;
            // A biometric template stands in: nobody can read it without TA anyway.
            let placeholder = vec![0x5Fu8; 2048];
            groups.insert(dg, tlv::encode(dg.tag(), &placeholder));
        }
        if let Some(d) = &f.dg11 {
            groups.insert(DataGroup::DG11, dg11_of(d).encode());
        }
        if let Some(d) = &f.dg12 {
            groups.insert(DataGroup::DG12, dg12_of(d).encode());
        }
        if let Some(d) = &f.dg13 {
            groups.insert(DataGroup::DG13, vn_identity(d).to_dg13()?);
        }

        let pace_info = match &f.access.pace {
            Some(p) => Some(self.pace_info(p)?),
            None => None,
        };
        let chip_authentication = match &f.chip_authentication {
            Some(ca) => Some(self.chip_auth(ca)?),
            None => None,
        };
        let active_authentication = match &f.active_authentication {
            Some(aa) => Some(self.active_auth(aa)?),
            None => None,
        };
        if let Some(ca) = &chip_authentication
            && f.chip_authentication
                .as_ref()
                .is_some_and(|c| c.generate_dg14)
        {
            let mut infos = Vec::new();
            if let Some(p) = &pace_info {
                infos.push(SecurityInfo::Pace(p.clone()));
            }
            infos.push(SecurityInfo::ChipAuthentication(ca.info.clone()));
            infos.push(SecurityInfo::ChipAuthenticationPublicKey(
                ChipAuthenticationPublicKeyInfo {
                    agreement: KeyAgreement::Ecdh,
                    public_key: self.public_spki(&ca.key)?,
                    key_id: ca.info.key_id,
                },
            ));
            if let Some(aa) = &active_authentication
                && aa.key.format == KeyFormat::Sec1
            {
                infos.push(SecurityInfo::ActiveAuthentication(
                    ActiveAuthenticationInfo {
                        version: 1,
                        signature_algorithm: ecdsa_plain_oid(aa.hash),
                    },
                ));
            }
            let der = SecurityInfos { infos }.to_der();
            groups.insert(DataGroup::DG14, tlv::encode(DataGroup::DG14.tag(), &der));
        }
        if let Some(aa) = &active_authentication
            && f.active_authentication
                .as_ref()
                .is_some_and(|a| a.generate_dg15)
        {
            groups.insert(DataGroup::DG15, Dg15::encode(&self.public_spki(&aa.key)?));
        }
        for (kind, bytes) in &raw {
            if let LdsFile::DataGroup(dg) = kind {
                groups.insert(*dg, bytes.clone());
            }
        }

        let attack = self.attack(pace_info.as_ref())?;
        let sod = match (raw.get(&LdsFile::Sod), &f.sod) {
            (Some(bytes), _) => Some(bytes.clone()),
            (None, Some(s)) => {
                // A grafted data group: served, but not among the hashes signed.
                let mut signed = groups.clone();
                for n in &s.unsigned {
                    let dg = DataGroup::new(*n).ok_or_else(|| self.invalid("sod.unsigned"))?;
                    signed.remove(&dg).ok_or_else(|| {
                        self.invalid("sod.unsigned names a data group not served")
                    })?;
                }
                let (bytes, anchor) = self.sign_sod(s, &signed)?;
                csca = csca.or(anchor);
                // A forgery: the data changes, the signature stays.
                for n in &s.tamper {
                    let dg = DataGroup::new(*n).ok_or_else(|| self.invalid("sod.tamper"))?;
                    let data = groups
                        .get_mut(&dg)
                        .ok_or_else(|| self.invalid("sod.tamper names a data group not served"))?;
                    if let Some(last) = data.last_mut() {
                        *last ^= 0x01;
                    }
                }
                Some(bytes)
            }
            (None, None) => None,
        };
        // EF.COM is not signed: written after EF.SOD, without the data groups a clone
        // hides.
        let hidden: Vec<DataGroup> = f
            .clone
            .as_ref()
            .map(|c| c.hide.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|n| {
                DataGroup::new(*n)
                    .filter(|dg| groups.contains_key(dg))
                    .ok_or_else(|| self.invalid("clone.hide names a data group not served"))
            })
            .collect::<Result<_, _>>()?;
        let com = match raw.get(&LdsFile::Com) {
            Some(bytes) => bytes.clone(),
            None => {
                let listed: Vec<DataGroup> = groups
                    .keys()
                    .copied()
                    .filter(|dg| !hidden.contains(dg))
                    .collect();
                EfCom::new(&listed).encode()?
            }
        };
        let attack = ChipAttack {
            hidden_files: hidden.iter().map(|dg| dg.fid()).collect(),
            ..attack
        };

        let mut files = BTreeMap::new();
        let mut put = |file: LdsFile, data: Vec<u8>, access: FileAccess| {
            files.insert(
                file.fid(),
                EmulatedFile {
                    data,
                    access,
                    sfi: Some(file.sfi()),
                },
            );
        };
        put(LdsFile::Com, com, FileAccess::SecureMessaging);
        if let Some(sod) = sod {
            put(LdsFile::Sod, sod, FileAccess::SecureMessaging);
        }
        for (dg, data) in groups {
            let access = if f.data_groups.terminal_authentication.contains(&dg.number()) {
                FileAccess::TerminalAuthentication
            } else {
                FileAccess::SecureMessaging
            };
            put(LdsFile::DataGroup(dg), data, access);
        }

        let mrz = if f.access.bac || pace_info.is_some() {
            Some(
                MrzKey::new(&printed.document_number, &printed.birth, &printed.expiry)
                    .map_err(|_| self.invalid("MRZ information"))?,
            )
        } else {
            None
        };
        let mut master_files = BTreeMap::new();
        // PACE-CAM (ICAO 9303-11 §9.2): EF.CardAccess names the chip authentication
        // protocol beside the PACEInfo, and the signed EF.CardSecurity carries the
        // static public key the CAM proof is checked against.
        let cam = pace_info
            .as_ref()
            .filter(|p| p.protocol.mapping == Mapping::ChipAuthentication);
        let mut also_ca = cam.is_some();
        let mut also_ta = false;
        for entry in &f.access.card_access {
            match entry.as_str() {
                "chip_authentication" if chip_authentication.is_some() => also_ca = true,
                "chip_authentication" => {
                    return Err(self.invalid(
                        "access.card_access: chip_authentication needs [chip_authentication]",
                    ));
                }
                "terminal_authentication" => also_ta = true,
                _ => {
                    return Err(self.invalid(
                        "access.card_access: chip_authentication or terminal_authentication",
                    ));
                }
            }
        }
        let card_access = match raw.get(&LdsFile::CardAccess) {
            Some(bytes) => Some(bytes.clone()),
            None => pace_info.as_ref().map(|p| {
                let mut infos = vec![SecurityInfo::Pace(p.clone())];
                if let (true, Some(ca)) = (also_ca, &chip_authentication) {
                    infos.push(SecurityInfo::ChipAuthentication(ca.info.clone()));
                }
                if also_ta {
                    infos.push(SecurityInfo::TerminalAuthentication { version: 1 });
                }
                // DER order: strict readers (dmrtd) refuse an unsorted SET OF.
                SecurityInfos { infos }.to_der_sorted()
            }),
        };
        if let (Some(p), Some(ca), Some(s)) = (cam, &chip_authentication, &f.sod) {
            let infos = SecurityInfos {
                infos: vec![
                    SecurityInfo::Pace(p.clone()),
                    SecurityInfo::ChipAuthentication(ca.info.clone()),
                    SecurityInfo::ChipAuthenticationPublicKey(ChipAuthenticationPublicKeyInfo {
                        agreement: KeyAgreement::Ecdh,
                        public_key: self.public_spki(&ca.key)?,
                        key_id: ca.info.key_id,
                    }),
                ],
            };
            master_files.insert(
                EF_CARD_SECURITY,
                EmulatedFile {
                    data: self.sign_card_security(s, &infos.to_der())?,
                    access: FileAccess::SecureMessaging,
                    sfi: Some(EF_CARD_SECURITY_SFI),
                },
            );
        }
        if let Some(data) = card_access {
            master_files.insert(
                EF_CARD_ACCESS,
                EmulatedFile {
                    data,
                    access: FileAccess::Always,
                    sfi: Some(0x1C),
                },
            );
        }
        let pace = match (&f.access.pace, &pace_info) {
            (Some(p), Some(info)) => {
                let can = if p.passwords.iter().any(|w| w == "can") {
                    Some(
                        Can::new(&printed.can)
                            .map_err(|_| self.invalid("PACE with CAN needs a CAN"))?,
                    )
                } else {
                    None
                };
                let by_mrz = p.passwords.iter().any(|w| w == "mrz");
                let parameter_id_rule = match p.mse_parameter_id.as_deref() {
                    None | Some("optional") => ParameterIdRule::Optional,
                    Some("required") => ParameterIdRule::Required,
                    Some("refused") => ParameterIdRule::Refused,
                    Some(_) => {
                        return Err(self.invalid(
                            "pace.mse_parameter_id: \"optional\", \"required\" or \"refused\"",
                        ));
                    }
                };
                let static_key = match info.protocol.mapping {
                    Mapping::ChipAuthentication => Some(
                        chip_authentication
                            .as_ref()
                            .and_then(|c| c.static_key.clone())
                            .ok_or_else(|| {
                                self.invalid("PACE-CAM needs a chip_authentication key")
                            })?,
                    ),
                    _ => None,
                };
                Some(ChipPaceConfig {
                    infos: vec![info.clone()],
                    can,
                    mrz: if by_mrz { mrz.clone() } else { None },
                    static_key,
                    parameter_id_rule,
                })
            }
            _ => None,
        };
        let image = CardImage {
            atr,
            master_files,
            applications: BTreeMap::from([(ICAO_AID.to_vec(), files)]),
            bac: if f.access.bac { mrz } else { None },
            pace,
            chip_authentication: chip_authentication
                .as_ref()
                .and_then(|c| c.static_key.clone().map(|k| (k, c.info.clone()))),
            active_authentication: match &active_authentication {
                Some(aa) => Some(std::sync::Arc::new(self.chip_aa(aa)?)),
                None => None,
            },
            limits,
            select_mf_unsupported: !f.chip.select_mf,
            sfi_unsupported: !f.chip.sfi,
            attack,
        };
        Ok(Profile {
            name: f.name.clone(),
            description: f.description.clone(),
            image,
            printed,
            uid,
            csca: csca.map(|p| p.canonicalize().unwrap_or(p)),
            chip_authentication,
            active_authentication,
            source: self.source.clone(),
        })
    }

    fn holder(&self, h: &HolderSection) -> Result<(PrintedData, Vec<u8>), ProfileError> {
        let id = h.id_number.clone().unwrap_or_default();
        if !id.is_empty() && (id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit())) {
            return Err(self.invalid("holder.id_number: 12 digits"));
        }
        let tail = |n: usize| {
            id.get(id.len().saturating_sub(n)..)
                .unwrap_or_default()
                .to_owned()
        };
        // The CCCD's MRZ document number is the last nine digits of the ID number, its
        // optional data is the full ID number, `<<` and the ID's check digit (line 1 ends
        // `ID<<D`), its CAN is the last six digits.
        let document_number = match &h.document_number {
            Some(d) => d.clone(),
            None if !id.is_empty() => tail(9),
            None => return Err(self.invalid("holder.document_number or id_number")),
        };
        let optional_data = match &h.optional_data {
            Some(o) => o.clone(),
            None => vn_optional_data(&id).unwrap_or_default(),
        };
        let can = match &h.can {
            Some(c) => c.clone(),
            None if !id.is_empty() => tail(6),
            None => String::new(),
        };
        let format = if h.document_code.starts_with('P') {
            MrzFormat::Td3
        } else {
            MrzFormat::Td1
        };
        let sex = match h.sex.as_str() {
            "F" => Sex::Female,
            "M" => Sex::Male,
            _ => Sex::Unspecified,
        };
        let fields = MrzFields {
            format: Some(format),
            document_code: h.document_code.clone(),
            issuing_state: h.issuing_state.clone(),
            document_number: document_number.clone(),
            optional_data,
            optional_data_2: String::new(),
            birth_date: h.birth.clone(),
            sex,
            expiry_date: h.expiry.clone(),
            nationality: h.nationality.clone(),
            surname: h.surname.clone(),
            given_names: h.given_names.clone(),
        };
        let dg1 = fields.to_dg1()?;
        let mrz = fields.to_mrz()?;
        Ok((
            PrintedData {
                id_number: id,
                document_number,
                birth: h.birth.clone(),
                expiry: h.expiry.clone(),
                can,
                mrz,
            },
            dg1,
        ))
    }

    fn pace_info(&self, p: &PaceSection) -> Result<PaceInfo, ProfileError> {
        let mapping = match p.mapping.as_str() {
            "GM" => Mapping::Generic,
            "CAM" => Mapping::ChipAuthentication,
            other => return Err(self.invalid(format!("pace.mapping {other}: GM or CAM"))),
        };
        let agreement = if p.parameter_id <= 2 {
            KeyAgreement::Dh
        } else {
            KeyAgreement::Ecdh
        };
        Group::standardized(agreement, p.parameter_id)
            .map_err(|_| self.invalid("pace.parameter_id: a standardized domain (0-2, 8-18)"))?;
        Ok(PaceInfo {
            protocol: PaceProtocol {
                agreement,
                mapping,
                suite: self.cipher(&p.cipher)?,
            },
            version: 2,
            parameter_id: Some(p.parameter_id),
        })
    }

    fn cipher(&self, name: &str) -> Result<CipherSuite, ProfileError> {
        Ok(match name {
            "3DES" => CipherSuite::Des3,
            "AES-128" => CipherSuite::Aes128,
            "AES-192" => CipherSuite::Aes192,
            "AES-256" => CipherSuite::Aes256,
            other => return Err(self.invalid(format!("cipher {other}"))),
        })
    }

    fn key(&self, path: &str) -> Result<KeyMaterial, ProfileError> {
        let path = self.path(path);
        let bytes = Zeroizing::new(read_limited(&path)?);
        if crate::trust::pem::is_pem(&bytes) {
            for (label, block) in crate::trust::pem::decode_all(&bytes) {
                let format = match label.as_str() {
                    "EC PRIVATE KEY" => KeyFormat::Sec1,
                    "RSA PRIVATE KEY" => KeyFormat::Pkcs1,
                    "PRIVATE KEY" => KeyFormat::Pkcs8,
                    _ => continue,
                };
                let der = block.map_err(|e| self.invalid(format!("{}: {e}", path.display())))?;
                return Ok(KeyMaterial {
                    format,
                    der: Zeroizing::new(der),
                });
            }
            return Err(self.invalid(format!("{}: no private key", path.display())));
        }
        Ok(KeyMaterial {
            format: KeyFormat::Pkcs8,
            der: bytes,
        })
    }

    /// The key as the trust module's signing key.
    fn trust_key(&self, key: &KeyMaterial) -> Result<PrivateKey, ProfileError> {
        let label = match key.format {
            KeyFormat::Sec1 => "EC PRIVATE KEY",
            KeyFormat::Pkcs1 => "RSA PRIVATE KEY",
            KeyFormat::Pkcs8 => "PRIVATE KEY",
        };
        let pem = Zeroizing::new(crate::trust::pem::encode(label, &key.der));
        PrivateKey::from_pem(pem.as_bytes()).map_err(|e| self.invalid(e.to_string()))
    }

    fn public_spki(&self, key: &KeyMaterial) -> Result<Vec<u8>, ProfileError> {
        let public = self
            .trust_key(key)?
            .public_key()
            .map_err(|e| self.invalid(e.to_string()))?;
        Ok(public.to_spki())
    }

    fn chip_auth(&self, ca: &CaSection) -> Result<ChipAuthKey, ProfileError> {
        let key = self.key(&ca.key)?;
        let info = ChipAuthenticationInfo {
            protocol: CaProtocol {
                agreement: KeyAgreement::Ecdh,
                suite: self.cipher(&ca.cipher)?,
            },
            version: ca.version,
            key_id: ca.key_id,
        };
        let static_key = self.static_key(&key)?;
        Ok(ChipAuthKey {
            info,
            key,
            static_key,
        })
    }

    /// The key pair on its group, for a standardized curve (named, or explicit
    /// parameters equal to one).
    fn static_key(&self, key: &KeyMaterial) -> Result<Option<ChipStaticKey>, ProfileError> {
        let PrivateKey::Ec { domain, scalar } = self.trust_key(key)? else {
            return Ok(None);
        };
        let Some(curve) = standard_curve(&domain) else {
            return Ok(None);
        };
        let group = Group::curve(curve);
        let private = group
            .private_key(&scalar)
            .map_err(|_| self.invalid("chip authentication key"))?;
        let public = group
            .public_key(&private)
            .map_err(|_| self.invalid("chip authentication key"))?;
        Ok(Some(ChipStaticKey {
            group,
            private,
            public,
        }))
    }

    /// The chip side of active authentication for the profile's key.
    fn chip_aa(&self, aa: &ActiveAuthKey) -> Result<ChipAa, ProfileError> {
        let hash = match aa.hash {
            HashAlgorithm::Sha1 => AaHash::Sha1,
            HashAlgorithm::Sha224 => AaHash::Sha224,
            HashAlgorithm::Sha256 => AaHash::Sha256,
            HashAlgorithm::Sha384 => AaHash::Sha384,
            HashAlgorithm::Sha512 => AaHash::Sha512,
        };
        let bad = |e: apdu::Error| self.invalid(format!("active_authentication.key: {e}"));
        match self.trust_key(&aa.key)? {
            PrivateKey::Rsa(key) => ChipAa::rsa(*key, hash).map_err(bad),
            PrivateKey::Ec { domain, scalar } => {
                let curve = standard_curve(&domain)
                    .ok_or_else(|| self.invalid("active_authentication.key: curve"))?
                    .curve();
                let scalar = curve
                    .scalar_from_bytes(&scalar)
                    .map_err(|_| self.invalid("active_authentication.key: scalar"))?;
                Ok(ChipAa::ec(curve.clone(), scalar, hash))
            }
        }
    }

    fn active_auth(&self, aa: &AaSection) -> Result<ActiveAuthKey, ProfileError> {
        Ok(ActiveAuthKey {
            key: self.key(&aa.key)?,
            hash: hash_by_name(&aa.hash)
                .ok_or_else(|| self.invalid("active_authentication.hash"))?,
        })
    }

    /// The chip misbehaviour of an attack card (`[clone]`), hidden files aside.
    fn attack(&self, pace: Option<&PaceInfo>) -> Result<ChipAttack, ProfileError> {
        let Some(c) = &self.file.clone else {
            return Ok(ChipAttack::default());
        };
        let sw = |key: &str, text: &Option<String>| -> Result<Option<StatusWord>, ProfileError> {
            let Some(text) = text else {
                return Ok(None);
            };
            match parse_hex(text).as_deref() {
                Some([sw1, sw2]) => {
                    let sw = StatusWord::new(*sw1, *sw2);
                    if sw.is_success() || matches!(sw, StatusWord::BytesRemaining(_)) {
                        Err(self.invalid(format!("clone.{key}: an error status word")))
                    } else {
                        Ok(Some(sw))
                    }
                }
                _ => Err(self.invalid(format!("clone.{key}: a status word, e.g. \"6A80\""))),
            }
        };
        let wrong_cam_proof = match c.cam_proof.as_deref() {
            None | Some("genuine") => false,
            Some("wrong") => {
                if !pace.is_some_and(|p| p.protocol.mapping == Mapping::ChipAuthentication) {
                    return Err(self.invalid("clone.cam_proof needs PACE with mapping CAM"));
                }
                true
            }
            Some(other) => {
                return Err(self.invalid(format!("clone.cam_proof {other}: genuine or wrong")));
            }
        };
        Ok(ChipAttack {
            refuse_chip_authentication: sw(
                "refuse_chip_authentication",
                &c.refuse_chip_authentication,
            )?,
            refuse_active_authentication: sw(
                "refuse_active_authentication",
                &c.refuse_active_authentication,
            )?,
            hidden_files: Vec::new(),
            wrong_cam_proof,
        })
    }

    /// The first certificate of a PEM file.
    fn certificate(&self, path: &Path) -> Result<Certificate, ProfileError> {
        let pem = read_limited(path)?;
        let der = crate::trust::pem::decode_all(&pem)
            .into_iter()
            .find_map(|(label, b)| (label == "CERTIFICATE").then_some(b).and_then(Result::ok))
            .ok_or_else(|| self.invalid(format!("{}: no certificate", path.display())))?;
        Certificate::from_der(&der).map_err(|e| self.invalid(format!("{}: {e}", path.display())))
    }

    /// The document signer of `[sod]` (certificate and key) and the signing options.
    fn signer(
        &self,
        s: &SodSection,
    ) -> Result<(Certificate, PrivateKey, SodOptions), ProfileError> {
        let signer = self.path(&s.signer);
        let cert_path = signer.with_extension("pem");
        let key_path = PathBuf::from(format!("{}.key.pem", signer.display()));
        let certificate = self.certificate(&cert_path)?;
        let key = PrivateKey::from_pem(&Zeroizing::new(read_limited(&key_path)?))
            .map_err(|e| self.invalid(format!("signer key: {e}")))?;
        let hash = hash_by_name(&s.hash).ok_or_else(|| self.invalid("sod.hash"))?;
        let signature = match s.signature.as_str() {
            "ecdsa" => SignatureAlgorithm::Ecdsa(hash),
            "rsa-pss" => SignatureAlgorithm::RsaPss {
                hash,
                salt_len: hash.output_len(),
            },
            "rsa-pkcs1" => SignatureAlgorithm::RsaPkcs1v15(hash),
            other => {
                return Err(self.invalid(format!(
                    "sod.signature {other}: ecdsa, rsa-pss or rsa-pkcs1"
                )));
            }
        };
        let extra_certificates = s
            .extra_certificates
            .iter()
            .map(|p| self.certificate(&self.path(p)))
            .collect::<Result<_, _>>()?;
        let options = SodOptions {
            hash,
            signature,
            version_info: None,
            extra_certificates,
        };
        Ok((certificate, key, options))
    }

    /// Signs EF.SOD over `groups` (the data groups served, less any left unsigned), with
    /// the profile's document signer.
    fn sign_sod(
        &self,
        s: &SodSection,
        groups: &BTreeMap<DataGroup, Vec<u8>>,
    ) -> Result<(Vec<u8>, Option<PathBuf>), ProfileError> {
        let (certificate, key, options) = self.signer(s)?;
        let by_number: BTreeMap<u8, Vec<u8>> = groups
            .iter()
            .map(|(dg, b)| (dg.number(), b.clone()))
            .collect();
        // Deterministic per profile: the same profile always serves the same EF.SOD.
        let seed = s.seed.as_deref().unwrap_or(&self.file.name);
        let mut rng = DeterministicRng::new(seed.as_bytes(), "EF.SOD");
        let sod = issue::issue_sod(&by_number, &certificate, &key, &options, &mut rng)
            .map_err(|e| self.invalid(format!("signing EF.SOD: {e}")))?;
        Ok((sod, s.csca.as_deref().map(|c| self.path(c))))
    }

    /// Signs EF.CardSecurity over `security_infos` with the profile's document signer.
    fn sign_card_security(
        &self,
        s: &SodSection,
        security_infos: &[u8],
    ) -> Result<Vec<u8>, ProfileError> {
        let (certificate, key, options) = self.signer(s)?;
        let mut rng = DeterministicRng::new(self.file.name.as_bytes(), "EF.CardSecurity");
        issue::issue_card_security(security_infos, &certificate, &key, &options, &mut rng)
            .map_err(|e| self.invalid(format!("signing EF.CardSecurity: {e}")))
    }
}

/// The printed data of a card whose DG1 is given as a file.
fn printed_from_dg1(bytes: &[u8]) -> Result<PrintedData, ProfileError> {
    let dg1 = Dg1::parse(bytes)?;
    let f = &dg1.fields;
    Ok(PrintedData {
        id_number: dg1.vn_id_number().map(str::to_owned).unwrap_or_default(),
        document_number: f.document_number.clone(),
        birth: f.birth_date.clone(),
        expiry: f.expiry_date.clone(),
        can: String::new(),
        mrz: dg1.lines().concat(),
    })
}

fn dg11_of(d: &Dg11Section) -> Dg11 {
    Dg11 {
        full_name: d.full_name.clone(),
        other_names: d.other_names.clone(),
        personal_number: d.personal_number.clone(),
        full_birth_date: d.full_birth_date.clone(),
        place_of_birth: d.place_of_birth.clone(),
        address: d.address.clone(),
        telephone: d.telephone.clone(),
        profession: d.profession.clone(),
        title: d.title.clone(),
        personal_summary: d.personal_summary.clone(),
        proof_of_citizenship: None,
        other_td_numbers: d.other_td_numbers.clone(),
        custody_information: d.custody_information.clone(),
    }
}

fn dg12_of(d: &Dg12Section) -> Dg12 {
    Dg12 {
        issuing_authority: d.issuing_authority.clone(),
        date_of_issue: d.date_of_issue.clone(),
        other_persons: d.other_persons.clone(),
        endorsements: d.endorsements.clone(),
        tax_exit_requirements: d.tax_exit_requirements.clone(),
        image_front: None,
        image_rear: None,
        personalization_time: d.personalization_time.clone(),
        personalization_device: d.personalization_device.clone(),
    }
}

fn vn_identity(d: &Dg13Section) -> VnIdentity {
    let date = |s: &Option<String>| s.as_ref().map(|t| VnDate::new(t.clone()));
    VnIdentity {
        id_number: d.id_number.clone(),
        full_name: d.full_name.clone(),
        birth_date: date(&d.birth_date),
        sex: d.sex.clone(),
        nationality: d.nationality.clone(),
        ethnicity: d.ethnicity.clone(),
        religion: d.religion.clone(),
        place_of_origin: d.place_of_origin.clone(),
        place_of_residence: d.place_of_residence.clone(),
        identifying_marks: d.identifying_marks.clone(),
        issue_date: date(&d.issue_date),
        expiry_date: date(&d.expiry_date),
        father_name: d.father_name.clone(),
        mother_name: d.mother_name.clone(),
        spouse_name: d.spouse_name.clone(),
        old_id_number: d.old_id_number.clone(),
        field_16: d.field_16.clone(),
        extra: VnExtra(d.extra.clone()),
    }
}

fn lds_file_by_name(name: &str) -> Option<LdsFile> {
    match name {
        "EF.COM" => Some(LdsFile::Com),
        "EF.SOD" => Some(LdsFile::Sod),
        "EF.CardAccess" => Some(LdsFile::CardAccess),
        _ => DataGroup::all()
            .find(|dg| dg.name() == name)
            .map(LdsFile::DataGroup),
    }
}

fn hash_by_name(name: &str) -> Option<HashAlgorithm> {
    Some(match name {
        "SHA-1" => HashAlgorithm::Sha1,
        "SHA-224" => HashAlgorithm::Sha224,
        "SHA-256" => HashAlgorithm::Sha256,
        "SHA-384" => HashAlgorithm::Sha384,
        "SHA-512" => HashAlgorithm::Sha512,
        _ => return None,
    })
}

/// ecdsa-plain-SHAxxx (BSI TR-03111), the algorithm of an ECDSA active authentication.
fn ecdsa_plain_oid(hash: HashAlgorithm) -> Oid {
    let arc = match hash {
        HashAlgorithm::Sha1 => 1,
        HashAlgorithm::Sha224 => 2,
        HashAlgorithm::Sha256 => 3,
        HashAlgorithm::Sha384 => 4,
        HashAlgorithm::Sha512 => 5,
    };
    Oid::parse(&format!("0.4.0.127.0.7.1.1.4.1.{arc}")).unwrap_or_else(|| unreachable!())
}

fn curve_by_oid(content: &[u8]) -> Option<CurveId> {
    CurveId::from_oid(Oid::from_der_content(content).ok()?.as_str())
}

fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    hex::decode(compact).ok()
}

/// Historical bytes when the profile gives none: a compact-TLV card capabilities object
/// (ISO/IEC 7816-4 §8.1.1.2.7) that tells whether extended Lc/Le works.
fn default_historical_bytes(extended_length: bool) -> Vec<u8> {
    let third = if extended_length { 0x40 } else { 0x00 };
    vec![0x80, 0x73, 0x00, 0x00, third]
}

/// The standardized curve of EC domain parameters, named or explicit.
fn standard_curve(domain: &EcDomain) -> Option<CurveId> {
    match domain {
        EcDomain::Named(oid) => curve_by_oid(oid),
        EcDomain::Explicit(_) => match crate::trust::signature::resolve_curve(domain).ok()? {
            crate::trust::signature::CurveRef::Named(curve) => curve.id(),
            crate::trust::signature::CurveRef::Built(curve) => curve.id(),
        },
        EcDomain::Inherited => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dg13_extra_fields_come_from_the_profile() {
        let section: Dg13Section =
            toml::from_str("field_16 = \"A1B2C3D4E5F60718\"\n[extra]\n17 = \"Hà Nội\"\n").unwrap();
        let identity = vn_identity(&section);
        assert_eq!(identity.field_16.as_deref(), Some("A1B2C3D4E5F60718"));
        let bytes = identity.to_dg13().unwrap();
        let read = VnIdentity::from_dg13(&bytes).unwrap();
        assert_eq!(read.extra.0.get(&17).map(String::as_str), Some("Hà Nội"));
        assert!(toml::from_str::<Dg13Section>("[extra]\nx = \"a\"\n").is_err());
    }

    #[test]
    fn the_contactless_atr_has_a_valid_tck() {
        let atr = contactless_atr(&[0x80, 0x73, 0x00, 0x00, 0x40]).unwrap();
        assert_eq!(&atr[..4], &[0x3B, 0x85, 0x80, 0x01]);
        assert_eq!(atr.iter().skip(1).fold(0, |a, b| a ^ b), 0);
        // The PC/SC part 3 example for a card with no historical bytes: 3B 80 80 01 01.
        assert_eq!(
            contactless_atr(&[]).unwrap(),
            [0x3B, 0x80, 0x80, 0x01, 0x01]
        );
        assert!(contactless_atr(&[0; 16]).is_none());
    }
}
