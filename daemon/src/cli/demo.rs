//! `cancuoc demo`: the built-in simulated Vietnamese card, read in process.

use std::process::ExitCode;

use apdu::emulator::CardEmulator;
use apdu::read_binary::{self, FileReader, ICAO_AID};
use apdu::rng::SystemRng;
use apdu::{bac, Card};

use crate::cli::exit::Exit;
use crate::lds::dg1::Dg1;
use crate::lds::ef_com::EfCom;
use crate::lds::{DataGroup, LdsFile};
use crate::sim::profile;

/// Options of `cancuoc demo`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// What the demo read.
pub struct DemoRead {
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
}

/// Opens the simulated `vn-cccd` card with BAC and reads EF.COM and DG1.
pub fn read_demo_card(rng: &mut impl rand_core::CryptoRng) -> Result<DemoRead, DemoError> {
    let profile = profile::vn_cccd()?;
    let mut chip = CardEmulator::new(profile.image.clone());
    tracing::info!(profile = profile.name, "reading the simulated card");
    let mrz = profile.mrz_key()?;
    let mut channel = bac::open(&mut chip, &mrz, rng)?;
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
            }
        }
    }
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
    out.push_str("  access           BAC (MRZ data: document number, birth, expiry)\n");
    out.push_str(&format!(
        "  EF.COM           LDS {}, lists {}\n",
        read.com.lds_version_display(),
        groups.join(" ")
    ));
    out.push_str(&format!(
        "  document         {} {} no. {}, expires {}\n",
        f.document_code, f.issuing_state, f.document_number, f.expiry_date
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
        f.birth_date,
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
