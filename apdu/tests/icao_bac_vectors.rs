//! ICAO 9303-11 Appendix D worked examples: BAC and 3DES secure messaging.

mod common;

use apdu::bac::{self, BacKeys};
use apdu::crypto::{CipherSuite, SecretKey};
use apdu::mrz::{self, MrzKey};
use apdu::rng::ScriptedRng;
use apdu::secure_messaging::{SessionKeys, SmSession, Ssc};
use apdu::{Command, Response, StatusWord};
use common::{hex_at, str_at, vectors};

fn bac_vectors() -> serde_json::Value {
    vectors()["bac"].clone()
}

fn mrz_key(v: &serde_json::Value) -> MrzKey {
    MrzKey::new(
        str_at(v, "document_number").trim_end_matches('<'),
        str_at(v, "date_of_birth"),
        str_at(v, "date_of_expiry"),
    )
    .unwrap()
}

#[test]
fn mrz_information_and_check_digits() {
    let v = bac_vectors();
    for (field, digit) in [
        ("document_number", "document_number_check_digit"),
        ("date_of_birth", "date_of_birth_check_digit"),
        ("date_of_expiry", "date_of_expiry_check_digit"),
    ] {
        assert_eq!(
            mrz::check_digit(str_at(&v, field))
                .map(char::from)
                .map(String::from),
            Some(str_at(&v, digit).to_string())
        );
    }
    assert_eq!(mrz_key(&v).as_str(), str_at(&v, "mrz_information"));
    let long = &v["td1_long_document_number_example"];
    let key = MrzKey::new(
        str_at(long, "document_number"),
        str_at(long, "date_of_birth"),
        str_at(long, "date_of_expiry"),
    )
    .unwrap();
    assert_eq!(key.as_str(), str_at(long, "mrz_information"));
}

#[test]
fn document_keys() {
    let v = bac_vectors();
    let key = mrz_key(&v);
    assert_eq!(*bac::key_seed(&key), hex_at(&v, "k_seed"));
    let keys = BacKeys::derive(&key);
    assert_eq!(keys.k_enc().as_bytes(), hex_at(&v, "k_enc"));
    assert_eq!(keys.k_mac().as_bytes(), hex_at(&v, "k_mac"));
}

#[test]
fn mutual_authentication_and_session_keys() {
    let v = bac_vectors();
    assert_eq!(
        Command::new(0, bac::INS_GET_CHALLENGE, 0, 0)
            .with_le(8)
            .encode()
            .unwrap(),
        hex_at(&v, "get_challenge_command")
    );
    let challenge = Response::decode(&hex_at(&v, "get_challenge_response")).unwrap();
    assert_eq!(challenge.sw, StatusWord::Success);
    let rnd_ic: [u8; 8] = challenge.data.as_slice().try_into().unwrap();
    assert_eq!(rnd_ic.to_vec(), hex_at(&v, "rnd_ic"));

    let mut rng = ScriptedRng::new([hex_at(&v, "rnd_ifd"), hex_at(&v, "k_ifd")].concat());
    let (command, pending) = BacKeys::derive(&mrz_key(&v))
        .authenticate(rnd_ic, &mut rng)
        .unwrap();
    assert_eq!(
        command.data,
        hex_at(&v, "external_authenticate_command_data")
    );
    assert_eq!(
        command.encode().unwrap(),
        hex_at(&v, "external_authenticate_command")
    );

    let response = Response::decode(&hex_at(&v, "external_authenticate_response")).unwrap();
    let session = pending.finish(&response).unwrap();
    assert_eq!(session.keys().enc().as_bytes(), hex_at(&v, "ks_enc"));
    assert_eq!(session.keys().mac().as_bytes(), hex_at(&v, "ks_mac"));
    assert_eq!(session.ssc().as_bytes(), hex_at(&v, "ssc"));
}

#[test]
fn a_tampered_chip_answer_is_refused() {
    let v = bac_vectors();
    let rnd_ic: [u8; 8] = hex_at(&v, "rnd_ic").try_into().unwrap();
    for flip in [0usize, 31, 32, 39] {
        let mut rng = ScriptedRng::new([hex_at(&v, "rnd_ifd"), hex_at(&v, "k_ifd")].concat());
        let (_, pending) = BacKeys::derive(&mrz_key(&v))
            .authenticate(rnd_ic, &mut rng)
            .unwrap();
        let mut response = Response::decode(&hex_at(&v, "external_authenticate_response")).unwrap();
        response.data[flip] ^= 1;
        assert!(matches!(
            pending.finish(&response),
            Err(apdu::Error::AuthenticationFailed(_))
        ));
    }
}

#[test]
fn protected_apdus_of_appendix_d4() {
    let v = vectors()["secure_messaging_3des"].clone();
    let keys = SessionKeys::new(
        CipherSuite::Des3,
        SecretKey::new(hex_at(&v, "ks_enc")),
        SecretKey::new(hex_at(&v, "ks_mac")),
    )
    .unwrap();
    let mut session = SmSession::new(keys, Ssc::new(&hex_at(&v, "initial_ssc")).unwrap()).unwrap();
    let exchanges = v["exchanges"].as_array().unwrap();
    assert_eq!(exchanges.len(), 3);
    let mut file = Vec::new();
    for x in exchanges {
        let plain = Command::decode(&hex_at(x, "unprotected_command")).unwrap();
        let protected = session.protect_command(&plain).unwrap();
        assert_eq!(
            session.ssc().as_bytes(),
            hex_at(x, "ssc_command"),
            "{}",
            str_at(x, "name")
        );
        assert_eq!(
            protected.encode().unwrap(),
            hex_at(x, "protected_command"),
            "{}",
            str_at(x, "name")
        );
        let response = Response::decode(&hex_at(x, "protected_response")).unwrap();
        let opened = session.unprotect_response(&response).unwrap();
        assert_eq!(session.ssc().as_bytes(), hex_at(x, "ssc_response"));
        assert_eq!(
            opened.data,
            hex_at(x, "response_data"),
            "{}",
            str_at(x, "name")
        );
        assert_eq!(opened.sw.to_bytes().to_vec(), hex_at(x, "status_word"));
        file.extend_from_slice(&opened.data);
    }
    assert_eq!(file, hex_at(&v, "ef_com"));
}

#[test]
fn the_card_side_reads_the_same_protected_commands() {
    let v = vectors()["secure_messaging_3des"].clone();
    let keys = SessionKeys::new(
        CipherSuite::Des3,
        SecretKey::new(hex_at(&v, "ks_enc")),
        SecretKey::new(hex_at(&v, "ks_mac")),
    )
    .unwrap();
    let mut chip = SmSession::new(keys, Ssc::new(&hex_at(&v, "initial_ssc")).unwrap()).unwrap();
    for x in v["exchanges"].as_array().unwrap() {
        let protected = Command::decode(&hex_at(x, "protected_command")).unwrap();
        let plain = chip.unprotect_command(&protected).unwrap();
        assert_eq!(
            plain.data,
            Command::decode(&hex_at(x, "unprotected_command"))
                .unwrap()
                .data
        );
        let answer = Response::new(hex_at(x, "response_data"), StatusWord::Success);
        let protected = chip.protect_response(plain.ins, &answer).unwrap();
        assert_eq!(
            protected.encode(),
            hex_at(x, "protected_response"),
            "{}",
            str_at(x, "name")
        );
    }
}
