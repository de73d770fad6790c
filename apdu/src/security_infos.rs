//! SecurityInfos (ICAO 9303-11 §9.2, BSI TR-03110 part 3 appendix A): the SET that
//! EF.CardAccess, DG14 and EF.CardSecurity carry to say which protocols a chip offers.
//!
//! Unknown entries are kept (as their OID and bytes) and skipped, so a chip with newer
//! protocols still opens with the ones this implementation knows.

use crate::Error;
use crate::asn1::{self, Oid, SEQUENCE, SET};
use crate::crypto::CipherSuite;
use crate::tlv::{Tlv, TlvIter};

const ID_PK: Oid = Oid::new("0.4.0.127.0.7.2.2.1");
const ID_TA: Oid = Oid::new("0.4.0.127.0.7.2.2.2");
const ID_CA: Oid = Oid::new("0.4.0.127.0.7.2.2.3");
const ID_PACE: Oid = Oid::new("0.4.0.127.0.7.2.2.4");
/// ICAO id-AA: ActiveAuthenticationInfo.
pub const ID_AA: Oid = Oid::new("2.23.136.1.1.5");
/// Most SecurityInfo entries accepted in one SET.
const MAX_INFOS: usize = 64;

/// Finite-field or elliptic-curve Diffie-Hellman.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyAgreement {
    /// Diffie-Hellman over a prime field.
    Dh,
    /// Elliptic-curve Diffie-Hellman.
    Ecdh,
}

/// How PACE maps the nonce to an ephemeral generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mapping {
    /// Generic mapping: G' = s·G + H.
    Generic,
    /// Integrated mapping: G' = f(R(s, t)).
    Integrated,
    /// Chip authentication mapping: generic mapping plus the chip's static key proof.
    ChipAuthentication,
}

/// A PACE protocol OID, decoded: id-PACE-{DH,ECDH}-{GM,IM,CAM}-{cipher}.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PaceProtocol {
    /// DH or ECDH.
    pub agreement: KeyAgreement,
    /// The mapping.
    pub mapping: Mapping,
    /// The secure-messaging suite PACE establishes.
    pub suite: CipherSuite,
}

impl PaceProtocol {
    /// Decodes an id-PACE OID; `None` for anything else (including the cipher-less OIDs
    /// of PACEDomainParameterInfo).
    pub fn from_oid(oid: &Oid) -> Option<PaceProtocol> {
        let arcs = oid.arcs_after(&ID_PACE)?;
        let [kind, cipher] = arcs.as_slice() else {
            return None;
        };
        let (agreement, mapping) = match kind {
            1 => (KeyAgreement::Dh, Mapping::Generic),
            2 => (KeyAgreement::Ecdh, Mapping::Generic),
            3 => (KeyAgreement::Dh, Mapping::Integrated),
            4 => (KeyAgreement::Ecdh, Mapping::Integrated),
            6 => (KeyAgreement::Ecdh, Mapping::ChipAuthentication),
            _ => return None,
        };
        let suite = suite_from_arc(*cipher)?;
        // CAM is defined with AES only (ICAO 9303-11 §4.4.3.5).
        if mapping == Mapping::ChipAuthentication && suite == CipherSuite::Des3 {
            return None;
        }
        Some(PaceProtocol {
            agreement,
            mapping,
            suite,
        })
    }

    /// The OID of this protocol.
    pub fn oid(&self) -> Oid {
        let kind = match (self.agreement, self.mapping) {
            (KeyAgreement::Dh, Mapping::Generic) => 1,
            (KeyAgreement::Ecdh, Mapping::Generic) => 2,
            (KeyAgreement::Dh, Mapping::Integrated) => 3,
            (KeyAgreement::Ecdh, Mapping::Integrated) => 4,
            (_, Mapping::ChipAuthentication) => 6,
        };
        ID_PACE.child(kind).child(suite_arc(self.suite))
    }

    /// The standard name: `PACE-ECDH-GM-AES-128`.
    pub fn name(&self) -> String {
        let agreement = match self.agreement {
            KeyAgreement::Dh => "DH",
            KeyAgreement::Ecdh => "ECDH",
        };
        let mapping = match self.mapping {
            Mapping::Generic => "GM",
            Mapping::Integrated => "IM",
            Mapping::ChipAuthentication => "CAM",
        };
        format!("PACE-{agreement}-{mapping}-{}", self.suite.name())
    }

    /// Preference among several offered protocols: stronger cipher first, then ECDH over
    /// DH, then the mapping that also authenticates the chip.
    pub(crate) fn strength(&self) -> u32 {
        let cipher = match self.suite {
            CipherSuite::Des3 => 0,
            CipherSuite::Aes128 => 1,
            CipherSuite::Aes192 => 2,
            CipherSuite::Aes256 => 3,
        };
        let agreement = match self.agreement {
            KeyAgreement::Dh => 0,
            KeyAgreement::Ecdh => 1,
        };
        let mapping = match self.mapping {
            Mapping::Generic => 0,
            Mapping::Integrated => 1,
            Mapping::ChipAuthentication => 2,
        };
        cipher * 100 + agreement * 10 + mapping
    }
}

fn suite_from_arc(arc: u64) -> Option<CipherSuite> {
    Some(match arc {
        1 => CipherSuite::Des3,
        2 => CipherSuite::Aes128,
        3 => CipherSuite::Aes192,
        4 => CipherSuite::Aes256,
        _ => return None,
    })
}

fn suite_arc(suite: CipherSuite) -> u64 {
    match suite {
        CipherSuite::Des3 => 1,
        CipherSuite::Aes128 => 2,
        CipherSuite::Aes192 => 3,
        CipherSuite::Aes256 => 4,
    }
}

/// A chip authentication protocol OID, decoded: id-CA-{DH,ECDH}-{cipher}.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CaProtocol {
    /// DH or ECDH.
    pub agreement: KeyAgreement,
    /// The secure-messaging suite after chip authentication.
    pub suite: CipherSuite,
}

impl CaProtocol {
    /// Decodes an id-CA OID.
    pub fn from_oid(oid: &Oid) -> Option<CaProtocol> {
        let arcs = oid.arcs_after(&ID_CA)?;
        let [kind, cipher] = arcs.as_slice() else {
            return None;
        };
        let agreement = match kind {
            1 => KeyAgreement::Dh,
            2 => KeyAgreement::Ecdh,
            _ => return None,
        };
        Some(CaProtocol {
            agreement,
            suite: suite_from_arc(*cipher)?,
        })
    }

    /// The OID of this protocol.
    pub fn oid(&self) -> Oid {
        let kind = match self.agreement {
            KeyAgreement::Dh => 1,
            KeyAgreement::Ecdh => 2,
        };
        ID_CA.child(kind).child(suite_arc(self.suite))
    }

    /// The standard name: `CA-ECDH-AES-128`.
    pub fn name(&self) -> String {
        let agreement = match self.agreement {
            KeyAgreement::Dh => "DH",
            KeyAgreement::Ecdh => "ECDH",
        };
        format!("CA-{agreement}-{}", self.suite.name())
    }
}

/// PACEInfo: one PACE protocol the chip offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaceInfo {
    /// The protocol.
    pub protocol: PaceProtocol,
    /// Version (2 for ICAO 9303).
    pub version: u64,
    /// Standardized domain parameter ID (0–2 DH, 8–18 ECDH), or a chip-specific ID that
    /// refers to a PACEDomainParameterInfo; absent when the chip has exactly one.
    pub parameter_id: Option<u64>,
}

/// PACEDomainParameterInfo: explicit domain parameters for a proprietary parameter ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaceDomainParameterInfo {
    /// id-PACE-{DH,ECDH}-{GM,IM,CAM} (no cipher arc).
    pub protocol: Oid,
    /// The AlgorithmIdentifier with the parameters, DER.
    pub parameters: Vec<u8>,
    /// The ID a PACEInfo refers to it by.
    pub parameter_id: Option<u64>,
}

/// ChipAuthenticationInfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChipAuthenticationInfo {
    /// The protocol.
    pub protocol: CaProtocol,
    /// Version 1 or 2.
    pub version: u64,
    /// Which key, when the chip has several.
    pub key_id: Option<u64>,
}

/// ChipAuthenticationPublicKeyInfo: a static key for chip authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChipAuthenticationPublicKeyInfo {
    /// id-PK-DH or id-PK-ECDH.
    pub agreement: KeyAgreement,
    /// The SubjectPublicKeyInfo, DER.
    pub public_key: Vec<u8>,
    /// Which key, when the chip has several.
    pub key_id: Option<u64>,
}

/// ActiveAuthenticationInfo: the signature algorithm of an ECDSA active authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveAuthenticationInfo {
    /// Version (1).
    pub version: u64,
    /// The signature algorithm OID (e.g. ecdsa-plain-SHA256).
    pub signature_algorithm: Oid,
}

/// One SecurityInfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecurityInfo {
    /// PACEInfo.
    Pace(PaceInfo),
    /// PACEDomainParameterInfo.
    PaceDomainParameters(PaceDomainParameterInfo),
    /// ChipAuthenticationInfo.
    ChipAuthentication(ChipAuthenticationInfo),
    /// ChipAuthenticationPublicKeyInfo.
    ChipAuthenticationPublicKey(ChipAuthenticationPublicKeyInfo),
    /// ActiveAuthenticationInfo.
    ActiveAuthentication(ActiveAuthenticationInfo),
    /// TerminalAuthenticationInfo (version only: terminal authentication is not run).
    TerminalAuthentication {
        /// Version.
        version: u64,
    },
    /// Anything else, kept as its OID and encoding.
    Unknown {
        /// The protocol OID.
        protocol: Oid,
        /// The whole SecurityInfo, DER.
        raw: Vec<u8>,
    },
}

/// A parsed SecurityInfos SET.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecurityInfos {
    /// The entries in the order of the encoding.
    pub infos: Vec<SecurityInfo>,
}

impl SecurityInfos {
    /// Parses a SecurityInfos SET (EF.CardAccess contents, or the SET inside DG14).
    pub fn parse(der: &[u8]) -> Result<SecurityInfos, Error> {
        let set = Tlv::parse(der)?;
        if set.tag() != SET {
            return Err(Error::Malformed("SecurityInfos must be a SET"));
        }
        let mut infos = Vec::new();
        for entry in set.children() {
            let entry = entry?;
            if infos.len() >= MAX_INFOS {
                return Err(Error::Malformed("too many SecurityInfo entries"));
            }
            infos.push(SecurityInfo::parse(&entry)?);
        }
        Ok(SecurityInfos { infos })
    }

    /// The PACEInfos, strongest first.
    pub fn pace(&self) -> Vec<&PaceInfo> {
        let mut list: Vec<&PaceInfo> = self
            .infos
            .iter()
            .filter_map(|i| match i {
                SecurityInfo::Pace(p) => Some(p),
                _ => None,
            })
            .collect();
        list.sort_by_key(|p| core::cmp::Reverse(p.protocol.strength()));
        list
    }

    /// The ChipAuthenticationInfos.
    pub fn chip_authentication(&self) -> impl Iterator<Item = &ChipAuthenticationInfo> {
        self.infos.iter().filter_map(|i| match i {
            SecurityInfo::ChipAuthentication(c) => Some(c),
            _ => None,
        })
    }

    /// The ChipAuthenticationPublicKeyInfos.
    pub fn chip_authentication_keys(
        &self,
    ) -> impl Iterator<Item = &ChipAuthenticationPublicKeyInfo> {
        self.infos.iter().filter_map(|i| match i {
            SecurityInfo::ChipAuthenticationPublicKey(k) => Some(k),
            _ => None,
        })
    }

    /// Whether any entry is about chip authentication: a ChipAuthenticationInfo or
    /// ChipAuthenticationPublicKeyInfo, or an entry of an unknown kind under id-CA or
    /// id-PK. A chip whose signed data says so must prove itself, even when no entry can
    /// be run.
    pub fn mentions_chip_authentication(&self) -> bool {
        self.infos.iter().any(|i| match i {
            SecurityInfo::ChipAuthentication(_) | SecurityInfo::ChipAuthenticationPublicKey(_) => {
                true
            }
            SecurityInfo::Unknown { protocol, .. } => {
                protocol.is_under(&ID_CA) || protocol.is_under(&ID_PK)
            }
            _ => false,
        })
    }

    /// Whether a PACEInfo offers the chip authentication mapping.
    pub fn offers_pace_cam(&self) -> bool {
        self.pace()
            .iter()
            .any(|p| p.protocol.mapping == Mapping::ChipAuthentication)
    }

    /// The ActiveAuthenticationInfo, if any.
    pub fn active_authentication(&self) -> Option<&ActiveAuthenticationInfo> {
        self.infos.iter().find_map(|i| match i {
            SecurityInfo::ActiveAuthentication(a) => Some(a),
            _ => None,
        })
    }

    /// The encoding as a SET of the entries in order (what a card wrote re-encodes byte
    /// for byte; real cards do not always sort).
    pub fn to_der(&self) -> Vec<u8> {
        let mut content = Vec::new();
        for info in &self.infos {
            content.extend_from_slice(&info.to_der());
        }
        crate::tlv::encode(SET, &content)
    }

    /// The DER encoding proper: a SET OF the entries sorted by their encodings (X.690
    /// §11.6), which strict readers require.
    pub fn to_der_sorted(&self) -> Vec<u8> {
        let mut entries: Vec<Vec<u8>> = self.infos.iter().map(SecurityInfo::to_der).collect();
        entries.sort();
        crate::tlv::encode(SET, &entries.concat())
    }
}

fn optional_integer(object: Option<Tlv<'_>>) -> Result<Option<u64>, Error> {
    object.map(|o| asn1::small_integer(&o)).transpose()
}

impl SecurityInfo {
    /// Parses one `SEQUENCE { protocol OID, requiredData, optionalData OPTIONAL }`.
    pub fn parse(entry: &Tlv<'_>) -> Result<SecurityInfo, Error> {
        if entry.tag() != SEQUENCE {
            return Err(Error::Malformed("SecurityInfo must be a SEQUENCE"));
        }
        let mut fields = TlvIter::new(entry.value());
        let protocol = Oid::from_tlv(
            &fields
                .next()
                .ok_or(Error::MissingDataObject("SecurityInfo protocol"))??,
        )?;
        let required = fields
            .next()
            .ok_or(Error::MissingDataObject("SecurityInfo requiredData"))??;
        let optional = fields.next().transpose()?;
        let unknown = || SecurityInfo::Unknown {
            protocol,
            raw: entry.raw().to_vec(),
        };
        if protocol.is_under(&ID_PACE) {
            if let Some(pace) = PaceProtocol::from_oid(&protocol) {
                return Ok(SecurityInfo::Pace(PaceInfo {
                    protocol: pace,
                    version: asn1::small_integer(&required)?,
                    parameter_id: optional_integer(optional)?,
                }));
            }
            if protocol.arcs_after(&ID_PACE).is_some_and(|a| a.len() == 1) {
                return Ok(SecurityInfo::PaceDomainParameters(
                    PaceDomainParameterInfo {
                        protocol,
                        parameters: required.raw().to_vec(),
                        parameter_id: optional_integer(optional)?,
                    },
                ));
            }
            return Ok(unknown());
        }
        if protocol.is_under(&ID_CA) {
            return Ok(match CaProtocol::from_oid(&protocol) {
                Some(ca) => SecurityInfo::ChipAuthentication(ChipAuthenticationInfo {
                    protocol: ca,
                    version: asn1::small_integer(&required)?,
                    key_id: optional_integer(optional)?,
                }),
                None => unknown(),
            });
        }
        if let Some(arcs) = protocol.arcs_after(&ID_PK) {
            let agreement = match arcs.as_slice() {
                [1] => KeyAgreement::Dh,
                [2] => KeyAgreement::Ecdh,
                _ => return Ok(unknown()),
            };
            if required.tag() != SEQUENCE {
                return Err(Error::Malformed("chip authentication public key"));
            }
            return Ok(SecurityInfo::ChipAuthenticationPublicKey(
                ChipAuthenticationPublicKeyInfo {
                    agreement,
                    public_key: required.raw().to_vec(),
                    key_id: optional_integer(optional)?,
                },
            ));
        }
        if protocol == ID_TA || protocol.is_under(&ID_TA) {
            return Ok(SecurityInfo::TerminalAuthentication {
                version: asn1::small_integer(&required)?,
            });
        }
        if protocol == ID_AA {
            let algorithm = optional.ok_or(Error::MissingDataObject(
                "ActiveAuthenticationInfo signatureAlgorithm",
            ))?;
            return Ok(SecurityInfo::ActiveAuthentication(
                ActiveAuthenticationInfo {
                    version: asn1::small_integer(&required)?,
                    signature_algorithm: Oid::from_tlv(&algorithm)?,
                },
            ));
        }
        Ok(unknown())
    }

    /// The DER encoding.
    pub fn to_der(&self) -> Vec<u8> {
        let mut content = Vec::new();
        let push_int = |c: &mut Vec<u8>, v: u64| c.extend(asn1::small_integer_der(v));
        match self {
            SecurityInfo::Pace(p) => {
                content.extend(p.protocol.oid().to_der());
                push_int(&mut content, p.version);
                if let Some(id) = p.parameter_id {
                    push_int(&mut content, id);
                }
            }
            SecurityInfo::PaceDomainParameters(d) => {
                content.extend(d.protocol.to_der());
                content.extend_from_slice(&d.parameters);
                if let Some(id) = d.parameter_id {
                    push_int(&mut content, id);
                }
            }
            SecurityInfo::ChipAuthentication(c) => {
                content.extend(c.protocol.oid().to_der());
                push_int(&mut content, c.version);
                if let Some(id) = c.key_id {
                    push_int(&mut content, id);
                }
            }
            SecurityInfo::ChipAuthenticationPublicKey(k) => {
                let arc = match k.agreement {
                    KeyAgreement::Dh => 1,
                    KeyAgreement::Ecdh => 2,
                };
                content.extend(ID_PK.child(arc).to_der());
                content.extend_from_slice(&k.public_key);
                if let Some(id) = k.key_id {
                    push_int(&mut content, id);
                }
            }
            SecurityInfo::ActiveAuthentication(a) => {
                content.extend(ID_AA.to_der());
                push_int(&mut content, a.version);
                content.extend(a.signature_algorithm.to_der());
            }
            SecurityInfo::TerminalAuthentication { version } => {
                content.extend(ID_TA.to_der());
                push_int(&mut content, *version);
            }
            SecurityInfo::Unknown { raw, .. } => return raw.clone(),
        }
        crate::tlv::encode(SEQUENCE, &content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pace_protocols_round_trip_through_their_oids() {
        for kind in [1u64, 2, 3, 4, 6] {
            for cipher in 1..=4u64 {
                let oid = Oid::parse(&format!("{ID_PACE}.{kind}.{cipher}")).unwrap();
                match PaceProtocol::from_oid(&oid) {
                    Some(p) => assert_eq!(p.oid(), oid),
                    None => assert_eq!((kind, cipher), (6, 1), "only CAM with 3DES is undefined"),
                }
            }
        }
        let gm = PaceProtocol::from_oid(&Oid::parse("0.4.0.127.0.7.2.2.4.2.2").unwrap()).unwrap();
        assert_eq!(gm.name(), "PACE-ECDH-GM-AES-128");
    }

    #[test]
    fn unknown_entries_are_kept_and_bad_ones_refused() {
        let unknown = crate::tlv::encode(
            SEQUENCE,
            &[
                Oid::parse("1.2.3.4").unwrap().to_der(),
                asn1::small_integer_der(1),
            ]
            .concat(),
        );
        let set = crate::tlv::encode(SET, &unknown);
        let infos = SecurityInfos::parse(&set).unwrap();
        assert!(matches!(&infos.infos[0], SecurityInfo::Unknown { raw, .. } if *raw == unknown));
        assert_eq!(infos.to_der(), set);
        assert!(SecurityInfos::parse(&[0x31, 0x02, 0x30, 0x00]).is_err());
        assert!(SecurityInfos::parse(&[0x30, 0x00]).is_err());
        assert!(SecurityInfos::parse(&[0x31, 0x04, 0x30, 0x02, 0x06, 0x00]).is_err());
    }
}
