//! `cancuoc sim`: serves a simulated card to pcscd through vsmartcard's vpcd driver, so
//! every PC/SC program on the machine sees it in "Virtual PCD 00 00".
//!
//! On start it prints one JSON line on stdout — the profile, the vpcd address, what to
//! type to open the card, the CSCA that verifies it — then logs to stderr. It connects
//! (the card is inserted), answers until stopped, reconnects when pcscd restarts, and
//! prints its counters to stderr on SIGINT/SIGTERM. See `crate::sim::control` for
//! inserting and removing the card on command.
//!
//! `--from-dump DIR` serves the files of a `cancuoc read --raw DIR` instead of a
//! profile (see [`crate::sim::replay`]): a replay, never genuine, which the simulator
//! says on stderr when it starts.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::cli::exit::Exit;
use crate::sim::apdu_log::ApduLog;
use crate::sim::control::Control;
use crate::sim::fault::{self, FaultPlan};
use crate::sim::link::{self, LinkModel};
use crate::sim::profile::{self, LoadOptions, Profile};
use crate::sim::vpcd;
use crate::sim::{SimCard, server};

/// Options of `cancuoc sim`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A built-in profile (vn-cccd, vn-cccd-cam, vn-cccd-bac, passport, bsi-reference,
    /// and the attack-* cards that must never read as genuine) or the path of a profile
    /// file (.toml, see fixtures/cards/README.md).
    #[arg(long, default_value = "vn-cccd", value_name = "NAME|PATH")]
    pub profile: String,
    /// The vpcd driver to connect to: 35963 is "Virtual PCD 00 00", 35964 "… 00 01".
    #[arg(long, default_value = vpcd::DEFAULT_VPCD, value_name = "HOST:PORT")]
    pub vpcd: String,
    /// Link bit rate: 106, 212, 424, 848 (kbit/s), or bit/s; 0 for no link model.
    #[arg(long, default_value = "424", value_parser = link::parse_bit_rate, value_name = "BPS")]
    pub bitrate: u32,
    /// Fixed time per APDU (reader and host), in milliseconds.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub latency_ms: u64,
    /// The chip's time for one cryptographic step (BAC, PACE, CA, AA), in milliseconds.
    #[arg(long, default_value_t = 40, value_name = "N")]
    pub crypto_ms: u64,
    /// Fault: the card leaves the field when APDU N arrives (counted from 1).
    #[arg(long, value_parser = fault::parse_apdu_number, value_name = "N")]
    pub remove_at: Option<u64>,
    /// Fault: one bit of the MAC of response N is flipped.
    #[arg(long, value_parser = fault::parse_apdu_number, value_name = "N")]
    pub corrupt_mac_at: Option<u64>,
    /// Fault: response N is this status word alone (hex), e.g. 5:6A82.
    #[arg(long, value_parser = fault::parse_wrong_sw, value_name = "N:SW")]
    pub wrong_sw_at: Option<(u64, u16)>,
    /// The reader carries short APDUs only: it answers 6700 to an extended APDU, which
    /// never reaches the chip.
    #[arg(long)]
    pub short_apdu_reader: bool,
    /// Fault: response N comes SECONDS late, e.g. 7:2.5.
    #[arg(long, value_parser = fault::parse_stall, value_name = "N:SECONDS")]
    pub stall_at: Option<(u64, Duration)>,
    /// Listen for `insert` / `remove` / `status` on this Unix socket.
    #[arg(long, value_name = "PATH")]
    pub control: Option<PathBuf>,
    /// Start with the card out of the field (insert it with SIGUSR2 or `insert`).
    #[arg(long)]
    pub removed: bool,
    /// Append one line per command the card receives to FILE: what it asked for (after
    /// secure-messaging unwrapping: instruction, file, offset, length) and the status
    /// word sent; never a data field.
    #[arg(long, value_name = "FILE")]
    pub apdu_log: Option<PathBuf>,
    /// Serve the card read into this folder by `cancuoc read --raw DIR`, opened with
    /// --can or --mrz (a dump holds no access key). A replay cannot prove the chip's
    /// keys: it never reads as genuine.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["profile", "files"])]
    pub from_dump: Option<PathBuf>,
    /// With --from-dump: the card access number that opens the replayed card.
    #[arg(long, requires = "from_dump")]
    pub can: Option<String>,
    /// With --from-dump: the whole MRZ that opens the replayed card (PACE or BAC).
    #[arg(long, requires = "from_dump")]
    pub mrz: Option<String>,
    /// Folder of the files a profile serves as is (bsi-reference: the BSI TR-03105-5
    /// data set; default ../shared/data/bsi-tr03105-5).
    #[arg(long, value_name = "DIR")]
    pub files: Option<PathBuf>,
}

/// The JSON line printed on start.
pub fn start_line(profile: &Profile, vpcd: &str) -> serde_json::Value {
    let p = &profile.printed;
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    serde_json::json!({
        "profile": profile.name,
        "vpcd": vpcd,
        "access": {
            "can": some(&p.can),
            "mrz": some(&p.mrz),
            "document_number": some(&p.document_number),
            "birth": some(&p.birth),
            "expiry": some(&p.expiry),
            "id_number": some(&p.id_number),
        },
        "csca": profile.csca.as_ref().map(|c| c.display().to_string()),
    })
}

/// The card of the dump in `dir`, opened with the access the arguments give.
fn replay_profile(dir: &std::path::Path, args: &Args) -> Result<Profile, String> {
    use crate::session::access_input::AccessInput;
    let dump = crate::dump::Dump::load(dir).map_err(|e| e.to_string())?;
    let mut keys = Vec::new();
    if let Some(can) = &args.can {
        let input = AccessInput::Can { can: can.clone() };
        keys.push(input.to_key().map_err(|e| format!("--can: {e}"))?);
    }
    if let Some(mrz) = &args.mrz {
        let input = AccessInput::Mrz { mrz: mrz.clone() };
        keys.push(input.to_key().map_err(|e| format!("--mrz: {e}"))?);
    }
    crate::sim::replay::profile(&dump, dir.to_path_buf(), &keys, &mut apdu::rng::SystemRng)
}

/// Runs `cancuoc sim`.
pub fn run(args: &Args) -> ExitCode {
    let options = LoadOptions {
        files_dir: args.files.clone(),
    };
    let profile = match &args.from_dump {
        Some(dir) => match replay_profile(dir, args) {
            Ok(p) => {
                eprintln!(
                    "cancuoc sim: serving the dump in {}: a replay of a read, NOT the card. \
                     It holds no chip key, so chip and active authentication and PACE-CAM \
                     fail and it never reads as genuine; passive authentication comes out \
                     as on the card.",
                    dir.display()
                );
                p
            }
            Err(e) => {
                eprintln!("cancuoc sim: --from-dump {}: {e}", dir.display());
                return Exit::Usage.into();
            }
        },
        None => match profile::load(&args.profile, &options) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("cancuoc sim: {e}");
                return Exit::Usage.into();
            }
        },
    };
    let control = match Control::install(args.control.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cancuoc sim: control: {e}");
            return Exit::Internal.into();
        }
    };
    let apdu_log = match &args.apdu_log {
        None => None,
        Some(path) => match ApduLog::open(path) {
            Ok(log) => Some(log),
            Err(e) => {
                eprintln!("cancuoc sim: --apdu-log {}: {e}", path.display());
                return Exit::Usage.into();
            }
        },
    };
    let link = LinkModel {
        bit_rate: args.bitrate,
        latency: Duration::from_millis(args.latency_ms),
        crypto: Duration::from_millis(args.crypto_ms),
    };
    let faults = FaultPlan {
        remove_at: args.remove_at,
        corrupt_mac_at: args.corrupt_mac_at,
        wrong_sw_at: args.wrong_sw_at,
        stall_at: args.stall_at,
        short_apdu_reader: args.short_apdu_reader,
    };
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", start_line(&profile, &args.vpcd));
    let _ = stdout.flush();
    drop(stdout);
    tracing::info!(
        profile = profile.name,
        vpcd = args.vpcd,
        bit_rate = link.bit_rate,
        "simulator started"
    );
    let mut card = SimCard::new(&profile, link, faults);
    if let Some(log) = apdu_log {
        card = card.with_apdu_log(log);
    }
    let counters = server::serve(&mut card, &args.vpcd, !args.removed, &control);
    eprintln!("cancuoc sim: {}", counters.summary(link.bit_rate));
    Exit::Ok.into()
}
