//! The chip's own keys from a profile: chip authentication and active authentication.

use apdu::active_auth::ChipAa;
use apdu::ec::CurveId;
use apdu::key_agreement::Group;
use apdu::pace::ChipStaticKey;
use apdu::security_infos::{CaProtocol, ChipAuthenticationInfo, KeyAgreement};
use zeroize::Zeroizing;

use super::builder::Builder;
use super::format::{AaSection, CaSection};
use super::{ActiveAuthKey, ChipAuthKey, KeyFormat, KeyMaterial, ProfileError, read_limited};
use crate::pki::key::EcDomain;
use crate::sim::issue::PrivateKey;
use apdu::hash::HashAlgorithm;
impl Builder {
    pub(super) fn key(&self, path: &str) -> Result<KeyMaterial, ProfileError> {
        let path = self.path(path);
        let bytes = Zeroizing::new(read_limited(&path)?);
        if crate::pki::pem::is_pem(&bytes) {
            for (label, block) in crate::pki::pem::decode_all(&bytes) {
                let format = match label.as_str() {
                    "EC PRIVATE KEY" => KeyFormat::Sec1,
                    "RSA PRIVATE KEY" => KeyFormat::Pkcs1,
                    "PRIVATE KEY" => KeyFormat::Pkcs8,
                    _ => continue,
                };
                let der = block.map_err(|e| self.invalid(format!("{}: {e}", path.display())))?;
                return Ok(KeyMaterial {
                    format,
                    der: Zeroizing::new(der),
                });
            }
            return Err(self.invalid(format!("{}: no private key", path.display())));
        }
        Ok(KeyMaterial {
            format: KeyFormat::Pkcs8,
            der: bytes,
        })
    }

    /// The key as the trust module's signing key.
    pub(super) fn trust_key(&self, key: &KeyMaterial) -> Result<PrivateKey, ProfileError> {
        let label = match key.format {
            KeyFormat::Sec1 => "EC PRIVATE KEY",
            KeyFormat::Pkcs1 => "RSA PRIVATE KEY",
            KeyFormat::Pkcs8 => "PRIVATE KEY",
        };
        let pem = Zeroizing::new(crate::pki::pem::encode(label, &key.der));
        PrivateKey::from_pem(pem.as_bytes()).map_err(|e| self.invalid(e.to_string()))
    }

    pub(super) fn public_spki(&self, key: &KeyMaterial) -> Result<Vec<u8>, ProfileError> {
        let public = self
            .trust_key(key)?
            .public_key()
            .map_err(|e| self.invalid(e.to_string()))?;
        Ok(public.to_spki())
    }

    pub(super) fn chip_auth(&self, ca: &CaSection) -> Result<ChipAuthKey, ProfileError> {
        let key = self.key(&ca.key)?;
        let info = ChipAuthenticationInfo {
            protocol: CaProtocol {
                agreement: KeyAgreement::Ecdh,
                suite: self.cipher(&ca.cipher)?,
            },
            version: ca.version,
            key_id: ca.key_id,
        };
        let static_key = self.static_key(&key)?;
        Ok(ChipAuthKey {
            info,
            key,
            static_key,
        })
    }

    /// The key pair on its group, for a standardized curve (named, or explicit
    /// parameters equal to one).
    pub(super) fn static_key(
        &self,
        key: &KeyMaterial,
    ) -> Result<Option<ChipStaticKey>, ProfileError> {
        let PrivateKey::Ec { domain, scalar } = self.trust_key(key)? else {
            return Ok(None);
        };
        let Some(curve) = standard_curve(&domain) else {
            return Ok(None);
        };
        let group = Group::curve(curve);
        let private = group
            .private_key(&scalar)
            .map_err(|_| self.invalid("chip authentication key"))?;
        let public = group
            .public_key(&private)
            .map_err(|_| self.invalid("chip authentication key"))?;
        Ok(Some(ChipStaticKey {
            group,
            private,
            public,
        }))
    }

    /// The chip side of active authentication for the profile's key.
    pub(super) fn chip_aa(&self, aa: &ActiveAuthKey) -> Result<ChipAa, ProfileError> {
        let hash = aa.hash;
        let bad = |e: apdu::Error| self.invalid(format!("active_authentication.key: {e}"));
        match self.trust_key(&aa.key)? {
            PrivateKey::Rsa(key) => ChipAa::rsa(*key, hash).map_err(bad),
            PrivateKey::Ec { domain, scalar } => {
                let curve = standard_curve(&domain)
                    .ok_or_else(|| self.invalid("active_authentication.key: curve"))?
                    .curve();
                let scalar = curve
                    .scalar_from_bytes(&scalar)
                    .map_err(|_| self.invalid("active_authentication.key: scalar"))?;
                Ok(ChipAa::ec(curve.clone(), scalar, hash))
            }
        }
    }

    pub(super) fn active_auth(&self, aa: &AaSection) -> Result<ActiveAuthKey, ProfileError> {
        Ok(ActiveAuthKey {
            key: self.key(&aa.key)?,
            hash: hash_by_name(&aa.hash)
                .ok_or_else(|| self.invalid("active_authentication.hash"))?,
        })
    }
}

pub(super) fn hash_by_name(name: &str) -> Option<HashAlgorithm> {
    HashAlgorithm::ALL.into_iter().find(|h| h.name() == name)
}

/// The standardized curve of EC domain parameters, named or explicit.
fn standard_curve(domain: &EcDomain) -> Option<CurveId> {
    match domain {
        EcDomain::Named(oid) => CurveId::from_oid(oid),
        EcDomain::Explicit(_) => match crate::pki::signature::resolve_curve(domain).ok()? {
            crate::pki::signature::CurveRef::Named(curve) => curve.id(),
            crate::pki::signature::CurveRef::Built(curve) => curve.id(),
        },
        EcDomain::Inherited => None,
    }
}
