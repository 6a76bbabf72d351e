//! `pyractl doctor`, `pyractl security audit` and `pyractl plugin trust`: what
//! is unsafe in the install and how to fix it, and accepting a changed plugin.

use proto::ipc::{
    AuditParams, DaemonDoctor, Empty, Finding, PluginName, PluginTrustParams, PluginsChanges, PluginsTrust,
    SecurityAudit,
};

use crate::client::{Client, ClientError};
use crate::paths::Paths;

/// Prints every finding with its fix; `Ok(false)` when there was one. Works
/// without pyrad too (it says so, and checks what a client can).
pub fn doctor(paths: &Paths, json: bool) -> anyhow::Result<bool> {
    let mut findings = Vec::new();
    let mut checked = Vec::new();
    match Client::connect(&paths.socket) {
        Ok(mut client) => {
            client.set_patient(true)?;
            let report = client.call::<DaemonDoctor>(&Empty)?;
            findings.extend(report.findings);
            checked.extend(report.checked);
        }
        Err(ClientError::NotRunning { .. }) => findings.push(Finding {
            check: "daemon".into(),
            severity: "high".into(),
            what: format!("pyrad is not running for {}: only the client's checks ran", paths.home.display()),
            fix: "`pyractl daemon start`, then run `pyractl doctor` again".into(),
        }),
        Err(e) => return Err(e.into()),
    }
    checked.push("the installed service unit matches this pyrad".into());
    findings.extend(service_unit(paths));
    if json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "findings": findings, "checked": checked }))?);
        return Ok(findings.is_empty());
    }
    if findings.is_empty() {
        println!("No findings. Checked:");
        for c in &checked {
            println!("  - {c}");
        }
        return Ok(true);
    }
    let order = |s: &str| match s {
        "high" => 0,
        "medium" => 1,
        _ => 2,
    };
    findings.sort_by_key(|f| order(&f.severity));
    println!("{} finding{}:\n", findings.len(), if findings.len() == 1 { "" } else { "s" });
    for f in &findings {
        println!("[{}] {}", f.severity, f.what);
        println!("    fix: {}\n", f.fix);
    }
    Ok(false)
}

/// The installed service file, if any, against what this pyra would write now:
/// a unit that starts another (or a missing) pyrad, or an older template.
fn service_unit(paths: &Paths) -> Option<Finding> {
    use crate::cli::Target;
    let target = Target::native();
    let installed = crate::service::installed(target)?;
    let text = std::fs::read_to_string(&installed).ok()?;
    let pyrad = std::env::current_exe()
        .ok()
        .and_then(|me| me.parent().map(|d| d.join("pyrad")))
        .and_then(|p| std::fs::canonicalize(p).ok());
    let Some(pyrad) = pyrad else {
        return Some(Finding {
            check: "service-unit".into(),
            severity: "medium".into(),
            what: format!(
                "{} is installed, but there is no pyrad beside this pyractl to compare it with",
                installed.display()
            ),
            fix: "install pyrad and pyractl into the same folder".into(),
        });
    };
    let wanted = crate::service::render(target, &pyrad, &paths.home).ok()?;
    (wanted != text).then(|| Finding {
        check: "service-unit".into(),
        severity: "medium".into(),
        what: format!(
            "{} does not match this pyrad ({}): it starts another binary or is from an older version",
            installed.display(),
            pyrad.display()
        ),
        fix: "`pyractl daemon install` writes it again".into(),
    })
}

/// Writes the audit report and says where.
pub fn audit(paths: &Paths, ai: bool) -> anyhow::Result<()> {
    let mut client = Client::connect(&paths.socket)?;
    // A model's summary can take longer than the usual reply wait.
    client.set_patient(ai)?;
    let report = client.call::<SecurityAudit>(&AuditParams { ai })?;
    println!("wrote {} ({} findings)", report.path, report.findings);
    if ai && !report.summarized {
        println!("no model summary: the provider could not be asked (the report says why)");
    }
    Ok(())
}

/// Shows what changed in a plugin's files, asks, and accepts exactly that.
pub fn trust(paths: &Paths, name: &str, yes: bool) -> anyhow::Result<()> {
    let mut client = Client::connect(&paths.socket)?;
    let seen = client.call::<PluginsChanges>(&PluginName { name: name.to_owned() })?;
    if seen.changes.is_empty() {
        println!("{name}'s files are as you accepted them; nothing to trust");
        return Ok(());
    }
    println!(
        "{name}: {} file{} changed since you accepted it:",
        seen.changes.len(),
        if seen.changes.len() == 1 { "" } else { "s" }
    );
    let short =
        |h: &Option<String>| h.as_deref().map(|h| h.chars().take(12).collect::<String>()).unwrap_or_else(|| "-".into());
    for c in &seen.changes {
        println!("  {:<8} {:<40} {} -> {}", c.change, c.path, short(&c.was), short(&c.now));
    }
    if let Some(signer) = &seen.signer {
        println!("It was signed by {signer}; once you accept the changes, you vouch for it, not {signer}.");
    }
    if !yes && !crate::commands::confirm(&format!("Accept these files and start {name}?"), "to accept these files")? {
        println!("not trusted; {name} stays stopped");
        return Ok(());
    }
    client.call::<PluginsTrust>(&PluginTrustParams { name: name.to_owned(), digest: seen.digest })?;
    println!("trusted {name} as it is now; `pyractl plugin list` shows it starting");
    Ok(())
}
