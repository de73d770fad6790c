//! Where the command line takes access data from without showing it to other users:
//! standard input (`--can -`), a prompt without echo on a terminal, a file only its owner
//! can read (`--access-file`), or the environment (`CANCUOC_CAN`, …). A value written on
//! the command line itself still works, with a warning: every user of the machine can see
//! a process's arguments.

use std::io::{BufRead, IsTerminal, Read};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::session::access_input::AccessInput;

/// The environment variables read when no access flag is given, by field.
pub const ENV_VARS: [(&str, &str); 7] = [
    ("can", "CANCUOC_CAN"),
    ("mrz", "CANCUOC_MRZ"),
    ("document_number", "CANCUOC_DOCUMENT_NUMBER"),
    ("id_number", "CANCUOC_ID_NUMBER"),
    ("birth", "CANCUOC_BIRTH"),
    ("expiry", "CANCUOC_EXPIRY"),
    ("qr", "CANCUOC_QR"),
];

/// The longest access file or line read: a QR text and slack.
const MAX_INPUT: u64 = 8192;

/// The access flags: one way to open the card. A value of `-` reads it from standard
/// input (a prompt without echo on a terminal), one line per `-` in the order below.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AccessArgs {
    /// Card access number (`-`: from standard input).
    #[arg(long, value_name = "CAN|-", conflicts_with_all = ["mrz", "document_number", "id_number", "qr", "access_file"])]
    pub can: Option<String>,
    /// The whole MRZ (`-`: from standard input).
    #[arg(long, value_name = "MRZ|-", conflicts_with_all = ["document_number", "id_number", "qr", "access_file"])]
    pub mrz: Option<String>,
    /// Document number, with --birth and --expiry (`-`: from standard input).
    #[arg(long, value_name = "NUMBER|-", requires_all = ["birth", "expiry"], conflicts_with_all = ["id_number", "qr", "access_file"])]
    pub document_number: Option<String>,
    /// The 12-digit Vietnamese ID number (PACE with its last six digits; BAC with
    /// --birth and --expiry) (`-`: from standard input).
    #[arg(long, value_name = "ID|-", conflicts_with_all = ["qr", "access_file"])]
    pub id_number: Option<String>,
    /// Date of birth, YYMMDD (`-`: from standard input).
    #[arg(long, value_name = "YYMMDD|-", conflicts_with = "access_file")]
    pub birth: Option<String>,
    /// Date of expiry, YYMMDD (`-`: from standard input).
    #[arg(long, value_name = "YYMMDD|-", conflicts_with = "access_file")]
    pub expiry: Option<String>,
    /// The text of the QR code of a Vietnamese card (2021 CCCD: front; 2024 card:
    /// back); its first field, the 12-digit ID number, gives the CAN (`-`: from
    /// standard input).
    #[arg(long, value_name = "TEXT|-", conflicts_with = "access_file")]
    pub qr: Option<String>,
    /// A file holding the access data as `field = value` lines (fields: can, mrz,
    /// document_number, id_number, birth, expiry, qr) or the socket API's JSON access
    /// object. Refused when a symlink or when its group or others may read it.
    #[arg(long, value_name = "FILE")]
    pub access_file: Option<PathBuf>,
}

/// Access data gathered field by field; every value wiped on drop.
#[derive(Default)]
struct Fields {
    values: Vec<(&'static str, Zeroizing<String>)>,
}

impl Fields {
    fn set(&mut self, field: &'static str, value: Zeroizing<String>) {
        self.values.retain(|(f, _)| *f != field);
        self.values.push((field, value));
    }

    fn get(&self, field: &str) -> Option<String> {
        self.values
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| String::clone(v))
    }

    fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The access input these fields give, in the flags' order of precedence.
    fn input(&self) -> Option<AccessInput> {
        if let Some(can) = self.get("can") {
            return Some(AccessInput::Can { can });
        }
        if let Some(mrz) = self.get("mrz") {
            return Some(AccessInput::Mrz { mrz });
        }
        if let Some(document_number) = self.get("document_number") {
            return Some(AccessInput::Document {
                document_number,
                birth: self.get("birth").unwrap_or_default(),
                expiry: self.get("expiry").unwrap_or_default(),
            });
        }
        if let Some(id_number) = self.get("id_number") {
            return Some(AccessInput::IdNumber {
                id_number,
                birth: self.get("birth"),
                expiry: self.get("expiry"),
            });
        }
        self.get("qr").map(|qr| AccessInput::Qr { qr })
    }
}

/// Where values given as `-` come from.
pub trait Prompt {
    /// One value for `field`, without its line end.
    fn value(&mut self, field: &str) -> Result<Zeroizing<String>, String>;
}

/// Standard input: a prompt without echo on a terminal, else one line per value.
pub struct Stdin;

impl Prompt for Stdin {
    fn value(&mut self, field: &str) -> Result<Zeroizing<String>, String> {
        let stdin = std::io::stdin();
        let label = field.replace('_', " ");
        let text = if stdin.is_terminal() {
            Zeroizing::new(
                rpassword::prompt_password(format!("{label}: "))
                    .map_err(|e| format!("reading the {label}: {e}"))?,
            )
        } else {
            let mut line = Zeroizing::new(String::new());
            stdin
                .lock()
                .take(MAX_INPUT)
                .read_line(&mut line)
                .map_err(|e| format!("reading the {label} from standard input: {e}"))?;
            line
        };
        let value = Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_owned());
        if value.is_empty() {
            return Err(format!("no {label} on standard input"));
        }
        Ok(value)
    }
}

impl AccessArgs {
    /// The flags' values with their field names, in the order `-` values are read.
    fn flags(&self) -> [(&'static str, &Option<String>); 7] {
        [
            ("can", &self.can),
            ("mrz", &self.mrz),
            ("document_number", &self.document_number),
            ("id_number", &self.id_number),
            ("birth", &self.birth),
            ("expiry", &self.expiry),
            ("qr", &self.qr),
        ]
    }

    /// The access input: from the flags (`-` asking `prompt`), else the access file,
    /// else the environment (`env` looks a variable up). A value written on the command
    /// line gets a warning on `warn`. `Ok(None)` when none gives any.
    pub fn resolve(
        &self,
        prompt: &mut dyn Prompt,
        env: &dyn Fn(&str) -> Option<String>,
        warn: &mut dyn FnMut(&str),
    ) -> Result<Option<AccessInput>, String> {
        let mut fields = Fields::default();
        let mut visible = Vec::new();
        for (field, value) in self.flags() {
            match value.as_deref() {
                Some("-") => fields.set(field, prompt.value(field)?),
                Some(v) => {
                    visible.push(format!("--{}", field.replace('_', "-")));
                    fields.set(field, Zeroizing::new(v.to_owned()));
                }
                None => {}
            }
        }
        if !visible.is_empty() {
            warn(&format!(
                "warning: {} on the command line can be seen by every user of this machine (ps, /proc); give `-` to read it from standard input, or use --access-file or CANCUOC_* variables",
                visible.join(", ")
            ));
        }
        if let Some(path) = &self.access_file {
            fields = read_access_file(path)?;
        }
        if fields.is_empty() {
            for (field, var) in ENV_VARS {
                if let Some(value) = env(var).filter(|v| !v.is_empty()) {
                    fields.set(field, Zeroizing::new(value));
                }
            }
        }
        Ok(fields.input())
    }
}

/// Reads an access file, refusing a symlink and a file its group or others may read.
fn read_access_file(path: &Path) -> Result<Fields, String> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let shown = path.display();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(nix::libc::ELOOP) => {
                format!("--access-file {shown}: a symlink; give the file itself")
            }
            _ => format!("--access-file {shown}: {e}"),
        })?;
    let meta = file
        .metadata()
        .map_err(|e| format!("--access-file {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("--access-file {shown}: not a regular file"));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "--access-file {shown}: mode {mode:04o} lets its group or others read it; chmod 600 it",
        ));
    }
    let mut text = Zeroizing::new(String::new());
    file.take(MAX_INPUT + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("--access-file {shown}: {e}"))?;
    if text.len() as u64 > MAX_INPUT {
        return Err(format!(
            "--access-file {shown}: longer than {MAX_INPUT} bytes"
        ));
    }
    parse_access_text(&text).map_err(|e| format!("--access-file {shown}: {e}"))
}

/// Parses `field = value` lines (`#` comments, optional quotes) or a JSON object.
fn parse_access_text(text: &str) -> Result<Fields, String> {
    let mut fields = Fields::default();
    let field_of = |name: &str| ENV_VARS.iter().map(|(f, _)| *f).find(|f| *f == name);
    if text.trim_start().starts_with('{') {
        let object: Zeroizing<String> = Zeroizing::new(text.to_owned());
        let value: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&object).map_err(|_| "not a JSON object of strings".to_owned())?;
        for (name, v) in value {
            let field = field_of(&name).ok_or_else(|| format!("unknown field {name:?}"))?;
            let s = v.as_str().ok_or_else(|| format!("{name}: not a string"))?;
            fields.set(field, Zeroizing::new(s.to_owned()));
        }
        return Ok(fields);
    }
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err(format!("line {}: not `field = value`", n + 1));
        };
        let name = name.trim();
        let field =
            field_of(name).ok_or_else(|| format!("line {}: unknown field {name:?}", n + 1))?;
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        fields.set(field, Zeroizing::new(value.to_owned()));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    struct Lines(Vec<&'static str>);

    impl Prompt for Lines {
        fn value(&mut self, field: &str) -> Result<Zeroizing<String>, String> {
            if self.0.is_empty() {
                return Err(format!("no {field}"));
            }
            Ok(Zeroizing::new(self.0.remove(0).to_owned()))
        }
    }

    fn resolve(
        args: &AccessArgs,
        lines: Vec<&'static str>,
        env: &[(&str, &str)],
    ) -> (Option<AccessInput>, Vec<String>) {
        let mut warnings = Vec::new();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let input = args
            .resolve(&mut Lines(lines), &lookup, &mut |w| {
                warnings.push(w.to_owned())
            })
            .unwrap();
        (input, warnings)
    }

    #[test]
    fn dash_reads_standard_input_in_flag_order_without_a_warning() {
        let args = AccessArgs {
            id_number: Some("-".into()),
            birth: Some("-".into()),
            expiry: Some("-".into()),
            ..Default::default()
        };
        let (input, warnings) = resolve(&args, vec!["001189123456", "890517", "290517"], &[]);
        assert!(warnings.is_empty());
        assert!(
            input
                == Some(AccessInput::IdNumber {
                    id_number: "001189123456".into(),
                    birth: Some("890517".into()),
                    expiry: Some("290517".into()),
                })
        );
    }

    #[test]
    fn a_value_on_the_command_line_warns_and_names_the_flag_not_the_value() {
        let args = AccessArgs {
            can: Some("123456".into()),
            ..Default::default()
        };
        let (input, warnings) = resolve(&args, vec![], &[]);
        assert!(
            input
                == Some(AccessInput::Can {
                    can: "123456".into()
                })
        );
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("--can"), "{}", warnings[0]);
        assert!(!warnings[0].contains("123456"));
    }

    #[test]
    fn the_environment_when_no_flag_is_given() {
        let (input, _) = resolve(&AccessArgs::default(), vec![], &[("CANCUOC_CAN", "654321")]);
        assert!(
            input
                == Some(AccessInput::Can {
                    can: "654321".into()
                })
        );
        let (input, _) = resolve(&AccessArgs::default(), vec![], &[]);
        assert!(input.is_none());
        // A flag wins over the environment.
        let args = AccessArgs {
            can: Some("-".into()),
            ..Default::default()
        };
        let (input, _) = resolve(&args, vec!["111111"], &[("CANCUOC_CAN", "654321")]);
        assert!(
            input
                == Some(AccessInput::Can {
                    can: "111111".into()
                })
        );
    }

    #[test]
    fn access_files_private_regular_and_parsed() {
        let dir = std::env::temp_dir().join(format!("cancuoc-access-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("access");
        std::fs::write(
            &file,
            "# the counter's card\nid_number = \"001189123456\"\nbirth=890517\nexpiry = 290517\n",
        )
        .unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        let args = AccessArgs {
            access_file: Some(file.clone()),
            ..Default::default()
        };
        let err = args
            .resolve(&mut Lines(vec![]), &|_| None, &mut |_| {})
            .unwrap_err();
        assert!(err.contains("0640"), "{err}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let (input, warnings) = resolve(&args, vec![], &[("CANCUOC_CAN", "654321")]);
        assert!(warnings.is_empty());
        assert!(
            input
                == Some(AccessInput::IdNumber {
                    id_number: "001189123456".into(),
                    birth: Some("890517".into()),
                    expiry: Some("290517".into()),
                })
        );
        let link = dir.join("link");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let args = AccessArgs {
            access_file: Some(link),
            ..Default::default()
        };
        let err = args
            .resolve(&mut Lines(vec![]), &|_| None, &mut |_| {})
            .unwrap_err();
        assert!(err.contains("symlink"), "{err}");
        std::fs::write(&file, "{\"can\": \"123456\"}").unwrap();
        let args = AccessArgs {
            access_file: Some(file),
            ..Default::default()
        };
        let (input, _) = resolve(&args, vec![], &[]);
        assert!(
            input
                == Some(AccessInput::Can {
                    can: "123456".into()
                })
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn malformed_access_text_names_the_line_not_the_value() {
        let err = parse_access_text("can 123456\n").err().unwrap();
        assert!(err.contains("line 1") && !err.contains("123456"), "{err}");
        let err = parse_access_text("pin = 1\n").err().unwrap();
        assert!(err.contains("pin"), "{err}");
    }
}
