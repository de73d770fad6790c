//! Object identifiers used by ICAO 9303 PKI, as DER content octets.

pub const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
pub const CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
pub const MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
pub const SIGNING_TIME: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05];
/// id-icao-mrtd-security-ldsSecurityObject, 2.23.136.1.1.1
pub const LDS_SECURITY_OBJECT: &[u8] = &[0x67, 0x81, 0x08, 0x01, 0x01, 0x01];
/// id-SecurityObject, 0.4.0.127.0.7.3.2.1 (BSI TR-03110): the eContentType of
/// EF.CardSecurity, whose content is the chip's SecurityInfos.
pub const ID_SECURITY_OBJECT: &[u8] = &[0x04, 0x00, 0x7f, 0x00, 0x07, 0x03, 0x02, 0x01];
/// id-icao-cscaMasterList, 2.23.136.1.1.2
pub const CSCA_MASTER_LIST: &[u8] = &[0x67, 0x81, 0x08, 0x01, 0x01, 0x02];

pub const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
pub const SHA1_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
pub const RSASSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
pub const MGF1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08];
pub const SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
pub const SHA384_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
pub const SHA512_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
pub const SHA224_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0e];

pub const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
pub const PRIME_FIELD: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x01, 0x01];
pub const ECDSA_WITH_SHA1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01];
pub const ECDSA_WITH_SHA224: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x01];
pub const ECDSA_WITH_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
pub const ECDSA_WITH_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
pub const ECDSA_WITH_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
/// BSI TR-03111 ecdsa-plain-signatures arc, 0.4.0.127.0.7.1.1.4.1 (last arc: hash).
pub const ECDSA_PLAIN_PREFIX: &[u8] = &[0x04, 0x00, 0x7f, 0x00, 0x07, 0x01, 0x01, 0x04, 0x01];

pub const AT_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
pub const AT_SERIAL_NUMBER: &[u8] = &[0x55, 0x04, 0x05];
pub const AT_COUNTRY: &[u8] = &[0x55, 0x04, 0x06];
pub const AT_LOCALITY: &[u8] = &[0x55, 0x04, 0x07];
pub const AT_STATE: &[u8] = &[0x55, 0x04, 0x08];
pub const AT_ORGANIZATION: &[u8] = &[0x55, 0x04, 0x0a];
pub const AT_ORG_UNIT: &[u8] = &[0x55, 0x04, 0x0b];

pub const EXT_SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1d, 0x0e];
pub const EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
pub const EXT_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
pub const EXT_AUTHORITY_KEY_ID: &[u8] = &[0x55, 0x1d, 0x23];
pub const EXT_PRIVATE_KEY_USAGE_PERIOD: &[u8] = &[0x55, 0x1d, 0x10];
pub const EXT_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
pub const EXT_ISSUER_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x12];
pub const EXT_NAME_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x1e];
pub const EXT_CRL_DISTRIBUTION_POINTS: &[u8] = &[0x55, 0x1d, 0x1f];
pub const EXT_CERTIFICATE_POLICIES: &[u8] = &[0x55, 0x1d, 0x20];
pub const EXT_EXTENDED_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
/// ICAO 9303-12 documentTypeList (2.23.136.1.1.6.2), on document signer certificates.
pub const EXT_DOCUMENT_TYPE_LIST: &[u8] = &[0x67, 0x81, 0x08, 0x01, 0x01, 0x06, 0x02];

/// A readable name for an OID, falling back to dotted notation.
pub fn name(content: &[u8]) -> String {
    if let Some(hash) = apdu::hash::HashAlgorithm::from_oid_content(content) {
        return hash.name().to_ascii_lowercase().replace('-', "");
    }
    let known: &[(&[u8], &str)] = &[
        (RSA_ENCRYPTION, "rsaEncryption"),
        (SHA1_WITH_RSA, "sha1WithRSAEncryption"),
        (SHA224_WITH_RSA, "sha224WithRSAEncryption"),
        (SHA256_WITH_RSA, "sha256WithRSAEncryption"),
        (SHA384_WITH_RSA, "sha384WithRSAEncryption"),
        (SHA512_WITH_RSA, "sha512WithRSAEncryption"),
        (RSASSA_PSS, "rsassaPss"),
        (EC_PUBLIC_KEY, "id-ecPublicKey"),
        (ECDSA_WITH_SHA1, "ecdsa-with-SHA1"),
        (ECDSA_WITH_SHA224, "ecdsa-with-SHA224"),
        (ECDSA_WITH_SHA256, "ecdsa-with-SHA256"),
        (ECDSA_WITH_SHA384, "ecdsa-with-SHA384"),
        (ECDSA_WITH_SHA512, "ecdsa-with-SHA512"),
        (LDS_SECURITY_OBJECT, "id-icao-ldsSecurityObject"),
        (CSCA_MASTER_LIST, "id-icao-cscaMasterList"),
        (ID_SECURITY_OBJECT, "id-SecurityObject"),
        (SIGNED_DATA, "signedData"),
    ];
    known
        .iter()
        .find(|(oid, _)| *oid == content)
        .map(|(_, n)| (*n).to_string())
        .unwrap_or_else(|| dotted(content))
}

/// OID content octets in dotted notation (`invalid-oid` when they are not an OID).
pub fn dotted(content: &[u8]) -> String {
    apdu::asn1::Oid::from_der_content(content)
        .map_or_else(|_| "invalid-oid".into(), |o| o.to_string())
}

/// The content octets of a dotted OID this crate names (empty when it is not one).
pub fn content(dotted: &str) -> Vec<u8> {
    apdu::asn1::Oid::parse(dotted).map_or_else(Vec::new, |o| o.to_der_content())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_strings() {
        assert_eq!(
            dotted(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]),
            "1.2.840.113549.1.7.2"
        );
        assert_eq!(
            dotted(&[0x67, 0x81, 0x08, 0x01, 0x01, 0x01]),
            "2.23.136.1.1.1"
        );
        assert_eq!(dotted(&[0x86]), "invalid-oid");
    }

    #[test]
    fn content_encodes_curve_oids() {
        assert_eq!(
            content("1.2.840.10045.3.1.7"),
            [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]
        );
        assert_eq!(
            dotted(&content("1.3.36.3.3.2.8.1.1.13")),
            "1.3.36.3.3.2.8.1.1.13"
        );
        assert_eq!(content("0.4.0.127.0.7.3.2.1"), ID_SECURITY_OBJECT);
    }
}
