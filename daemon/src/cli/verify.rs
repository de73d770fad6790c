//! `cancuoc verify [--trust PATH]... [--json] FILE...|DIR`: offline passive
//! authentication of dumped EF.SOD and data group files, each recognised by its leading
//! tag, or of a dump folder written by `cancuoc read --raw DIR` (see [`crate::dump`]).
//!
//! Exit status (the table in [`crate::cli::exit`]): 0 `valid`, 5 `invalid`, 6
//! `no-trust-anchor`, 1 when the files or trust sources cannot be read.

use crate::cli::exit::Exit;
use crate::lds::dg1::Dg1;
use crate::lds::dg2::{Dg2, ImageLimits, OutputFormat};
use crate::lds::{DataGroup, LdsFile};
use crate::pki::time::Time;
use crate::session::result::Verdict;
use crate::trust::passive::{self, PassiveResult, PassiveStatus};
use crate::trust::store::{SourceReport, TrustStore};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status when the inputs cannot be read.
pub const EXIT_ERROR: u8 = Exit::Internal as u8;
/// Exit status for `invalid`.
pub const EXIT_INVALID: u8 = Exit::Forged as u8;
/// Exit status for `no-trust-anchor`.
pub const EXIT_NO_TRUST_ANCHOR: u8 = Exit::NotVerified as u8;

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
    /// EF.SOD and data group files (EF.COM and unknown files are ignored), or one dump
    /// folder (`cancuoc read --raw DIR`).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
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

/// The exit status for a result: passive authentication is the whole verdict here,
/// and a verdict exits as a read's does.
pub fn exit_code(status: PassiveStatus) -> u8 {
    let verdict = match status {
        PassiveStatus::Valid => Verdict::Genuine,
        PassiveStatus::Invalid => Verdict::Forged,
        PassiveStatus::NoTrustAnchor => Verdict::NotVerified,
    };
    Exit::of_verdict(Some(verdict)) as u8
}

#[derive(serde::Serialize)]
struct Output<'a> {
    files: Vec<FileEntry>,
    decoded: Decoded,
    trust: &'a [SourceReport],
    verification_time: Time,
    passive: &'a PassiveResult,
}

#[derive(serde::Serialize)]
struct FileEntry {
    path: String,
    file: String,
}

/// What the data groups say, so a dump can be checked by eye: the MRZ of DG1 and the
/// face image of DG2 (its size once decoded, within the decoder's limits).
#[derive(serde::Serialize, Default)]
struct Decoded {
    #[serde(skip_serializing_if = "Option::is_none")]
    dg1: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dg2: Option<serde_json::Value>,
}

/// Decodes only data groups whose hash matched: the image decoders never see bytes that
/// nobody signed.
fn decode(groups: &BTreeMap<u8, Vec<u8>>, passive: &PassiveResult) -> Decoded {
    let matched =
        |n: u8| passive.data_groups.0.get(&n) == Some(&crate::trust::passive::DataGroupStatus::Ok);
    let dg1 = groups
        .get(&DataGroup::DG1.number())
        .filter(|_| matched(DataGroup::DG1.number()))
        .map(|bytes| match Dg1::parse(bytes) {
            Ok(dg1) => serde_json::json!({
                "format": dg1.format().name(),
                "mrz": dg1.lines(),
                "check_digits_valid": dg1.checks.all_valid(),
            }),
            Err(e) => serde_json::json!({ "error": e.to_string() }),
        });
    let dg2 = groups
        .get(&DataGroup::DG2.number())
        .filter(|_| matched(DataGroup::DG2.number()))
        .map(|bytes| {
            let face = Dg2::parse(bytes)
                .and_then(|dg2| dg2.decode_first(&ImageLimits::default(), OutputFormat::Png));
            match face {
                Ok(face) => serde_json::json!({
                    "decoded": true,
                    "width": face.width,
                    "height": face.height,
                }),
                Err(e) => serde_json::json!({ "decoded": false, "error": e.to_string() }),
            }
        });
    Decoded { dg1, dg2 }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("cancuoc verify: {msg}");
    ExitCode::from(EXIT_ERROR)
}

/// The files to verify with their bytes: the files given, or the LDS files of a dump
/// folder (`cancuoc read --raw DIR`) given alone.
fn inputs(paths: &[PathBuf]) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    if let [dir] = paths
        && dir.is_dir()
    {
        let dump = crate::dump::Dump::load(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // EF.CardAccess and EF.CardSecurity are not among the files EF.SOD signs.
        return Ok(dump
            .files
            .into_iter()
            .filter(|(name, _)| name == "EF.COM" || name == "EF.SOD" || name.starts_with("DG"))
            .map(|(name, data)| (dir.join(crate::dump::file_name(&name)), data))
            .collect());
    }
    let mut inputs = Vec::new();
    for path in paths {
        let size = std::fs::metadata(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        if size > MAX_LDS_FILE {
            return Err(format!("{}: too large for an LDS file", path.display()));
        }
        let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        inputs.push((path.clone(), data));
    }
    Ok(inputs)
}

/// Runs `cancuoc verify`, printing to stdout.
pub fn run(args: &Args) -> ExitCode {
    run_to(args, &mut std::io::stdout().lock())
}

/// Runs `cancuoc verify`, printing the result to `out` (messages go to stderr).
pub fn run_to(args: &Args, out: &mut dyn Write) -> ExitCode {
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

    let inputs = match inputs(&args.files) {
        Ok(inputs) => inputs,
        Err(e) => return fail(&e),
    };
    let mut sod = None;
    let mut com = None;
    let mut groups = BTreeMap::new();
    let mut files = Vec::new();
    for (path, data) in inputs {
        let name = match LdsFile::identify(&data).ok() {
            Some(LdsFile::Sod) => {
                if sod.replace(data).is_some() {
                    return fail("more than one EF.SOD given");
                }
                "EF.SOD".to_string()
            }
            Some(LdsFile::Com) => {
                com = crate::lds::ef_com::EfCom::parse(&data).ok();
                "EF.COM".to_string()
            }
            Some(LdsFile::DataGroup(dg)) => {
                if groups.insert(dg.number(), data).is_some() {
                    return fail(&format!("{} given twice", dg.name()));
                }
                dg.name().to_string()
            }
            Some(LdsFile::CardAccess) | None => {
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
    // The issuing state binds the CSCA only from a DG1 whose hash matched.
    let parsed = crate::lds::sod::Sod::from_bytes(&sod).ok();
    let issuing_state = groups
        .get(&1)
        .filter(|b| parsed.as_ref().is_some_and(|s| s.hash_matches(1, b)))
        .and_then(|b| Dg1::parse(b).ok())
        .map(|d| d.fields.issuing_state.trim_end_matches('<').to_owned());
    let mut result = passive::verify(&sod, &groups, &store, at, issuing_state.as_deref());
    if let (Some(sod), Some(com)) = (&parsed, &com) {
        let signed = sod.lds.hashes.keys().copied().collect();
        let listed = com.data_groups.iter().map(|g| g.number()).collect();
        result.compare_ef_com(&signed, &listed);
    }
    let code = exit_code(result.status);
    if args.json {
        let doc = Output {
            files,
            decoded: decode(&groups, &result),
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
    }

    #[test]
    fn trust_cli_verify_bsi_set() {
        let Some(dir) = crate::pki::tests::shared_data("bsi-tr03105-5") else {
            return;
        };
        let Some(ml) = crate::pki::tests::shared_data("masterlists/DE_ML_2024-12-19.ml") else {
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
        let mut out = Vec::new();
        assert_eq!(
            run_to(&args, &mut out),
            ExitCode::from(EXIT_NO_TRUST_ANCHOR)
        );
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(doc["passive"]["status"], "no-trust-anchor");
        assert_eq!(doc["passive"]["sod_signature"], "valid");
        assert_eq!(doc["passive"]["data_groups"]["DG14"], "ok");
        assert_eq!(doc["decoded"]["dg1"]["format"], "TD3");
        assert_eq!(
            doc["decoded"]["dg1"]["mrz"][0],
            "P<D<<MUSTERMANN<<ERIKA<<<<<<<<<<<<<<<<<<<<<<"
        );
        assert_eq!(doc["decoded"]["dg1"]["check_digits_valid"], true);
        assert_eq!(doc["decoded"]["dg2"]["decoded"], true);
        let no_sod = Args {
            trust: vec![],
            json: false,
            at: None,
            files: files
                .into_iter()
                .filter(|p| !p.ends_with("EF_SOD.bin"))
                .collect(),
        };
        assert_eq!(run_to(&no_sod, &mut Vec::new()), ExitCode::from(EXIT_ERROR));
    }

    /// A dump folder verifies as its files given one by one.
    #[test]
    fn a_dump_folder_verifies_as_its_files() {
        let Some(dir) = crate::pki::tests::shared_data("bsi-tr03105-5") else {
            return;
        };
        let mut files = BTreeMap::new();
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let name = match LdsFile::identify(&data) {
                Ok(LdsFile::Sod) => "EF.SOD".to_owned(),
                Ok(LdsFile::Com) => "EF.COM".to_owned(),
                Ok(LdsFile::DataGroup(dg)) => dg.name().to_owned(),
                _ => continue,
            };
            files.insert(name, data);
            paths.push(path);
        }
        let out = std::env::temp_dir().join(format!("cancuoc-verify-dump-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        crate::dump::Dump::of_read(files, "test", &[], "BAC", 1)
            .write(&out)
            .unwrap();
        let run = |files: Vec<PathBuf>| {
            let args = Args {
                trust: vec![],
                json: true,
                at: Some("2014-06-01".into()),
                files,
            };
            let mut text = Vec::new();
            let code = run_to(&args, &mut text);
            let doc: serde_json::Value = serde_json::from_slice(&text).unwrap();
            (code, doc["passive"].clone())
        };
        let (code, passive) = run(vec![out.clone()]);
        assert_eq!(code, ExitCode::from(EXIT_NO_TRUST_ANCHOR));
        assert_eq!(passive, run(paths).1);
        assert_eq!(passive["data_groups"]["DG14"], "ok");
        // A folder that is not a dump is refused.
        std::fs::remove_file(out.join("manifest.json")).unwrap();
        assert_eq!(
            run_to(
                &Args {
                    trust: vec![],
                    json: true,
                    at: None,
                    files: vec![out.clone()]
                },
                &mut Vec::new()
            ),
            ExitCode::from(EXIT_ERROR)
        );
        std::fs::remove_dir_all(&out).unwrap();
    }
}
