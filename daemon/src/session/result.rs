//! The result of a read, shaped exactly as the product's result JSON (DESIGN "Result").

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Serialize;

use crate::lds::dg1::{Dg1, MrzFormat, yymmdd_to_iso};
use crate::lds::dg2::FaceImage;
use crate::lds::dg13::VnIdentity;
use crate::trust::PassiveResult;

/// The whole result.
#[derive(Clone, Debug, Serialize)]
pub struct ReadResult {
    /// The document.
    pub document: Document,
    /// The holder, from the MRZ (and DG11 where it is fuller).
    pub holder: Holder,
    /// The Vietnamese card's DG13 identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vn: Option<VnIdentity>,
    /// The face, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub face: Option<Face>,
    /// What was proven.
    pub verification: Verification,
    /// The files as read, base64, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<BTreeMap<String, String>>,
}

/// `document`.
#[derive(Clone, Serialize)]
pub struct Document {
    /// `passport`, `id-card` or `other`.
    pub kind: &'static str,
    /// Issuing state (three letters).
    pub issuing_state: String,
    /// Document number.
    pub number: String,
    /// Expiry date, `YYYY-MM-DD`.
    pub expiry_date: Option<String>,
    /// The MRZ, lines separated by newlines.
    pub mrz: String,
}

impl core::fmt::Debug for Document {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Document({}, [redacted])", self.kind)
    }
}

/// `holder`.
#[derive(Clone, Serialize)]
pub struct Holder {
    /// Full name as printed (given names then surname for MRZ names; DG11's when given).
    pub full_name: String,
    /// Primary identifier.
    pub surname: String,
    /// Secondary identifier.
    pub given_names: String,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// `M`, `F` or `X`.
    pub sex: &'static str,
    /// Nationality (three letters).
    pub nationality: String,
}

impl core::fmt::Debug for Holder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Holder([redacted])")
    }
}

/// `face`.
#[derive(Clone, Serialize)]
pub struct Face {
    /// `jpeg` or `png`.
    pub format: &'static str,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The image, base64.
    pub data: String,
}

impl core::fmt::Debug for Face {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Face({}, {}x{})", self.format, self.width, self.height)
    }
}

/// `verification`.
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    /// `PACE-ECDH-GM-AES-128 brainpoolP256r1`, `BAC`, ….
    pub access: String,
    /// Passive authentication.
    pub passive: PassiveResult,
    /// Chip or active authentication.
    pub chip: ChipResult,
    /// `genuine`, `not-verified` or `forged`.
    pub verdict: Verdict,
}

/// `verification.chip`.
#[derive(Clone, Debug, Serialize)]
pub struct ChipResult {
    /// `chip-authentication`, `active-authentication` or `none`.
    pub method: &'static str,
    /// `valid`, `invalid` or `not-supported`.
    pub status: &'static str,
    /// Why, when not valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Passive authentication valid, and chip authentication valid or not offered.
    Genuine,
    /// Not proven either way (no trust anchor, read cut short).
    NotVerified,
    /// Passive or chip authentication failed.
    Forged,
}

impl Verdict {
    /// The DESIGN rule: forged on any invalid proof; genuine on a valid SOD with a valid
    /// chip proof or none offered; not verified otherwise.
    pub fn of(passive: crate::trust::PassiveStatus, chip_status: &str) -> Verdict {
        use crate::trust::PassiveStatus as P;
        match (passive, chip_status) {
            (P::Invalid, _) | (_, "invalid") => Verdict::Forged,
            (P::Valid, "valid" | "not-supported") => Verdict::Genuine,
            _ => Verdict::NotVerified,
        }
    }
}

/// `document` and `holder` from DG1.
pub fn identity_of(dg1: &Dg1, full_name: Option<String>) -> (Document, Holder) {
    let f = &dg1.fields;
    let this_year = this_year();
    let kind = match f.document_code.chars().next() {
        Some('P') => "passport",
        Some('I' | 'A' | 'C') => "id-card",
        _ => "other",
    };
    let width = match dg1.format() {
        MrzFormat::Td1 => 30,
        MrzFormat::Td2 => 36,
        MrzFormat::Td3 => 44,
    };
    let mrz_lines: Vec<String> = dg1
        .mrz
        .as_bytes()
        .chunks(width)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let document = Document {
        kind,
        issuing_state: f.issuing_state.clone(),
        number: f.document_number.clone(),
        expiry_date: yymmdd_to_iso(&f.expiry_date, this_year, 50),
        mrz: mrz_lines.join("\n"),
    };
    let mrz_name = [f.given_names.as_str(), f.surname.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let holder = Holder {
        full_name: full_name.unwrap_or(mrz_name),
        surname: f.surname.clone(),
        given_names: f.given_names.clone(),
        birth_date: yymmdd_to_iso(&f.birth_date, this_year, 0),
        sex: f.sex.as_str(),
        nationality: f.nationality.clone(),
    };
    (document, holder)
}

/// `face` from a decoded image.
pub fn face_of(image: &FaceImage) -> Face {
    Face {
        format: match image.format {
            crate::lds::dg2::OutputFormat::Jpeg => "jpeg",
            crate::lds::dg2::OutputFormat::Png => "png",
        },
        width: image.width,
        height: image.height,
        data: base64::engine::general_purpose::STANDARD.encode(&image.data),
    }
}

/// Files as `{"EF.SOD": base64, "DG1": base64, …}`.
pub fn raw_of(files: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|(name, bytes)| {
            (
                name.clone(),
                base64::engine::general_purpose::STANDARD.encode(bytes),
            )
        })
        .collect()
}

/// The current year, for placing two-digit MRZ years.
pub fn this_year() -> u32 {
    u32::try_from(crate::trust::Time::now().to_ymd_hms().0).unwrap_or(2000)
}
