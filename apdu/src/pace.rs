//! PACE, Password Authenticated Connection Establishment (ICAO 9303-11 §4.4): a CAN or
//! the MRZ opens a secure channel whose keys come from an ephemeral Diffie-Hellman, so a
//! skimmer who knows no password learns nothing and an eavesdropper cannot test guesses.
//!
//! Terminal side: [`open`] runs MSE:Set AT and the four GENERAL AUTHENTICATE steps over
//! any [`Card`] and returns the [`SecureChannel`]. Its steps are public functions too
//! ([`password_key`], [`decrypt_nonce`], [`authentication_token`], and the group maps of
//! [`crate::key_agreement`]), so the worked examples check each value.
//!
//! Chip side: [`ChipPace`] answers the same commands for the emulator. A wrong password
//! ends in 6300 at the last step and changes nothing on the chip: there is no lockout.

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::crypto::{self, CipherSuite, KeyPurpose, SecretKey};
use crate::key_agreement::{Group, PrivateKey};
use crate::mrz::MrzKey;
use crate::secure_messaging::{SecureChannel, SessionKeys, SmSession, Ssc};
use crate::security_infos::{Mapping, PaceInfo, PaceProtocol};
use crate::tlv::{self, Tag, Tlv};
use crate::{Card, Command, Error, Response, StatusWord};

/// INS of MANAGE SECURITY ENVIRONMENT.
pub const INS_MSE: u8 = 0x22;
/// INS of GENERAL AUTHENTICATE.
pub const INS_GENERAL_AUTHENTICATE: u8 = 0x86;
/// P1-P2 of MSE:Set AT for mutual authentication (PACE).
pub const MSE_SET_AT_PACE: [u8; 2] = [0xC1, 0xA4];
/// Longest nonce or public key accepted in a GENERAL AUTHENTICATE answer: a DH public
/// value of 4096 bits, with room.
const MAX_GA_VALUE: usize = 1024;

/// A card access number: the digits printed on the card (six on most cards).
#[derive(Clone, PartialEq, Eq)]
pub struct Can(Zeroizing<String>);

impl core::fmt::Debug for Can {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Can([redacted])")
    }
}

impl Can {
    /// A CAN of 4 to 12 decimal digits.
    ///
    /// ```
    /// assert!(apdu::pace::Can::new("123456").is_ok());
    /// assert!(apdu::pace::Can::new("12a456").is_err());
    /// ```
    pub fn new(digits: &str) -> Result<Can, Error> {
        let digits = digits.trim();
        if !(4..=12).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::InvalidCommand("a CAN has 4 to 12 digits"));
        }
        Ok(Can(Zeroizing::new(digits.to_owned())))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The password PACE runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Password {
    /// The MRZ information (document number, birth date, expiry date).
    Mrz(MrzKey),
    /// The card access number.
    Can(Can),
}

impl Password {
    /// The password reference of MSE:Set AT (ICAO 9303-11 §4.4.4.1: 1 MRZ, 2 CAN).
    pub fn reference(&self) -> u8 {
        match self {
            Password::Mrz(_) => 1,
            Password::Can(_) => 2,
        }
    }

    /// The bytes K_π is derived from: SHA-1 of the MRZ information, or the CAN's digits.
    fn secret(&self) -> Zeroizing<Vec<u8>> {
        match self {
            Password::Mrz(mrz) => crypto::sha1(mrz.as_str().as_bytes()),
            Password::Can(can) => Zeroizing::new(can.as_str().as_bytes().to_vec()),
        }
    }

    /// "MRZ" or "CAN".
    pub fn kind(&self) -> &'static str {
        match self {
            Password::Mrz(_) => "MRZ",
            Password::Can(_) => "CAN",
        }
    }
}

/// K_π = KDF(password, 3) for the protocol's cipher suite.
pub fn password_key(password: &Password, suite: CipherSuite) -> SecretKey {
    crypto::derive_key(&password.secret(), KeyPurpose::Password, suite)
}

/// s = D(K_π, z): the nonce, CBC with a zero IV.
pub fn decrypt_nonce(
    suite: CipherSuite,
    k_pi: &SecretKey,
    encrypted: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Error> {
    if encrypted.is_empty() || encrypted.len() % suite.block_size() != 0 || encrypted.len() > 64 {
        return Err(Error::Malformed("encrypted PACE nonce length"));
    }
    let mut s = Zeroizing::new(encrypted.to_vec());
    crypto::decrypt_cbc(suite, k_pi, &vec![0; suite.block_size()], &mut s)?;
    Ok(s)
}

fn encrypt_nonce(suite: CipherSuite, k_pi: &SecretKey, s: &[u8]) -> Result<Vec<u8>, Error> {
    let mut z = s.to_vec();
    crypto::encrypt_cbc(suite, k_pi, &vec![0; suite.block_size()], &mut z)?;
    Ok(z)
}

/// An authentication token: the suite's MAC over a public-key data object (CMAC without
/// padding for AES, retail MAC over method-2 padding for 3DES), 8 bytes.
pub fn authentication_token(
    suite: CipherSuite,
    ks_mac: &SecretKey,
    data_object: &[u8],
) -> Result<[u8; 8], Error> {
    match suite {
        CipherSuite::Des3 => crypto::mac(suite, ks_mac, &crypto::pad(data_object, 8)),
        _ => crypto::cmac(ks_mac, data_object),
    }
}

/// The IV of the chip authentication data in PACE-CAM: E(KS_enc, -1).
fn cam_iv(suite: CipherSuite, ks_enc: &SecretKey) -> Result<Vec<u8>, Error> {
    let mut iv = vec![0xFF; suite.block_size()];
    crypto::encrypt_block(suite, ks_enc, &mut iv)?;
    Ok(iv)
}

/// Length of the chip's nonce s: l of the integrated mapping (128 bits for 3DES and
/// AES-128, 256 for AES-192/256), which also serves the other mappings.
pub(crate) fn nonce_len(suite: CipherSuite) -> usize {
    match suite {
        CipherSuite::Des3 | CipherSuite::Aes128 => 16,
        CipherSuite::Aes192 | CipherSuite::Aes256 => 32,
    }
}

/// The group a PACEInfo names (standardized domain parameters only).
pub fn group_of(info: &PaceInfo) -> Result<Group, Error> {
    let id = info.parameter_id.ok_or(Error::Unsupported(
        "PACE without a standardized domain parameter ID",
    ))?;
    Group::standardized(info.protocol.agreement, id)
}

/// The MSE:Set AT command selecting `info` with `password`, with the standardized domain
/// parameter ID (tag 0x84, ICAO 9303-11 §4.4.4.1) when `send_parameter_id` and the
/// PACEInfo gives one; never Le.
pub fn mse_set_at(info: &PaceInfo, password: &Password, send_parameter_id: bool) -> Command {
    let mut data = Vec::new();
    tlv::encode_into(Tag::new(0x80), info.protocol.oid().content(), &mut data);
    tlv::encode_into(Tag::new(0x83), &[password.reference()], &mut data);
    if let (true, Some(id)) = (send_parameter_id, info.parameter_id) {
        let bytes = id.to_be_bytes();
        let skip = bytes.iter().take(7).take_while(|b| **b == 0).count();
        tlv::encode_into(Tag::new(0x84), &bytes[skip..], &mut data);
    }
    Command::new(0x00, INS_MSE, MSE_SET_AT_PACE[0], MSE_SET_AT_PACE[1]).with_data(data)
}

/// A GENERAL AUTHENTICATE step: `7C { tag value }`, chained (CLA 10) unless `last`.
fn general_authenticate(tag: u8, value: &[u8], last: bool) -> Command {
    let inner = if value.is_empty() && tag == 0 {
        Vec::new()
    } else {
        tlv::encode(Tag::new(u32::from(tag)), value)
    };
    let cla = if last { 0x00 } else { 0x10 };
    Command::new(cla, INS_GENERAL_AUTHENTICATE, 0x00, 0x00)
        .with_data(tlv::encode(Tag::new(0x7C), &inner))
        .with_le(256)
}

/// The value of `tag` inside a `7C` dynamic authentication data object.
fn dynamic_data(data: &[u8], tag: u8) -> Result<Vec<u8>, Error> {
    let outer = Tlv::parse(data)?;
    if outer.tag() != Tag::new(0x7C) {
        return Err(Error::Malformed(
            "dynamic authentication data must be tag 7C",
        ));
    }
    let object = outer.require(
        Tag::new(u32::from(tag)),
        "PACE dynamic authentication data object",
    )?;
    if object.value().len() > MAX_GA_VALUE {
        return Err(Error::Malformed("PACE data object too long"));
    }
    Ok(object.value().to_vec())
}

/// What PACE established, besides the channel.
#[derive(Clone, Debug)]
pub struct PaceOutcome {
    /// The PACEInfo run (for PACE-CAM, its group checks the chip's proof).
    pub info: PaceInfo,
    /// The protocol run.
    pub protocol: PaceProtocol,
    /// The group's name (`brainpoolP256r1`, `MODP-1024-160`).
    pub group: &'static str,
    /// The password kind used (MRZ or CAN).
    pub password: &'static str,
    /// PACE-CAM: the chip authentication data CA_IC and the chip's mapping public key,
    /// to be checked against the chip's static key once that key is known to be genuine
    /// (CA_IC · PK_IC = PK_Map,IC).
    pub chip_authentication: Option<CamProof>,
    /// Whether the MSE:Set AT the chip accepted carried the parameter ID (tag 0x84).
    pub parameter_id_sent: bool,
}

/// The proof a PACE-CAM chip gives of its static key.
#[derive(Clone, Debug)]
pub struct CamProof {
    /// CA_IC.
    pub data: Vec<u8>,
    /// The chip's mapping public key PK_Map,IC.
    pub chip_mapping_public: Vec<u8>,
}

impl CamProof {
    /// Checks CA_IC · PK_IC = PK_Map,IC for the chip's static public key `static_public`
    /// (EC only: CAM is defined for ECDH).
    pub fn verify(&self, group: &Group, static_public: &[u8]) -> Result<(), Error> {
        let Group::Ec { curve, .. } = group else {
            return Err(Error::Unsupported("PACE-CAM with DH"));
        };
        let pk = curve
            .decode_point(static_public)
            .map_err(|_| Error::AuthenticationFailed("chip static key is not a point"))?;
        let ca = curve
            .scalar_from_bytes(&self.data)
            .map_err(|_| Error::AuthenticationFailed("CAM data out of range"))?;
        let expected = curve.encode_point(&curve.mul(&ca, &pk));
        if crypto::mac_eq(&expected, &self.chip_mapping_public) {
            Ok(())
        } else {
            Err(Error::AuthenticationFailed(
                "PACE-CAM proof does not match the chip key",
            ))
        }
    }
}

/// The session keys and SSC PACE derives from the shared secret K.
fn session_from(suite: CipherSuite, k: &[u8]) -> Result<(SessionKeys, SmSession), Error> {
    let keys = SessionKeys::derive(suite, k);
    let session = SmSession::new(keys.clone(), Ssc::zero(suite))?;
    Ok((keys, session))
}

/// Status words with which a chip refuses the terminal's token: the password was wrong.
fn refuses_password(sw: StatusWord) -> bool {
    matches!(
        sw,
        StatusWord::AuthenticationFailed
            | StatusWord::VerificationFailed { .. }
            | StatusWord::SecurityStatusNotSatisfied
            | StatusWord::IncorrectData
            | StatusWord::ReferenceDataNotUsable
    )
}

fn checked(response: Response) -> Result<Vec<u8>, Error> {
    response.into_data()
}

/// Whether a chip's answer to MSE:Set AT refuses the form of the command (6A80 incorrect
/// data, 6A87 Nc inconsistent with P1-P2), so that the other form is worth one try.
fn refuses_form(sw: StatusWord) -> bool {
    matches!(sw, StatusWord::IncorrectData | StatusWord::Other(0x6A87))
}

/// Runs PACE with `info` and `password` over `card` and opens the secure channel.
///
/// MSE:Set AT carries the standardized domain parameter ID (tag 0x84) whenever the
/// PACEInfo gives one. Chips disagree about it: some require it, some refuse it; when the
/// chip answers 6A80 or 6A87 to the command with it, the command goes once more without
/// it (MSE:Set AT does not count as a password attempt). A wrong password gives
/// [`Error::WrongAccessKey`] after exactly one attempt.
pub fn open<C: Card>(
    mut card: C,
    info: &PaceInfo,
    password: &Password,
    rng: &mut impl CryptoRng,
) -> Result<(SecureChannel<C>, PaceOutcome), Error> {
    let protocol = info.protocol;
    let suite = protocol.suite;
    let group = group_of(info)?;
    let oid = protocol.oid();

    let mut parameter_id_sent = info.parameter_id.is_some();
    let mut response = card.exchange(&mse_set_at(info, password, parameter_id_sent))?;
    if parameter_id_sent && refuses_form(response.sw) {
        tracing::debug!(sw = %response.sw, "MSE:Set AT with the parameter ID refused; once more without");
        parameter_id_sent = false;
        response = card.exchange(&mse_set_at(info, password, false))?;
    }
    match response.sw {
        sw if sw.is_success() => {}
        StatusWord::VerificationFailed { .. } | StatusWord::AuthenticationMethodBlocked => {
            // The chip reports a suspended or blocked password; it never gets here by us.
            return Err(Error::Status(response.sw));
        }
        sw => return Err(Error::Status(sw)),
    }

    // 1. The encrypted nonce.
    let data = checked(card.exchange(&general_authenticate(0, &[], false))?)?;
    let k_pi = password_key(password, suite);
    let s = decrypt_nonce(suite, &k_pi, &dynamic_data(&data, 0x80)?)?;

    // 2. Mapping.
    let mut cam_mapping_public = None;
    let mapped = match protocol.mapping {
        Mapping::Generic | Mapping::ChipAuthentication => {
            let (private, public) = group.generate(rng)?;
            let data = checked(card.exchange(&general_authenticate(0x81, &public, false))?)?;
            let chip_public = dynamic_data(&data, 0x82)?;
            if chip_public == public {
                return Err(Error::AuthenticationFailed(
                    "chip mapping key equals the terminal's",
                ));
            }
            let mapped = group.map_generic(&s, &private, &chip_public)?;
            cam_mapping_public = Some(chip_public);
            mapped
        }
        Mapping::Integrated => {
            // t is one key long (ICAO 9303-11 §4.4.3.3.2).
            let mut t = Zeroizing::new(vec![0u8; suite.key_len()]);
            rng.fill_bytes(&mut t);
            let data = checked(card.exchange(&general_authenticate(0x81, &t, false))?)?;
            let outer = Tlv::parse(&data)?;
            if outer.tag() != Tag::new(0x7C) {
                return Err(Error::Malformed(
                    "dynamic authentication data must be tag 7C",
                ));
            }
            group.map_integrated(&s, &t, suite)?
        }
    };

    // 3. Key agreement on the mapped generator.
    let (private, public) = mapped.generate(rng)?;
    let data = checked(card.exchange(&general_authenticate(0x83, &public, false))?)?;
    let chip_public = dynamic_data(&data, 0x84)?;
    if chip_public == public {
        return Err(Error::AuthenticationFailed(
            "chip ephemeral key equals the terminal's",
        ));
    }
    let k = mapped.shared_secret(&private, &chip_public)?;
    let (keys, session) = session_from(suite, &k)?;

    // 4. Mutual authentication.
    let t_pcd = authentication_token(
        suite,
        keys.mac(),
        &mapped.public_key_data_object(&oid, &chip_public),
    )?;
    let response = card.exchange(&general_authenticate(0x85, &t_pcd, true))?;
    if refuses_password(response.sw) {
        tracing::debug!(sw = %response.sw, "PACE: chip refused the terminal's token");
        return Err(Error::WrongAccessKey);
    }
    let data = checked(response)?;
    let t_ic = dynamic_data(&data, 0x86)?;
    let expected = authentication_token(
        suite,
        keys.mac(),
        &mapped.public_key_data_object(&oid, &public),
    )?;
    if !crypto::mac_eq(&expected, &t_ic) {
        return Err(Error::AuthenticationFailed("chip's PACE token"));
    }
    let chip_authentication = match protocol.mapping {
        Mapping::ChipAuthentication => {
            let encrypted = dynamic_data(&data, 0x8A)?;
            let mut plain = encrypted.clone();
            crypto::decrypt_cbc(suite, keys.enc(), &cam_iv(suite, keys.enc())?, &mut plain)
                .map_err(|_| Error::Malformed("PACE-CAM data length"))?;
            let ca = crypto::unpad(&plain, suite.block_size())?.to_vec();
            Some(CamProof {
                data: ca,
                chip_mapping_public: cam_mapping_public.unwrap_or_default(),
            })
        }
        _ => None,
    };
    tracing::debug!(protocol = %protocol.name(), group = group.name(), "PACE established");
    Ok((
        SecureChannel::new(card, session),
        PaceOutcome {
            info: info.clone(),
            protocol,
            group: group.name(),
            password: password.kind(),
            chip_authentication,
            parameter_id_sent,
        },
    ))
}

/// The chip's static key pair, for PACE-CAM (and chip authentication).
#[derive(Clone, Debug)]
pub struct ChipStaticKey {
    /// The group (the curve of the key).
    pub group: Group,
    /// The private key.
    pub private: PrivateKey,
    /// The public key, encoded.
    pub public: Vec<u8>,
}

/// How a chip treats the domain parameter ID (tag 0x84) in MSE:Set AT; chips in the
/// field differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ParameterIdRule {
    /// With or without (ICAO 9303-11: the terminal sends it when the chip lists several
    /// PACEInfos).
    #[default]
    Optional,
    /// Without it, MSE:Set AT is answered 6A80.
    Required,
    /// With it, MSE:Set AT is answered 6A87.
    Refused,
}

/// What the chip knows to answer PACE.
#[derive(Clone, Debug)]
pub struct ChipPaceConfig {
    /// The PACEInfos it offers (its EF.CardAccess).
    pub infos: Vec<PaceInfo>,
    /// The CAN printed on the card.
    pub can: Option<Can>,
    /// The MRZ information of the card.
    pub mrz: Option<MrzKey>,
    /// The static key PACE-CAM proves.
    pub static_key: Option<ChipStaticKey>,
    /// How MSE:Set AT's parameter ID is treated.
    pub parameter_id_rule: ParameterIdRule,
}

enum ChipState {
    Idle,
    Selected {
        info: PaceInfo,
        password: Password,
    },
    NonceSent {
        info: PaceInfo,
        s: Zeroizing<Vec<u8>>,
    },
    Mapped {
        info: PaceInfo,
        mapped: Group,
        /// CAM: r with PK_Map,IC = r·PK_IC, so CA_IC = r.
        cam_data: Option<Zeroizing<Vec<u8>>>,
    },
    Agreed {
        info: PaceInfo,
        mapped: Group,
        keys: SessionKeys,
        terminal_public: Vec<u8>,
        chip_public: Vec<u8>,
        cam_data: Option<Zeroizing<Vec<u8>>>,
    },
}

/// The chip's side of PACE.
pub struct ChipPace {
    config: ChipPaceConfig,
    state: ChipState,
}

impl core::fmt::Debug for ChipPace {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChipPace").finish_non_exhaustive()
    }
}

impl ChipPace {
    /// A chip offering `config`.
    pub fn new(config: ChipPaceConfig) -> ChipPace {
        ChipPace {
            config,
            state: ChipState::Idle,
        }
    }

    /// Answers MSE:Set AT (P1-P2 C1 A4).
    pub fn set_at(&mut self, data: &[u8]) -> StatusWord {
        self.state = ChipState::Idle;
        let mut oid = None;
        let mut reference = None;
        let mut parameter_id = None;
        for object in tlv::TlvIter::new(data) {
            let Ok(object) = object else {
                return StatusWord::IncorrectData;
            };
            match object.tag().value() {
                0x80 => oid = crate::asn1::Oid::from_der_content(object.value()).ok(),
                0x83 => reference = object.value().first().copied(),
                0x84 => {
                    parameter_id = Some(
                        object
                            .value()
                            .iter()
                            .take(8)
                            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
                    )
                }
                _ => {}
            }
        }
        match (self.config.parameter_id_rule, parameter_id) {
            (ParameterIdRule::Required, None) => return StatusWord::IncorrectData,
            (ParameterIdRule::Refused, Some(_)) => return StatusWord::Other(0x6A87),
            _ => {}
        }
        let Some(protocol) = oid.as_ref().and_then(PaceProtocol::from_oid) else {
            return StatusWord::ReferencedDataNotFound;
        };
        let Some(info) = self
            .config
            .infos
            .iter()
            .find(|i| {
                i.protocol == protocol && (parameter_id.is_none() || i.parameter_id == parameter_id)
            })
            .cloned()
        else {
            return StatusWord::ReferencedDataNotFound;
        };
        let password = match reference {
            Some(1) => self.config.mrz.clone().map(Password::Mrz),
            Some(2) => self.config.can.clone().map(Password::Can),
            _ => None,
        };
        let Some(password) = password else {
            return StatusWord::ReferencedDataNotFound;
        };
        self.state = ChipState::Selected { info, password };
        StatusWord::Success
    }

    /// Answers one GENERAL AUTHENTICATE step. The last one, on success, also returns the
    /// secure-messaging session that starts with the next command.
    pub fn general_authenticate(
        &mut self,
        command: &Command,
        rng: &mut impl CryptoRng,
    ) -> (Response, Option<SmSession>) {
        let state = core::mem::replace(&mut self.state, ChipState::Idle);
        match self.step(state, command, rng) {
            Ok((next, data, session)) => {
                self.state = next;
                (Response::new(data, StatusWord::Success), session)
            }
            Err(sw) => (Response::status(sw), None),
        }
    }

    fn step(
        &self,
        state: ChipState,
        command: &Command,
        rng: &mut impl CryptoRng,
    ) -> Result<(ChipState, Vec<u8>, Option<SmSession>), StatusWord> {
        let chained = command.cla & 0x10 != 0;
        let outer = Tlv::parse(&command.data).map_err(|_| StatusWord::IncorrectData)?;
        if outer.tag() != Tag::new(0x7C) {
            return Err(StatusWord::IncorrectData);
        }
        let field = |tag: u32| -> Result<Vec<u8>, StatusWord> {
            outer
                .find(Tag::new(tag))
                .ok()
                .flatten()
                .map(|o| o.value().to_vec())
                .ok_or(StatusWord::IncorrectData)
        };
        let reply = |tag: u32, value: &[u8]| {
            tlv::encode(Tag::new(0x7C), &tlv::encode(Tag::new(tag), value))
        };
        let internal = |_| StatusWord::NoPreciseDiagnosis;
        match state {
            ChipState::Selected { info, password } if chained => {
                let suite = info.protocol.suite;
                let mut s = Zeroizing::new(vec![0u8; nonce_len(suite)]);
                // s must be a valid scalar / exponent: never zero.
                while s.iter().all(|b| *b == 0) {
                    rng.fill_bytes(&mut s);
                }
                let z =
                    encrypt_nonce(suite, &password_key(&password, suite), &s).map_err(internal)?;
                Ok((ChipState::NonceSent { info, s }, reply(0x80, &z), None))
            }
            ChipState::NonceSent { info, s } if chained => {
                let group = group_of(&info).map_err(|_| StatusWord::ConditionsNotSatisfied)?;
                let terminal = field(0x81)?;
                match info.protocol.mapping {
                    Mapping::Generic => {
                        let (private, public) = group.generate(rng).map_err(internal)?;
                        let mapped = group
                            .map_generic(&s, &private, &terminal)
                            .map_err(|_| StatusWord::IncorrectData)?;
                        Ok((
                            ChipState::Mapped {
                                info,
                                mapped,
                                cam_data: None,
                            },
                            reply(0x82, &public),
                            None,
                        ))
                    }
                    Mapping::ChipAuthentication => {
                        let key = self
                            .config
                            .static_key
                            .as_ref()
                            .ok_or(StatusWord::ConditionsNotSatisfied)?;
                        let (mapped, public, r) = cam_mapping(&group, key, &s, &terminal, rng)?;
                        Ok((
                            ChipState::Mapped {
                                info,
                                mapped,
                                cam_data: Some(r),
                            },
                            reply(0x82, &public),
                            None,
                        ))
                    }
                    Mapping::Integrated => {
                        let mapped = group
                            .map_integrated(&s, &terminal, info.protocol.suite)
                            .map_err(|_| StatusWord::IncorrectData)?;
                        Ok((
                            ChipState::Mapped {
                                info,
                                mapped,
                                cam_data: None,
                            },
                            tlv::encode(Tag::new(0x7C), &[]),
                            None,
                        ))
                    }
                }
            }
            ChipState::Mapped {
                info,
                mapped,
                cam_data,
            } if chained => {
                let terminal_public = field(0x83)?;
                let (private, chip_public) = mapped.generate(rng).map_err(internal)?;
                if terminal_public == chip_public {
                    return Err(StatusWord::IncorrectData);
                }
                let k = mapped
                    .shared_secret(&private, &terminal_public)
                    .map_err(|_| StatusWord::IncorrectData)?;
                let keys = SessionKeys::derive(info.protocol.suite, &k);
                Ok((
                    ChipState::Agreed {
                        info,
                        mapped,
                        keys,
                        terminal_public,
                        chip_public: chip_public.clone(),
                        cam_data,
                    },
                    reply(0x84, &chip_public),
                    None,
                ))
            }
            ChipState::Agreed {
                info,
                mapped,
                keys,
                terminal_public,
                chip_public,
                cam_data,
            } if !chained => {
                let suite = info.protocol.suite;
                let oid = info.protocol.oid();
                let t_pcd = field(0x85)?;
                let expected = authentication_token(
                    suite,
                    keys.mac(),
                    &mapped.public_key_data_object(&oid, &chip_public),
                )
                .map_err(internal)?;
                if !crypto::mac_eq(&expected, &t_pcd) {
                    // Wrong password (or a broken terminal): refuse, keep nothing.
                    return Err(StatusWord::AuthenticationFailed);
                }
                let t_ic = authentication_token(
                    suite,
                    keys.mac(),
                    &mapped.public_key_data_object(&oid, &terminal_public),
                )
                .map_err(internal)?;
                let mut body = tlv::encode(Tag::new(0x86), &t_ic);
                if let Some(r) = cam_data {
                    let mut a = crypto::pad(&r, suite.block_size());
                    crypto::encrypt_cbc(
                        suite,
                        keys.enc(),
                        &cam_iv(suite, keys.enc()).map_err(internal)?,
                        &mut a,
                    )
                    .map_err(internal)?;
                    tlv::encode_into(Tag::new(0x8A), &a, &mut body);
                }
                let session = SmSession::new(keys, Ssc::zero(suite)).map_err(internal)?;
                Ok((
                    ChipState::Idle,
                    tlv::encode(Tag::new(0x7C), &body),
                    Some(session),
                ))
            }
            _ => Err(StatusWord::ConditionsNotSatisfied),
        }
    }
}

/// The chip's result of the CAM mapping step: the mapped group, its mapping public key,
/// and CA_IC.
type CamMapping = (Group, Vec<u8>, Zeroizing<Vec<u8>>);

/// PACE-CAM on the chip: a mapping key r·SK_IC (so that CA_IC = r proves SK_IC) without
/// arithmetic modulo the order: H = r·(SK_IC·PK_Map,PCD) and PK_Map,IC = r·PK_IC.
fn cam_mapping(
    group: &Group,
    key: &ChipStaticKey,
    s: &[u8],
    terminal_public: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<CamMapping, StatusWord> {
    let (Group::Ec { curve, generator }, PrivateKey::Ec(sk)) = (group, &key.private) else {
        return Err(StatusWord::ConditionsNotSatisfied);
    };
    let bad = |_| StatusWord::IncorrectData;
    let terminal = curve.decode_point(terminal_public).map_err(bad)?;
    let static_public = curve.decode_point(&key.public).map_err(bad)?;
    let r = curve.random_scalar(rng);
    let h = curve.mul(&r, &curve.ecdh_point(sk, &terminal).map_err(bad)?);
    let chip_mapping_public = curve.encode_point(&curve.mul(&r, &static_public));
    let s = curve.scalar_reduced(s).map_err(bad)?;
    let mapped = curve.add(&curve.mul(&s, generator), &h);
    if mapped.is_identity() {
        return Err(StatusWord::NoPreciseDiagnosis);
    }
    let mut r_bytes = r.to_bytes();
    // CA_IC is sent as an integer of the order's length.
    if r_bytes.len() < curve.order_len() {
        let mut padded = vec![0u8; curve.order_len() - r_bytes.len()];
        padded.extend_from_slice(&r_bytes);
        r_bytes = Zeroizing::new(padded);
    }
    Ok((
        Group::Ec {
            curve,
            generator: mapped,
        },
        chip_mapping_public,
        r_bytes,
    ))
}
