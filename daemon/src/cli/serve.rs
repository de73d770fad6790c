//! `cancuoc serve`: the daemon ([`crate::service`]). Reads the configuration with the
//! command line's overrides, loads the trust anchors, refuses the published test anchors
//! unless allowed, and serves until SIGTERM or SIGINT.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::exit::Exit;
use crate::config::Config;
use crate::service::{self, ServeError};
use crate::trust::TrustStore;

/// Options of `cancuoc serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The configuration file (TOML; see udev/cancuoc.toml). Default:
    /// /etc/cancuoc/cancuoc.toml when it exists, else the built-in defaults.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The Unix socket to listen on, instead of the configuration's. Under systemd
    /// socket activation the socket systemd passes is used.
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// More trust anchors: CSCA master list (.ml), PEM/DER certificates or CRLs, or a
    /// folder of them.
    #[arg(long = "trust", value_name = "PATH")]
    pub trust: Vec<PathBuf>,
    /// Connections served at once, instead of the configuration's.
    #[arg(long)]
    pub max_connections: Option<usize>,
    /// Serve an in-process simulated card of this profile (vn-cccd, vn-cccd-cam,
    /// vn-cccd-bac, passport, bsi-reference, the attack-* cards, or a profile file) as
    /// the reader "Simulated PROFILE";
    /// repeatable. For testing client software without a card or pcscd.
    #[arg(long = "simulator", value_name = "PROFILE")]
    pub simulators: Vec<String>,
    /// Check the configuration and the trust anchors, print a summary, and exit.
    #[arg(long)]
    pub check_config: bool,
}

fn fail(exit: Exit, message: &str) -> ExitCode {
    eprintln!("cancuoc serve: {message}");
    exit.into()
}

/// The configuration the options name, with the command line's overrides.
pub fn configuration(args: &Args) -> Result<Config, String> {
    let mut config = Config::load_or_defaults(args.config.as_deref()).map_err(|e| e.to_string())?;
    if let Some(socket) = &args.socket {
        config.server.socket = socket.clone();
    }
    if let Some(n) = args.max_connections {
        if !(1..=4096).contains(&n) {
            return Err("--max-connections must be 1 to 4096".into());
        }
        config.server.max_connections = n;
    }
    config.trust.extend(args.trust.iter().cloned());
    for profile in &args.simulators {
        let name = format!("Simulated {profile}");
        if config.readers.simulators.iter().any(|s| s.name == name) {
            return Err(format!("--simulator {profile} is given twice"));
        }
        config.readers.simulators.push(crate::config::Simulator {
            name,
            profile: profile.clone(),
        });
    }
    Ok(config)
}

/// The test CSCAs of `fixtures/pki` among the anchors: refused unless the daemon serves
/// simulated cards (`--simulator`) or the configuration allows them
/// (`[trust] allow_test_anchors = true`); allowed, a loud warning.
fn test_anchors_gate(
    args: &Args,
    config: &Config,
    trust: &TrustStore,
) -> Result<Option<String>, String> {
    let found = crate::trust::test_anchors::test_anchors(trust);
    if found.is_empty() {
        return Ok(None);
    }
    let list = found.join("; ");
    if config.allow_test_anchors || !args.simulators.is_empty() {
        return Ok(Some(format!(
            "TEST trust anchors in use ({list}): their private keys are public, anyone can forge a card they verify; for test benches only"
        )));
    }
    Err(format!(
        "refusing the published TEST trust anchors ({list}): their private keys are public, so anyone could forge a card they verify. Remove them from the trust paths, or for a test bench set `[trust] allow_test_anchors = true` (or serve with --simulator)"
    ))
}

/// The configuration and the trust anchors as `args` name them, for a reload; test
/// anchors that are allowed are logged.
fn reloaded(args: &Args) -> Result<(TrustStore, Config), String> {
    let config = configuration(args)?;
    let trust =
        crate::trust::TrustStore::load(&config.trust, &config.vouch).map_err(|e| e.to_string())?;
    if let Some(warning) = test_anchors_gate(args, &config, &trust)? {
        tracing::warn!("serve: {warning}");
    }
    Ok((trust, config))
}

fn check(config: &Config, anchors: usize) {
    println!("configuration valid");
    println!(
        "  socket: {} (mode {:o})",
        config.server.socket.display(),
        config.server.socket_mode
    );
    println!(
        "  trust anchors: {anchors} certificates from {} paths",
        config.trust.len()
    );
    let r = &config.readers;
    println!(
        "  readers: pcsc {}, nfc {}, simulators {}",
        if r.pcsc { "on" } else { "off" },
        r.nfc.len(),
        r.simulators.len()
    );
    println!(
        "  throttle: {} free wrong keys, then {:?} doubling up to {:?}",
        config.throttle.free_attempts, config.throttle.first_delay, config.throttle.max_delay
    );
    for rule in &config.clients {
        println!(
            "  client {:?}: {} users, {} groups, fields {}",
            rule.name,
            rule.uids.len(),
            rule.gids.len(),
            rule.fields.names().join(",")
        );
        // Everything the rule hands over, implications included, so a deployer sees
        // what granting `mrz`, `document`, `id_number` or `raw` really gives away.
        for (item, how) in rule.fields.discloses() {
            println!("    can obtain {item} ({how})");
        }
    }
    if let Some(web) = &config.web {
        let listen: Vec<String> = web.listen.iter().map(|a| a.to_string()).collect();
        println!(
            "  web: {} (operator page {}), {} web clients",
            listen.join(", "),
            if web.operator_page { "on" } else { "off" },
            config.web_clients.len()
        );
    }
    for w in &config.warnings {
        println!("  warning: {w}");
    }
    if anchors == 0 {
        println!("  warning: no trust anchors: every card will read as not-verified");
    }
}

/// Runs `cancuoc serve`.
pub fn run(args: &Args) -> ExitCode {
    let config = match configuration(args) {
        Ok(c) => c,
        Err(e) => return fail(Exit::Usage, &e),
    };
    if !args.check_config {
        for w in &config.warnings {
            tracing::warn!("config: {w}");
        }
    }
    let trust = match crate::trust::TrustStore::load(&config.trust, &config.vouch)
        .map_err(|e| e.to_string())
    {
        Ok(t) => t,
        Err(e) => return fail(Exit::Usage, &e),
    };
    let test_anchors = test_anchors_gate(args, &config, &trust);
    if args.check_config {
        check(&config, trust.certificates().len());
        return match test_anchors {
            Ok(None) => Exit::Ok.into(),
            Ok(Some(warning)) => {
                println!("  WARNING: {warning}");
                Exit::Ok.into()
            }
            Err(e) => {
                println!("  ERROR: {e}");
                fail(Exit::Usage, "the configuration would be refused")
            }
        };
    }
    match test_anchors {
        Ok(None) => {}
        Ok(Some(warning)) => tracing::warn!("serve: {warning}"),
        Err(e) => return fail(Exit::Usage, &e),
    }
    let reload_args = args.clone();
    let reload: service::Reload = Box::new(move || reloaded(&reload_args));
    match service::run(config, trust, reload) {
        Ok(()) => Exit::Ok.into(),
        Err(e @ ServeError::Runtime(_)) => fail(Exit::Internal, &e.to_string()),
        Err(e @ ServeError::Start(_)) => fail(Exit::Usage, &e.to_string()),
    }
}
