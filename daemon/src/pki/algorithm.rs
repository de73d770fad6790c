//! Algorithm identifiers (X.509 `AlgorithmIdentifier`): an OID and its parameters kept
//! byte for byte, for keys, signatures and digests alike.

use super::DerError;
use super::oid::{self, Oid};
use apdu::asn1;
use apdu::tlv::{self, Tlv};

/// An algorithm identifier: its OID and the raw parameters element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgorithmIdentifier {
    /// The algorithm.
    pub oid: Oid,
    /// The whole parameters element (tag, length, value), if present.
    pub params: Option<Vec<u8>>,
}

impl AlgorithmIdentifier {
    /// Parses `SEQUENCE { OID, ANY OPTIONAL }`.
    pub fn from_der(tlv: &Tlv<'_>) -> Result<Self, DerError> {
        const CTX: &str = "AlgorithmIdentifier";
        if tlv.tag() != asn1::SEQUENCE {
            return Err(DerError::new(CTX, "not a SEQUENCE"));
        }
        let mut r = tlv.reader();
        let oid = Oid::from_tlv(&r.expect(asn1::OBJECT_IDENTIFIER, CTX)?)?;
        let params = if r.is_empty() {
            None
        } else {
            Some(r.read()?.raw().to_vec())
        };
        // Anything after the parameters is ignored rather than fatal.
        Ok(AlgorithmIdentifier { oid, params })
    }

    /// x509-parser's reading, with the parameters element as encoded.
    pub(super) fn from_x509(
        alg: &x509_parser::x509::AlgorithmIdentifier<'_>,
    ) -> Result<Self, DerError> {
        Ok(AlgorithmIdentifier {
            oid: Oid::from_der_content(alg.algorithm.as_bytes())?,
            params: alg.parameters.as_ref().map(any_der),
        })
    }

    /// An identifier without parameters.
    pub fn new(oid: Oid, params: Option<Vec<u8>>) -> Self {
        AlgorithmIdentifier { oid, params }
    }

    /// The parameters, unless absent or NULL.
    pub fn real_params(&self) -> Option<&[u8]> {
        match self.params.as_deref() {
            None | Some([0x05, 0x00]) => None,
            Some(p) => Some(p),
        }
    }

    /// DER encoding.
    pub fn to_der(&self) -> Vec<u8> {
        let o = self.oid.to_der();
        match &self.params {
            Some(p) => asn1::sequence(&[&o, p]),
            None => asn1::sequence(&[&o]),
        }
    }

    /// Readable name of the algorithm.
    pub fn name(&self) -> String {
        oid::name(&self.oid)
    }
}

/// The identifier octet of a low-numbered tag (`0xff`, which no string type has, for
/// the rest).
pub(super) fn identifier_octet(any: &x509_parser::der_parser::asn1_rs::Any<'_>) -> u8 {
    let class = (any.class() as u8) << 6;
    let constructed = if any.header.is_constructed() { 0x20 } else { 0 };
    match u8::try_from(any.tag().0) {
        Ok(number) if number < 0x1f => class | constructed | number,
        _ => 0xff,
    }
}

/// An element x509-parser read, encoded again (tag, definite length, value).
fn any_der(any: &x509_parser::der_parser::asn1_rs::Any<'_>) -> Vec<u8> {
    let mut out = match any.header.raw_tag() {
        Some(tag) => tag.to_vec(),
        None => vec![identifier_octet(any)],
    };
    tlv::encode_length(any.data.len(), &mut out);
    out.extend_from_slice(any.data);
    out
}
