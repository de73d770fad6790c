//! Card profiles: the synthetic people and the chips that carry their data.
//!
//! Every holder here is invented. Names use Vietnamese diacritics on purpose: the
//! readers must carry them through unchanged.

use std::collections::BTreeMap;

use apdu::emulator::{CardImage, ChipLimits, EmulatedFile, FileAccess};
use apdu::mrz::MrzKey;
use apdu::read_binary::ICAO_AID;

use crate::lds::dg1::{MrzFields, MrzFormat, Sex};
use crate::lds::ef_com::EfCom;
use crate::lds::{DataGroup, LdsFile};

/// What a tester needs to open a simulated card: the numbers printed on it.
#[derive(Clone, PartialEq, Eq)]
pub struct PrintedData {
    /// The 12-digit personal identification number (Vietnamese cards).
    pub id_number: String,
    /// The document number in the MRZ.
    pub document_number: String,
    /// Date of birth, `YYMMDD`.
    pub birth: String,
    /// Date of expiry, `YYMMDD`.
    pub expiry: String,
    /// The card access number (Vietnamese cards: last six digits of the ID number).
    pub can: String,
}

impl core::fmt::Debug for PrintedData {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PrintedData([redacted])")
    }
}

/// A simulated card: its chip image and what is printed on its face.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Profile name (`vn-cccd`).
    pub name: &'static str,
    /// The chip.
    pub image: CardImage,
    /// The card's printed data.
    pub printed: PrintedData,
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
}

/// The synthetic holder of the `vn-cccd` profile.
fn vn_holder() -> (PrintedData, MrzFields) {
    let id_number = "001189123456";
    let printed = PrintedData {
        id_number: id_number.to_owned(),
        // The MRZ document number of a CCCD is the last nine digits of the ID number.
        document_number: id_number[3..].to_owned(),
        birth: "890517".to_owned(),
        expiry: "290517".to_owned(),
        can: id_number[6..].to_owned(),
    };
    let fields = MrzFields {
        format: Some(MrzFormat::Td1),
        document_code: "ID".to_owned(),
        issuing_state: "VNM".to_owned(),
        document_number: printed.document_number.clone(),
        optional_data: id_number.to_owned(),
        optional_data_2: String::new(),
        birth_date: printed.birth.clone(),
        sex: Sex::Female,
        expiry_date: printed.expiry.clone(),
        nationality: "VNM".to_owned(),
        surname: "Đặng".to_owned(),
        given_names: "Thị Thu Hà".to_owned(),
    };
    (printed, fields)
}

fn data_group(data: Vec<u8>, dg: DataGroup) -> EmulatedFile {
    EmulatedFile {
        data,
        access: FileAccess::SecureMessaging,
        sfi: Some(LdsFile::DataGroup(dg).sfi()),
    }
}

/// The Vietnamese CCCD (Căn cước công dân) as met in the field.
pub fn vn_cccd() -> Result<Profile, crate::lds::Error> {
    let (printed, fields) = vn_holder();
    let groups = [DataGroup::DG1];
    let mut files = BTreeMap::new();
    files.insert(
        LdsFile::Com.fid(),
        EmulatedFile {
            data: EfCom::new(&groups).encode()?,
            access: FileAccess::SecureMessaging,
            sfi: Some(LdsFile::Com.sfi()),
        },
    );
    files.insert(
        LdsFile::DataGroup(DataGroup::DG1).fid(),
        data_group(fields.to_dg1()?, DataGroup::DG1),
    );
    let bac = MrzKey::new(&printed.document_number, &printed.birth, &printed.expiry)
        .map_err(|_| crate::lds::Error::Encode("MRZ information"))?;
    let image = CardImage {
        applications: BTreeMap::from([(ICAO_AID.to_vec(), files)]),
        bac: Some(bac),
        limits: ChipLimits::default(),
        select_mf_unsupported: true,
        ..CardImage::default()
    };
    Ok(Profile {
        name: "vn-cccd",
        image,
        printed,
    })
}
