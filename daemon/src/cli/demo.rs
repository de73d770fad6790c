//! `cancuoc demo`: the built-in simulated Vietnamese card, read in process.

use std::process::ExitCode;

use apdu::Card;
use apdu::access::{self, AccessKey};
use apdu::emulator::CardEmulator;
use apdu::pace::Can;
use apdu::read_binary::{self, FileReader, ICAO_AID};
use apdu::rng::SystemRng;

use crate::cli::exit::Exit;
use crate::lds::dg1::{Dg1, yymmdd_to_iso};
use crate::lds::ef_com::EfCom;
use crate::lds::{DataGroup, LdsFile};
use crate::sim::profile;

/// Options of `cancuoc demo`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// What the demo read.
pub struct DemoRead {
    /// How the chip was opened (`PACE-ECDH-GM-AES-128 brainpoolP256r1`).
    pub access: String,
    /// EF.COM.
    pub com: EfCom,
    /// DG1.
    pub dg1: Dg1,
    /// Commands sent to the chip.
    pub commands: usize,
    /// READ BINARY commands among them.
    pub read_binary: usize,
    /// Bytes exchanged with the chip, both ways.
    pub bytes: usize,
}

/// Why the demo read failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The card protocols failed.
    #[error(transparent)]
    Card(#[from] apdu::Error),
    /// A file did not decode.
    #[error(transparent)]
    Lds(#[from] crate::lds::Error),
    /// The simulated card's profile did not load.
    #[error(transparent)]
    Profile(#[from] profile::ProfileError),
}

/// Opens the simulated `vn-cccd` card with PACE, the CAN taken from its ID number as a
/// clerk would, and reads EF.COM and DG1.
pub fn read_demo_card(rng: &mut impl rand_core::CryptoRng) -> Result<DemoRead, DemoError> {
    let profile = profile::vn_cccd()?;
    let mut chip = CardEmulator::new(profile.image.clone());
    tracing::info!(profile = profile.name, "reading the simulated card");
    let can = Can::new(&profile.printed.can)?;
    let access::OpenChip {
        mut channel,
        opened,
        ..
    } = access::open(&mut chip, &AccessKey::Can(can), rng)?;
    read_binary::select_application(&mut channel, &ICAO_AID)?;
    let mut reader = FileReader::default();
    let com = EfCom::parse(&reader.read_file(&mut channel, LdsFile::Com.fid())?)?;
    let dg1_file = LdsFile::DataGroup(DataGroup::DG1);
    let dg1 = Dg1::parse(&reader.read_file(&mut channel, dg1_file.fid())?)?;
    let extended = channel.extended_length();
    drop(channel);
    let stats = chip.stats();
    tracing::info!(
        commands = stats.commands,
        read_binary = stats.read_binary,
        extended,
        "simulated card read"
    );
    Ok(DemoRead {
        access: opened.describe(),
        com,
        dg1,
        commands: stats.commands,
        read_binary: stats.read_binary,
        bytes: stats.bytes_in + stats.bytes_out,
    })
}

/// Runs `cancuoc demo`.
pub fn run(_args: &Args) -> ExitCode {
    match read_demo_card(&mut SystemRng) {
        Ok(read) => {
            print!("{}", render(&read));
            Exit::Ok.into()
        }
        Err(e) => {
            eprintln!("cancuoc demo: {e}");
            match &e {
                DemoError::Card(e) => Exit::of(e).into(),
                DemoError::Lds(_) => Exit::CardProtocol.into(),
                DemoError::Profile(_) => Exit::Internal.into(),
            }
        }
    }
}

/// An MRZ date as `YYYY-MM-DD` when it is one, else as printed.
fn date(yymmdd: &str, years_ahead: u32) -> String {
    // Mean Gregorian year; off by at most a day around New Year, which is harmless here.
    let years_since_1970 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 31_556_952);
    let this_year = 1970 + u32::try_from(years_since_1970).unwrap_or(0);
    yymmdd_to_iso(yymmdd, this_year, years_ahead).unwrap_or_else(|| yymmdd.to_owned())
}

/// The human summary of the read.
pub fn render(read: &DemoRead) -> String {
    let f = &read.dg1.fields;
    let groups: Vec<&str> = read.com.data_groups.iter().map(|g| g.name()).collect();
    let check = if read.dg1.checks.all_valid() {
        "all check digits valid"
    } else {
        "CHECK DIGIT ERRORS"
    };
    let mut out = String::new();
    out.push_str("cancuoc demo: simulated Vietnamese ID card (synthetic holder)\n");
    out.push_str(&format!(
        "  access           {} (CAN from the ID number)\n",
        read.access
    ));
    out.push_str(&format!(
        "  EF.COM           LDS {}, lists {}\n",
        read.com.lds_version_display(),
        groups.join(" ")
    ));
    out.push_str(&format!(
        "  document         {} {} no. {}, expires {}\n",
        f.document_code,
        f.issuing_state,
        f.document_number,
        date(&f.expiry_date, 50)
    ));
    if let Some(id) = read.dg1.vn_id_number() {
        out.push_str(&format!("  ID number        {id}\n"));
    }
    out.push_str(&format!(
        "  holder           {} / {}\n",
        f.surname, f.given_names
    ));
    out.push_str(&format!(
        "  born, sex        {}, {}\n",
        date(&f.birth_date, 0),
        f.sex.as_str()
    ));
    out.push_str(&format!("  nationality      {}\n", f.nationality));
    out.push_str(&format!("  MRZ              {check}\n"));
    for line in read.dg1.lines() {
        out.push_str(&format!("                   {line}\n"));
    }
    out.push_str(&format!(
        "  chip traffic     {} APDUs ({} READ BINARY), {} bytes\n",
        read.commands, read.read_binary, read.bytes
    ));
    out.push_str("  verification     none in this demo (no passive or chip authentication)\n");
    out
}
