//! Tests against the third-party reference data in `../shared/data` (BSI TR-03105-5
//! data set, German master list). A test fails, naming the file, when it is missing.

use super::*;
use crate::lds::EF_SOD_TAG;
use apdu::asn1;
use apdu::tlv::Tlv;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The path of `rel` under the reference data folder; fails the test when missing.
pub(crate) fn shared_data(rel: &str) -> Option<PathBuf> {
    Some(crate::reference::path(&format!("data/{rel}")))
}

/// Data group files by number.
pub(crate) type DataGroupFiles = BTreeMap<u8, Vec<u8>>;

/// EF.SOD and the data groups of the BSI TR-03105-5 data set.
pub(crate) fn bsi_files() -> Option<(Vec<u8>, DataGroupFiles)> {
    let dir = shared_data("bsi-tr03105-5")?;
    let sod = std::fs::read(dir.join("EF_SOD.bin")).ok()?;
    let mut dgs = BTreeMap::new();
    for n in [1u8, 2, 3, 4, 14, 15] {
        dgs.insert(
            n,
            std::fs::read(dir.join(format!("Datagroup{n}.bin"))).ok()?,
        );
    }
    Some((sod, dgs))
}

/// Every certificate of the German master list, of the BSI data set's EF.SOD and of
/// the test PKI, parsed into [`Certificate`] and summed up field by field. The figure
/// was taken with the project's own X.509 reader before certificates moved onto
/// x509-parser; equal figures mean both readers see every field of every certificate
/// alike (names, times, keys with explicit curves, negative serials, extensions). OIDs
/// print in dotted form since they became [`apdu::asn1::Oid`]; printed as their content
/// octets, as they were held before, the sum is the earlier reader's,
/// `f924e37d16975f6956c3c5e9f81db938324e1ba88d7168f52fec9a30c2b06266`.
#[test]
fn trust_every_reference_certificate_parses_as_before() {
    use sha2::Digest;
    let Some(ml) = shared_data("masterlists/DE_ML_2024-12-19.ml") else {
        return;
    };
    let Some((sod, _)) = bsi_files() else {
        return;
    };
    let list = std::fs::read(&ml).unwrap();
    let mut ders: Vec<Vec<u8>> = Vec::new();
    let signed = cms::SignedData::from_content_info(&list).unwrap();
    let set = Tlv::parse_as(&signed.content, asn1::SEQUENCE, "list").unwrap();
    let mut r = set.reader();
    let _version = r.read().unwrap();
    let mut certs = r.expect(asn1::SET, "certList").unwrap().reader();
    while !certs.is_empty() {
        ders.push(certs.read().unwrap().raw().to_vec());
    }
    ders.extend(signed.certificates.iter().map(|c| c.der.clone()));
    let outer = Tlv::parse_as(&sod, EF_SOD_TAG, "sod").unwrap();
    let sod_signed = cms::SignedData::from_content_info(outer.value()).unwrap();
    ders.extend(sod_signed.certificates.iter().map(|c| c.der.clone()));
    let pki = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/pki"));
    let mut pems: Vec<_> = std::fs::read_dir(&pki)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pem"))
        .collect();
    pems.sort();
    for path in pems {
        for (label, der) in pem::decode_all(&std::fs::read(&path).unwrap()) {
            if label == "CERTIFICATE" {
                ders.push(der.unwrap());
            }
        }
    }
    assert_eq!(ders.len(), 551 + 1 + 1 + 15, "certificates found");
    let mut sum = sha2::Sha256::new();
    for der in &ders {
        let parsed = Certificate::from_der(der).map_err(|e| e.to_string());
        sum.update(format!("{parsed:?}\n").as_bytes());
    }
    assert_eq!(
        hex::encode(sum.finalize()),
        "96bca2afbef5a8d3c9906f7a15c45b099ed94d5020262857645ea5dd32f69cd2"
    );
}
