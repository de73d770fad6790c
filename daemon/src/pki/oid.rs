//! Object identifiers used by ICAO 9303 PKI. The key algorithms that chip protocols
//! share are defined once, in [`apdu::asn1`], and named here too.

pub use apdu::asn1::{EC_PUBLIC_KEY, ECDSA_PLAIN, Oid, PRIME_FIELD, RSA_ENCRYPTION};

pub const SIGNED_DATA: Oid = Oid::new("1.2.840.113549.1.7.2");
pub const CONTENT_TYPE: Oid = Oid::new("1.2.840.113549.1.9.3");
pub const MESSAGE_DIGEST: Oid = Oid::new("1.2.840.113549.1.9.4");
pub const SIGNING_TIME: Oid = Oid::new("1.2.840.113549.1.9.5");
/// id-icao-mrtd-security-ldsSecurityObject.
pub const LDS_SECURITY_OBJECT: Oid = Oid::new("2.23.136.1.1.1");
/// id-SecurityObject (BSI TR-03110): the eContentType of
/// EF.CardSecurity, whose content is the chip's SecurityInfos.
pub const ID_SECURITY_OBJECT: Oid = Oid::new("0.4.0.127.0.7.3.2.1");
/// id-icao-cscaMasterList.
pub const CSCA_MASTER_LIST: Oid = Oid::new("2.23.136.1.1.2");

pub const SHA1_WITH_RSA: Oid = Oid::new("1.2.840.113549.1.1.5");
pub const RSASSA_PSS: Oid = Oid::new("1.2.840.113549.1.1.10");
pub const MGF1: Oid = Oid::new("1.2.840.113549.1.1.8");
pub const SHA256_WITH_RSA: Oid = Oid::new("1.2.840.113549.1.1.11");
pub const SHA384_WITH_RSA: Oid = Oid::new("1.2.840.113549.1.1.12");
pub const SHA512_WITH_RSA: Oid = Oid::new("1.2.840.113549.1.1.13");
pub const SHA224_WITH_RSA: Oid = Oid::new("1.2.840.113549.1.1.14");

pub const ECDSA_WITH_SHA1: Oid = Oid::new("1.2.840.10045.4.1");
pub const ECDSA_WITH_SHA224: Oid = Oid::new("1.2.840.10045.4.3.1");
pub const ECDSA_WITH_SHA256: Oid = Oid::new("1.2.840.10045.4.3.2");
pub const ECDSA_WITH_SHA384: Oid = Oid::new("1.2.840.10045.4.3.3");
pub const ECDSA_WITH_SHA512: Oid = Oid::new("1.2.840.10045.4.3.4");

pub const AT_COMMON_NAME: Oid = Oid::new("2.5.4.3");
pub const AT_SERIAL_NUMBER: Oid = Oid::new("2.5.4.5");
pub const AT_COUNTRY: Oid = Oid::new("2.5.4.6");
pub const AT_LOCALITY: Oid = Oid::new("2.5.4.7");
pub const AT_STATE: Oid = Oid::new("2.5.4.8");
pub const AT_ORGANIZATION: Oid = Oid::new("2.5.4.10");
pub const AT_ORG_UNIT: Oid = Oid::new("2.5.4.11");

pub const EXT_SUBJECT_KEY_ID: Oid = Oid::new("2.5.29.14");
pub const EXT_KEY_USAGE: Oid = Oid::new("2.5.29.15");
pub const EXT_BASIC_CONSTRAINTS: Oid = Oid::new("2.5.29.19");
pub const EXT_AUTHORITY_KEY_ID: Oid = Oid::new("2.5.29.35");
pub const EXT_PRIVATE_KEY_USAGE_PERIOD: Oid = Oid::new("2.5.29.16");
pub const EXT_SUBJECT_ALT_NAME: Oid = Oid::new("2.5.29.17");
pub const EXT_ISSUER_ALT_NAME: Oid = Oid::new("2.5.29.18");
pub const EXT_NAME_CONSTRAINTS: Oid = Oid::new("2.5.29.30");
pub const EXT_CRL_DISTRIBUTION_POINTS: Oid = Oid::new("2.5.29.31");
pub const EXT_CERTIFICATE_POLICIES: Oid = Oid::new("2.5.29.32");
pub const EXT_EXTENDED_KEY_USAGE: Oid = Oid::new("2.5.29.37");
/// ICAO 9303-12 documentTypeList, on document signer certificates.
pub const EXT_DOCUMENT_TYPE_LIST: Oid = Oid::new("2.23.136.1.1.6.2");

/// A readable name for an OID, falling back to dotted notation.
pub fn name(oid: &Oid) -> String {
    if let Some(hash) = apdu::hash::HashAlgorithm::from_oid(oid) {
        return hash.name().to_ascii_lowercase().replace('-', "");
    }
    let known: &[(Oid, &str)] = &[
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
        .find(|(known, _)| known == oid)
        .map_or_else(|| oid.to_string(), |(_, n)| (*n).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_have_their_standard_encodings() {
        assert_eq!(
            SIGNED_DATA.content(),
            [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]
        );
        assert_eq!(
            LDS_SECURITY_OBJECT.content(),
            [0x67, 0x81, 0x08, 0x01, 0x01, 0x01]
        );
        assert_eq!(
            ID_SECURITY_OBJECT.content(),
            [0x04, 0x00, 0x7f, 0x00, 0x07, 0x03, 0x02, 0x01]
        );
        assert_eq!(EXT_BASIC_CONSTRAINTS.content(), [0x55, 0x1d, 0x13]);
        assert_eq!(
            ECDSA_WITH_SHA256.content(),
            [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]
        );
    }

    #[test]
    fn names_fall_back_to_dotted_form() {
        assert_eq!(name(&SHA256_WITH_RSA), "sha256WithRSAEncryption");
        assert_eq!(name(&apdu::hash::HashAlgorithm::Sha256.oid()), "sha256");
        assert_eq!(
            name(&Oid::new("1.3.36.3.3.2.8.1.1.13")),
            "1.3.36.3.3.2.8.1.1.13"
        );
    }
}
