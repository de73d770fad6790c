//! X.509 certificate and CRL parsing, summaries, extensions and self-signature checks on
//! hostile bytes.
#![no_main]
use cancuoc::trust::passive::CertificateSummary;
use cancuoc::pki::signature::{SignatureAlgorithm, verify};
use cancuoc::pki::{Certificate, Crl};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cert) = Certificate::from_der(data) {
        let _ = serde_json::to_string(&CertificateSummary::of(&cert));
        if let Ok(alg) = SignatureAlgorithm::from_identifier(&cert.signature_algorithm, None) {
            let _ = verify(alg, &cert.public_key, cert.tbs(), &cert.signature);
        }
        let _ = cert.to_pem();
        let _ = cert.path_len_constraint();
        let _ = cert.private_key_usage_period();
        let _ = cert.unknown_critical_extensions();
    }
    let _ = cancuoc::pki::certificate::KeyUsagePeriod::from_der(data);
    if let Ok(crl) = Crl::from_der(data) {
        let _ = crl.revoked_serials();
    }
    let _ = cancuoc::pki::pem::decode_all(data);
});
