//! Named curves: identifiers, OIDs, ICAO 9303-11 parameter IDs and their domain parameters.

use std::sync::OnceLock;

use super::{Curve, ExplicitParams, strip_leading_zeros};
use crate::asn1::Oid;

/// The elliptic curves of ICAO 9303-11's standardized domain parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CurveId {
    /// NIST P-192 (secp192r1).
    P192,
    /// NIST P-224 (secp224r1).
    P224,
    /// NIST P-256 (secp256r1).
    P256,
    /// NIST P-384 (secp384r1).
    P384,
    /// NIST P-521 (secp521r1).
    P521,
    /// brainpoolP192r1 (RFC 5639).
    BrainpoolP192r1,
    /// brainpoolP224r1 (RFC 5639).
    BrainpoolP224r1,
    /// brainpoolP256r1 (RFC 5639).
    BrainpoolP256r1,
    /// brainpoolP320r1 (RFC 5639).
    BrainpoolP320r1,
    /// brainpoolP384r1 (RFC 5639).
    BrainpoolP384r1,
    /// brainpoolP512r1 (RFC 5639).
    BrainpoolP512r1,
}

/// Hex domain parameters of a named curve (SEC 2 / FIPS 186-4 / RFC 5639).
pub(crate) struct Consts {
    pub p: &'static str,
    pub a: &'static str,
    pub b: &'static str,
    pub gx: &'static str,
    pub gy: &'static str,
    pub n: &'static str,
}

impl CurveId {
    /// Every supported curve.
    pub const ALL: [CurveId; 11] = [
        CurveId::P192,
        CurveId::P224,
        CurveId::P256,
        CurveId::P384,
        CurveId::P521,
        CurveId::BrainpoolP192r1,
        CurveId::BrainpoolP224r1,
        CurveId::BrainpoolP256r1,
        CurveId::BrainpoolP320r1,
        CurveId::BrainpoolP384r1,
        CurveId::BrainpoolP512r1,
    ];

    fn index(self) -> usize {
        match self {
            CurveId::P192 => 0,
            CurveId::P224 => 1,
            CurveId::P256 => 2,
            CurveId::P384 => 3,
            CurveId::P521 => 4,
            CurveId::BrainpoolP192r1 => 5,
            CurveId::BrainpoolP224r1 => 6,
            CurveId::BrainpoolP256r1 => 7,
            CurveId::BrainpoolP320r1 => 8,
            CurveId::BrainpoolP384r1 => 9,
            CurveId::BrainpoolP512r1 => 10,
        }
    }

    /// Conventional name: "P-256" for NIST curves, "brainpoolP256r1" for brainpool curves.
    pub fn name(self) -> &'static str {
        match self {
            CurveId::P192 => "P-192",
            CurveId::P224 => "P-224",
            CurveId::P256 => "P-256",
            CurveId::P384 => "P-384",
            CurveId::P521 => "P-521",
            CurveId::BrainpoolP192r1 => "brainpoolP192r1",
            CurveId::BrainpoolP224r1 => "brainpoolP224r1",
            CurveId::BrainpoolP256r1 => "brainpoolP256r1",
            CurveId::BrainpoolP320r1 => "brainpoolP320r1",
            CurveId::BrainpoolP384r1 => "brainpoolP384r1",
            CurveId::BrainpoolP512r1 => "brainpoolP512r1",
        }
    }

    /// The named-curve OID.
    pub const fn oid(self) -> Oid {
        match self {
            CurveId::P192 => Oid::new("1.2.840.10045.3.1.1"),
            CurveId::P224 => Oid::new("1.3.132.0.33"),
            CurveId::P256 => Oid::new("1.2.840.10045.3.1.7"),
            CurveId::P384 => Oid::new("1.3.132.0.34"),
            CurveId::P521 => Oid::new("1.3.132.0.35"),
            CurveId::BrainpoolP192r1 => Oid::new("1.3.36.3.3.2.8.1.1.3"),
            CurveId::BrainpoolP224r1 => Oid::new("1.3.36.3.3.2.8.1.1.5"),
            CurveId::BrainpoolP256r1 => Oid::new("1.3.36.3.3.2.8.1.1.7"),
            CurveId::BrainpoolP320r1 => Oid::new("1.3.36.3.3.2.8.1.1.9"),
            CurveId::BrainpoolP384r1 => Oid::new("1.3.36.3.3.2.8.1.1.11"),
            CurveId::BrainpoolP512r1 => Oid::new("1.3.36.3.3.2.8.1.1.13"),
        }
    }

    /// The curve with this named-curve OID.
    pub fn from_oid(oid: &Oid) -> Option<CurveId> {
        CurveId::ALL.into_iter().find(|c| c.oid() == *oid)
    }

    /// ICAO 9303-11 standardized domain parameter ID (table "Standardized Domain Parameters").
    pub fn pace_parameter_id(self) -> u8 {
        match self {
            CurveId::P192 => 8,
            CurveId::BrainpoolP192r1 => 9,
            CurveId::P224 => 10,
            CurveId::BrainpoolP224r1 => 11,
            CurveId::P256 => 12,
            CurveId::BrainpoolP256r1 => 13,
            CurveId::BrainpoolP320r1 => 14,
            CurveId::P384 => 15,
            CurveId::BrainpoolP384r1 => 16,
            CurveId::BrainpoolP512r1 => 17,
            CurveId::P521 => 18,
        }
    }

    /// The curve of an ICAO 9303-11 standardized domain parameter ID (8..=18).
    pub fn from_pace_parameter_id(id: u8) -> Option<CurveId> {
        CurveId::ALL
            .into_iter()
            .find(|c| c.pace_parameter_id() == id)
    }

    /// The named curve that explicit domain parameters describe, if any.
    ///
    /// Integers are compared by value (leading zeros ignored), the generator as a point
    /// (compressed or uncompressed encoding); a cofactor, when present, must be 1.
    ///
    /// An absent cofactor is read as 1 (X9.62 makes the field OPTIONAL): parameters equal
    /// to a named prime-order curve fix the group, so nothing is left to guess, and the key
    /// is then used on that curve's own arithmetic with full point validation. Wycheproof
    /// lists such a key both as invalid and as acceptable; this is the rule chosen, and
    /// `daemon/tests/wycheproof.rs` tests it for key agreement, active authentication and
    /// certificate keys.
    pub fn from_explicit(params: &ExplicitParams<'_>) -> Option<CurveId> {
        if let Some(h) = params.cofactor {
            if strip_leading_zeros(h) != [1u8] {
                return None;
            }
        }
        let p = strip_leading_zeros(params.p);
        let a = strip_leading_zeros(params.a);
        let b = strip_leading_zeros(params.b);
        let n = strip_leading_zeros(params.order);
        CurveId::ALL.into_iter().find(|&id| {
            let c = id.consts();
            let same = |bytes: &[u8], hex: &str| strip_leading_zeros(&unhex(hex)) == bytes;
            if !(same(p, c.p) && same(a, c.a) && same(b, c.b) && same(n, c.n)) {
                return false;
            }
            let curve = id.curve();
            curve
                .decode_point(params.generator)
                .is_ok_and(|g| g == curve.generator())
        })
    }

    /// The curve's arithmetic (built once, then shared).
    pub fn curve(self) -> &'static Curve {
        static CURVES: [OnceLock<Curve>; 11] = [const { OnceLock::new() }; 11];
        let slot = CURVES.get(self.index()).unwrap_or_else(|| unreachable!());
        slot.get_or_init(|| Curve::named(self, true))
    }

    /// Whether a RustCrypto crate backs this curve's arithmetic.
    pub fn has_fast_path(self) -> bool {
        matches!(
            self,
            CurveId::P256
                | CurveId::P384
                | CurveId::P521
                | CurveId::BrainpoolP256r1
                | CurveId::BrainpoolP384r1
        )
    }

    pub(crate) fn consts(self) -> &'static Consts {
        CONSTS.get(self.index()).unwrap_or_else(|| unreachable!())
    }
}

impl std::fmt::Display for CurveId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Decodes a trusted hex constant.
pub(crate) fn unhex(s: &str) -> Vec<u8> {
    fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => 0,
        }
    }
    s.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [h, l] => (nibble(*h) << 4) | nibble(*l),
            [l] => nibble(*l),
            _ => 0,
        })
        .collect()
}

/// Domain parameters in `CurveId::ALL` order; from SEC 2 v2 / FIPS 186-4 (NIST curves) and
/// RFC 5639 (brainpool curves).
static CONSTS: [Consts; 11] = [
    // prime192v1
    Consts {
        p: "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFFFFFFFFFF",
        a: "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFFFFFFFFFC",
        b: "64210519E59C80E70FA7E9AB72243049FEB8DEECC146B9B1",
        gx: "188DA80EB03090F67CBF20EB43A18800F4FF0AFD82FF1012",
        gy: "07192B95FFC8DA78631011ED6B24CDD573F977A11E794811",
        n: "FFFFFFFFFFFFFFFFFFFFFFFF99DEF836146BC9B1B4D22831",
    },
    // secp224r1
    Consts {
        p: "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF000000000000000000000001",
        a: "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFE",
        b: "B4050A850C04B3ABF54132565044B0B7D7BFD8BA270B39432355FFB4",
        gx: "B70E0CBD6BB4BF7F321390B94A03C1D356C21122343280D6115C1D21",
        gy: "BD376388B5F723FB4C22DFE6CD4375A05A07476444D5819985007E34",
        n: "FFFFFFFFFFFFFFFFFFFFFFFFFFFF16A2E0B8F03E13DD29455C5C2A3D",
    },
    // prime256v1
    Consts {
        p: "FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF",
        a: "FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFC",
        b: "5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B",
        gx: "6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296",
        gy: "4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5",
        n: "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551",
    },
    // secp384r1
    Consts {
        p: concat!(
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFE",
            "FFFFFFFF0000000000000000FFFFFFFF"
        ),
        a: concat!(
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFE",
            "FFFFFFFF0000000000000000FFFFFFFC"
        ),
        b: concat!(
            "B3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875A",
            "C656398D8A2ED19D2A85C8EDD3EC2AEF"
        ),
        gx: concat!(
            "AA87CA22BE8B05378EB1C71EF320AD746E1D3B628BA79B9859F741E082542A38",
            "5502F25DBF55296C3A545E3872760AB7"
        ),
        gy: concat!(
            "3617DE4A96262C6F5D9E98BF9292DC29F8F41DBD289A147CE9DA3113B5F0B8C0",
            "0A60B1CE1D7E819D7A431D7C90EA0E5F"
        ),
        n: concat!(
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF",
            "581A0DB248B0A77AECEC196ACCC52973"
        ),
    },
    // secp521r1
    Consts {
        p: concat!(
            "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
            "FFFF"
        ),
        a: concat!(
            "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
            "FFFC"
        ),
        b: concat!(
            "0051953EB9618E1C9A1F929A21A0B68540EEA2DA725B99B315F3B8B489918EF1",
            "09E156193951EC7E937B1652C0BD3BB1BF073573DF883D2C34F1EF451FD46B50",
            "3F00"
        ),
        gx: concat!(
            "00C6858E06B70404E9CD9E3ECB662395B4429C648139053FB521F828AF606B4D",
            "3DBAA14B5E77EFE75928FE1DC127A2FFA8DE3348B3C1856A429BF97E7E31C2E5",
            "BD66"
        ),
        gy: concat!(
            "011839296A789A3BC0045C8A5FB42C7D1BD998F54449579B446817AFBD17273E",
            "662C97EE72995EF42640C550B9013FAD0761353C7086A272C24088BE94769FD1",
            "6650"
        ),
        n: concat!(
            "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
            "FFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E9138",
            "6409"
        ),
    },
    // brainpoolP192r1
    Consts {
        p: "C302F41D932A36CDA7A3463093D18DB78FCE476DE1A86297",
        a: "6A91174076B1E0E19C39C031FE8685C1CAE040E5C69A28EF",
        b: "469A28EF7C28CCA3DC721D044F4496BCCA7EF4146FBF25C9",
        gx: "C0A0647EAAB6A48753B033C56CB0F0900A2F5C4853375FD6",
        gy: "14B690866ABD5BB88B5F4828C1490002E6773FA2FA299B8F",
        n: "C302F41D932A36CDA7A3462F9E9E916B5BE8F1029AC4ACC1",
    },
    // brainpoolP224r1
    Consts {
        p: "D7C134AA264366862A18302575D1D787B09F075797DA89F57EC8C0FF",
        a: "68A5E62CA9CE6C1C299803A6C1530B514E182AD8B0042A59CAD29F43",
        b: "2580F63CCFE44138870713B1A92369E33E2135D266DBB372386C400B",
        gx: "0D9029AD2C7E5CF4340823B2A87DC68C9E4CE3174C1E6EFDEE12C07D",
        gy: "58AA56F772C0726F24C6B89E4ECDAC24354B9E99CAA3F6D3761402CD",
        n: "D7C134AA264366862A18302575D0FB98D116BC4B6DDEBCA3A5A7939F",
    },
    // brainpoolP256r1
    Consts {
        p: "A9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5377",
        a: "7D5A0975FC2C3057EEF67530417AFFE7FB8055C126DC5C6CE94A4B44F330B5D9",
        b: "26DC5C6CE94A4B44F330B5D9BBD77CBF958416295CF7E1CE6BCCDC18FF8C07B6",
        gx: "8BD2AEB9CB7E57CB2C4B482FFC81B7AFB9DE27E1E3BD23C23A4453BD9ACE3262",
        gy: "547EF835C3DAC4FD97F8461A14611DC9C27745132DED8E545C1D54C72F046997",
        n: "A9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7",
    },
    // brainpoolP320r1
    Consts {
        p: concat!(
            "D35E472036BC4FB7E13C785ED201E065F98FCFA6F6F40DEF4F92B9EC7893EC28",
            "FCD412B1F1B32E27"
        ),
        a: concat!(
            "3EE30B568FBAB0F883CCEBD46D3F3BB8A2A73513F5EB79DA66190EB085FFA9F4",
            "92F375A97D860EB4"
        ),
        b: concat!(
            "520883949DFDBC42D3AD198640688A6FE13F41349554B49ACC31DCCD88453981",
            "6F5EB4AC8FB1F1A6"
        ),
        gx: concat!(
            "43BD7E9AFB53D8B85289BCC48EE5BFE6F20137D10A087EB6E7871E2A10A599C7",
            "10AF8D0D39E20611"
        ),
        gy: concat!(
            "14FDD05545EC1CC8AB4093247F77275E0743FFED117182EAA9C77877AAAC6AC7",
            "D35245D1692E8EE1"
        ),
        n: concat!(
            "D35E472036BC4FB7E13C785ED201E065F98FCFA5B68F12A32D482EC7EE8658E9",
            "8691555B44C59311"
        ),
    },
    // brainpoolP384r1
    Consts {
        p: concat!(
            "8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B412B1DA197FB71123",
            "ACD3A729901D1A71874700133107EC53"
        ),
        a: concat!(
            "7BC382C63D8C150C3C72080ACE05AFA0C2BEA28E4FB22787139165EFBA91F90F",
            "8AA5814A503AD4EB04A8C7DD22CE2826"
        ),
        b: concat!(
            "04A8C7DD22CE28268B39B55416F0447C2FB77DE107DCD2A62E880EA53EEB62D5",
            "7CB4390295DBC9943AB78696FA504C11"
        ),
        gx: concat!(
            "1D1C64F068CF45FFA2A63A81B7C13F6B8847A3E77EF14FE3DB7FCAFE0CBD10E8",
            "E826E03436D646AAEF87B2E247D4AF1E"
        ),
        gy: concat!(
            "8ABE1D7520F9C2A45CB1EB8E95CFD55262B70B29FEEC5864E19C054FF9912928",
            "0E4646217791811142820341263C5315"
        ),
        n: concat!(
            "8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B31F166E6CAC0425A7",
            "CF3AB6AF6B7FC3103B883202E9046565"
        ),
    },
    // brainpoolP512r1
    Consts {
        p: concat!(
            "AADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA70330871",
            "7D4D9B009BC66842AECDA12AE6A380E62881FF2F2D82C68528AA6056583A48F3"
        ),
        a: concat!(
            "7830A3318B603B89E2327145AC234CC594CBDD8D3DF91610A83441CAEA9863BC",
            "2DED5D5AA8253AA10A2EF1C98B9AC8B57F1117A72BF2C7B9E7C1AC4D77FC94CA"
        ),
        b: concat!(
            "3DF91610A83441CAEA9863BC2DED5D5AA8253AA10A2EF1C98B9AC8B57F1117A7",
            "2BF2C7B9E7C1AC4D77FC94CADC083E67984050B75EBAE5DD2809BD638016F723"
        ),
        gx: concat!(
            "81AEE4BDD82ED9645A21322E9C4C6A9385ED9F70B5D916C1B43B62EEF4D0098E",
            "FF3B1F78E2D0D48D50D1687B93B97D5F7C6D5047406A5E688B352209BCB9F822"
        ),
        gy: concat!(
            "7DDE385D566332ECC0EABFA9CF7822FDF209F70024A57B1AA000C55B881F8111",
            "B2DCDE494A5F485E5BCA4BD88A2763AED1CA2B2FA8F0540678CD1E0F3AD80892"
        ),
        n: concat!(
            "AADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA70330870",
            "553E5C414CA92619418661197FAC10471DB1D381085DDADDB58796829CA90069"
        ),
    },
];
