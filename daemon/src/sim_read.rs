//! Reads of a simulated card in process, with no reader in between: the card ready to
//! be read ([`SimulatedCard`]: its chip, trust anchors holding its CSCA, and the read a
//! holder of the card would ask for), the demo read of the built-in Vietnamese card, and
//! the benchmark that models the link, without sleeping, at each ISO/IEC 14443 bit rate
//! (`cancuoc bench` explains its columns).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use apdu::emulator::CardEmulator;
use apdu::rng::ScriptedRng;
use apdu::{Card, Command, Response};

use crate::session::access_input::AccessInput;
use crate::session::result::ReadResult;
use crate::session::{self, ReadError, ReadRequest, ReadStats};
use crate::sim::link::{BIT_RATES, LinkModel};
use crate::sim::profile::{self, LoadOptions, Profile};
use crate::trust::TrustStore;

/// A simulated card ready to be read in process.
#[derive(Debug)]
pub struct SimulatedCard {
    /// The card's profile, its chip image among it.
    pub profile: Profile,
    /// Trust anchors holding the profile's CSCA, so the card can be genuine.
    pub trust: TrustStore,
    /// The whole read with the access key printed on the card: every data group, the
    /// face as JPEG.
    pub request: ReadRequest,
}

impl SimulatedCard {
    /// Loads the profile (built-in name or path), its CSCA, and the access key a holder
    /// would give: the CAN when the chip offers PACE and one is printed, else the MRZ
    /// data (a BAC-only chip, 3DES session, is opened with them even when a CAN is
    /// printed on the card).
    pub fn load(profile_name: &str) -> Result<SimulatedCard, String> {
        let profile =
            profile::load(profile_name, &LoadOptions::default()).map_err(|e| e.to_string())?;
        let mut trust = TrustStore::new();
        if let Some(csca) = &profile.csca {
            trust.load_path(csca).map_err(|e| e.to_string())?;
        }
        let access = if profile.printed.can.is_empty() || profile.image.pace.is_none() {
            AccessInput::Document {
                document_number: profile.printed.document_number.clone(),
                birth: profile.printed.birth.clone(),
                expiry: profile.printed.expiry.clone(),
            }
        } else {
            AccessInput::Can {
                can: profile.printed.can.clone(),
            }
        };
        let request = ReadRequest {
            access: access.to_key().map_err(|e| e.to_string())?,
            face: Some(crate::lds::dg2::OutputFormat::Jpeg),
            raw: false,
            skip: BTreeSet::new(),
            policy: Default::default(),
        };
        Ok(SimulatedCard {
            profile,
            trust,
            request,
        })
    }
}

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The simulated card's profile did not load.
    #[error("simulated card: {0}")]
    Profile(String),
    /// The read failed.
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// Reads the simulated `vn-cccd` card through the whole pipeline.
pub fn read_demo_card(
    rng: &mut impl rand_core::CryptoRng,
) -> Result<(ReadResult, ReadStats, usize), DemoError> {
    let SimulatedCard {
        profile,
        trust,
        request,
    } = SimulatedCard::load("vn-cccd").map_err(DemoError::Profile)?;
    let mut chip = CardEmulator::new(profile.image.clone());
    tracing::info!(profile = %profile.name, "reading the simulated card");
    let (result, stats) = session::read_card(&mut chip, &request, &trust, rng, &mut |_| {})?;
    let apdus = chip.stats().commands;
    tracing::info!(
        apdus,
        read_binary = stats.read_binary,
        bytes = stats.bytes,
        "simulated card read"
    );
    Ok((result, stats, apdus))
}

/// A chip behind a modeled link: counts and adds up, never sleeps.
struct Metered<'a> {
    /// The modeled link time so far and the simulated chip's own CPU time, for the
    /// progress callback to read while the read holds the card.
    clock: std::rc::Rc<std::cell::Cell<(Duration, Duration)>>,
    chip: &'a mut CardEmulator<ScriptedRng>,
    /// What the profile's ATR says about extended length, as a reader sees it.
    announced: Option<bool>,
    link: LinkModel,
    apdus: usize,
    bytes_out: usize,
    bytes_in: usize,
    air: Duration,
    latency: Duration,
    processing: Duration,
    chip_cpu: Duration,
}

impl Card for Metered<'_> {
    fn transmit(&mut self, command: &Command) -> Result<Response, apdu::Error> {
        let bytes = command.encode()?;
        let start = Instant::now();
        let answer = self.chip.process(&bytes);
        self.chip_cpu += start.elapsed();
        self.apdus += 1;
        self.bytes_out += bytes.len();
        self.bytes_in += answer.len();
        self.air += self.link.frame_time(bytes.len(), answer.len());
        self.latency += self.link.latency;
        self.processing += self.link.processing(command.ins);
        self.clock
            .set((self.air + self.latency + self.processing, self.chip_cpu));
        Response::decode(&answer)
    }

    fn extended_length(&self) -> bool {
        self.announced == Some(true)
    }

    fn extended_length_announced(&self) -> Option<bool> {
        self.announced
    }
}

/// One row of the table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BenchRow {
    /// Bit rate, bit/s.
    pub bit_rate: u32,
    /// APDUs exchanged.
    pub apdus: usize,
    /// READ BINARY commands.
    pub read_binary: usize,
    /// Bytes sent to the card.
    pub bytes_to_card: usize,
    /// Bytes received from the card.
    pub bytes_from_card: usize,
    /// File bytes read.
    pub file_bytes: usize,
    /// Modeled air time of the exchange, ms.
    pub air_ms: f64,
    /// Modeled per-APDU latency, ms.
    pub latency_ms: f64,
    /// Modeled chip processing, ms.
    pub chip_processing_ms: f64,
    /// Host CPU time of the read (the simulated chip's own time taken out), ms.
    pub host_cpu_ms: f64,
    /// Air + latency + host CPU, ms.
    pub reader_ms: f64,
    /// Air time of the file bytes alone, ms.
    pub air_limit_ms: f64,
    /// `reader_ms / air_limit_ms`.
    pub ratio: f64,
    /// Reader time plus chip processing: the read as a user waits for it, ms.
    pub total_ms: f64,
    /// The link model's floor for this exchange: air time, per-APDU latency and the
    /// chip's processing, with no host time at all, ms.
    pub floor_ms: f64,
    /// `total_ms / floor_ms`.
    pub floor_ratio: f64,
    /// When the verified name was known (the `read-partial` event), as a user waits
    /// for it, ms; `None` when the read sent none.
    pub name_ms: Option<f64>,
    /// The floor of the exchange up to the verified name, ms.
    pub name_floor_ms: Option<f64>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ratio(a: Duration, b: Duration) -> f64 {
    if b.is_zero() {
        0.0
    } else {
        a.as_secs_f64() / b.as_secs_f64()
    }
}

/// Runs the benchmark rows for a profile: per bit rate, the run with the least host time
/// of `runs`.
pub fn bench(profile_name: &str, runs: usize) -> Result<Vec<BenchRow>, String> {
    let SimulatedCard {
        profile,
        trust,
        request,
    } = SimulatedCard::load(profile_name)?;
    // The reader knows extended length only from the ATR (or by trying it).
    let announced = crate::transport::atr::Atr::parse(&profile.image.atr)
        .ok()
        .and_then(|a| a.extended_length_announced());
    let mut rows = Vec::new();
    for bit_rate in BIT_RATES {
        let link = LinkModel {
            bit_rate,
            ..LinkModel::default()
        };
        let mut best: Option<BenchRow> = None;
        for run in 0..runs.max(1) {
            let mut chip =
                CardEmulator::with_rng(profile.image.clone(), ScriptedRng::from_seed(run as u64));
            let clock = std::rc::Rc::new(std::cell::Cell::new((Duration::ZERO, Duration::ZERO)));
            let mut metered = Metered {
                clock: clock.clone(),
                chip: &mut chip,
                announced,
                link,
                apdus: 0,
                bytes_out: 0,
                bytes_in: 0,
                air: Duration::ZERO,
                latency: Duration::ZERO,
                processing: Duration::ZERO,
                chip_cpu: Duration::ZERO,
            };
            let start = Instant::now();
            // (link floor, host time) when the verified name was known.
            let mut name_at: Option<(Duration, Duration)> = None;
            let (_, stats) = session::read_card(
                &mut metered,
                &request,
                &trust,
                &mut ScriptedRng::from_seed(1000 + run as u64),
                &mut |p| {
                    if p.partial.is_some() {
                        let (link, chip_cpu) = clock.get();
                        name_at = Some((link, start.elapsed().saturating_sub(chip_cpu)));
                    }
                },
            )
            .map_err(|e| e.to_string())?;
            let host = start.elapsed().saturating_sub(metered.chip_cpu);
            let limit =
                Duration::from_micros(stats.bytes as u64 * 9 * 1_000_000 / u64::from(bit_rate));
            let reader = metered.air + metered.latency + host;
            let floor = metered.air + metered.latency + metered.processing;
            let row = BenchRow {
                bit_rate,
                apdus: metered.apdus,
                read_binary: stats.read_binary,
                bytes_to_card: metered.bytes_out,
                bytes_from_card: metered.bytes_in,
                file_bytes: stats.bytes,
                air_ms: ms(metered.air),
                latency_ms: ms(metered.latency),
                chip_processing_ms: ms(metered.processing),
                host_cpu_ms: ms(host),
                reader_ms: ms(reader),
                air_limit_ms: ms(limit),
                ratio: if limit.is_zero() {
                    0.0
                } else {
                    reader.as_secs_f64() / limit.as_secs_f64()
                },
                total_ms: ms(reader + metered.processing),
                floor_ms: ms(floor),
                floor_ratio: ratio(reader + metered.processing, floor),
                name_ms: name_at.map(|(link, host)| ms(link + host)),
                name_floor_ms: name_at.map(|(link, _)| ms(link)),
            };
            if best
                .as_ref()
                .is_none_or(|b| row.host_cpu_ms < b.host_cpu_ms)
            {
                best = Some(row);
            }
        }
        rows.extend(best);
    }
    Ok(rows)
}
