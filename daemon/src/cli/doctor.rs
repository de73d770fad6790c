//! `cancuoc doctor`: checks what a working installation needs — pcscd and its readers,
//! libnfc devices and the kernel NFC drivers, the daemon's socket, the configuration and
//! the trust anchors — and says what to fix. `--json` for monitoring.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use crate::cli::exit::Exit;
use crate::config::Config;

/// Options of `cancuoc doctor`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The configuration file (default: /etc/cancuoc/cancuoc.toml when it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warning,
    Problem,
}

/// One finding: what was checked, what was found and, unless it is fine, what to do.
#[derive(Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn check(name: &'static str, status: Status, detail: impl Into<String>) -> Check {
    Check {
        name,
        status,
        detail: detail.into(),
        fix: None,
    }
}

impl Check {
    fn fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }
}

/// Kernel modules that claim PN533-class readers before libnfc can.
const NFC_MODULES: &[&str] = &["pn533_usb", "pn533", "nfc"];
/// Where modprobe reads its configuration.
const MODPROBE_DIRS: &[&str] = &["/etc/modprobe.d", "/usr/lib/modprobe.d", "/lib/modprobe.d"];
/// Anchors expiring within this many days are warned about.
const EXPIRY_WARNING_DAYS: i64 = 90;

/// Runs `cancuoc doctor`.
pub fn run(args: &Args) -> ExitCode {
    let checks = diagnose(args.config.as_deref());
    if args.json {
        println!("{}", serde_json::json!({ "checks": checks }));
    } else {
        for c in &checks {
            let mark = match c.status {
                Status::Ok => "ok     ",
                Status::Warning => "WARNING",
                Status::Problem => "PROBLEM",
            };
            println!("{mark} {:<14} {}", c.name, c.detail);
            if let Some(fix) = &c.fix {
                println!("        {:<14} fix: {fix}", "");
            }
        }
    }
    if checks.iter().any(|c| c.status == Status::Problem) {
        Exit::Internal.into()
    } else {
        Exit::Ok.into()
    }
}

/// Every check, in the order a reader of the output would fix them.
pub fn diagnose(config_path: Option<&Path>) -> Vec<Check> {
    let mut checks = Vec::new();
    let config = configuration(config_path, &mut checks);
    if let Some(config) = &config {
        anchors(config, &mut checks);
        socket(config, &mut checks);
    }
    pcscd(config.as_ref(), &mut checks);
    nfc(&mut checks);
    checks
}

fn configuration(path: Option<&Path>, checks: &mut Vec<Check>) -> Option<Config> {
    let Some(path) = crate::config::file_to_read(path) else {
        checks.push(
            check(
                "configuration",
                Status::Warning,
                format!(
                    "no {} (built-in defaults: no trust anchors, no client rules)",
                    crate::config::DEFAULT_PATH
                ),
            )
            .fix(
                "install the package's configuration, or copy udev/cancuoc.toml there and edit it",
            ),
        );
        return Some(Config::defaults());
    };
    match Config::load(path) {
        Ok(config) => {
            checks.push(check(
                "configuration",
                Status::Ok,
                format!(
                    "{} valid, {} client rule(s)",
                    path.display(),
                    config.clients.len()
                ),
            ));
            if config.clients.is_empty() {
                checks.push(
                    check(
                        "clients",
                        Status::Warning,
                        "no [[client]] rule: every client is refused",
                    )
                    .fix(format!("add a [[client]] rule to {}", path.display())),
                );
            }
            for w in &config.warnings {
                checks.push(check("configuration", Status::Warning, w.clone()));
            }
            if let Ok(meta) = std::fs::metadata(path)
                && meta.mode() & 0o002 != 0
            {
                checks.push(
                    check(
                        "configuration",
                        Status::Problem,
                        format!("{} is writable by every user", path.display()),
                    )
                    .fix(format!("chmod o-w {}", path.display())),
                );
            }
            Some(config)
        }
        Err(e) => {
            checks.push(
                check("configuration", Status::Problem, e.to_string()).fix(format!(
                    "edit {}; `cancuoc serve --check-config` re-checks it",
                    path.display()
                )),
            );
            None
        }
    }
}

fn anchors(config: &Config, checks: &mut Vec<Check>) {
    let store = match crate::trust::TrustStore::load(&config.trust, &config.vouch)
        .map_err(|e| e.to_string())
    {
        Ok(store) => store,
        Err(e) => {
            checks.push(
                check("trust anchors", Status::Problem, e)
                    .fix("fix or remove the [trust] anchors path"),
            );
            return;
        }
    };
    if store.is_empty() {
        checks.push(
            check("trust anchors", Status::Problem, "none: every card reads as not-verified")
                .fix("put the CSCA certificates or master lists of the countries you read into /etc/cancuoc/trust (or [trust] anchors)"),
        );
        return;
    }
    let countries: Vec<String> = store.countries().into_keys().collect();
    checks.push(check(
        "trust anchors",
        Status::Ok,
        format!(
            "{} certificate(s), countries: {}",
            store.certificates().len(),
            countries.join(" ")
        ),
    ));
    let now = crate::pki::time::Time::now();
    let soon = crate::pki::time::Time(now.0.saturating_add(EXPIRY_WARNING_DAYS * 86_400));
    let expired: Vec<String> = store
        .certificates()
        .iter()
        .filter(|c| c.not_after < now)
        .map(|c| c.subject.to_string())
        .collect();
    if !expired.is_empty() {
        // An expired CSCA still verifies documents it signed while valid; only a
        // store of nothing but expired anchors is suspicious.
        checks.push(
            check(
                "trust anchors",
                Status::Warning,
                format!("{} expired: {}", expired.len(), expired.join("; ")),
            )
            .fix("update the master list; expired CSCAs still verify older documents"),
        );
    }
    let expiring = store
        .certificates()
        .iter()
        .filter(|c| c.not_after >= now && c.not_after < soon)
        .count();
    if expiring > 0 {
        checks.push(check(
            "trust anchors",
            Status::Warning,
            format!("{expiring} expire within {EXPIRY_WARNING_DAYS} days"),
        ));
    }
    let test = crate::trust::test_anchors::test_anchors(&store);
    if !test.is_empty() {
        let status = if config.allow_test_anchors {
            Status::Warning
        } else {
            Status::Problem
        };
        checks.push(
            check(
                "test anchors",
                status,
                format!("the published TEST PKI is trusted: {}", test.join("; ")),
            )
            .fix("remove the test CSCAs from the trust paths: anyone can forge a card they verify"),
        );
    }
}

fn socket(config: &Config, checks: &mut Vec<Check>) {
    let path = &config.server.socket;
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(_) => {
            checks.push(
                check(
                    "socket",
                    Status::Warning,
                    format!(
                        "{} is not there: the daemon is not listening",
                        path.display()
                    ),
                )
                .fix("systemctl enable --now cancuoc.socket"),
            );
            return;
        }
    };
    if !meta.file_type().is_socket() {
        checks.push(check(
            "socket",
            Status::Problem,
            format!("{} is not a socket", path.display()),
        ));
        return;
    }
    let mode = meta.mode() & 0o777;
    let group = nix::unistd::Group::from_gid(meta.gid().into())
        .ok()
        .flatten()
        .map_or_else(|| meta.gid().to_string(), |g| g.name);
    if mode & 0o002 != 0 {
        checks.push(
            check(
                "socket",
                Status::Problem,
                format!(
                    "{} mode {mode:04o}: every local user may connect",
                    path.display()
                ),
            )
            .fix("[server] socket_mode = \"0660\" (or the socket unit's SocketMode=0660)"),
        );
    }
    match crate::client::Client::connect(path) {
        Ok(_) => checks.push(check(
            "socket",
            Status::Ok,
            format!(
                "{} mode {mode:04o} group {group}, daemon answering",
                path.display()
            ),
        )),
        Err(e) => checks.push(
            check(
                "socket",
                Status::Warning,
                format!("{} mode {mode:04o} group {group}: {e}", path.display()),
            )
            .fix(format!(
                "to use the API, join group {group} (usermod -aG {group} USER) and log in again"
            )),
        ),
    }
}

fn pcscd(config: Option<&Config>, checks: &mut Vec<Check>) {
    if config.is_some_and(|c| !c.readers.pcsc) {
        checks.push(check(
            "pcscd",
            Status::Ok,
            "not used ([readers] pcsc = false)",
        ));
        return;
    }
    match crate::transport::pcsc::list_readers() {
        Ok(readers) if readers.is_empty() => checks.push(
            check(
                "pcscd",
                Status::Warning,
                "pcscd answers, no reader connected",
            )
            .fix("plug in a reader; `pcsc_scan` shows what pcscd sees"),
        ),
        Ok(readers) => {
            let names: Vec<String> = readers
                .iter()
                .map(|r| {
                    format!(
                        "{}{}",
                        r.name,
                        if r.card_present == Some(true) {
                            " (card)"
                        } else {
                            ""
                        }
                    )
                })
                .collect();
            checks.push(check(
                "pcscd",
                Status::Ok,
                format!("readers: {}", names.join("; ")),
            ));
        }
        Err(e) => checks.push(
            check("pcscd", Status::Problem, e.to_string())
                .fix("apt install pcscd; systemctl enable --now pcscd.socket"),
        ),
    }
}

fn nfc(checks: &mut Vec<Check>) {
    let loaded = std::fs::read_to_string("/proc/modules").unwrap_or_default();
    let loaded: Vec<&str> = NFC_MODULES
        .iter()
        .copied()
        .filter(|m| {
            loaded
                .lines()
                .any(|l| l.split_whitespace().next() == Some(m))
        })
        .collect();
    let blacklisted = blacklisted_modules();
    let missing: Vec<&str> = NFC_MODULES
        .iter()
        .copied()
        .filter(|m| !blacklisted.iter().any(|b| b == m))
        .collect();
    if !loaded.is_empty() {
        checks.push(
            check(
                "kernel nfc",
                Status::Warning,
                format!(
                    "loaded: {} — they hold PN533/ACR122 readers away from libnfc",
                    loaded.join(" ")
                ),
            )
            .fix(format!("modprobe -r {}", loaded.join(" "))),
        );
    }
    if missing.is_empty() {
        checks.push(check(
            "kernel nfc",
            Status::Ok,
            "pn533_usb, pn533 and nfc are blacklisted",
        ));
    } else {
        checks.push(
            check("kernel nfc", Status::Warning, format!("not blacklisted: {}", missing.join(" ")))
                .fix("a file in /etc/modprobe.d with `blacklist pn533_usb`, `blacklist pn533`, `blacklist nfc` (the package installs one; only USB readers driven through libnfc need it)"),
        );
    }
    #[cfg(feature = "nfc")]
    match crate::transport::nfc::list_devices() {
        Ok(devices) if devices.is_empty() => {
            checks.push(check("libnfc", Status::Ok, "no libnfc device"))
        }
        Ok(devices) => checks.push(check(
            "libnfc",
            Status::Ok,
            format!("devices: {}", devices.join(" ")),
        )),
        Err(e) => checks.push(check("libnfc", Status::Warning, e.to_string())),
    }
}

/// Modules named by `blacklist` lines in modprobe's configuration folders.
fn blacklisted_modules() -> Vec<String> {
    let mut out = Vec::new();
    for dir in MODPROBE_DIRS {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "conf") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            out.extend(blacklist_lines(&text));
        }
    }
    out
}

fn blacklist_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some("blacklist"))
                .then(|| words.next().map(str::to_owned))
                .flatten()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blacklist_lines_are_read() {
        assert_eq!(
            blacklist_lines("# x\nblacklist pn533_usb\n  blacklist nfc\ninstall nfc /bin/false\n"),
            ["pn533_usb", "nfc"]
        );
    }
}
