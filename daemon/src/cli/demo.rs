//! `cancuoc demo`: the full verified read of the built-in simulated Vietnamese card, in
//! process ([`crate::sim_read`]): PACE with the CAN (the end of the ID number), every
//! data group, chip authentication, passive authentication against the test CSCA, and
//! the verdict.

use std::process::ExitCode;

use apdu::rng::SystemRng;

use crate::cli::exit::Exit;
use crate::cli::read::{exit_of, exit_of_error};
use crate::session::ReadStats;
use crate::session::result::{ReadResult, Verdict};
use crate::sim_read::{DemoError, read_demo_card};

/// Options of `cancuoc demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the result JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
}

/// Runs `cancuoc demo`.
pub fn run(args: &Args) -> ExitCode {
    match read_demo_card(&mut SystemRng) {
        Ok((result, stats, apdus)) => {
            if args.json {
                match serde_json::to_string_pretty(&result) {
                    Ok(text) => println!("{text}"),
                    Err(e) => {
                        eprintln!("cancuoc demo: {e}");
                        return Exit::Internal.into();
                    }
                }
            } else {
                print!("{}", render(&result, &stats, apdus));
            }
            exit_of(&result).into()
        }
        Err(e) => {
            eprintln!("cancuoc demo: {e}");
            match &e {
                DemoError::Read(e) => exit_of_error(e).into(),
                DemoError::Profile(_) => Exit::Internal.into(),
            }
        }
    }
}

/// The human summary of the read.
pub fn render(r: &ReadResult, stats: &ReadStats, apdus: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut line = |k: &str, v: &str| {
        let _ = writeln!(out, "  {k:<20} {v}");
    };
    line("card", "simulated Vietnamese ID card (synthetic holder)");
    line("access", &r.verification.access);
    if let Some(vn) = &r.vn {
        let date = |d: &Option<crate::lds::dg13::VnDate>| {
            d.as_ref()
                .map(|d| d.iso().unwrap_or_else(|| d.text.clone()))
        };
        let fields = [
            ("họ và tên", vn.full_name.clone()),
            ("số định danh", vn.id_number.clone()),
            ("ngày sinh", date(&vn.birth_date)),
            ("giới tính", vn.sex.clone()),
            ("quốc tịch", vn.nationality.clone()),
            ("dân tộc", vn.ethnicity.clone()),
            ("quê quán", vn.place_of_origin.clone()),
            ("nơi thường trú", vn.place_of_residence.clone()),
            ("ngày cấp", date(&vn.issue_date)),
            ("có giá trị đến", date(&vn.expiry_date)),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                line(k, &v);
            }
        }
    }
    if let Some(document) = &r.document {
        line(
            "document",
            &format!(
                "{} {} no. {}, expires {}",
                document.kind,
                document.issuing_state,
                document.number,
                document.expiry_date.as_deref().unwrap_or("?")
            ),
        );
        for (i, l) in document.mrz.lines().enumerate() {
            line(if i == 0 { "MRZ" } else { "" }, l);
        }
    }
    if let Some(face) = &r.face {
        line(
            "face",
            &format!("{} {}x{}", face.format, face.width, face.height),
        );
    }
    let name = |v: serde_json::Result<serde_json::Value>| {
        v.ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let chip = &r.verification.chip;
    line(
        "passive auth.",
        &name(serde_json::to_value(r.verification.passive.status)),
    );
    line(
        "chip auth.",
        &format!(
            "{} {}",
            name(serde_json::to_value(chip.method)),
            name(serde_json::to_value(chip.status))
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
    line(
        "chip traffic",
        &format!(
            "{apdus} APDUs ({} READ BINARY), {} file bytes",
            stats.read_binary, stats.bytes
        ),
    );
    out
}
