//! ICAO 9303-11 Appendices G and I and the BSI EAC worked example: PACE value by value,
//! and one full APDU transcript.

mod common;

use apdu::crypto::{CipherSuite, SecretKey};
use apdu::key_agreement::Group;
use apdu::mrz::MrzKey;
use apdu::pace::{self, CamProof, Can, Password};
use apdu::rng::ScriptedRng;
use apdu::security_infos::{KeyAgreement, SecurityInfos};
use apdu::tlv::{self, Tag};
use apdu::{Card, Command, Error, Response};
use common::{hex_at, str_at, vectors};
use serde_json::Value;

fn mrz_password(v: &Value) -> Password {
    let key = MrzKey::new(
        str_at(v, "document_number"),
        str_at(v, "date_of_birth"),
        str_at(v, "date_of_expiry"),
    )
    .unwrap();
    assert_eq!(key.as_str(), str_at(v, "mrz_information"));
    Password::Mrz(key)
}

/// Checks every value of a generic-mapping example; returns the mapped group.
fn check_generic_mapping(v: &Value, agreement: KeyAgreement, password: &Password) -> Group {
    let suite = CipherSuite::Aes128;
    let k_pi = pace::password_key(password, suite);
    if v.get("k_pi").is_some() {
        assert_eq!(k_pi.as_bytes(), hex_at(v, "k_pi"), "K_pi");
    }
    let s = pace::decrypt_nonce(suite, &k_pi, &hex_at(v, "encrypted_nonce")).unwrap();
    assert_eq!(*s, hex_at(v, "nonce_s"), "decrypted nonce");

    let id = v["parameter_id"].as_u64().unwrap();
    let group = Group::standardized(agreement, id).unwrap();
    let terminal_map = group
        .private_key(&hex_at(v, "terminal_mapping_private_key"))
        .unwrap();
    assert_eq!(
        group.public_key(&terminal_map).unwrap(),
        hex_at(v, "terminal_mapping_public_key"),
        "terminal mapping public key"
    );
    let chip_map_public = hex_at(v, "chip_mapping_public_key");
    let h_field = match agreement {
        KeyAgreement::Ecdh => "shared_point_h",
        KeyAgreement::Dh => "shared_secret_h",
    };
    if v.get(h_field).is_some() {
        assert_eq!(
            group
                .mapping_shared(&terminal_map, &chip_map_public)
                .unwrap(),
            hex_at(v, h_field),
            "H"
        );
    }
    let mapped = group
        .map_generic(&s, &terminal_map, &chip_map_public)
        .unwrap();
    assert_eq!(
        mapped.generator(),
        hex_at(v, "mapped_generator"),
        "mapped generator"
    );

    let terminal_eph = mapped
        .private_key(&hex_at(v, "terminal_ephemeral_private_key"))
        .unwrap();
    let terminal_eph_public = mapped.public_key(&terminal_eph).unwrap();
    assert_eq!(
        terminal_eph_public,
        hex_at(v, "terminal_ephemeral_public_key")
    );
    let chip_eph_public = hex_at(v, "chip_ephemeral_public_key");
    let k = mapped
        .shared_secret(&terminal_eph, &chip_eph_public)
        .unwrap();
    assert_eq!(*k, hex_at(v, "shared_secret_k"), "shared secret");

    let keys = apdu::secure_messaging::SessionKeys::derive(suite, &k);
    assert_eq!(keys.enc().as_bytes(), hex_at(v, "ks_enc"));
    assert_eq!(keys.mac().as_bytes(), hex_at(v, "ks_mac"));

    let oid = apdu::asn1::Oid::parse(str_at(v, "oid")).unwrap();
    let t_pcd_input = mapped.public_key_data_object(&oid, &chip_eph_public);
    let t_ic_input = mapped.public_key_data_object(&oid, &terminal_eph_public);
    if v.get("t_pcd_input").is_some() {
        assert_eq!(t_pcd_input, hex_at(v, "t_pcd_input"));
        assert_eq!(t_ic_input, hex_at(v, "t_ic_input"));
    }
    assert_eq!(
        pace::authentication_token(suite, keys.mac(), &t_pcd_input)
            .unwrap()
            .to_vec(),
        hex_at(v, "t_pcd")
    );
    assert_eq!(
        pace::authentication_token(suite, keys.mac(), &t_ic_input)
            .unwrap()
            .to_vec(),
        hex_at(v, "t_ic")
    );
    mapped
}

#[test]
fn appendix_g1_ecdh_generic_mapping_on_brainpool_p256r1() {
    let v = &vectors()["pace_ecdh_gm_brainpoolp256r1"];
    let password = mrz_password(v);
    let k = apdu::crypto::sha1(password_mrz(&password).as_bytes());
    assert_eq!(*k, hex_at(v, "k"));
    check_generic_mapping(v, KeyAgreement::Ecdh, &password);
}

fn password_mrz(p: &Password) -> String {
    match p {
        Password::Mrz(m) => m.as_str().to_owned(),
        Password::Can(c) => c.as_str().to_owned(),
    }
}

#[test]
fn appendix_g2_dh_generic_mapping() {
    let v = &vectors()["pace_dh_gm"];
    let key = MrzKey::new("T22000129", "640812", "101031").unwrap();
    assert_eq!(key.as_str(), str_at(v, "mrz_information"));
    check_generic_mapping(v, KeyAgreement::Dh, &Password::Mrz(key));
}

#[test]
fn bsi_eac_worked_example_ecdh_and_dh() {
    let all = vectors();
    for (group, agreement) in [
        ("bsi_eac_pace_ecdh_gm", KeyAgreement::Ecdh),
        ("bsi_eac_pace_dh_gm", KeyAgreement::Dh),
    ] {
        let v = &all[group];
        // The example's PIN derives K_π the way a CAN does.
        let password = Password::Can(Can::new(str_at(v, "password")).unwrap());
        check_generic_mapping(v, agreement, &password);
    }
}

#[test]
fn appendix_i_chip_authentication_mapping() {
    let v = &vectors()["pace_cam_ecdh"];
    let password = mrz_password(v);
    let mapped = check_generic_mapping(v, KeyAgreement::Ecdh, &password);
    let keys = apdu::secure_messaging::SessionKeys::new(
        CipherSuite::Aes128,
        SecretKey::new(hex_at(v, "ks_enc")),
        SecretKey::new(hex_at(v, "ks_mac")),
    )
    .unwrap();
    // A_IC decrypts (IV = E(KS_enc, -1)) to CA_IC.
    let mut iv = vec![0xFF; 16];
    apdu::crypto::encrypt_block(CipherSuite::Aes128, keys.enc(), &mut iv).unwrap();
    let mut a = hex_at(v, "encrypted_chip_authentication_data");
    apdu::crypto::decrypt_cbc(CipherSuite::Aes128, keys.enc(), &iv, &mut a).unwrap();
    let ca = apdu::crypto::unpad(&a, 16).unwrap().to_vec();
    assert_eq!(ca, hex_at(v, "chip_authentication_data"));
    let proof = CamProof {
        data: ca,
        chip_mapping_public: hex_at(v, "chip_mapping_public_key"),
    };
    let group = Group::standardized(KeyAgreement::Ecdh, 13).unwrap();
    proof
        .verify(&group, &hex_at(v, "chip_static_public_key"))
        .unwrap();
    let mut wrong = hex_at(v, "chip_static_public_key");
    wrong[40] ^= 1;
    assert!(proof.verify(&group, &wrong).is_err());
    let _ = mapped;
}

/// Replays a transcript: checks each command the terminal sends and gives the recorded
/// answer.
struct Transcript {
    steps: Vec<(Vec<u8>, Vec<u8>)>,
    at: usize,
}

impl Card for Transcript {
    fn transmit(&mut self, command: &Command) -> Result<Response, Error> {
        let (expected, answer) = self
            .steps
            .get(self.at)
            .expect("more commands than recorded");
        assert_eq!(
            hex::encode_upper(command.encode().unwrap()),
            hex::encode_upper(expected),
            "command {}",
            self.at
        );
        self.at += 1;
        Response::decode(answer)
    }
}

#[test]
fn appendix_g1_apdu_transcript() {
    let v = &vectors()["pace_ecdh_gm_brainpoolp256r1"];
    let a = &v["apdus"];
    let steps = ["mse_set_at", "ga1", "ga2", "ga3", "ga4"]
        .iter()
        .map(|s| {
            (
                hex_at(a, &format!("{s}_command")),
                hex_at(a, &format!("{s}_response")),
            )
        })
        .collect();
    let info_set = tlv::encode(Tag::new(0x31), &hex_at(v, "pace_info"));
    let infos = SecurityInfos::parse(&info_set).unwrap();
    let info = infos.pace()[0].clone();
    // The terminal's random choices of the example: mapping key, then ephemeral key.
    let mut rng = ScriptedRng::new(
        [
            hex_at(v, "terminal_mapping_private_key"),
            hex_at(v, "terminal_ephemeral_private_key"),
        ]
        .concat(),
    );
    let card = Transcript { steps, at: 0 };
    let (channel, outcome) = pace::open(card, &info, &mrz_password(v), &mut rng).unwrap();
    assert_eq!(outcome.protocol.name(), "PACE-ECDH-GM-AES-128");
    assert_eq!(outcome.group, "brainpoolP256r1");
    let session = channel.session();
    assert_eq!(session.keys().enc().as_bytes(), hex_at(v, "ks_enc"));
    assert_eq!(session.ssc().as_bytes(), &[0u8; 16]);
}
