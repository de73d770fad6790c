//! Access to the reference data in `../shared` (never copied into the project).
#![allow(dead_code)]

use std::path::PathBuf;

/// The shared reference folder: `$CANCUOC_SHARED`, or `../shared` beside the workspace.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("CANCUOC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared")))
}

/// The ICAO 9303-11 worked examples.
pub fn vectors() -> serde_json::Value {
    let path = shared_dir().join("vectors/icao9303-11.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the ICAO 9303-11 worked examples are missing at {} ({e}); \
             put the shared reference folder beside the workspace or set CANCUOC_SHARED",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("vectors file is JSON")
}

/// The hex string at `group.field`, decoded.
pub fn hex_at(v: &serde_json::Value, field: &str) -> Vec<u8> {
    let s = v[field]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {field} missing"));
    hex::decode(s).unwrap_or_else(|e| panic!("vector field {field}: {e}"))
}

/// The string at `group.field`.
pub fn str_at<'a>(v: &'a serde_json::Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {field} missing"))
}

/// Hex field of a JSON object (panics with the field name when absent).
pub fn h(v: &serde_json::Value, key: &str) -> Vec<u8> {
    let s = v
        .get(key)
        .and_then(|x| x.as_str())
        .unwrap_or_else(|| panic!("vector field {key} missing"));
    hex::decode(s).unwrap_or_else(|e| panic!("vector field {key}: {e}"))
}

/// The chips the protocol tests run against: the access data, a file to read and the
/// one PACE configuration most tests need.
pub mod chip {
    use std::collections::BTreeMap;

    use apdu::crypto::CipherSuite;
    use apdu::emulator::{EmulatedFile, FileAccess};
    use apdu::mrz::MrzKey;
    use apdu::pace::Can;
    use apdu::read_binary::ICAO_AID;
    use apdu::security_infos::{KeyAgreement, Mapping, PaceInfo, PaceProtocol};

    /// The MRZ data most test chips answer BAC with.
    pub fn mrz() -> MrzKey {
        MrzKey::new("C01234567", "900101", "300101").unwrap()
    }

    /// The CAN most test chips answer PACE with.
    pub fn can() -> Can {
        Can::new("123456").unwrap()
    }

    /// A file of `len` value bytes under `tag`, with a two-byte length, its bytes
    /// counting up from zero.
    pub fn file(tag: u8, len: u16) -> Vec<u8> {
        let [high, low] = len.to_be_bytes();
        let mut f = vec![tag, 0x82, high, low];
        f.extend((0..u32::from(len)).map(|i| i as u8));
        f
    }

    /// PACE with ECDH, the generic mapping and AES-128, on standardized parameters `id`.
    pub fn pace_ecdh_gm_aes128(id: u64) -> PaceInfo {
        PaceInfo {
            protocol: PaceProtocol {
                agreement: KeyAgreement::Ecdh,
                mapping: Mapping::Generic,
                suite: CipherSuite::Aes128,
            },
            version: 2,
            parameter_id: Some(id),
        }
    }

    /// The LDS application holding one file under secure messaging, at SFI 1.
    pub fn one_file(fid: u16, data: Vec<u8>) -> BTreeMap<Vec<u8>, BTreeMap<u16, EmulatedFile>> {
        BTreeMap::from([(
            ICAO_AID.to_vec(),
            BTreeMap::from([(
                fid,
                EmulatedFile {
                    data,
                    access: FileAccess::SecureMessaging,
                    sfi: Some(1),
                },
            )]),
        )])
    }
}
