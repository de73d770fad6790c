//! The systemd and udev packaging in udev/: `systemd-analyze verify` on both units, their
//! hardening score, the udev rules and module blacklist, the sysusers file, the polkit
//! rule, what `make install-files` lays out, and socket activation end to end through
//! `systemd-socket-activate`. No pcscd needed. A check whose tool is missing is recorded
//! as skipped (common/skip.rs): counted in `make test`'s summary, and a failure there.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cancuoc::api::systemd;

mod common;

use common::skip;

/// Where the unit's ExecStart points before `make install` rewrites it.
const UNIT_BINARY: &str = "/usr/bin/cancuoc";
/// The configuration the unit starts the daemon with.
const UNIT_CONFIG: &str = "/etc/cancuoc/cancuoc.toml";
/// The highest `systemd-analyze security` exposure accepted (systemd 252 rates the
/// service 1.2; other versions weigh settings differently, hence the margin).
const MAX_EXPOSURE: f64 = 2.5;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the daemon crate lives in the repository")
        .to_path_buf()
}

fn udev_dir() -> PathBuf {
    repo().join("udev")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(stem: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "cancuoc-systemd-{stem}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("creates a temporary directory");
        TempDir(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `command`; `None` when its program is not installed.
fn run(command: &mut Command) -> Option<Output> {
    match command.output() {
        Ok(output) => Some(output),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => panic!("{command:?}: {e}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Copies both units into `dir`, with ExecStart running the binary under test with a
/// configuration file in `dir`: `systemd-analyze verify` checks that the binary exists.
fn units_for_verify(dir: &TempDir) -> (PathBuf, PathBuf) {
    let example = udev_dir().join("cancuoc.toml");
    let config = dir.join("cancuoc.toml");
    if example.exists() {
        std::fs::copy(&example, &config).expect("copies the example configuration");
    } else {
        std::fs::write(&config, "").expect("writes a configuration");
    }
    let service = read(&udev_dir().join("cancuoc.service"));
    assert!(
        service.contains(&format!(
            "ExecStart={UNIT_BINARY} serve --config {UNIT_CONFIG}"
        )),
        "ExecStart names {UNIT_BINARY} (the Makefile rewrites it) and {UNIT_CONFIG}"
    );
    let service = service
        .replace(UNIT_BINARY, env!("CARGO_BIN_EXE_cancuoc"))
        .replace(UNIT_CONFIG, &config.to_string_lossy());
    let service_path = dir.join("cancuoc.service");
    std::fs::write(&service_path, service).expect("writes the service");
    let socket_path = dir.join("cancuoc.socket");
    std::fs::copy(udev_dir().join("cancuoc.socket"), &socket_path).expect("copies the socket");
    (socket_path, service_path)
}

fn verify(units: &[&Path]) -> Option<Output> {
    run(Command::new("systemd-analyze")
        .args(["verify", "--man=no", "--generators=no"])
        .args(units))
}

/// `systemd-analyze verify` reports problems on stderr and exits 0 for many of them
/// (an unknown key, for one), so any line about our units fails the test. Lines that
/// name neither unit nor the temporary directory (every path here contains "cancuoc")
/// are about the host: verify also loads the units ours depend on (sockets.target,
/// sysinit.target, pcscd.socket) from the host's unit path, and what it says of those
/// says nothing of ours. They are printed, not failed on.
#[test]
fn units_pass_systemd_analyze_verify() {
    let dir = TempDir::new("verify");
    let (socket, service) = units_for_verify(&dir);
    let Some(output) = verify(&[&socket, &service]) else {
        skip(
            "units_pass_systemd_analyze_verify",
            "systemd-analyze is not installed (Debian package systemd)",
        );
        return;
    };
    let stderr = text(&output.stderr);
    let ours: Vec<&str> = stderr.lines().filter(|l| l.contains("cancuoc")).collect();
    for line in stderr.lines().filter(|l| !l.contains("cancuoc")) {
        println!("systemd-analyze, about the host: {line}");
    }
    assert!(
        output.status.success() && ours.is_empty(),
        "systemd-analyze verify: {}\n{stderr}",
        output.status
    );

    // The same run catches a misspelt setting, so silence above means something.
    let broken = read(&service).replace("ProtectClock=yes", "ProtectClok=yes");
    std::fs::write(&service, broken).expect("writes the broken service");
    let output = verify(&[&socket, &service]).expect("systemd-analyze ran a moment ago");
    assert!(
        text(&output.stderr).contains("ProtectClok"),
        "systemd-analyze verify misses an unknown key: {}",
        text(&output.stderr)
    );
}

#[test]
fn service_hardening_score() {
    let dir = TempDir::new("security");
    let (_, service) = units_for_verify(&dir);
    let Some(output) = run(Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(&service))
    else {
        skip(
            "service_hardening_score",
            "systemd-analyze is not installed (Debian package systemd)",
        );
        return;
    };
    let all = text(&output.stdout) + &text(&output.stderr);
    let marker = "Overall exposure level for cancuoc.service:";
    let Some(rest) = all
        .lines()
        .find_map(|l| l.split_once(marker).map(|(_, r)| r))
    else {
        skip(
            "service_hardening_score",
            &format!("this systemd-analyze has no offline security review: {all}"),
        );
        return;
    };
    let exposure: f64 = rest
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in {rest:?}"));
    println!("systemd-analyze security: exposure {exposure}");
    assert!(exposure <= MAX_EXPOSURE, "exposure {exposure}:\n{all}");
}

fn rule_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(udev_dir())
        .expect("reads udev/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "udev/ holds udev rules");
    files
}

/// Splits one rules line into its `KEY op "value"` assignments, or says what is wrong.
fn parse_rule_line(line: &str) -> Result<Vec<(String, String, String)>, String> {
    const OPERATORS: [&str; 6] = ["==", "!=", "+=", "-=", ":=", "="];
    let mut pairs = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        let key_end = rest
            .find(|c: char| "=!+-:".contains(c))
            .ok_or_else(|| format!("no operator after {rest:?}"))?;
        let key = rest[..key_end].trim();
        let key_ok = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_{}.*-/".contains(c))
            && key.starts_with(|c: char| c.is_ascii_uppercase());
        if !key_ok {
            return Err(format!("bad key {key:?}"));
        }
        let after_key = &rest[key_end..];
        let operator = OPERATORS
            .iter()
            .find(|op| after_key.starts_with(**op))
            .ok_or_else(|| format!("bad operator after {key}"))?;
        let value = after_key[operator.len()..].trim_start();
        let value = value
            .strip_prefix('"')
            .ok_or_else(|| format!("{key}: value is not quoted"))?;
        let close = value
            .find('"')
            .ok_or_else(|| format!("{key}: unterminated value"))?;
        pairs.push((
            key.to_string(),
            operator.to_string(),
            value[..close].to_string(),
        ));
        rest = value[close + 1..].trim_start();
        if let Some(next) = rest.strip_prefix(',') {
            rest = next.trim_start();
            if rest.is_empty() {
                return Err("trailing comma".into());
            }
        } else if !rest.is_empty() {
            return Err(format!("expected a comma before {rest:?}"));
        }
    }
    Ok(pairs)
}

#[test]
fn udev_rules_are_well_formed() {
    for file in rule_files() {
        let mut gotos = Vec::new();
        let mut labels = Vec::new();
        for (n, line) in read(&file).lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let pairs = parse_rule_line(line)
                .unwrap_or_else(|e| panic!("{}:{}: {e}: {line}", file.display(), n + 1));
            for (key, operator, value) in pairs {
                match key.as_str() {
                    "GOTO" => gotos.push(value),
                    "LABEL" => labels.push(value),
                    "MODE" => assert!(
                        (operator == "=" || operator == ":=")
                            && value.len() == 4
                            && value.chars().all(|c| ('0'..='7').contains(&c)),
                        "{}:{}: MODE={value:?}",
                        file.display(),
                        n + 1
                    ),
                    _ => {}
                }
            }
        }
        for goto in gotos {
            assert!(
                labels.contains(&goto),
                "{}: GOTO {goto:?} has no LABEL",
                file.display()
            );
        }
    }
    assert!(parse_rule_line(r#"SUBSYSTEM=="usb", MODE="0660""#).is_ok());
    assert!(parse_rule_line(r#"SUBSYSTEM=="usb" MODE="0660""#).is_err());
    assert!(parse_rule_line(r#"SUBSYSTEM==usb"#).is_err());
    assert!(parse_rule_line(r#"SUBSYSTEM=="usb","#).is_err());
}

/// `udevadm test` with `dir` as /etc/udev/rules.d, in a private mount namespace
/// (`unshare --mount --map-root-user`: no root needed, nothing on the host changes),
/// against the loopback network device, which every machine has (a container has no
/// USB device at all). `None` when unshare or udevadm is missing.
fn udevadm_test(dir: &Path) -> Option<Output> {
    run(Command::new("unshare")
        .args(["--mount", "--map-root-user", "sh", "-c"])
        .arg(
            "command -v udevadm >/dev/null || exit 127; \
             mount --bind \"$1\" /etc/udev/rules.d || exit 126; \
             exec udevadm test --resolve-names=never --action=add /sys/class/net/lo",
        )
        .arg("sh")
        .arg(dir))
}

/// udev's own parser reads the rules: `udevadm test` (every udev has it; `udevadm
/// verify` came only with systemd 254, after Debian 12's 252) loads every rules file
/// and reports each line it cannot parse. Our rules go in with a probe rule read after
/// them; any report about our file fails the test, except that group names are not
/// resolved here (the cancuoc group need not exist). The probe's variable on the
/// device shows udev read the rules through to the end and ran them; a misspelt key
/// shows the check bites. Where `udevadm verify` exists it runs too.
#[test]
fn udevadm_parses_the_rules() {
    const TEST: &str = "udevadm_parses_the_rules";
    let probe = "ACTION==\"add\", KERNEL==\"lo\", ENV{CANCUOC_RULES_READ}=\"1\"\n";
    let check = |rules: &[(String, String)]| -> Option<(Vec<String>, String)> {
        let dir = TempDir::new("udev");
        for (name, body) in rules {
            std::fs::write(dir.join(name), body).expect("writes a rules file");
        }
        std::fs::write(dir.join("99-cancuoc-probe.rules"), probe).expect("writes the probe");
        let Some(output) = udevadm_test(&dir.0) else {
            skip(TEST, "unshare is not installed (Debian package util-linux)");
            return None;
        };
        let all = text(&output.stdout) + &text(&output.stderr);
        let reason = match output.status.code() {
            Some(127) => "udevadm is not installed (Debian package udev)".to_owned(),
            Some(126) => format!("no private mount namespace for udevadm test: {all}"),
            _ => String::new(),
        };
        if !reason.is_empty() {
            skip(TEST, &reason);
            return None;
        }
        let ours: Vec<String> = all
            .lines()
            .filter(|l| l.starts_with("/etc/udev/rules.d/") && !l.contains("probe"))
            .filter(|l| !l.contains("Resolving group name is disabled"))
            .map(str::to_owned)
            .collect();
        Some((ours, all))
    };
    let rules: Vec<(String, String)> = rule_files()
        .iter()
        .map(|f| {
            let name = f.file_name().expect("a file name").to_string_lossy();
            (name.into_owned(), read(f))
        })
        .collect();
    let Some((problems, all)) = check(&rules) else {
        return;
    };
    for (name, _) in &rules {
        assert!(
            all.contains(&format!("Reading rules file: /etc/udev/rules.d/{name}")),
            "udevadm test did not read {name}:\n{all}"
        );
    }
    assert!(problems.is_empty(), "udevadm test: {problems:#?}\n{all}");
    assert!(
        all.contains("CANCUOC_RULES_READ=1"),
        "the probe rule after ours did not run:\n{all}"
    );

    // A misspelt key is reported: silence above means something.
    let broken: Vec<(String, String)> = rules
        .iter()
        .map(|(name, body)| (name.clone(), body.replacen("MODE", "MOD", 1)))
        .collect();
    let (problems, all) = check(&broken).expect("udevadm test ran a moment ago");
    assert!(
        problems.iter().any(|l| l.contains("MOD")),
        "udevadm test misses a misspelt key:\n{all}"
    );

    let verify = run(Command::new("udevadm").args(["verify", "--help"]));
    if verify.is_some_and(|help| help.status.success()) {
        let output = run(Command::new("udevadm")
            .args(["verify", "--resolve-names=never"])
            .args(rule_files()))
        .expect("udevadm ran a moment ago");
        assert!(
            output.status.success(),
            "udevadm verify: {}{}",
            text(&output.stdout),
            text(&output.stderr)
        );
    }
}

#[test]
fn module_blacklist_is_well_formed() {
    let path = udev_dir().join("cancuoc-blacklist-nfc.conf");
    let body = read(&path);
    let mut modules = Vec::new();
    for line in body.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        assert!(
            words.len() == 2 && words[0] == "blacklist",
            "{}: {line}",
            path.display()
        );
        modules.push(words[1]);
    }
    assert_eq!(modules, ["pn533_usb", "pn533", "nfc"]);
}

#[test]
fn polkit_rule_grants_pcscd_to_cancuoc_only() {
    let rule = udev_dir().join("polkit/50-cancuoc-pcscd.rules");
    let body = read(&rule);
    // The action ids as pcscd's policy declares them, where pcscd checks polkit.
    let policy = Path::new("/usr/share/polkit-1/actions/org.debian.pcsc-lite.policy");
    if let Ok(policy) = std::fs::read_to_string(policy) {
        for id in [
            "org.debian.pcsc-lite.access_pcsc",
            "org.debian.pcsc-lite.access_card",
        ] {
            assert!(policy.contains(id) && body.contains(id), "{id}");
        }
    }
    // polkitd runs the rule as JavaScript: run it the same way with a stand-in polkit.
    let script = format!(
        r#"const rules = [];
const polkit = {{ Result: {{ YES: "yes", NO: "no" }}, addRule(f) {{ rules.push(f); }} }};
{body}
const ask = (id, user) => {{
  for (const f of rules) {{
    const r = f({{ id, lookup() {{ return undefined; }} }}, {{ user }});
    if (r !== undefined) return r;
  }}
  return "none";
}};
console.log([
  ask("org.debian.pcsc-lite.access_pcsc", "cancuoc"),
  ask("org.debian.pcsc-lite.access_card", "cancuoc"),
  ask("org.debian.pcsc-lite.access_pcsc", "www-data"),
  ask("org.debian.pcsc-lite.access_card", "nobody"),
  ask("org.freedesktop.login1.reboot", "cancuoc"),
].join(" "));"#
    );
    let Some(output) = run(Command::new("node").args(["-e", &script])) else {
        skip(
            "polkit_rule_grants_pcscd_to_cancuoc_only",
            "no JavaScript engine (node) to run the polkit rule",
        );
        return;
    };
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).trim(), "yes yes none none none");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn make_install_files(destdir: &Path, prefix: &str) -> Option<Output> {
    run(Command::new("make")
        .current_dir(repo())
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .arg("--no-print-directory")
        .arg("install-files")
        .arg(format!("DESTDIR={}", destdir.display()))
        .arg(format!("PREFIX={prefix}"))
        .arg(format!("BIN={}", env!("CARGO_BIN_EXE_cancuoc"))))
}

#[test]
fn make_install_lays_out_the_files() {
    let stage = TempDir::new("install");
    let Some(output) = make_install_files(&stage.0, "/usr") else {
        skip("make_install_lays_out_the_files", "make is not installed");
        return;
    };
    assert!(
        output.status.success(),
        "make install-files: {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let installed = [
        ("usr/bin/cancuoc", 0o755),
        ("lib/systemd/system/cancuoc.service", 0o644),
        ("lib/systemd/system/cancuoc.socket", 0o644),
        ("lib/udev/rules.d/60-cancuoc-nfc.rules", 0o644),
        ("etc/modprobe.d/cancuoc-blacklist-nfc.conf", 0o644),
        ("usr/share/polkit-1/rules.d/50-cancuoc-pcscd.rules", 0o644),
        ("usr/lib/sysusers.d/cancuoc.conf", 0o644),
    ];
    for (path, expected) in installed {
        assert_eq!(mode(&stage.join(path)), expected, "{path}");
    }
    let service = read(&stage.join("lib/systemd/system/cancuoc.service"));
    assert!(service.contains(&format!(
        "ExecStart=/usr/bin/cancuoc serve --config {UNIT_CONFIG}"
    )));

    let config = stage.join("etc/cancuoc/cancuoc.toml");
    if udev_dir().join("cancuoc.toml").exists() {
        // A configuration already there is the administrator's: never overwritten.
        std::fs::write(&config, "# edited\n").expect("edits the configuration");
        let output = make_install_files(&stage.0, "/usr").expect("make ran a moment ago");
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert_eq!(read(&config), "# edited\n");
    } else {
        assert!(!config.exists(), "no example configuration to install yet");
    }

    // A staged install creates no user on this machine; systemd-sysusers creates it in
    // the staged root from the installed sysusers file.
    match run(Command::new("systemd-sysusers").arg(format!("--root={}", stage.0.display()))) {
        None => skip(
            "make_install_lays_out_the_files",
            "systemd-sysusers is not installed (Debian package systemd)",
        ),
        Some(output) => {
            assert!(output.status.success(), "{}", text(&output.stderr));
            let passwd = read(&stage.join("etc/passwd"));
            let user = passwd
                .lines()
                .find(|l| l.starts_with("cancuoc:"))
                .unwrap_or_else(|| panic!("no cancuoc user in {passwd}"));
            let fields: Vec<&str> = user.split(':').collect();
            let uid: u32 = fields[2].parse().expect("a numeric uid");
            assert!(uid < 1000, "a system user: {user}");
            assert_eq!(fields[6], "/usr/sbin/nologin", "{user}");
            let group = read(&stage.join("etc/group"));
            assert!(group.lines().any(|l| l.starts_with("cancuoc:")), "{group}");
            let plugdev = group
                .lines()
                .find(|l| l.starts_with("plugdev:"))
                .unwrap_or_else(|| panic!("no plugdev group in {group}"));
            assert!(
                plugdev
                    .rsplit(':')
                    .next()
                    .is_some_and(|m| m.split(',').any(|u| u == "cancuoc")),
                "cancuoc is in plugdev: {plugdev}"
            );
        }
    }

    // With the default PREFIX the unit runs the binary where it went.
    let local = TempDir::new("install-local");
    let output = make_install_files(&local.0, "/usr/local").expect("make ran a moment ago");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(local.join("usr/local/bin/cancuoc").exists());
    let service = read(&local.join("lib/systemd/system/cancuoc.service"));
    assert!(
        service.contains("ExecStart=/usr/local/bin/cancuoc serve"),
        "{service}"
    );
}

/// Kills and reaps the child when a test ends early.
struct Reaped(Option<Child>);

impl Reaped {
    fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("the child is still held")
    }

    /// Waits for the child to exit, up to `limit`; its status and output.
    fn finish(&mut self, limit: Duration) -> (std::process::ExitStatus, String) {
        let mut child = self.0.take().expect("the child is still held");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("waits") {
                break status;
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the child did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut output = String::new();
        if let Some(mut out) = child.stdout.take() {
            let _ = out.read_to_string(&mut output);
        }
        if let Some(mut err) = child.stderr.take() {
            let _ = err.read_to_string(&mut output);
        }
        (status, output)
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts `program args` under `systemd-socket-activate` listening on `socket`, with
/// NOTIFY_SOCKET set to `notify` and the extra environment `env`; `None` when
/// systemd-socket-activate is not installed.
fn socket_activate(
    socket: &Path,
    notify: &Path,
    env: &[(&str, &str)],
    program: &Path,
    args: &[&str],
) -> Option<Reaped> {
    let mut command = Command::new("systemd-socket-activate");
    command.arg(format!("--listen={}", socket.display()));
    command.arg(format!("--setenv=NOTIFY_SOCKET={}", notify.display()));
    for (name, value) in env {
        command.arg(format!("--setenv={name}={value}"));
    }
    command
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match command.spawn() {
        Ok(child) => Some(Reaped(Some(child))),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => panic!("systemd-socket-activate: {e}"),
    }
}

/// Connects to `socket` once something listens there, within 10 s. The first connection
/// is what makes systemd-socket-activate start its program.
fn connect(socket: &Path, child: &mut Reaped) -> UnixStream {
    let started = Instant::now();
    loop {
        if let Ok(stream) = UnixStream::connect(socket) {
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .expect("sets a timeout");
            return stream;
        }
        if let Some(status) = child.child().try_wait().expect("waits") {
            panic!("systemd-socket-activate exited: {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nothing listens on {}",
            socket.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The next message on the notification socket, within 10 s; fails with the child's
/// output as soon as the child exits without one.
fn notification(socket: &UnixDatagram, child: &mut Reaped) -> String {
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("sets a timeout");
    let started = Instant::now();
    let mut buffer = [0u8; 1024];
    loop {
        match socket.recv(&mut buffer) {
            Ok(n) => return text(&buffer[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("notification socket: {e}"),
        }
        if child.child().try_wait().expect("waits").is_some() {
            let (status, output) = child.finish(Duration::ZERO);
            panic!("exited without a notification ({status}):\n{output}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no notification within 10 s"
        );
    }
}

/// Set in the environment of this test binary when it runs as the activated child.
const CHILD_ENV: &str = "CANCUOC_SYSTEMD_CHILD";

/// The activated side of `socket_activation_hands_over_the_listener`: run by that test
/// under systemd-socket-activate, it takes the passed socket with
/// `systemd::listener_from_env`, reports readiness, and answers the first connection
/// with "ok" or what was wrong. Run directly, it does nothing.
#[test]
fn activated_child() {
    let Some(expected) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let listener = systemd::listener_from_env()
        .expect("the passed socket is usable")
        .expect("a socket was passed");
    let mut problems = Vec::new();
    match listener.local_addr() {
        Ok(address) if address.as_pathname() == Some(Path::new(&expected)) => {}
        other => problems.push(format!("listens on {other:?}")),
    }
    match systemd::listener_from_env() {
        Ok(None) => {}
        other => problems.push(format!("second take gave {other:?}")),
    }
    // O_CLOEXEC in the octal flags of /proc/self/fdinfo/3.
    let cloexec = std::fs::read_to_string("/proc/self/fdinfo/3")
        .ok()
        .and_then(|info| {
            let flags = info.lines().find_map(|l| l.strip_prefix("flags:"))?;
            u32::from_str_radix(flags.trim(), 8).ok()
        })
        .map(|flags| flags & 0o2000000 != 0);
    if cloexec != Some(true) {
        problems.push(format!("descriptor 3 close-on-exec: {cloexec:?}"));
    }
    match systemd::notify_ready() {
        Ok(true) => {}
        other => problems.push(format!("notify_ready gave {other:?}")),
    }
    let (mut stream, _) = listener.accept().expect("accepts the waiting client");
    let verdict = if problems.is_empty() {
        "ok".to_string()
    } else {
        problems.join("; ")
    };
    writeln!(stream, "{verdict}").expect("answers");
}

#[test]
fn socket_activation_hands_over_the_listener() {
    let dir = TempDir::new("activate");
    let socket = dir.join("api.sock");
    let notify_path = dir.join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).expect("binds the notification socket");
    let me = std::env::current_exe().expect("the test binary");
    let socket_text = socket.to_string_lossy().into_owned();
    let Some(mut child) = socket_activate(
        &socket,
        &notify_path,
        &[(CHILD_ENV, &socket_text)],
        &me,
        &[
            "--exact",
            "activated_child",
            "--nocapture",
            "--test-threads=1",
        ],
    ) else {
        skip(
            "socket_activation_hands_over_the_listener",
            "systemd-socket-activate is not installed (Debian package systemd)",
        );
        return;
    };
    let stream = connect(&socket, &mut child);
    assert_eq!(notification(&notify, &mut child), "READY=1");
    let mut answer = String::new();
    let read = BufReader::new(&stream).read_line(&mut answer);
    let (status, output) = child.finish(Duration::from_secs(10));
    read.unwrap_or_else(|e| panic!("no answer ({e}); child said:\n{output}"));
    assert_eq!(answer.trim(), "ok", "child said:\n{output}");
    assert!(status.success(), "{status}; child said:\n{output}");
}

#[test]
fn serve_under_socket_activation() {
    let dir = TempDir::new("serve");
    let socket = dir.join("api.sock");
    let notify_path = dir.join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).expect("binds the notification socket");
    let trust = repo().join("fixtures/pki/csca.pem");
    let socket_text = socket.to_string_lossy().into_owned();
    let trust_text = trust.to_string_lossy().into_owned();
    // The configuration names another socket: the activated one must win.
    let config = dir.join("cancuoc.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nsocket = {:?}\n[trust]\nallow_test_anchors = true\n[readers]\npcsc = false\n[[client]]\nname = \"tests\"\nusers = [{}]\nfields = [\"all\"]\n",
            dir.join("elsewhere.sock"),
            nix::unistd::getuid()
        ),
    )
    .unwrap();
    let config_text = config.to_string_lossy().into_owned();
    let Some(mut child) = socket_activate(
        &socket,
        &notify_path,
        &[("CANCUOC_LOG", "info")],
        Path::new(env!("CARGO_BIN_EXE_cancuoc")),
        &["serve", "--config", &config_text, "--trust", &trust_text],
    ) else {
        skip(
            "serve_under_socket_activation",
            "systemd-socket-activate is not installed (Debian package systemd)",
        );
        return;
    };
    let mut stream = connect(&socket, &mut child);
    stream
        .write_all(b"{\"id\":1,\"cmd\":\"info\"}\n")
        .expect("sends info");
    assert_eq!(notification(&notify, &mut child), "READY=1");
    let mut answer = String::new();
    let read = BufReader::new(&stream).read_line(&mut answer);
    let pid = child.child().id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let (status, output) = child.finish(Duration::from_secs(10));
    read.unwrap_or_else(|e| panic!("no answer ({e}); serve said:\n{output}"));
    let answer: serde_json::Value = serde_json::from_str(&answer)
        .unwrap_or_else(|e| panic!("{e}: {answer}; serve said:\n{output}"));
    assert_eq!(answer["id"], 1, "{answer}");
    assert!(answer.get("api_level").is_some(), "{answer}");
    assert!(status.success(), "{status}; serve said:\n{output}");
    assert!(
        !dir.join("elsewhere.sock").exists(),
        "the configured socket was not created"
    );
    let _ = socket_text;
}
