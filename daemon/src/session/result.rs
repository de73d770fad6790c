//! The result of a read, shaped exactly as the product's result JSON (DESIGN "Result").

use std::borrow::Cow;
use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::lds::dg1::{Dg1, MrzFormat, yymmdd_to_iso};
use crate::lds::dg2::FaceImage;
use crate::lds::dg13::{VnDate, VnExtra, VnIdentity};
use crate::trust::{PassiveResult, PassiveStatus};

/// The whole result.
#[derive(Clone, Debug, Serialize)]
pub struct ReadResult {
    /// The document, from a DG1 whose hash matched; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<Document>,
    /// The holder, from the MRZ (and DG11 where it is fuller), from data groups whose
    /// hash matched; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<Holder>,
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
#[derive(Clone, Serialize, Deserialize)]
pub struct Face {
    /// `jpeg` or `png`.
    pub format: Cow<'static, str>,
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
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Verification {
    /// `PACE-ECDH-GM-AES-128 brainpoolP256r1`, `BAC`, ….
    pub access: String,
    /// Whether the chip was opened as it offers to be (see [`AccessCheck`]).
    pub access_check: AccessCheck,
    /// Why BAC replaced PACE, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_fallback: Option<String>,
    /// Passive authentication.
    pub passive: PassiveResult,
    /// Chip or active authentication.
    pub chip: ChipResult,
    /// `genuine`, `not-verified` or `forged`.
    pub verdict: Verdict,
}

/// How the chip was opened, judged against what it offers (EF.CardAccess, and PACEInfo
/// in a DG14 whose hash matched).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessCheck {
    /// PACE as offered, or BAC on a chip that offers no PACE.
    Ok,
    /// BAC after PACE was offered and failed or could not be run; the caller allowed it.
    BacFallback,
    /// BAC, although the chip's signed DG14 offers PACE and the caller did not allow the
    /// fallback: EF.CardAccess was missing or unreadable, as a downgrade would make it.
    PaceBypassed,
}

/// `verification.chip.method`: the proof the signed data requires of the chip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChipMethod {
    /// Chip authentication with the key in DG14.
    ChipAuthentication,
    /// Active authentication with the key in DG15.
    ActiveAuthentication,
    /// PACE with chip authentication mapping, the key in EF.CardSecurity.
    PaceCam,
    /// The signed data requires no proof (or could not say which).
    None,
}

/// `verification.chip.status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChipStatus {
    /// The required proof verified with the key the signed data gives.
    Valid,
    /// The required proof failed, was refused with an error status word, or its key's
    /// file could not be read or decoded: the chip is not the one the data was signed
    /// for.
    Invalid,
    /// The proof could not be judged: the signed data naming the key did not verify,
    /// or the key or protocol is one this reader cannot run.
    NotChecked,
    /// The signed data requires no chip proof.
    NoneOffered,
}

/// A finding about the chip proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChipProblemCode {
    /// The chip answered a command of the proof with an error status word.
    ChipProofRefused,
    /// The chip's answer does not verify with the key.
    ChipProofInvalid,
    /// The file holding the key (DG14, DG15, EF.CardSecurity) could not be read.
    ChipKeyUnreadable,
    /// The file holding the key is signed but does not decode.
    ChipKeyUndecodable,
    /// The file holding the key is not covered by signed data that verified.
    ChipKeyNotVerified,
    /// The key or protocol is one this reader cannot run.
    ChipProofUnsupported,
    /// The signed data requires no chip proof: a clone cannot be told apart.
    ChipProofNoneOffered,
    /// The key PACE-CAM proved is none of the chip-authentication keys of the signed
    /// DG14.
    ChipKeyMismatch,
    /// The signed data offers PACE-CAM, but neither it nor chip authentication ran
    /// (EF.CardAccess is unsigned: a downgrade to another mapping hides the proof).
    PaceDowngraded,
}

/// A chip finding: its code and a message naming the step and status word.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChipProblem {
    /// What kind of finding.
    pub code: ChipProblemCode,
    /// For people.
    pub message: String,
}

/// `verification.chip`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChipResult {
    /// The proof the signed data requires.
    pub method: ChipMethod,
    /// Its outcome.
    pub status: ChipStatus,
    /// EF.CardSecurity's own verification, for PACE-CAM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_security: Option<crate::trust::passive::CardSecurityResult>,
    /// What was found.
    pub problems: Vec<ChipProblem>,
}

impl ChipResult {
    /// A result with one problem.
    pub fn of(
        method: ChipMethod,
        status: ChipStatus,
        code: ChipProblemCode,
        message: String,
    ) -> ChipResult {
        ChipResult {
            method,
            status,
            card_security: None,
            problems: vec![ChipProblem { code, message }],
        }
    }
}

/// The verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every signature, chain and hash verified, and every chip proof the signed data
    /// requires is valid.
    Genuine,
    /// Not proven either way (no trust anchor, a CSCA of another country, a proof that
    /// could not be judged, a bypassed PACE).
    NotVerified,
    /// Passive authentication found tampering, or a required chip proof failed.
    Forged,
}

/// A result as a client's fields allow it ([`crate::fields::FieldSet::filter`]): what
/// the set withholds is `None` and absent from the JSON, the rest borrowed from the
/// [`ReadResult`]. Serialized, it is the result JSON with those keys left out.
///
/// It reads back from that JSON too (owned then): a daemon's answer, whatever its
/// client's fields left out, is this type; `cancuoc read` prints it from here. A key
/// present as `null` stays apart from a key left out (`Some(None)` against `None`).
#[derive(Clone, Serialize, Deserialize)]
pub struct Shown<'a> {
    /// `document`, when a field of it is allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<ShownDocument<'a>>,
    /// `holder`, when a field of it is allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<ShownHolder<'a>>,
    /// `vn`, when a field of it is allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vn: Option<ShownVn<'a>>,
    /// `face`, when allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub face: Option<Cow<'a, Face>>,
    /// `raw`, the files allowed, when `raw` is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<BTreeMap<Cow<'a, str>, Cow<'a, str>>>,
    /// `verification`, always.
    pub verification: Cow<'a, Verification>,
}

impl core::fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Shown([redacted], {:?})", self.verification.verdict)
    }
}

/// The identity a [`crate::session::Partial`] gives, as a client's fields allow it
/// (reads back from its JSON, a `read-partial` event, as [`Shown`] does).
#[derive(Clone, Serialize, Deserialize)]
pub struct ShownPartial<'a> {
    /// As in [`Shown::document`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<ShownDocument<'a>>,
    /// As in [`Shown::holder`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<ShownHolder<'a>>,
    /// As in [`Shown::vn`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vn: Option<ShownVn<'a>>,
    /// The verdict so far, as in the partial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

impl core::fmt::Debug for ShownPartial<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ShownPartial([redacted], {:?})", self.verdict)
    }
}

/// A key whose value may be `null`: `None` when the key is left out, `Some` of the
/// value (`null` included) when it is there.
type Nullable<'a, T> = Option<Cow<'a, Option<T>>>;

/// Reads a [`Nullable`] key that is there (one left out is `None` by `default`).
fn present<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    T::deserialize(d).map(Some)
}

/// Reads a [`Nullable`] date that is there: the JSON holds [`VnDate`]'s serialized
/// form (ISO when the card's text is a date, else that text), which serializes back
/// unchanged.
fn present_date<'de, 'a, D>(d: D) -> Result<Nullable<'a, VnDate>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let text = Option::<String>::deserialize(d)?;
    Ok(Some(Cow::Owned(text.map(|text| {
        VnDate::from_iso(&text).unwrap_or_else(|| VnDate::new(text))
    }))))
}

/// [`Document`] with each key a client may not have `None`.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct ShownDocument<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuing_state: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<Cow<'a, str>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub expiry_date: Nullable<'a, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mrz: Option<Cow<'a, str>>,
}

/// [`Holder`] with each key a client may not have `None`.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct ShownHolder<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_name: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surname: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_names: Option<Cow<'a, str>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub birth_date: Nullable<'a, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sex: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nationality: Option<Cow<'a, str>>,
}

/// [`VnIdentity`] with each key a client may not have `None` (a key the client may
/// have is `null` when the card lacks it, as in the result).
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct ShownVn<'a> {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub id_number: Nullable<'a, String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub old_id_number: Nullable<'a, String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub field_16: Nullable<'a, String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub full_name: Nullable<'a, String>,
    #[serde(
        default,
        deserialize_with = "present_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub birth_date: Nullable<'a, VnDate>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub sex: Nullable<'a, String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub nationality: Nullable<'a, String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub ethnicity: Nullable<'a, String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub religion: Nullable<'a, String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub place_of_origin: Nullable<'a, String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub place_of_residence: Nullable<'a, String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub identifying_marks: Nullable<'a, String>,
    #[serde(
        default,
        deserialize_with = "present_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub issue_date: Nullable<'a, VnDate>,
    #[serde(
        default,
        deserialize_with = "present_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub expiry_date: Nullable<'a, VnDate>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub father_name: Nullable<'a, String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub mother_name: Nullable<'a, String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub spouse_name: Nullable<'a, String>,
    /// DG13 fields of unknown meaning: only with DG13 as raw bytes, and only when the
    /// card has some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<Cow<'a, VnExtra>>,
}

/// What a deployment demands beyond the signed data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VerdictPolicy {
    /// A card whose signed data offers no chip proof is `not-verified`, not `genuine`.
    pub require_chip_proof: bool,
}

impl Verdict {
    /// The verdict of typed, signed facts; `docs/verdict.md` tables every combination
    /// and a unit test holds the two together.
    pub fn of(
        passive: PassiveStatus,
        chip: ChipStatus,
        access: AccessCheck,
        policy: VerdictPolicy,
    ) -> Verdict {
        match (passive, chip, access) {
            (PassiveStatus::Invalid, _, _) | (_, ChipStatus::Invalid, _) => Verdict::Forged,
            (PassiveStatus::NoTrustAnchor, _, _)
            | (_, ChipStatus::NotChecked, _)
            | (_, _, AccessCheck::PaceBypassed) => Verdict::NotVerified,
            (PassiveStatus::Valid, ChipStatus::NoneOffered, _) if policy.require_chip_proof => {
                Verdict::NotVerified
            }
            (
                PassiveStatus::Valid,
                ChipStatus::Valid | ChipStatus::NoneOffered,
                AccessCheck::Ok | AccessCheck::BacFallback,
            ) => Verdict::Genuine,
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
        format: Cow::Borrowed(match image.format {
            crate::lds::dg2::OutputFormat::Jpeg => "jpeg",
            crate::lds::dg2::OutputFormat::Png => "png",
        }),
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
    u32::try_from(crate::pki::Time::now().to_ymd_hms().0).unwrap_or(2000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSIVE: [(PassiveStatus, &str); 3] = [
        (PassiveStatus::Valid, "valid"),
        (PassiveStatus::Invalid, "invalid"),
        (PassiveStatus::NoTrustAnchor, "no-trust-anchor"),
    ];
    const CHIP: [(ChipStatus, &str); 4] = [
        (ChipStatus::Valid, "valid"),
        (ChipStatus::Invalid, "invalid"),
        (ChipStatus::NotChecked, "not-checked"),
        (ChipStatus::NoneOffered, "none-offered"),
    ];
    const ACCESS: [(AccessCheck, &str); 3] = [
        (AccessCheck::Ok, "ok"),
        (AccessCheck::BacFallback, "bac-fallback"),
        (AccessCheck::PaceBypassed, "pace-bypassed"),
    ];
    const REQUIRE: [(bool, &str); 2] = [(true, "yes"), (false, "no")];

    /// Whether a table cell (`any`, or a comma-separated list) holds `name`.
    fn cell_holds(cell: &str, name: &str) -> bool {
        cell == "any" || cell.split(',').any(|v| v.trim() == name)
    }

    #[test]
    fn the_documented_table_is_the_verdict() {
        let doc = include_str!("../../../docs/verdict.md");
        let table = doc
            .split("## The table")
            .nth(1)
            .expect("docs/verdict.md has a section 'The table'");
        let rows: Vec<Vec<&str>> = table
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2)
            .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
            .collect();
        assert!(rows.len() >= 5, "the table has rows");
        for row in &rows {
            assert_eq!(row.len(), 5, "row {row:?}");
            // Every name in a cell is a value of its column.
            for (cell, names) in row.iter().zip([
                PASSIVE.map(|p| p.1).as_slice(),
                CHIP.map(|p| p.1).as_slice(),
                ACCESS.map(|p| p.1).as_slice(),
                REQUIRE.map(|p| p.1).as_slice(),
            ]) {
                if *cell != "any" {
                    for v in cell.split(',') {
                        assert!(names.contains(&v.trim()), "{v:?} in {row:?}");
                    }
                }
            }
        }
        let mut combinations = 0;
        for (passive, p) in PASSIVE {
            for (chip, c) in CHIP {
                for (access, a) in ACCESS {
                    for (require, r) in REQUIRE {
                        let matching: Vec<&Vec<&str>> = rows
                            .iter()
                            .filter(|row| {
                                cell_holds(row[0], p)
                                    && cell_holds(row[1], c)
                                    && cell_holds(row[2], a)
                                    && cell_holds(row[3], r)
                            })
                            .collect();
                        let [row] = matching.as_slice() else {
                            panic!("{p} {c} {a} {r}: {} rows, want one", matching.len());
                        };
                        let policy = VerdictPolicy {
                            require_chip_proof: require,
                        };
                        let verdict =
                            serde_json::to_value(Verdict::of(passive, chip, access, policy))
                                .unwrap();
                        assert_eq!(verdict, row[4], "{p} {c} {a} {r}");
                        combinations += 1;
                    }
                }
            }
        }
        assert_eq!(combinations, 72);
    }

    #[test]
    fn genuine_needs_valid_signed_data_and_every_required_proof() {
        for (passive, _) in PASSIVE {
            for (chip, _) in CHIP {
                for (access, _) in ACCESS {
                    for (require, _) in REQUIRE {
                        let policy = VerdictPolicy {
                            require_chip_proof: require,
                        };
                        if Verdict::of(passive, chip, access, policy) == Verdict::Genuine {
                            assert_eq!(passive, PassiveStatus::Valid);
                            assert!(
                                chip == ChipStatus::Valid
                                    || (chip == ChipStatus::NoneOffered && !require)
                            );
                            assert_ne!(access, AccessCheck::PaceBypassed);
                        }
                    }
                }
            }
        }
    }
}
