//! Explicit domain parameters: the real Vietnamese CSCA (brainpoolP512r1 given explicitly in
//! the German master list) and RFC 5639 curves outside the named set.

mod common;
use apdu::rng::DeterministicRng;

use apdu::ec::{Curve, CurveId, EcError, ExplicitParams};
use sha2::{Digest, Sha512};

/// An element of a constructed value: (tag, content, whole encoding).
type Element<'a> = (u8, &'a [u8], &'a [u8]);

/// One DER TLV: (tag, content, whole encoding, rest).
type Tlv<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

fn tlv(input: &[u8]) -> Option<Tlv<'_>> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 3 || rest.len() < n {
            return None;
        }
        let (bytes, rest) = rest.split_at(n);
        (
            bytes.iter().fold(0usize, |a, &b| (a << 8) | usize::from(b)),
            rest,
        )
    };
    if rest.len() < len {
        return None;
    }
    let (content, after) = rest.split_at(len);
    let header = input.len() - rest.len();
    Some((tag, content, &input[..header + len], after))
}

/// The elements of a constructed value.
fn children(mut content: &[u8]) -> Option<Vec<Element<'_>>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (tag, value, whole, rest) = tlv(content)?;
        out.push((tag, value, whole));
        content = rest;
    }
    Some(out)
}

struct CscaCert<'a> {
    tbs: &'a [u8],
    params: ExplicitParams<'a>,
    public: &'a [u8],
    r: &'a [u8],
    s: &'a [u8],
}

/// Finds a certificate whose TBS mentions `needle` and whose key has explicit EC parameters.
fn find_cert<'a>(data: &'a [u8], needle: &[u8]) -> Option<CscaCert<'a>> {
    const ECDSA_SHA512: [u8; 8] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
    for start in 0..data.len() {
        if data[start] != 0x30 {
            continue;
        }
        let Some((_, content, _, _)) = tlv(&data[start..]) else {
            continue;
        };
        let Some(parts) = children(content) else {
            continue;
        };
        let [(0x30, tbs_content, tbs), (0x30, alg, _), (0x03, sig, _)] = parts[..] else {
            continue;
        };
        if !tbs.windows(needle.len()).any(|w| w == needle)
            || !alg.windows(8).any(|w| w == ECDSA_SHA512)
        {
            continue;
        }
        let fields = children(tbs_content)?;
        // version [0], serial, signature, issuer, validity, subject, subjectPublicKeyInfo.
        let (_, spki, _) = *fields.get(6)?;
        let spki = children(spki)?;
        let (_, alg_id, _) = *spki.first()?;
        let (_, key_bits, _) = *spki.get(1)?;
        let alg_id = children(alg_id)?;
        let (_, ec_params, _) = *alg_id.get(1)?;
        let ec = children(ec_params)?;
        let field_id = children(ec.get(1)?.1)?;
        let curve = children(ec.get(2)?.1)?;
        let sig_value = children(children(sig.get(1..)?)?.first()?.1)?;
        return Some(CscaCert {
            tbs,
            params: ExplicitParams {
                p: field_id.get(1)?.1,
                a: curve.first()?.1,
                b: curve.get(1)?.1,
                generator: ec.get(3)?.1,
                order: ec.get(4)?.1,
                cofactor: ec.get(5).map(|c| c.1),
            },
            public: key_bits.get(1..)?,
            r: sig_value.first()?.1,
            s: sig_value.get(1)?.1,
        });
    }
    None
}

#[test]
fn vietnamese_csca_self_signature() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/masterlists/DE_ML_2024-12-19.ml"
    );
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("master list missing at {path}: {e}"));
    let cert =
        find_cert(&data, b"CSCA ePassport Vietnam").expect("Vietnamese CSCA in the master list");
    assert_eq!(
        CurveId::from_explicit(&cert.params),
        Some(CurveId::BrainpoolP512r1)
    );
    let curve = Curve::from_explicit(&cert.params).unwrap();
    assert_eq!(curve.id(), Some(CurveId::BrainpoolP512r1));
    let digest = Sha512::digest(cert.tbs);
    for engine in [curve.clone(), Curve::generic(CurveId::BrainpoolP512r1)] {
        let public = engine.decode_point(cert.public).unwrap();
        engine
            .ecdsa_verify(&public, &digest, cert.r, cert.s)
            .unwrap();
        // One flipped bit of the signed data breaks it.
        let mut tbs = cert.tbs.to_vec();
        tbs[20] ^= 0x01;
        let bad = Sha512::digest(&tbs);
        assert_eq!(
            engine.ecdsa_verify(&public, &bad, cert.r, cert.s),
            Err(EcError::BadSignature)
        );
        let mut r = cert.r.to_vec();
        *r.last_mut().unwrap() ^= 1;
        assert_eq!(
            engine.ecdsa_verify(&public, &digest, &r, cert.s),
            Err(EcError::BadSignature)
        );
    }
}

fn hex(s: &str) -> Vec<u8> {
    ::hex::decode(s).unwrap()
}

/// brainpoolP256t1 (RFC 5639 section 3.4): same p and n as brainpoolP256r1, another a and b.
struct Twisted {
    p: Vec<u8>,
    a: Vec<u8>,
    b: Vec<u8>,
    g: Vec<u8>,
    n: Vec<u8>,
}

fn bp256t1() -> Twisted {
    Twisted {
        p: hex("A9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5377"),
        a: hex("A9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5374"),
        b: hex("662C61C430D84EA4FE66A7733D0B76B7BF93EBC4AF2F49256AE58101FEE92B04"),
        g: hex(concat!(
            "04A3E8EB3CC1CFE7B7732213B23A656149AFA142C47AAFBC2B79A191562E1305F4",
            "2D996C823439C56D7F7B22E14644417E69BCB6DE39D027001DABE8F35B25C9BE"
        )),
        n: hex("A9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7"),
    }
}

impl Twisted {
    fn params(&self) -> ExplicitParams<'_> {
        ExplicitParams {
            p: &self.p,
            a: &self.a,
            b: &self.b,
            generator: &self.g,
            order: &self.n,
            cofactor: Some(&[1]),
        }
    }
}

#[test]
fn explicit_curve_outside_the_named_set() {
    let t = bp256t1();
    assert_eq!(CurveId::from_explicit(&t.params()), None);
    let c = Curve::from_explicit(&t.params()).unwrap();
    assert_eq!(c.id(), None);
    assert!(!c.uses_fast_path());
    assert_eq!(c.field_len(), 32);
    let mut rng = DeterministicRng::new(b"bp256t1", "");
    let d = c.random_scalar(&mut rng);
    let q = c.public_key(&d);
    let (r, s) = c.ecdsa_sign(&d, &[7u8; 32], &mut rng);
    c.ecdsa_verify(&q, &[7u8; 32], &r, &s).unwrap();
    assert!(c.mul_vartime(&t.n, &c.generator()).is_identity());
    // Compressed generator, leading zeros and a missing cofactor are all the same curve.
    let g = c.generator();
    let x = c.point_x(&g).unwrap();
    let y_odd = c.encode_point(&g).last().unwrap() & 1;
    let compressed = [vec![0x02 | y_odd], x].concat();
    assert_eq!(c.decode_point(&compressed).unwrap(), g);
    let p0 = [vec![0, 0], t.p.clone()].concat();
    let again = Curve::from_explicit(&ExplicitParams {
        p: &p0,
        generator: &compressed,
        cofactor: None,
        ..t.params()
    })
    .unwrap();
    assert_eq!(again.generator(), g);
}

#[test]
fn named_curves_given_explicitly_are_recognised() {
    for id in CurveId::ALL {
        let c = id.curve();
        let g = c.encode_point(&c.generator());
        let (p, a, b, n) = (c.p(), c.a(), c.b(), c.order());
        let params = ExplicitParams {
            p: &p,
            a: &a,
            b: &b,
            generator: &g,
            order: &n,
            cofactor: Some(&[0, 1]),
        };
        assert_eq!(CurveId::from_explicit(&params), Some(id));
        assert_eq!(Curve::from_explicit(&params).unwrap().id(), Some(id));
        // Compressed generator.
        let x = c.point_x(&c.generator()).unwrap();
        for tag in [2u8, 3] {
            let comp = [vec![tag], x.clone()].concat();
            let ok = c.decode_point(&comp).is_ok_and(|pt| pt == c.generator());
            let params = ExplicitParams {
                generator: &comp,
                ..params
            };
            assert_eq!(CurveId::from_explicit(&params) == Some(id), ok, "{id}");
        }
        // Cofactor 2 is refused; a changed b is not this curve.
        assert_eq!(
            CurveId::from_explicit(&ExplicitParams {
                cofactor: Some(&[2]),
                ..params
            }),
            None
        );
        let mut b2 = b.clone();
        *b2.last_mut().unwrap() ^= 1;
        assert_eq!(
            CurveId::from_explicit(&ExplicitParams { b: &b2, ..params }),
            None
        );
        assert!(
            Curve::from_explicit(&ExplicitParams { b: &b2, ..params }).is_err(),
            "{id}: G off the new curve"
        );
    }
}

#[test]
fn bad_explicit_parameters_are_refused() {
    let t = bp256t1();
    let base = t.params();
    let big = vec![0xffu8; 1000];
    let mut n_off = t.n.clone();
    *n_off.last_mut().unwrap() ^= 2; // odd, not the order
    let mut p_even = t.p.clone();
    *p_even.last_mut().unwrap() ^= 1;
    let zero_a = vec![0u8; 32];
    let cases: Vec<(&str, ExplicitParams<'_>)> = vec![
        ("huge p", ExplicitParams { p: &big, ..base }),
        ("huge a", ExplicitParams { a: &big, ..base }),
        (
            "huge order",
            ExplicitParams {
                order: &big,
                ..base
            },
        ),
        (
            "huge generator",
            ExplicitParams {
                generator: &big,
                ..base
            },
        ),
        ("empty p", ExplicitParams { p: &[], ..base }),
        ("p = 3", ExplicitParams { p: &[3], ..base }),
        ("even p", ExplicitParams { p: &p_even, ..base }),
        ("a >= p", ExplicitParams { a: &t.p, ..base }),
        ("b = 0 moves G off", ExplicitParams { b: &zero_a, ..base }),
        (
            "wrong order",
            ExplicitParams {
                order: &n_off,
                ..base
            },
        ),
        (
            "order 1",
            ExplicitParams {
                order: &[1],
                ..base
            },
        ),
        (
            "identity generator",
            ExplicitParams {
                generator: &[0],
                ..base
            },
        ),
        (
            "cofactor 4",
            ExplicitParams {
                cofactor: Some(&[4]),
                ..base
            },
        ),
        (
            "empty cofactor",
            ExplicitParams {
                cofactor: Some(&[]),
                ..base
            },
        ),
    ];
    for (what, params) in cases {
        assert!(Curve::from_explicit(&params).is_err(), "{what}");
    }
}
