//! `cancuoc read`: one verified read of the card on a reader — through the daemon when
//! its socket exists (it owns the readers and verifies with its own trust anchors), else
//! directly, as with `--local`.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use apdu::rng::SystemRng;
use serde::Deserialize as _;
use serde_json::{Map, Value, json};

use crate::cli::access_source;
use crate::cli::exit::Exit;
use crate::client::{self, Client};
use crate::fields::FieldSet;
use crate::lds::dg2::OutputFormat;
use crate::lds::dg13::VnDate;
use crate::session::access_input::AccessInput;
use crate::session::result::{ReadResult, Shown, ShownPartial, Verdict};
use crate::session::{self, Progress, ReadError, ReadPolicy, ReadRequest};
use crate::transport::{self, NamedBy};
use crate::trust::TrustStore;

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
    /// The daemon's socket (default: $CANCUOC_SOCKET, else /run/cancuoc/api.sock, used
    /// when a socket is there). Given here, it must exist.
    #[arg(long, value_name = "PATH", conflicts_with = "local")]
    pub socket: Option<PathBuf>,
    /// Read directly from the reader, not through the daemon.
    #[arg(long)]
    pub local: bool,
    /// Read over BAC when the chip offers PACE and PACE fails (the result says so);
    /// without it such a read ends with the PACE error. Through the daemon, its
    /// configuration must allow it too.
    #[arg(long)]
    pub allow_bac_fallback: bool,
    /// A card whose signed data offers no chip proof reads "not-verified", not "genuine".
    #[arg(long)]
    pub require_chip_proof: bool,
    /// Wait this many seconds (60 when no number is given) for a card to be presented,
    /// instead of failing at once when no reader has one.
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "60")]
    pub wait: Option<f64>,
    /// Only these fields (comma-separated API field names, e.g. `full_name,face`); the
    /// data groups no field needs are not read. Through the daemon, within what its
    /// rule for this user allows.
    #[arg(long, value_name = "FIELDS", value_delimiter = ',')]
    pub fields: Vec<String>,
}

/// How long to wait for a card, from `--wait`.
fn wait_of(args: &Args) -> Result<Duration, String> {
    match args.wait {
        None => Ok(Duration::ZERO),
        Some(s) if s.is_finite() && (0.0..=86_400.0).contains(&s) => Ok(Duration::from_secs_f64(s)),
        Some(_) => Err("--wait must be 0 to 86400 seconds".into()),
    }
}

/// The fields `--fields` names, if any.
fn fields_of(args: &Args) -> Result<Option<crate::fields::FieldSet>, String> {
    if args.fields.is_empty() {
        return Ok(None);
    }
    let mut fields = crate::fields::FieldSet::parse(args.fields.iter().map(|f| f.trim()))
        .map_err(|e| format!("--fields: {e}"))?;
    // Asking for the face file asks for the face.
    if args.face.is_some() {
        fields.insert(crate::fields::Field::Face);
    }
    Ok(Some(fields))
}

/// A reader holding a card (see [`transport::wait_for_card`]), with a spinner while
/// it waits.
fn reader_with_card(reader: Option<&str>, wait: Duration) -> Result<String, (Exit, String)> {
    let waiting = spinner(wait > Duration::ZERO, "waiting for a card");
    match transport::wait_for_card(reader, wait) {
        Ok(Some(name)) => {
            if let Some(bar) = waiting {
                bar.finish_and_clear();
            }
            Ok(name)
        }
        Ok(None) => Err((Exit::Transport, "no reader has a card".into())),
        Err(e) => Err((Exit::Transport, e.to_string())),
    }
}

/// A progress bar on standard error when it is a terminal (and `shown`), else `None`:
/// scripts and `--json` get nothing extra.
fn spinner(shown: bool, message: &str) -> Option<indicatif::ProgressBar> {
    if !shown || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {elapsed:>3} {msg}") {
        bar.set_style(style);
    }
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}

/// The bar's line for one step of a read: its name, the bytes read so far and, when the
/// progress carries one, the percent done.
fn progress_message(step: &str, bytes: u64, percent: Option<u64>) -> String {
    match percent {
        Some(p) => format!("{step:<20} {p:>3}%  {bytes} bytes"),
        None => format!("{step:<20} {bytes} bytes"),
    }
}

/// How long a read through the daemon may take.
const DAEMON_READ_TIMEOUT: Duration = Duration::from_secs(120);

pub use crate::cli::access_source::AccessArgs;

/// The exit status of a finished read.
pub fn exit_of(result: &ReadResult) -> Exit {
    Exit::of_verdict(Some(result.verification.verdict))
}

/// The exit status of a result as JSON (a read through the daemon): the same rule as
/// [`exit_of`]; a result without a verdict is not verified.
pub fn exit_of_json(result: &Value) -> Exit {
    Exit::of_verdict(Verdict::deserialize(&result["verification"]["verdict"]).ok())
}

/// The exit status of a failed read.
pub fn exit_of_error(error: &ReadError) -> Exit {
    Exit::of(error.failure())
}

fn fail(exit: Exit, message: &str) -> ExitCode {
    eprintln!("cancuoc read: {message}");
    exit.into()
}

/// Connects to the card on `reader` (see [`transport::open`]).
fn open_card(reader: &str) -> Result<Box<dyn apdu::Card>, (Exit, String)> {
    transport::open(reader).map_err(|e| (Exit::of(e.failure(NamedBy::Caller)), e.to_string()))
}

/// The face format asked for by the name of the `--face` file.
fn face_format(path: &Path) -> OutputFormat {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
    {
        OutputFormat::Png
    } else {
        OutputFormat::Jpeg
    }
}

/// Runs `cancuoc read`.
pub fn run(args: &Args) -> ExitCode {
    let env = |name: &str| std::env::var(name).ok();
    let input = args
        .access
        .resolve(&mut access_source::Stdin, &env, &mut |w| {
            eprintln!("cancuoc read: {w}")
        });
    let input = match input {
        Ok(Some(input)) => input,
        Ok(None) => {
            return fail(
                Exit::Usage,
                "give one of --can, --mrz, --document-number, --id-number, --qr (a value or `-` for standard input), --access-file, or CANCUOC_CAN / CANCUOC_MRZ / CANCUOC_DOCUMENT_NUMBER / CANCUOC_ID_NUMBER / CANCUOC_QR",
            );
        }
        Err(e) => return fail(Exit::Usage, &e),
    };
    let access = match input.to_key() {
        Ok(key) => key,
        Err(e) => return fail(Exit::Usage, &e.to_string()),
    };
    let socket = if args.local {
        None
    } else {
        match client::find_socket(args.socket.as_deref()) {
            Ok(socket) => socket,
            Err(e) => return fail(Exit::Usage, &format!("--socket: {e}")),
        }
    };
    if let Some(socket) = socket {
        return run_through_daemon(args, &input, &socket);
    }
    let trust = match TrustStore::load(&args.trust, &[]).map_err(|e| e.to_string()) {
        Ok(t) => t,
        Err(e) => return fail(Exit::Usage, &e),
    };
    let (wait, fields) = match (wait_of(args), fields_of(args)) {
        (Ok(w), Ok(f)) => (w, f),
        (Err(e), _) | (_, Err(e)) => return fail(Exit::Usage, &e),
    };
    let reader = match reader_with_card(args.reader.as_deref(), wait) {
        Ok(r) => r,
        Err((exit, message)) => return fail(exit, &message),
    };
    let mut card = match open_card(&reader) {
        Ok(c) => crate::dump::Counting::new(c),
        Err((exit, message)) => return fail(exit, &message),
    };
    let request = ReadRequest {
        access,
        face: args.face.as_deref().map(face_format),
        raw: args.raw.is_some(),
        skip: fields
            .as_ref()
            .map_or_else(BTreeSet::new, |f| f.data_groups_to_skip()),
        policy: ReadPolicy {
            allow_bac_fallback: args.allow_bac_fallback,
            require_chip_proof: args.require_chip_proof,
        },
    };
    let bar = spinner(!args.json, "starting");
    let mut progress = |p: Progress| {
        if let Some(bar) = &bar {
            if let Some(partial) = &p.partial {
                // The verified name while the face is still coming; the final result
                // says whether it stands.
                bar.println(partial_line(&FieldSet::whole().filter_partial(partial)));
            }
            bar.set_message(progress_message(
                &p.step.name(),
                p.bytes as u64,
                Some(u64::from(p.percent)),
            ));
        }
    };
    let outcome = session::read_card(&mut card, &request, &trust, &mut SystemRng, &mut progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let result = match outcome {
        Ok((result, _)) => result,
        Err(e) => return fail(exit_of_error(&e), &e.to_string()),
    };
    if let Err(e) = write_outputs(args, &result, &reader, card.apdus) {
        return fail(Exit::Internal, &e);
    }
    let shown = match &fields {
        Some(f) => with_files_kept(f.filter(&result), &result),
        None => FieldSet::whole().filter(&result),
    };
    if args.json {
        let json = match &fields {
            Some(_) => serde_json::to_value(&shown),
            None => serde_json::to_value(&result),
        };
        match json.and_then(|json| serde_json::to_string_pretty(&json)) {
            Ok(text) => println!("{text}"),
            Err(e) => return fail(Exit::Internal, &e.to_string()),
        }
    } else {
        print!("{}", human_shown(&shown));
    }
    exit_of(&result).into()
}

/// One line for a terminal: the identity known before the face, and the verdict so far,
/// from a `read-partial` event or a local read's [`session::Partial`].
fn partial_line(partial: &ShownPartial<'_>) -> String {
    let vn = partial.vn.as_ref();
    let name = vn
        .and_then(|vn| given(&vn.full_name))
        .map(String::as_str)
        .or_else(|| partial.holder.as_ref()?.full_name.as_deref())
        .unwrap_or_default();
    let id = vn
        .and_then(|vn| given(&vn.id_number))
        .map(String::as_str)
        .or_else(|| partial.document.as_ref()?.number.as_deref())
        .unwrap_or_default();
    match partial.verdict {
        Some(verdict) => format!(
            "verified so far: {name} {id} (verdict so far: {})",
            wire_name(&verdict)
        ),
        None => format!("verified so far: {name} {id} (verdict after the face)"),
    }
}

/// `cancuoc read` through the daemon at `socket`: the same request, output and exit
/// statuses as a direct read, verified with the daemon's trust anchors.
fn run_through_daemon(args: &Args, input: &AccessInput, socket: &Path) -> ExitCode {
    if !args.trust.is_empty() {
        return fail(
            Exit::Usage,
            &format!(
                "--trust: the daemon at {} verifies with its own trust anchors; add --local to read directly with these",
                socket.display()
            ),
        );
    }
    if args.raw.is_some() {
        return fail(
            Exit::Usage,
            "--raw: the daemon does not return the files as read; add --local to read directly",
        );
    }
    let mut params = Map::new();
    if let Some(reader) = &args.reader {
        params.insert("reader".into(), json!(reader));
    }
    // The same serde form the daemon reads (docs/api.md).
    let access = match serde_json::to_value(input) {
        Ok(access) => access,
        Err(e) => return fail(Exit::Internal, &e.to_string()),
    };
    params.insert("access".into(), access);
    // Only ever stricter than the daemon's configuration, or a request it refuses.
    if args.allow_bac_fallback {
        params.insert("allow_bac_fallback".into(), json!(true));
    }
    if args.require_chip_proof {
        params.insert("require_chip_proof".into(), json!(true));
    }
    if let Some(path) = &args.face {
        let format = match face_format(path) {
            OutputFormat::Png => "png",
            OutputFormat::Jpeg => "jpeg",
        };
        params.insert("face".into(), json!(format));
    }
    let (wait, fields) = match (wait_of(args), fields_of(args)) {
        (Ok(w), Ok(f)) => (w, f),
        (Err(e), _) | (_, Err(e)) => return fail(Exit::Usage, &e),
    };
    if let Some(fields) = &fields {
        params.insert("fields".into(), json!(fields.names()));
    }
    if !wait.is_zero() {
        params.insert("wait".into(), json!(wait.as_secs_f64()));
    }
    eprintln!("cancuoc read: through the daemon at {}", socket.display());
    let bar = spinner(
        !args.json,
        if wait.is_zero() {
            "starting"
        } else {
            "waiting for a card"
        },
    );
    // A read's own events come to the connection that asked for it, unsubscribed.
    let mut on_event = |event: &Map<String, Value>| {
        let Some(bar) = &bar else { return };
        match event.get("event").and_then(Value::as_str) {
            Some("read-progress") => {
                let step = event.get("step").and_then(Value::as_str).unwrap_or("…");
                let bytes = event.get("bytes").and_then(Value::as_u64).unwrap_or(0);
                let percent = event.get("percent").and_then(Value::as_u64);
                bar.set_message(progress_message(step, bytes, percent));
            }
            Some("read-partial") => {
                // An event this version does not read is left out: the result follows.
                if let Ok(partial) = ShownPartial::deserialize(&Value::Object(event.clone())) {
                    bar.println(partial_line(&partial));
                }
            }
            _ => {}
        }
    };
    let answer = Client::connect(socket).and_then(|mut client| {
        client.request_with_events("read", params, DAEMON_READ_TIMEOUT + wait, &mut on_event)
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let mut answer = match answer {
        Ok(answer) => answer,
        Err(e @ client::ClientError::Connect { .. }) => {
            return fail(
                Exit::of_client(&e),
                &format!("{e} (--local reads without the daemon)"),
            );
        }
        Err(e) => return fail(Exit::of_client(&e), &e.to_string()),
    };
    let Some(result) = answer.remove("result").filter(Value::is_object) else {
        return fail(Exit::Internal, "the daemon's answer holds no result");
    };
    if let Some(path) = &args.face {
        match result["face"]["data"].as_str() {
            Some(data) => {
                if let Err(e) = write_face(path, data) {
                    return fail(Exit::Internal, &e);
                }
            }
            None => eprintln!("cancuoc read: the daemon returned no face"),
        }
    }
    // For people, the answer read as the typed result; an answer that is not one (an
    // older or newer daemon) is printed as it came.
    let human = match (!args.json).then(|| human_answer(&result)) {
        Some(Ok(text)) => Some(text),
        Some(Err(e)) => {
            eprintln!(
                "cancuoc read: the daemon's answer is not a result this version reads ({e}); printed as JSON"
            );
            None
        }
        None => None,
    };
    match human {
        Some(text) => print!("{text}"),
        None => match serde_json::to_string_pretty(&result) {
            Ok(text) => println!("{text}"),
            Err(e) => return fail(Exit::Internal, &e.to_string()),
        },
    }
    if result["verification"]["verdict"].as_str().is_none() {
        eprintln!("cancuoc read: the daemon's answer holds no verdict");
    }
    exit_of_json(&result).into()
}

/// A local `--fields` read keeps what `--face` and `--raw` asked for besides: the
/// files are the caller's own.
fn with_files_kept<'a>(mut shown: Shown<'a>, full: &'a ReadResult) -> Shown<'a> {
    if let Some(face) = &full.face {
        shown.face = Some(Cow::Borrowed(face));
    }
    if let Some(raw) = &full.raw {
        shown.raw = Some(
            raw.iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), Cow::Borrowed(v.as_str())))
                .collect(),
        );
    }
    shown
}

fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| e.to_string())
}

/// Writes the face image (base64 in the result) to `path`.
fn write_face(path: &Path, data: &str) -> Result<(), String> {
    crate::cli::output::write_private(path, &decode_base64(data)?)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes `--face` and `--raw` outputs.
fn write_outputs(args: &Args, result: &ReadResult, reader: &str, apdus: u64) -> Result<(), String> {
    if let (Some(path), Some(face)) = (&args.face, &result.face) {
        write_face(path, &face.data)?;
    }
    if let (Some(dir), Some(raw)) = (&args.raw, &result.raw) {
        let mut files = std::collections::BTreeMap::new();
        for (name, data) in raw {
            files.insert(name.clone(), decode_base64(data)?);
        }
        let atr = transport::card_atr(reader);
        crate::dump::Dump::of_read(files, reader, &atr, &result.verification.access, apdus)
            .write(dir)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The result for people.
pub fn human(r: &ReadResult) -> String {
    human_shown(&FieldSet::whole().filter(r))
}

/// A daemon's answer for people, read as the typed result it serializes; an error
/// when it is not one (an older or newer daemon, or not a daemon at all).
pub fn human_answer(result: &Value) -> Result<String, serde_json::Error> {
    Shown::deserialize(result).map(|shown| human_shown(&shown))
}

/// A key that is there with a value: `None` when it is left out or `null`.
fn given<'v, T: Clone>(value: &'v Option<Cow<'_, Option<T>>>) -> Option<&'v T> {
    value.as_deref()?.as_ref()
}

/// A value's name in the result JSON (`not-verified`, a date as the JSON gives it),
/// from its serde form, so the text is the one a `--json` reader sees.
fn wire_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(name)) => name,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// The result as a client's fields show it (or whole), a line per field present (a
/// daemon's policy may leave some out).
pub fn human_shown(r: &Shown<'_>) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut line = |k: &str, v: &str| {
        let _ = writeln!(out, "  {k:<16} {v}");
    };
    let holder = r.holder.as_ref();
    let vn = r.vn.as_ref();
    let document = r.document.as_ref();
    if let Some(name) = holder.and_then(|h| h.full_name.as_deref()) {
        line("holder", name);
    }
    if let Some(name) = vn.and_then(|vn| given(&vn.full_name)) {
        line("họ và tên", name);
    }
    if let Some(id) = vn.and_then(|vn| given(&vn.id_number)) {
        line("ID number", id);
    }
    if let Some(d) = document {
        let part = |p: &Option<Cow<'_, str>>| p.as_deref().unwrap_or_default().to_owned();
        line(
            "document",
            &format!(
                "{} {} no. {}",
                part(&d.kind),
                part(&d.issuing_state),
                part(&d.number)
            ),
        );
    }
    // Every other field read, so nothing the card gave is hidden from its holder.
    if let Some(h) = holder {
        for (value, label) in [
            (h.surname.as_deref(), "surname"),
            (h.given_names.as_deref(), "given names"),
            (given(&h.birth_date).map(String::as_str), "birth date"),
            (h.sex.as_deref(), "sex"),
            (h.nationality.as_deref(), "nationality"),
        ] {
            if let Some(v) = value {
                line(label, v);
            }
        }
    }
    if let Some(d) = document {
        for (value, label) in [
            (given(&d.expiry_date).map(String::as_str), "expires"),
            (d.mrz.as_deref(), "MRZ"),
        ] {
            if let Some(v) = value {
                line(label, &v.replace('\n', " / "));
            }
        }
    }
    if let Some(vn) = vn {
        let text = |v: &Option<Cow<'_, Option<String>>>| given(v).cloned();
        let date = |v: &Option<Cow<'_, Option<VnDate>>>| given(v).map(wire_name);
        for (value, label) in [
            (text(&vn.old_id_number), "số CMND cũ"),
            (date(&vn.birth_date), "ngày sinh"),
            (text(&vn.sex), "giới tính"),
            (text(&vn.nationality), "quốc tịch"),
            (text(&vn.ethnicity), "dân tộc"),
            (text(&vn.religion), "tôn giáo"),
            (text(&vn.place_of_origin), "quê quán"),
            (text(&vn.place_of_residence), "nơi thường trú"),
            (text(&vn.identifying_marks), "đặc điểm nhận dạng"),
            (date(&vn.issue_date), "ngày cấp"),
            (date(&vn.expiry_date), "có giá trị đến"),
            (text(&vn.father_name), "họ tên cha"),
            (text(&vn.mother_name), "họ tên mẹ"),
            (text(&vn.spouse_name), "họ tên vợ/chồng"),
            (text(&vn.field_16), "field 16"),
        ] {
            if let Some(v) = value {
                line(label, &v);
            }
        }
        if let Some(extra) = &vn.extra {
            // In the order of the JSON object's keys (text, so "100" before "17").
            let mut fields: Vec<(String, &String)> =
                extra.0.iter().map(|(k, v)| (k.to_string(), v)).collect();
            fields.sort();
            for (k, v) in fields {
                line(&format!("DG13 field {k}"), v);
            }
        }
    }
    if let Some(face) = &r.face {
        line(
            "face",
            &format!("{} {}x{}", face.format, face.width, face.height),
        );
    }
    if let Some(raw) = &r.raw {
        let names: Vec<&str> = raw.keys().map(|k| &**k).collect();
        line("files read", &names.join(" "));
    }
    let verification = &r.verification;
    line("access", &verification.access);
    line("passive", &wire_name(&verification.passive.status));
    if let Some(fallback) = &verification.access_fallback {
        line("access note", fallback);
    }
    let chip = &verification.chip;
    line(
        "chip",
        &format!("{} {}", wire_name(&chip.method), wire_name(&chip.status)),
    );
    // Why the verdict is what it is: every finding, named by its code.
    for problem in &verification.passive.problems {
        line(
            "problem",
            &format!("{}: {}", problem.code.as_str(), problem.message),
        );
    }
    for problem in &chip.problems {
        line(
            "problem",
            &format!("{}: {}", wire_name(&problem.code), problem.message),
        );
    }
    line(
        "verdict",
        match verification.verdict {
            Verdict::Genuine => "genuine",
            Verdict::NotVerified => "not verified",
            Verdict::Forged => "FORGED",
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_serializes_to_what_the_daemon_reads_back() {
        let forms = [
            AccessInput::Can {
                can: "123456".into(),
            },
            AccessInput::Mrz {
                mrz: "IDVNM1891234565001189123456<<<8905178F2905176VNM<<<<<<<<<<<2DANG<<THI<THU<HA<<<<<<<<<<<<<<".into(),
            },
            AccessInput::Document {
                document_number: "L898902C".into(),
                birth: "690806".into(),
                expiry: "940623".into(),
            },
            AccessInput::IdNumber {
                id_number: "001189123456".into(),
                birth: None,
                expiry: None,
            },
            AccessInput::IdNumber {
                id_number: "001189123456".into(),
                birth: Some("890517".into()),
                expiry: Some("290517".into()),
            },
            AccessInput::Qr {
                qr: "001189123456|123456789|X|17051989|Nữ|Y|01022021".into(),
            },
        ];
        for input in forms {
            let json = serde_json::to_value(&input).unwrap();
            let back: AccessInput = serde_json::from_value(json.clone()).unwrap();
            assert!(back == input, "{input:?}");
            assert_eq!(back.to_key(), input.to_key());
        }
        assert_eq!(
            serde_json::to_value(AccessInput::IdNumber {
                id_number: "001189123456".into(),
                birth: None,
                expiry: None,
            })
            .unwrap(),
            json!({"id_number": "001189123456"})
        );
    }

    /// The printer the typed one replaced, reading the result JSON key by key: the
    /// reference the typed printer must match, line for line.
    fn human_json(r: &Value) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let mut line = |k: &str, v: &str| {
            let _ = writeln!(out, "  {k:<16} {v}");
        };
        let text = |v: &Value| v.as_str().map(str::to_owned);
        if let Some(name) = text(&r["holder"]["full_name"]) {
            line("holder", &name);
        }
        if let Some(name) = text(&r["vn"]["full_name"]) {
            line("họ và tên", &name);
        }
        if let Some(id) = text(&r["vn"]["id_number"]) {
            line("ID number", &id);
        }
        let document = &r["document"];
        if document.is_object() {
            let part = |key: &str| text(&document[key]).unwrap_or_default();
            line(
                "document",
                &format!(
                    "{} {} no. {}",
                    part("kind"),
                    part("issuing_state"),
                    part("number")
                ),
            );
        }
        for (key, label) in [
            ("surname", "surname"),
            ("given_names", "given names"),
            ("birth_date", "birth date"),
            ("sex", "sex"),
            ("nationality", "nationality"),
        ] {
            if let Some(v) = text(&r["holder"][key]) {
                line(label, &v);
            }
        }
        for (key, label) in [("expiry_date", "expires"), ("mrz", "MRZ")] {
            if let Some(v) = text(&document[key]) {
                line(label, &v.replace('\n', " / "));
            }
        }
        for (key, label) in [
            ("old_id_number", "số CMND cũ"),
            ("birth_date", "ngày sinh"),
            ("sex", "giới tính"),
            ("nationality", "quốc tịch"),
            ("ethnicity", "dân tộc"),
            ("religion", "tôn giáo"),
            ("place_of_origin", "quê quán"),
            ("place_of_residence", "nơi thường trú"),
            ("identifying_marks", "đặc điểm nhận dạng"),
            ("issue_date", "ngày cấp"),
            ("expiry_date", "có giá trị đến"),
            ("father_name", "họ tên cha"),
            ("mother_name", "họ tên mẹ"),
            ("spouse_name", "họ tên vợ/chồng"),
            ("field_16", "field 16"),
        ] {
            if let Some(v) = text(&r["vn"][key]) {
                line(label, &v);
            }
        }
        if let Some(extra) = r["vn"]["extra"].as_object() {
            for (k, v) in extra {
                line(
                    &format!("DG13 field {k}"),
                    &v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                );
            }
        }
        if r["face"].is_object() {
            let face = &r["face"];
            line(
                "face",
                &format!(
                    "{} {}x{}",
                    text(&face["format"]).unwrap_or_default(),
                    face["width"].as_u64().unwrap_or(0),
                    face["height"].as_u64().unwrap_or(0)
                ),
            );
        }
        if let Some(raw) = r["raw"].as_object() {
            let names: Vec<&str> = raw.keys().map(String::as_str).collect();
            line("files read", &names.join(" "));
        }
        let verification = &r["verification"];
        if let Some(access) = text(&verification["access"]) {
            line("access", &access);
        }
        if let Some(passive) = text(&verification["passive"]["status"]) {
            line("passive", &passive);
        }
        if let Some(fallback) = text(&verification["access_fallback"]) {
            line("access note", &fallback);
        }
        let chip = &verification["chip"];
        if let (Some(method), Some(status)) = (text(&chip["method"]), text(&chip["status"])) {
            line("chip", &format!("{method} {status}"));
        }
        let problems = [&verification["passive"]["problems"], &chip["problems"]];
        for problem in problems.iter().filter_map(|p| p.as_array()).flatten() {
            if let (Some(code), Some(message)) = (text(&problem["code"]), text(&problem["message"]))
            {
                line("problem", &format!("{code}: {message}"));
            }
        }
        if let Some(verdict) = text(&verification["verdict"]) {
            line(
                "verdict",
                match verdict.as_str() {
                    "genuine" => "genuine",
                    "not-verified" => "not verified",
                    "forged" => "FORGED",
                    other => other,
                },
            );
        }
        out
    }

    /// The `partial_line` the typed one replaced, likewise.
    fn partial_line_json(partial: &Value) -> String {
        let text = |pointer: &str| partial.pointer(pointer).and_then(Value::as_str);
        let name = text("/vn/full_name")
            .or_else(|| text("/holder/full_name"))
            .unwrap_or_default();
        let id = text("/vn/id_number")
            .or_else(|| text("/document/number"))
            .unwrap_or_default();
        match text("/verdict") {
            Some(verdict) => format!("verified so far: {name} {id} (verdict so far: {verdict})"),
            None => format!("verified so far: {name} {id} (verdict after the face)"),
        }
    }

    /// `verification` as a daemon answers it, with these statuses.
    fn verification(verdict: &str, passive: &str) -> Value {
        json!({
            "access": "BAC",
            "access_check": "ok",
            "passive": {
                "status": passive, "data_groups": {"DG1": "ok", "DG13": "ok"},
                "signer": null, "csca": null, "crl": "not-checked",
                "hash_algorithm": "SHA-256", "signature_algorithm": null,
                "sod_signature": "not-checked", "lds_version": 0, "problems": []
            },
            "chip": {
                "method": "none", "status": "none-offered",
                "problems": [{"code": "chip-proof-none-offered", "message": "no proof"}]
            },
            "verdict": verdict
        })
    }

    #[test]
    fn results_from_the_daemon_exit_and_print_like_local_ones() {
        let result = |verdict: &str, passive: &str| json!({"holder": {"full_name": "A B"}, "verification": verification(verdict, passive)});
        assert_eq!(exit_of_json(&result("genuine", "valid")), Exit::Ok);
        assert_eq!(exit_of_json(&result("forged", "invalid")), Exit::Forged);
        assert_eq!(
            exit_of_json(&result("not-verified", "no-trust-anchor")),
            Exit::NotVerified
        );
        assert_eq!(
            exit_of_json(&result("not-verified", "valid")),
            Exit::NotVerified,
            "a required proof that could not be judged is not verified"
        );
        assert_eq!(
            exit_of_json(&json!({"holder": {"full_name": "A B"}})),
            Exit::NotVerified
        );
        let printed = "  holder           A B\n  access           BAC\n  passive          valid\n  chip             none none-offered\n  problem          chip-proof-none-offered: no proof\n  verdict          genuine\n";
        assert_eq!(human_answer(&result("genuine", "valid")).unwrap(), printed);
        assert_eq!(human_json(&result("genuine", "valid")), printed);
        // A name-only answer prints the name, then how it was verified.
        let name_only = json!({"vn": {"full_name": "Đặng Thị Thu Hà"}, "verification": verification("genuine", "valid")});
        let printed = human_answer(&name_only).unwrap();
        assert!(
            printed.starts_with("  họ và tên        Đặng Thị Thu Hà\n  access "),
            "{printed}"
        );
        assert_eq!(printed, human_json(&name_only));
    }

    /// The simulator's genuine Vietnamese card read whole, its files and face included,
    /// with a DG13 field of unknown meaning added; and the partial result the read
    /// reported before the face.
    fn genuine_read() -> (ReadResult, crate::session::Partial) {
        let mut card = crate::sim_read::SimulatedCard::load("vn-cccd").expect("vn-cccd loads");
        card.request.raw = true;
        let mut chip = apdu::emulator::CardEmulator::new(card.profile.image.clone());
        let mut partial = None;
        let (mut result, _) = session::read_card(
            &mut chip,
            &card.request,
            &card.trust,
            &mut SystemRng,
            &mut |p| {
                if let Some(p) = p.partial {
                    partial = Some((*p).clone());
                }
            },
        )
        .expect("the simulated card reads");
        assert_eq!(result.verification.verdict, Verdict::Genuine);
        let mut partial = partial.expect("a partial result before the face");
        for vn in [result.vn.as_mut(), partial.vn.as_mut()] {
            vn.expect("the DG13 identity")
                .extra
                .0
                .insert(17, "X".into());
        }
        (result, partial)
    }

    /// The field sets of the filter's own tests, and the whole result.
    fn sets() -> Vec<(String, FieldSet)> {
        let mut sets = crate::fields::tests::sets();
        sets.push(("whole".into(), FieldSet::whole()));
        sets
    }

    /// The simulated card's whole read, and the same read with what a card or a read
    /// can also give: a failed check, a fallback, empty and missing values, a date that
    /// is text, DG13 fields numbered past 99.
    fn reads() -> Vec<(ReadResult, crate::session::Partial)> {
        let (result, partial) = genuine_read();
        let mut odd = result.clone();
        odd.verification.access_fallback = Some("PACE failed: 6300".into());
        odd.verification.passive.add_problem(
            crate::trust::passive::ProblemCode::EfComMismatch,
            "EF.SOD hashes DG14 that EF.COM does not list",
        );
        odd.verification.verdict = Verdict::Forged;
        let vn = odd.vn.as_mut().expect("the DG13 identity");
        vn.expiry_date = Some(VnDate::new("Không thời hạn"));
        vn.religion = None;
        vn.extra.0.insert(100, "Y".into());
        let holder = odd.holder.as_mut().expect("the holder");
        holder.given_names = String::new();
        holder.birth_date = None;
        odd.document.as_mut().expect("the document").expiry_date = None;
        let mut odd_partial = partial.clone();
        odd_partial.verdict = Some(Verdict::NotVerified);
        if let Some(vn) = odd_partial.vn.as_mut() {
            vn.full_name = None;
        }
        vec![(result, partial), (odd, odd_partial)]
    }

    /// A whole read, and what each field set shows of it, prints through the typed path
    /// as the JSON printer printed it: locally, and read back from a daemon's JSON.
    #[test]
    fn typed_printing_is_the_json_printing() {
        for (n, (result, partial)) in reads().iter().enumerate() {
            let whole = serde_json::to_value(result).unwrap();
            let want = human_json(&whole);
            assert_eq!(human(result), want, "read {n}");
            assert_eq!(
                human_answer(&whole).unwrap(),
                want,
                "read {n} from the daemon"
            );
            for label in [
                "họ và tên",
                "DG13 field 17",
                "face",
                "files read",
                "verdict",
            ] {
                assert!(want.contains(label), "read {n} prints {label}:\n{want}");
            }
            let local = FieldSet::whole().filter_partial(partial);
            assert_eq!(
                partial_line(&local),
                partial_line_json(&serde_json::to_value(partial).unwrap()),
                "read {n}"
            );
            for (name, set) in sets() {
                let shown = set.filter(result);
                let json = serde_json::to_value(&shown).unwrap();
                let want = human_json(&json);
                assert_eq!(human_shown(&shown), want, "read {n}, {name}");
                assert_eq!(
                    human_answer(&json).unwrap(),
                    want,
                    "read {n}, {name}, daemon"
                );
                let shown = set.filter_partial(partial);
                let json = serde_json::to_value(&shown).unwrap();
                let want = partial_line_json(&json);
                assert_eq!(partial_line(&shown), want, "read {n}, {name}, partial");
                let back = ShownPartial::deserialize(&json).unwrap();
                assert_eq!(partial_line(&back), want, "read {n}, {name}, event");
            }
        }
    }

    /// What a hostile or other-version daemon may answer is an error to report (the
    /// answer is then printed as JSON), never a panic.
    #[test]
    fn answers_that_are_not_results_are_errors() {
        let (result, _) = genuine_read();
        let good = serde_json::to_value(&result).unwrap();
        assert!(human_answer(&good).is_ok());
        let changed = |pointer: &str, value: Value| {
            let mut answer = good.clone();
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            answer
                .pointer_mut(parent)
                .and_then(Value::as_object_mut)
                .unwrap()
                .insert(key.into(), value);
            answer
        };
        let removed = |pointer: &str| {
            let mut answer = good.clone();
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            answer
                .pointer_mut(parent)
                .and_then(Value::as_object_mut)
                .unwrap()
                .remove(key);
            answer
        };
        let certificate = |not_before: &str| {
            json!({"subject": "CN=DS", "issuer": "CN=CSCA", "country": "VN", "serial": "01",
                   "not_before": not_before, "not_after": "2030-01-01T00:00:00Z",
                   "key_algorithm": "EC", "key_bits": 256, "signature_algorithm": "ecdsa-with-SHA256"})
        };
        let ok_certificate = changed(
            "/verification/passive/signer",
            certificate("2020-01-01T00:00:00Z"),
        );
        assert!(
            human_answer(&ok_certificate).is_ok(),
            "{:?}",
            human_answer(&ok_certificate)
        );
        let hostile = [
            json!(null),
            json!([]),
            json!("genuine"),
            json!({}),
            json!({"holder": {"full_name": "A B"}}),
            json!({"verification": null}),
            removed("/verification"),
            removed("/verification/access_check"),
            removed("/verification/passive/status"),
            changed("/verification/verdict", json!("maybe")),
            changed("/verification/access", json!(5)),
            changed("/verification/chip/method", json!("telepathy")),
            changed(
                "/verification/passive/problems",
                json!([{"code": "no-such-code", "message": "x"}]),
            ),
            changed("/verification/passive/data_groups", json!({"DG99": "ok"})),
            changed("/verification/passive/data_groups", json!({"EF.SOD": "ok"})),
            changed("/verification/passive/signer", certificate("yesterday")),
            changed(
                "/verification/passive/signer",
                certificate("2020-02-30T00:00:00Z"),
            ),
            changed("/holder/full_name", json!(7)),
            changed("/document", json!("L898902C")),
            changed("/vn/birth_date", json!(19_960_229)),
            changed("/vn/extra", json!({"seventeen": "X"})),
            changed("/vn/extra", json!({"17": 1})),
            changed("/face/width", json!(-1)),
            changed("/face/height", json!(1e300)),
            changed("/raw", json!({"DG1": false})),
        ];
        for (i, answer) in hostile.iter().enumerate() {
            assert!(
                human_answer(answer).is_err(),
                "answer {i} reads as a result"
            );
        }
        // Keys this version does not know are left aside; the rest prints.
        let newer = changed("/verification/newer", json!({"anything": [1, 2]}));
        assert_eq!(human_answer(&newer).unwrap(), human_json(&good));
    }
}
