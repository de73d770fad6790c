//! The verdict against hostile cards: a simulated card whose EF.SOD (signed here, over
//! any subset of its data groups), data groups, EF.COM and chip answers are chosen by
//! the input. The whole reading pipeline runs, and the target asserts the property the
//! verdict stands for: `genuine` only when every data group read matched the hash the
//! signed EF.SOD holds for it, and every chip proof the signed data requires ran and was
//! valid; data outside the signed set never reaches the identity.
#![no_main]
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use apdu::emulator::CardEmulator;
use apdu::rng::ScriptedRng;
use apdu::{Card, Command, Error, Response, StatusWord};
use cancuoc::lds::ef_com::EfCom;
use cancuoc::lds::{DataGroup, LdsFile};
use cancuoc::session::access_input::AccessInput;
use cancuoc::session::result::Verdict;
use cancuoc::session::{ReadPolicy, ReadRequest, read_card};
use cancuoc::sim::profile::{self, LoadOptions, Profile};
use cancuoc::pki::certificate::Certificate;
use apdu::rng::DeterministicRng;
use cancuoc::sim::issue::{PrivateKey, SodOptions, issue_sod};
use cancuoc::pki::signature::SignatureAlgorithm;
use apdu::hash::HashAlgorithm;
use cancuoc::pki::pem;
use cancuoc::trust::TrustStore;
use libfuzzer_sys::fuzz_target;

struct Fixture {
    profiles: Vec<Profile>,
    trust: TrustStore,
    ds: Certificate,
    ds_key: PrivateKey,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let pki = profile::fixtures_dir().join("pki");
        let read = |name: &str| std::fs::read(pki.join(name)).expect("test PKI file");
        let der = |name: &str| {
            pem::decode_all(&read(name))
                .into_iter()
                .find_map(|(label, b)| (label == "CERTIFICATE").then_some(b).and_then(Result::ok))
                .expect("a certificate")
        };
        let mut trust = TrustStore::new();
        trust
            .load_bytes(&read("csca.pem"), "csca.pem")
            .expect("the test CSCA");
        let profiles = ["vn-cccd", "vn-cccd-bac"]
            .into_iter()
            .map(|name| profile::load(name, &LoadOptions::default()).expect("profile"))
            .collect();
        Fixture {
            profiles,
            trust,
            ds: Certificate::from_der(&der("ds-p384.pem")).expect("DS"),
            ds_key: PrivateKey::from_pem(&read("ds-p384.key.pem")).expect("DS key"),
        }
    })
}

/// A card that answers the chip-proof commands (MSE, GENERAL AUTHENTICATE, INTERNAL
/// AUTHENTICATE) sent inside the secure channel with a status word of the input's
/// choosing, and records whether it did.
struct Refusing {
    chip: CardEmulator<ScriptedRng>,
    refuse: Option<(u8, u16)>,
    refused: bool,
}

impl Card for Refusing {
    fn transmit(&mut self, command: &Command) -> Result<Response, Error> {
        let protected = command.cla & 0x0C != 0;
        if let Some((ins, sw)) = self.refuse
            && protected
            && command.ins == ins
        {
            self.refused = true;
            let [sw1, sw2] = sw.to_be_bytes();
            return Ok(Response {
                data: Vec::new(),
                sw: StatusWord::new(sw1, sw2),
            });
        }
        self.chip.transmit(command)
    }

    fn extended_length(&self) -> bool {
        self.chip.extended_length()
    }
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let mut bytes = data.iter().copied();
    let mut next = || bytes.next().unwrap_or(0);
    let Some(profile) = f.profiles.get(usize::from(next() % 2)) else {
        return;
    };
    let mut image = profile.image.clone();
    let groups_served: BTreeMap<u8, Vec<u8>> = DataGroup::all()
        .filter_map(|dg| Some((dg.number(), profile.file(LdsFile::DataGroup(dg))?.to_vec())))
        .collect();

    // Which data groups the new EF.SOD hashes, which are changed after signing, which the
    // chip no longer has.
    let signed_mask = u16::from_le_bytes([next(), next()]);
    let tamper_mask = u16::from_le_bytes([next(), next()]);
    let remove_mask = u16::from_le_bytes([next(), next()]);
    let bit = |mask: u16, n: u8| mask & (1 << (n - 1)) != 0;
    let resign = next() & 1 == 1;
    let signed: BTreeMap<u8, Vec<u8>> = if resign {
        groups_served
            .iter()
            .filter(|(n, _)| bit(signed_mask, **n))
            .map(|(n, b)| (*n, b.clone()))
            .collect()
    } else {
        groups_served.clone()
    };
    let Some(files) = image.applications.values_mut().next() else {
        return;
    };
    if resign {
        let options = SodOptions {
            hash: HashAlgorithm::Sha256,
            signature: SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
            version_info: None,
            extra_certificates: Vec::new(),
        };
        let mut rng = DeterministicRng::new(b"fuzz", "EF.SOD");
        let Ok(sod) = issue_sod(&signed, &f.ds, &f.ds_key, &options, &mut rng) else {
            return;
        };
        if let Some(file) = files.get_mut(&LdsFile::Sod.fid()) {
            file.data = sod;
        }
    }
    // Changed after signing, and no longer on the chip (it answers 6A82).
    let mut changed = BTreeSet::new();
    let mut removed = BTreeSet::new();
    for n in 1..=16u8 {
        let Some(dg) = DataGroup::new(n) else { continue };
        let fid = LdsFile::DataGroup(dg).fid();
        if bit(remove_mask, n) {
            if files.remove(&fid).is_some() {
                removed.insert(n);
            }
        } else if bit(tamper_mask, n)
            && let Some(file) = files.get_mut(&fid)
        {
            let at = usize::from(next()) % file.data.len().max(1);
            if let Some(b) = file.data.get_mut(at) {
                *b ^= next() | 1;
                changed.insert(n);
            }
        }
    }
    // EF.COM lists what the input says.
    let listed: Vec<DataGroup> = (1..=16u8)
        .filter(|n| bit(u16::from_le_bytes([next(), next()]), *n))
        .filter_map(DataGroup::new)
        .collect();
    if let (Ok(com), Some(file)) = (EfCom::new(&listed).encode(), files.get_mut(&LdsFile::Com.fid()))
    {
        file.data = com;
    }
    // A clone: without the chip's keys.
    let clone = next();
    if clone & 1 == 1 {
        image.chip_authentication = None;
    }
    if clone & 2 == 2 {
        image.active_authentication = None;
    }
    let refuse = match next() % 4 {
        1 => Some((0x22, u16::from_be_bytes([next(), next()]))),
        2 => Some((0x86, u16::from_be_bytes([next(), next()]))),
        3 => Some((0x88, u16::from_be_bytes([next(), next()]))),
        _ => None,
    };
    let refused_ins = refuse.map(|(ins, _)| ins);

    let mut card = Refusing {
        chip: CardEmulator::with_rng(image, ScriptedRng::from_seed(1)),
        refuse,
        refused: false,
    };
    let input = AccessInput::IdNumber {
        id_number: profile.printed.id_number.clone(),
        birth: Some(profile.printed.birth.clone()),
        expiry: Some(profile.printed.expiry.clone()),
    };
    let Ok(access) = input.to_key() else {
        return;
    };
    let request = ReadRequest {
        access,
        face: None,
        raw: next() & 1 == 1,
        skip: BTreeSet::new(),
        policy: ReadPolicy::default(),
    };
    let mut rng = ScriptedRng::from_seed(2);
    let Ok((result, _)) = read_card(&mut card, &request, &f.trust, &mut rng, &mut |_| {}) else {
        return;
    };
    if result.verification.verdict != Verdict::Genuine {
        return;
    }
    // Genuine: every signed data group the read needs was served as signed, or not at
    // all (a chip may refuse a data group; what it gives must be what was signed) …
    for n in [1u8, 11, 12, 13, 14, 15] {
        assert!(
            !(signed.contains_key(&n) && changed.contains(&n)),
            "genuine with DG{n} changed after signing: {:?}",
            result.verification
        );
    }
    // … the identity comes from signed data only …
    assert!(result.vn.is_none() || signed.contains_key(&13), "unsigned DG13 in the result");
    assert!(result.document.is_some() && signed.contains_key(&1));
    // … and a chip proof the signed data requires ran with the chip's own keys, unrefused:
    // chip authentication when DG14 (holding a key) is signed, else active authentication
    // when DG15 is.
    let ca_refused = card.refused && matches!(refused_ins, Some(0x22 | 0x86));
    let aa_refused = card.refused && refused_ins == Some(0x88);
    let intact = |n: u8| !changed.contains(&n) && !removed.contains(&n);
    if signed.contains_key(&14) && profile.chip_authentication.is_some() {
        assert!(
            clone & 1 == 0 && !ca_refused && intact(14),
            "genuine although chip authentication could not or would not run: {:?}",
            result.verification
        );
    } else if signed.contains_key(&15) {
        assert!(
            clone & 2 == 0 && !aa_refused && intact(15),
            "genuine although active authentication could not or would not run: {:?}",
            result.verification
        );
    }
});
