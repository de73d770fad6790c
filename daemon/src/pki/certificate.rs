//! X.509 certificates as ICAO 9303 uses them (CSCA, link, document signer and master
//! list signer certificates), parsed leniently enough for the real-world oddities in
//! national master lists: NULL or absent signature parameters, negative serial numbers,
//! explicit elliptic-curve parameters, missing seconds in times, unknown extensions.
//!
//! The X.509 structure is read by x509-parser (fuzzed upstream); what ICAO certificates
//! need beyond it is read here from its raw views: keys with explicit curve parameters,
//! parameters kept byte for byte, directory strings in T.61 or BMP. The unsigned outer
//! elements are also checked here, strictly, because x509-parser matches their tags by
//! number only. `trust_every_reference_certificate_parses_as_before` holds every
//! certificate of the German master list, the BSI data set and the test PKI to the
//! reading of the project's earlier own parser.

use super::DerError;
use super::algorithm::{AlgorithmIdentifier, identifier_octet};
use super::key::PublicKey;
use super::oid::{self, Oid};
use super::time::Time;
use apdu::asn1;
use apdu::tlv::{self, Tag, Tlv};
use std::fmt;
use std::ops::Range;

/// Largest certificate accepted (real ones are a few KiB).
pub const MAX_CERTIFICATE_LEN: usize = 64 * 1024;

/// A distinguished name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// The DER encoding as found.
    pub der: Vec<u8>,
    /// The attributes in order: type and decoded value.
    pub attributes: Vec<(Oid, String)>,
}

impl Name {
    /// Parses a `SEQUENCE OF SET OF AttributeTypeAndValue`.
    pub fn from_der(tlv: &Tlv<'_>) -> Result<Self, DerError> {
        const CTX: &str = "Name";
        if tlv.tag() != asn1::SEQUENCE {
            return Err(DerError::new(CTX, "not a SEQUENCE"));
        }
        let mut attributes = Vec::new();
        let mut rdns = tlv.reader();
        while !rdns.is_empty() {
            let rdn = rdns.expect(asn1::SET, CTX)?;
            let mut atvs = rdn.reader();
            while !atvs.is_empty() {
                let atv = atvs.expect(asn1::SEQUENCE, CTX)?;
                let mut r = atv.reader();
                let oid = Oid::from_tlv(&r.expect(asn1::OBJECT_IDENTIFIER, CTX)?)?;
                let value = r.read()?;
                attributes.push((oid, decode_string(value.tag(), value.value())));
            }
        }
        Ok(Name {
            der: tlv.raw().to_vec(),
            attributes,
        })
    }

    /// x509-parser's reading, each value decoded as [`Name::from_der`] does.
    pub(super) fn from_x509(name: &x509_parser::x509::X509Name<'_>) -> Result<Self, DerError> {
        Ok(Name {
            der: name.as_raw().to_vec(),
            attributes: name
                .iter_attributes()
                .map(|atv| {
                    let value = atv.attr_value();
                    let tag = Tag::new(u32::from(identifier_octet(value)));
                    let text = decode_string(tag, value.data);
                    Ok((Oid::from_der_content(atv.attr_type().as_bytes())?, text))
                })
                .collect::<Result<_, DerError>>()?,
        })
    }

    /// Builds a name from (attribute OID, value) pairs, one per RDN, as UTF8String
    /// (PrintableString for the country code).
    pub fn build(attributes: &[(Oid, &str)]) -> Name {
        let rdns: Vec<Vec<u8>> = attributes
            .iter()
            .map(|(o, v)| {
                let t = if *o == oid::AT_COUNTRY {
                    asn1::PRINTABLE_STRING
                } else {
                    asn1::UTF8_STRING
                };
                let atv = asn1::sequence(&[&o.to_der(), &tlv::encode(t, v.as_bytes())]);
                asn1::set_of(&[&atv])
            })
            .collect();
        let refs: Vec<&[u8]> = rdns.iter().map(Vec::as_slice).collect();
        let der = asn1::sequence(&refs);
        Name {
            der,
            attributes: attributes
                .iter()
                .map(|(o, v)| (*o, (*v).to_string()))
                .collect(),
        }
    }

    /// The first value of an attribute.
    pub fn get(&self, attribute: &Oid) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(o, _)| o == attribute)
            .map(|(_, v)| v.as_str())
    }

    /// The country code (upper case), if any.
    pub fn country(&self) -> Option<String> {
        self.get(&oid::AT_COUNTRY)
            .map(|c| c.trim().to_ascii_uppercase())
    }

    /// Whether two names denote the same entity: byte-equal, or equal after the
    /// RFC 5280 style normalisation (case, surrounding and repeated spaces), since
    /// issuers mix PrintableString and UTF8String for the same name.
    pub fn matches(&self, other: &Name) -> bool {
        self.der == other.der || self.normalized() == other.normalized()
    }

    /// A comparison key for [`Name::matches`].
    pub fn normalized(&self) -> Vec<(Oid, String)> {
        self.attributes
            .iter()
            .map(|(o, v)| {
                let folded = v
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_lowercase();
                (*o, folded)
            })
            .collect()
    }
}

impl fmt::Display for Name {
    /// Attributes in certificate order, e.g. `C=VN, O=…, CN=CSCA ePassport Vietnam`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (o, v)) in self.attributes.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            const EMAIL_ADDRESS: Oid = Oid::new("1.2.840.113549.1.9.1");
            let label = match *o {
                oid::AT_COUNTRY => "C".to_string(),
                oid::AT_ORGANIZATION => "O".to_string(),
                oid::AT_ORG_UNIT => "OU".to_string(),
                oid::AT_COMMON_NAME => "CN".to_string(),
                oid::AT_SERIAL_NUMBER => "serialNumber".to_string(),
                oid::AT_LOCALITY => "L".to_string(),
                oid::AT_STATE => "ST".to_string(),
                EMAIL_ADDRESS => "emailAddress".to_string(),
                other => other.to_string(),
            };
            write!(f, "{label}={v}")?;
        }
        Ok(())
    }
}

/// Decodes a directory string for display, replacing anything unprintable.
fn decode_string(tag: Tag, v: &[u8]) -> String {
    let text: String = match tag {
        asn1::UTF8_STRING | asn1::PRINTABLE_STRING | asn1::IA5_STRING | asn1::VISIBLE_STRING => {
            String::from_utf8_lossy(v).into_owned()
        }
        // T.61 in theory, Latin-1 in practice.
        asn1::TELETEX_STRING => v.iter().map(|&b| char::from(b)).collect(),
        asn1::BMP_STRING => {
            let units: Vec<u16> = v
                .chunks(2)
                .map(|c| {
                    u16::from_be_bytes([
                        c.first().copied().unwrap_or(0),
                        c.get(1).copied().unwrap_or(0),
                    ])
                })
                .collect();
            String::from_utf16_lossy(&units)
        }
        asn1::UNIVERSAL_STRING => v
            .chunks(4)
            .map(|c| {
                let mut b = [0u8; 4];
                for (dst, src) in b.iter_mut().zip(c) {
                    *dst = *src;
                }
                char::from_u32(u32::from_be_bytes(b)).unwrap_or('\u{fffd}')
            })
            .collect(),
        _ => hex::encode_upper(v),
    };
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// The `keyUsage` extension's bits (RFC 5280 §4.2.1.3), bit `n` of the BIT STRING as
/// `1 << n` (so `digitalSignature` is bit 0, `keyCertSign` bit 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyUsage(pub u16);

impl KeyUsage {
    pub const DIGITAL_SIGNATURE: u16 = 1 << 0;
    pub const NON_REPUDIATION: u16 = 1 << 1;
    pub const KEY_ENCIPHERMENT: u16 = 1 << 2;
    pub const DATA_ENCIPHERMENT: u16 = 1 << 3;
    pub const KEY_AGREEMENT: u16 = 1 << 4;
    pub const KEY_CERT_SIGN: u16 = 1 << 5;
    pub const CRL_SIGN: u16 = 1 << 6;
    pub const ENCIPHER_ONLY: u16 = 1 << 7;
    pub const DECIPHER_ONLY: u16 = 1 << 8;

    /// Reads the content octets of the BIT STRING (unused-bit count first). Bits past
    /// `decipherOnly` are ignored; `None` when the encoding is not a bit string at all.
    pub fn from_bit_string(value: &[u8]) -> Option<KeyUsage> {
        let (&unused, bytes) = value.split_first()?;
        if unused > 7 || (bytes.is_empty() && unused != 0) {
            return None;
        }
        let mut bits = 0u16;
        for (i, byte) in bytes.iter().take(2).enumerate() {
            for j in 0..8 {
                if byte & (0x80 >> j) != 0 {
                    bits |= 1 << (i * 8 + j);
                }
            }
        }
        Some(KeyUsage(bits & 0x01ff))
    }

    /// Whether every bit of `mask` is set.
    pub fn allows(self, mask: u16) -> bool {
        self.0 & mask == mask
    }
}

/// The extensions a certificate may mark critical and still be accepted, with why
/// each is understood (RFC 5280 §4.2: a critical extension the reader does not
/// recognise makes the certificate unusable).
pub const UNDERSTOOD_EXTENSIONS: &[(Oid, &str)] = &[
    (
        oid::EXT_SUBJECT_KEY_ID,
        "read: finds the issuer of a certificate",
    ),
    (
        oid::EXT_AUTHORITY_KEY_ID,
        "read: finds the issuer of a certificate",
    ),
    (
        oid::EXT_BASIC_CONSTRAINTS,
        "read: cA and pathLenConstraint are enforced on every issuer",
    ),
    (
        oid::EXT_KEY_USAGE,
        "read: keyCertSign on issuers, digitalSignature on the document signer",
    ),
    (
        oid::EXT_PRIVATE_KEY_USAGE_PERIOD,
        "read: must contain the signing time of the document signer",
    ),
];

/// The `privateKeyUsagePeriod` extension (RFC 3280 §4.2.1.4; ICAO 9303-12 profiles it
/// for CSCA and document signer certificates): when the private key may sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyUsagePeriod {
    pub not_before: Option<Time>,
    pub not_after: Option<Time>,
}

impl KeyUsagePeriod {
    /// Parses `SEQUENCE { notBefore [0] GeneralizedTime OPTIONAL, notAfter [1]
    /// GeneralizedTime OPTIONAL }` (both tagged implicitly).
    pub fn from_der(data: &[u8]) -> Result<KeyUsagePeriod, DerError> {
        const CTX: &str = "privateKeyUsagePeriod";
        let seq = Tlv::parse_as(data, asn1::SEQUENCE, CTX)?;
        let mut r = seq.reader();
        let time = |t: Tlv<'_>| Time::from_tagged(asn1::GENERALIZED_TIME, t.value());
        let not_before = r
            .optional(asn1::context_primitive(0))?
            .map(time)
            .transpose()?;
        let not_after = r
            .optional(asn1::context_primitive(1))?
            .map(time)
            .transpose()?;
        if !r.is_empty() || (not_before.is_none() && not_after.is_none()) {
            // RFC 3280: at least one of the two is present, and nothing else.
            return Err(DerError::new(CTX, "malformed"));
        }
        Ok(KeyUsagePeriod {
            not_before,
            not_after,
        })
    }

    /// Whether the key may sign at `at`.
    pub fn contains(&self, at: Time) -> bool {
        self.not_before.is_none_or(|b| b <= at) && self.not_after.is_none_or(|a| at <= a)
    }
}

/// A parsed X.509 certificate, owning its DER encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The whole certificate as found.
    pub der: Vec<u8>,
    tbs: Range<usize>,
    /// 1, 2 or 3.
    pub version: u8,
    /// Serial number content octets (two's complement, as encoded).
    pub serial: Vec<u8>,
    /// The signature algorithm of the outer certificate.
    pub signature_algorithm: AlgorithmIdentifier,
    pub issuer: Name,
    pub subject: Name,
    pub not_before: Time,
    pub not_after: Time,
    pub public_key: PublicKey,
    pub subject_key_id: Option<Vec<u8>>,
    pub authority_key_id: Option<Vec<u8>>,
    /// Basic constraints `cA`, when the extension is present (`Some(false)` also when
    /// the extension is present but malformed: it then grants nothing).
    pub is_ca: Option<bool>,
    /// The key usage bits, when the extension is present (no bits at all when it is
    /// present but malformed: it then grants nothing).
    pub key_usage: Option<KeyUsage>,
    /// The signature algorithm named inside `tbsCertificate`, which RFC 5280 §4.1.1.2
    /// requires to equal [`Certificate::signature_algorithm`].
    pub tbs_signature_algorithm: AlgorithmIdentifier,
    /// The signature value.
    pub signature: Vec<u8>,
}

impl Certificate {
    /// Parses one DER certificate (trailing bytes are an error).
    pub fn from_der(data: &[u8]) -> Result<Certificate, DerError> {
        if data.len() > MAX_CERTIFICATE_LEN {
            return Err(DerError::new("certificate", "too large"));
        }
        let tlv = Tlv::parse_as(data, asn1::SEQUENCE, "certificate")?;
        Self::from_tlv(&tlv)
    }

    /// Parses a certificate element.
    ///
    /// The structure, times and extensions are read by x509-parser; the parts ICAO
    /// certificates need beyond it (explicit-curve keys, names in T.61 or BMP strings,
    /// parameters kept byte for byte) are read here from its raw views.
    pub fn from_tlv(tlv: &Tlv<'_>) -> Result<Certificate, DerError> {
        use x509_parser::prelude::FromDer;
        const CTX: &str = "certificate";
        if tlv.tag() != asn1::SEQUENCE {
            return Err(DerError::new(CTX, "not a SEQUENCE"));
        }
        if tlv.raw().len() > MAX_CERTIFICATE_LEN {
            return Err(DerError::new(CTX, "too large"));
        }
        // x509-parser reads the unsigned outer elements by their tag number alone; an
        // identifier octet flipped outside the signature must still make it malformed.
        let mut outer = tlv.reader();
        outer.expect(asn1::SEQUENCE, "tbsCertificate")?;
        let signature_algorithm = AlgorithmIdentifier::from_der(&outer.read()?)?;
        let signature = outer.expect(asn1::BIT_STRING, "certificate signature")?;
        let signature = asn1::bit_string_bytes(&signature)
            .map_err(|e| e.within("certificate signature"))?
            .to_vec();
        let (rest, x509) = x509_parser::certificate::X509Certificate::from_der(tlv.raw())
            .map_err(|e| DerError::new(CTX, x509_reason(&e)))?;
        if !rest.is_empty() {
            return Err(DerError::new(CTX, "trailing bytes"));
        }
        let tbs = &x509.tbs_certificate;
        let tbs_raw: &[u8] = tbs.as_ref();
        let tbs_start =
            offset_in(tlv.raw(), tbs_raw).ok_or(DerError::new(CTX, "tbsCertificate"))?;
        let version =
            u8::try_from(tbs.version.0 + 1).map_err(|_| DerError::new(CTX, "bad version"))?;
        let serial = tbs.raw_serial().to_vec();
        if serial.is_empty() {
            return Err(DerError::new(CTX, "empty serial number"));
        }
        let public_key = PublicKey::from_spki(&Tlv::parse_as(
            tbs.subject_pki.raw,
            asn1::SEQUENCE,
            "SubjectPublicKeyInfo",
        )?)?;
        let mut cert = Certificate {
            der: tlv.raw().to_vec(),
            tbs: tbs_start..tbs_start + tbs_raw.len(),
            version,
            serial,
            signature_algorithm,
            issuer: Name::from_x509(&tbs.issuer)?,
            subject: Name::from_x509(&tbs.subject)?,
            not_before: Time(tbs.validity.not_before.timestamp()),
            not_after: Time(tbs.validity.not_after.timestamp()),
            public_key,
            subject_key_id: None,
            authority_key_id: None,
            is_ca: None,
            key_usage: None,
            tbs_signature_algorithm: AlgorithmIdentifier::from_x509(&tbs.signature)?,
            signature,
        };
        for extension in tbs.extensions() {
            cert.read_extension(extension);
        }
        Ok(cert)
    }

    /// A malformed extension is ignored, not fatal: the signature still covers it, and
    /// the two that grant something grant nothing when they cannot be read.
    fn read_extension(&mut self, extension: &x509_parser::extensions::X509Extension<'_>) {
        use x509_parser::extensions::ParsedExtension;
        let parsed = extension.parsed_extension();
        let Ok(id) = Oid::from_der_content(extension.oid.as_bytes()) else {
            return;
        };
        match id {
            oid::EXT_SUBJECT_KEY_ID => {
                if let ParsedExtension::SubjectKeyIdentifier(id) = parsed {
                    self.subject_key_id = Some(id.0.to_vec());
                }
            }
            oid::EXT_AUTHORITY_KEY_ID => {
                if let ParsedExtension::AuthorityKeyIdentifier(aki) = parsed {
                    if let Some(id) = &aki.key_identifier {
                        self.authority_key_id = Some(id.0.to_vec());
                    }
                }
            }
            oid::EXT_BASIC_CONSTRAINTS => {
                self.is_ca = Some(matches!(
                    parsed,
                    ParsedExtension::BasicConstraints(bc) if bc.ca
                ));
            }
            oid::EXT_KEY_USAGE => {
                self.key_usage = Some(match parsed {
                    ParsedExtension::KeyUsage(usage) => KeyUsage(usage.flags),
                    _ => KeyUsage(0),
                });
            }
            _ => {}
        }
    }

    /// Whether the inner (`tbsCertificate.signature`) and outer signature algorithm
    /// identifiers agree: same OID, and same parameters, an absent parameter and NULL
    /// being the same thing (both encodings occur in real CSCA certificates).
    pub fn signature_algorithms_agree(&self) -> bool {
        let (inner, outer) = (&self.tbs_signature_algorithm, &self.signature_algorithm);
        inner.oid == outer.oid && inner.real_params() == outer.real_params()
    }

    /// The signed part (`tbsCertificate`).
    pub fn tbs(&self) -> &[u8] {
        self.der.get(self.tbs.clone()).unwrap_or(&[])
    }

    /// Whether issuer and subject are the same name.
    pub fn is_self_issued(&self) -> bool {
        self.issuer.matches(&self.subject)
    }

    /// The serial number in hexadecimal, with a minus sign when negative.
    pub fn serial_hex(&self) -> String {
        serial_to_hex(&self.serial)
    }

    /// Whether `at` lies within the validity period.
    pub fn valid_at(&self, at: Time) -> bool {
        self.not_before <= at && at <= self.not_after
    }

    /// Whether this certificate's serial number equals `serial` (content octets),
    /// ignoring a redundant sign octet on either side.
    pub fn serial_matches(&self, serial: &[u8]) -> bool {
        normalize_int(&self.serial) == normalize_int(serial)
    }

    /// Whether the certificate may have issued `child`, judged by names and key
    /// identifiers only (the signature is checked separately).
    pub fn may_have_issued(&self, child: &Certificate) -> bool {
        match (&child.authority_key_id, &self.subject_key_id) {
            (Some(aki), Some(ski)) if aki == ski => true,
            (Some(_), Some(_)) => false,
            _ => self.subject.matches(&child.issuer),
        }
    }

    /// x509-parser's view of the certificate, read again from [`Certificate::der`]
    /// (what it adds is kept out of the struct, whose fields are the ones every
    /// reference certificate is held to).
    fn x509(&self) -> Option<x509_parser::certificate::X509Certificate<'_>> {
        use x509_parser::prelude::FromDer;
        x509_parser::certificate::X509Certificate::from_der(&self.der)
            .ok()
            .map(|(_, c)| c)
    }

    /// basicConstraints `pathLenConstraint`: how many non-self-issued intermediate CA
    /// certificates may follow this one in a path (RFC 5280 §4.2.1.9); `None` when
    /// absent (no limit) or when the extension does not decode (it then grants no cA).
    pub fn path_len_constraint(&self) -> Option<u32> {
        use x509_parser::extensions::ParsedExtension;
        let x509 = self.x509()?;
        x509.tbs_certificate
            .extensions()
            .iter()
            .filter(|e| e.oid.as_bytes() == oid::EXT_BASIC_CONSTRAINTS.content())
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::BasicConstraints(bc) => bc.path_len_constraint,
                _ => None,
            })
    }

    /// The `privateKeyUsagePeriod` extension (2.5.29.16), when present: `Err` when it
    /// is present but does not decode.
    pub fn private_key_usage_period(&self) -> Option<Result<KeyUsagePeriod, DerError>> {
        let x509 = self.x509()?;
        let ext = x509
            .tbs_certificate
            .extensions()
            .iter()
            .find(|e| e.oid.as_bytes() == oid::EXT_PRIVATE_KEY_USAGE_PERIOD.content())?;
        Some(KeyUsagePeriod::from_der(ext.value))
    }

    /// The names of the critical extensions this reader does not understand (not in
    /// [`UNDERSTOOD_EXTENSIONS`]): RFC 5280 §4.2 requires such a certificate to be
    /// rejected. An extension whose OID is not well formed is one of them. A
    /// certificate that no longer parses lists nothing here; it cannot have been parsed
    /// into a [`Certificate`] in the first place.
    pub fn unknown_critical_extensions(&self) -> Vec<String> {
        let Some(x509) = self.x509() else {
            return Vec::new();
        };
        x509.tbs_certificate
            .extensions()
            .iter()
            .filter(|e| e.critical)
            .map(|e| Oid::from_der_content(e.oid.as_bytes()))
            .filter(|o| {
                !o.as_ref()
                    .is_ok_and(|o| UNDERSTOOD_EXTENSIONS.iter().any(|(u, _)| u == o))
            })
            .map(|o| o.map_or_else(|_| "a malformed OID".to_owned(), |o| oid::name(&o)))
            .collect()
    }

    /// The PEM encoding.
    pub fn to_pem(&self) -> String {
        super::pem::encode("CERTIFICATE", &self.der)
    }
}

/// Where `part`, a view into `whole`, starts in it.
pub(super) fn offset_in(whole: &[u8], part: &[u8]) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (start.checked_add(part.len())? <= whole.len()).then_some(start)
}

/// Why x509-parser refused a certificate, in the words of [`DerError`].
pub(super) fn x509_reason(
    e: &x509_parser::nom::Err<x509_parser::error::X509Error>,
) -> &'static str {
    use x509_parser::error::X509Error as E;
    use x509_parser::nom::Err;
    match e {
        Err::Incomplete(_) => "truncated",
        Err::Error(e) | Err::Failure(e) => match e {
            E::InvalidVersion => "bad version",
            E::InvalidSerial => "bad serial number",
            E::InvalidAlgorithmIdentifier => "bad algorithm identifier",
            E::InvalidX509Name => "bad name",
            E::InvalidDate => "bad validity time",
            E::InvalidSPKI => "bad public key",
            E::InvalidExtensions => "bad extensions",
            E::DuplicateExtensions => "duplicate extensions",
            E::InvalidSignatureValue => "bad signature value",
            _ => "not an X.509 certificate",
        },
    }
}

/// Drops redundant leading sign octets of a two's-complement integer.
fn normalize_int(v: &[u8]) -> &[u8] {
    let mut v = v;
    while let [first, second, ..] = v {
        if (*first == 0 && second & 0x80 == 0) || (*first == 0xff && second & 0x80 != 0) {
            v = v.get(1..).unwrap_or(&[]);
        } else {
            break;
        }
    }
    v
}

/// Hexadecimal form of an INTEGER's content octets, negative numbers as `-` and their
/// magnitude.
pub fn serial_to_hex(serial: &[u8]) -> String {
    if serial.first().is_some_and(|b| b & 0x80 != 0) {
        // Two's complement negation: invert and add one.
        let mut mag: Vec<u8> = serial.iter().map(|b| !b).collect();
        for b in mag.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
        format!("-{}", hex::encode_upper(asn1::strip_leading_zeros(&mag)))
    } else {
        let digits = asn1::strip_leading_zeros(serial);
        if digits.is_empty() {
            "00".into()
        } else {
            hex::encode_upper(digits)
        }
    }
}

/// Parses every certificate in a buffer of concatenated DER certificates.
pub fn parse_all(data: &[u8]) -> Vec<Result<Certificate, DerError>> {
    let mut out = Vec::new();
    let mut r = tlv::Reader::new(data);
    while !r.is_empty() {
        match r.read() {
            Ok(tlv) => out.push(Certificate::from_tlv(&tlv)),
            Err(e) => {
                out.push(Err(e.into()));
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials() {
        assert_eq!(serial_to_hex(&[0x01, 0x42]), "0142");
        assert_eq!(serial_to_hex(&[0x00, 0x80]), "80");
        assert_eq!(serial_to_hex(&[0xff]), "-01");
        assert_eq!(serial_to_hex(&[0x80, 0x00]), "-8000");
        assert_eq!(normalize_int(&[0x00, 0x7f]), &[0x7f]);
        assert_eq!(normalize_int(&[0x00, 0x80]), &[0x00, 0x80]);
    }

    #[test]
    fn names_compare_loosely() {
        let a = Name::build(&[(oid::AT_COUNTRY, "VN"), (oid::AT_COMMON_NAME, "CSCA  Test")]);
        let b = Name::build(&[(oid::AT_COUNTRY, "vn"), (oid::AT_COMMON_NAME, "csca test ")]);
        assert!(a.matches(&b));
        assert_eq!(a.to_string(), "C=VN, CN=CSCA  Test");
        assert_eq!(a.country().as_deref(), Some("VN"));
        let tlv = Tlv::parse_as(&a.der, asn1::SEQUENCE, "n").unwrap();
        assert_eq!(Name::from_der(&tlv).unwrap(), a);
    }

    #[test]
    fn key_usage_bits() {
        // digitalSignature alone: 07 80.
        let ds = KeyUsage::from_bit_string(&[0x07, 0x80]).unwrap();
        assert!(ds.allows(KeyUsage::DIGITAL_SIGNATURE));
        assert!(!ds.allows(KeyUsage::KEY_CERT_SIGN));
        // keyCertSign + cRLSign: 01 06.
        let ca = KeyUsage::from_bit_string(&[0x01, 0x06]).unwrap();
        assert!(ca.allows(KeyUsage::KEY_CERT_SIGN | KeyUsage::CRL_SIGN));
        assert!(!ca.allows(KeyUsage::DIGITAL_SIGNATURE));
        // decipherOnly lives in the second octet.
        let d = KeyUsage::from_bit_string(&[0x07, 0x00, 0x80]).unwrap();
        assert!(d.allows(KeyUsage::DECIPHER_ONLY));
        assert_eq!(KeyUsage::from_bit_string(&[]), None);
        assert_eq!(KeyUsage::from_bit_string(&[0x09, 0xff]), None);
        assert_eq!(KeyUsage::from_bit_string(&[0x00]), Some(KeyUsage(0)));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(Certificate::from_der(&[]).is_err());
        assert!(Certificate::from_der(&[0x30, 0x00]).is_err());
        assert!(Certificate::from_der(&[0x30, 0x03, 0x30, 0x01, 0x00]).is_err());
    }
}
