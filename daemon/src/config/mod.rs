//! The daemon's configuration file (TOML): the socket, trust anchors, readers, wrong-key
//! throttling, and which local users may read which fields. `udev/cancuoc.toml` is the
//! commented example; docs/api.md describes every key.
//!
//! Without a file the defaults hold: socket `/run/cancuoc/api.sock` (mode 0660, group
//! `cancuoc`), PC/SC readers, and one client rule letting root, the daemon's own user and
//! members of group `cancuoc` have every field. Everyone else is refused.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::unistd::{Gid, Group, Uid, User};
use serde::Deserialize;

use crate::fields::FieldSet;
use crate::trust::store::Vouch;

pub mod web;

/// The default socket path.
pub const DEFAULT_SOCKET: &str = "/run/cancuoc/api.sock";

/// The configuration file read when none is named, if it exists.
pub const DEFAULT_PATH: &str = "/etc/cancuoc/cancuoc.toml";

/// The file the configuration comes from: `path` when one is named, else
/// [`DEFAULT_PATH`] when it exists; `None` means the built-in defaults.
pub fn file_to_read(path: Option<&Path>) -> Option<&Path> {
    let default = Path::new(DEFAULT_PATH);
    path.or(default.exists().then_some(default))
}

/// The longest request line the socket API accepts by default, in bytes (without the
/// newline); `[server] max_line` changes it.
pub const MAX_LINE: usize = 64 * 1024;

/// The largest configuration file read.
const MAX_FILE: u64 = 1024 * 1024;

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    /// The file.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// The whole configuration, checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// The socket and connection bounds.
    pub server: Server,
    /// Trust anchor paths (master lists, certificates, CRLs, folders).
    pub trust: Vec<PathBuf>,
    /// Trust anchors that vouch for issuing states other than their own country.
    pub vouch: Vec<Vouch>,
    /// `[trust] allow_test_anchors`: serve with the project's published test CSCAs
    /// among the anchors (their private keys are public; for test benches only).
    pub allow_test_anchors: bool,
    /// What reads allow and demand beyond the signed data (`[verification]`).
    pub verification: crate::session::ReadPolicy,
    /// Which readers the daemon serves.
    pub readers: Readers,
    /// Wrong access key throttling.
    pub throttle: Throttle,
    /// Client rules, first match wins.
    pub clients: Vec<ClientRule>,
    /// The browser endpoint (`[web]`); `None` when off.
    pub web: Option<web::Web>,
    /// Browser client rules (`[[web_client]]`), first match wins.
    pub web_clients: Vec<web::WebClientRule>,
    /// What loading noticed but did not refuse (unknown users or groups).
    pub warnings: Vec<String>,
}

/// `[server]`.
#[derive(Debug, Clone)]
pub struct Server {
    /// The socket path (unused under socket activation).
    pub socket: PathBuf,
    /// The socket's mode when the daemon creates it.
    pub socket_mode: u32,
    /// The socket's group when the daemon creates it, if any.
    pub socket_group: Option<Gid>,
    /// Whether the configuration named the group (then failing to set it is an error;
    /// the default group `cancuoc`, when it exists, is only attempted).
    pub socket_group_required: bool,
    /// Connections served at once.
    pub max_connections: usize,
    /// The longest request line, in bytes.
    pub max_line: usize,
    /// Connections one uid may hold at once (waiting ones included); more are refused
    /// at once, so one client cannot take every slot.
    pub max_connections_per_uid: usize,
    /// An authorised connection with no request, no read under way and no event
    /// subscription for this long is closed.
    pub idle_timeout: Duration,
}

/// `[readers]`.
#[derive(Debug, Clone)]
pub struct Readers {
    /// Serve the PC/SC readers pcscd has (hotplug included).
    pub pcsc: bool,
    /// libnfc devices to serve, by connection string (`pn533_usb`, `acr122_usb:…`).
    pub nfc: Vec<String>,
    /// In-process simulated cards, each shown as a reader with its card always present.
    pub simulators: Vec<Simulator>,
    /// How long a card may take to answer one command (PC/SC readers).
    pub deadlines: crate::transport::pcsc::Deadlines,
}

/// `[[readers.simulator]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Simulator {
    /// The reader name clients see.
    pub name: String,
    /// A built-in profile name or a profile file.
    pub profile: String,
}

/// `[throttle]`: after `free_attempts` wrong keys in a row (per client and per card),
/// each further attempt waits `first_delay`, doubling up to `max_delay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Wrong keys allowed without delay.
    pub free_attempts: u32,
    /// The first delay.
    pub first_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
}

impl Default for Throttle {
    fn default() -> Throttle {
        Throttle {
            free_attempts: 3,
            first_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(300),
        }
    }
}

/// `[[client]]`: who (any of the users, or a member of any of the groups) gets which
/// fields.
#[derive(Debug, Clone)]
pub struct ClientRule {
    /// The rule's name, reported by `info` and in logs.
    pub name: String,
    /// Users, resolved to uids.
    pub uids: Vec<Uid>,
    /// Groups, resolved to gids.
    pub gids: Vec<Gid>,
    /// The fields the client may have.
    pub fields: FieldSet,
}

/// The peer of a connection, from SO_PEERCRED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
}

impl Config {
    /// The built-in defaults.
    pub fn defaults() -> Config {
        let mut warnings = Vec::new();
        let cancuoc = resolve_group(&Id::Name("cancuoc".into()), &mut warnings);
        Config {
            server: Server {
                socket: PathBuf::from(DEFAULT_SOCKET),
                socket_mode: 0o660,
                socket_group: cancuoc,
                socket_group_required: false,
                max_connections: 64,
                max_line: MAX_LINE,
                max_connections_per_uid: 32,
                idle_timeout: Duration::from_secs(300),
            },
            trust: Vec::new(),
            vouch: Vec::new(),
            allow_test_anchors: false,
            verification: crate::session::ReadPolicy::default(),
            readers: Readers {
                pcsc: true,
                nfc: Vec::new(),
                simulators: Vec::new(),
                deadlines: Default::default(),
            },
            throttle: Throttle::default(),
            // The daemon's own user could read the readers directly anyway.
            clients: vec![ClientRule {
                name: "default".into(),
                uids: vec![Uid::from_raw(0), nix::unistd::getuid()],
                gids: cancuoc.into_iter().collect(),
                fields: FieldSet::all(),
            }],
            web: None,
            web_clients: Vec::new(),
            // A missing `cancuoc` group only narrows the default to root.
            warnings: Vec::new(),
        }
    }

    /// Reads and checks the file [`file_to_read`] picks, else gives the defaults.
    pub fn load_or_defaults(path: Option<&Path>) -> Result<Config, ConfigError> {
        match file_to_read(path) {
            Some(path) => Config::load(path),
            None => Ok(Config::defaults()),
        }
    }

    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let error = |message: String| ConfigError {
            path: path.display().to_string(),
            message,
        };
        let meta = std::fs::metadata(path).map_err(|e| error(e.to_string()))?;
        if meta.len() > MAX_FILE {
            return Err(error(format!("larger than {MAX_FILE} bytes")));
        }
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        let mut config = Config::parse(&text).map_err(error)?;
        // Relative trust paths are taken from the file's folder.
        let base = path.parent().unwrap_or(Path::new("."));
        for p in config
            .trust
            .iter_mut()
            .chain(config.vouch.iter_mut().map(|v| &mut v.path))
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(config)
    }

    /// Parses and checks a configuration text.
    pub fn parse(text: &str) -> Result<Config, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let defaults = Config::defaults();
        let mut warnings = Vec::new();
        let server = file.server.unwrap_or_default();
        let socket_mode = match server.socket_mode.as_deref() {
            None => defaults.server.socket_mode,
            Some(m) => u32::from_str_radix(m.trim_start_matches("0o"), 8)
                .ok()
                .filter(|m| *m <= 0o777)
                .ok_or_else(|| format!("server.socket_mode {m:?} is not an octal mode"))?,
        };
        let socket_group_required = server.socket_group.is_some();
        let socket_group = server
            .socket_group
            .map(|g| {
                resolve_group(&g, &mut warnings)
                    .ok_or_else(|| format!("server.socket_group: no group {g}"))
            })
            .transpose()?
            .or(defaults.server.socket_group);
        let max_connections = server
            .max_connections
            .unwrap_or(defaults.server.max_connections);
        if !(1..=4096).contains(&max_connections) {
            return Err("server.max_connections must be 1 to 4096".into());
        }
        let max_connections_per_uid = server
            .max_connections_per_uid
            .unwrap_or(defaults.server.max_connections_per_uid);
        if !(1..=4096).contains(&max_connections_per_uid) {
            return Err("server.max_connections_per_uid must be 1 to 4096".into());
        }
        let idle_timeout = match server.idle_timeout_seconds {
            None => defaults.server.idle_timeout,
            Some(s) if (1..=86_400).contains(&s) => Duration::from_secs(s),
            Some(_) => return Err("server.idle_timeout_seconds must be 1 to 86400".into()),
        };
        let max_line = server.max_line.unwrap_or(defaults.server.max_line);
        if !(1024..=16 * 1024 * 1024).contains(&max_line) {
            return Err("server.max_line must be 1024 to 16777216 bytes".into());
        }
        let readers = file.readers.unwrap_or_default();
        let mut names = std::collections::BTreeSet::new();
        for s in &readers.simulator {
            if s.name.is_empty() || s.name.len() > 128 || !names.insert(s.name.clone()) {
                return Err(format!(
                    "readers.simulator: name {:?} is empty, too long or repeated",
                    s.name
                ));
            }
        }
        let deadline = |value: Option<f64>, key: &str, default: Duration| match value {
            None => Ok(default),
            Some(s) if (0.1..=600.0).contains(&s) => Ok(Duration::from_secs_f64(s)),
            Some(_) => Err(format!("readers.{key} must be 0.1 to 600 seconds")),
        };
        let d = crate::transport::pcsc::Deadlines::default();
        let deadlines = crate::transport::pcsc::Deadlines {
            command: deadline(
                readers.command_timeout_seconds,
                "command_timeout_seconds",
                d.command,
            )?,
            crypto: deadline(
                readers.crypto_timeout_seconds,
                "crypto_timeout_seconds",
                d.crypto,
            )?,
        };
        let throttle = file.throttle.unwrap_or_default();
        let d = Throttle::default();
        let seconds = |value: Option<f64>, key: &str, default: Duration| match value {
            None => Ok(default),
            Some(s) => Duration::try_from_secs_f64(s)
                .map_err(|_| format!("throttle.{key} must be a number of seconds, 0 or more")),
        };
        let throttle = Throttle {
            free_attempts: throttle.free_attempts.unwrap_or(d.free_attempts),
            first_delay: seconds(
                throttle.first_delay_seconds,
                "first_delay_seconds",
                d.first_delay,
            )?,
            max_delay: seconds(throttle.max_delay_seconds, "max_delay_seconds", d.max_delay)?,
        };
        if throttle.first_delay > throttle.max_delay
            || throttle.max_delay > Duration::from_secs(86_400)
        {
            return Err(
                "throttle: first_delay_seconds must not exceed max_delay_seconds (at most 86400)"
                    .into(),
            );
        }
        let clients = match file.client {
            None => defaults.clients,
            Some(rules) => {
                let mut out = Vec::new();
                for rule in rules {
                    let mut fields = FieldSet::parse(rule.fields.iter().map(String::as_str))
                        .map_err(|e| format!("client {:?}: {e}", rule.name))?;
                    if let Some(g) = rule.raw_groups.iter().find(|g| !(1..=16).contains(*g)) {
                        return Err(format!(
                            "client {:?}: raw_groups: {g} is not a data group (1 to 16)",
                            rule.name
                        ));
                    }
                    fields.grant_raw_groups(rule.raw_groups.iter().copied());
                    if rule.users.is_empty() && rule.groups.is_empty() {
                        return Err(format!("client {:?}: no users and no groups", rule.name));
                    }
                    out.push(ClientRule {
                        uids: rule
                            .users
                            .iter()
                            .filter_map(|u| resolve_user(u, &mut warnings))
                            .collect(),
                        gids: rule
                            .groups
                            .iter()
                            .filter_map(|g| resolve_group(g, &mut warnings))
                            .collect(),
                        name: rule.name,
                        fields,
                    });
                }
                out
            }
        };
        let trust = file.trust.unwrap_or_default();
        for v in &trust.vouch {
            if v.issuing_states.is_empty()
                || v.issuing_states.iter().any(|c| {
                    !(1..=3).contains(&c.len()) || !c.bytes().all(|b| b.is_ascii_uppercase())
                })
            {
                return Err(format!(
                    "trust.vouch {}: issuing_states must be one to three capital letters each, as the MRZ writes them",
                    v.path.display()
                ));
            }
        }
        let verification = file.verification.unwrap_or_default();
        let (web, web_clients) = web::parse(file.web, file.web_client)?;
        Ok(Config {
            server: Server {
                socket: server.socket.unwrap_or(defaults.server.socket),
                socket_mode,
                socket_group,
                socket_group_required,
                max_connections,
                max_line,
                max_connections_per_uid,
                idle_timeout,
            },
            trust: trust.anchors,
            vouch: trust.vouch,
            allow_test_anchors: trust.allow_test_anchors.unwrap_or(false),
            verification: crate::session::ReadPolicy {
                allow_bac_fallback: verification.allow_bac_fallback.unwrap_or(false),
                require_chip_proof: verification.require_chip_proof.unwrap_or(false),
            },
            readers: Readers {
                pcsc: readers.pcsc.unwrap_or(true),
                nfc: readers.nfc,
                simulators: readers.simulator,
                deadlines,
            },
            throttle,
            clients,
            web,
            web_clients,
            warnings,
        })
    }

    /// The first client rule `peer` matches: by uid, primary gid, or the supplementary
    /// groups of the user `peer.uid` names.
    pub fn client_for(&self, peer: Peer) -> Option<&ClientRule> {
        let uid = Uid::from_raw(peer.uid);
        let gid = Gid::from_raw(peer.gid);
        let mut groups: Option<Vec<Gid>> = None;
        self.clients.iter().find(|rule| {
            if rule.uids.contains(&uid) || rule.gids.contains(&gid) {
                return true;
            }
            if rule.gids.is_empty() {
                return false;
            }
            let groups = groups.get_or_insert_with(|| supplementary_groups(uid, gid));
            rule.gids.iter().any(|g| groups.contains(g))
        })
    }
}

/// The groups the user `uid` belongs to, from the system's group database.
fn supplementary_groups(uid: Uid, gid: Gid) -> Vec<Gid> {
    let Ok(Some(user)) = User::from_uid(uid) else {
        return Vec::new();
    };
    let Ok(name) = std::ffi::CString::new(user.name) else {
        return Vec::new();
    };
    nix::unistd::getgrouplist(&name, gid).unwrap_or_default()
}

/// A user or group, by name or number.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Id {
    Number(u32),
    Name(String),
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Id::Number(n) => write!(f, "{n}"),
            Id::Name(s) => write!(f, "{s:?}"),
        }
    }
}

fn resolve_user(id: &Id, warnings: &mut Vec<String>) -> Option<Uid> {
    match id {
        Id::Number(n) => Some(Uid::from_raw(*n)),
        Id::Name(name) => match User::from_name(name) {
            Ok(Some(u)) => Some(u.uid),
            _ => {
                warnings.push(format!("no user {name:?}: the rule does not match it"));
                None
            }
        },
    }
}

fn resolve_group(id: &Id, warnings: &mut Vec<String>) -> Option<Gid> {
    match id {
        Id::Number(n) => Some(Gid::from_raw(*n)),
        Id::Name(name) => match Group::from_name(name) {
            Ok(Some(g)) => Some(g.gid),
            _ => {
                warnings.push(format!("no group {name:?}: the rule does not match it"));
                None
            }
        },
    }
}

// The file as written.

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    server: Option<ServerFile>,
    trust: Option<TrustFile>,
    verification: Option<VerificationFile>,
    readers: Option<ReadersFile>,
    throttle: Option<ThrottleFile>,
    client: Option<Vec<ClientFile>>,
    web: Option<web::WebFile>,
    web_client: Option<Vec<web::WebClientFile>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ServerFile {
    socket: Option<PathBuf>,
    socket_mode: Option<String>,
    socket_group: Option<Id>,
    max_connections: Option<usize>,
    max_line: Option<usize>,
    max_connections_per_uid: Option<usize>,
    idle_timeout_seconds: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TrustFile {
    #[serde(default)]
    anchors: Vec<PathBuf>,
    #[serde(default)]
    vouch: Vec<Vouch>,
    allow_test_anchors: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct VerificationFile {
    allow_bac_fallback: Option<bool>,
    require_chip_proof: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReadersFile {
    pcsc: Option<bool>,
    #[serde(default)]
    nfc: Vec<String>,
    #[serde(default)]
    simulator: Vec<Simulator>,
    command_timeout_seconds: Option<f64>,
    crypto_timeout_seconds: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ThrottleFile {
    free_attempts: Option<u32>,
    first_delay_seconds: Option<f64>,
    max_delay_seconds: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientFile {
    name: String,
    #[serde(default)]
    users: Vec<Id>,
    #[serde(default)]
    groups: Vec<Id>,
    fields: Vec<String>,
    /// Data groups (1 to 16) `raw` may return beyond those the fields come from.
    #[serde(default)]
    raw_groups: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::Field;

    #[test]
    fn an_empty_file_is_the_defaults() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.server.socket, PathBuf::from(DEFAULT_SOCKET));
        assert_eq!(c.server.socket_mode, 0o660);
        assert!(c.readers.pcsc);
        assert_eq!(c.clients.len(), 1);
        let root = c.client_for(Peer { uid: 0, gid: 0 }).unwrap();
        assert_eq!(root.fields, FieldSet::all());
        assert!(
            c.client_for(Peer {
                uid: 4242,
                gid: 4242
            })
            .is_none()
        );
    }

    #[test]
    fn rules_match_by_uid_or_gid_first_match_wins() {
        let c = Config::parse(
            r#"
            [[client]]
            name = "queue-kiosk"
            users = [1001]
            fields = ["full_name"]

            [[client]]
            name = "bank-ekyc"
            users = [1002, "root"]
            groups = [3000]
            fields = ["all"]
            "#,
        )
        .unwrap();
        let kiosk = c
            .client_for(Peer {
                uid: 1001,
                gid: 3000,
            })
            .unwrap();
        assert_eq!(kiosk.name, "queue-kiosk");
        assert!(kiosk.fields.contains(Field::FullName));
        assert!(!kiosk.fields.contains(Field::Face));
        assert_eq!(
            c.client_for(Peer {
                uid: 1003,
                gid: 3000
            })
            .unwrap()
            .name,
            "bank-ekyc"
        );
        assert_eq!(
            c.client_for(Peer { uid: 0, gid: 0 }).unwrap().name,
            "bank-ekyc"
        );
        assert!(
            c.client_for(Peer {
                uid: 1003,
                gid: 1003
            })
            .is_none()
        );
    }

    #[test]
    fn mistakes_are_refused_with_the_key_named() {
        for (text, needle) in [
            ("[server]\nsocket_mode = \"999\"", "socket_mode"),
            ("[server]\nmax_connections = 0", "max_connections"),
            ("[server]\nsokcet = \"/x\"", "sokcet"),
            (
                "[[client]]\nname = \"a\"\nusers = [1]\nfields = [\"shoe\"]",
                "shoe",
            ),
            ("[[client]]\nname = \"a\"\nfields = [\"all\"]", "no users"),
            (
                "[throttle]\nfirst_delay_seconds = 10\nmax_delay_seconds = 1",
                "throttle",
            ),
            (
                "[throttle]\nfirst_delay_seconds = -1",
                "first_delay_seconds",
            ),
            ("[throttle]\nmax_delay_seconds = nan", "max_delay_seconds"),
            (
                "[readers]\ncommand_timeout_seconds = 0",
                "command_timeout_seconds",
            ),
            (
                "[readers]\ncrypto_timeout_seconds = nan",
                "crypto_timeout_seconds",
            ),
            ("[throttle]\nmax_delay_seconds = inf", "max_delay_seconds"),
            (
                "[verification]\nrequire_chip_prof = true",
                "require_chip_prof",
            ),
            (
                "[[trust.vouch]]\npath = \"un.pem\"\nissuing_states = [\"uno\"]",
                "issuing_states",
            ),
            (
                "[[trust.vouch]]\npath = \"un.pem\"\nissuing_states = []",
                "issuing_states",
            ),
            (
                "[[readers.simulator]]\nname = \"S\"\nprofile = \"vn-cccd\"\n[[readers.simulator]]\nname = \"S\"\nprofile = \"passport\"",
                "repeated",
            ),
        ] {
            let e = Config::parse(text).unwrap_err();
            assert!(e.contains(needle), "{text:?} → {e}");
        }
    }

    #[test]
    fn verification_policy_and_vouching() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.verification, crate::session::ReadPolicy::default());
        assert!(!c.verification.allow_bac_fallback && !c.verification.require_chip_proof);
        let c = Config::parse(
            "[verification]\nrequire_chip_proof = true\nallow_bac_fallback = true\n\
             [trust]\nanchors = [\"a.ml\"]\n[[trust.vouch]]\npath = \"un.pem\"\nissuing_states = [\"UNO\", \"UNA\"]",
        )
        .unwrap();
        assert!(c.verification.require_chip_proof && c.verification.allow_bac_fallback);
        assert_eq!(
            c.vouch,
            [Vouch {
                path: "un.pem".into(),
                issuing_states: vec!["UNO".into(), "UNA".into()]
            }]
        );
    }

    #[test]
    fn the_commented_example_is_valid() {
        let c = Config::parse(include_str!("../../../udev/cancuoc.toml")).unwrap();
        assert_eq!(c.clients.len(), 3);
        assert_eq!(c.clients[0].name, "queue-kiosk");
        assert_eq!(c.clients[0].fields.names(), ["full_name"]);
        assert_eq!(c.trust, [PathBuf::from("/etc/cancuoc/trust")]);
        assert_eq!(c.throttle, Throttle::default());
    }

    #[test]
    fn unknown_names_are_warnings_not_matches() {
        let c = Config::parse(
            "[[client]]\nname = \"k\"\nusers = [\"no-such-user-here\"]\ngroups = [\"no-such-group-here\"]\nfields = [\"full_name\"]",
        )
        .unwrap();
        assert_eq!(c.warnings.len(), 2);
        assert!(c.client_for(Peer { uid: 0, gid: 0 }).is_none());
    }
}
