//! What a clerk or a client gives to open a card, in the forms they meet it, turned into
//! an [`AccessKey`]: a CAN, a full MRZ, the three MRZ fields, the 12-digit Vietnamese ID
//! number (with or without dates), or the text of the QR code on the CCCD's front.

use apdu::access::AccessKey;
use apdu::mrz::MrzKey;
use apdu::pace::Can;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::lds::dg1::Dg1;

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
    /// `{"qr": "…"}`: the CCCD's QR code, `ID|old ID|name|ddmmyyyy|sex|address|ddmmyyyy`.
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
    /// The QR text is not the CCCD's.
    #[error("the QR text is not a CCCD QR code (ID|old ID|name|birth|sex|address|issue)")]
    Qr,
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
                let mut fields = qr.trim().split('|');
                let id = fields.next().ok_or(AccessInputError::Qr)?;
                // ID, old ID, name, birth, sex, address, issue date.
                if qr.split('|').count() < 7 {
                    return Err(AccessInputError::Qr);
                }
                let id = id_number(id).map_err(|_| AccessInputError::Qr)?;
                can_of(id).map(AccessKey::Can)
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
        assert_eq!(key(r#"{"qr":"001189123456|x"}"#), Err(AccessInputError::Qr));
        assert_eq!(key(r#"{"mrz":"P<D<<"}"#), Err(AccessInputError::Mrz));
        assert!(serde_json::from_str::<AccessInput>(r#"{"pin":"1"}"#).is_err());
        let input: AccessInput = serde_json::from_str(r#"{"can":"123456"}"#).unwrap();
        assert_eq!(format!("{input:?}"), "AccessInput(can, [redacted])");
    }
}
