//! The hash functions ICAO 9303 names: one type for every protocol and structure that
//! names one (active authentication, EF.SOD, certificates, signatures).

use digest::Digest;

use crate::asn1::Oid;

/// SHA-1 or a SHA-2 function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-1.
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// id-sha1.
const ID_SHA1: Oid = Oid::new("1.3.14.3.2.26");
/// The arc of id-sha224..512, whose last arc names the hash.
const NIST_HASH_ARC: Oid = Oid::new("2.16.840.1.101.3.4.2");

impl HashAlgorithm {
    /// Every hash, shortest output first.
    pub const ALL: [HashAlgorithm; 5] = [
        HashAlgorithm::Sha1,
        HashAlgorithm::Sha224,
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ];

    /// Digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlgorithm::Sha1 => 20,
            HashAlgorithm::Sha224 => 28,
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    /// The hash of `data`.
    ///
    /// ```
    /// use apdu::hash::HashAlgorithm;
    /// assert_eq!(HashAlgorithm::Sha256.digest(b"abc")[..4], [0xBA, 0x78, 0x16, 0xBF]);
    /// ```
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        self.digest_parts(&[data])
    }

    /// The hash of the concatenated parts.
    pub fn digest_parts(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut h = D::new();
            for part in parts {
                h.update(part);
            }
            h.finalize().to_vec()
        }
        match self {
            HashAlgorithm::Sha1 => run::<sha1::Sha1>(parts),
            HashAlgorithm::Sha224 => run::<sha2::Sha224>(parts),
            HashAlgorithm::Sha256 => run::<sha2::Sha256>(parts),
            HashAlgorithm::Sha384 => run::<sha2::Sha384>(parts),
            HashAlgorithm::Sha512 => run::<sha2::Sha512>(parts),
        }
    }

    /// "SHA-256" and so on.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "SHA-1",
            HashAlgorithm::Sha224 => "SHA-224",
            HashAlgorithm::Sha256 => "SHA-256",
            HashAlgorithm::Sha384 => "SHA-384",
            HashAlgorithm::Sha512 => "SHA-512",
        }
    }

    /// The hash's algorithm OID (id-sha1, id-sha256, …).
    pub const fn oid(self) -> Oid {
        let last = match self {
            HashAlgorithm::Sha1 => return ID_SHA1,
            HashAlgorithm::Sha256 => 1,
            HashAlgorithm::Sha384 => 2,
            HashAlgorithm::Sha512 => 3,
            HashAlgorithm::Sha224 => 4,
        };
        NIST_HASH_ARC.child(last)
    }

    /// The hash with this algorithm OID.
    pub fn from_oid(oid: &Oid) -> Option<HashAlgorithm> {
        Self::ALL.into_iter().find(|h| h.oid() == *oid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_and_lengths_are_the_standard_ones() {
        // id-sha256 is 2.16.840.1.101.3.4.2.1 (RFC 5754), id-sha224 ...2.4.
        assert_eq!(
            HashAlgorithm::Sha256.oid().content(),
            [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01]
        );
        assert_eq!(
            HashAlgorithm::from_oid(
                &Oid::from_der_content(&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04])
                    .unwrap()
            ),
            Some(HashAlgorithm::Sha224)
        );
        assert_eq!(
            HashAlgorithm::from_oid(
                &Oid::from_der_content(&[0x2B, 0x0E, 0x03, 0x02, 0x1A]).unwrap()
            ),
            Some(HashAlgorithm::Sha1)
        );
        assert_eq!(
            HashAlgorithm::from_oid(&Oid::from_der_content(&[0x2B]).unwrap()),
            None
        );
        for h in HashAlgorithm::ALL {
            assert_eq!(h.digest(b"").len(), h.output_len());
            assert_eq!(h.digest_parts(&[b"a", b"bc"]), h.digest(b"abc"));
        }
    }
}
