//! `cancuoc serve`: the daemon. Reads the configuration, loads the trust anchors, starts
//! the reader manager, and serves the local socket API until SIGTERM or SIGINT.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::api::{self, systemd};
use crate::cli::exit::Exit;
use crate::cli::read::load_trust;
use crate::config::Config;

/// The configuration file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG: &str = "/etc/cancuoc/cancuoc.toml";

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

/// SIGTERM and SIGINT, caught from the moment this is built: a signal that
/// arrives before the server first polls for it must still shut it down
/// gracefully (a supervisor may stop the daemon right after readiness).
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            (Ok(mut term), Err(e)) => {
                tracing::warn!(error = %e, "api: no SIGINT handler");
                term.recv().await;
            }
            (Err(e), Ok(mut int)) => {
                tracing::warn!(error = %e, "api: no SIGTERM handler");
                int.recv().await;
            }
            (Err(e), Err(_)) => {
                tracing::warn!(error = %e, "api: no signal handlers");
                std::future::pending::<()>().await;
            }
        }
    }
}

/// The configuration the options name, with the command line's overrides.
pub fn configuration(args: &Args) -> Result<Config, String> {
    let mut config = match &args.config {
        Some(path) => Config::load(path).map_err(|e| e.to_string())?,
        None if std::path::Path::new(DEFAULT_CONFIG).exists() => {
            Config::load(std::path::Path::new(DEFAULT_CONFIG)).map_err(|e| e.to_string())?
        }
        None => Config::defaults(),
    };
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
    trust: &crate::trust::TrustStore,
) -> Result<Option<String>, String> {
    let found = crate::cli::anchors::test_anchors(trust);
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

/// On SIGHUP: reads the configuration and the trust anchors again and applies the client
/// rules, the throttle and the anchors to what starts from then on. A configuration that
/// does not load is reported and the running one kept.
/// The handler is installed before the task is spawned, so a SIGHUP sent right
/// after readiness reloads rather than ending the daemon.
fn reload_on_sighup(
    args: Args,
    shared: std::sync::Arc<api::Shared>,
) -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let hup = signal(SignalKind::hangup());
    async move {
        let Ok(hup) = hup else {
            tracing::warn!("serve: no SIGHUP handler; the configuration cannot be reloaded");
            return;
        };
        reload_each_hangup(hup, args, shared).await;
    }
}

async fn reload_each_hangup(
    mut hup: tokio::signal::unix::Signal,
    args: Args,
    shared: std::sync::Arc<api::Shared>,
) {
    while hup.recv().await.is_some() {
        let loaded = configuration(&args).and_then(|c| {
            let trust = load_trust(&c.trust, &c.vouch)?;
            if let Some(warning) = test_anchors_gate(&args, &c, &trust)? {
                tracing::warn!("serve: {warning}");
            }
            Ok((trust, c))
        });
        match loaded {
            Ok((trust, config)) => {
                for w in &config.warnings {
                    tracing::warn!("config: {w}");
                }
                let rules = config.clients.len();
                let kept = shared.reload(config, trust);
                tracing::info!(rules, "serve: configuration reloaded");
                for section in kept {
                    tracing::warn!(section, "serve: changes here take a restart");
                }
                let _ = systemd::notify_status("configuration reloaded");
            }
            Err(e) => {
                tracing::error!(error = %e, "serve: reload failed; keeping the running configuration")
            }
        }
    }
}

/// The socket systemd passed, or one bound at the configured path (returned too, so it
/// can be removed at exit; systemd's own socket is left to systemd).
fn listen(config: &Config) -> Result<(tokio::net::UnixListener, Option<PathBuf>), String> {
    let activated = systemd::listener_from_env().map_err(|e| format!("socket activation: {e}"))?;
    if let Some(listener) = activated {
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("socket activation: {e}"))?;
        let listener = tokio::net::UnixListener::from_std(listener)
            .map_err(|e| format!("socket activation: {e}"))?;
        tracing::info!("api: listening on the socket systemd passed");
        return Ok((listener, None));
    }
    let socket = config.server.socket.clone();
    let server = &config.server;
    let listener = api::bind_with(&socket, server.socket_mode)
        .map_err(|e| format!("{}: {e}", socket.display()))?;
    if let Some(gid) = server.socket_group {
        if let Err(e) = nix::unistd::chown(&socket, None, Some(gid)) {
            if server.socket_group_required {
                let _ = std::fs::remove_file(&socket);
                return Err(format!("{}: setting its group: {e}", socket.display()));
            }
            tracing::warn!(error = %e, "api: the socket keeps the daemon's group");
        }
    }
    tracing::info!(socket = %socket.display(), "api: listening");
    Ok((listener, Some(socket)))
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
    let trust = match load_trust(&config.trust, &config.vouch) {
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
    if trust.is_empty() {
        tracing::warn!("no trust anchors: every card will read as not-verified");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(Exit::Internal, &e.to_string()),
    };
    let args_for_reload = args.clone();
    let outcome = runtime.block_on(async {
        let (listener, created) = listen(&config)?;
        let web = match &config.web {
            Some(w) => crate::web::bind(w).await?,
            None => Vec::new(),
        };
        let shared = api::Shared::start(config, trust)?;
        let signal = shutdown_signal();
        tokio::spawn(reload_on_sighup(args_for_reload, shared.clone()));
        if let Err(e) = systemd::notify_ready() {
            tracing::warn!(error = %e, "api: readiness not reported to systemd");
        }
        let (web_stop, mut web_stopping) = tokio::sync::watch::channel(false);
        let web = tokio::spawn(crate::web::run(web, shared.clone(), async move {
            let _ = web_stopping.wait_for(|s| *s).await;
        }));
        let shutdown = async {
            signal.await;
            let _ = web_stop.send(true);
            let _ = systemd::notify_stopping();
        };
        api::run(listener, shared.clone(), shutdown).await;
        let _ = web.await;
        shared.readers.stop();
        if let Some(socket) = created {
            let _ = std::fs::remove_file(socket);
        }
        Ok::<(), String>(())
    });
    // A read stuck in a blocking PC/SC call must not hold the exit up.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match outcome {
        Ok(()) => Exit::Ok.into(),
        Err(e) => fail(Exit::Usage, &e),
    }
}
