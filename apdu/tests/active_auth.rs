//! Active authentication: the ICAO worked example's message representative, the BSI
//! TR-03105-5 DG15 RSA key end to end, ECDSA on several curves, and hostile signatures.

mod common;

use apdu::active_auth::{self, AaPublicKey, ChipAa};
use apdu::ec::CurveId;
use apdu::hash::HashAlgorithm;
use apdu::rng::DeterministicRng;
use apdu::security_infos::ActiveAuthenticationInfo;
use apdu::tlv::Tlv;
use apdu::{Card, Command, Error, Response, StatusWord};
use common::{h, shared_dir, vectors};
use crypto_bigint::BoxedUint;
use crypto_bigint::modular::BoxedMontyForm;
use rsa::RsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};

fn bsi(name: &str) -> Vec<u8> {
    let path = shared_dir().join("data/bsi-tr03105-5").join(name);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("BSI reference data missing at {}: {e}", path.display()))
}

/// A plain card answering INTERNAL AUTHENTICATE with `ChipAa`, optionally spoiling one byte.
struct AaChip {
    aa: ChipAa,
    rng: DeterministicRng,
    spoil: Option<usize>,
}

impl Card for AaChip {
    fn transmit(&mut self, command: &Command) -> Result<Response, Error> {
        if command.ins != 0x88 {
            return Ok(Response::status(StatusWord::InsNotSupported));
        }
        Ok(
            match self.aa.internal_authenticate(&command.data, &mut self.rng) {
                Ok(mut sig) => {
                    if let Some(at) = self.spoil {
                        let len = sig.len();
                        sig[at % len] ^= 0x01;
                    }
                    Response::new(sig, StatusWord::Success)
                }
                Err(sw) => Response::status(sw),
            },
        )
    }
}

fn raw_sign(key: &RsaPrivateKey, f: &[u8]) -> Vec<u8> {
    let f = BoxedUint::from_be_slice(f, key.n_bits_precision()).unwrap();
    let s = BoxedMontyForm::new(f, key.n_params())
        .pow(key.d())
        .retrieve();
    let bytes = s.to_be_bytes();
    bytes[bytes.len() - key.size()..].to_vec()
}

#[test]
fn icao_worked_example_representative_verifies_under_the_bsi_key() {
    let v = &vectors()["active_authentication"];
    let (m1, rnd, d, f) = (h(v, "m1"), h(v, "rnd_ifd"), h(v, "d"), h(v, "f"));
    assert_eq!(HashAlgorithm::Sha1.digest_parts(&[&m1, &rnd]), d);
    assert_eq!(HashAlgorithm::Sha1.digest_parts(&[&h(v, "m")]), d);
    assert_eq!(f, [&[0x6A][..], &m1, &d, &[0xBC]].concat());
    // The example has no key; the BSI DG15 key is also 1024 bits, so F^d under it is a
    // signature the verifier must accept for RND.IFD and refuse for anything else.
    let key = RsaPrivateKey::from_pkcs8_der(&bsi("DG15_sk.pkcs8")).unwrap();
    assert_eq!(
        key.size() * 8,
        v["modulus_bits_k"].as_u64().unwrap() as usize
    );
    let public = AaPublicKey::from_dg15(&bsi("Datagroup15.bin")).unwrap();
    let s = raw_sign(&key, &f);
    public.verify(None, &rnd, &s).unwrap();
    // The ISO/IEC 9796-2 alternative n - s verifies as well.
    let n = key.n().as_ref().clone();
    let alt = n.wrapping_sub(BoxedUint::from_be_slice(&s, key.n_bits_precision()).unwrap());
    let alt = alt.to_be_bytes()[alt.to_be_bytes().len() - key.size()..].to_vec();
    public.verify(None, &rnd, &alt).unwrap();
    let mut other = rnd.clone();
    other[0] ^= 1;
    assert!(matches!(
        public.verify(None, &other, &s),
        Err(Error::AuthenticationFailed(_))
    ));
}

#[test]
fn bsi_dg15_end_to_end_with_sha1_and_sha256() {
    let dg15 = bsi("Datagroup15.bin");
    let public = AaPublicKey::from_dg15(&dg15).unwrap();
    for hash in [
        HashAlgorithm::Sha1,
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha512,
    ] {
        let aa = ChipAa::rsa_from_pkcs8(&bsi("DG15_sk.pkcs8"), hash).unwrap();
        assert_eq!(
            aa.spki().unwrap(),
            Tlv::parse(&dg15).unwrap().value(),
            "the chip's SPKI is DG15's"
        );
        let mut chip = AaChip {
            aa,
            rng: DeterministicRng::new(b"chip", ""),
            spoil: None,
        };
        let mut rng = DeterministicRng::new(b"terminal", "");
        for _ in 0..4 {
            active_auth::authenticate_random(&mut chip, &public, None, &mut rng).unwrap();
        }
        for at in [0, 1, 64, 127] {
            chip.spoil = Some(at);
            let result = active_auth::authenticate_random(&mut chip, &public, None, &mut rng);
            assert!(
                matches!(result, Err(Error::AuthenticationFailed(_))),
                "{hash:?} spoiled at {at}: {result:?}"
            );
        }
    }
}

#[test]
fn hostile_rsa_signatures_are_errors() {
    let public = AaPublicKey::from_dg15(&bsi("Datagroup15.bin")).unwrap();
    let AaPublicKey::Rsa(rsa_key) = &public else {
        panic!("DG15 of the BSI data set is RSA")
    };
    let key = RsaPrivateKey::from_pkcs8_der(&bsi("DG15_sk.pkcs8")).unwrap();
    let challenge = [7u8; 8];
    let n = rsa_key.n().as_ref().to_be_bytes().to_vec();
    let n = n[n.len() - 128..].to_vec();
    let d = HashAlgorithm::Sha1.digest_parts(&[&[0x11; 106], &challenge]);
    let with = |header: u8, trailer: &[u8], hash_len: usize| {
        let m1 = vec![0x11; 128 - 1 - hash_len - trailer.len()];
        let d = HashAlgorithm::Sha1.digest_parts(&[&m1, &challenge]);
        let mut f = vec![header];
        f.extend(&m1);
        f.extend(&d[..hash_len.min(d.len())]);
        f.extend(vec![0; hash_len.saturating_sub(d.len())]);
        f.extend(trailer);
        raw_sign(&key, &f)
    };
    let mut wrong_digest = [&[0x6A][..], &[0x11; 106], &d, &[0xBC]].concat();
    wrong_digest[110] ^= 1;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("one byte", vec![1]),
        ("zero", vec![0; 128]),
        ("too long", vec![1; 129]),
        ("s = n", n.clone()),
        ("s > n", vec![0xFF; 128]),
        ("header 4A", with(0x4A, &[0xBC], 20)),
        ("header 6B", with(0x6B, &[0xBC], 20)),
        ("trailer BD", with(0x6A, &[0xBD], 20)),
        ("unknown hash 31CC", with(0x6A, &[0x31, 0xCC], 20)),
        (
            "SHA-256 trailer over a SHA-1 digest",
            with(0x6A, &[0x34, 0xCC], 32),
        ),
        ("wrong digest", raw_sign(&key, &wrong_digest)),
        ("all-C nibble garbage", vec![0x0C; 128]),
    ];
    for (name, signature) in cases {
        let result = public.verify(None, &challenge, &signature);
        assert!(result.is_err(), "{name} accepted");
    }
    assert!(
        public
            .verify(None, &challenge, &with(0x6A, &[0xBC], 20))
            .is_ok()
    );
}

#[test]
fn ecdsa_on_named_curves_with_every_hash() {
    let hashes = [
        HashAlgorithm::Sha1,
        HashAlgorithm::Sha224,
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ];
    for (i, id) in [
        CurveId::P256,
        CurveId::BrainpoolP224r1,
        CurveId::BrainpoolP320r1,
        CurveId::P521,
        CurveId::P192,
    ]
    .into_iter()
    .enumerate()
    {
        let curve = id.curve();
        let hash = hashes[i % hashes.len()];
        let key = curve.random_scalar(&mut DeterministicRng::new(id.name().as_bytes(), ""));
        let aa = ChipAa::ec(curve.clone(), key, hash);
        let info = aa.info().unwrap();
        let public = AaPublicKey::from_spki(&aa.spki().unwrap()).unwrap();
        assert_eq!(public.signature_len(), 2 * curve.order_len());
        let mut chip = AaChip {
            aa,
            rng: DeterministicRng::new(b"chip", ""),
            spoil: None,
        };
        let mut rng = DeterministicRng::new(b"t", "");
        active_auth::authenticate_random(&mut chip, &public, Some(&info), &mut rng)
            .unwrap_or_else(|e| panic!("{} {hash:?}: {e}", id.name()));
        // ECDSA needs the ActiveAuthenticationInfo.
        assert!(matches!(
            active_auth::authenticate_random(&mut chip, &public, None, &mut rng),
            Err(Error::MissingDataObject(_))
        ));
        let wrong_hash = ActiveAuthenticationInfo {
            version: 1,
            signature_algorithm: active_auth::ecdsa_plain_oid(hashes[(i + 1) % hashes.len()]),
        };
        assert!(
            active_auth::authenticate_random(&mut chip, &public, Some(&wrong_hash), &mut rng)
                .is_err()
        );
        for at in [0, curve.order_len(), 2 * curve.order_len() - 1] {
            chip.spoil = Some(at);
            assert!(matches!(
                active_auth::authenticate_random(&mut chip, &public, Some(&info), &mut rng),
                Err(Error::AuthenticationFailed(_))
            ));
        }
        let challenge = [1u8; 8];
        for bad in [
            vec![],
            vec![0; 2 * curve.order_len()],
            vec![0xFF; 2 * curve.order_len()],
            vec![1; 3],
        ] {
            assert!(public.verify(Some(&info), &challenge, &bad).is_err());
        }
    }
}

#[test]
fn chip_refuses_a_challenge_of_the_wrong_length() {
    let aa = ChipAa::rsa_from_pkcs8(&bsi("DG15_sk.pkcs8"), HashAlgorithm::Sha1).unwrap();
    let mut rng = DeterministicRng::new(b"x", "");
    assert_eq!(
        aa.internal_authenticate(&[0; 7], &mut rng).unwrap_err(),
        StatusWord::WrongLength
    );
    assert!(format!("{aa:?}").contains("redacted"));
}

#[test]
fn hostile_spkis_are_errors() {
    for bad in [
        &[][..],
        &[0x6F, 0x00],
        &[0x6F, 0x02, 0x30, 0x00],
        &[0x6F, 0x84, 0x7F, 0xFF, 0xFF, 0xFF],
    ] {
        assert!(AaPublicKey::from_dg15(bad).is_err());
    }
    // A 512-bit modulus is refused.
    let n = [&[0xC1][..], &[0x55; 63]].concat();
    let rsa_key = apdu::tlv::encode(
        apdu::tlv::Tag::new(0x30),
        &[apdu::asn1::integer(&n), apdu::asn1::integer(&[1, 0, 1])].concat(),
    );
    let algorithm = apdu::tlv::encode(
        apdu::tlv::Tag::new(0x30),
        &[
            apdu::asn1::Oid::parse("1.2.840.113549.1.1.1")
                .unwrap()
                .to_der(),
            vec![5, 0],
        ]
        .concat(),
    );
    let spki = apdu::tlv::encode(
        apdu::tlv::Tag::new(0x30),
        &[algorithm, apdu::asn1::bit_string(&rsa_key)].concat(),
    );
    assert!(AaPublicKey::from_spki(&spki).is_err());
}
