//! Host-side cost of the access protocols: the terminal's work for one PACE per
//! variant and one BAC, measured against a recorded chip so the chip's own arithmetic is
//! not counted.

use std::collections::BTreeMap;

use apdu::crypto::CipherSuite;
use apdu::emulator::{CardEmulator, CardImage, ChipLimits};
use apdu::mrz::MrzKey;
use apdu::pace::{self, Can, ChipPaceConfig, ChipStaticKey, Password};
use apdu::rng::ScriptedRng;
use apdu::security_infos::{KeyAgreement, Mapping, PaceInfo, PaceProtocol};
use apdu::{Card, Command, Error, Response, bac};
use criterion::{Criterion, criterion_group, criterion_main};

/// Records the chip's answers on the first run; replays them afterwards.
struct Recorder<'a> {
    chip: &'a mut CardEmulator<ScriptedRng>,
    answers: Vec<Vec<u8>>,
}

impl Card for Recorder<'_> {
    fn transmit(&mut self, command: &Command) -> Result<Response, Error> {
        let answer = self.chip.process(&command.encode()?);
        self.answers.push(answer.clone());
        Response::decode(&answer)
    }
    fn extended_length(&self) -> bool {
        self.chip.extended_length()
    }
}

struct Replay<'a> {
    answers: &'a [Vec<u8>],
    at: usize,
    extended: bool,
}

impl Card for Replay<'_> {
    fn transmit(&mut self, _: &Command) -> Result<Response, Error> {
        let answer = self.answers.get(self.at).ok_or(Error::CardRemoved)?;
        self.at += 1;
        Response::decode(answer)
    }
    fn extended_length(&self) -> bool {
        self.extended
    }
}

fn info(agreement: KeyAgreement, mapping: Mapping, id: u64) -> PaceInfo {
    PaceInfo {
        protocol: PaceProtocol {
            agreement,
            mapping,
            suite: CipherSuite::Aes128,
        },
        version: 2,
        parameter_id: Some(id),
    }
}

fn pace_chip(info: &PaceInfo) -> CardEmulator<ScriptedRng> {
    let static_key = (info.protocol.agreement == KeyAgreement::Ecdh).then(|| {
        let group = pace::group_of(info).expect("standard group");
        let (private, public) = group
            .generate(&mut ScriptedRng::from_seed(5))
            .expect("key pair");
        ChipStaticKey {
            group,
            private,
            public,
        }
    });
    let image = CardImage {
        applications: BTreeMap::new(),
        pace: Some(ChipPaceConfig {
            infos: vec![info.clone()],
            can: Can::new("123456").ok(),
            mrz: None,
            static_key,
            parameter_id_rule: apdu::pace::ParameterIdRule::Optional,
        }),
        limits: ChipLimits {
            extended_length: true,
            max_le: 65536,
            ..ChipLimits::default()
        },
        ..CardImage::default()
    };
    CardEmulator::with_rng(image, ScriptedRng::from_seed(3))
}

fn bench_pace(c: &mut Criterion) {
    let password = Password::Can(Can::new("123456").expect("CAN"));
    let mut group = c.benchmark_group("PACE terminal (ms per run)");
    group.sample_size(10);
    let mut variants = Vec::new();
    for id in 8..=18 {
        variants.push(info(KeyAgreement::Ecdh, Mapping::Generic, id));
    }
    variants.push(info(KeyAgreement::Ecdh, Mapping::ChipAuthentication, 13));
    for id in [12, 13, 16, 17] {
        variants.push(info(KeyAgreement::Ecdh, Mapping::Integrated, id));
    }
    variants.push(info(KeyAgreement::Dh, Mapping::Integrated, 0));
    for id in 0..=2 {
        variants.push(info(KeyAgreement::Dh, Mapping::Generic, id));
    }
    for info in variants {
        let mut chip = pace_chip(&info);
        let mut recorder = Recorder {
            chip: &mut chip,
            answers: Vec::new(),
        };
        pace::open(
            &mut recorder,
            &info,
            &password,
            &mut ScriptedRng::from_seed(9),
        )
        .expect("PACE runs");
        let answers = recorder.answers;
        let name = format!(
            "{} {}",
            info.protocol.name(),
            pace::group_of(&info).expect("group").name()
        );
        group.bench_function(name, |b| {
            b.iter(|| {
                let replay = Replay {
                    answers: &answers,
                    at: 0,
                    extended: true,
                };
                pace::open(replay, &info, &password, &mut ScriptedRng::from_seed(9))
                    .expect("replayed PACE")
            })
        });
    }
    group.finish();
}

fn bench_bac(c: &mut Criterion) {
    let mrz = MrzKey::new("C01234567", "900101", "300101").expect("MRZ");
    let image = CardImage {
        bac: Some(mrz.clone()),
        ..CardImage::default()
    };
    let mut chip = CardEmulator::with_rng(image, ScriptedRng::from_seed(3));
    let mut recorder = Recorder {
        chip: &mut chip,
        answers: Vec::new(),
    };
    bac::open(&mut recorder, &mrz, &mut ScriptedRng::from_seed(9)).expect("BAC runs");
    let answers = recorder.answers;
    c.bench_function("BAC terminal", |b| {
        b.iter(|| {
            let replay = Replay {
                answers: &answers,
                at: 0,
                extended: false,
            };
            bac::open(replay, &mrz, &mut ScriptedRng::from_seed(9)).expect("replayed BAC")
        })
    });
}

/// BAC then chip authentication with a chip key on `group`; BAC alone costs well under a
/// millisecond (see "BAC terminal"), so this is the CA cost to that precision.
fn bench_chip_authentication(c: &mut Criterion) {
    use apdu::chip_auth::{self, ChipAuthPlan, ChipCa};
    use apdu::key_agreement::Group;
    use apdu::security_infos::{CaProtocol, ChipAuthenticationInfo, SecurityInfo, SecurityInfos};

    let mrz = MrzKey::new("C01234567", "900101", "300101").expect("MRZ");
    let mut bench = c.benchmark_group("BAC + CA terminal (ms per run)");
    bench.sample_size(10);
    let mut groups: Vec<(String, Group)> = apdu::ec::CurveId::ALL
        .into_iter()
        .map(|id| (id.name().to_owned(), Group::curve(id)))
        .collect();
    for id in 0..=2 {
        let group = Group::standardized(KeyAgreement::Dh, id).expect("DH group");
        groups.push((group.name().to_owned(), group));
    }
    for (name, group) in groups {
        let info = ChipAuthenticationInfo {
            protocol: CaProtocol {
                agreement: group.agreement(),
                suite: CipherSuite::Aes128,
            },
            version: 2,
            key_id: None,
        };
        let (private, public) = group
            .generate(&mut ScriptedRng::from_seed(1))
            .expect("chip key");
        let ca = ChipCa::new(group.clone(), private.clone(), info.clone()).expect("chip CA");
        let dg14 = SecurityInfos {
            infos: vec![
                SecurityInfo::ChipAuthenticationPublicKey(ca.public_key_info().expect("key info")),
                SecurityInfo::ChipAuthentication(info.clone()),
            ],
        };
        let plan = ChipAuthPlan::choose(&dg14).expect("plan");
        let image = CardImage {
            bac: Some(mrz.clone()),
            chip_authentication: Some((
                ChipStaticKey {
                    group,
                    private,
                    public,
                },
                info,
            )),
            limits: ChipLimits {
                extended_length: true,
                max_le: 65536,
                ..ChipLimits::default()
            },
            ..CardImage::default()
        };
        let mut chip = CardEmulator::with_rng(image, ScriptedRng::from_seed(3));
        let mut recorder = Recorder {
            chip: &mut chip,
            answers: Vec::new(),
        };
        {
            let mut rng = ScriptedRng::from_seed(9);
            let mut channel = bac::open(&mut recorder, &mrz, &mut rng).expect("BAC");
            chip_auth::authenticate(&mut channel, &plan, &mut rng).expect("CA");
        }
        let answers = recorder.answers;
        bench.bench_function(name, |b| {
            b.iter(|| {
                let replay = Replay {
                    answers: &answers,
                    at: 0,
                    extended: true,
                };
                let mut rng = ScriptedRng::from_seed(9);
                let mut channel = bac::open(replay, &mrz, &mut rng).expect("replayed BAC");
                chip_auth::authenticate(&mut channel, &plan, &mut rng).expect("replayed CA")
            })
        });
    }
    bench.finish();
}

criterion_group!(benches, bench_pace, bench_bac, bench_chip_authentication);
criterion_main!(benches);
