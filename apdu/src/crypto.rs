//! The symmetric primitives of ICAO 9303-11 secure messaging: the two cipher suites
//! (3DES with retail MAC, AES with CMAC), ISO/IEC 9797-1 padding method 2, and the key
//! derivation function of §9.7.1.

use cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use digest::{Digest, Mac};
use zeroize::Zeroizing;

use crate::Error;

/// The cipher suite a secure channel runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CipherSuite {
    /// Two-key 3DES in CBC mode with IV 0, ISO/IEC 9797-1 MAC algorithm 3 (BAC, PACE-3DES).
    Des3,
    /// AES-128 in CBC mode with IV = E(K_enc, SSC), CMAC truncated to 8 bytes.
    Aes128,
    /// AES-192, as [`CipherSuite::Aes128`].
    Aes192,
    /// AES-256, as [`CipherSuite::Aes128`].
    Aes256,
}

impl CipherSuite {
    /// Cipher block size: also the padding block and the SSC length.
    pub(crate) fn block_size(self) -> usize {
        match self {
            CipherSuite::Des3 => 8,
            _ => 16,
        }
    }

    /// Key length in bytes (3DES: two 8-byte DES keys).
    pub fn key_len(self) -> usize {
        match self {
            CipherSuite::Des3 | CipherSuite::Aes128 => 16,
            CipherSuite::Aes192 => 24,
            CipherSuite::Aes256 => 32,
        }
    }

    /// A short name ("3DES", "AES-128", …).
    pub fn name(self) -> &'static str {
        match self {
            CipherSuite::Des3 => "3DES",
            CipherSuite::Aes128 => "AES-128",
            CipherSuite::Aes192 => "AES-192",
            CipherSuite::Aes256 => "AES-256",
        }
    }
}

/// The purpose counter of the ICAO 9303-11 §9.7.1 key derivation function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyPurpose {
    /// Encryption key (counter 1).
    Enc = 1,
    /// MAC key (counter 2).
    Mac = 2,
    /// PACE password key K_π (counter 3).
    Password = 3,
}

/// A secret key: zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Zeroizing<Vec<u8>>);

impl core::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

impl SecretKey {
    /// Wraps key bytes.
    pub fn new(bytes: Vec<u8>) -> SecretKey {
        SecretKey(Zeroizing::new(bytes))
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// KDF(K, c) of ICAO 9303-11 §9.7.1: SHA-1 for 3DES and AES-128, SHA-256 for AES-192/256;
/// 3DES keys get DES parity bits.
///
/// ```
/// use apdu::crypto::{derive_key, CipherSuite, KeyPurpose};
/// let seed = hex_literal_free("239AB9CB282DAF66231DC5A4DF6BFBAE");
/// let k_enc = derive_key(&seed, KeyPurpose::Enc, CipherSuite::Des3);
/// assert_eq!(k_enc.as_bytes()[..4], [0xAB, 0x94, 0xFD, 0xEC]);
/// # fn hex_literal_free(s: &str) -> Vec<u8> {
/// #     (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
/// # }
/// ```
pub fn derive_key(secret: &[u8], purpose: KeyPurpose, suite: CipherSuite) -> SecretKey {
    let counter = (purpose as u32).to_be_bytes();
    let mut key = match suite {
        CipherSuite::Des3 | CipherSuite::Aes128 => {
            let mut h = sha1::Sha1::new();
            h.update(secret);
            h.update(counter);
            Zeroizing::new(h.finalize().to_vec())
        }
        CipherSuite::Aes192 | CipherSuite::Aes256 => {
            let mut h = sha2::Sha256::new();
            h.update(secret);
            h.update(counter);
            Zeroizing::new(h.finalize().to_vec())
        }
    };
    key.truncate(suite.key_len());
    if suite == CipherSuite::Des3 {
        for byte in key.iter_mut() {
            *byte = with_odd_parity(*byte);
        }
    }
    SecretKey(key)
}

/// Sets the lowest bit of a DES key byte so the byte has odd parity.
fn with_odd_parity(byte: u8) -> u8 {
    let high = byte & 0xFE;
    if high.count_ones() % 2 == 0 {
        high | 1
    } else {
        high
    }
}

/// ISO/IEC 9797-1 padding method 2: `80`, then `00` up to a multiple of `block`.
pub fn pad(data: &[u8], block: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + block);
    out.extend_from_slice(data);
    out.push(0x80);
    while out.len() % block != 0 {
        out.push(0x00);
    }
    out
}

/// Removes ISO/IEC 9797-1 padding method 2; the padding must be within the last block.
pub fn unpad(data: &[u8], block: usize) -> Result<&[u8], Error> {
    if data.is_empty() || data.len() % block != 0 {
        return Err(Error::BadPadding);
    }
    let marker = data
        .iter()
        .rposition(|b| *b != 0x00)
        .ok_or(Error::BadPadding)?;
    if data.get(marker) != Some(&0x80) || data.len() - marker > block {
        return Err(Error::BadPadding);
    }
    Ok(&data[..marker])
}

type Des3 = des::TdesEde2;

fn des3(key: &[u8]) -> Result<Des3, Error> {
    Des3::new_from_slice(key).map_err(|_| Error::Crypto("3DES key must be 16 bytes"))
}

fn cbc_encrypt<C: BlockCipherEncrypt>(cipher: &C, iv: &[u8], data: &mut [u8]) {
    let mut chain = Array::<u8, C::BlockSize>::default();
    chain.copy_from_slice(iv);
    for chunk in data.chunks_exact_mut(chain.len()) {
        for (c, d) in chain.iter_mut().zip(chunk.iter()) {
            *c ^= d;
        }
        cipher.encrypt_block(&mut chain);
        chunk.copy_from_slice(&chain);
    }
}

fn cbc_decrypt<C: BlockCipherDecrypt>(cipher: &C, iv: &[u8], data: &mut [u8]) {
    let mut previous = Array::<u8, C::BlockSize>::default();
    previous.copy_from_slice(iv);
    let mut block = Array::<u8, C::BlockSize>::default();
    for chunk in data.chunks_exact_mut(block.len()) {
        block.copy_from_slice(chunk);
        let ciphertext = block.clone();
        cipher.decrypt_block(&mut block);
        for (out, (b, p)) in chunk.iter_mut().zip(block.iter().zip(previous.iter())) {
            *out = b ^ p;
        }
        previous = ciphertext;
    }
}

fn aes_op(key: &[u8], f: impl FnOnce(&dyn AesOps)) -> Result<(), Error> {
    let bad = || Error::Crypto("AES key must be 16, 24 or 32 bytes");
    match key.len() {
        16 => f(&aes::Aes128::new_from_slice(key).map_err(|_| bad())?),
        24 => f(&aes::Aes192::new_from_slice(key).map_err(|_| bad())?),
        32 => f(&aes::Aes256::new_from_slice(key).map_err(|_| bad())?),
        _ => return Err(bad()),
    }
    Ok(())
}

/// AES in its three key sizes behind one object-safe face.
trait AesOps {
    fn encrypt_cbc(&self, iv: &[u8], data: &mut [u8]);
    fn decrypt_cbc(&self, iv: &[u8], data: &mut [u8]);
    fn cmac(&self, key: &[u8], data: &[u8]) -> Vec<u8>;
}

macro_rules! aes_ops {
    ($($t:ty),*) => {$(
        impl AesOps for $t {
            fn encrypt_cbc(&self, iv: &[u8], data: &mut [u8]) {
                cbc_encrypt(self, iv, data)
            }
            fn decrypt_cbc(&self, iv: &[u8], data: &mut [u8]) {
                cbc_decrypt(self, iv, data)
            }
            fn cmac(&self, key: &[u8], data: &[u8]) -> Vec<u8> {
                match <cmac::Cmac<$t> as KeyInit>::new_from_slice(key) {
                    Ok(mut mac) => {
                        mac.update(data);
                        mac.finalize().into_bytes().to_vec()
                    }
                    Err(_) => Vec::new(),
                }
            }
        }
    )*};
}
aes_ops!(aes::Aes128, aes::Aes192, aes::Aes256);

/// Encrypts `data` (a multiple of the block size) in CBC mode under `key` with `iv`.
pub(crate) fn encrypt_cbc(
    suite: CipherSuite,
    key: &SecretKey,
    iv: &[u8],
    data: &mut [u8],
) -> Result<(), Error> {
    check_cbc_input(suite, iv, data)?;
    match suite {
        CipherSuite::Des3 => cbc_encrypt(&des3(key.as_bytes())?, iv, data),
        _ => aes_op(key.as_bytes(), |aes| aes.encrypt_cbc(iv, data))?,
    }
    Ok(())
}

/// Decrypts `data` (a multiple of the block size) in CBC mode under `key` with `iv`.
pub fn decrypt_cbc(
    suite: CipherSuite,
    key: &SecretKey,
    iv: &[u8],
    data: &mut [u8],
) -> Result<(), Error> {
    check_cbc_input(suite, iv, data)?;
    match suite {
        CipherSuite::Des3 => cbc_decrypt(&des3(key.as_bytes())?, iv, data),
        _ => aes_op(key.as_bytes(), |aes| aes.decrypt_cbc(iv, data))?,
    }
    Ok(())
}

fn check_cbc_input(suite: CipherSuite, iv: &[u8], data: &[u8]) -> Result<(), Error> {
    let block = suite.block_size();
    if iv.len() != block {
        return Err(Error::Crypto("IV length differs from the block size"));
    }
    if data.len() % block != 0 {
        return Err(Error::Crypto("data is not a multiple of the block size"));
    }
    Ok(())
}

/// Encrypts one block in ECB mode (the AES secure-messaging IV, E(K_enc, SSC)).
pub fn encrypt_block(suite: CipherSuite, key: &SecretKey, block: &mut [u8]) -> Result<(), Error> {
    let zero = vec![0u8; suite.block_size()];
    encrypt_cbc(suite, key, &zero, block)
}

/// The 8-byte secure-messaging MAC of `data`, which the caller has already padded:
/// retail MAC (ISO/IEC 9797-1 MAC algorithm 3) for 3DES, CMAC truncated for AES.
pub fn mac(suite: CipherSuite, key: &SecretKey, padded: &[u8]) -> Result<[u8; 8], Error> {
    if padded.is_empty() || padded.len() % suite.block_size() != 0 {
        return Err(Error::Crypto("MAC input is not padded"));
    }
    let full = match suite {
        CipherSuite::Des3 => {
            let mut mac =
                <retail_mac::RetailMac<des::Des> as KeyInit>::new_from_slice(key.as_bytes())
                    .map_err(|_| Error::Crypto("retail MAC key must be 16 bytes"))?;
            mac.update(padded);
            mac.finalize().into_bytes().to_vec()
        }
        _ => {
            let mut out = Vec::new();
            aes_op(key.as_bytes(), |aes| out = aes.cmac(key.as_bytes(), padded))?;
            out
        }
    };
    full.get(..8)
        .and_then(|m| <[u8; 8]>::try_from(m).ok())
        .ok_or(Error::Crypto("MAC shorter than 8 bytes"))
}

/// AES-CMAC of unpadded `data`, truncated to 8 bytes (PACE and chip authentication
/// tokens); the key length picks AES-128, -192 or -256.
pub(crate) fn cmac(key: &SecretKey, data: &[u8]) -> Result<[u8; 8], Error> {
    let mut out = Vec::new();
    aes_op(key.as_bytes(), |aes| out = aes.cmac(key.as_bytes(), data))?;
    out.get(..8)
        .and_then(|m| <[u8; 8]>::try_from(m).ok())
        .ok_or(Error::Crypto("CMAC shorter than 8 bytes"))
}

/// Compares two MACs without leaking where they differ.
pub fn mac_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// SHA-1 of `data` (BAC key seed).
pub fn sha1(data: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(sha1::Sha1::digest(data).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_round_trips_and_rejects_bad_padding() {
        assert_eq!(pad(&[], 8), vec![0x80, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(pad(&[1; 8], 8).len(), 16);
        assert_eq!(unpad(&pad(&[1, 2, 3], 8), 8).unwrap(), &[1, 2, 3]);
        assert_eq!(unpad(&pad(&[0x80, 0], 16), 16).unwrap(), &[0x80, 0]);
        assert!(unpad(&[0; 8], 8).is_err());
        assert!(unpad(&[1, 2, 3, 4, 5, 6, 7, 8], 8).is_err());
        assert!(unpad(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8).is_err());
        assert!(unpad(&[1, 0x80, 0], 8).is_err());
        assert!(unpad(&[], 8).is_err());
    }

    #[test]
    fn cbc_round_trips_for_every_suite() {
        for suite in [
            CipherSuite::Des3,
            CipherSuite::Aes128,
            CipherSuite::Aes192,
            CipherSuite::Aes256,
        ] {
            let key = SecretKey::new((0..suite.key_len() as u8).collect());
            let iv = vec![7u8; suite.block_size()];
            let plain = pad(b"secure messaging", suite.block_size());
            let mut data = plain.clone();
            encrypt_cbc(suite, &key, &iv, &mut data).unwrap();
            assert_ne!(data, plain);
            decrypt_cbc(suite, &key, &iv, &mut data).unwrap();
            assert_eq!(data, plain);
            assert!(encrypt_cbc(suite, &key, &iv, &mut [0u8; 5]).is_err());
            assert_eq!(mac(suite, &key, &plain).unwrap().len(), 8);
        }
    }

    #[test]
    fn aes_cmac_matches_rfc_4493() {
        // RFC 4493 §4, example 2 (16-byte message); the MAC input here is not padded by
        // ISO 9797-1 because it is already one block, which is what CMAC sees as well.
        let key = SecretKey::new(hex("2b7e151628aed2a6abf7158809cf4f3c"));
        let msg = hex("6bc1bee22e409f96e93d7e117393172a");
        assert_eq!(
            mac(CipherSuite::Aes128, &key, &msg).unwrap().to_vec(),
            hex("070a16b46b4d4144")
        );
    }

    #[test]
    fn keys_are_redacted() {
        assert_eq!(
            format!("{:?}", SecretKey::new(vec![1, 2])),
            "SecretKey([redacted])"
        );
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
