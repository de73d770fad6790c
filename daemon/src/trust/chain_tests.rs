//! The chain and country rules of passive authentication against certificates built
//! here from the test PKI: a CSCA of another country, vouching, intermediates that are
//! not CAs, have the wrong key usage, are revoked or not yet valid, inner and outer
//! signature algorithms that differ, and EF.CardSecurity.

use super::fixture_tests::{VN, at, codes, fixture_dir, pki, synthetic_card};
use super::passive::{CrlStatus, PassiveStatus, ProblemCode};
use super::*;
use crate::pki::Time;
use crate::pki::algorithm::AlgorithmIdentifier;
use crate::pki::certificate::{Certificate, Name};
use crate::pki::oid;
use crate::pki::signature::SignatureAlgorithm;
use crate::sim::issue::{
    PrivateKey, SodOptions, issue_crl, issue_sod, key_identifier, sign_signed_data,
};
use crate::sim::test_pki::{self, Issued, TestPki};
use apdu::asn1;
use apdu::ec::CurveId;
use apdu::hash::HashAlgorithm;
use apdu::rng::DeterministicRng;
use apdu::tlv;

const ECDSA_SHA256: SignatureAlgorithm = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);

fn date(y: i64, m: u32, d: u32) -> Time {
    Time::from_ymd_hms(y, m, d, 0, 0, 0).unwrap()
}

fn name(country: &str, cn: &str) -> Name {
    Name::build(&[(oid::AT_COUNTRY, country), (oid::AT_COMMON_NAME, cn)])
}

fn p256(label: &str) -> PrivateKey {
    PrivateKey::generate_ec(
        &mut DeterministicRng::new(b"chain", label),
        CurveId::P256,
        false,
    )
}

/// keyUsage bits as BIT STRING contents.
const KU_CA: &[u8] = &[0x01, 0x06]; // keyCertSign, cRLSign
const KU_DS: &[u8] = &[0x07, 0x80]; // digitalSignature

/// A certificate with exactly the extensions asked for (issue.rs always writes the
/// ICAO ones), signed with ECDSA-SHA256 by `issuer`, or by its own key.
struct Template<'a> {
    serial: u8,
    subject: Name,
    key: PrivateKey,
    issuer: Option<&'a Issued>,
    not_before: Time,
    not_after: Time,
    /// basicConstraints cA; `None`: no extension.
    ca: Option<bool>,
    /// keyUsage BIT STRING contents; `None`: no extension.
    key_usage: Option<&'a [u8]>,
    /// tbsCertificate.signature when it should differ from the outer one.
    inner: Option<AlgorithmIdentifier>,
    /// basicConstraints pathLenConstraint (with `ca: Some(true)`).
    path_len: Option<u8>,
    /// Further whole `Extension` elements.
    extensions: Vec<Vec<u8>>,
}

impl<'a> Template<'a> {
    fn new(serial: u8, subject: Name, key: PrivateKey, issuer: Option<&'a Issued>) -> Self {
        Template {
            serial,
            subject,
            key,
            issuer,
            not_before: date(2024, 1, 1),
            not_after: date(2034, 1, 1),
            ca: None,
            key_usage: None,
            inner: None,
            path_len: None,
            extensions: Vec::new(),
        }
    }

    fn ca(mut self) -> Self {
        self.ca = Some(true);
        self.key_usage = Some(KU_CA);
        self
    }

    fn ds(mut self) -> Self {
        self.key_usage = Some(KU_DS);
        self
    }

    fn build(self) -> Issued {
        let public = self.key.public_key().unwrap();
        let ski = key_identifier(&public);
        let (issuer_name, aki, signing_key) = match self.issuer {
            Some(i) => (
                i.certificate.subject.der.clone(),
                i.certificate.subject_key_id.clone().unwrap(),
                &i.key,
            ),
            None => (self.subject.der.clone(), ski.clone(), &self.key),
        };
        let ext = |id: oid::Oid, value: &[u8]| {
            asn1::sequence(&[&id.to_der(), &asn1::octet_string(value)])
        };
        let mut exts = vec![
            ext(
                oid::EXT_AUTHORITY_KEY_ID,
                &asn1::sequence(&[&tlv::encode(asn1::context_primitive(0), &aki)]),
            ),
            ext(oid::EXT_SUBJECT_KEY_ID, &asn1::octet_string(&ski)),
        ];
        if let Some(bits) = self.key_usage {
            exts.push(ext(
                oid::EXT_KEY_USAGE,
                &tlv::encode(asn1::BIT_STRING, bits),
            ));
        }
        if let Some(ca) = self.ca {
            let bc = if ca {
                let flag = tlv::encode(asn1::BOOLEAN, &[0xff]);
                match self.path_len {
                    Some(n) => asn1::sequence(&[&flag, &asn1::small_integer_der(n.into())]),
                    None => asn1::sequence(&[&flag]),
                }
            } else {
                asn1::sequence(&[])
            };
            exts.push(ext(oid::EXT_BASIC_CONSTRAINTS, &bc));
        }
        exts.extend(self.extensions);
        let refs: Vec<&[u8]> = exts.iter().map(Vec::as_slice).collect();
        let outer = ECDSA_SHA256.identifier().to_der();
        let inner = self
            .inner
            .map(|a| a.to_der())
            .unwrap_or_else(|| outer.clone());
        let tbs = asn1::sequence(&[
            &tlv::encode(asn1::context(0), &asn1::small_integer_der(2)),
            &asn1::integer(&[self.serial]),
            &inner,
            &issuer_name,
            &asn1::sequence(&[&self.not_before.to_der(), &self.not_after.to_der()]),
            &self.subject.der,
            &public.to_spki(),
            &tlv::encode(asn1::context(3), &asn1::sequence(&refs)),
        ]);
        let mut rng = DeterministicRng::new(b"chain", "sign");
        let signature = signing_key.sign(ECDSA_SHA256, &tbs, &mut rng).unwrap();
        let cert = asn1::sequence(&[&tbs, &outer, &asn1::bit_string(&signature)]);
        Issued {
            certificate: Certificate::from_der(&cert).unwrap(),
            key: self.key,
        }
    }
}

/// An EF.SOD over the synthetic card signed by `ds`, carrying `extra` certificates.
fn sod(ds: &Issued, extra: &[&Certificate]) -> Vec<u8> {
    let options = SodOptions {
        hash: HashAlgorithm::Sha256,
        signature: ECDSA_SHA256,
        version_info: None,
        extra_certificates: extra.iter().map(|c| (*c).clone()).collect(),
    };
    issue_sod(
        &synthetic_card(),
        &ds.certificate,
        &ds.key,
        &options,
        &mut DeterministicRng::new(b"chain", "sod"),
    )
    .unwrap()
}

fn store_of(certs: &[&Certificate]) -> TrustStore {
    let mut s = TrustStore::new();
    for c in certs {
        s.add_certificate((*c).clone());
    }
    s
}

/// A DS issued by `issuer`.
fn ds_under(issuer: &Issued, label: &str) -> Issued {
    Template::new(
        0x51,
        name("VN", &format!("DS {label}")),
        p256(label),
        Some(issuer),
    )
    .ds()
    .build()
}

/// A VN CSCA without pathLenConstraint: the fixture CSCA, like the CSCAs ICAO
/// profiles, has pathLenConstraint 0 and so admits no intermediate CA below it.
fn open_csca() -> Issued {
    Template::new(0x40, name("VN", "CSCA TEST open"), p256("open-csca"), None)
        .ca()
        .build()
}

/// A VN intermediate (link-style) certificate issued by [`open_csca`], adjusted by
/// `f`, and a DS under it.
fn intermediate(_p: &TestPki, f: impl FnOnce(Template) -> Template) -> (Issued, Issued) {
    let csca = open_csca();
    let t = Template::new(0x41, name("VN", "Link TEST"), p256("link"), Some(&csca));
    let link = f(t).build();
    let ds = ds_under(&link, "under link");
    (link, ds)
}

#[test]
fn trust_chain_intermediate_checks_pass_when_compliant() {
    let p = pki();
    let (link, ds) = intermediate(&p, |t| t.ca());
    let store = store_of(&[&p.csca.certificate, &open_csca().certificate]);
    let r = verify_passive(
        &sod(&ds, &[&link.certificate]),
        &synthetic_card(),
        &store,
        at(),
        VN,
    );
    assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
    assert!(r.problems.is_empty(), "{r:#?}");
    assert_eq!(r.chain, [link.certificate.subject.to_string()]);
    // keyUsage absent restricts nothing (RFC 5280 §4.2.1.3).
    let (link, ds) = intermediate(&p, |mut t| {
        t.ca = Some(true);
        t
    });
    let r = verify_passive(
        &sod(&ds, &[&link.certificate]),
        &synthetic_card(),
        &store,
        at(),
        VN,
    );
    assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
}

#[test]
fn trust_chain_intermediate_without_ca_is_invalid() {
    let p = pki();
    let store = store_of(&[&p.csca.certificate, &open_csca().certificate]);
    for ca in [None, Some(false)] {
        let (link, ds) = intermediate(&p, |mut t| {
            t.ca = ca;
            t.key_usage = Some(KU_CA);
            t
        });
        let r = verify_passive(
            &sod(&ds, &[&link.certificate]),
            &synthetic_card(),
            &store,
            at(),
            VN,
        );
        assert_eq!(r.status, PassiveStatus::Invalid, "{ca:?}: {r:#?}");
        assert_eq!(codes(&r), ["issuer-not-ca"], "{ca:?}");
        assert!(r.problems[0].message.contains("Link TEST"));
        // The chain is reported, not hidden behind "not found".
        assert!(r.csca.is_some());
    }
}

#[test]
fn trust_chain_wrong_key_usage_is_invalid() {
    let p = pki();
    let store = store_of(&[&p.csca.certificate, &open_csca().certificate]);
    // An intermediate that may only sign documents.
    let (link, ds) = intermediate(&p, |mut t| {
        t.ca = Some(true);
        t.key_usage = Some(KU_DS);
        t
    });
    let r = verify_passive(
        &sod(&ds, &[&link.certificate]),
        &synthetic_card(),
        &store,
        at(),
        VN,
    );
    assert_eq!(r.status, PassiveStatus::Invalid, "{r:#?}");
    assert_eq!(codes(&r), ["key-usage-invalid"]);
    assert!(r.problems[0].message.contains("keyCertSign"));
    // A DS that may only sign certificates.
    let mut t = Template::new(
        0x52,
        name("VN", "DS certsign"),
        p256("ds-ku"),
        Some(&p.csca),
    );
    t.key_usage = Some(KU_CA);
    let ds = t.build();
    let r = verify_passive(&sod(&ds, &[]), &synthetic_card(), &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::Invalid, "{r:#?}");
    assert_eq!(codes(&r), ["key-usage-invalid"]);
    assert!(r.problems[0].message.contains("digitalSignature"));
    // A DS without keyUsage at all is accepted.
    let ds = Template::new(0x53, name("VN", "DS no ku"), p256("ds-noku"), Some(&p.csca)).build();
    let r = verify_passive(&sod(&ds, &[]), &synthetic_card(), &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
}

#[test]
fn trust_chain_revoked_intermediate_is_invalid() {
    let p = pki();
    let (link, ds) = intermediate(&p, |t| t.ca());
    let open = open_csca();
    let crl = issue_crl(
        &open.certificate,
        &open.key,
        test_pki::CSCA_SIGNATURE,
        date(2025, 1, 1),
        date(2035, 1, 1),
        &[(link.certificate.serial.clone(), date(2025, 2, 1))],
        &mut DeterministicRng::new(b"chain", "crl"),
    )
    .unwrap();
    let mut store = store_of(&[&p.csca.certificate, &open_csca().certificate]);
    store.add_crl(p.crl.clone());
    store.add_crl(crl);
    let r = verify_passive(
        &sod(&ds, &[&link.certificate]),
        &synthetic_card(),
        &store,
        at(),
        VN,
    );
    assert_eq!(r.status, PassiveStatus::Invalid, "{r:#?}");
    assert_eq!(codes(&r), ["certificate-revoked"]);
    assert_eq!(r.crl, CrlStatus::Revoked);
    assert!(r.problems[0].message.contains("Link TEST"));
    // The DS itself under the revoked DS's CRL stays `ds-revoked`.
    let r = verify_passive(
        &sod(&p.ds_revoked, &[]),
        &synthetic_card(),
        &store,
        at(),
        VN,
    );
    assert_eq!(codes(&r), ["ds-revoked"]);
}

#[test]
fn trust_chain_intermediate_validity() {
    let p = pki();
    let store = store_of(&[&p.csca.certificate, &open_csca().certificate]);
    let (link, ds) = intermediate(&p, |mut t| {
        t.not_before = date(2026, 1, 1);
        t.ca()
    });
    let r = verify_passive(
        &sod(&ds, &[&link.certificate]),
        &synthetic_card(),
        &store,
        at(),
        VN,
    );
    assert_eq!(r.status, PassiveStatus::Invalid, "{r:#?}");
    // The DS, valid from 2024, predates the link that issued it.
    assert_eq!(
        codes(&r),
        [
            "certificate-not-yet-valid",
            "certificate-outside-issuer-validity"
        ]
    );
    let (link, ds) = intermediate(&p, |mut t| {
        t.not_after = date(2025, 1, 1);
        t.ca()
    });
    let r = verify_passive(
        &sod(&ds, &[&link.certificate]),
        &synthetic_card(),
        &store,
        at(),
        VN,
    );
    assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
    assert_eq!(codes(&r), ["intermediate-expired"]);
}

/// `t` with a tbsCertificate.signature that names another hash than the outer one.
fn mismatch(t: Template<'_>) -> Template<'_> {
    Template {
        inner: Some(SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha512).identifier()),
        ..t
    }
}

#[test]
fn trust_chain_inner_outer_algorithm_mismatch_is_invalid() {
    let p = pki();
    let store = store_of(&[&p.csca.certificate, &open_csca().certificate]);
    // On the DS.
    let ds =
        mismatch(Template::new(0x54, name("VN", "DS alg"), p256("ds-alg"), Some(&p.csca)).ds())
            .build();
    let r = verify_passive(&sod(&ds, &[]), &synthetic_card(), &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::Invalid, "{r:#?}");
    assert_eq!(codes(&r), ["signature-algorithm-mismatch"]);
    // On an intermediate.
    let (link, ds) = intermediate(&p, |t| mismatch(t.ca()));
    let r = verify_passive(
        &sod(&ds, &[&link.certificate]),
        &synthetic_card(),
        &store,
        at(),
        VN,
    );
    assert_eq!(codes(&r), ["signature-algorithm-mismatch"]);
    // Absent and NULL parameters are the same.
    let null = Template {
        inner: Some(AlgorithmIdentifier::new(
            oid::ECDSA_WITH_SHA256,
            Some(vec![0x05, 0x00]),
        )),
        ..Template::new(0x55, name("VN", "DS null"), p256("ds-null"), Some(&p.csca)).ds()
    }
    .build();
    assert!(null.certificate.signature_algorithms_agree());
    let r = verify_passive(&sod(&null, &[]), &synthetic_card(), &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
}

#[test]
fn trust_chain_country_mismatch_is_not_verified() {
    let p = pki();
    // A genuine German-looking CSCA signs a document claiming to be Vietnamese.
    let de = Template::new(0x61, name("DE", "CSCA TEST Germany"), p256("csca-de"), None)
        .ca()
        .build();
    let ds = ds_under(&de, "de");
    let store = store_of(&[&de.certificate]);
    let sod = sod(&ds, &[]);
    let r = verify_passive(&sod, &synthetic_card(), &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::NoTrustAnchor, "{r:#?}");
    assert_eq!(codes(&r), ["csca-country-mismatch"]);
    assert!(r.problems[0].message.contains("VNM"));
    // The same signature is fine for a German document, whose MRZ says `D`.
    for state in ["D", "D<<", "DEU"] {
        let r = verify_passive(&sod, &synthetic_card(), &store, at(), Some(state));
        assert_eq!(r.status, PassiveStatus::Valid, "{state}: {r:#?}");
    }
    // The fixtures under the wrong state, an organisation, a specimen, no state.
    let store = store_of(&[&p.csca.certificate, &open_csca().certificate]);
    let vn_sod = super::fixture_tests::sod_for(
        &p.ds,
        SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384),
        HashAlgorithm::Sha256,
        vec![],
    );
    for state in ["D", "UNO", "UTO", "XXA", "12"] {
        let r = verify_passive(&vn_sod, &synthetic_card(), &store, at(), Some(state));
        assert_eq!(r.status, PassiveStatus::NoTrustAnchor, "{state}");
        assert_eq!(codes(&r), ["csca-country-mismatch"], "{state}");
    }
    let r = verify_passive(&vn_sod, &synthetic_card(), &store, at(), None);
    assert_eq!(r.status, PassiveStatus::NoTrustAnchor);
    assert_eq!(codes(&r), ["issuing-state-unknown"]);
    // Invalid stays invalid whatever the state.
    let r = verify_passive(&sod_bad_sig(&vn_sod), &synthetic_card(), &store, at(), None);
    assert_eq!(r.status, PassiveStatus::Invalid);
}

fn sod_bad_sig(sod: &[u8]) -> Vec<u8> {
    let mut bad = sod.to_vec();
    if let Some(b) = bad.last_mut() {
        *b ^= 1;
    }
    bad
}

#[test]
fn trust_chain_link_anchor_is_bound_by_its_country() {
    let p = pki();
    // The link certificate in the store is the anchor; its C is VN.
    let store = store_of(&[&p.link]);
    let sod = sod(&p.ds_link, &[]);
    let r = verify_passive(&sod, &synthetic_card(), &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
    let r = verify_passive(&sod, &synthetic_card(), &store, at(), Some("D"));
    assert_eq!(codes(&r), ["csca-country-mismatch"]);
}

#[test]
fn trust_chain_vouching() {
    let p = pki();
    // A United Nations CSCA: its C=UN is not a country, UNO matches nothing by itself.
    let un = Template::new(
        0x71,
        name("UN", "CSCA TEST United Nations"),
        p256("un"),
        None,
    )
    .ca()
    .build();
    let ds = ds_under(&un, "un");
    let sod_un = sod(&ds, &[]);
    let pem = un.certificate.to_pem();
    let mut plain = TrustStore::new();
    plain.load_bytes(pem.as_bytes(), "un.pem").unwrap();
    let r = verify_passive(&sod_un, &synthetic_card(), &plain, at(), Some("UNO"));
    assert_eq!(codes(&r), ["csca-country-mismatch"]);
    let mut vouched = TrustStore::new();
    vouched
        .load_bytes_vouching(pem.as_bytes(), "un.pem", &["UNO".into(), "una".into()])
        .unwrap();
    assert_eq!(vouched.vouched_states(&un.certificate), ["UNA", "UNO"]);
    for state in ["UNO", "UNA"] {
        let r = verify_passive(&sod_un, &synthetic_card(), &vouched, at(), Some(state));
        assert_eq!(r.status, PassiveStatus::Valid, "{state}: {r:#?}");
    }
    // The vouch is for those states only.
    let r = verify_passive(&sod_un, &synthetic_card(), &vouched, at(), Some("UNK"));
    assert_eq!(codes(&r), ["csca-country-mismatch"]);
    // A path, vouching for one more state; the certificate already in the store (from
    // another file) gets the vouch too, and other certificates do not.
    let mut store = TrustStore::new();
    store.load_path(&fixture_dir().join("csca.pem")).unwrap();
    store
        .load_path_vouching(&fixture_dir().join("csca.pem"), &["XOM".into()])
        .unwrap();
    store.add_certificate(p.rogue_csca.certificate.clone());
    assert!(store.vouches_for(&p.csca.certificate, "XOM"));
    assert!(!store.vouches_for(&p.rogue_csca.certificate, "XOM"));
    let vn_sod = sod(&p.ds, &[]);
    for state in ["VNM", "XOM"] {
        let r = verify_passive(&vn_sod, &synthetic_card(), &store, at(), Some(state));
        assert_eq!(r.status, PassiveStatus::Valid, "{state}: {r:#?}");
    }
    // A code that is not one is refused.
    assert!(matches!(
        TrustStore::new().load_bytes_vouching(pem.as_bytes(), "un.pem", &["U N 0".into()]),
        Err(store::TrustError::BadIssuingState { .. })
    ));
}

#[test]
fn trust_chain_anchor_without_ca_prefers_a_compliant_twin() {
    // The same key certified twice as an anchor: once without cA (as 9 link
    // certificates of the German master list are), once as a proper CSCA.
    let key = p256("twin");
    let good = Template::new(0x81, name("VN", "CSCA TEST twin"), key.clone(), None)
        .ca()
        .build();
    let mut t = Template::new(0x82, name("VN", "CSCA TEST twin"), key, None);
    t.key_usage = Some(KU_CA);
    t.ca = Some(false);
    let bad = t.build();
    let ds = ds_under(&good, "twin");
    let sod = sod(&ds, &[]);
    for order in [[&bad, &good], [&good, &bad]] {
        let store = store_of(&[&order[0].certificate, &order[1].certificate]);
        let r = verify_passive(&sod, &synthetic_card(), &store, at(), VN);
        assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
        assert_eq!(r.csca.as_ref().unwrap().serial, "81");
    }
    // Alone, the non-CA anchor makes the chain invalid, not "not found".
    let store = store_of(&[&bad.certificate]);
    let r = verify_passive(&sod, &synthetic_card(), &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::Invalid, "{r:#?}");
    assert_eq!(codes(&r), ["issuer-not-ca"]);
}

/// A SecurityInfos SET (one PACEInfo-shaped element; the content is not interpreted).
fn security_infos() -> Vec<u8> {
    let pace = asn1::sequence(&[
        &oid::Oid::new("0.4.0.127.0.7.2.2.4.2.2").to_der(),
        &asn1::small_integer_der(2),
        &asn1::small_integer_der(13),
    ]);
    asn1::set_of(&[&pace])
}

fn card_security(p: &TestPki, content_type: oid::Oid, content: &[u8]) -> Vec<u8> {
    sign_signed_data(
        content_type,
        content,
        &p.ds.certificate,
        &p.ds.key,
        HashAlgorithm::Sha256,
        SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384),
        &[&p.ds.certificate],
        None,
        &mut DeterministicRng::new(b"chain", "card security"),
    )
    .unwrap()
}

#[test]
fn trust_card_security() {
    let p = pki();
    let mut store = store_of(&[&p.csca.certificate, &open_csca().certificate]);
    store.add_crl(p.crl.clone());
    let infos = security_infos();
    let cs = card_security(&p, oid::ID_SECURITY_OBJECT, &infos);
    let r = verify_card_security(&cs, &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
    assert!(r.problems.is_empty());
    assert_eq!(r.security_infos.as_deref(), Some(infos.as_slice()));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["status"], "valid");
    assert!(json.get("security_infos").is_none());

    // No trust anchor, or another country: the signature holds, the content is
    // returned for the caller to weigh against `status`.
    for (store, state) in [(&TrustStore::new(), VN), (&store, Some("D"))] {
        let r = verify_card_security(&cs, store, at(), state);
        assert_eq!(r.status, PassiveStatus::NoTrustAnchor, "{r:#?}");
        assert!(r.security_infos.is_some());
    }
    let r = verify_card_security(&cs, &store, at(), None);
    assert_eq!(r.problems[0].code, ProblemCode::IssuingStateUnknown);

    // A broken signature: invalid, no content.
    let r = verify_card_security(&sod_bad_sig(&cs), &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::Invalid, "{r:#?}");
    assert_eq!(r.problems[0].code, ProblemCode::SodSignatureInvalid);
    assert!(r.security_infos.is_none());

    // Not a CardSecurity: wrong content type, content not a SET, garbage, too large,
    // an EF.SOD (0x77 wrapper).
    let malformed = [
        card_security(&p, oid::LDS_SECURITY_OBJECT, &infos),
        card_security(&p, oid::ID_SECURITY_OBJECT, &asn1::sequence(&[&infos])),
        vec![0x30, 0x03, 0x02, 0x01, 0x00],
        Vec::new(),
        [cs.clone(), vec![0; passive::MAX_CARD_SECURITY_LEN]].concat(),
        super::fixture_tests::sod_for(
            &p.ds,
            SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384),
            HashAlgorithm::Sha256,
            vec![],
        ),
    ];
    for (i, bytes) in malformed.iter().enumerate() {
        let r = verify_card_security(bytes, &store, at(), VN);
        assert_eq!(r.status, PassiveStatus::Invalid, "#{i}: {r:#?}");
        assert_eq!(codes_of(&r.problems), ["card-security-malformed"], "#{i}");
        assert!(r.security_infos.is_none());
    }
    // Every byte's top bit flipped: never valid, never a panic. (Other flips can leave
    // it valid: CMS does not sign the SignedData's digestAlgorithms set.)
    let unsigned = {
        let version = [0x02, 0x01, 0x03, 0x31];
        let at = cs.windows(4).position(|w| w == version).unwrap() + 3;
        at..at + 2 + usize::from(cs[at + 1])
    };
    for pos in (0..cs.len()).filter(|p| !unsigned.contains(p)) {
        let mut t = cs.clone();
        t[pos] ^= 0x80;
        let r = verify_card_security(&t, &store, at(), VN);
        assert!(r.status != PassiveStatus::Valid || t == cs, "byte {pos}");
    }
}

fn codes_of(problems: &[passive::Problem]) -> Vec<&'static str> {
    problems.iter().map(|p| p.code.as_str()).collect()
}

/// A whole `Extension` element, its OID given as encoded (so that it can be one this
/// reader refuses).
fn extension(oid_der: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let o = oid_der.to_vec();
    let v = asn1::octet_string(value);
    if critical {
        asn1::sequence(&[&o, &tlv::encode(asn1::BOOLEAN, &[0xff]), &v])
    } else {
        asn1::sequence(&[&o, &v])
    }
}

#[test]
fn trust_chain_path_length_is_enforced() {
    let p = pki();
    assert_eq!(p.csca.certificate.path_len_constraint(), Some(0));
    let store = store_of(&[&p.csca.certificate, &open_csca().certificate]);
    // A CA certificate the fixture CSCA (pathLenConstraint 0) issued, carried on the
    // card as an intermediate: the CSCA admits none.
    let t = Template::new(0x42, name("VN", "Sub CA TEST"), p256("sub"), Some(&p.csca)).ca();
    let sub = t.build();
    let ds = ds_under(&sub, "under sub");
    let r = verify_passive(
        &sod(&ds, &[&sub.certificate]),
        &synthetic_card(),
        &store,
        at(),
        VN,
    );
    assert_eq!(r.status, PassiveStatus::Invalid, "{r:#?}");
    assert_eq!(codes(&r), ["path-length-exceeded"]);
    assert!(r.problems[0].message.contains("CSCA TEST Vietnam"));
    // The same through the fixture's intermediate CA.
    let r = verify_passive(
        &sod(&p.ds_intermediate, &[&p.intermediate_ca.certificate]),
        &synthetic_card(),
        &store,
        at(),
        VN,
    );
    assert_eq!(codes(&r), ["path-length-exceeded"], "{r:#?}");
    // A self-issued link certificate does not count (RFC 5280 §6.1.4 (l)): the
    // fixture's link to the new CSCA key stays valid under the same CSCA.
    let r = verify_passive(
        &sod(&p.ds_link, &[&p.link]),
        &synthetic_card(),
        &store,
        at(),
        VN,
    );
    assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
    assert!(r.problems.is_empty(), "{r:#?}");
    // Two intermediates under a CSCA without limit: the upper one's
    // pathLenConstraint 0 forbids the lower one; 1 allows it.
    for (limit, expected) in [(0u8, vec!["path-length-exceeded"]), (1, vec![])] {
        let (upper, _) = intermediate(&p, |mut t| {
            t.path_len = Some(limit);
            t.ca()
        });
        let lower = Template::new(0x43, name("VN", "Lower TEST"), p256("lower"), Some(&upper))
            .ca()
            .build();
        let ds = ds_under(&lower, "under lower");
        let r = verify_passive(
            &sod(&ds, &[&lower.certificate, &upper.certificate]),
            &synthetic_card(),
            &store,
            at(),
            VN,
        );
        assert_eq!(codes(&r), expected, "pathLen {limit}: {r:#?}");
        assert_eq!(r.chain.len(), 2);
    }
}

#[test]
fn trust_chain_unknown_critical_extension_is_invalid() {
    let p = pki();
    let store = store_of(&[&p.csca.certificate, &open_csca().certificate]);
    // An extension nobody here knows, and one whose OID is longer than this reader holds
    // (70 octets): both are unknown when critical.
    let private = oid::Oid::new("1.3.6.1.4.1.99999.1").to_der();
    let long = tlv::encode(
        asn1::OBJECT_IDENTIFIER,
        &[[0x2b].as_slice(), &[0x01; 69]].concat(),
    );
    for (id, critical) in [
        (&private, true),
        (&private, false),
        (&long, true),
        (&long, false),
    ] {
        let mut t = Template::new(0x56, name("VN", "DS ext"), p256("ds-ext"), Some(&p.csca)).ds();
        t.extensions = vec![extension(id, critical, &asn1::small_integer_der(1))];
        let ds = t.build();
        assert_eq!(
            ds.certificate.unknown_critical_extensions().len(),
            usize::from(critical)
        );
        let r = verify_passive(&sod(&ds, &[]), &synthetic_card(), &store, at(), VN);
        if critical {
            assert_eq!(r.status, PassiveStatus::Invalid, "{r:#?}");
            assert_eq!(codes(&r), ["unknown-critical-extension"]);
        } else {
            assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
        }
    }
    // On an intermediate: name constraints are not enforced here, so a critical one
    // is not understood.
    let nc = asn1::sequence(&[&tlv::encode(
        asn1::context(0),
        &asn1::sequence(&[&tlv::encode(asn1::context(4), &name("VN", "x").der)]),
    )]);
    let (link, ds) = intermediate(&p, |mut t| {
        t.extensions = vec![extension(&oid::EXT_NAME_CONSTRAINTS.to_der(), true, &nc)];
        t.ca()
    });
    let r = verify_passive(
        &sod(&ds, &[&link.certificate]),
        &synthetic_card(),
        &store,
        at(),
        VN,
    );
    assert_eq!(codes(&r), ["unknown-critical-extension"], "{r:#?}");
    assert!(r.problems[0].message.contains("Link TEST"));
}

#[test]
fn trust_chain_validity_begins_within_the_issuers() {
    let p = pki();
    let store = store_of(&[&p.csca.certificate, &open_csca().certificate]);
    // A DS whose validity begins before the CSCA's.
    let mut t = Template::new(
        0x57,
        name("VN", "DS early"),
        p256("ds-early"),
        Some(&p.csca),
    );
    t.not_before = date(2023, 6, 1);
    let r = verify_passive(
        &sod(&t.ds().build(), &[]),
        &synthetic_card(),
        &store,
        at(),
        VN,
    );
    assert_eq!(r.status, PassiveStatus::Invalid, "{r:#?}");
    assert_eq!(codes(&r), ["certificate-outside-issuer-validity"]);
    // A DS certified after its intermediate had expired: an expired intermediate is
    // a warning, but its retired key may not issue.
    let (link, _) = intermediate(&p, |mut t| {
        t.not_after = date(2025, 1, 1);
        t.ca()
    });
    let mut t = Template::new(0x58, name("VN", "DS late"), p256("ds-late"), Some(&link));
    t.not_before = date(2025, 3, 1);
    let ds = t.ds().build();
    let r = verify_passive(
        &sod(&ds, &[&link.certificate]),
        &synthetic_card(),
        &store,
        at(),
        VN,
    );
    assert_eq!(r.status, PassiveStatus::Invalid, "{r:#?}");
    assert_eq!(
        codes(&r),
        [
            "intermediate-expired",
            "certificate-outside-issuer-validity"
        ]
    );
    assert!(r.problems[1].message.contains("DS late"));
}

/// An EF.SOD over the synthetic card signed by `ds` with a signingTime attribute.
fn sod_signed_at(ds: &Issued, signed_at: Time) -> Vec<u8> {
    let lso =
        crate::lds::sod::LdsSecurityObject::new(HashAlgorithm::Sha256, &synthetic_card(), None);
    let ci = sign_signed_data(
        oid::LDS_SECURITY_OBJECT,
        &lso.to_der(),
        &ds.certificate,
        &ds.key,
        HashAlgorithm::Sha256,
        ECDSA_SHA256,
        &[&ds.certificate],
        Some(signed_at),
        &mut DeterministicRng::new(b"chain", "signed at"),
    )
    .unwrap();
    crate::lds::sod::Sod::wrap(&ci)
}

#[test]
fn trust_chain_signing_time_lies_within_the_ds() {
    let p = pki();
    let store = store_of(&[&p.csca.certificate]);
    // A DS that served 2024 and has expired since.
    let mut t = Template::new(0x59, name("VN", "DS 2024"), p256("ds-2024"), Some(&p.csca));
    t.not_after = date(2025, 1, 1);
    let ds = t.ds().build();
    // Signed while it served: expired now, which a document outlives.
    let r = verify_passive(
        &sod_signed_at(&ds, date(2024, 6, 1)),
        &synthetic_card(),
        &store,
        at(),
        VN,
    );
    assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
    assert_eq!(codes(&r), ["ds-expired"]);
    // Signed after it expired, or before it began.
    for signed_at in [date(2025, 3, 1), date(2023, 12, 1)] {
        let r = verify_passive(
            &sod_signed_at(&ds, signed_at),
            &synthetic_card(),
            &store,
            at(),
            VN,
        );
        assert_eq!(r.status, PassiveStatus::Invalid, "{signed_at}: {r:#?}");
        assert!(
            codes(&r).contains(&"signing-time-outside-validity"),
            "{signed_at}: {r:#?}"
        );
    }
}

#[test]
fn trust_chain_signing_time_lies_within_the_private_key_usage_period() {
    let p = pki();
    let store = store_of(&[&p.csca.certificate]);
    // Valid 2024 to 2034, but the key may sign only until April 2024.
    let pkup = asn1::sequence(&[
        &tlv::encode(asn1::context_primitive(0), b"20240101000000Z"),
        &tlv::encode(asn1::context_primitive(1), b"20240401000000Z"),
    ]);
    let mut t = Template::new(0x5a, name("VN", "DS pkup"), p256("ds-pkup"), Some(&p.csca));
    t.extensions = vec![extension(
        &oid::EXT_PRIVATE_KEY_USAGE_PERIOD.to_der(),
        false,
        &pkup,
    )];
    let ds = t.ds().build();
    let period = ds.certificate.private_key_usage_period().unwrap().unwrap();
    assert_eq!(period.not_after, Some(date(2024, 4, 1)));
    let r = verify_passive(
        &sod_signed_at(&ds, date(2024, 3, 1)),
        &synthetic_card(),
        &store,
        at(),
        VN,
    );
    assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
    assert!(r.problems.is_empty(), "{r:#?}");
    let r = verify_passive(
        &sod_signed_at(&ds, date(2025, 1, 1)),
        &synthetic_card(),
        &store,
        at(),
        VN,
    );
    assert_eq!(r.status, PassiveStatus::Invalid, "{r:#?}");
    assert_eq!(codes(&r), ["signing-time-outside-validity"]);
    assert!(r.problems[0].message.contains("private key usage period"));
    // Without a signingTime there is nothing to place in the period.
    let r = verify_passive(&sod(&ds, &[]), &synthetic_card(), &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
    // A period that does not decode cannot vouch for the signing time.
    let mut t = Template::new(
        0x5b,
        name("VN", "DS bad pkup"),
        p256("ds-bad"),
        Some(&p.csca),
    );
    t.extensions = vec![extension(
        &oid::EXT_PRIVATE_KEY_USAGE_PERIOD.to_der(),
        false,
        &asn1::sequence(&[]),
    )];
    let ds = t.ds().build();
    let r = verify_passive(
        &sod_signed_at(&ds, date(2024, 3, 1)),
        &synthetic_card(),
        &store,
        at(),
        VN,
    );
    assert_eq!(codes(&r), ["signing-time-outside-validity"], "{r:#?}");
}
