//! The test PKI of `fixtures/pki`: a Vietnamese-style CSCA on brainpoolP512r1 with
//! explicit parameters, document signers on P-384 and RSA-PSS 3072, and the variants
//! the tests need (expired DS, revoked DS with its CRL, a CSCA key rollover with a
//! link certificate, a rogue CSCA with the same name, a CSCA of another country with its
//! DS, and a revoked intermediate CA with a DS under it). TEST ONLY: the private keys are
//! published in the repository.
//!
//! [`generate`] is deterministic: the same build gives byte-identical files.

use super::issue::{CertificateTemplate, IssueError, PrivateKey, issue_certificate, issue_crl};
use crate::pki::certificate::{Certificate, Name};
use crate::pki::crl::Crl;
use crate::pki::oid;
use crate::pki::signature::SignatureAlgorithm;
use crate::pki::time::Time;
use apdu::ec::CurveId;
use apdu::hash::HashAlgorithm;
use apdu::rng::DeterministicRng;
use std::path::Path;

/// The seed of every key and signature of the test PKI.
pub const SEED: &[u8] = b"cancuoc test PKI v1 -- TEST ONLY, NOT FOR PRODUCTION";

/// A certificate with its private key.
#[derive(Debug, Clone)]
pub struct Issued {
    pub certificate: Certificate,
    pub key: PrivateKey,
}

/// Every object of the test PKI.
#[derive(Debug, Clone)]
pub struct TestPki {
    /// The trust anchor: brainpoolP512r1, explicit parameters, ecdsa-with-SHA512.
    pub csca: Issued,
    /// DS on P-384 (named curve), valid 2024-01-01 to 2034-04-01.
    pub ds: Issued,
    /// DS on RSA 3072, for RSA-PSS SODs.
    pub ds_rsa_pss: Issued,
    /// DS valid 2012-01-01 to 2022-04-01.
    pub ds_expired: Issued,
    /// DS listed on `crl`.
    pub ds_revoked: Issued,
    /// The CSCA's CRL, revoking `ds_revoked` and `intermediate_ca`.
    pub crl: Crl,
    /// The CSCA's next key (same name, new key), self-signed.
    pub csca_2: Issued,
    /// The new CSCA key certified by the old one.
    pub link: Certificate,
    /// DS issued by the new CSCA key.
    pub ds_link: Issued,
    /// A CSCA with the same name as `csca` but another key.
    pub rogue_csca: Issued,
    /// DS issued by the rogue CSCA.
    pub ds_rogue: Issued,
    /// A CSCA of another country (C=FR), for a VNM card signed abroad.
    pub csca_foreign: Issued,
    /// DS issued by the foreign CSCA.
    pub ds_foreign: Issued,
    /// An intermediate CA (cA=TRUE, keyCertSign) issued by the CSCA, listed on `crl`.
    pub intermediate_ca: Issued,
    /// DS issued by the intermediate CA.
    pub ds_intermediate: Issued,
}

fn name(cn: &str) -> Name {
    name_in("VN", cn)
}

fn name_in(country: &str, cn: &str) -> Name {
    Name::build(&[
        (oid::AT_COUNTRY, country),
        (
            oid::AT_ORGANIZATION,
            "cancuoc TEST PKI - not a real authority",
        ),
        (oid::AT_COMMON_NAME, cn),
    ])
}

fn date(y: i64, m: u32, d: u32) -> Time {
    Time::from_ymd_hms(y, m, d, 0, 0, 0).unwrap_or(Time(0))
}

/// The intermediate CA's signature scheme (its key is on P-384).
pub const INTERMEDIATE_SIGNATURE: SignatureAlgorithm =
    SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384);

/// The CSCA signature scheme.
pub const CSCA_SIGNATURE: SignatureAlgorithm = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha512);
/// The RSA-PSS DS's SOD signature scheme.
pub const PSS_SIGNATURE: SignatureAlgorithm = SignatureAlgorithm::RsaPss {
    hash: HashAlgorithm::Sha256,
    salt_len: 32,
};

/// Generates the whole test PKI from [`SEED`].
pub fn generate() -> Result<TestPki, IssueError> {
    let rng = |label: &str| DeterministicRng::new(SEED, label);
    let self_signed_in = |label: &str,
                          subject: Name,
                          serial: u8,
                          from: Time,
                          to: Time|
     -> Result<Issued, IssueError> {
        let key = PrivateKey::generate_ec(
            &mut rng(&format!("{label} key")),
            CurveId::BrainpoolP512r1,
            true,
        );
        let t = CertificateTemplate {
            serial: vec![serial],
            subject,
            not_before: from,
            not_after: to,
            public_key: key.public_key()?,
            ca: true,
        };
        let certificate = issue_certificate(
            &t,
            None,
            &key,
            CSCA_SIGNATURE,
            &mut rng(&format!("{label} cert")),
        )?;
        Ok(Issued { certificate, key })
    };
    let self_signed = |label: &str, cn: &str, serial: u8, from: Time, to: Time| {
        self_signed_in(label, name(cn), serial, from, to)
    };
    let issued_by = |label: &str,
                     subject: Name,
                     serial: u8,
                     key: PrivateKey,
                     issuer: &Issued,
                     alg: SignatureAlgorithm,
                     from: Time,
                     to: Time|
     -> Result<Issued, IssueError> {
        let t = CertificateTemplate {
            serial: vec![serial],
            subject,
            not_before: from,
            not_after: to,
            public_key: key.public_key()?,
            ca: false,
        };
        let certificate = issue_certificate(
            &t,
            Some(&issuer.certificate),
            &issuer.key,
            alg,
            &mut rng(&format!("{label} cert")),
        )?;
        Ok(Issued { certificate, key })
    };
    let ds = |label: &str,
              cn: &str,
              serial: u8,
              key: PrivateKey,
              issuer: &Issued,
              from: Time,
              to: Time| {
        issued_by(
            label,
            name(cn),
            serial,
            key,
            issuer,
            CSCA_SIGNATURE,
            from,
            to,
        )
    };
    let p384 = |label: &str| {
        PrivateKey::generate_ec(&mut rng(&format!("{label} key")), CurveId::P384, false)
    };

    let csca = self_signed(
        "csca",
        "CSCA TEST Vietnam",
        1,
        date(2024, 1, 1),
        date(2039, 1, 1),
    )?;
    let ds_main = ds(
        "ds",
        "DS TEST Vietnam P-384",
        0x11,
        p384("ds"),
        &csca,
        date(2024, 1, 1),
        date(2034, 4, 1),
    )?;
    let rsa_key = PrivateKey::generate_rsa(&mut rng("ds-rsa-pss key"), 3072)?;
    let ds_rsa_pss = ds(
        "ds-rsa-pss",
        "DS TEST Vietnam RSA-PSS",
        0x12,
        rsa_key,
        &csca,
        date(2024, 1, 1),
        date(2034, 4, 1),
    )?;
    let ds_expired = ds(
        "ds-expired",
        "DS TEST Vietnam expired",
        0x13,
        p384("ds-expired"),
        &csca,
        date(2012, 1, 1),
        date(2022, 4, 1),
    )?;
    let ds_revoked = ds(
        "ds-revoked",
        "DS TEST Vietnam revoked",
        0x14,
        p384("ds-revoked"),
        &csca,
        date(2024, 1, 1),
        date(2034, 4, 1),
    )?;
    let csca_2 = self_signed(
        "csca-2",
        "CSCA TEST Vietnam",
        2,
        date(2025, 1, 1),
        date(2040, 1, 1),
    )?;
    let link_template = CertificateTemplate {
        serial: vec![3],
        subject: csca_2.certificate.subject.clone(),
        not_before: date(2025, 1, 1),
        not_after: date(2039, 1, 1),
        public_key: csca_2.certificate.public_key.clone(),
        ca: true,
    };
    let link = issue_certificate(
        &link_template,
        Some(&csca.certificate),
        &csca.key,
        CSCA_SIGNATURE,
        &mut rng("link cert"),
    )?;
    let ds_link = ds(
        "ds-link",
        "DS TEST Vietnam new CSCA key",
        0x21,
        p384("ds-link"),
        &csca_2,
        date(2025, 1, 1),
        date(2035, 4, 1),
    )?;

    let rogue_csca = self_signed(
        "rogue-csca",
        "CSCA TEST Vietnam",
        9,
        date(2024, 1, 1),
        date(2039, 1, 1),
    )?;
    let ds_rogue = ds(
        "ds-rogue",
        "DS TEST Vietnam P-384",
        0x11,
        p384("ds-rogue"),
        &rogue_csca,
        date(2024, 1, 1),
        date(2034, 4, 1),
    )?;

    // A CSCA of another country, and a DS under it (for a VNM card signed abroad).
    let csca_foreign = self_signed_in(
        "csca-foreign",
        name_in("FR", "CSCA TEST France"),
        0x31,
        date(2024, 1, 1),
        date(2039, 1, 1),
    )?;
    let ds_foreign = issued_by(
        "ds-foreign",
        name_in("FR", "DS TEST France P-384"),
        0x32,
        p384("ds-foreign"),
        &csca_foreign,
        CSCA_SIGNATURE,
        date(2024, 1, 1),
        date(2034, 4, 1),
    )?;

    // An intermediate CA under the CSCA (revoked on the CRL), and a DS it issued.
    let intermediate_key = p384("intermediate-ca");
    let intermediate_template = CertificateTemplate {
        serial: vec![0x41],
        subject: name("Intermediate CA TEST Vietnam"),
        not_before: date(2024, 1, 1),
        not_after: date(2036, 1, 1),
        public_key: intermediate_key.public_key()?,
        ca: true,
    };
    let intermediate_ca = Issued {
        certificate: issue_certificate(
            &intermediate_template,
            Some(&csca.certificate),
            &csca.key,
            CSCA_SIGNATURE,
            &mut rng("intermediate-ca cert"),
        )?,
        key: intermediate_key,
    };
    let ds_intermediate = issued_by(
        "ds-intermediate",
        name("DS TEST Vietnam via intermediate CA"),
        0x42,
        p384("ds-intermediate"),
        &intermediate_ca,
        INTERMEDIATE_SIGNATURE,
        date(2024, 1, 1),
        date(2034, 4, 1),
    )?;

    let crl = issue_crl(
        &csca.certificate,
        &csca.key,
        CSCA_SIGNATURE,
        date(2025, 1, 1),
        date(2035, 1, 1),
        &[
            (ds_revoked.certificate.serial.clone(), date(2024, 6, 1)),
            (intermediate_ca.certificate.serial.clone(), date(2024, 9, 1)),
        ],
        &mut rng("crl"),
    )?;

    Ok(TestPki {
        csca,
        ds: ds_main,
        ds_rsa_pss,
        ds_expired,
        ds_revoked,
        crl,
        csca_2,
        link,
        ds_link,
        rogue_csca,
        ds_rogue,
        csca_foreign,
        ds_foreign,
        intermediate_ca,
        ds_intermediate,
    })
}

impl TestPki {
    /// The files of `fixtures/pki`: name and contents.
    pub fn files(&self) -> Result<Vec<(String, Vec<u8>)>, IssueError> {
        let mut out = Vec::new();
        let mut pair = |base: &str, issued: &Issued| -> Result<(), IssueError> {
            out.push((
                format!("{base}.pem"),
                issued.certificate.to_pem().into_bytes(),
            ));
            out.push((format!("{base}.key.pem"), issued.key.to_pem()?.into_bytes()));
            Ok(())
        };
        pair("csca", &self.csca)?;
        pair("ds-p384", &self.ds)?;
        pair("ds-rsa-pss", &self.ds_rsa_pss)?;
        pair("ds-expired", &self.ds_expired)?;
        pair("ds-revoked", &self.ds_revoked)?;
        pair("csca-2", &self.csca_2)?;
        pair("ds-link", &self.ds_link)?;
        pair("rogue-csca", &self.rogue_csca)?;
        pair("ds-rogue", &self.ds_rogue)?;
        pair("csca-foreign", &self.csca_foreign)?;
        pair("ds-foreign", &self.ds_foreign)?;
        pair("intermediate-ca", &self.intermediate_ca)?;
        pair("ds-intermediate", &self.ds_intermediate)?;
        out.push(("csca.crl.pem".into(), self.crl.to_pem().into_bytes()));
        out.push(("link-csca-2.pem".into(), self.link.to_pem().into_bytes()));
        Ok(out)
    }

    /// Reads the committed files back (what the simulator and the tests use).
    pub fn load(dir: &Path) -> Result<TestPki, IssueError> {
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map_err(|e| IssueError::BadKey(format!("{}: {e}", dir.join(name).display())))
        };
        let cert = |name: &str| -> Result<Certificate, IssueError> {
            let data = read(name)?;
            let (_, block) = crate::pki::pem::decode_all(&data)
                .into_iter()
                .next()
                .ok_or_else(|| IssueError::BadKey(format!("{name}: no PEM")))?;
            let der = block.map_err(IssueError::BadKey)?;
            Ok(Certificate::from_der(&der)?)
        };
        let issued = |base: &str| -> Result<Issued, IssueError> {
            Ok(Issued {
                certificate: cert(&format!("{base}.pem"))?,
                key: PrivateKey::from_pem(&read(&format!("{base}.key.pem"))?)?,
            })
        };
        let crl_pem = read("csca.crl.pem")?;
        let crl_der = crate::pki::pem::decode_all(&crl_pem)
            .into_iter()
            .next()
            .ok_or_else(|| IssueError::BadKey("csca.crl.pem: no PEM".into()))?
            .1
            .map_err(IssueError::BadKey)?;
        Ok(TestPki {
            csca: issued("csca")?,
            ds: issued("ds-p384")?,
            ds_rsa_pss: issued("ds-rsa-pss")?,
            ds_expired: issued("ds-expired")?,
            ds_revoked: issued("ds-revoked")?,
            crl: Crl::from_der(&crl_der)?,
            csca_2: issued("csca-2")?,
            link: cert("link-csca-2.pem")?,
            ds_link: issued("ds-link")?,
            rogue_csca: issued("rogue-csca")?,
            ds_rogue: issued("ds-rogue")?,
            csca_foreign: issued("csca-foreign")?,
            ds_foreign: issued("ds-foreign")?,
            intermediate_ca: issued("intermediate-ca")?,
            ds_intermediate: issued("ds-intermediate")?,
        })
    }
}
