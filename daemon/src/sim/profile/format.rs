//! The profile file as written (TOML, documented in `fixtures/cards/README.md`):
//! sections deserialized as they stand, read by the builder.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProfileFile {
    pub(super) name: String,
    #[serde(default)]
    pub(super) description: String,
    pub(super) chip: ChipSection,
    pub(super) access: AccessSection,
    pub(super) holder: Option<HolderSection>,
    pub(super) face: Option<FaceSection>,
    pub(super) dg11: Option<Dg11Section>,
    pub(super) dg12: Option<Dg12Section>,
    pub(super) dg13: Option<Dg13Section>,
    #[serde(default)]
    pub(super) data_groups: DataGroupsSection,
    pub(super) chip_authentication: Option<CaSection>,
    pub(super) active_authentication: Option<AaSection>,
    pub(super) sod: Option<SodSection>,
    pub(super) files: Option<FilesSection>,
    /// How an attack card's chip departs from a genuine one.
    pub(super) clone: Option<CloneSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChipSection {
    pub(super) uid: String,
    pub(super) historical_bytes: Option<String>,
    #[serde(default)]
    pub(super) extended_length: bool,
    pub(super) max_le: Option<usize>,
    #[serde(default = "default_le_refusal")]
    pub(super) le_refusal: String,
    #[serde(default = "yes")]
    pub(super) select_mf: bool,
    #[serde(default = "yes")]
    pub(super) sfi: bool,
}

fn default_le_refusal() -> String {
    "6700".into()
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AccessSection {
    #[serde(default)]
    pub(super) bac: bool,
    pub(super) pace: Option<PaceSection>,
    /// SecurityInfos EF.CardAccess carries beside the PACEInfo, as real cards do:
    /// "chip_authentication" (the ChipAuthenticationInfo of [chip_authentication]) and
    /// "terminal_authentication" (a TerminalAuthenticationInfo, version 1).
    #[serde(default)]
    pub(super) card_access: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PaceSection {
    pub(super) mapping: String,
    pub(super) parameter_id: u64,
    pub(super) cipher: String,
    #[serde(default = "default_passwords")]
    pub(super) passwords: Vec<String>,
    /// How the chip treats the parameter ID (tag 0x84) in MSE:Set AT: "optional"
    /// (default), "required" (6A80 without it), "refused" (6A87 with it).
    #[serde(default)]
    pub(super) mse_parameter_id: Option<String>,
}

fn default_passwords() -> Vec<String> {
    vec!["can".into(), "mrz".into()]
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HolderSection {
    pub(super) document_code: String,
    pub(super) issuing_state: String,
    pub(super) nationality: String,
    pub(super) id_number: Option<String>,
    pub(super) document_number: Option<String>,
    pub(super) optional_data: Option<String>,
    pub(super) can: Option<String>,
    pub(super) birth: String,
    pub(super) expiry: String,
    pub(super) sex: String,
    pub(super) surname: String,
    pub(super) given_names: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FaceSection {
    pub(super) seed: u64,
    #[serde(default = "default_face_width")]
    pub(super) width: u32,
    #[serde(default = "default_face_height")]
    pub(super) height: u32,
    #[serde(default = "default_face_quality")]
    pub(super) quality: u8,
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
pub(super) struct Dg11Section {
    pub(super) full_name: Option<String>,
    #[serde(default)]
    pub(super) other_names: Vec<String>,
    pub(super) personal_number: Option<String>,
    pub(super) full_birth_date: Option<String>,
    pub(super) place_of_birth: Option<String>,
    pub(super) address: Option<String>,
    pub(super) telephone: Option<String>,
    pub(super) profession: Option<String>,
    pub(super) title: Option<String>,
    pub(super) personal_summary: Option<String>,
    #[serde(default)]
    pub(super) other_td_numbers: Vec<String>,
    pub(super) custody_information: Option<String>,
}

/// DG12, additional document details (ICAO 9303-10 §4.7.12); text as stored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Dg12Section {
    pub(super) issuing_authority: Option<String>,
    pub(super) date_of_issue: Option<String>,
    #[serde(default)]
    pub(super) other_persons: Vec<String>,
    pub(super) endorsements: Option<String>,
    pub(super) tax_exit_requirements: Option<String>,
    pub(super) personalization_time: Option<String>,
    pub(super) personalization_device: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Dg13Section {
    pub(super) id_number: Option<String>,
    pub(super) full_name: Option<String>,
    pub(super) birth_date: Option<String>,
    pub(super) sex: Option<String>,
    pub(super) nationality: Option<String>,
    pub(super) ethnicity: Option<String>,
    pub(super) religion: Option<String>,
    pub(super) place_of_origin: Option<String>,
    pub(super) place_of_residence: Option<String>,
    pub(super) identifying_marks: Option<String>,
    pub(super) issue_date: Option<String>,
    pub(super) expiry_date: Option<String>,
    pub(super) father_name: Option<String>,
    pub(super) mother_name: Option<String>,
    pub(super) spouse_name: Option<String>,
    pub(super) old_id_number: Option<String>,
    pub(super) field_16: Option<String>,
    /// Fields above 16 by number (TOML keys are strings: `17 = "…"`).
    #[serde(default)]
    pub(super) extra: BTreeMap<u32, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DataGroupsSection {
    /// Data groups present (placeholder bytes unless given as files) that need
    /// terminal authentication: READ BINARY answers 6982.
    #[serde(default)]
    pub(super) terminal_authentication: Vec<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CaSection {
    pub(super) key: String,
    #[serde(default = "default_cipher")]
    pub(super) cipher: String,
    #[serde(default = "one")]
    pub(super) version: u64,
    pub(super) key_id: Option<u64>,
    /// Write DG14 from this section (false when a DG14 file is served as is).
    #[serde(default = "yes")]
    pub(super) generate_dg14: bool,
}

fn default_cipher() -> String {
    "AES-128".into()
}
fn one() -> u64 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AaSection {
    pub(super) key: String,
    #[serde(default = "default_hash")]
    pub(super) hash: String,
    #[serde(default = "yes")]
    pub(super) generate_dg15: bool,
}

fn default_hash() -> String {
    "SHA-256".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SodSection {
    pub(super) signer: String,
    #[serde(default = "default_hash")]
    pub(super) hash: String,
    pub(super) signature: String,
    pub(super) csca: Option<String>,
    /// Data groups changed after signing (one byte of their last value byte), to make
    /// a forged card.
    #[serde(default)]
    pub(super) tamper: Vec<u8>,
    /// Data groups served and listed in EF.COM but left out of the hashes signed (a
    /// grafted data group).
    #[serde(default)]
    pub(super) unsigned: Vec<u8>,
    /// Further certificates (PEM files) carried in the EF.SOD after the DS, e.g. the
    /// intermediate CA that issued it.
    #[serde(default)]
    pub(super) extra_certificates: Vec<String>,
    /// Seed of the signature's randomness (default: the profile's name); a clone gives
    /// the original's name and so serves a byte-identical EF.SOD.
    pub(super) seed: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CloneSection {
    /// Status word (hex) answering chip authentication instead of running it.
    pub(super) refuse_chip_authentication: Option<String>,
    /// Status word (hex) answering INTERNAL AUTHENTICATE instead of signing.
    pub(super) refuse_active_authentication: Option<String>,
    /// Data groups present (and hashed in EF.SOD) that EF.COM leaves out and the chip
    /// denies having (6A82 to SELECT and READ BINARY by SFI).
    #[serde(default)]
    pub(super) hide: Vec<u8>,
    /// PACE-CAM proof: "genuine" (default) or "wrong".
    pub(super) cam_proof: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct FilesSection {
    pub(super) dir: String,
    pub(super) csca: Option<String>,
    #[serde(flatten)]
    pub(super) files: BTreeMap<String, String>,
}
