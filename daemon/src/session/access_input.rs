//! What a clerk or a client gives to open a card, in the forms they meet it, turned into
//! an [`AccessKey`]: a CAN, a full MRZ, the three MRZ fields, the 12-digit Vietnamese ID
//! number (with or without dates), or the text of the QR code on the card ([`CardQr`]).

use apdu::access::AccessKey;
use apdu::mrz::MrzKey;
use apdu::pace::Can;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::lds::dg1::Dg1;
use crate::lds::dg13::VnDate;

/// Longest QR text accepted (a version 40 QR code holds at most 2 953 bytes).
pub const MAX_QR_TEXT: usize = 4096;

/// An access input, as the command line flags and the socket API's `access` object give
/// it. Holds personal data: zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(untagged, deny_unknown_fields)]
pub enum AccessInput {
    /// `{"can": "123456"}`.
    Can {
        /// The card access number.
        can: String,
    },
    /// `{"mrz": "…"}`: the whole MRZ, lines concatenated or separated by newlines.
    Mrz {
        /// The MRZ text.
        mrz: String,
    },
    /// `{"document_number", "birth", "expiry"}` (dates `YYMMDD`).
    Document {
        /// Document number.
        document_number: String,
        /// Date of birth, `YYMMDD`.
        birth: String,
        /// Date of expiry, `YYMMDD`.
        expiry: String,
    },
    /// `{"id_number", "birth"?, "expiry"?}`: the Vietnamese 12-digit ID number; with both
    /// dates BAC becomes possible (document number = its last 9 digits), without them
    /// PACE with CAN = its last 6 digits.
    IdNumber {
        /// The 12-digit personal identification number.
        id_number: String,
        /// Date of birth, `YYMMDD`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        birth: Option<String>,
        /// Date of expiry, `YYMMDD`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expiry: Option<String>,
    },
    /// `{"qr": "…"}`: the text of the card's QR code; its first `|`-separated field is
    /// the 12-digit ID number, which gives the CAN (see [`CardQr`]).
    Qr {
        /// The QR code's text.
        qr: String,
    },
}

impl core::fmt::Debug for AccessInput {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let kind = match self {
            AccessInput::Can { .. } => "can",
            AccessInput::Mrz { .. } => "mrz",
            AccessInput::Document { .. } => "document",
            AccessInput::IdNumber { .. } => "id_number",
            AccessInput::Qr { .. } => "qr",
        };
        write!(f, "AccessInput({kind}, [redacted])")
    }
}

/// Why an access input cannot be used; names the field, never its value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccessInputError {
    /// The CAN is not 4–12 digits.
    #[error("the CAN must be 4 to 12 digits")]
    Can,
    /// The MRZ does not parse.
    #[error("the MRZ is not a valid TD1, TD2 or TD3 MRZ")]
    Mrz,
    /// The MRZ fields do not form MRZ information.
    #[error("the document number, birth date (YYMMDD) or expiry date (YYMMDD) is malformed")]
    Document,
    /// The ID number is not 12 digits.
    #[error("the ID number must be 12 digits")]
    IdNumber,
    /// Only one of birth and expiry was given with the ID number.
    #[error("give both birth and expiry dates with the ID number, or neither")]
    IdDates,
    /// The QR text does not start with a 12-digit ID number and `|`.
    #[error("the QR text does not start with a 12-digit ID number followed by |")]
    Qr,
}

/// The text of a Vietnamese card's QR code, as far as its layout is public.
///
/// - The 2021 CCCD's front QR: `ID|old ID (may be empty)|full name|DDMMYYYY (birth)|sex|
///   address|DDMMYYYY (issue)`, seven fields, the dates valid: [`CardQr::Cccd2021`].
/// - Anything else whose first `|`-separated field is a 12-digit ID number, such as the
///   back QR of the 2024 Căn cước card, whose field order is not public:
///   [`CardQr::Other`], the ID for access and the rest only as raw text.
///
/// Holds personal data: zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub enum CardQr {
    /// The 2021 CCCD's front QR code.
    Cccd2021 {
        /// The 12-digit ID number.
        id_number: String,
        /// The old ID number (9 or 12 digits), when the card has one.
        old_id_number: Option<String>,
        /// Full name.
        full_name: String,
        /// Date of birth.
        birth_date: VnDate,
        /// Sex as written ("Nam", "Nữ").
        sex: String,
        /// Address (place of residence).
        address: String,
        /// Date of issue.
        issue_date: VnDate,
    },
    /// A QR code whose layout is not known: only the ID is interpreted.
    Other {
        /// The 12-digit ID number.
        id_number: String,
        /// Everything after the ID's `|`, unchanged.
        rest: String,
    },
}

impl core::fmt::Debug for CardQr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let kind = match self {
            CardQr::Cccd2021 { .. } => "cccd-2021",
            CardQr::Other { .. } => "other",
        };
        write!(f, "CardQr({kind}, [redacted])")
    }
}

impl CardQr {
    /// Parses the text of a card's QR code (surrounding whitespace ignored).
    pub fn parse(text: &str) -> Result<CardQr, AccessInputError> {
        if text.len() > MAX_QR_TEXT {
            return Err(AccessInputError::Qr);
        }
        let text = text.trim();
        let (id, rest) = text.split_once('|').ok_or(AccessInputError::Qr)?;
        let id = id_number(id).map_err(|_| AccessInputError::Qr)?.to_owned();
        let fields: Vec<&str> = rest.split('|').collect();
        if let [old, name, birth, sex, address, issue] = fields.as_slice() {
            let digits = |s: &str, lens: &[usize]| {
                lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
            };
            let old_ok = old.is_empty() || digits(old, &[9, 12]);
            if let (true, Some(birth), Some(issue)) = (old_ok, qr_date(birth), qr_date(issue)) {
                if !name.trim().is_empty() {
                    return Ok(CardQr::Cccd2021 {
                        id_number: id,
                        old_id_number: (!old.is_empty()).then(|| (*old).to_owned()),
                        full_name: name.trim().to_owned(),
                        birth_date: birth,
                        sex: sex.trim().to_owned(),
                        address: address.trim().to_owned(),
                        issue_date: issue,
                    });
                }
            }
        }
        Ok(CardQr::Other {
            id_number: id,
            rest: rest.to_owned(),
        })
    }

    /// The 12-digit ID number.
    pub fn id_number(&self) -> &str {
        match self {
            CardQr::Cccd2021 { id_number, .. } | CardQr::Other { id_number, .. } => id_number,
        }
    }
}

/// A QR date `DDMMYYYY`, when valid, as the card writes dates (`dd/mm/yyyy`).
fn qr_date(text: &str) -> Option<VnDate> {
    let (d, rest) = (text.get(..2)?, text.get(2..)?);
    let (m, y) = (rest.get(..2)?, rest.get(2..)?);
    if text.len() != 8 {
        return None;
    }
    let date = VnDate::new(format!("{d}/{m}/{y}"));
    date.iso().is_some().then_some(date)
}

/// A 12-digit CCCD number, checked.
fn id_number(text: &str) -> Result<&str, AccessInputError> {
    let text = text.trim();
    if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text)
    } else {
        Err(AccessInputError::IdNumber)
    }
}

/// The CAN of a CCCD: the last six digits of its ID number.
fn can_of(id: &str) -> Result<Can, AccessInputError> {
    Can::new(id.get(6..).ok_or(AccessInputError::IdNumber)?).map_err(|_| AccessInputError::IdNumber)
}

impl AccessInput {
    /// The key that opens the chip.
    pub fn to_key(&self) -> Result<AccessKey, AccessInputError> {
        match self {
            AccessInput::Can { can } => Can::new(can)
                .map(AccessKey::Can)
                .map_err(|_| AccessInputError::Can),
            AccessInput::Mrz { mrz } => {
                let joined: String = mrz.split_whitespace().collect();
                let dg1 = Dg1::from_mrz(&joined).map_err(|_| AccessInputError::Mrz)?;
                let f = &dg1.fields;
                MrzKey::new(&f.document_number, &f.birth_date, &f.expiry_date)
                    .map(AccessKey::Mrz)
                    .map_err(|_| AccessInputError::Mrz)
            }
            AccessInput::Document {
                document_number,
                birth,
                expiry,
            } => MrzKey::new(document_number, birth, expiry)
                .map(AccessKey::Mrz)
                .map_err(|_| AccessInputError::Document),
            AccessInput::IdNumber {
                id_number: id,
                birth,
                expiry,
            } => {
                let id = id_number(id)?;
                match (birth, expiry) {
                    (None, None) => can_of(id).map(AccessKey::Can),
                    (Some(birth), Some(expiry)) => {
                        let document_number = id.get(3..).ok_or(AccessInputError::IdNumber)?;
                        MrzKey::new(document_number, birth, expiry)
                            .map(AccessKey::Mrz)
                            .map_err(|_| AccessInputError::Document)
                    }
                    _ => Err(AccessInputError::IdDates),
                }
            }
            AccessInput::Qr { qr } => {
                let qr = CardQr::parse(qr)?;
                can_of(qr.id_number()).map(AccessKey::Can)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(json: &str) -> Result<AccessKey, AccessInputError> {
        serde_json::from_str::<AccessInput>(json).unwrap().to_key()
    }

    #[test]
    fn every_form_of_access() {
        assert_eq!(
            key(r#"{"can":"123456"}"#).unwrap(),
            AccessKey::Can(Can::new("123456").unwrap())
        );
        assert_eq!(
            key(r#"{"id_number":"001189123456"}"#).unwrap(),
            AccessKey::Can(Can::new("123456").unwrap())
        );
        assert_eq!(
            key(r#"{"id_number":"001189123456","birth":"890517","expiry":"290517"}"#).unwrap(),
            AccessKey::Mrz(MrzKey::new("189123456", "890517", "290517").unwrap())
        );
        assert_eq!(
            key(r#"{"document_number":"L898902C","birth":"690806","expiry":"940623"}"#).unwrap(),
            AccessKey::Mrz(MrzKey::new("L898902C", "690806", "940623").unwrap())
        );
        // A synthetic CCCD QR code.
        let qr =
            r#"{"qr":"001189123456|123456789|Đặng Thị Thu Hà|17051989|Nữ|Số 1, Hà Nội|01022021"}"#;
        assert_eq!(
            key(qr).unwrap(),
            AccessKey::Can(Can::new("123456").unwrap())
        );
        let mrz = r#"{"mrz":"IDVNM1891234565001189123456<<<\n8905178F2905176VNM<<<<<<<<<<<2\nDANG<<THI<THU<HA<<<<<<<<<<<<<<"}"#;
        assert_eq!(
            key(mrz).unwrap(),
            AccessKey::Mrz(MrzKey::new("189123456", "890517", "290517").unwrap())
        );
    }

    #[test]
    fn bad_inputs_name_the_field() {
        assert_eq!(key(r#"{"can":"12a"}"#), Err(AccessInputError::Can));
        assert_eq!(
            key(r#"{"id_number":"12345"}"#),
            Err(AccessInputError::IdNumber)
        );
        assert_eq!(
            key(r#"{"id_number":"001189123456","birth":"890517"}"#),
            Err(AccessInputError::IdDates)
        );
        assert_eq!(key(r#"{"qr":"00118912345|x"}"#), Err(AccessInputError::Qr));
        assert_eq!(key(r#"{"qr":"001189123456"}"#), Err(AccessInputError::Qr));
        assert_eq!(key(r#"{"qr":"x|001189123456"}"#), Err(AccessInputError::Qr));
        assert_eq!(key(r#"{"mrz":"P<D<<"}"#), Err(AccessInputError::Mrz));
        assert!(serde_json::from_str::<AccessInput>(r#"{"pin":"1"}"#).is_err());
        let input: AccessInput = serde_json::from_str(r#"{"can":"123456"}"#).unwrap();
        assert_eq!(format!("{input:?}"), "AccessInput(can, [redacted])");
    }

    #[test]
    fn the_2021_front_qr_code() {
        let qr = CardQr::parse(
            "001189123456|012345678|Đặng Thị Thu Hà|17051989|Nữ|Số 12 Ngõ 34, Hà Nội|10072021\n",
        )
        .unwrap();
        let CardQr::Cccd2021 {
            id_number,
            old_id_number,
            full_name,
            birth_date,
            sex,
            address,
            issue_date,
        } = &qr
        else {
            panic!("not read as a 2021 QR code");
        };
        assert_eq!(id_number, "001189123456");
        assert_eq!(old_id_number.as_deref(), Some("012345678"));
        assert_eq!(full_name, "Đặng Thị Thu Hà");
        assert_eq!(birth_date.iso().as_deref(), Some("1989-05-17"));
        assert_eq!(birth_date.text, "17/05/1989");
        assert_eq!(sex, "Nữ");
        assert_eq!(address, "Số 12 Ngõ 34, Hà Nội");
        assert_eq!(issue_date.iso().as_deref(), Some("2021-07-10"));
        assert_eq!(format!("{qr:?}"), "CardQr(cccd-2021, [redacted])");

        // The old ID may be empty.
        let qr = CardQr::parse("001189123456||Lê Văn A|29022000|Nam|Huế|01012022").unwrap();
        assert!(matches!(
            qr,
            CardQr::Cccd2021 { ref old_id_number, .. } if old_id_number.is_none()
        ));
        assert_eq!(
            AccessInput::Qr {
                qr: "001189123456||Lê Văn A|29022000|Nam|Huế|01012022".into()
            }
            .to_key()
            .unwrap(),
            AccessKey::Can(Can::new("123456").unwrap())
        );
        // Seven fields with an invalid date are not taken for the 2021 layout.
        let qr = CardQr::parse("001189123456||Lê Văn A|30022000|Nam|Huế|01012022").unwrap();
        assert!(matches!(qr, CardQr::Other { .. }));
    }

    #[test]
    fn a_qr_code_of_unknown_layout_gives_its_id_and_raw_text() {
        // 2024-style: the ID first, the rest in an order that is not public.
        let text = "079301001234|Nguyễn Văn B|01011990|Nam|Phường 1, Quận 3, TP. Hồ Chí Minh|O+|||";
        let qr = CardQr::parse(text).unwrap();
        assert_eq!(
            qr,
            CardQr::Other {
                id_number: "079301001234".into(),
                rest: "Nguyễn Văn B|01011990|Nam|Phường 1, Quận 3, TP. Hồ Chí Minh|O+|||".into(),
            }
        );
        assert_eq!(qr.id_number(), "079301001234");
        assert_eq!(
            AccessInput::Qr { qr: text.into() }.to_key().unwrap(),
            AccessKey::Can(Can::new("001234").unwrap())
        );
        assert_eq!(format!("{qr:?}"), "CardQr(other, [redacted])");
        // Only the ID and a separator.
        assert!(matches!(
            CardQr::parse("079301001234|").unwrap(),
            CardQr::Other { ref rest, .. } if rest.is_empty()
        ));
        // Bounded.
        let long = format!("079301001234|{}", "x".repeat(MAX_QR_TEXT));
        assert_eq!(CardQr::parse(&long), Err(AccessInputError::Qr));
        // Odd text never panics.
        for text in [
            "",
            "|",
            "||||||",
            "079301001234|é|é|é|é|é|é",
            "0793010012é4|x",
        ] {
            let _ = CardQr::parse(text);
        }
    }
}
