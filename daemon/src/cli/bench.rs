//! `cancuoc bench`: full reads of a simulated card, in process, at the ISO/IEC 14443 bit
//! rates. The link is modeled, not slept: per rate it reports the APDUs and bytes each
//! way, the modeled air time of that exchange, the per-APDU latency and the chip's own
//! processing time (the card's, not the reader's), the host's CPU time, and the ratio of
//! what the reader costs (air time of the actual exchange + latency + host CPU) to the
//! air-time limit: the time the card's file bytes alone need on air at that rate (9 bits
//! a byte, as ISO/IEC 14443 sends them). Extra APDUs, extra bytes and slow code all show
//! in that ratio; the chip's processing is shown beside it, since no reader can shorten it.
//! Beside it, the link model's floor (air time, latency and chip processing, no host
//! time) of the whole read and of the part before the verified name (the read-partial
//! event), and how close the read comes to each.

use std::process::ExitCode;

use crate::cli::exit::Exit;
use crate::sim_read::bench;

/// Options of `cancuoc bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The card profile (built-in name or path).
    #[arg(long, default_value = "vn-cccd")]
    pub profile: String,
    /// Reads per bit rate (the fastest host time is reported).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `cancuoc bench`.
pub fn run(args: &Args) -> ExitCode {
    let rows = match bench(&args.profile, args.runs) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("cancuoc bench: {e}");
            return Exit::Internal.into();
        }
    };
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "profile": args.profile, "rows": rows })
        );
        return Exit::Ok.into();
    }
    println!(
        "{:>8} {:>6} {:>5} {:>9} {:>9} {:>9} {:>8} {:>8} {:>9} {:>8} {:>9} {:>9} {:>6} {:>9} {:>6} {:>8} {:>6}",
        "kbit/s",
        "APDUs",
        "RB",
        "to card",
        "from card",
        "air ms",
        "lat. ms",
        "CPU ms",
        "reader ms",
        "limit ms",
        "chip ms",
        "total ms",
        "ratio",
        "floor ms",
        "/floor",
        "name ms",
        "/floor"
    );
    for r in &rows {
        println!(
            "{:>8} {:>6} {:>5} {:>9} {:>9} {:>9.1} {:>8.1} {:>8.1} {:>9.1} {:>8.1} {:>9.1} {:>9.1} {:>6.2} {:>9.1} {:>6.2} {:>8} {:>6}",
            r.bit_rate / 1000,
            r.apdus,
            r.read_binary,
            r.bytes_to_card,
            r.bytes_from_card,
            r.air_ms,
            r.latency_ms,
            r.host_cpu_ms,
            r.reader_ms,
            r.air_limit_ms,
            r.chip_processing_ms,
            r.total_ms,
            r.ratio,
            r.floor_ms,
            r.floor_ratio,
            r.name_ms.map_or("-".into(), |v| format!("{v:.1}")),
            match (r.name_ms, r.name_floor_ms) {
                (Some(t), Some(f)) if f > 0.0 => format!("{:.2}", t / f),
                _ => "-".into(),
            },
        );
    }
    Exit::Ok.into()
}
