//! `cancuoc read`: one verified read of the card on a reader.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use apdu::rng::SystemRng;

use crate::cli::exit::Exit;
use crate::lds::dg2::OutputFormat;
use crate::session::access::AccessInput;
use crate::session::result::{ReadResult, Verdict};
use crate::session::{self, Progress, ReadError, ReadRequest};
use crate::transport::pcsc::{self, PcscCard};
use crate::trust::{PassiveStatus, TrustStore};

/// Options of `cancuoc read`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The reader (default: the first PC/SC reader with a card); `nfc:CONNSTRING` for a
    /// reader driven through libnfc.
    #[arg(long)]
    pub reader: Option<String>,
    /// How to open the card.
    #[command(flatten)]
    pub access: AccessArgs,
    /// CSCA master list (.ml), PEM/DER certificates or CRLs, or a folder of them.
    #[arg(long = "trust", value_name = "PATH")]
    pub trust: Vec<PathBuf>,
    /// Write the face image here (PNG when the name ends in .png, else JPEG).
    #[arg(long, value_name = "FILE")]
    pub face: Option<PathBuf>,
    /// Print one JSON document (the result) on stdout.
    #[arg(long)]
    pub json: bool,
    /// Write the files as read into this folder (for `cancuoc verify`).
    #[arg(long, value_name = "DIR")]
    pub raw: Option<PathBuf>,
}

/// The access flags: exactly one way to open the card.
#[derive(Debug, Clone, clap::Args)]
#[group(required = true, multiple = true)]
pub struct AccessArgs {
    /// Card access number.
    #[arg(long, conflicts_with_all = ["mrz", "document_number", "id_number", "qr"])]
    pub can: Option<String>,
    /// The whole MRZ.
    #[arg(long, conflicts_with_all = ["document_number", "id_number", "qr"])]
    pub mrz: Option<String>,
    /// Document number (with --birth and --expiry).
    #[arg(long, requires_all = ["birth", "expiry"], conflicts_with_all = ["id_number", "qr"])]
    pub document_number: Option<String>,
    /// The 12-digit Vietnamese ID number (PACE with its last six digits; BAC with
    /// --birth and --expiry).
    #[arg(long, conflicts_with = "qr")]
    pub id_number: Option<String>,
    /// Date of birth, YYMMDD.
    #[arg(long)]
    pub birth: Option<String>,
    /// Date of expiry, YYMMDD.
    #[arg(long)]
    pub expiry: Option<String>,
    /// The text of the QR code on the front of a Vietnamese card.
    #[arg(long)]
    pub qr: Option<String>,
}

impl AccessArgs {
    /// The access input these flags give.
    pub fn input(&self) -> Option<AccessInput> {
        let s = |v: &Option<String>| v.clone();
        if let Some(can) = s(&self.can) {
            return Some(AccessInput::Can { can });
        }
        if let Some(mrz) = s(&self.mrz) {
            return Some(AccessInput::Mrz { mrz });
        }
        if let Some(document_number) = s(&self.document_number) {
            return Some(AccessInput::Document {
                document_number,
                birth: s(&self.birth).unwrap_or_default(),
                expiry: s(&self.expiry).unwrap_or_default(),
            });
        }
        if let Some(id_number) = s(&self.id_number) {
            return Some(AccessInput::IdNumber {
                id_number,
                birth: s(&self.birth),
                expiry: s(&self.expiry),
            });
        }
        s(&self.qr).map(|qr| AccessInput::Qr { qr })
    }
}

/// The exit status of a finished read.
pub fn exit_of(result: &ReadResult) -> Exit {
    match result.verification.verdict {
        Verdict::Genuine => Exit::Ok,
        Verdict::Forged => Exit::Forged,
        Verdict::NotVerified => {
            if result.verification.passive.status == PassiveStatus::NoTrustAnchor {
                Exit::NoTrustAnchor
            } else {
                Exit::CardProtocol
            }
        }
    }
}

/// The exit status of a failed read.
pub fn exit_of_error(error: &ReadError) -> Exit {
    match error {
        ReadError::WrongAccessKey => Exit::WrongAccessKey,
        ReadError::CardRemoved => Exit::CardRemoved,
        ReadError::Card(e) => Exit::of(e),
        ReadError::File { .. } => Exit::CardProtocol,
    }
}

fn fail(exit: Exit, message: &str) -> ExitCode {
    eprintln!("cancuoc read: {message}");
    exit.into()
}

/// Loads the trust anchors named on the command line.
pub fn load_trust(paths: &[PathBuf]) -> Result<TrustStore, String> {
    let mut store = TrustStore::new();
    for path in paths {
        store.load_path(path).map_err(|e| e.to_string())?;
    }
    Ok(store)
}

/// Connects to the card on `reader`: a PC/SC reader name, or `nfc:` and a libnfc
/// connstring (`nfc:pn53x_usb:001:004`, `nfc:pcsc:Virtual PCD 00 00`) for a reader
/// driven through libnfc.
pub fn open_card(reader: &str) -> Result<Box<dyn apdu::Card>, (Exit, String)> {
    if let Some(connstring) = reader.strip_prefix("nfc:") {
        #[cfg(feature = "nfc")]
        {
            use crate::transport::nfc::{NfcCard, NfcError};
            return match NfcCard::connect(connstring) {
                Ok(card) => Ok(Box::new(card)),
                Err(NfcError::NoCard) => Err((Exit::CardRemoved, "no card on the reader".into())),
                Err(e @ NfcError::BadConnstring(_)) => Err((Exit::Usage, e.to_string())),
                Err(e) => Err((Exit::Transport, e.to_string())),
            };
        }
        #[cfg(not(feature = "nfc"))]
        {
            let _ = connstring;
            return Err((
                Exit::Usage,
                "built without NFC support (feature nfc)".into(),
            ));
        }
    }
    match PcscCard::connect(reader) {
        Ok(card) => Ok(Box::new(card)),
        Err(pcsc::PcscError::NoCard) => Err((Exit::CardRemoved, "no card in the reader".into())),
        Err(e) => Err((Exit::Transport, e.to_string())),
    }
}

/// Runs `cancuoc read`.
pub fn run(args: &Args) -> ExitCode {
    let Some(input) = args.access.input() else {
        return fail(
            Exit::Usage,
            "give one of --can, --mrz, --document-number, --id-number, --qr",
        );
    };
    let access = match input.to_key() {
        Ok(key) => key,
        Err(e) => return fail(Exit::Usage, &e.to_string()),
    };
    let trust = match load_trust(&args.trust) {
        Ok(t) => t,
        Err(e) => return fail(Exit::Usage, &e),
    };
    let reader = match &args.reader {
        Some(r) => r.clone(),
        None => match pcsc::list_readers() {
            Ok(readers) => match readers.into_iter().find(|r| r.card_present) {
                Some(r) => r.name,
                None => return fail(Exit::Transport, "no reader has a card"),
            },
            Err(e) => return fail(Exit::Transport, &e.to_string()),
        },
    };
    let mut card = match open_card(&reader) {
        Ok(c) => c,
        Err((exit, message)) => return fail(exit, &message),
    };
    let request = ReadRequest {
        access,
        face: args.face.as_ref().map(|p| {
            if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")) {
                OutputFormat::Png
            } else {
                OutputFormat::Jpeg
            }
        }),
        raw: args.raw.is_some(),
        skip: BTreeSet::new(),
    };
    let tty = std::io::stderr().is_terminal();
    let mut progress = |p: Progress| {
        if tty {
            eprint!("\r\x1b[2K{:<24} {:>7} bytes", p.step.name(), p.bytes);
        } else {
            eprintln!("{} ({} bytes)", p.step.name(), p.bytes);
        }
    };
    let outcome = session::read_card(&mut card, &request, &trust, &mut SystemRng, &mut progress);
    if tty {
        eprintln!();
    }
    let result = match outcome {
        Ok((result, _)) => result,
        Err(e) => return fail(exit_of_error(&e), &e.to_string()),
    };
    if let Err(e) = write_outputs(args, &result) {
        return fail(Exit::Internal, &e);
    }
    if args.json {
        match serde_json::to_string_pretty(&result) {
            Ok(text) => println!("{text}"),
            Err(e) => return fail(Exit::Internal, &e.to_string()),
        }
    } else {
        print!("{}", human(&result));
    }
    exit_of(&result).into()
}

/// Writes `--face` and `--raw` outputs.
fn write_outputs(args: &Args, result: &ReadResult) -> Result<(), String> {
    use base64::Engine as _;
    let decode = |s: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|e| e.to_string())
    };
    if let (Some(path), Some(face)) = (&args.face, &result.face) {
        std::fs::write(path, decode(&face.data)?)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let (Some(dir), Some(raw)) = (&args.raw, &result.raw) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for (name, data) in raw {
            let path = dir.join(format!("{}.bin", name.replace('.', "_")));
            std::fs::write(&path, decode(data)?).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// The result for people.
pub fn human(r: &ReadResult) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut line = |k: &str, v: &str| {
        let _ = writeln!(out, "  {k:<16} {v}");
    };
    line("holder", &r.holder.full_name);
    if let Some(vn) = &r.vn {
        if let Some(name) = &vn.full_name {
            line("họ và tên", name);
        }
        if let Some(id) = &vn.id_number {
            line("ID number", id);
        }
    }
    line(
        "document",
        &format!(
            "{} {} no. {}",
            r.document.kind, r.document.issuing_state, r.document.number
        ),
    );
    line("access", &r.verification.access);
    line(
        "passive",
        &serde_json::to_value(r.verification.passive.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
    );
    line(
        "chip",
        &format!(
            "{} {}",
            r.verification.chip.method, r.verification.chip.status
        ),
    );
    line(
        "verdict",
        match r.verification.verdict {
            Verdict::Genuine => "genuine",
            Verdict::NotVerified => "not verified",
            Verdict::Forged => "FORGED",
        },
    );
    out
}
