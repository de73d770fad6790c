//! Basic Access Control (ICAO 9303-11 §4.3): document keys from the MRZ information,
//! GET CHALLENGE, MUTUAL AUTHENTICATE, session keys and the initial send sequence counter.
//!
//! The terminal side moves through typed states, [`BacKeys`] → [`BacAuthentication`] →
//! [`SmSession`], so no step can be skipped; [`open`] runs them over a [`Card`]. The chip
//! side, [`ChipBac`], answers the same exchange for the emulator.

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::crypto::{self, CipherSuite, KeyPurpose, SecretKey};
use crate::mrz::MrzKey;
use crate::secure_messaging::{SecureChannel, SessionKeys, SmSession, Ssc};
use crate::{Card, Command, Error, Response, StatusWord};

/// INS of GET CHALLENGE.
pub const INS_GET_CHALLENGE: u8 = 0x84;
/// INS of MUTUAL AUTHENTICATE (called EXTERNAL AUTHENTICATE in ICAO 9303).
pub const INS_MUTUAL_AUTHENTICATE: u8 = 0x82;

/// The document basic access keys K_enc and K_mac, derived from the MRZ information.
#[derive(Clone, PartialEq, Eq)]
pub struct BacKeys {
    k_enc: SecretKey,
    k_mac: SecretKey,
}

impl core::fmt::Debug for BacKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("BacKeys([redacted])")
    }
}

impl BacKeys {
    /// K_seed = the first 16 bytes of SHA-1(MRZ information); K_enc, K_mac = KDF(K_seed).
    pub fn derive(mrz: &MrzKey) -> BacKeys {
        let seed = key_seed(mrz);
        BacKeys {
            k_enc: crypto::derive_key(&seed, KeyPurpose::Enc, CipherSuite::Des3),
            k_mac: crypto::derive_key(&seed, KeyPurpose::Mac, CipherSuite::Des3),
        }
    }

    /// K_enc.
    pub fn k_enc(&self) -> &SecretKey {
        &self.k_enc
    }

    /// K_mac.
    pub fn k_mac(&self) -> &SecretKey {
        &self.k_mac
    }

    /// Given the chip's challenge RND.IC, draws RND.IFD and K.IFD and builds the
    /// MUTUAL AUTHENTICATE command.
    pub fn authenticate(
        self,
        rnd_ic: [u8; 8],
        rng: &mut impl CryptoRng,
    ) -> Result<(Command, BacAuthentication), Error> {
        let mut rnd_ifd = [0u8; 8];
        rng.fill_bytes(&mut rnd_ifd);
        let mut k_ifd = Zeroizing::new([0u8; 16]);
        rng.fill_bytes(k_ifd.as_mut());
        let mut s = Zeroizing::new(Vec::with_capacity(32));
        s.extend_from_slice(&rnd_ifd);
        s.extend_from_slice(&rnd_ic);
        s.extend_from_slice(k_ifd.as_ref());
        let data = self.seal(&s)?;
        let command = Command::new(0x00, INS_MUTUAL_AUTHENTICATE, 0x00, 0x00)
            .with_data(data)
            .with_le(40);
        Ok((
            command,
            BacAuthentication {
                keys: self,
                rnd_ic,
                rnd_ifd,
                k_ifd,
            },
        ))
    }

    /// E = 3DES-CBC(K_enc, data), M = retail MAC(K_mac, E): the 40 bytes of either side.
    fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, Error> {
        let mut e = plain.to_vec();
        crypto::encrypt_cbc(CipherSuite::Des3, &self.k_enc, &[0; 8], &mut e)?;
        let m = crypto::mac(CipherSuite::Des3, &self.k_mac, &crypto::pad(&e, 8))?;
        e.extend_from_slice(&m);
        Ok(e)
    }

    /// Checks M and decrypts E of a 40-byte authentication cryptogram.
    fn open(&self, data: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        let (e, m) = data
            .split_at_checked(32)
            .filter(|(_, m)| m.len() == 8)
            .ok_or(Error::Malformed("authentication data must be 40 bytes"))?;
        let expected = crypto::mac(CipherSuite::Des3, &self.k_mac, &crypto::pad(e, 8))?;
        if !crypto::mac_eq(&expected, m) {
            return Err(Error::BadMac);
        }
        let mut plain = Zeroizing::new(e.to_vec());
        crypto::decrypt_cbc(CipherSuite::Des3, &self.k_enc, &[0; 8], &mut plain)?;
        Ok(plain)
    }
}

/// K_seed: the first 16 bytes of SHA-1 of the MRZ information.
pub fn key_seed(mrz: &MrzKey) -> Zeroizing<Vec<u8>> {
    let mut seed = crypto::sha1(mrz.as_str().as_bytes());
    seed.truncate(16);
    seed
}

/// The session keys from K.IFD ⊕ K.IC and the SSC from the two nonces.
fn session(
    k_ifd: &[u8],
    k_ic: &[u8],
    rnd_ic: &[u8; 8],
    rnd_ifd: &[u8; 8],
) -> Result<SmSession, Error> {
    let seed: Zeroizing<Vec<u8>> =
        Zeroizing::new(k_ifd.iter().zip(k_ic).map(|(a, b)| a ^ b).collect());
    let keys = SessionKeys::derive(CipherSuite::Des3, &seed);
    let mut ssc = [0u8; 8];
    ssc[..4].copy_from_slice(&rnd_ic[4..]);
    ssc[4..].copy_from_slice(&rnd_ifd[4..]);
    SmSession::new(keys, Ssc::new(&ssc)?)
}

/// The terminal after sending MUTUAL AUTHENTICATE, waiting for the chip's answer.
pub struct BacAuthentication {
    keys: BacKeys,
    rnd_ic: [u8; 8],
    rnd_ifd: [u8; 8],
    k_ifd: Zeroizing<[u8; 16]>,
}

impl core::fmt::Debug for BacAuthentication {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("BacAuthentication([redacted])")
    }
}

impl BacAuthentication {
    /// Checks the chip's answer (its MAC, and that it returns our RND.IFD and its RND.IC)
    /// and derives the secure-messaging session.
    pub fn finish(self, response: &Response) -> Result<SmSession, Error> {
        match response.sw {
            StatusWord::Success => {}
            sw if refuses_key(sw) => return Err(Error::WrongAccessKey),
            sw => return Err(Error::Status(sw)),
        }
        let r = self.keys.open(&response.data).map_err(|e| match e {
            Error::BadMac => Error::AuthenticationFailed("chip's MUTUAL AUTHENTICATE MAC"),
            e => e,
        })?;
        let (rnd_ic, rest) = r.split_at(8);
        let (rnd_ifd, k_ic) = rest.split_at(8);
        if rnd_ic != self.rnd_ic || rnd_ifd != self.rnd_ifd {
            return Err(Error::AuthenticationFailed(
                "chip did not return the nonces",
            ));
        }
        session(self.k_ifd.as_ref(), k_ic, &self.rnd_ic, &self.rnd_ifd)
    }
}

/// Status words with which chips refuse a MUTUAL AUTHENTICATE made with a wrong key.
fn refuses_key(sw: StatusWord) -> bool {
    matches!(
        sw,
        StatusWord::SecurityStatusNotSatisfied
            | StatusWord::AuthenticationFailed
            | StatusWord::VerificationFailed { .. }
            | StatusWord::IncorrectData
            | StatusWord::SmDataObjectsIncorrect
            | StatusWord::ConditionsNotSatisfied
    )
}

/// Opens `card` with BAC: GET CHALLENGE, MUTUAL AUTHENTICATE, then a secure channel.
pub fn open<C: Card>(
    mut card: C,
    mrz: &MrzKey,
    rng: &mut impl CryptoRng,
) -> Result<SecureChannel<C>, Error> {
    let challenge = card
        .exchange(&Command::new(0x00, INS_GET_CHALLENGE, 0x00, 0x00).with_le(8))?
        .into_data()?;
    let rnd_ic: [u8; 8] = challenge
        .as_slice()
        .try_into()
        .map_err(|_| Error::Malformed("GET CHALLENGE answer must be 8 bytes"))?;
    let (command, pending) = BacKeys::derive(mrz).authenticate(rnd_ic, rng)?;
    let response = card.exchange(&command)?;
    let session = pending.finish(&response)?;
    tracing::debug!("BAC established");
    Ok(SecureChannel::new(card, session))
}

/// The chip's side of BAC, for the card emulator.
#[derive(Debug)]
pub struct ChipBac {
    keys: BacKeys,
    rnd_ic: Option<[u8; 8]>,
}

impl ChipBac {
    /// The chip's BAC state for a card whose MRZ information is `mrz`.
    pub fn new(mrz: &MrzKey) -> ChipBac {
        ChipBac {
            keys: BacKeys::derive(mrz),
            rnd_ic: None,
        }
    }

    /// Answers GET CHALLENGE with a fresh RND.IC.
    pub fn challenge(&mut self, rng: &mut impl CryptoRng) -> [u8; 8] {
        let mut rnd_ic = [0u8; 8];
        rng.fill_bytes(&mut rnd_ic);
        self.rnd_ic = Some(rnd_ic);
        rnd_ic
    }

    /// Answers MUTUAL AUTHENTICATE: on success the response data and the session.
    /// A wrong key is answered 6300 and leaves the chip as it was (no lockout).
    pub(crate) fn mutual_authenticate(
        &mut self,
        data: &[u8],
        rng: &mut impl CryptoRng,
    ) -> Result<(Vec<u8>, SmSession), StatusWord> {
        // A challenge is good for one attempt only.
        let rnd_ic = self
            .rnd_ic
            .take()
            .ok_or(StatusWord::ConditionsNotSatisfied)?;
        let s = self
            .keys
            .open(data)
            .map_err(|_| StatusWord::AuthenticationFailed)?;
        let (rnd_ifd, rest) = s.split_at(8);
        let (echoed_ic, k_ifd) = rest.split_at(8);
        if echoed_ic != rnd_ic {
            return Err(StatusWord::AuthenticationFailed);
        }
        let rnd_ifd: [u8; 8] = rnd_ifd
            .try_into()
            .map_err(|_| StatusWord::AuthenticationFailed)?;
        let mut k_ic = Zeroizing::new([0u8; 16]);
        rng.fill_bytes(k_ic.as_mut());
        let mut r = Zeroizing::new(Vec::with_capacity(32));
        r.extend_from_slice(&rnd_ic);
        r.extend_from_slice(&rnd_ifd);
        r.extend_from_slice(k_ic.as_ref());
        let answer = self
            .keys
            .seal(&r)
            .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        let session = session(k_ifd, k_ic.as_ref(), &rnd_ic, &rnd_ifd)
            .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        Ok((answer, session))
    }
}
