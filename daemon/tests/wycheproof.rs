//! Project Wycheproof against the product's own verifiers.
//!
//! Every case of every ECDSA (DER and IEEE P1363), RSA PKCS#1 v1.5, RSA-PSS and ECDH file in
//! `$CANCUOC_SHARED/vectors/wycheproof/` (default `../shared` beside the workspace; read in
//! place, never copied) goes through the code that decides a verdict:
//!
//! - EF.SOD and certificate signatures: `pki::signature::verify`, with the key parsed by
//!   `PublicKey::from_spki` and, for RSA-PSS, the parameters read back from the
//!   AlgorithmIdentifier as a SignerInfo carries them;
//! - active authentication (ECDSA plain r‖s): `AaPublicKey::from_spki` and `verify`, for the
//!   P1363 files;
//! - key agreement (PACE and chip authentication): `ChipPublicKey::from_spki` for the peer's
//!   SubjectPublicKeyInfo, then `Group::shared_secret` on the agreed curve.
//!
//! Per file it counts valid accepted, invalid rejected, acceptable (either way, split) and
//! unsupported, prints the table (`--nocapture`) and fails on any other outcome, naming
//! the tcId and Wycheproof's comment. Every curve and hash in these files (NIST P-224 to
//! P-521, brainpoolP224r1 to P512r1, SHA-224 to SHA-512, RSA 2048 to 4096) is in ICAO
//! 9303's set, so no valid case may be rejected as unsupported: [`OUTSIDE_ICAO`] is empty.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use apdu::active_auth::AaPublicKey;
use apdu::asn1;
use apdu::asn1::Oid;
use apdu::chip_auth::ChipPublicKey;
use apdu::ec::CurveId;
use apdu::hash::HashAlgorithm;
use apdu::key_agreement::Group;
use apdu::security_infos::ActiveAuthenticationInfo;
use apdu::tlv::Tlv;
use cancuoc::pki::key::{self, PublicKey};
use cancuoc::pki::signature::{self, SigError, SignatureAlgorithm};
use serde_json::Value;

/// Files whose curve or hash lies outside ICAO 9303's set: only there may a valid case be
/// rejected as unsupported. None of the files in the folder qualifies.
const OUTSIDE_ICAO: &[&str] = &[];

const EC_SIGNATURE_FILES: [&str; 9] = [
    "brainpoolP224r1_sha224",
    "brainpoolP256r1_sha256",
    "brainpoolP320r1_sha384",
    "brainpoolP384r1_sha384",
    "brainpoolP512r1_sha512",
    "secp224r1_sha224",
    "secp256r1_sha256",
    "secp384r1_sha384",
    "secp521r1_sha512",
];

const ECDH_CURVES: [(&str, CurveId); 9] = [
    ("brainpoolP224r1", CurveId::BrainpoolP224r1),
    ("brainpoolP256r1", CurveId::BrainpoolP256r1),
    ("brainpoolP320r1", CurveId::BrainpoolP320r1),
    ("brainpoolP384r1", CurveId::BrainpoolP384r1),
    ("brainpoolP512r1", CurveId::BrainpoolP512r1),
    ("secp224r1", CurveId::P224),
    ("secp256r1", CurveId::P256),
    ("secp384r1", CurveId::P384),
    ("secp521r1", CurveId::P521),
];

const RSA_PKCS1_FILES: [&str; 9] = [
    "rsa_signature_2048_sha256",
    "rsa_signature_2048_sha384",
    "rsa_signature_2048_sha512",
    "rsa_signature_3072_sha256",
    "rsa_signature_3072_sha384",
    "rsa_signature_3072_sha512",
    "rsa_signature_4096_sha256",
    "rsa_signature_4096_sha384",
    "rsa_signature_4096_sha512",
];

const RSA_PSS_FILES: [&str; 5] = [
    "rsa_pss_2048_sha256_mgf1_32",
    "rsa_pss_2048_sha384_mgf1_48",
    "rsa_pss_3072_sha256_mgf1_32",
    "rsa_pss_4096_sha256_mgf1_32",
    "rsa_pss_4096_sha512_mgf1_64",
];

/// The Wycheproof folder.
fn wycheproof_dir() -> PathBuf {
    std::env::var_os("CANCUOC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared")))
        .join("vectors/wycheproof")
}

/// One decompressed, parsed vector file; panics naming the file when it is missing.
fn load(name: &str) -> Value {
    let path = wycheproof_dir().join(format!("{name}_test.json.gz"));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| {
        panic!(
            "Wycheproof vector file {} is missing ({e}): put the shared reference folder \
             beside the workspace or set CANCUOC_SHARED",
            path.display()
        )
    });
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap_or_else(|e| panic!("{}: not gzip-compressed text: {e}", path.display()));
    let json: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
    let declared = json["numberOfTests"].as_u64();
    let counted = groups(&json)
        .iter()
        .map(|g| g["tests"].as_array().map_or(0, Vec::len) as u64)
        .sum::<u64>();
    assert_eq!(declared, Some(counted), "{name}: numberOfTests");
    json
}

fn groups(v: &Value) -> &[Value] {
    v["testGroups"].as_array().map_or(&[], Vec::as_slice)
}

fn tests(g: &Value) -> &[Value] {
    g["tests"].as_array().map_or(&[], Vec::as_slice)
}

fn hex_field(v: &Value, field: &str) -> Vec<u8> {
    let s = v[field]
        .as_str()
        .unwrap_or_else(|| panic!("field {field} missing in {v}"));
    hex::decode(s).unwrap_or_else(|e| panic!("field {field}: {e}"))
}

fn hash(name: &str) -> HashAlgorithm {
    match name {
        "SHA-1" => HashAlgorithm::Sha1,
        "SHA-224" => HashAlgorithm::Sha224,
        "SHA-256" => HashAlgorithm::Sha256,
        "SHA-384" => HashAlgorithm::Sha384,
        "SHA-512" => HashAlgorithm::Sha512,
        other => panic!("hash {other} is not one the vectors should use"),
    }
}

/// What the product did with one case.
enum Outcome {
    Accepted,
    /// Rejected as a bad signature, a bad key, a malformed encoding.
    Rejected(String),
    /// Rejected because the algorithm, curve or parameters are not supported.
    Unsupported(String),
}

fn sig_outcome(r: Result<(), SigError>) -> Outcome {
    match r {
        Ok(()) => Outcome::Accepted,
        Err(e @ (SigError::UnsupportedAlgorithm(_) | SigError::UnsupportedCurve(_))) => {
            Outcome::Unsupported(e.to_string())
        }
        Err(e) => Outcome::Rejected(e.to_string()),
    }
}

fn apdu_outcome<T>(r: Result<T, apdu::Error>) -> Result<T, Outcome> {
    r.map_err(|e| match e {
        apdu::Error::Unsupported(_) => Outcome::Unsupported(e.to_string()),
        e => Outcome::Rejected(e.to_string()),
    })
}

/// The counts of one file through one verifier.
#[derive(Default)]
struct Tally {
    run: usize,
    valid_accepted: usize,
    invalid_rejected: usize,
    acceptable_accepted: usize,
    acceptable_rejected: usize,
    unsupported: usize,
    /// Cases decided by [`NO_COFACTOR_RULE`] instead of their Wycheproof result.
    by_rule: usize,
    failures: Vec<String>,
    /// Wall time of the file, to see where the generic-curve cost goes.
    millis: u128,
}

impl Tally {
    fn record(&mut self, file: &str, case: &Value, outcome: Outcome) {
        self.run += 1;
        let mut result = case["result"].as_str().unwrap_or("?");
        if is_named_curve_without_cofactor(case) {
            // See NO_COFACTOR_RULE: such a key must be accepted, whatever the case says;
            // it is counted with the acceptable ones.
            self.by_rule += 1;
            result = "valid";
            if matches!(outcome, Outcome::Accepted) {
                self.acceptable_accepted += 1;
                return;
            }
        }
        let outside_icao = OUTSIDE_ICAO.contains(&file);
        let mut fail = |what: String| {
            self.failures.push(format!(
                "{file} tcId {} ({result}, flags {}, \"{}\"): {what}",
                case["tcId"],
                case["flags"],
                case["comment"].as_str().unwrap_or("")
            ))
        };
        match (result, outcome) {
            (_, Outcome::Unsupported(_)) if outside_icao => self.unsupported += 1,
            ("valid", Outcome::Accepted) => self.valid_accepted += 1,
            ("valid", Outcome::Rejected(why) | Outcome::Unsupported(why)) => {
                fail(format!("valid case rejected: {why}"))
            }
            ("invalid", Outcome::Rejected(_) | Outcome::Unsupported(_)) => {
                self.invalid_rejected += 1
            }
            ("invalid", Outcome::Accepted) => fail("invalid case accepted".into()),
            ("acceptable", Outcome::Accepted) => self.acceptable_accepted += 1,
            ("acceptable", _) => self.acceptable_rejected += 1,
            (other, _) => fail(format!("unknown result {other:?}")),
        }
    }
}

/// The rule for the one contradiction in the ECDH files.
///
/// The same SubjectPublicKeyInfo (id-ecPublicKey with explicit parameters that equal the
/// file's named curve in p, a, b, G and n, and no cofactor) appears twice per file: once
/// `invalid` (flags NoCofactor, InvalidPublic) and once `acceptable` (NoCofactor,
/// UnusedParam). X9.62 makes the cofactor OPTIONAL, and parameters that are exactly a
/// named prime-order curve leave nothing to choose: the group order is that curve's, so
/// the cofactor is 1. The product therefore reads them as the named curve and computes on
/// the named curve's own arithmetic with full point validation, in every parser
/// (`CurveId::from_explicit` and `Curve::from_explicit` in apdu, so chip authentication,
/// active authentication and certificate keys alike). A cofactor that is present must be
/// 1: 2, -1 and n are refused. The rule keeps keys from issuers that omit the optional
/// field usable (all 139 explicit-parameter keys of the German master list do carry it;
/// DG14 keys of every issuer cannot be checked) at no cost, since the key is used on
/// the named curve exactly as if it had been given by OID.
///
/// Both cases are therefore required to be accepted with Wycheproof's shared secret and
/// are counted as acceptable; `explicit_named_curve_without_cofactor_rule` checks the
/// rule itself.
const NO_COFACTOR_RULE: &str =
    "explicit named-curve parameters without a cofactor are the named curve";

fn is_named_curve_without_cofactor(case: &Value) -> bool {
    case["flags"]
        .as_array()
        .is_some_and(|f| f.iter().any(|f| f == "NoCofactor"))
}

/// Collects the per-file rows of one test and prints them together (tests run in
/// parallel; one block per test keeps the table readable).
struct Report {
    title: &'static str,
    rows: Vec<(String, Tally)>,
}

static PRINT: Mutex<()> = Mutex::new(());

impl Report {
    fn new(title: &'static str) -> Report {
        Report {
            title,
            rows: Vec::new(),
        }
    }

    fn add(&mut self, file: String, mut tally: Tally, started: Instant) {
        tally.millis = started.elapsed().as_millis();
        self.rows.push((file, tally));
    }

    /// Prints the table, then fails listing every unexpected outcome.
    fn finish(self) {
        let failures: Vec<&String> = self.rows.iter().flat_map(|(_, t)| &t.failures).collect();
        let by_rule: usize = self.rows.iter().map(|(_, t)| t.by_rule).sum();
        {
            let _guard = PRINT.lock().unwrap_or_else(|e| e.into_inner());
            println!("\n{}", self.title);
            println!(
                "{:<44} {:>5} {:>14} {:>16} {:>16} {:>11} {:>6} {:>7}",
                "file",
                "run",
                "valid accepted",
                "invalid rejected",
                "acceptable acc/rej",
                "unsupported",
                "FAILED",
                "ms"
            );
            for (file, t) in &self.rows {
                println!(
                    "{:<44} {:>5} {:>14} {:>16} {:>12}/{:<5} {:>11} {:>6} {:>7}",
                    file,
                    t.run,
                    t.valid_accepted,
                    t.invalid_rejected,
                    t.acceptable_accepted,
                    t.acceptable_rejected,
                    t.unsupported,
                    t.failures.len(),
                    t.millis
                );
            }
            if by_rule > 0 {
                println!(
                    "({by_rule} cases, invalid and acceptable, decided by the rule \"{NO_COFACTOR_RULE}\": \
                     accepted, counted as acceptable)"
                );
            }
        }
        assert!(
            failures.is_empty(),
            "{}: {} unexpected outcomes:\n{}",
            self.title,
            failures.len(),
            failures
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// A SubjectPublicKeyInfo as the certificate parser reads it.
fn certificate_key(spki: &[u8]) -> Result<PublicKey, Outcome> {
    let tlv = Tlv::parse_as(spki, asn1::SEQUENCE, "SubjectPublicKeyInfo")
        .map_err(|e| Outcome::Rejected(e.to_string()))?;
    PublicKey::from_spki(&tlv).map_err(|e| Outcome::Rejected(e.to_string()))
}

/// Runs every case of `file` through `pki::signature::verify` with `alg(group)`.
fn run_signature_file(
    file: &str,
    alg: impl Fn(&Value) -> Result<SignatureAlgorithm, SigError>,
) -> Tally {
    let json = load(file);
    let mut tally = Tally::default();
    for group in groups(&json) {
        let key = certificate_key(&hex_field(group, "publicKeyDer"));
        let alg = alg(group);
        for case in tests(group) {
            let outcome = match (&key, &alg) {
                (Err(Outcome::Rejected(why)), _) => Outcome::Rejected(why.clone()),
                (Err(_), _) => Outcome::Rejected("key".into()),
                (_, Err(e)) => sig_outcome(Err(e.clone())),
                (Ok(key), Ok(alg)) => sig_outcome(signature::verify(
                    *alg,
                    key,
                    &hex_field(case, "msg"),
                    &hex_field(case, "sig"),
                )),
            };
            tally.record(file, case, outcome);
        }
    }
    tally
}

#[test]
fn ecdsa_der_signatures_through_the_sod_and_certificate_verifier() {
    let mut report = Report::new("ECDSA, DER signatures: pki::signature::verify");
    for name in EC_SIGNATURE_FILES {
        let file = format!("ecdsa_{name}");
        let started = Instant::now();
        let tally = run_signature_file(&file, |g| {
            Ok(SignatureAlgorithm::Ecdsa(hash(
                g["sha"].as_str().unwrap_or(""),
            )))
        });
        report.add(file, tally, started);
    }
    report.finish();
}

#[test]
fn ecdsa_plain_signatures_through_the_sod_and_certificate_verifier() {
    let mut report = Report::new("ECDSA, plain r||s (P1363): pki::signature::verify");
    for name in EC_SIGNATURE_FILES {
        let file = format!("ecdsa_{name}_p1363");
        let started = Instant::now();
        let tally = run_signature_file(&file, |g| {
            Ok(SignatureAlgorithm::EcdsaPlain(hash(
                g["sha"].as_str().unwrap_or(""),
            )))
        });
        report.add(file, tally, started);
    }
    report.finish();
}

/// The ActiveAuthenticationInfo a DG14 would carry for an ECDSA chip with this hash.
fn aa_info(sha: &str) -> ActiveAuthenticationInfo {
    let arc = match sha {
        "SHA-1" => 1,
        "SHA-224" => 2,
        "SHA-256" => 3,
        "SHA-384" => 4,
        "SHA-512" => 5,
        other => panic!("hash {other}"),
    };
    ActiveAuthenticationInfo {
        version: 1,
        signature_algorithm: Oid::parse(&format!("0.4.0.127.0.7.1.1.4.1.{arc}"))
            .expect("ecdsa-plain OID"),
    }
}

#[test]
fn ecdsa_plain_signatures_through_active_authentication() {
    let mut report = Report::new("ECDSA, plain r||s (P1363): active authentication");
    for name in EC_SIGNATURE_FILES {
        let file = format!("ecdsa_{name}_p1363");
        let started = Instant::now();
        let json = load(&file);
        let mut tally = Tally::default();
        for group in groups(&json) {
            let key = apdu_outcome(AaPublicKey::from_spki(&hex_field(group, "publicKeyDer")));
            let info = aa_info(group["sha"].as_str().unwrap_or(""));
            for case in tests(group) {
                // The challenge is the message: the chip signs H(challenge).
                let outcome = match &key {
                    Err(Outcome::Unsupported(why)) => Outcome::Unsupported(why.clone()),
                    Err(_) => Outcome::Rejected("key".into()),
                    Ok(key) => match apdu_outcome(key.verify(
                        Some(&info),
                        &hex_field(case, "msg"),
                        &hex_field(case, "sig"),
                    )) {
                        Ok(()) => Outcome::Accepted,
                        Err(o) => o,
                    },
                };
                tally.record(&file, case, outcome);
            }
        }
        report.add(file, tally, started);
    }
    report.finish();
}

#[test]
fn rsa_pkcs1_v15_signatures_through_the_sod_and_certificate_verifier() {
    let mut report = Report::new("RSA PKCS#1 v1.5: pki::signature::verify");
    for file in RSA_PKCS1_FILES {
        let started = Instant::now();
        let tally = run_signature_file(file, |g| {
            // Through the identifier a certificate or SignerInfo carries.
            let alg = SignatureAlgorithm::RsaPkcs1v15(hash(g["sha"].as_str().unwrap_or("")));
            SignatureAlgorithm::from_identifier(&alg.identifier(), None)
        });
        report.add(file.to_string(), tally, started);
    }
    report.finish();
}

#[test]
fn rsa_pss_signatures_through_the_sod_and_certificate_verifier() {
    let mut report = Report::new("RSA-PSS: pki::signature::verify");
    for file in RSA_PSS_FILES {
        let started = Instant::now();
        let tally = run_signature_file(file, |g| {
            let sha = g["sha"].as_str().unwrap_or("");
            assert_eq!(g["mgf"].as_str(), Some("MGF1"), "{file}: mask generation");
            // The product refuses an MGF1 hash other than the message hash; no file here
            // has one.
            assert_eq!(g["mgfSha"].as_str(), Some(sha), "{file}: MGF1 hash");
            let salt_len = g["sLen"].as_u64().expect("sLen") as usize;
            let alg = SignatureAlgorithm::RsaPss {
                hash: hash(sha),
                salt_len,
            };
            // The parameters go through the RSASSA-PSS-params parser, as in a SignerInfo.
            SignatureAlgorithm::from_identifier(&alg.identifier(), None)
        });
        report.add(file.to_string(), tally, started);
    }
    report.finish();
}

/// One ECDH case the way chip authentication takes the chip's key: the peer's
/// SubjectPublicKeyInfo parsed by `ChipPublicKey::from_spki`, its group required to be the
/// agreed curve, then the shared secret on that curve (the same `Group::shared_secret`
/// PACE calls with the raw point). A valid case must produce Wycheproof's shared secret.
fn ecdh_case(curve: CurveId, case: &Value) -> Outcome {
    let peer = match apdu_outcome(ChipPublicKey::from_spki(&hex_field(case, "public"))) {
        Ok(peer) => peer,
        Err(o) => return o,
    };
    let agreed = Group::curve(curve);
    match &peer.group {
        Group::Ec { curve: c, .. } if c.id() == Some(curve) => {}
        other => return Outcome::Rejected(format!("key on {} instead", other.name())),
    }
    let private = agreed
        .private_key(&hex_field(case, "private"))
        .unwrap_or_else(|e| panic!("tcId {}: private key: {e}", case["tcId"]));
    match agreed.shared_secret(&private, &peer.public) {
        Err(e) => Outcome::Rejected(e.to_string()),
        Ok(shared) if shared.as_slice() == hex_field(case, "shared").as_slice() => {
            Outcome::Accepted
        }
        // An invalid case has no secret to compare: accepting it is the failure.
        Ok(_) if case["result"] == "invalid" => Outcome::Accepted,
        // A different secret for a valid or acceptable key is a bug in the arithmetic.
        Ok(shared) => panic!(
            "tcId {} ({}): shared secret {} differs from Wycheproof's",
            case["tcId"],
            case["comment"],
            hex::encode(shared.as_slice())
        ),
    }
}

#[test]
fn ecdh_through_pace_and_chip_authentication_key_agreement() {
    let mut report = Report::new("ECDH (SubjectPublicKeyInfo peer keys): key agreement");
    for (name, curve) in ECDH_CURVES {
        let file = format!("ecdh_{name}");
        let started = Instant::now();
        let json = load(&file);
        let mut tally = Tally::default();
        for group in groups(&json) {
            assert_eq!(group["curve"].as_str(), Some(name), "{file}: curve");
            assert_eq!(group["encoding"].as_str(), Some("asn"), "{file}: encoding");
            for case in tests(group) {
                tally.record(&file, case, ecdh_case(curve, case));
            }
        }
        report.add(file, tally, started);
    }
    report.finish();
}

/// [`NO_COFACTOR_RULE`]: the contradicting pair is the same key, every parser reads it as
/// the named curve, and a present cofactor other than 1 is refused.
#[test]
fn explicit_named_curve_without_cofactor_rule() {
    for (name, curve) in ECDH_CURVES {
        let file = format!("ecdh_{name}");
        let json = load(&file);
        let cases: Vec<&Value> = groups(&json).iter().flat_map(tests).collect();
        let flagged = |flag: &str| -> Vec<&Value> {
            cases
                .iter()
                .copied()
                .filter(|c| {
                    c["flags"]
                        .as_array()
                        .is_some_and(|f| f.iter().any(|f| f == flag))
                })
                .collect()
        };
        let no_cofactor = flagged("NoCofactor");
        let results: Vec<&str> = no_cofactor
            .iter()
            .map(|c| c["result"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(
            results,
            ["invalid", "acceptable"],
            "{file}: the contradiction"
        );
        let spki = hex_field(no_cofactor[0], "public");
        assert_eq!(
            spki,
            hex_field(no_cofactor[1], "public"),
            "{file}: same key"
        );

        // Key agreement: the named curve, and Wycheproof's secret.
        for case in &no_cofactor {
            assert!(
                matches!(ecdh_case(curve, case), Outcome::Accepted),
                "{file} tcId {}: {NO_COFACTOR_RULE}",
                case["tcId"]
            );
        }
        // Active authentication and certificate keys read the same parameters the same way.
        match AaPublicKey::from_spki(&spki) {
            Ok(AaPublicKey::Ec { curve: c, .. }) => assert_eq!(c.id(), Some(curve), "{file}"),
            other => panic!("{file}: active authentication key {other:?}"),
        }
        let Ok(PublicKey::Ec { domain, .. }) = certificate_key(&spki) else {
            panic!("{file}: certificate key parser refused the key");
        };
        let info = key::curve_info(&domain);
        assert!(info.explicit, "{file}");
        assert_eq!(info.name.as_deref(), Some(curve.name()), "{file}");

        // A cofactor that is there must be 1.
        for flag in ["ModifiedCofactor", "NegativeCofactor", "LargeCofactor"] {
            for case in flagged(flag) {
                assert!(
                    matches!(
                        ecdh_case(curve, case),
                        Outcome::Rejected(_) | Outcome::Unsupported(_)
                    ),
                    "{file} tcId {} ({flag}) accepted",
                    case["tcId"]
                );
            }
        }
    }
}
