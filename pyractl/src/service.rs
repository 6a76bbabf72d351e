//! Service files: the systemd user unit (from `service-files/pyrad.service`) and
//! the launchd agent plist (built with the `launchd` crate), where they live, and
//! installing and removing them.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::cli::Target;

/// The unit template; `@PYRAD@` and `@PYRA_HOME@` are filled in.
pub const UNIT_TEMPLATE: &str = include_str!("../../service-files/pyrad.service");
pub const UNIT_NAME: &str = "pyrad.service";
pub const LAUNCHD_LABEL: &str = "dev.pyra.pyrad";

/// The systemd unit for `pyrad` serving `home`.
pub fn systemd_unit(pyrad: &Path, home: &Path) -> anyhow::Result<String> {
    let pyrad = quoted_value(pyrad)?;
    let home = quoted_value(home)?;
    // ExecStart also expands $VARIABLES.
    Ok(UNIT_TEMPLATE.replace("@PYRAD@", &pyrad.replace('$', "$$")).replace("@PYRA_HOME@", &home))
}

/// Escapes a path for use inside double quotes in a unit file.
fn quoted_value(path: &Path) -> anyhow::Result<String> {
    let text = path.to_str().with_context(|| format!("{} is not valid UTF-8", path.display()))?;
    if text.contains(['\n', '\r']) {
        bail!("{text:?} contains a line break");
    }
    Ok(text.replace('\\', "\\\\").replace('"', "\\\"").replace('%', "%%"))
}

/// The launchd agent plist for `pyrad` serving `home`, as XML.
pub fn launchd_plist(pyrad: &Path, home: &Path) -> anyhow::Result<String> {
    use launchd::{KeepAliveOptions, KeepAliveType, Launchd};
    let home_str = home.to_str().with_context(|| format!("{} is not valid UTF-8", home.display()))?;
    let pyrad_str = pyrad.to_str().with_context(|| format!("{} is not valid UTF-8", pyrad.display()))?;
    // launchd has no journal: the stderr file it keeps is never capped or rotated,
    // so pyrad logs only to its own capped logs/pyrad.log there; launchd.err.log
    // gets fatal start-up errors alone, and pyrad caps it at each start.
    let env = std::collections::HashMap::from([
        ("PYRA_HOME".to_owned(), home_str.to_owned()),
        ("PYRA_STDERR_LOG".to_owned(), "0".to_owned()),
    ]);
    let plist = Launchd::new(LAUNCHD_LABEL, pyrad)?
        .with_program_arguments(vec![pyrad_str.to_owned()])
        .with_environment_variables(env)
        .with_run_at_load(true)
        // Restart after a crash, not after a clean `pyractl daemon stop`.
        .with_keep_alive(KeepAliveType::Options(KeepAliveOptions::new().with_successful_exit(false)))
        .with_throttle_interval(5)
        .with_umask(0o077)
        .with_standard_out_path(home.join("logs").join("launchd.out.log"))?
        .with_standard_error_path(home.join("logs").join("launchd.err.log"))?;
    let mut out = Vec::new();
    plist.to_writer_xml(&mut out)?;
    Ok(String::from_utf8(out)?)
}

/// Where the service file for `target` is installed.
pub fn service_file(target: Target) -> anyhow::Result<PathBuf> {
    let home = || std::env::var_os("HOME").map(PathBuf::from).context("HOME is not set");
    Ok(match target {
        Target::Systemd => {
            let config = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
                Some(dir) => PathBuf::from(dir),
                None => home()?.join(".config"),
            };
            config.join("systemd").join("user").join(UNIT_NAME)
        }
        Target::Launchd => home()?.join("Library").join("LaunchAgents").join(format!("{LAUNCHD_LABEL}.plist")),
    })
}

/// The installed service file, if there is one.
pub fn installed(target: Target) -> Option<PathBuf> {
    service_file(target).ok().filter(|p| p.exists())
}

/// The service file's text for `target`.
pub fn render(target: Target, pyrad: &Path, home: &Path) -> anyhow::Result<String> {
    match target {
        Target::Systemd => systemd_unit(pyrad, home),
        Target::Launchd => launchd_plist(pyrad, home),
    }
}

/// Writes the service file and, unless `enable` is false, enables and starts it.
pub fn install(target: Target, pyrad: &Path, home: &Path, enable: bool) -> anyhow::Result<()> {
    let text = render(target, pyrad, home)?;
    let path = service_file(target)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("while creating {}", dir.display()))?;
    }
    std::fs::write(&path, text).with_context(|| format!("while writing {}", path.display()))?;
    println!("wrote {}", path.display());
    if !enable {
        return Ok(());
    }
    let steps: Vec<Vec<String>> = match target {
        Target::Systemd => vec![
            vec!["systemctl".into(), "--user".into(), "daemon-reload".into()],
            vec!["systemctl".into(), "--user".into(), "enable".into(), "--now".into(), UNIT_NAME.into()],
        ],
        Target::Launchd => {
            vec![vec!["launchctl".into(), "bootstrap".into(), gui_domain(), path.display().to_string()]]
        }
    };
    for step in steps {
        run(&step).with_context(|| {
            format!("the service file is written, but enabling it failed; run `{}` yourself", step.join(" "))
        })?;
    }
    println!("enabled and started {}", if target == Target::Systemd { UNIT_NAME } else { LAUNCHD_LABEL });
    Ok(())
}

/// Disables the service and removes its file.
pub fn uninstall(target: Target) -> anyhow::Result<()> {
    let path = service_file(target)?;
    if !path.exists() {
        println!("no service file at {}; nothing to uninstall", path.display());
        return Ok(());
    }
    let step: Vec<String> = match target {
        Target::Systemd => {
            vec!["systemctl".into(), "--user".into(), "disable".into(), "--now".into(), UNIT_NAME.into()]
        }
        Target::Launchd => vec!["launchctl".into(), "bootout".into(), format!("{}/{LAUNCHD_LABEL}", gui_domain())],
    };
    if let Err(e) = run(&step) {
        eprintln!("warning: {e:#}; removing the file anyway");
    }
    std::fs::remove_file(&path).with_context(|| format!("while removing {}", path.display()))?;
    if target == Target::Systemd {
        let _ = run(&["systemctl".into(), "--user".into(), "daemon-reload".into()]);
    }
    println!("removed {}", path.display());
    Ok(())
}

fn gui_domain() -> String {
    // SAFETY: getuid has no preconditions and cannot fail.
    format!("gui/{}", unsafe { libc::getuid() })
}

fn run(argv: &[String]) -> anyhow::Result<()> {
    let (program, args) = argv.split_first().context("empty command")?;
    let output = Command::new(program).args(args).output().with_context(|| format!("cannot run {program}"))?;
    if !output.status.success() {
        bail!("`{}` failed: {}", argv.join(" "), String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_has_absolute_paths_and_no_placeholders() {
        let unit = systemd_unit(Path::new("/opt/pyra/bin/pyrad"), Path::new("/home/ada/.pyra")).unwrap();
        assert!(!unit.contains('@'), "{unit}");
        assert!(unit.contains("ExecStart=\"/opt/pyra/bin/pyrad\""));
        assert!(unit.contains("Environment=\"PYRA_HOME=/home/ada/.pyra\""));
        // Plugins write in the folders the user grants: the home must not be read-only.
        assert!(!unit.contains("ProtectSystem=strict") && !unit.contains("ProtectHome"), "{unit}");
        for key in [
            "Type=notify",
            "WatchdogSec=",
            "Restart=on-failure",
            "NoNewPrivileges=yes",
            "ProtectSystem=full",
            "ExecReload=/bin/kill -HUP $MAINPID",
        ] {
            assert!(unit.contains(key), "{key} missing");
        }
        assert!(unit.contains("PrivateTmp=yes") && unit.contains("MemoryMax="));
    }

    #[test]
    fn unit_values_are_escaped() {
        let unit = systemd_unit(Path::new("/x/100%/$HOME/pyrad"), Path::new("/h/a \"b\"")).unwrap();
        assert!(unit.contains("ExecStart=\"/x/100%%/$$HOME/pyrad\""), "{unit}");
        assert!(unit.contains("PYRA_HOME=/h/a \\\"b\\\"\""), "{unit}");
        assert!(systemd_unit(Path::new("/x\n[Service]"), Path::new("/h")).is_err());
    }

    #[test]
    fn the_plist_parses_back_with_every_key() {
        let xml = launchd_plist(Path::new("/opt/pyra/bin/pyrad"), Path::new("/Users/ada/.pyra")).unwrap();
        let value = plist::Value::from_reader_xml(xml.as_bytes()).unwrap();
        let dict = value.as_dictionary().unwrap();
        assert_eq!(dict.get("Label").and_then(|v| v.as_string()), Some(LAUNCHD_LABEL));
        assert_eq!(dict.get("Program").and_then(|v| v.as_string()), Some("/opt/pyra/bin/pyrad"));
        assert_eq!(dict.get("RunAtLoad").and_then(|v| v.as_boolean()), Some(true));
        let keep_alive = dict.get("KeepAlive").and_then(|v| v.as_dictionary()).unwrap();
        assert_eq!(keep_alive.get("SuccessfulExit").and_then(|v| v.as_boolean()), Some(false));
        assert_eq!(
            dict.get("StandardErrorPath").and_then(|v| v.as_string()),
            Some("/Users/ada/.pyra/logs/launchd.err.log")
        );
        let env = dict.get("EnvironmentVariables").and_then(|v| v.as_dictionary()).unwrap();
        assert_eq!(env.get("PYRA_HOME").and_then(|v| v.as_string()), Some("/Users/ada/.pyra"));
        assert_eq!(env.get("PYRA_STDERR_LOG").and_then(|v| v.as_string()), Some("0"), "no uncapped copy of the log");
        launchd::Launchd::from_bytes(xml.as_bytes()).unwrap();
    }
}
