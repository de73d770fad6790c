//! `cancuoc verify [--trust PATH]... [--json] FILE...`: offline passive authentication
//! of dumped EF.SOD and data group files, each recognised by its leading tag.
//!
//! Exit status: 0 `valid`, 3 `invalid`, 4 `no-trust-anchor`, 1 when the files or trust
//! sources cannot be read.

use crate::trust::passive::{self, PassiveResult, PassiveStatus};
use crate::trust::store::{SourceReport, TrustStore};
use crate::trust::time::Time;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status when the inputs cannot be read.
pub const EXIT_ERROR: u8 = 1;
/// Exit status for `invalid`.
pub const EXIT_INVALID: u8 = 3;
/// Exit status for `no-trust-anchor`.
pub const EXIT_NO_TRUST_ANCHOR: u8 = 4;

/// Largest LDS file read (DG2/DG3 with images stay well under this).
const MAX_LDS_FILE: u64 = 4 * 1024 * 1024;

/// Arguments of `cancuoc verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// CSCA master list (.ml), PEM or DER certificate or CRL, or a folder of them.
    #[arg(long = "trust", value_name = "PATH")]
    pub trust: Vec<PathBuf>,
    /// Print one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    /// Verification time (RFC 3339 or YYYY-MM-DD, UTC) instead of now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// EF.SOD and data group files (EF.COM and unknown files are ignored).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// What a dumped file is, by its first byte.
pub fn lds_file_kind(data: &[u8]) -> Option<LdsFile> {
    Some(match data.first()? {
        0x77 => LdsFile::Sod,
        0x60 => LdsFile::Com,
        0x61 => LdsFile::DataGroup(1),
        0x75 => LdsFile::DataGroup(2),
        0x63 => LdsFile::DataGroup(3),
        0x76 => LdsFile::DataGroup(4),
        0x65 => LdsFile::DataGroup(5),
        0x66 => LdsFile::DataGroup(6),
        0x67 => LdsFile::DataGroup(7),
        0x68 => LdsFile::DataGroup(8),
        0x69 => LdsFile::DataGroup(9),
        0x6a => LdsFile::DataGroup(10),
        0x6b => LdsFile::DataGroup(11),
        0x6c => LdsFile::DataGroup(12),
        0x6d => LdsFile::DataGroup(13),
        0x6e => LdsFile::DataGroup(14),
        0x6f => LdsFile::DataGroup(15),
        0x70 => LdsFile::DataGroup(16),
        _ => return None,
    })
}

/// An LDS elementary file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LdsFile {
    Sod,
    Com,
    DataGroup(u8),
}

/// Parses `--at`.
pub fn parse_time(text: &str) -> Option<Time> {
    let t = text.trim();
    let num = |a: usize, b: usize| t.get(a..b)?.parse::<u32>().ok();
    let y = i64::from(num(0, 4)?);
    let (mo, d) = (num(5, 7)?, num(8, 10)?);
    if t.len() == 10 {
        return Time::from_ymd_hms(y, mo, d, 0, 0, 0);
    }
    let (h, mi, s) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !matches!(t.get(19..), Some("Z" | "z" | "")) {
        return None;
    }
    Time::from_ymd_hms(y, mo, d, h, mi, s)
}

/// The exit status for a result.
pub fn exit_code(status: PassiveStatus) -> u8 {
    match status {
        PassiveStatus::Valid => 0,
        PassiveStatus::Invalid => EXIT_INVALID,
        PassiveStatus::NoTrustAnchor => EXIT_NO_TRUST_ANCHOR,
    }
}

#[derive(serde::Serialize)]
struct Output<'a> {
    files: Vec<FileEntry>,
    trust: &'a [SourceReport],
    verification_time: Time,
    passive: &'a PassiveResult,
}

#[derive(serde::Serialize)]
struct FileEntry {
    path: String,
    file: String,
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("cancuoc verify: {msg}");
    ExitCode::from(EXIT_ERROR)
}

/// Runs `cancuoc verify`.
pub fn run(args: &Args) -> ExitCode {
    let at = match &args.at {
        Some(text) => match parse_time(text) {
            Some(t) => t,
            None => {
                return fail(&format!(
                    "--at {text:?}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ"
                ));
            }
        },
        None => Time::now(),
    };
    let mut store = TrustStore::new();
    let mut reports = Vec::new();
    for path in &args.trust {
        match store.load_path(path) {
            Ok(r) => reports.extend(r),
            Err(e) => return fail(&e.to_string()),
        }
    }
    for r in &reports {
        if let Some(sig) = &r.master_list_signature {
            eprintln!(
                "trust: {}: master list signature {} ({} certificates)",
                r.path, sig.status, r.certificates
            );
        }
    }

    let mut sod = None;
    let mut groups = BTreeMap::new();
    let mut files = Vec::new();
    for path in &args.files {
        let size = match std::fs::metadata(path) {
            Ok(m) => m.len(),
            Err(e) => return fail(&format!("{}: {e}", path.display())),
        };
        if size > MAX_LDS_FILE {
            return fail(&format!("{}: too large for an LDS file", path.display()));
        }
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) => return fail(&format!("{}: {e}", path.display())),
        };
        let name = match lds_file_kind(&data) {
            Some(LdsFile::Sod) => {
                if sod.replace(data).is_some() {
                    return fail("more than one EF.SOD given");
                }
                "EF.SOD".to_string()
            }
            Some(LdsFile::Com) => "EF.COM".to_string(),
            Some(LdsFile::DataGroup(n)) => {
                if groups.insert(n, data).is_some() {
                    return fail(&format!("DG{n} given twice"));
                }
                format!("DG{n}")
            }
            None => {
                eprintln!(
                    "cancuoc verify: {}: not an LDS file (leading byte {}), ignored",
                    path.display(),
                    data.first().map_or("none".into(), |b| format!("{b:02X}"))
                );
                continue;
            }
        };
        files.push(FileEntry {
            path: path.display().to_string(),
            file: name,
        });
    }
    let Some(sod) = sod else {
        return fail("no EF.SOD among the files (an EF.SOD starts with tag 77)");
    };
    let result = passive::verify(&sod, &groups, &store, at);
    let code = exit_code(result.status);
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = Output {
            files,
            trust: &reports,
            verification_time: at,
            passive: &result,
        };
        match serde_json::to_string_pretty(&doc) {
            Ok(text) => {
                let _ = writeln!(out, "{text}");
            }
            Err(e) => return fail(&e.to_string()),
        }
    } else {
        let _ = write!(out, "{}", human(&result));
    }
    ExitCode::from(code)
}

/// The result for people.
pub fn human(r: &PassiveResult) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let status = serde_json::to_value(r.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let _ = writeln!(s, "passive authentication: {status}");
    for (n, st) in &r.data_groups.0 {
        let st = serde_json::to_value(st)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let _ = writeln!(s, "  DG{n:<3} {st}");
    }
    if let Some(a) = &r.signature_algorithm {
        let _ = writeln!(s, "  signature: {a}: {}", r.sod_signature);
    }
    if let Some(ds) = &r.signer {
        let _ = writeln!(
            s,
            "  signer:    {} (serial {}, {} to {})",
            ds.subject, ds.serial, ds.not_before, ds.not_after
        );
    }
    match &r.csca {
        Some(c) => {
            let _ = writeln!(s, "  CSCA:      {} (serial {})", c.subject, c.serial);
        }
        None => {
            let _ = writeln!(s, "  CSCA:      none found");
        }
    }
    for link in &r.chain {
        let _ = writeln!(s, "  via:       {link}");
    }
    let crl = serde_json::to_value(r.crl)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let _ = writeln!(s, "  CRL:       {crl}");
    for p in &r.problems {
        let _ = writeln!(s, "  problem:   {} — {}", p.code, p.message);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_tags() {
        assert_eq!(
            parse_time("2024-01-02"),
            Time::from_ymd_hms(2024, 1, 2, 0, 0, 0)
        );
        assert_eq!(
            parse_time("2024-01-02T03:04:05Z"),
            Time::from_ymd_hms(2024, 1, 2, 3, 4, 5)
        );
        assert_eq!(parse_time("2024-13-02"), None);
        assert_eq!(parse_time("x"), None);
        assert_eq!(lds_file_kind(&[0x77]), Some(LdsFile::Sod));
        assert_eq!(lds_file_kind(&[0x76]), Some(LdsFile::DataGroup(4)));
        assert_eq!(lds_file_kind(&[0x30]), None);
        assert_eq!(lds_file_kind(&[]), None);
    }

    #[test]
    fn trust_cli_verify_bsi_set() {
        let Some(dir) = crate::trust::tests::shared_data("bsi-tr03105-5") else {
            return;
        };
        let Some(ml) = crate::trust::tests::shared_data("masterlists/DE_ML_2024-12-19.ml") else {
            return;
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "bin"))
            .collect();
        files.sort();
        let args = Args {
            trust: vec![ml],
            json: true,
            at: Some("2014-06-01".into()),
            files: files.clone(),
        };
        assert_eq!(run(&args), ExitCode::from(EXIT_NO_TRUST_ANCHOR));
        let no_sod = Args {
            trust: vec![],
            json: false,
            at: None,
            files: files
                .into_iter()
                .filter(|p| !p.ends_with("EF_SOD.bin"))
                .collect(),
        };
        assert_eq!(run(&no_sod), ExitCode::from(EXIT_ERROR));
    }
}
