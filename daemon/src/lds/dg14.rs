//! DG14: security options (ICAO 9303-10 §4.7.14): the SecurityInfos of chip
//! authentication and PACE. Only the outer tag is checked here; the SecurityInfos are
//! decoded by the chip-protocol code, which owns their meaning.

use super::{DataGroup, Error, outer};

/// DG14, kept as its SecurityInfos' DER bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dg14 {
    /// The content of the `6E` template: a DER `SET OF SecurityInfo`.
    pub security_infos: Vec<u8>,
    /// The whole file.
    pub raw: Vec<u8>,
}

impl Dg14 {
    /// Checks the tag and the DER framing of DG14.
    pub fn parse(bytes: &[u8]) -> Result<Dg14, Error> {
        let file = outer(bytes, DataGroup::DG14.tag())?;
        let set = apdu::tlv::Tlv::parse(file.value())?;
        if set.tag() != super::EF_CARD_ACCESS_TAG {
            return Err(Error::Malformed(
                "DG14: content is not a SET of SecurityInfos",
            ));
        }
        Ok(Dg14 {
            security_infos: set.raw().to_vec(),
            raw: file.raw().to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsi_reference_dg14() {
        let bytes = crate::reference::read("data/bsi-tr03105-5/Datagroup14.bin");
        let dg = Dg14::parse(&bytes).unwrap();
        assert_eq!(dg.raw, bytes);
        assert_eq!(dg.security_infos.first(), Some(&0x31));
        assert!(Dg14::parse(&[0x6E, 0x02, 0x30, 0x00]).is_err());
        assert!(Dg14::parse(&[0x6F, 0x02, 0x31, 0x00]).is_err());
    }
}
