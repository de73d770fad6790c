//! `cancuoc assets DIR` (hidden): the manual pages and shell completions, made
//! from the command line's own definitions so they never drift from it. The Debian
//! package is built with them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::cli::exit::Exit;

/// Options of `cancuoc assets`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The folder to write `man/*.1` and `completions/{cancuoc.bash,_cancuoc,cancuoc.fish}`
    /// into.
    pub dir: PathBuf,
}

fn write_pages(cmd: &clap::Command, prefix: &str, dir: &Path) -> std::io::Result<()> {
    let name = if prefix.is_empty() {
        cmd.get_name().to_owned()
    } else {
        format!("{prefix}-{}", cmd.get_name())
    };
    // A one-shot generator: the few page names may live until exit.
    let page = cmd.clone().name(&*Box::leak(name.clone().into_boxed_str()));
    let mut out = Vec::new();
    clap_mangen::Man::new(page).render(&mut out)?;
    std::fs::write(dir.join(format!("{name}.1")), out)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, &name, dir)?;
    }
    Ok(())
}

fn generate(dir: &Path) -> std::io::Result<()> {
    let mut cmd = Cli::command();
    cmd.build();
    let man = dir.join("man");
    std::fs::create_dir_all(&man)?;
    write_pages(&cmd, "", &man)?;
    let completions = dir.join("completions");
    std::fs::create_dir_all(&completions)?;
    use clap_complete::Shell;
    for (shell, file) in [
        (Shell::Bash, "cancuoc.bash"),
        (Shell::Zsh, "_cancuoc"),
        (Shell::Fish, "cancuoc.fish"),
    ] {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "cancuoc", &mut out);
        std::fs::write(completions.join(file), out)?;
    }
    Ok(())
}

/// Runs `cancuoc assets`.
pub fn run(args: &Args) -> ExitCode {
    match generate(&args.dir) {
        Ok(()) => Exit::Ok.into(),
        Err(e) => {
            eprintln!("cancuoc assets: {}: {e}", args.dir.display());
            Exit::Internal.into()
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_subcommand_has_a_page_and_the_shells_complete_it() {
        let dir = std::env::temp_dir().join(format!("cancuoc-assets-{}", std::process::id()));
        super::generate(&dir).unwrap();
        for page in [
            "cancuoc.1",
            "cancuoc-read.1",
            "cancuoc-serve.1",
            "cancuoc-trust-inspect.1",
        ] {
            let text = std::fs::read_to_string(dir.join("man").join(page)).unwrap();
            assert!(text.starts_with(".ie"), "{page}");
        }
        assert!(!dir.join("man/cancuoc-generate-assets.1").exists());
        let bash = std::fs::read_to_string(dir.join("completions/cancuoc.bash")).unwrap();
        assert!(bash.contains("--access-file"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
