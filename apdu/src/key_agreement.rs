//! Diffie-Hellman over either kind of group, as PACE and chip authentication use it: an
//! elliptic curve with a (possibly mapped) generator, or a prime field with one.

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::Error;
use crate::asn1::Oid;
use crate::dh::{DhGroup, DhGroupId, DhPrivateKey};
use crate::ec::{Curve, CurveId, Point, Scalar};
use crate::security_infos::KeyAgreement;
use crate::tlv::{self, Tag};

/// A group to agree keys in.
#[derive(Clone, Debug)]
pub enum Group {
    /// An elliptic curve and the generator in use (the curve's own, or a PACE-mapped one).
    Ec {
        /// The curve.
        curve: &'static Curve,
        /// The generator.
        generator: Point,
    },
    /// A prime-field group with its generator.
    Dh(DhGroup),
}

/// A private key of either kind; zeroized on drop, never printed.
#[derive(Clone)]
pub enum PrivateKey {
    /// An EC scalar.
    Ec(Scalar),
    /// A DH exponent.
    Dh(DhPrivateKey),
}

impl core::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PrivateKey([redacted])")
    }
}

fn ec_error(_: crate::ec::EcError) -> Error {
    Error::Crypto("elliptic-curve operation refused its input")
}

fn dh_error(_: crate::dh::DhError) -> Error {
    Error::Crypto("Diffie-Hellman operation refused its input")
}

impl Group {
    /// The group of an ICAO 9303-11 standardized domain parameter ID (0–2 DH, 8–18 ECDH).
    pub fn standardized(agreement: KeyAgreement, parameter_id: u64) -> Result<Group, Error> {
        let id =
            u8::try_from(parameter_id).map_err(|_| Error::Unsupported("domain parameter ID"))?;
        match agreement {
            KeyAgreement::Ecdh => {
                let curve = CurveId::from_pace_parameter_id(id)
                    .ok_or(Error::Unsupported("domain parameter ID for ECDH"))?
                    .curve();
                Ok(Group::Ec {
                    curve,
                    generator: curve.generator(),
                })
            }
            KeyAgreement::Dh => Ok(Group::Dh(
                DhGroupId::from_pace_parameter_id(id)
                    .ok_or(Error::Unsupported("domain parameter ID for DH"))?
                    .group()
                    .clone(),
            )),
        }
    }

    /// The group of a named curve with its standard generator.
    pub fn curve(id: CurveId) -> Group {
        let curve = id.curve();
        Group::Ec {
            curve,
            generator: curve.generator(),
        }
    }

    /// ECDH or DH.
    pub fn agreement(&self) -> KeyAgreement {
        match self {
            Group::Ec { .. } => KeyAgreement::Ecdh,
            Group::Dh(_) => KeyAgreement::Dh,
        }
    }

    /// A human name: the curve's, or the DH group's.
    pub fn name(&self) -> &'static str {
        match self {
            Group::Ec { curve, .. } => curve.id().map_or("explicit curve", CurveId::name),
            Group::Dh(g) => g.id().map_or("explicit DH group", |id| id.name()),
        }
    }

    /// The private key with these bytes (worked examples; a chip's static key).
    pub fn private_key(&self, bytes: &[u8]) -> Result<PrivateKey, Error> {
        match self {
            Group::Ec { curve, .. } => curve
                .scalar_from_bytes(bytes)
                .map(PrivateKey::Ec)
                .map_err(ec_error),
            Group::Dh(g) => g
                .private_key_from_bytes(bytes)
                .map(PrivateKey::Dh)
                .map_err(dh_error),
        }
    }

    /// The public key of `private` on this group's generator, encoded (04‖X‖Y, or y
    /// left-padded to the length of p).
    pub fn public_key(&self, private: &PrivateKey) -> Result<Vec<u8>, Error> {
        match (self, private) {
            (Group::Ec { curve, generator }, PrivateKey::Ec(k)) => {
                Ok(curve.encode_point(&curve.mul(k, generator)))
            }
            (Group::Dh(g), PrivateKey::Dh(x)) => Ok(g.public_from_private(x)),
            _ => Err(Error::Crypto("key of the other group kind")),
        }
    }

    /// A fresh key pair on this group's generator.
    pub fn generate(&self, rng: &mut impl CryptoRng) -> Result<(PrivateKey, Vec<u8>), Error> {
        let private = match self {
            Group::Ec { curve, .. } => PrivateKey::Ec(curve.random_scalar(rng)),
            Group::Dh(g) => PrivateKey::Dh(g.generate_private_key(rng)),
        };
        let public = self.public_key(&private)?;
        Ok((private, public))
    }

    /// Checks a peer's public key: on the curve and not the identity, or in the subgroup.
    pub fn check_public(&self, public: &[u8]) -> Result<(), Error> {
        match self {
            Group::Ec { curve, .. } => curve.decode_point(public).map(|_| ()).map_err(ec_error),
            Group::Dh(g) => g.validate_public(public).map_err(dh_error),
        }
    }

    /// The shared secret: the x coordinate of k·peer, or peer^x mod p.
    pub fn shared_secret(
        &self,
        private: &PrivateKey,
        peer: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        match (self, private) {
            (Group::Ec { curve, .. }, PrivateKey::Ec(k)) => {
                let point = curve.decode_point(peer).map_err(ec_error)?;
                curve.ecdh_x(k, &point).map_err(ec_error)
            }
            (Group::Dh(g), PrivateKey::Dh(x)) => g.shared_secret(x, peer).map_err(dh_error),
            _ => Err(Error::Crypto("key of the other group kind")),
        }
    }

    /// PACE generic mapping: the group with generator s·G + H (EC) or g^s·h (DH), where
    /// H = private·peer is the shared point of the mapping keys.
    pub fn map_generic(&self, s: &[u8], private: &PrivateKey, peer: &[u8]) -> Result<Group, Error> {
        match (self, private) {
            (Group::Ec { curve, generator }, PrivateKey::Ec(k)) => {
                let peer = curve.decode_point(peer).map_err(ec_error)?;
                let h = curve.ecdh_point(k, &peer).map_err(ec_error)?;
                let s = curve.scalar_from_bytes(s).map_err(ec_error)?;
                let mapped = curve.add(&curve.mul(&s, generator), &h);
                if mapped.is_identity() {
                    return Err(Error::Crypto("mapped generator is the identity"));
                }
                Ok(Group::Ec {
                    curve,
                    generator: mapped,
                })
            }
            (Group::Dh(g), PrivateKey::Dh(x)) => {
                let h = g.shared_secret(x, peer).map_err(dh_error)?;
                g.map_generator(s, &h).map(Group::Dh).map_err(dh_error)
            }
            _ => Err(Error::Crypto("key of the other group kind")),
        }
    }

    /// PACE integrated mapping (ICAO 9303-11 §4.4.3.3.2): not available in this build.
    pub fn map_integrated(
        &self,
        _s: &[u8],
        _t: &[u8],
        _suite: crate::crypto::CipherSuite,
    ) -> Result<Group, Error> {
        Err(Error::Unsupported("PACE integrated mapping"))
    }

    /// The shared point or value H of generic mapping (worked examples print it).
    pub fn mapping_shared(&self, private: &PrivateKey, peer: &[u8]) -> Result<Vec<u8>, Error> {
        match (self, private) {
            (Group::Ec { curve, .. }, PrivateKey::Ec(k)) => {
                let peer = curve.decode_point(peer).map_err(ec_error)?;
                Ok(curve.encode_point(&curve.ecdh_point(k, &peer).map_err(ec_error)?))
            }
            (Group::Dh(g), PrivateKey::Dh(x)) => {
                Ok(g.shared_secret(x, peer).map_err(dh_error)?.to_vec())
            }
            _ => Err(Error::Crypto("key of the other group kind")),
        }
    }

    /// The generator, encoded.
    pub fn generator(&self) -> Vec<u8> {
        match self {
            Group::Ec { curve, generator } => curve.encode_point(generator),
            Group::Dh(g) => g.g(),
        }
    }

    /// The public-key data object `7F49 { 06 oid, 86 point | 84 y }` that PACE and
    /// chip authentication MAC into their authentication tokens.
    pub fn public_key_data_object(&self, protocol: &Oid, public: &[u8]) -> Vec<u8> {
        let mut content = protocol.to_der();
        match self {
            Group::Ec { .. } => tlv::encode_into(Tag::new(0x86), public, &mut content),
            Group::Dh(_) => {
                // An unsigned integer: no leading zero bytes.
                let skip = public.iter().take_while(|b| **b == 0).count();
                tlv::encode_into(
                    Tag::new(0x84),
                    public.get(skip..).unwrap_or_default(),
                    &mut content,
                )
            }
        }
        tlv::encode(Tag::new(0x7F49), &content)
    }
}
