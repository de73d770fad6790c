//! `cancuoc trust inspect PATH [--json]`: lists the certificates of a master list, PEM
//! or DER file, or folder, with the list's own signature and each certificate's.
//!
//! Exit status: 0 when the source was read, 1 when it could not be (including a master
//! list whose signature is invalid).

use crate::trust::inspect::{Inspection, inspect_path};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `cancuoc trust inspect`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Master list (.ml), PEM or DER file, or folder.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// Print one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs `cancuoc trust inspect`.
pub fn run(args: &Args) -> ExitCode {
    let inspection = match inspect_path(&args.path) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("cancuoc trust inspect: {e}");
            return ExitCode::from(1);
        }
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        match serde_json::to_string_pretty(&inspection) {
            Ok(text) => {
                let _ = writeln!(out, "{text}");
            }
            Err(e) => {
                eprintln!("cancuoc trust inspect: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        let _ = write!(out, "{}", human(&inspection));
    }
    ExitCode::SUCCESS
}

/// The listing for people: one line per certificate, then the counts.
pub fn human(i: &Inspection) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    for src in &i.sources {
        let _ = writeln!(
            s,
            "{} ({}): {} certificates, {} CRLs",
            src.path, src.kind, src.certificates, src.crls
        );
        if let Some(sig) = &src.master_list_signature {
            let _ = writeln!(
                s,
                "  list signature: {} (signer {}, issued by {})",
                sig.status,
                sig.signer.as_deref().unwrap_or("?"),
                sig.signer_issuer.as_deref().unwrap_or("?")
            );
            for p in &sig.problems {
                let _ = writeln!(s, "  problem: {p}");
            }
        }
        for e in &src.errors {
            let _ = writeln!(s, "  unreadable: {e}");
        }
    }
    for c in &i.certificates {
        let m = &c.summary;
        let key = match &m.curve {
            Some(curve) => format!(
                "EC {curve}{}",
                if m.explicit_parameters {
                    " explicit"
                } else {
                    ""
                }
            ),
            None => format!("{} {}", m.key_algorithm, m.key_bits),
        };
        let _ = writeln!(
            s,
            "{:<3} {:<11} {:<16} {:<28} {} .. {}  {}  serial {}",
            m.country.as_deref().unwrap_or("--"),
            c.kind,
            c.signature,
            key,
            m.not_before.to_string().get(..10).unwrap_or(""),
            m.not_after.to_string().get(..10).unwrap_or(""),
            m.subject,
            m.serial
        );
    }
    let sum = &i.summary;
    let _ = writeln!(
        s,
        "\n{} certificates from {} countries; {} signatures valid",
        sum.certificates, sum.countries, sum.signatures_valid
    );
    for (k, n) in &sum.by_key_type {
        let _ = writeln!(s, "  {n:>4}  {k}");
    }
    for (reason, n) in &sum.signatures_not_valid {
        let _ = writeln!(s, "  {n:>4}  not valid: {reason}");
    }
    s
}
