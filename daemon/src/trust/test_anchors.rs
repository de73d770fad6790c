//! The project's published test PKI (`fixtures/pki`), recognised among trust anchors:
//! its private keys are public, so a daemon serving real clients must not trust it.
//! Recognised by the SHA-256 of each certificate's public key (compiled in), and by the
//! organisation its names carry, so a renamed copy or a new certificate of the test PKI
//! is caught either way.

use sha2::{Digest, Sha256};

use crate::pki::certificate::Certificate;
use crate::trust::TrustStore;

/// The text every name of the test PKI carries.
const TEST_PKI_NAME: &[u8] = b"cancuoc TEST PKI";

/// SHA-256 of the DER SubjectPublicKeyInfo of every certificate in `fixtures/pki`.
const TEST_KEY_SHA256: &[&str] = &[
    // csca-2, link-csca-2
    "13b4a44f076fc24968f018633caca763744da84700e3b4c1186a9ca2dfecd911",
    // csca-foreign
    "a4b5c1d9fa59ec90e51b54168502fdd36abcac5a8319f5d2569894f7f71bcb2d",
    // csca
    "e3098ae14d48aec6790f5527cd11deea3851bf98e81d21cf186e49de907833ae",
    // ds-expired
    "73a8fd9b1ea86645409750c9b6ad3c3ace8ab208097d783536f5acd82d561156",
    // ds-foreign
    "f007352c1696882ac8370643222c66c1c8ca319ada71b81f9205f91e5689fd96",
    // ds-intermediate
    "f5e9e89a91c77b6a6b43f15302aff14dac17ca0fb0550c5b26c6ce029ea6dbbb",
    // ds-link
    "339ce51869a69320a467e440433163057eb9eb3b0292baaae2cdaceaef9e2fb5",
    // ds-p384
    "d52d0d201317358c2cba93ed76e2d64212c2f4f4b36a95cd198686cf3c740090",
    // ds-revoked
    "2e0c8e5e3cb00a153ef1d42cbdfabc0de571d0b4dca2fd5e9297f07c02e80787",
    // ds-rogue
    "f751836e8e20266dcfeb100c868c4e06cbad952f7ada58676571697d60920f96",
    // ds-rsa-pss
    "a216130ef9ce30e2febd91bf1ff46bbdc357e03c93bca8f34aaf2cc369789203",
    // intermediate-ca
    "0ddf4c9a3e52deea95a85577b2f880259c358f6987c23e2e141f063ea923f725",
    // rogue-csca
    "a72ef516db4ebbee7d8e5c1f675dee05c7021addd53c338311184f1cf5791a79",
];

/// The SHA-256 of a certificate's SubjectPublicKeyInfo, in hex.
pub fn key_fingerprint(cert: &Certificate) -> String {
    hex::encode(Sha256::digest(cert.public_key.to_spki()))
}

/// Whether `cert` belongs to the published test PKI.
pub fn is_test_anchor(cert: &Certificate) -> bool {
    let named = |der: &[u8]| der.windows(TEST_PKI_NAME.len()).any(|w| w == TEST_PKI_NAME);
    named(&cert.subject.der)
        || named(&cert.issuer.der)
        || TEST_KEY_SHA256.contains(&key_fingerprint(cert).as_str())
}

/// The subjects of the test anchors in `store`.
pub fn test_anchors(store: &TrustStore) -> Vec<String> {
    store
        .certificates()
        .iter()
        .filter(|c| is_test_anchor(c))
        .map(|c| c.subject.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::certificate::Name;
    use crate::trust::store::parse_trust_file;

    fn fixture_certificates() -> Vec<(String, Certificate)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/pki");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".pem") || name.contains("key") || name.contains("crl") {
                continue;
            }
            let file = parse_trust_file(&std::fs::read(&path).unwrap(), &name).unwrap();
            for cert in file.certificates {
                out.push((name.clone(), cert));
            }
        }
        assert!(out.len() >= 14, "every test certificate read");
        out
    }

    #[test]
    fn every_test_certificate_is_known_by_its_key_alone() {
        for (name, mut cert) in fixture_certificates() {
            println!("{name} {}", key_fingerprint(&cert));
            assert!(is_test_anchor(&cert), "{name}");
            // Renamed, it is still caught by its key.
            cert.subject = Name::build(&[(crate::pki::oid::AT_COMMON_NAME, "CSCA Viet Nam")]);
            cert.issuer = cert.subject.clone();
            assert!(is_test_anchor(&cert), "{name} renamed");
        }
    }
}
