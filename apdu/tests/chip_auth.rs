//! Chip authentication: the BSI EAC worked examples value by value, the terminal against
//! `ChipCa` on every standardized group and cipher suite, and the BSI TR-03105-5 DG14 key.

mod common;

use apdu::chip_auth::{
    self, ChipAuthPlan, ChipCa, ChipPublicKey, authenticate, authenticate_with_ephemeral,
};
use apdu::crypto::CipherSuite;
use apdu::dh::DhGroupId;
use apdu::ec::CurveId;
use apdu::key_agreement::Group;
use apdu::rng::DeterministicRng;
use apdu::rng::ScriptedRng;
use apdu::secure_messaging::{SessionKeys, SmSession, Ssc};
use apdu::security_infos::{
    CaProtocol, ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo, KeyAgreement,
    SecurityInfo, SecurityInfos,
};
use apdu::tlv::{Tag, Tlv};
use apdu::{Card, Command, Error, Response, SecureChannel, StatusWord};
use common::{h, shared_dir, vectors};
use rand_core::CryptoRng;

fn session(suite: CipherSuite) -> SmSession {
    SmSession::new(SessionKeys::derive(suite, b"x"), Ssc::zero(suite)).unwrap()
}

/// A chip that speaks secure messaging and routes the chip authentication commands to
/// `ChipCa`, switching sessions after answering, as the emulator must.
struct CaChip<R: CryptoRng> {
    session: SmSession,
    ca: ChipCa,
    rng: R,
}

impl<R: CryptoRng> Card for CaChip<R> {
    fn transmit(&mut self, command: &Command) -> Result<Response, Error> {
        let plain = match self.session.unprotect_command(command) {
            Ok(p) => p,
            Err(sw) => return Ok(Response::status(sw)),
        };
        let mut next = None;
        let answer = match (plain.ins, plain.p1, plain.p2) {
            (0x22, 0x41, 0xA6) => {
                match self
                    .ca
                    .mse_set_kat(&plain.data, &self.session, &mut self.rng)
                {
                    Ok(s) => {
                        next = Some(s);
                        Response::status(StatusWord::Success)
                    }
                    Err(sw) => Response::status(sw),
                }
            }
            (0x22, 0x41, 0xA4) => match self.ca.mse_set_at(&plain.data) {
                Ok(()) => Response::status(StatusWord::Success),
                Err(sw) => Response::status(sw),
            },
            (0x86, 0, 0) => match self.ca.general_authenticate(&plain.data, &mut self.rng) {
                Ok((data, s)) => {
                    next = Some(s);
                    Response::new(data, StatusWord::Success)
                }
                Err(sw) => Response::status(sw),
            },
            (0xA4, _, _) => Response::status(StatusWord::Success),
            _ => Response::status(StatusWord::InsNotSupported),
        };
        let wire = self.session.protect_response(plain.ins, &answer)?;
        if let Some(next) = next {
            self.session = next;
        }
        Ok(wire)
    }
}

fn info(agreement: KeyAgreement, suite: CipherSuite, version: u64) -> ChipAuthenticationInfo {
    ChipAuthenticationInfo {
        protocol: CaProtocol { agreement, suite },
        version,
        key_id: None,
    }
}

fn plan_for(ca: &ChipCa) -> ChipAuthPlan {
    let infos = SecurityInfos {
        infos: vec![
            SecurityInfo::ChipAuthenticationPublicKey(ca.public_key_info().unwrap()),
            SecurityInfo::ChipAuthentication(ca.info().clone()),
        ],
    };
    // Through DER, so the SPKI encoder and parser meet.
    let infos = SecurityInfos::parse(&infos.to_der()).unwrap();
    ChipAuthPlan::choose(&infos).unwrap()
}

/// Runs CA and then reads under the new keys; returns the terminal's channel.
fn run(ca: ChipCa, suite_before: CipherSuite, seed: &[u8]) -> Result<(), Error> {
    let plan = plan_for(&ca);
    let chip = CaChip {
        session: session(suite_before),
        ca,
        rng: DeterministicRng::new(seed, ""),
    };
    let mut channel = SecureChannel::new(chip, session(suite_before));
    let outcome = authenticate(
        &mut channel,
        &plan,
        &mut DeterministicRng::new(b"terminal", ""),
    )?;
    assert_eq!(outcome.protocol, plan.protocol);
    assert_eq!(channel.session().suite(), plan.protocol.suite);
    // The new session carries further commands both ways.
    let r = channel.transmit(&Command::new(0, 0xA4, 2, 0x0C).with_data(vec![1, 2]))?;
    assert_eq!(r.sw, StatusWord::Success);
    Ok(())
}

const SUITES: [(CipherSuite, u64); 5] = [
    (CipherSuite::Des3, 1),
    (CipherSuite::Aes128, 1),
    (CipherSuite::Aes128, 2),
    (CipherSuite::Aes192, 2),
    (CipherSuite::Aes256, 2),
];

#[test]
fn bsi_worked_example_ecdh_value_by_value() {
    let v = &vectors()["chip_authentication"]["ecdh"];
    let group = Group::curve(CurveId::BrainpoolP256r1);
    let chip_sk = group.private_key(&h(v, "chip_static_private_key")).unwrap();
    let term_sk = group
        .private_key(&h(v, "terminal_ephemeral_private_key"))
        .unwrap();
    assert_eq!(
        group.public_key(&chip_sk).unwrap(),
        h(v, "chip_static_public_key")
    );
    let term_pk = group.public_key(&term_sk).unwrap();
    assert_eq!(term_pk, h(v, "terminal_ephemeral_public_key"));
    let k = group
        .shared_secret(&term_sk, &h(v, "chip_static_public_key"))
        .unwrap();
    assert_eq!(*k, h(v, "shared_secret_k"));
    assert_eq!(*group.shared_secret(&chip_sk, &term_pk).unwrap(), *k);
    check_keys_and_token(v, &group, &k, &term_pk);
    end_to_end_with_vector(v, group, KeyAgreement::Ecdh);
}

#[test]
fn bsi_worked_example_dh_value_by_value() {
    let v = &vectors()["chip_authentication"]["dh"];
    let group = Group::Dh(DhGroupId::Modp1024_160.group().clone());
    let chip_sk = group.private_key(&h(v, "chip_static_private_key")).unwrap();
    let term_sk = group
        .private_key(&h(v, "terminal_ephemeral_private_key"))
        .unwrap();
    assert_eq!(
        group.public_key(&chip_sk).unwrap(),
        h(v, "chip_static_public_key")
    );
    let term_pk = group.public_key(&term_sk).unwrap();
    assert_eq!(term_pk, h(v, "terminal_ephemeral_public_key"));
    let k = group
        .shared_secret(&term_sk, &h(v, "chip_static_public_key"))
        .unwrap();
    assert_eq!(*k, h(v, "shared_secret_k"));
    assert_eq!(*group.shared_secret(&chip_sk, &term_pk).unwrap(), *k);
    check_keys_and_token(v, &group, &k, &term_pk);
    end_to_end_with_vector(v, group, KeyAgreement::Dh);
}

fn check_keys_and_token(v: &serde_json::Value, group: &Group, k: &[u8], term_pk: &[u8]) {
    let keys = chip_auth::session_keys(CipherSuite::Aes128, k, &h(v, "nonce_r"));
    assert_eq!(keys.enc().as_bytes(), h(v, "ks_enc"));
    assert_eq!(keys.mac().as_bytes(), h(v, "ks_mac"));
    let oid = CaProtocol::from_oid(&apdu::asn1::Oid::parse(v["oid"].as_str().unwrap()).unwrap())
        .unwrap()
        .oid();
    let input = group.public_key_data_object(&oid, term_pk);
    let token = chip_auth::authentication_token(CipherSuite::Aes128, keys.mac(), &input).unwrap();
    assert_eq!(token.to_vec(), h(v, "authentication_token"));
}

/// The terminal with the example's ephemeral key against a chip whose nonce is the
/// example's: the channel ends up on the example's KS_enc / KS_mac.
fn end_to_end_with_vector(v: &serde_json::Value, group: Group, agreement: KeyAgreement) {
    let chip_sk = group.private_key(&h(v, "chip_static_private_key")).unwrap();
    let ca = ChipCa::new(
        group.clone(),
        chip_sk,
        info(agreement, CipherSuite::Aes128, 2),
    )
    .unwrap();
    let plan = plan_for(&ca);
    assert_eq!(plan.protocol.oid().to_string(), v["oid"].as_str().unwrap());
    let chip = CaChip {
        session: session(CipherSuite::Aes128),
        ca,
        rng: ScriptedRng::new(h(v, "nonce_r")),
    };
    let mut channel = SecureChannel::new(chip, session(CipherSuite::Aes128));
    let term_sk = group
        .private_key(&h(v, "terminal_ephemeral_private_key"))
        .unwrap();
    let term_pk = group.public_key(&term_sk).unwrap();
    authenticate_with_ephemeral(&mut channel, &plan, (term_sk, term_pk)).unwrap();
    assert_eq!(channel.session().keys().enc().as_bytes(), h(v, "ks_enc"));
    assert_eq!(channel.session().keys().mac().as_bytes(), h(v, "ks_mac"));
    assert_eq!(channel.session().ssc().as_bytes(), [0u8; 16]);
}

#[test]
fn every_standardized_curve_and_suite() {
    for (i, id) in CurveId::ALL.into_iter().enumerate() {
        for (suite, version) in SUITES {
            let ca = ChipCa::generate(
                Group::curve(id),
                info(KeyAgreement::Ecdh, suite, version),
                &mut DeterministicRng::new(id.name().as_bytes(), ""),
            )
            .unwrap();
            let before = SUITES[i % SUITES.len()].0;
            run(ca, before, id.name().as_bytes())
                .unwrap_or_else(|e| panic!("{} {suite:?} v{version}: {e}", id.name()));
        }
    }
}

#[test]
fn every_rfc_5114_group() {
    for id in DhGroupId::ALL {
        for (suite, version) in [SUITES[0], SUITES[2], SUITES[4]] {
            let ca = ChipCa::generate(
                Group::Dh(id.group().clone()),
                info(KeyAgreement::Dh, suite, version),
                &mut DeterministicRng::new(id.name().as_bytes(), ""),
            )
            .unwrap();
            run(ca, CipherSuite::Des3, id.name().as_bytes())
                .unwrap_or_else(|e| panic!("{} {suite:?} v{version}: {e}", id.name()));
        }
    }
}

/// A chip that lists one key but holds another is caught: by the token in version 2, by
/// the first MAC under the new keys in version 1.
#[test]
fn a_chip_without_the_private_key_is_not_genuine() {
    for (suite, version) in SUITES {
        let group = Group::curve(CurveId::BrainpoolP256r1);
        let info = info(KeyAgreement::Ecdh, suite, version);
        let genuine = ChipCa::generate(
            group.clone(),
            info.clone(),
            &mut DeterministicRng::new(b"a", ""),
        )
        .unwrap();
        let forged = ChipCa::generate(group, info, &mut DeterministicRng::new(b"b", "")).unwrap();
        let plan = plan_for(&genuine);
        let chip = CaChip {
            session: session(CipherSuite::Aes128),
            ca: forged,
            rng: DeterministicRng::new(b"chip", ""),
        };
        let mut channel = SecureChannel::new(chip, session(CipherSuite::Aes128));
        let result = authenticate(&mut channel, &plan, &mut DeterministicRng::new(b"t", ""));
        assert!(
            matches!(result, Err(Error::AuthenticationFailed(_))),
            "{suite:?} v{version}: {result:?}"
        );
    }
}

#[test]
fn chip_refuses_wrong_protocol_key_and_order() {
    let group = Group::curve(CurveId::P256);
    let mut ca = ChipCa::generate(
        group.clone(),
        ChipAuthenticationInfo {
            key_id: Some(7),
            ..info(KeyAgreement::Ecdh, CipherSuite::Aes128, 2)
        },
        &mut DeterministicRng::new(b"k", ""),
    )
    .unwrap();
    let mut rng = DeterministicRng::new(b"r", "");
    let (_, eph) = group.generate(&mut rng).unwrap();
    let ga = apdu::tlv::encode(Tag::new(0x7C), &apdu::tlv::encode(Tag::new(0x80), &eph));
    assert_eq!(
        ca.general_authenticate(&ga, &mut rng).unwrap_err(),
        StatusWord::ConditionsNotSatisfied
    );
    let oid = ca.info().protocol.oid();
    let mut at = apdu::tlv::encode(Tag::new(0x80), oid.content());
    at.extend([0x84, 0x01, 0x08]);
    assert_eq!(
        ca.mse_set_at(&at).unwrap_err(),
        StatusWord::ReferencedDataNotFound
    );
    let mut at = apdu::tlv::encode(Tag::new(0x80), oid.content());
    at.extend([0x84, 0x01, 0x07]);
    ca.mse_set_at(&at).unwrap();
    let bad_point = apdu::tlv::encode(
        Tag::new(0x7C),
        &apdu::tlv::encode(Tag::new(0x80), &[0x04; 65]),
    );
    assert_eq!(
        ca.general_authenticate(&bad_point, &mut rng).unwrap_err(),
        StatusWord::IncorrectData
    );
    // KAT is version 1 with 3DES only.
    let kat = apdu::tlv::encode(Tag::new(0x91), &eph);
    assert_eq!(
        ca.mse_set_kat(&kat, &session(CipherSuite::Aes128), &mut rng)
            .unwrap_err(),
        StatusWord::FunctionNotSupported
    );
}

#[test]
fn the_plan_follows_key_ids_and_infers_3des_without_info() {
    let mut rng = DeterministicRng::new(b"plan", "");
    let ec = ChipCa::generate(
        Group::curve(CurveId::P256),
        info(KeyAgreement::Ecdh, CipherSuite::Aes256, 2),
        &mut rng,
    )
    .unwrap();
    let mut key_a = ec.public_key_info().unwrap();
    key_a.key_id = Some(1);
    let mut key_b = key_a.clone();
    key_b.key_id = Some(2);
    let infos = SecurityInfos {
        infos: vec![
            SecurityInfo::ChipAuthenticationPublicKey(key_a.clone()),
            SecurityInfo::ChipAuthenticationPublicKey(key_b),
            SecurityInfo::ChipAuthentication(ChipAuthenticationInfo {
                key_id: Some(2),
                ..info(KeyAgreement::Ecdh, CipherSuite::Aes128, 1)
            }),
        ],
    };
    let plan = ChipAuthPlan::choose(&infos).unwrap();
    assert_eq!(plan.key_id, Some(2));
    assert_eq!(plan.protocol.suite, CipherSuite::Aes128);
    let only_key = SecurityInfos {
        infos: vec![SecurityInfo::ChipAuthenticationPublicKey(key_a)],
    };
    let plan = ChipAuthPlan::choose(&only_key).unwrap();
    assert_eq!(plan.protocol.suite, CipherSuite::Des3);
    assert_eq!(plan.version, 1);
    assert!(plan.uses_kat());
    assert!(ChipAuthPlan::choose(&SecurityInfos::default()).is_err());
}

#[test]
fn explicit_parameters_map_to_the_named_curve() {
    for id in CurveId::ALL {
        let curve = id.curve();
        let key = ChipCa::generate(
            Group::curve(id),
            info(KeyAgreement::Ecdh, CipherSuite::Aes128, 2),
            &mut DeterministicRng::new(b"x", ""),
        )
        .unwrap()
        .public_key();
        let spki = explicit_spki(curve, &key.public, curve.b());
        let parsed = ChipPublicKey::from_spki(&spki).unwrap();
        assert_eq!(parsed.group.name(), id.name());
        assert_eq!(parsed.public, key.public);
        // Another b: no standardized curve (and not a valid one): refused, not mis-read.
        let mut b = curve.b();
        *b.last_mut().unwrap() ^= 1;
        assert!(ChipPublicKey::from_spki(&explicit_spki(curve, &key.public, b)).is_err());
    }
}

fn explicit_spki(curve: &apdu::ec::Curve, public: &[u8], b: Vec<u8>) -> Vec<u8> {
    use apdu::asn1::{Oid, integer};
    use apdu::tlv::encode;
    let seq = |parts: &[Vec<u8>]| encode(Tag::new(0x30), &parts.concat());
    let oct = |v: &[u8]| encode(Tag::new(0x04), v);
    let field = seq(&[
        Oid::parse("1.2.840.10045.1.1").unwrap().to_der(),
        integer(&curve.p()),
    ]);
    let params = seq(&[
        integer(&[1]),
        field,
        seq(&[oct(&curve.a()), oct(&b)]),
        oct(&curve.encode_point(&curve.generator())),
        integer(&curve.order()),
        integer(&[1]),
    ]);
    let algorithm = seq(&[Oid::parse("1.2.840.10045.2.1").unwrap().to_der(), params]);
    seq(&[algorithm, apdu::asn1::bit_string(public)])
}

/// The BSI TR-03105-5 DG14: brainpoolP224r1 with explicit parameters, CA-ECDH-3DES
/// version 1, run end to end with its private key from DG14_sk.pkcs8.
#[test]
fn bsi_reference_dg14_end_to_end() {
    let dir = shared_dir().join("data/bsi-tr03105-5");
    let dg14 = std::fs::read(dir.join("Datagroup14.bin"))
        .unwrap_or_else(|e| panic!("BSI reference data missing in {}: {e}", dir.display()));
    let infos = SecurityInfos::parse(Tlv::parse(&dg14).unwrap().value()).unwrap();
    let plan = ChipAuthPlan::choose(&infos).unwrap();
    assert_eq!(plan.key.group.name(), "brainpoolP224r1");
    assert_eq!(plan.protocol.suite, CipherSuite::Des3);
    assert!(plan.uses_kat());
    let pkcs8 = std::fs::read(dir.join("DG14_sk.pkcs8")).unwrap();
    let private = ec_private_key_from_pkcs8(&pkcs8);
    let group = plan.key.group.clone();
    let sk = group.private_key(&private).unwrap();
    assert_eq!(group.public_key(&sk).unwrap(), plan.key.public);
    let ca_info: ChipAuthenticationInfo = infos.chip_authentication().next().unwrap().clone();
    let ca = ChipCa::new(group, sk, ca_info).unwrap();
    let chip = CaChip {
        session: session(CipherSuite::Des3),
        ca,
        rng: DeterministicRng::new(b"bsi", ""),
    };
    let mut channel = SecureChannel::new(chip, session(CipherSuite::Des3));
    let outcome = authenticate(
        &mut channel,
        &plan,
        &mut DeterministicRng::new(b"terminal", ""),
    )
    .unwrap();
    let listed: Vec<&ChipAuthenticationPublicKeyInfo> = infos.chip_authentication_keys().collect();
    assert_eq!(&outcome.public_key, listed[0]);
    assert_eq!(outcome.version, 1);
}

/// PKCS#8 → ECPrivateKey → privateKey OCTET STRING, by a minimal DER walk.
fn ec_private_key_from_pkcs8(der: &[u8]) -> Vec<u8> {
    let outer = Tlv::parse(der).unwrap();
    let inner = outer
        .children()
        .map(Result::unwrap)
        .find(|t| t.tag() == Tag::new(0x04))
        .unwrap();
    let ec = Tlv::parse(inner.value()).unwrap();
    let mut fields = ec.children().map(Result::unwrap);
    assert_eq!(fields.next().unwrap().value(), [1]);
    fields.next().unwrap().value().to_vec()
}
