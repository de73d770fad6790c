//! Chip authentication (ICAO 9303-11 §6.2, BSI TR-03110 part 1 §3.4 and part 3 §B.1):
//! the chip proves it holds the private key of a static key pair listed in DG14 by agreeing
//! fresh secure-messaging keys with the terminal's ephemeral key. The whole exchange runs
//! inside the existing secure channel, which is then re-keyed.
//!
//! Two command flows exist:
//! - version 1 with 3DES: MSE:Set KAT carries the terminal's ephemeral key; the chip's
//!   proof is implicit (only a chip with the private key can MAC under the new keys);
//! - AES (version 1 or 2) and every version 2: MSE:Set AT selects the protocol, GENERAL
//!   AUTHENTICATE carries the ephemeral key; in version 2 the chip answers with a nonce r
//!   (KS = KDF(K ‖ r)) and an authentication token T, an explicit proof.
//!
//! Chip authenticity counts only when the key used is covered by a verified SOD: callers
//! get it back in [`ChipAuthOutcome`] to check against the DG14 hash.

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::asn1::{self, INTEGER, OBJECT_IDENTIFIER, OCTET_STRING, Oid, SEQUENCE};
use crate::crypto::{self, CipherSuite, SecretKey};
use crate::dh::DhGroup;
use crate::ec::{Curve, CurveId, ExplicitParams};
use crate::key_agreement::{Group, PrivateKey};
use crate::secure_messaging::{SessionKeys, SmSession, Ssc};
use crate::security_infos::{
    CaProtocol, ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo, SecurityInfos,
};
use crate::tlv::{self, Tag, Tlv};
use crate::{Card, Command, Error, SecureChannel, StatusWord};

/// id-PK-ECDH (BSI TR-03110).
const ID_PK_ECDH: Oid = Oid::new("0.4.0.127.0.7.2.2.1.2");
/// id-PK-DH (BSI TR-03110).
const ID_PK_DH: Oid = Oid::new("0.4.0.127.0.7.2.2.1.1");

/// INS of MANAGE SECURITY ENVIRONMENT.
pub const INS_MSE: u8 = 0x22;
/// P1 of MSE:Set for computation, decipherment, internal authentication and key agreement.
pub const P1_SET_COMPUTE: u8 = 0x41;
/// P2 of MSE:Set KAT (key agreement template).
pub const P2_KAT: u8 = 0xA6;
/// P2 of MSE:Set AT (authentication template).
pub const P2_AT: u8 = 0xA4;
/// INS of GENERAL AUTHENTICATE.
pub const INS_GENERAL_AUTHENTICATE: u8 = 0x86;

/// Longest nonce r accepted from a chip (the BSI example uses 8 bytes).
const MAX_NONCE_LEN: usize = 64;
/// Length of the nonce r this crate's chip side sends.
const CHIP_NONCE_LEN: usize = 8;
/// Largest SubjectPublicKeyInfo accepted (a 4096-bit DH key with its parameters).
const MAX_SPKI_LEN: usize = 4096;

/// A chip authentication public key: the group it lives in and its encoding (04‖X‖Y for
/// ECDH, y left-padded to the length of p for DH).
#[derive(Clone, Debug)]
pub struct ChipPublicKey {
    /// The key's domain parameters, with their standard generator.
    pub group: Group,
    /// The public key.
    pub public: Vec<u8>,
}

impl ChipPublicKey {
    /// Parses the SubjectPublicKeyInfo of a ChipAuthenticationPublicKeyInfo.
    pub fn from_info(info: &ChipAuthenticationPublicKeyInfo) -> Result<ChipPublicKey, Error> {
        let key = ChipPublicKey::from_spki(&info.public_key)?;
        if key.group.agreement() != info.agreement {
            return Err(Error::Malformed(
                "chip authentication key of the other agreement than its id-PK OID",
            ));
        }
        Ok(key)
    }

    /// Parses a SubjectPublicKeyInfo: ECDH (id-ecPublicKey or id-PK-ECDH, named curve or
    /// explicit parameters of a standardized curve) or DH (dhpublicnumber or id-PK-DH with
    /// X9.42 DomainParameters).
    pub fn from_spki(der: &[u8]) -> Result<ChipPublicKey, Error> {
        if der.len() > MAX_SPKI_LEN {
            return Err(Error::Malformed("SubjectPublicKeyInfo too large"));
        }
        let (algorithm, parameters, key_bits) = split_spki(der)?;
        match algorithm {
            asn1::EC_PUBLIC_KEY | ID_PK_ECDH => {
                let parameters =
                    parameters.ok_or(Error::MissingDataObject("EC domain parameters"))?;
                let curve = ec_curve(&parameters)?;
                let id = curve.id().ok_or(Error::Unsupported(
                    "chip authentication on an explicit curve that is no standardized curve",
                ))?;
                let curve = id.curve();
                let point = curve
                    .decode_point(key_bits)
                    .map_err(|_| Error::Malformed("chip authentication EC public key"))?;
                Ok(ChipPublicKey {
                    group: Group::curve(id),
                    public: curve.encode_point(&point),
                })
            }
            asn1::DH_PUBLIC_NUMBER | ID_PK_DH => {
                let parameters =
                    parameters.ok_or(Error::MissingDataObject("DH domain parameters"))?;
                let group = dh_group(&parameters)?;
                let y = Tlv::parse(key_bits)?;
                let y = asn1::unsigned_integer(&y)?;
                group
                    .validate_public(y)
                    .map_err(|_| Error::Malformed("chip authentication DH public key"))?;
                let mut public = vec![0u8; group.p_len().saturating_sub(y.len())];
                public.extend_from_slice(y);
                Ok(ChipPublicKey {
                    group: Group::Dh(group),
                    public,
                })
            }
            _ => Err(Error::Unsupported(
                "chip authentication public key algorithm",
            )),
        }
    }

    /// The SubjectPublicKeyInfo DER of this key (named curve, or X9.42 parameters), as a
    /// chip image's DG14 carries it.
    pub fn to_spki(&self) -> Result<Vec<u8>, Error> {
        let (algorithm, key_bits) = match &self.group {
            Group::Ec { curve, generator } => {
                let id = curve.id().ok_or(Error::Unsupported("explicit curve"))?;
                if *generator != curve.generator() {
                    return Err(Error::Unsupported("a key on a mapped generator"));
                }
                let algorithm = [asn1::EC_PUBLIC_KEY.to_der(), id.oid().to_der()].concat();
                (algorithm, self.public.clone())
            }
            Group::Dh(g) => {
                let q = g
                    .q()
                    .ok_or(Error::Unsupported("DH group without subgroup order"))?;
                let dh = asn1::DH_PUBLIC_NUMBER;
                let params = [
                    asn1::integer(&g.p()),
                    asn1::integer(&g.g()),
                    asn1::integer(&q),
                ];
                let algorithm = [dh.to_der(), tlv::encode(SEQUENCE, &params.concat())].concat();
                (algorithm, asn1::integer(&self.public))
            }
        };
        let content = [
            tlv::encode(SEQUENCE, &algorithm),
            asn1::bit_string(&key_bits),
        ]
        .concat();
        Ok(tlv::encode(SEQUENCE, &content))
    }
}

/// Splits a SubjectPublicKeyInfo into its algorithm OID, optional parameters and the bytes
/// of the public-key BIT STRING.
pub(crate) fn split_spki(der: &[u8]) -> Result<(Oid, Option<Tlv<'_>>, &[u8]), Error> {
    let spki = Tlv::parse(der)?;
    if spki.tag() != SEQUENCE {
        return Err(Error::Malformed("SubjectPublicKeyInfo must be a SEQUENCE"));
    }
    let mut fields = spki.children();
    let algorithm = fields
        .next()
        .ok_or(Error::Truncated("SubjectPublicKeyInfo algorithm"))??;
    let key = fields
        .next()
        .ok_or(Error::Truncated("SubjectPublicKeyInfo public key"))??;
    if fields.next().is_some() || algorithm.tag() != SEQUENCE {
        return Err(Error::Malformed("SubjectPublicKeyInfo"));
    }
    let mut parts = algorithm.children();
    let oid = parts
        .next()
        .ok_or(Error::Truncated("AlgorithmIdentifier"))??;
    let oid = Oid::from_tlv(&oid)?;
    let parameters = parts.next().transpose()?;
    if parts.next().is_some() {
        return Err(Error::Malformed("AlgorithmIdentifier"));
    }
    Ok((oid, parameters, asn1::bit_string_bytes(&key)?))
}

/// The curve of X9.62 EC parameters: a named-curve OID or explicit prime-field parameters.
pub(crate) fn ec_curve(parameters: &Tlv<'_>) -> Result<Curve, Error> {
    if parameters.tag() == OBJECT_IDENTIFIER {
        let oid = Oid::from_tlv(parameters)?;
        return CurveId::from_oid(&oid)
            .map(|id| id.curve().clone())
            .ok_or(Error::Unsupported("named curve"));
    }
    if parameters.tag() != SEQUENCE {
        return Err(Error::Malformed("EC domain parameters"));
    }
    let mut fields = parameters.children();
    let mut next = |what: &'static str| fields.next().ok_or(Error::Truncated(what))?;
    let version = next("ECParameters version")?;
    if asn1::small_integer(&version)? != 1 {
        return Err(Error::Unsupported("ECParameters version"));
    }
    let field = next("ECParameters fieldID")?;
    let curve = next("ECParameters curve")?;
    let base = next("ECParameters base")?;
    let order = next("ECParameters order")?;
    let cofactor = fields.next().transpose()?;
    if field.tag() != SEQUENCE || curve.tag() != SEQUENCE || base.tag() != OCTET_STRING {
        return Err(Error::Malformed("ECParameters"));
    }
    let mut field_parts = field.children();
    let field_type = field_parts.next().ok_or(Error::Truncated("fieldID"))??;
    if Oid::from_tlv(&field_type)? != asn1::PRIME_FIELD {
        return Err(Error::Unsupported("EC field other than a prime field"));
    }
    let p = field_parts
        .next()
        .ok_or(Error::Truncated("fieldID prime"))??;
    let mut curve_parts = curve.children();
    let a = curve_parts.next().ok_or(Error::Truncated("curve a"))??;
    let b = curve_parts.next().ok_or(Error::Truncated("curve b"))??;
    if a.tag() != OCTET_STRING || b.tag() != OCTET_STRING {
        return Err(Error::Malformed("curve coefficients"));
    }
    let cofactor = match &cofactor {
        Some(h) => Some(asn1::unsigned_integer(h)?),
        None => None,
    };
    let params = ExplicitParams {
        p: asn1::unsigned_integer(&p)?,
        a: a.value(),
        b: b.value(),
        generator: base.value(),
        order: asn1::unsigned_integer(&order)?,
        cofactor,
    };
    Curve::from_explicit(&params).map_err(|_| Error::Unsupported("explicit EC domain parameters"))
}

/// The group of X9.42 DomainParameters {p, g, q, j?, validationParms?}: a standardized
/// group when p, g and q equal one, the explicit group otherwise.
fn dh_group(parameters: &Tlv<'_>) -> Result<DhGroup, Error> {
    if parameters.tag() != SEQUENCE {
        return Err(Error::Malformed("DH domain parameters"));
    }
    let mut fields = parameters.children();
    let mut int = |what: &'static str| -> Result<&[u8], Error> {
        let field = fields.next().ok_or(Error::Truncated(what))??;
        if field.tag() != INTEGER {
            return Err(Error::Malformed(what));
        }
        asn1::unsigned_integer(&field)
    };
    let p = int("DH p")?;
    let g = int("DH g")?;
    let q = int("DH q")?;
    // `from_explicit` returns the standardized group when (p, g, q) equal one.
    DhGroup::from_explicit(p, g, q).map_err(|_| Error::Unsupported("explicit DH parameters"))
}

/// Which key to authenticate with and how.
#[derive(Clone, Debug)]
pub struct ChipAuthPlan {
    /// The protocol (agreement and cipher suite of the new session).
    pub protocol: CaProtocol,
    /// Version 1 or 2.
    pub version: u64,
    /// The key reference to send, when the chip has several keys.
    pub key_id: Option<u64>,
    /// The chip's key as DG14 lists it (for the SOD coverage check).
    pub key_info: ChipAuthenticationPublicKeyInfo,
    /// The parsed key.
    pub key: ChipPublicKey,
}

impl ChipAuthPlan {
    /// Chooses a key and protocol from DG14's SecurityInfos.
    ///
    /// With ChipAuthenticationInfos: the best one (version 2 before 1, stronger cipher
    /// first) whose key is present (matched by keyId when given) and parses. Without any:
    /// ICAO 9303-11 §6.2 implies id-CA-ECDH-3DES-CBC-CBC or id-CA-DH-3DES-CBC-CBC version 1
    /// for the key's agreement.
    pub fn choose(infos: &SecurityInfos) -> Result<ChipAuthPlan, Error> {
        let keys: Vec<&ChipAuthenticationPublicKeyInfo> =
            infos.chip_authentication_keys().collect();
        if keys.is_empty() {
            return Err(Error::MissingDataObject("ChipAuthenticationPublicKeyInfo"));
        }
        let mut cas: Vec<&ChipAuthenticationInfo> = infos.chip_authentication().collect();
        cas.sort_by_key(|c| core::cmp::Reverse((c.version, suite_rank(c.protocol.suite))));
        let mut last_error = None;
        if cas.is_empty() {
            for key in &keys {
                match ChipPublicKey::from_info(key) {
                    Ok(parsed) => {
                        return Ok(ChipAuthPlan {
                            protocol: CaProtocol {
                                agreement: key.agreement,
                                suite: CipherSuite::Des3,
                            },
                            version: 1,
                            key_id: key.key_id,
                            key_info: (*key).clone(),
                            key: parsed,
                        });
                    }
                    Err(e) => last_error = Some(e),
                }
            }
        }
        for ca in cas {
            if ca.version != 1 && ca.version != 2 {
                continue;
            }
            let candidate = keys.iter().find(|k| {
                k.agreement == ca.protocol.agreement
                    && match ca.key_id {
                        Some(id) => k.key_id == Some(id),
                        // Without a keyId the chip has one key of this agreement.
                        None => true,
                    }
            });
            let Some(key) = candidate else { continue };
            match ChipPublicKey::from_info(key) {
                Ok(parsed) => {
                    return Ok(ChipAuthPlan {
                        protocol: ca.protocol,
                        version: ca.version,
                        key_id: ca.key_id.or(key.key_id),
                        key_info: (*key).clone(),
                        key: parsed,
                    });
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or(Error::Unsupported(
            "no chip authentication protocol matches a key in DG14",
        )))
    }

    /// Whether this plan uses MSE:Set KAT (version 1 with 3DES) rather than GENERAL
    /// AUTHENTICATE.
    pub fn uses_kat(&self) -> bool {
        self.version == 1 && self.protocol.suite == CipherSuite::Des3
    }
}

fn suite_rank(suite: CipherSuite) -> u8 {
    match suite {
        CipherSuite::Des3 => 0,
        CipherSuite::Aes128 => 1,
        CipherSuite::Aes192 => 2,
        CipherSuite::Aes256 => 3,
    }
}

/// What a successful chip authentication established.
#[derive(Clone, Debug)]
pub struct ChipAuthOutcome {
    /// The protocol run.
    pub protocol: CaProtocol,
    /// Its version.
    pub version: u64,
    /// The key reference sent, if any.
    pub key_id: Option<u64>,
    /// The chip's key as DG14 lists it: genuine only if DG14 is covered by a valid SOD.
    pub public_key: ChipAuthenticationPublicKeyInfo,
}

/// KS_enc and KS_mac of chip authentication: KDF(K ‖ r) (r empty in version 1).
pub fn session_keys(suite: CipherSuite, shared_secret: &[u8], nonce: &[u8]) -> SessionKeys {
    let mut seed = Zeroizing::new(Vec::with_capacity(shared_secret.len() + nonce.len()));
    seed.extend_from_slice(shared_secret);
    seed.extend_from_slice(nonce);
    SessionKeys::derive(suite, &seed)
}

/// The authentication token of CA version 2 (and PACE): the MAC under KS_mac of a
/// public-key data object, 8 bytes. AES uses CMAC over the data as it is (CMAC pads by
/// itself); 3DES the retail MAC over the ISO/IEC 9797-1 method 2 padded data.
pub fn authentication_token(
    suite: CipherSuite,
    ks_mac: &SecretKey,
    data: &[u8],
) -> Result<[u8; 8], Error> {
    match suite {
        CipherSuite::Des3 => crypto::mac(suite, ks_mac, &crypto::pad(data, 8)),
        _ => {
            let key = ks_mac.as_bytes();
            macro_rules! cmac {
                ($aes:ty) => {{
                    use digest::Mac;
                    <cmac::Cmac<$aes> as cipher::KeyInit>::new_from_slice(key)
                        .ok()
                        .map(|mut mac| {
                            mac.update(data);
                            mac.finalize().into_bytes().to_vec()
                        })
                }};
            }
            let full = match key.len() {
                16 => cmac!(aes::Aes128),
                24 => cmac!(aes::Aes192),
                32 => cmac!(aes::Aes256),
                _ => None,
            };
            full.and_then(|f| f.get(..8).and_then(|m| <[u8; 8]>::try_from(m).ok()))
                .ok_or(Error::Crypto("AES key must be 16, 24 or 32 bytes"))
        }
    }
}

/// Runs chip authentication inside `channel` with a fresh ephemeral key, and re-keys it.
///
/// Errors: [`Error::AuthenticationFailed`] when the chip does not prove possession of the
/// private key (a wrong token, or its secure messaging failing under the new keys): the
/// chip is not genuine. [`Error::Status`] when the chip refuses a command.
pub fn authenticate<C: Card>(
    channel: &mut SecureChannel<C>,
    plan: &ChipAuthPlan,
    rng: &mut impl CryptoRng,
) -> Result<ChipAuthOutcome, Error> {
    let ephemeral = plan.key.group.generate(rng)?;
    authenticate_with_ephemeral(channel, plan, ephemeral)
}

/// [`authenticate`] with a given ephemeral key pair (worked examples).
pub fn authenticate_with_ephemeral<C: Card>(
    channel: &mut SecureChannel<C>,
    plan: &ChipAuthPlan,
    ephemeral: (PrivateKey, Vec<u8>),
) -> Result<ChipAuthOutcome, Error> {
    let (private, public) = ephemeral;
    let group = &plan.key.group;
    let suite = plan.protocol.suite;
    let shared = group.shared_secret(&private, &plan.key.public)?;
    drop(private);
    let key_ref = plan.key_id.map(|id| {
        let bytes = id.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count().min(7);
        tlv::encode(Tag::new(0x84), bytes.get(skip..).unwrap_or_default())
    });
    let keys = if plan.uses_kat() {
        let mut data = tlv::encode(Tag::new(0x91), &public);
        data.extend(key_ref.iter().flatten());
        let command = Command::new(0x00, INS_MSE, P1_SET_COMPUTE, P2_KAT).with_data(data);
        expect_success(channel.exchange(&command)?.sw)?;
        session_keys(suite, &shared, &[])
    } else {
        let mut data = tlv::encode(Tag::new(0x80), plan.protocol.oid().content());
        data.extend(key_ref.iter().flatten());
        let command = Command::new(0x00, INS_MSE, P1_SET_COMPUTE, P2_AT).with_data(data);
        expect_success(channel.exchange(&command)?.sw)?;
        let data = tlv::encode(Tag::new(0x7C), &tlv::encode(Tag::new(0x80), &public));
        // The answer is a few dozen bytes: ask no more than fits the link once protected,
        // so a short-length chip is not sent an extended APDU.
        let le = channel.max_le().clamp(1, 256);
        let command = Command::new(0x00, INS_GENERAL_AUTHENTICATE, 0, 0)
            .with_data(data)
            .with_le(le);
        let response = channel.exchange(&command)?;
        expect_success(response.sw)?;
        if plan.version == 2 {
            let (nonce, token) = parse_ga_response(&response.data)?;
            let keys = session_keys(suite, &shared, nonce);
            let input = group.public_key_data_object(&plan.protocol.oid(), &public);
            let expected = authentication_token(suite, keys.mac(), &input)?;
            if !crypto::mac_eq(&expected, token) {
                return Err(Error::AuthenticationFailed(
                    "chip authentication token does not verify",
                ));
            }
            keys
        } else {
            session_keys(suite, &shared, &[])
        }
    };
    let session = SmSession::new(keys, Ssc::zero(suite))?;
    channel.rekey(session);
    if plan.version != 2 {
        // Only version 2 proves possession explicitly (the token).
        confirm(channel)?;
    }
    Ok(ChipAuthOutcome {
        protocol: plan.protocol,
        version: plan.version,
        key_id: plan.key_id,
        public_key: plan.key_info.clone(),
    })
}

fn expect_success(sw: StatusWord) -> Result<(), Error> {
    if sw.is_success() {
        Ok(())
    } else {
        Err(Error::Status(sw))
    }
}

/// `7C { 81 r, 82 T }` of CA version 2.
fn parse_ga_response(data: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    let outer = Tlv::parse(data)?;
    if outer.tag() != Tag::new(0x7C) {
        return Err(Error::Malformed("GENERAL AUTHENTICATE response template"));
    }
    let nonce = outer.require(Tag::new(0x81), "nonce r (81)")?.value();
    let token = outer
        .require(Tag::new(0x82), "authentication token (82)")?
        .value();
    if nonce.is_empty() || nonce.len() > MAX_NONCE_LEN {
        return Err(Error::Malformed("chip authentication nonce length"));
    }
    if token.len() != 8 {
        return Err(Error::Malformed("authentication token must be 8 bytes"));
    }
    Ok((nonce, token))
}

/// Version 1 proves the chip only implicitly: the first response under the new keys must
/// verify. Selecting the eMRTD application again is harmless and always succeeds, and a
/// success answer can only come with a valid MAC.
fn confirm<C: Card>(channel: &mut SecureChannel<C>) -> Result<(), Error> {
    let not_genuine =
        Error::AuthenticationFailed("secure messaging fails under the chip authentication keys");
    let select =
        Command::new(0x00, 0xA4, 0x04, 0x0C).with_data(crate::read_binary::ICAO_AID.to_vec());
    match channel.transmit(&select) {
        Ok(r) if r.sw.is_success() => Ok(()),
        Ok(r)
            if matches!(
                r.sw,
                StatusWord::SmDataObjectsMissing | StatusWord::SmDataObjectsIncorrect
            ) =>
        {
            Err(not_genuine)
        }
        Ok(r) => Err(Error::Status(r.sw)),
        Err(Error::BadMac | Error::MissingDataObject(_) | Error::BadPadding) => Err(not_genuine),
        Err(e) => Err(e),
    }
}

/// The chip side of chip authentication: the static key pair and the ChipAuthenticationInfo
/// it is advertised with. The emulator routes MSE:Set KAT, MSE:Set AT and GENERAL
/// AUTHENTICATE here.
///
/// Every method returning a new [`SmSession`] follows the same rule (ICAO 9303-11 §6.2.4,
/// TR-03110 part 3 §B.1): the response to the chip authentication command itself is
/// protected with the OLD session keys and counter; the new session, with SSC = 0, starts
/// with the next command. The caller must therefore wrap this answer with the current
/// session first and only then replace it.
pub struct ChipCa {
    group: Group,
    private: PrivateKey,
    public: Vec<u8>,
    info: ChipAuthenticationInfo,
    at_selected: bool,
}

impl core::fmt::Debug for ChipCa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChipCa")
            .field("group", &self.group.name())
            .field("protocol", &self.info.protocol.name())
            .field("version", &self.info.version)
            .field("private", &"[redacted]")
            .finish()
    }
}

impl ChipCa {
    /// A chip with this static key on `group` (its standard generator), advertised by `info`.
    pub fn new(
        group: Group,
        private: PrivateKey,
        info: ChipAuthenticationInfo,
    ) -> Result<ChipCa, Error> {
        if group.agreement() != info.protocol.agreement {
            return Err(Error::Crypto(
                "static key of the other agreement than the protocol",
            ));
        }
        if info.version != 1 && info.version != 2 {
            return Err(Error::Unsupported("chip authentication version"));
        }
        let public = group.public_key(&private)?;
        Ok(ChipCa {
            group,
            private,
            public,
            info,
            at_selected: false,
        })
    }

    /// A chip with a fresh random static key.
    pub fn generate(
        group: Group,
        info: ChipAuthenticationInfo,
        rng: &mut impl CryptoRng,
    ) -> Result<ChipCa, Error> {
        let (private, _) = group.generate(rng)?;
        ChipCa::new(group, private, info)
    }

    /// The static public key.
    pub fn public_key(&self) -> ChipPublicKey {
        ChipPublicKey {
            group: self.group.clone(),
            public: self.public.clone(),
        }
    }

    /// The ChipAuthenticationInfo this chip follows.
    pub fn info(&self) -> &ChipAuthenticationInfo {
        &self.info
    }

    /// The ChipAuthenticationPublicKeyInfo for DG14 (named curves and DH groups with q).
    pub fn public_key_info(&self) -> Result<ChipAuthenticationPublicKeyInfo, Error> {
        Ok(ChipAuthenticationPublicKeyInfo {
            agreement: self.group.agreement(),
            public_key: self.public_key().to_spki()?,
            key_id: self.info.key_id,
        })
    }

    fn check_key_ref(&self, key_ref: Option<Tlv<'_>>) -> Result<(), StatusWord> {
        let Some(key_ref) = key_ref else {
            return Ok(());
        };
        let value = key_ref.value();
        if value.is_empty() || value.len() > 8 {
            return Err(StatusWord::IncorrectData);
        }
        let id = value.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        match self.info.key_id {
            Some(mine) if mine == id => Ok(()),
            _ => Err(StatusWord::ReferencedDataNotFound),
        }
    }

    fn agree(&self, peer: &[u8], nonce: &[u8]) -> Result<SmSession, StatusWord> {
        self.group
            .check_public(peer)
            .map_err(|_| StatusWord::IncorrectData)?;
        let shared = self
            .group
            .shared_secret(&self.private, peer)
            .map_err(|_| StatusWord::IncorrectData)?;
        let suite = self.info.protocol.suite;
        SmSession::new(session_keys(suite, &shared, nonce), Ssc::zero(suite))
            .map_err(|_| StatusWord::NoPreciseDiagnosis)
    }

    /// MSE:Set KAT (`0C 22 41 A6`, data `91 ephemeral-key [84 keyId]`), CA version 1 with
    /// 3DES. Returns the new session: answer this command (9000) under `current`, then
    /// switch to the new session for the next command.
    pub fn mse_set_kat(
        &mut self,
        data: &[u8],
        current: &SmSession,
        _rng: &mut impl CryptoRng,
    ) -> Result<SmSession, StatusWord> {
        self.at_selected = false;
        if current.is_closed() {
            return Err(StatusWord::ConditionsNotSatisfied);
        }
        if self.info.version != 1 || self.info.protocol.suite != CipherSuite::Des3 {
            return Err(StatusWord::FunctionNotSupported);
        }
        let (ephemeral, key_ref) = parse_template(data, 0x91)?;
        self.check_key_ref(key_ref)?;
        self.agree(ephemeral, &[])
    }

    /// MSE:Set AT (`0C 22 41 A4`, data `80 CA-OID [84 keyId]`): selects chip
    /// authentication for the following GENERAL AUTHENTICATE.
    pub fn mse_set_at(&mut self, data: &[u8]) -> Result<(), StatusWord> {
        self.at_selected = false;
        let (oid, key_ref) = parse_template(data, 0x80)?;
        if oid != self.info.protocol.oid().content() {
            return Err(StatusWord::ReferencedDataNotFound);
        }
        self.check_key_ref(key_ref)?;
        self.at_selected = true;
        Ok(())
    }

    /// GENERAL AUTHENTICATE (`0C 86 00 00`, data `7C { 80 ephemeral-key }`) after MSE:Set
    /// AT. Returns the response data (`7C { 81 r, 82 T }` in version 2, an empty `7C 00` in
    /// version 1) and the new session: answer this command with that data under the
    /// current session, then switch to the new session for the next command.
    pub fn general_authenticate(
        &mut self,
        data: &[u8],
        rng: &mut impl CryptoRng,
    ) -> Result<(Vec<u8>, SmSession), StatusWord> {
        if !core::mem::take(&mut self.at_selected) {
            return Err(StatusWord::ConditionsNotSatisfied);
        }
        let outer = Tlv::parse(data).map_err(|_| StatusWord::IncorrectData)?;
        if outer.tag() != Tag::new(0x7C) {
            return Err(StatusWord::IncorrectData);
        }
        let ephemeral = outer
            .find(Tag::new(0x80))
            .map_err(|_| StatusWord::IncorrectData)?
            .ok_or(StatusWord::IncorrectData)?
            .value();
        if self.info.version == 1 {
            let session = self.agree(ephemeral, &[])?;
            return Ok((vec![0x7C, 0x00], session));
        }
        let mut nonce = [0u8; CHIP_NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let session = self.agree(ephemeral, &nonce)?;
        let protocol = self.info.protocol.oid();
        let input = self.group.public_key_data_object(&protocol, ephemeral);
        let token = authentication_token(self.info.protocol.suite, session.keys().mac(), &input)
            .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        let mut content = tlv::encode(Tag::new(0x81), &nonce);
        tlv::encode_into(Tag::new(0x82), &token, &mut content);
        Ok((tlv::encode(Tag::new(0x7C), &content), session))
    }
}

/// `first-tag value [84 keyId]`, nothing else.
fn parse_template(data: &[u8], first: u32) -> Result<(&[u8], Option<Tlv<'_>>), StatusWord> {
    let mut value = None;
    let mut key_ref = None;
    for object in tlv::TlvIter::new(data) {
        let object = object.map_err(|_| StatusWord::IncorrectData)?;
        match object.tag().value() {
            t if t == first && value.is_none() => value = Some(object.value()),
            0x84 if key_ref.is_none() => key_ref = Some(object),
            _ => return Err(StatusWord::IncorrectData),
        }
    }
    let value = value
        .filter(|v| !v.is_empty())
        .ok_or(StatusWord::IncorrectData)?;
    Ok((value, key_ref))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_spkis_are_errors() {
        for bad in [
            &[][..],
            &[0x30, 0x00],
            &[0x30, 0x03, 0x30, 0x01, 0x06],
            &[0x30, 0x05, 0x30, 0x00, 0x03, 0x01, 0x00],
            &[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF],
        ] {
            assert!(ChipPublicKey::from_spki(bad).is_err());
        }
    }

    #[test]
    fn templates_refuse_repeats_and_strangers() {
        assert!(parse_template(&[0x91, 0x01, 0x04, 0x91, 0x01, 0x04], 0x91).is_err());
        assert!(parse_template(&[0x91, 0x00], 0x91).is_err());
        assert!(parse_template(&[0x85, 0x01, 0x04], 0x91).is_err());
        let (v, k) = parse_template(&[0x91, 0x01, 0x04, 0x84, 0x01, 0x02], 0x91).unwrap();
        assert_eq!(v, [0x04]);
        assert_eq!(k.unwrap().value(), [0x02]);
    }
}
