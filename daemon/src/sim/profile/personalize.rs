//! Personalization: the chip image (files, access control, keys) built from a profile
//! file, EF.SOD signed over exactly the bytes served.

use std::collections::{BTreeMap, HashMap};

use apdu::access::EF_CARD_ACCESS;
use apdu::crypto::CipherSuite;
use apdu::emulator::{CardImage, ChipAttack, ChipLimits, EmulatedFile, FileAccess, LeRefusal};
use apdu::key_agreement::Group;
use apdu::mrz::MrzKey;
use apdu::pace::{Can, ChipPaceConfig, ParameterIdRule};
use apdu::read_binary::ICAO_AID;
use apdu::security_infos::{
    ActiveAuthenticationInfo, ChipAuthenticationPublicKeyInfo, KeyAgreement, Mapping, PaceInfo,
    PaceProtocol, SecurityInfo, SecurityInfos,
};
use apdu::tlv;

use super::builder::{Builder, parse_hex};
use super::format::{Dg11Section, Dg12Section, Dg13Section, HolderSection, PaceSection};
use super::{
    EF_CARD_SECURITY, EF_CARD_SECURITY_SFI, KeyFormat, PrintedData, Profile, ProfileError,
    read_limited,
};
use crate::lds::dg1::{Dg1, MrzFields, MrzFormat, Sex, vn_optional_data};
use crate::lds::dg2::encode_dg2;
use crate::lds::dg11::Dg11;
use crate::lds::dg12::Dg12;
use crate::lds::dg13::{VnDate, VnExtra, VnIdentity};
use crate::lds::dg15::Dg15;
use crate::lds::ef_com::EfCom;
use crate::lds::{DataGroup, LdsFile};
use crate::sim::face::synthetic_face;
use crate::transport::atr::contactless_atr;
use apdu::active_auth::ecdsa_plain_oid;

impl Builder {
    pub(super) fn build(self) -> Result<Profile, ProfileError> {
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

    pub(super) fn holder(&self, h: &HolderSection) -> Result<(PrintedData, Vec<u8>), ProfileError> {
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

    pub(super) fn pace_info(&self, p: &PaceSection) -> Result<PaceInfo, ProfileError> {
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

    pub(super) fn cipher(&self, name: &str) -> Result<CipherSuite, ProfileError> {
        Ok(match name {
            "3DES" => CipherSuite::Des3,
            "AES-128" => CipherSuite::Aes128,
            "AES-192" => CipherSuite::Aes192,
            "AES-256" => CipherSuite::Aes256,
            other => return Err(self.invalid(format!("cipher {other}"))),
        })
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

/// Historical bytes when the profile gives none: a compact-TLV card capabilities object
/// (ISO/IEC 7816-4 §8.1.1.2.7) that tells whether extended Lc/Le works.
fn default_historical_bytes(extended_length: bool) -> Vec<u8> {
    let third = if extended_length { 0x40 } else { 0x00 };
    vec![0x80, 0x73, 0x00, 0x00, third]
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
