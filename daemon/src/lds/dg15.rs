//! DG15: the active authentication public key (ICAO 9303-10 §4.7.15), a DER
//! SubjectPublicKeyInfo. Only the framing is checked here; the key is decoded where it
//! is used.

use super::{DataGroup, Error, outer};

/// DG15, kept as the DER bytes of its SubjectPublicKeyInfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dg15 {
    /// The DER `SubjectPublicKeyInfo`.
    pub subject_public_key_info: Vec<u8>,
    /// The whole file.
    pub raw: Vec<u8>,
}

impl Dg15 {
    /// Checks the tag and the DER framing of DG15.
    pub fn parse(bytes: &[u8]) -> Result<Dg15, Error> {
        let file = outer(bytes, DataGroup::DG15.tag())?;
        let spki = apdu::tlv::Tlv::parse(file.value())?;
        if spki.tag() != apdu::asn1::SEQUENCE {
            return Err(Error::Malformed(
                "DG15: content is not a SubjectPublicKeyInfo",
            ));
        }
        Ok(Dg15 {
            subject_public_key_info: spki.raw().to_vec(),
            raw: file.raw().to_vec(),
        })
    }

    /// The DG15 holding `subject_public_key_info` (DER).
    pub fn encode(subject_public_key_info: &[u8]) -> Vec<u8> {
        apdu::tlv::encode(DataGroup::DG15.tag(), subject_public_key_info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsi_reference_dg15() {
        let bytes = crate::reference::read("data/bsi-tr03105-5/Datagroup15.bin");
        let key = crate::reference::read("data/bsi-tr03105-5/DG15_pk.bin");
        let dg = Dg15::parse(&bytes).unwrap();
        assert_eq!(dg.subject_public_key_info, key);
        assert_eq!(Dg15::encode(&key), bytes);
        assert!(Dg15::parse(&[0x6F, 0x02, 0x31, 0x00]).is_err());
        assert!(Dg15::parse(&[0x6F, 0x03, 0x30, 0x00, 0x00]).is_err());
    }
}
