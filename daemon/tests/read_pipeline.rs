//! The whole read, in process: each simulated card read through the pipeline gives the
//! identity its profile defines and the right verdict; a forged data group is caught; a
//! wrong CAN is refused; the APDU count is the minimum for the card.

use std::collections::{BTreeMap, BTreeSet};

use apdu::emulator::CardEmulator;
use apdu::rng::ScriptedRng;
use cancuoc::lds::dg2::OutputFormat;
use cancuoc::session::access_input::AccessInput;
use cancuoc::session::result::{AccessCheck, ChipMethod, ChipStatus, ReadResult, Verdict};
use cancuoc::session::{self, ReadError, ReadPolicy, ReadRequest};
use cancuoc::sim::profile::{self, LoadOptions, Profile};
use cancuoc::trust::TrustStore;

fn load(name: &str) -> Profile {
    profile::load(name, &LoadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn trust(profile: &Profile) -> TrustStore {
    let mut store = TrustStore::new();
    if let Some(csca) = &profile.csca {
        store.load_path(csca).unwrap();
    }
    store
}

fn read(profile: &Profile, access: AccessInput, face: bool) -> Result<ReadResult, ReadError> {
    let mut chip = CardEmulator::with_rng(profile.image.clone(), ScriptedRng::from_seed(5));
    let request = ReadRequest {
        access: access.to_key().unwrap(),
        face: face.then_some(OutputFormat::Jpeg),
        raw: false,
        skip: BTreeSet::new(),
        policy: Default::default(),
    };
    let mut steps = Vec::new();
    let result = session::read_card(
        &mut chip,
        &request,
        &trust(profile),
        &mut ScriptedRng::from_seed(6),
        &mut |p| steps.push(p.step.name()),
    );
    if result.is_ok() {
        assert_eq!(steps.first().map(String::as_str), Some("access"));
        assert_eq!(steps.last().map(String::as_str), Some("done"));
    }
    result.map(|(r, _)| r)
}

#[test]
fn vn_cccd_with_every_access_form() {
    let p = load("vn-cccd");
    let printed = &p.printed;
    let forms = [
        AccessInput::IdNumber {
            id_number: printed.id_number.clone(),
            birth: None,
            expiry: None,
        },
        AccessInput::Qr {
            qr: format!(
                "{}|012345678|Đặng Thị Thu Hà|17051989|Nữ|Hà Nội|10072021",
                printed.id_number
            ),
        },
        AccessInput::Document {
            document_number: printed.document_number.clone(),
            birth: printed.birth.clone(),
            expiry: printed.expiry.clone(),
        },
    ];
    for access in forms {
        let r = read(&p, access.clone(), true).unwrap_or_else(|e| panic!("{access:?}: {e}"));
        assert_eq!(
            r.verification.verdict,
            Verdict::Genuine,
            "{:?}",
            r.verification
        );
        assert!(
            r.verification
                .access
                .starts_with("PACE-ECDH-GM-AES-128 brainpoolP256r1")
        );
        assert_eq!(r.verification.chip.method, ChipMethod::ChipAuthentication);
        assert_eq!(r.verification.chip.status, ChipStatus::Valid);
        let vn = r.vn.as_ref().expect("DG13");
        assert_eq!(vn.full_name.as_deref(), Some("Đặng Thị Thu Hà"));
        assert_eq!(vn.id_number.as_deref(), Some(printed.id_number.as_str()));
        assert_eq!(r.document.as_ref().unwrap().number, printed.document_number);
        assert_eq!(r.holder.as_ref().unwrap().surname, "DANG");
        let face = r.face.as_ref().expect("face");
        assert_eq!(face.format, "jpeg");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["verification"]["verdict"], "genuine");
        assert_eq!(json["verification"]["passive"]["status"], "valid");
        assert_eq!(
            json["verification"]["passive"]["data_groups"]["DG3"],
            "not-read"
        );
    }
}

#[test]
fn older_bac_card_passport_and_the_bsi_specimen() {
    let p = load("vn-cccd-bac");
    let r = read(
        &p,
        AccessInput::IdNumber {
            id_number: p.printed.id_number.clone(),
            birth: Some(p.printed.birth.clone()),
            expiry: Some(p.printed.expiry.clone()),
        },
        false,
    )
    .unwrap();
    assert_eq!(r.verification.access, "BAC");
    assert_eq!(
        r.verification.verdict,
        Verdict::Genuine,
        "{:?}",
        r.verification
    );

    let p = load("passport");
    let r = read(
        &p,
        AccessInput::Document {
            document_number: p.printed.document_number.clone(),
            birth: p.printed.birth.clone(),
            expiry: p.printed.expiry.clone(),
        },
        false,
    )
    .unwrap();
    assert_eq!(r.document.as_ref().unwrap().kind, "passport");
    assert_eq!(
        r.verification.verdict,
        Verdict::Genuine,
        "{:?}",
        r.verification
    );

    let p = load("bsi-reference");
    let r = read(
        &p,
        AccessInput::Document {
            document_number: "C11T002JM".into(),
            birth: "960812".into(),
            expiry: "231031".into(),
        },
        true,
    )
    .unwrap();
    assert_eq!(r.holder.as_ref().unwrap().surname, "MUSTERMANN");
    // Its CSCA is not given: every hash checks, the chip proves its key, not verified.
    assert_eq!(r.verification.verdict, Verdict::NotVerified);
    let json = serde_json::to_value(&r.verification).unwrap();
    assert_eq!(json["passive"]["status"], "no-trust-anchor");
    for dg in ["DG1", "DG2", "DG14"] {
        assert_eq!(json["passive"]["data_groups"][dg], "ok", "{dg}");
    }
    assert_eq!(json["chip"]["method"], "chip-authentication");
    assert_eq!(json["chip"]["status"], "valid", "{json}");
}

#[test]
fn a_wrong_can_is_refused() {
    let p = load("vn-cccd");
    let err = read(
        &p,
        AccessInput::Can {
            can: "000000".into(),
        },
        false,
    )
    .unwrap_err();
    assert!(matches!(err, ReadError::WrongAccessKey), "{err:?}");
}

#[test]
fn a_tampered_dg13_is_forged() {
    let mut p = load("vn-cccd");
    let files = p
        .image
        .applications
        .values_mut()
        .next()
        .expect("application");
    let dg13 = files.get_mut(&0x010D).expect("DG13");
    let last = dg13.data.len() - 1;
    dg13.data[last] ^= 0x01;
    let r = read(
        &p,
        AccessInput::IdNumber {
            id_number: p.printed.id_number.clone(),
            birth: None,
            expiry: None,
        },
        false,
    )
    .unwrap();
    assert_eq!(r.verification.verdict, Verdict::Forged);
    let json = serde_json::to_value(&r.verification).unwrap();
    assert_eq!(json["passive"]["data_groups"]["DG13"], "mismatch");
}

/// The fewest READ BINARY commands a terminal can read `sizes` with when the card
/// returns at most `chunk` bytes a command: ⌈size / chunk⌉ per file, the first answer
/// carrying the header (no header-only read).
fn minimum_reads(sizes: &[usize], chunk: usize) -> usize {
    sizes.iter().map(|size| size.div_ceil(chunk)).sum()
}

/// The chip of a profile as a reader sees it: extended length as its ATR says it, or
/// not at all (the chip itself may take more).
struct AsAnnounced<'a> {
    chip: &'a mut CardEmulator<ScriptedRng>,
    announced: Option<bool>,
}

impl apdu::Card for AsAnnounced<'_> {
    fn transmit(&mut self, command: &apdu::Command) -> Result<apdu::Response, apdu::Error> {
        self.chip.transmit(command)
    }

    fn extended_length(&self) -> bool {
        self.announced == Some(true)
    }

    fn extended_length_announced(&self) -> Option<bool> {
        self.announced
    }
}

#[test]
fn read_binary_economy_for_every_profile() {
    use apdu::crypto::CipherSuite;
    use apdu::secure_messaging::max_plain_response;
    for (name, access) in [
        ("vn-cccd", None),
        ("vn-cccd-ext-unannounced", None),
        ("vn-cccd-le224", None),
        ("vn-cccd-bac", Some(true)),
        ("passport", Some(false)),
        ("bsi-reference", Some(false)),
    ] {
        let p = load(name);
        let input = match access {
            None => AccessInput::Can {
                can: p.printed.can.clone(),
            },
            Some(_) => AccessInput::Document {
                document_number: p.printed.document_number.clone(),
                birth: p.printed.birth.clone(),
                expiry: p.printed.expiry.clone(),
            },
        };
        let announced = cancuoc::transport::atr::Atr::parse(&p.image.atr)
            .unwrap()
            .extended_length_announced();
        let mut chip = CardEmulator::with_rng(p.image.clone(), ScriptedRng::from_seed(5));
        let request = ReadRequest {
            access: input.to_key().unwrap(),
            face: Some(OutputFormat::Jpeg),
            raw: false,
            skip: BTreeSet::new(),
            policy: Default::default(),
        };
        let (result, _) = session::read_card(
            &mut AsAnnounced {
                chip: &mut chip,
                announced,
            },
            &request,
            &trust(&p),
            &mut ScriptedRng::from_seed(6),
            &mut |_| {},
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        // The BSI specimen is signed by a CSCA of no state: not-verified by design.
        if name != "bsi-reference" {
            assert_eq!(result.verification.verdict, Verdict::Genuine, "{name}");
        }
        let stats = chip.stats();
        // No file is read twice.
        for (fid, n) in &stats.reads_from_start {
            assert_eq!(*n, 1, "{name}: file {fid:04X} read {n} times");
        }
        // The sizes of what was read, and the largest chunk this chip and link allow.
        let image = chip.image();
        let sizes: Vec<usize> = stats
            .files_read
            .iter()
            .map(|fid| {
                image
                    .master_files
                    .get(fid)
                    .or_else(|| image.applications.values().find_map(|f| f.get(fid)))
                    .map(|f| f.data.len())
                    .unwrap()
            })
            .collect();
        let limits = image.limits;
        let suite = if result.verification.access == "BAC" {
            CipherSuite::Des3
        } else {
            CipherSuite::Aes128
        };
        let short = max_plain_response(suite, 256);
        let expected = match announced {
            Some(announced) => {
                let link = if announced { 65536 } else { 256 };
                let terminal_first = max_plain_response(suite, link);
                let chunk = terminal_first.min(limits.max_le);
                // A chip whose limit is below what the link allows refuses one command
                // (6700 or 6Cxx) before the terminal knows it; no terminal can know it
                // sooner.
                let probes = usize::from(limits.max_le < terminal_first)
                    // A chip that refuses READ BINARY by SFI does so once; files are
                    // selected then.
                    + usize::from(image.sfi_unsupported);
                minimum_reads(&sizes, chunk) + probes
            }
            // Not announced: the first file larger than a short answer is finished with
            // one extended READ BINARY, which decides for the rest of the read.
            None if limits.extended_length => {
                let first_large = sizes.iter().position(|s| *s > short).unwrap();
                let before = minimum_reads(&sizes[..first_large], short);
                let rest = sizes.len() - first_large - 1;
                assert!(before <= first_large, "{name}: small files cost one each");
                before + 2 + rest
            }
            None => minimum_reads(&sizes, short.min(limits.max_le)) + 1,
        };
        assert_eq!(
            stats.read_binary, expected,
            "{name}: sizes {sizes:?}, short chunk {short}"
        );
        if announced.is_none() && limits.extended_length {
            assert!(expected <= 2 * sizes.len(), "{name}: at most two per file");
        }
    }
}

/// `profile` with its data groups replaced by `groups` (number → bytes; the others
/// removed), EF.COM listing `listed`, and EF.SOD signed again over `signed` by the test
/// PKI's P-384 document signer.
fn reissued(
    mut profile: Profile,
    groups: &BTreeMap<u8, Vec<u8>>,
    listed: &[u8],
    signed: &[u8],
) -> Profile {
    use apdu::hash::HashAlgorithm;
    use apdu::rng::DeterministicRng;
    use cancuoc::lds::ef_com::EfCom;
    use cancuoc::lds::{DataGroup, LdsFile};
    use cancuoc::pki::certificate::Certificate;
    use cancuoc::pki::signature::SignatureAlgorithm;
    use cancuoc::sim::issue::{PrivateKey, SodOptions, issue_sod};
    let pki = profile::fixtures_dir().join("pki");
    let pem = std::fs::read(pki.join("ds-p384.pem")).unwrap();
    let der = cancuoc::pki::pem::decode_all(&pem)
        .into_iter()
        .find_map(|(label, b)| (label == "CERTIFICATE").then_some(b).and_then(Result::ok))
        .unwrap();
    let ds = Certificate::from_der(&der).unwrap();
    let key = PrivateKey::from_pem(&std::fs::read(pki.join("ds-p384.key.pem")).unwrap()).unwrap();
    let to_sign: BTreeMap<u8, Vec<u8>> = groups
        .iter()
        .filter(|(n, _)| signed.contains(n))
        .map(|(n, b)| (*n, b.clone()))
        .collect();
    let options = SodOptions {
        hash: HashAlgorithm::Sha256,
        signature: SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
        version_info: None,
        extra_certificates: Vec::new(),
    };
    let sod = issue_sod(
        &to_sign,
        &ds,
        &key,
        &options,
        &mut DeterministicRng::new(b"test", "EF.SOD"),
    )
    .unwrap();
    let files = profile.image.applications.values_mut().next().unwrap();
    let template = files.get(&LdsFile::Sod.fid()).unwrap().clone();
    files.retain(|fid, _| !DataGroup::all().any(|dg| LdsFile::DataGroup(dg).fid() == *fid));
    let mut put = |file: LdsFile, data: Vec<u8>| {
        let mut f = template.clone();
        f.data = data;
        f.sfi = Some(file.sfi());
        files.insert(file.fid(), f);
    };
    for (n, bytes) in groups {
        put(
            LdsFile::DataGroup(DataGroup::new(*n).unwrap()),
            bytes.clone(),
        );
    }
    let listed: Vec<DataGroup> = listed.iter().filter_map(|n| DataGroup::new(*n)).collect();
    put(LdsFile::Com, EfCom::new(&listed).encode().unwrap());
    put(LdsFile::Sod, sod);
    profile
}

fn served(profile: &Profile) -> BTreeMap<u8, Vec<u8>> {
    use cancuoc::lds::{DataGroup, LdsFile};
    DataGroup::all()
        .filter_map(|dg| Some((dg.number(), profile.file(LdsFile::DataGroup(dg))?.to_vec())))
        .collect()
}

fn read_with(profile: &Profile, access: AccessInput, policy: ReadPolicy) -> ReadResult {
    let mut chip = CardEmulator::with_rng(profile.image.clone(), ScriptedRng::from_seed(5));
    let request = ReadRequest {
        access: access.to_key().unwrap(),
        face: None,
        raw: true,
        skip: BTreeSet::new(),
        policy,
    };
    session::read_card(
        &mut chip,
        &request,
        &trust(profile),
        &mut ScriptedRng::from_seed(6),
        &mut |_| {},
    )
    .map(|(r, _)| r)
    .unwrap_or_else(|e| panic!("{e}"))
}

fn codes(r: &ReadResult) -> Vec<String> {
    let v = serde_json::to_value(&r.verification).unwrap();
    [&v["passive"]["problems"], &v["chip"]["problems"]]
        .into_iter()
        .filter_map(serde_json::Value::as_array)
        .flatten()
        .filter_map(|p| p["code"].as_str().map(str::to_owned))
        .collect()
}

fn by_can(p: &Profile) -> AccessInput {
    AccessInput::Can {
        can: p.printed.can.clone(),
    }
}

#[test]
fn a_signed_data_group_that_does_not_decode_is_a_problem_not_silence() {
    let p = load("vn-cccd");
    let mut groups = served(&p);
    // DG13 whose content nests 5 000 SEQUENCEs: signed, hash matches, does not decode.
    let mut nested = Vec::new();
    for _ in 0..5000 {
        nested = apdu::tlv::encode(apdu::asn1::SEQUENCE, &nested);
    }
    groups.insert(13, apdu::tlv::encode(apdu::tlv::Tag::new(0x6D), &nested));
    let signed: Vec<u8> = groups.keys().copied().collect();
    let p = reissued(p, &groups, &signed, &signed);
    let r = read_with(&p, by_can(&p), ReadPolicy::default());
    assert!(
        codes(&r).contains(&"dg-undecodable".to_owned()),
        "{:?}",
        codes(&r)
    );
    assert!(r.vn.is_none());
    let json = serde_json::to_value(&r.verification).unwrap();
    assert_eq!(json["passive"]["data_groups"]["DG13"], "ok");
    assert_eq!(r.verification.verdict, Verdict::Genuine, "{json:#}");
}

#[test]
fn no_chip_proof_offered_is_genuine_with_a_warning_unless_one_is_required() {
    let p = load("vn-cccd");
    let mut groups = served(&p);
    groups.retain(|n, _| !matches!(n, 14 | 15));
    let signed: Vec<u8> = groups.keys().copied().collect();
    let p = reissued(p, &groups, &signed, &signed);
    let r = read_with(&p, by_can(&p), ReadPolicy::default());
    assert_eq!(
        r.verification.verdict,
        Verdict::Genuine,
        "{:?}",
        r.verification
    );
    assert_eq!(r.verification.chip.method, ChipMethod::None);
    assert_eq!(r.verification.chip.status, ChipStatus::NoneOffered);
    assert!(codes(&r).contains(&"chip-proof-none-offered".to_owned()));
    let strict = ReadPolicy {
        require_chip_proof: true,
        ..ReadPolicy::default()
    };
    let r = read_with(&p, by_can(&p), strict);
    assert_eq!(r.verification.verdict, Verdict::NotVerified);
}

#[test]
fn the_signed_list_decides_which_data_groups_exist_not_ef_com() {
    let p = load("vn-cccd");
    let groups = served(&p);
    let signed: Vec<u8> = groups.keys().copied().collect();
    // EF.COM hides DG14 and DG15: they are read anyway, chip authentication runs.
    let listed: Vec<u8> = signed
        .iter()
        .copied()
        .filter(|n| !matches!(n, 14 | 15))
        .collect();
    let hidden = reissued(p.clone(), &groups, &listed, &signed);
    let r = read_with(&hidden, by_can(&hidden), ReadPolicy::default());
    assert_eq!(r.verification.chip.status, ChipStatus::Valid);
    assert_eq!(
        r.verification.verdict,
        Verdict::Genuine,
        "{:?}",
        r.verification
    );
    assert!(codes(&r).contains(&"ef-com-mismatch".to_owned()));
    // A data group EF.COM lists but EF.SOD does not hash never feeds the identity and
    // keeps the card from being vouched for.
    let unsigned: Vec<u8> = signed.iter().copied().filter(|n| *n != 13).collect();
    let grafted = reissued(p, &groups, &signed, &unsigned);
    let r = read_with(&grafted, by_can(&grafted), ReadPolicy::default());
    assert!(r.vn.is_none(), "unsigned DG13 never reaches the identity");
    assert!(r.raw.as_ref().is_some_and(|raw| raw.contains_key("DG13")));
    assert!(codes(&r).contains(&"unsigned-data-group".to_owned()));
    assert_eq!(r.verification.verdict, Verdict::NotVerified);
}

#[test]
fn bac_on_a_chip_whose_signed_dg14_offers_pace_is_a_bypass() {
    let mut p = load("vn-cccd");
    // EF.CardAccess gone, as a downgrade makes it: the chip still answers BAC.
    p.image.master_files.clear();
    let mrz = AccessInput::Document {
        document_number: p.printed.document_number.clone(),
        birth: p.printed.birth.clone(),
        expiry: p.printed.expiry.clone(),
    };
    let r = read_with(&p, mrz.clone(), ReadPolicy::default());
    assert_eq!(r.verification.access, "BAC");
    assert_eq!(r.verification.access_check, AccessCheck::PaceBypassed);
    assert_eq!(r.verification.verdict, Verdict::NotVerified);
    let allowed = ReadPolicy {
        allow_bac_fallback: true,
        ..ReadPolicy::default()
    };
    let r = read_with(&p, mrz, allowed);
    assert_eq!(r.verification.access_check, AccessCheck::BacFallback);
    assert!(r.verification.access_fallback.is_some());
    assert_eq!(
        r.verification.verdict,
        Verdict::Genuine,
        "{:?}",
        r.verification
    );
}

#[test]
fn a_genuine_vn_cccd_read_costs_no_more_commands_than_before() {
    // 27 commands, 14 of them READ BINARY of the application's files, with the face
    // (`cancuoc demo` before the signed list decided the data groups): EF.CardAccess,
    // PACE, EF.COM, EF.SOD, DG1 DG2 DG13 DG14 DG15, chip authentication.
    let p = load("vn-cccd");
    let mut chip = CardEmulator::with_rng(p.image.clone(), ScriptedRng::from_seed(5));
    let request = ReadRequest {
        access: by_can(&p).to_key().unwrap(),
        face: Some(OutputFormat::Jpeg),
        raw: false,
        skip: BTreeSet::new(),
        policy: ReadPolicy::default(),
    };
    let (r, stats) = session::read_card(
        &mut chip,
        &request,
        &trust(&p),
        &mut ScriptedRng::from_seed(6),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(r.verification.verdict, Verdict::Genuine);
    assert!(
        chip.stats().commands <= 27,
        "{} commands",
        chip.stats().commands
    );
    // The application's files (EF.CardAccess is read before, by the access step).
    assert!(stats.read_binary <= 14, "{} READ BINARY", stats.read_binary);
}

/// Counts SELECT of an application (by AID) on the way to the chip.
struct CountingSelects<'a> {
    chip: &'a mut CardEmulator<ScriptedRng>,
    select_application: usize,
}

impl apdu::Card for CountingSelects<'_> {
    fn transmit(&mut self, command: &apdu::Command) -> Result<apdu::Response, apdu::Error> {
        if command.ins == 0xA4 && command.p1 == 0x04 {
            self.select_application += 1;
        }
        self.chip.transmit(command)
    }

    fn extended_length(&self) -> bool {
        self.chip.extended_length()
    }
}

#[test]
fn one_select_of_the_application_per_session() {
    for (name, bac) in [("vn-cccd-bac", true), ("vn-cccd", false), ("vn-cccd", true)] {
        let p = load(name);
        let input = if bac {
            AccessInput::Document {
                document_number: p.printed.document_number.clone(),
                birth: p.printed.birth.clone(),
                expiry: p.printed.expiry.clone(),
            }
        } else {
            AccessInput::Can {
                can: p.printed.can.clone(),
            }
        };
        let mut chip = CardEmulator::with_rng(p.image.clone(), ScriptedRng::from_seed(5));
        let mut card = CountingSelects {
            chip: &mut chip,
            select_application: 0,
        };
        let request = ReadRequest {
            access: input.to_key().unwrap(),
            face: None,
            raw: false,
            skip: BTreeSet::new(),
            policy: Default::default(),
        };
        let (result, _) = session::read_card(
            &mut card,
            &request,
            &trust(&p),
            &mut ScriptedRng::from_seed(6),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(result.verification.verdict, Verdict::Genuine, "{name}");
        // Chip authentication (version 1) confirms the new keys with a protected SELECT
        // of the application: that one is the proof, not a repeated select.
        let confirmation =
            usize::from(result.verification.chip.method == ChipMethod::ChipAuthentication);
        assert_eq!(
            card.select_application,
            1 + confirmation,
            "{name} (BAC: {bac})"
        );
    }
}

/// Reads `profile` with the face, keeping every progress report.
fn read_with_progress(profile: &Profile) -> (ReadResult, Vec<session::Progress>) {
    let mut chip = CardEmulator::with_rng(profile.image.clone(), ScriptedRng::from_seed(5));
    let request = ReadRequest {
        access: AccessInput::Can {
            can: profile.printed.can.clone(),
        }
        .to_key()
        .unwrap(),
        face: Some(OutputFormat::Jpeg),
        raw: false,
        skip: BTreeSet::new(),
        policy: Default::default(),
    };
    let mut reports = Vec::new();
    let (result, _) = session::read_card(
        &mut chip,
        &request,
        &trust(profile),
        &mut ScriptedRng::from_seed(6),
        &mut |p| reports.push(p),
    )
    .unwrap();
    (result, reports)
}

#[test]
fn the_verified_name_comes_before_the_face_and_progress_only_goes_forward() {
    let p = load("vn-cccd");
    let (result, reports) = read_with_progress(&p);
    assert_eq!(result.verification.verdict, Verdict::Genuine);
    let percents: Vec<u8> = reports.iter().map(|r| r.percent).collect();
    assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{percents:?}");
    assert_eq!(percents.last(), Some(&100));
    assert!(percents.iter().filter(|&&p| p < 100).count() >= reports.len() - 1);
    let steps: Vec<String> = reports.iter().map(|r| r.step.name()).collect();
    let at = |name: &str| steps.iter().position(|s| s == name).unwrap_or(usize::MAX);
    // What proves the card and names the holder, then the face.
    assert!(at("DG1") < at("DG2") && at("DG13") < at("DG2"), "{steps:?}");
    assert!(at("chip-authentication") < at("DG2"), "{steps:?}");
    let partials: Vec<_> = reports.iter().filter_map(|r| r.partial.clone()).collect();
    assert_eq!(partials.len(), 1);
    let partial = &partials[0];
    let first_partial = reports.iter().position(|r| r.partial.is_some()).unwrap();
    assert!(first_partial <= at("DG2"), "{steps:?}");
    assert_eq!(partial.verdict, Some(Verdict::Genuine));
    let vn = partial.vn.as_ref().expect("the DG13 identity");
    assert_eq!(vn.full_name, result.vn.as_ref().unwrap().full_name);
    assert_eq!(vn.id_number.as_deref(), Some(p.printed.id_number.as_str()));
    assert!(result.face.is_some());
}

#[test]
fn a_forged_face_after_a_verified_name_makes_the_final_verdict_forged() {
    let mut p = load("vn-cccd");
    let dg2 = p
        .image
        .applications
        .values_mut()
        .find_map(|files| files.get_mut(&0x0102))
        .expect("a DG2");
    let last = dg2.data.len() - 1;
    dg2.data[last] ^= 0x01;
    let (result, reports) = read_with_progress(&p);
    let partial = reports.iter().find_map(|r| r.partial.clone()).unwrap();
    // The name was verified when it was sent; the face was not, and the final answer,
    // the authority, says so.
    assert_eq!(partial.verdict, Some(Verdict::Genuine));
    assert_eq!(result.verification.verdict, Verdict::Forged);
    assert!(result.face.is_none());
    let codes: Vec<&str> = result
        .verification
        .passive
        .problems
        .iter()
        .map(|p| p.code.as_str())
        .collect();
    assert!(codes.contains(&"dg-hash-mismatch"), "{codes:?}");
}

#[test]
fn a_read_without_the_face_sends_no_partial() {
    let p = load("vn-cccd");
    let mut chip = CardEmulator::with_rng(p.image.clone(), ScriptedRng::from_seed(5));
    let request = ReadRequest {
        access: AccessInput::Can {
            can: p.printed.can.clone(),
        }
        .to_key()
        .unwrap(),
        face: None,
        raw: false,
        skip: BTreeSet::new(),
        policy: Default::default(),
    };
    let mut partials = 0;
    session::read_card(
        &mut chip,
        &request,
        &trust(&p),
        &mut ScriptedRng::from_seed(6),
        &mut |r| partials += usize::from(r.partial.is_some()),
    )
    .unwrap();
    assert_eq!(partials, 0);
}

/// The SecurityInfos of `dg14` without its chip-authentication entries, with `extra`
/// (DER SecurityInfo entries) added, as a DG14.
fn dg14_with(dg14: &[u8], extra: &[Vec<u8>]) -> Vec<u8> {
    use apdu::security_infos::{SecurityInfo, SecurityInfos};
    use apdu::tlv::{Tag, encode};
    let parsed = cancuoc::lds::dg14::Dg14::parse(dg14).unwrap();
    let infos = SecurityInfos::parse(&parsed.security_infos).unwrap();
    let mut entries: Vec<u8> = infos
        .infos
        .iter()
        .filter(|i| {
            !matches!(
                i,
                SecurityInfo::ChipAuthentication(_) | SecurityInfo::ChipAuthenticationPublicKey(_)
            )
        })
        .flat_map(SecurityInfo::to_der)
        .collect();
    for e in extra {
        entries.extend_from_slice(e);
    }
    encode(Tag::new(0x6E), &encode(apdu::asn1::SET, &entries))
}

/// The chip-authentication key entries of `dg14`, DER.
fn ca_key_entries(dg14: &[u8]) -> Vec<apdu::security_infos::ChipAuthenticationPublicKeyInfo> {
    use apdu::security_infos::SecurityInfos;
    let parsed = cancuoc::lds::dg14::Dg14::parse(dg14).unwrap();
    SecurityInfos::parse(&parsed.security_infos)
        .unwrap()
        .chip_authentication_keys()
        .cloned()
        .collect()
}

/// `vn-cccd` re-signed with `dg14` in place of its own and no DG15.
fn vn_cccd_with_dg14(dg14: Vec<u8>) -> Profile {
    let p = load("vn-cccd");
    let mut groups = served(&p);
    groups.remove(&15);
    groups.insert(14, dg14);
    let signed: Vec<u8> = groups.keys().copied().collect();
    reissued(p, &groups, &signed, &signed)
}

#[test]
fn a_chip_authentication_key_without_domain_parameters_is_no_way_out_of_the_proof() {
    use apdu::security_infos::SecurityInfo;
    use apdu::tlv::{Tlv, encode};
    let p = load("vn-cccd");
    let dg14 = served(&p).remove(&14).unwrap();
    let mut key = ca_key_entries(&dg14).remove(0);
    // The SubjectPublicKeyInfo's AlgorithmIdentifier keeps its OID, loses its parameters.
    let spki = Tlv::parse(&key.public_key).unwrap();
    let mut parts = spki.children();
    let algorithm = parts.next().unwrap().unwrap();
    let bits = parts.next().unwrap().unwrap();
    let oid = algorithm.children().next().unwrap().unwrap();
    let mut content = encode(apdu::asn1::SEQUENCE, oid.raw());
    content.extend_from_slice(bits.raw());
    key.public_key = encode(apdu::asn1::SEQUENCE, &content);
    let entry = SecurityInfo::ChipAuthenticationPublicKey(key).to_der();
    let clone = vn_cccd_with_dg14(dg14_with(&dg14, &[entry]));
    let r = read_with(&clone, by_can(&clone), ReadPolicy::default());
    assert_ne!(
        r.verification.verdict,
        Verdict::Genuine,
        "{:?}",
        r.verification
    );
    assert_eq!(r.verification.chip.status, ChipStatus::NotChecked);
    assert!(codes(&r).contains(&"chip-proof-unsupported".to_owned()));
}

#[test]
fn chip_authentication_entries_that_cannot_be_run_are_no_way_out_of_the_proof() {
    use apdu::tlv::encode;
    let p = load("vn-cccd");
    let dg14 = served(&p).remove(&14).unwrap();
    let oid = |arcs: &[u8]| {
        let mut content = vec![0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02];
        content.extend_from_slice(arcs);
        encode(apdu::asn1::OBJECT_IDENTIFIER, &content)
    };
    let entry = |arcs: &[u8], rest: &[u8]| {
        let mut content = oid(arcs);
        content.extend_from_slice(rest);
        encode(apdu::asn1::SEQUENCE, &content)
    };
    let cases = [
        // id-PK with an arc of no known kind.
        entry(&[0x01, 0x07], &encode(apdu::asn1::SEQUENCE, &[])),
        // id-CA-ECDH-AES-CBC-CMAC-128 version 1, no key to go with it.
        entry(&[0x03, 0x02, 0x02], &[0x02, 0x01, 0x01]),
        // id-CA with an arc of no known kind.
        entry(&[0x03, 0x09, 0x09], &[0x02, 0x01, 0x01]),
    ];
    for (i, case) in cases.into_iter().enumerate() {
        let clone = vn_cccd_with_dg14(dg14_with(&dg14, &[case]));
        let r = read_with(&clone, by_can(&clone), ReadPolicy::default());
        assert_ne!(
            r.verification.verdict,
            Verdict::Genuine,
            "case {i}: {:?}",
            r.verification
        );
        assert_eq!(
            r.verification.chip.status,
            ChipStatus::NotChecked,
            "case {i}"
        );
    }
}

#[test]
fn a_chip_whose_signed_dg14_offers_pace_cam_cannot_hide_the_proof_behind_another_mapping() {
    use apdu::security_infos::{Mapping, SecurityInfo, SecurityInfos};
    let p = load("vn-cccd");
    let dg14 = served(&p).remove(&14).unwrap();
    let parsed = cancuoc::lds::dg14::Dg14::parse(&dg14).unwrap();
    let infos = SecurityInfos::parse(&parsed.security_infos).unwrap();
    let mut pace = infos.pace()[0].clone();
    pace.protocol.mapping = Mapping::ChipAuthentication;
    // DG14 offers PACE-CAM and no chip-authentication key; EF.CardAccess (unsigned)
    // offers generic mapping only.
    let clone = vn_cccd_with_dg14(dg14_with(&dg14, &[SecurityInfo::Pace(pace).to_der()]));
    let r = read_with(&clone, by_can(&clone), ReadPolicy::default());
    assert!(
        r.verification.access.contains("GM"),
        "{}",
        r.verification.access
    );
    assert_ne!(
        r.verification.verdict,
        Verdict::Genuine,
        "{:?}",
        r.verification
    );
    assert!(
        codes(&r).contains(&"pace-downgraded".to_owned()),
        "{:?}",
        codes(&r)
    );
}

#[test]
fn the_key_pace_cam_proves_must_be_one_the_signed_dg14_holds() {
    let genuine = load("vn-cccd-cam");
    let r = read_with(&genuine, by_can(&genuine), ReadPolicy::default());
    assert_eq!(r.verification.chip.method, ChipMethod::PaceCam);
    assert_eq!(
        r.verification.verdict,
        Verdict::Genuine,
        "{:?}",
        r.verification
    );
    // The same chip, its DG14 holding another chip's key (signed by the same DS).
    let mut groups = served(&genuine);
    let other = served(&load("vn-cccd")).remove(&14).unwrap();
    let other_keys: Vec<u8> = ca_key_entries(&other)
        .into_iter()
        .flat_map(|k| apdu::security_infos::SecurityInfo::ChipAuthenticationPublicKey(k).to_der())
        .collect();
    let dg14 = dg14_with(&groups[&14], &[other_keys]);
    groups.insert(14, dg14);
    let signed: Vec<u8> = groups.keys().copied().collect();
    let clone = reissued(genuine, &groups, &signed, &signed);
    let r = read_with(&clone, by_can(&clone), ReadPolicy::default());
    assert_eq!(r.verification.chip.method, ChipMethod::PaceCam);
    assert_eq!(
        r.verification.verdict,
        Verdict::Forged,
        "{:?}",
        r.verification
    );
    assert!(
        codes(&r).contains(&"chip-key-mismatch".to_owned()),
        "{:?}",
        codes(&r)
    );
}

/// `profile` with the application file `fid` gone: the chip answers 6A82 to it.
fn without_file(mut profile: Profile, fid: u16) -> Profile {
    for files in profile.image.applications.values_mut() {
        files.remove(&fid);
    }
    profile
}

#[test]
fn a_signed_data_group_the_chip_refuses_is_a_problem_and_no_genuine() {
    // DG13 (the Vietnamese identity), read whenever the caller may have it.
    let p = without_file(load("vn-cccd"), 0x010D);
    let r = read_with(&p, by_can(&p), ReadPolicy::default());
    assert!(
        codes(&r).contains(&"dg-unreadable".to_owned()),
        "{:?}",
        codes(&r)
    );
    assert!(r.vn.is_none());
    assert_eq!(r.verification.verdict, Verdict::NotVerified);
    // DG2, when the face is asked for.
    let p = without_file(load("vn-cccd"), 0x0102);
    let r = read(&p, by_can(&p), true).unwrap();
    assert!(
        codes(&r).contains(&"dg-unreadable".to_owned()),
        "{:?}",
        codes(&r)
    );
    assert!(r.face.is_none());
    assert_eq!(r.verification.verdict, Verdict::NotVerified);
    // Without the face, DG2 is not read and nothing is missing.
    let r = read(&p, by_can(&p), false).unwrap();
    assert_eq!(
        r.verification.verdict,
        Verdict::Genuine,
        "{:?}",
        r.verification
    );
}

#[test]
fn a_key_file_that_is_no_file_is_unreadable_not_the_end_of_the_read() {
    // DG14 whose header announces four gigabytes.
    let mut p = load("vn-cccd");
    let files = p.image.applications.values_mut().next().unwrap();
    files.get_mut(&0x010E).unwrap().data = vec![0x6E, 0x84, 0xFF, 0xFF, 0xFF, 0xF0, 0x31];
    let r = read_with(&p, by_can(&p), ReadPolicy::default());
    assert_eq!(
        r.verification.verdict,
        Verdict::Forged,
        "{:?}",
        r.verification
    );
    assert!(
        codes(&r).contains(&"chip-key-unreadable".to_owned()),
        "{:?}",
        codes(&r)
    );
    // Not a status word the chip answered: a file it could not be.
    let message = &r.verification.chip.problems[0].message;
    assert!(message.contains("no file"), "{message}");
}

#[test]
fn data_groups_under_an_ef_sod_whose_signature_fails_name_nobody() {
    let mut p = load("vn-cccd");
    let files = p.image.applications.values_mut().next().unwrap();
    let sod = &mut files.get_mut(&0x011D).unwrap().data;
    let last = sod.len() - 1;
    sod[last] ^= 0x01;
    let (result, reports) = read_with_progress(&p);
    assert_eq!(result.verification.verdict, Verdict::Forged);
    assert!(result.document.is_none() && result.holder.is_none() && result.vn.is_none());
    assert!(result.face.is_none());
    let partial = reports.iter().find_map(|r| r.partial.clone()).unwrap();
    assert!(partial.document.is_none() && partial.holder.is_none() && partial.vn.is_none());
    assert_eq!(partial.verdict, Some(Verdict::Forged));
}

#[test]
fn the_partial_verdict_is_never_genuine_without_a_valid_chip_proof() {
    let p = load("vn-cccd");
    let mut groups = served(&p);
    groups.retain(|n, _| !matches!(n, 14 | 15));
    let signed: Vec<u8> = groups.keys().copied().collect();
    let p = reissued(p, &groups, &signed, &signed);
    let (result, reports) = read_with_progress(&p);
    assert_eq!(result.verification.chip.status, ChipStatus::NoneOffered);
    let partial = reports.iter().find_map(|r| r.partial.clone()).unwrap();
    assert!(partial.vn.is_some());
    assert_eq!(partial.verdict, None);
    let json = serde_json::to_value(&*partial).unwrap();
    assert!(json.get("verdict").is_none(), "{json}");
}

#[test]
fn an_ef_com_that_does_not_decode_is_reported() {
    let mut p = load("vn-cccd");
    let files = p.image.applications.values_mut().next().unwrap();
    files.get_mut(&0x011E).unwrap().data = vec![0x61, 0x02, 0x01, 0x02];
    let r = read_with(&p, by_can(&p), ReadPolicy::default());
    assert!(
        codes(&r).contains(&"ef-com-mismatch".to_owned()),
        "{:?}",
        codes(&r)
    );
}

/// A chip that answers INTERNAL AUTHENTICATE with a status word of its choice.
struct RefusingAa<'a> {
    chip: &'a mut CardEmulator<ScriptedRng>,
    sw: [u8; 2],
}

impl apdu::Card for RefusingAa<'_> {
    fn transmit(&mut self, command: &apdu::Command) -> Result<apdu::Response, apdu::Error> {
        if command.ins == 0x88 {
            return Ok(apdu::Response::new(
                Vec::new(),
                apdu::StatusWord::new(self.sw[0], self.sw[1]),
            ));
        }
        self.chip.transmit(command)
    }

    fn extended_length(&self) -> bool {
        self.chip.extended_length()
    }
}

#[test]
fn a_bac_card_that_refuses_active_authentication_is_forged() {
    let p = load("vn-cccd-bac");
    let mut chip = CardEmulator::with_rng(p.image.clone(), ScriptedRng::from_seed(5));
    let mut card = RefusingAa {
        chip: &mut chip,
        sw: [0x6D, 0x00],
    };
    let request = ReadRequest {
        access: AccessInput::Document {
            document_number: p.printed.document_number.clone(),
            birth: p.printed.birth.clone(),
            expiry: p.printed.expiry.clone(),
        }
        .to_key()
        .unwrap(),
        face: None,
        raw: false,
        skip: BTreeSet::new(),
        policy: ReadPolicy::default(),
    };
    let (r, _) = session::read_card(
        &mut card,
        &request,
        &trust(&p),
        &mut ScriptedRng::from_seed(6),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(r.verification.chip.method, ChipMethod::ActiveAuthentication);
    assert_eq!(
        r.verification.verdict,
        Verdict::Forged,
        "{:?}",
        r.verification
    );
    assert!(
        codes(&r).contains(&"chip-proof-refused".to_owned()),
        "{:?}",
        codes(&r)
    );
}
