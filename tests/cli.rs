//! The command line: help, and writing a demo workspace.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

use std::process::Command;

fn cli() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_campaign-console"));
    // Keep logs of the test runs out of the user's data folder.
    let home = std::env::temp_dir().join("campaign-console-cli-test-home");
    c.env("HOME", &home).env("XDG_DATA_HOME", home.join("data")).env("CAMPAIGN_CONSOLE_LOG", "warn");
    c
}

#[test]
fn help_documents_every_subcommand() {
    let out = cli().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for word in ["demo", "campaigns", "data", "--workspace", "--ephemeral-secrets", "--version"] {
        assert!(text.contains(word), "--help does not mention {word}:\n{text}");
    }
    let out = cli().args(["demo", "--help"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("--profiles") && text.contains("--replace"), "{text}");
}

#[test]
fn version_is_printed() {
    let out = cli().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout).unwrap().contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn campaigns_are_exported_and_imported_and_a_mistyped_command_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let file = dir.path().join("summer.campaign.json");
    let run = |args: &[&str]| {
        let out = cli().args(args).arg("--ephemeral-secrets").arg("--workspace").arg(&ws).output().unwrap();
        let (stdout, stderr) = (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap());
        (out.status.success(), stdout, stderr)
    };
    assert!(run(&["demo", "--profiles", "50"]).0);
    let (ok, text, err) = run(&["export", "Summer getaway", &file.display().to_string()]);
    assert!(ok && text.contains("Exported \u{201c}Summer getaway\u{201d}"), "{text}{err}");
    let (ok, text, err) = run(&["import", &file.display().to_string()]);
    assert!(ok && text.contains("Imported \u{201c}Summer getaway (imported)\u{201d}"), "{text}{err}");
    assert!(run(&["campaigns"]).1.contains("Summer getaway (imported)"));
    let (ok, _, err) = run(&["import", "/no/such.campaign.json"]);
    assert!(!ok && err.contains("could not be read"), "{err}");
    // A word that is no command is not taken for a file to open.
    let (ok, _, err) = run(&["cmapaigns"]);
    assert!(!ok && err.contains("is not a command, nor a campaign file"), "{err}");
    let (ok, _, err) = run(&[&file.display().to_string(), "campaigns"]);
    assert!(!ok && err.contains("is opened by the window"), "{err}");
}

#[test]
fn demo_writes_a_workspace_and_refuses_to_overwrite_it() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let out = cli().args(["demo", "--profiles", "1000", "--workspace"]).arg(&ws).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8(out.stdout).unwrap().contains("1000 profiles"));

    let conn = rusqlite::Connection::open(ws.join("workspace.sqlite")).unwrap();
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM profiles", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1000);
    drop(conn);

    let again = cli().args(["demo", "--profiles", "10", "--workspace"]).arg(&ws).output().unwrap();
    assert!(!again.status.success());
    let err = String::from_utf8(again.stderr).unwrap();
    assert!(err.contains("already holds data") && err.contains("--replace"), "{err}");

    let listed = cli().args(["campaigns", "--workspace"]).arg(&ws).output().unwrap();
    let text = String::from_utf8(listed.stdout).unwrap();
    assert!(text.contains("Summer getaway") && text.contains("Password reset"), "{text}");

    let bad = cli().args(["demo", "--profiles", "0", "--workspace"]).arg(dir.path().join("other")).output().unwrap();
    assert!(!bad.status.success());
}

#[test]
fn count_save_audiences_and_preview_the_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let run = |args: &[&str]| {
        let out = cli().args(args).arg("--workspace").arg(&ws).output().unwrap();
        let (stdout, stderr) = (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap());
        (out.status.success(), stdout, stderr)
    };
    assert!(run(&["demo", "--profiles", "500"]).0);

    let (ok, text, err) = run(&["audiences"]);
    assert!(ok && text.contains("No saved audience yet"), "{text}{err}");

    // A count saves nothing; --save-audiences writes the canvas's Save audience activity.
    let (ok, text, err) = run(&["count", "Summer getaway", "--json"]);
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rest = report["transitions"].as_array().unwrap().iter().find(|t| t["id"] == "t_rest_saved").unwrap()["count"]
        .as_u64()
        .unwrap();
    assert!(rest > 0);
    assert_eq!(report["saved_audiences"], serde_json::json!([]));
    assert!(run(&["audiences"]).1.contains("No saved audience yet"));

    let (ok, text, err) = run(&["count", "Summer getaway", "--save-audiences"]);
    assert!(
        ok && text.contains(&format!("saved audience \u{201c}Summer: not targeted\u{201d}: {rest} profiles")),
        "{text}{err}"
    );
    let (_, text, _) = run(&["audiences"]);
    assert!(text.contains("Summer: not targeted") && text.contains(&rest.to_string()), "{text}");

    // The Scheduler's next launches: Mondays at 09:00.
    let (ok, text, err) = run(&["schedule", "Summer getaway", "--next", "3"]);
    assert!(ok, "{err}");
    let launches: Vec<&str> = text.lines().filter(|l| l.starts_with("  ")).collect();
    assert_eq!(launches.len(), 3, "{text}");
    assert!(launches.iter().all(|l| l.trim().starts_with("Mon ") && l.contains(" 09:00 ")), "{text}");
    let (ok, _, err) = run(&["schedule", "Summer reminder"]);
    assert!(!ok && err.contains("has no canvas") && err.contains("Only orchestrated campaigns have a canvas"), "{err}");

    let (ok, _, _) = run(&["audiences", "--delete", "summer: NOT targeted"]);
    assert!(ok);
    let (ok, _, err) = run(&["audiences", "--delete", "Summer: not targeted"]);
    assert!(!ok && err.contains("no saved audience called"), "{err}");
}

mod support;
use support::smtp_sink;

fn run_ok(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A password stored by one `campaign-console` process is used by the next one: commands use
/// the same secret store as the window (on CI, a real Secret Service: GNOME Keyring under
/// dbus-run-session, started by `.ci/run`).
#[test]
fn a_secret_stored_by_one_command_is_used_by_the_next() {
    let status = run_ok(cli().arg("keychain"));
    if status.contains("memory") {
        assert!(std::env::var_os("CI").is_none(), "CI must provide a keychain that outlives a process:\n{status}");
        eprintln!("skipped: no keychain on this machine keeps a secret past one process:\n{status}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    run_ok(cli().args(["demo", "--profiles", "100", "--workspace"]).arg(&ws));
    let password = format!("pw-{}", std::process::id());
    let sink = smtp_sink::SmtpSink::start("bob", &password);
    let port = sink.port.to_string();
    let add = [
        "email",
        "add",
        "smtp",
        "--name",
        "Relay",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--tls",
        "none",
        "--username",
        "bob",
        "--from",
        "news@example.com",
    ];
    let added = run_ok(cli().args(add).arg("--workspace").arg(&ws).env("SMTP_PASSWORD", &password));
    assert!(added.contains("Relay"), "{added}");
    // Another process signs in with the password the first one stored.
    let verified = run_ok(cli().args(["email", "verify", "Relay", "--workspace"]).arg(&ws));
    assert!(verified.starts_with("Verified"), "{verified}");
    let file = std::fs::read(ws.join("workspace.sqlite")).unwrap();
    assert!(!file.windows(password.len()).any(|w| w == password.as_bytes()), "the password is in the workspace");
}

/// Where a secret would be lost when the command ends, storing one is refused and nothing is
/// added.
#[test]
fn a_secret_that_cannot_be_kept_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    run_ok(cli().args(["demo", "--profiles", "100", "--workspace"]).arg(&ws));
    let out = cli()
        .args(["--ephemeral-secrets", "email", "add", "smtp", "--name", "Lost", "--host", "127.0.0.1"])
        .args(["--tls", "none", "--username", "bob", "--from", "a@example.com", "--workspace"])
        .arg(&ws)
        .env("SMTP_PASSWORD", "secret")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("could not be kept") && err.contains("nothing was added"), "{err}");
    let conn = rusqlite::Connection::open(ws.join("workspace.sqlite")).unwrap();
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM cc_credentials WHERE name = 'Lost'", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0);
}

/// On a server without a keychain, a credential's secret can come from the deployment, read
/// at each use and never stored: an environment variable, or a file in systemd's
/// $CREDENTIALS_DIRECTORY.
#[test]
fn a_server_gives_secrets_in_its_environment_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    run_ok(cli().args(["demo", "--profiles", "100", "--workspace"]).arg(&ws));
    let password = format!("deployed-{}", std::process::id());
    let sink = smtp_sink::SmtpSink::start("bob", &password);
    let port = sink.port.to_string();
    let variable = "CAMPAIGN_CONSOLE_SECRET_ENV_RELAY";
    let added = run_ok(
        cli()
            .args(["--ephemeral-secrets", "email", "add", "smtp", "--name", "Env relay", "--host", "127.0.0.1"])
            .args(["--port", &port, "--tls", "none", "--username", "bob", "--from", "news@example.com", "--workspace"])
            .arg(&ws)
            .env(variable, &password),
    );
    assert!(added.contains(variable) && added.contains("nothing stored"), "{added}");
    let verified = run_ok(
        cli()
            .args(["--ephemeral-secrets", "email", "verify", "Env relay", "--workspace"])
            .arg(&ws)
            .env(variable, &password),
    );
    assert!(verified.starts_with("Verified") && verified.contains("signed in as bob"), "{verified}");
    // The same from a systemd credentials folder.
    let creds = dir.path().join("credentials");
    std::fs::create_dir_all(&creds).unwrap();
    std::fs::write(creds.join(variable), format!("{password}\n")).unwrap();
    let verified = run_ok(
        cli()
            .args(["--ephemeral-secrets", "email", "verify", "Env relay", "--workspace"])
            .arg(&ws)
            .env("CREDENTIALS_DIRECTORY", &creds),
    );
    assert!(verified.starts_with("Verified"), "{verified}");
    let file = std::fs::read(ws.join("workspace.sqlite")).unwrap();
    assert!(!file.windows(password.len()).any(|w| w == password.as_bytes()), "the password is in the workspace");
}

/// Bad input gets one plain sentence, and a reader that goes away early is no error.
#[test]
fn bad_input_is_said_plainly_and_a_closed_pipe_is_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    run_ok(cli().args(["demo", "--profiles", "100", "--workspace"]).arg(&ws));

    // A mistyped workspace is not created as an empty one.
    let typo = dir.path().join("wss");
    let out = cli().args(["campaigns", "--workspace"]).arg(&typo).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("there is no workspace at"), "{err}");
    assert!(!typo.exists(), "a mistyped --workspace created a folder");

    // A negative number, and a file where a folder should be.
    let out = cli().args(["demo", "--profiles", "-5", "--workspace"]).arg(dir.path().join("n")).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("a whole number from 1"), "{err}");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let out = cli().args(["campaigns", "--workspace"]).arg(&file).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is a file, not a folder") && err.matches("File exists").count() == 0, "{err}");

    // `sql … | head`: the reader closes its end before the command writes.
    let mut child = cli()
        .args(["sql", "Summer getaway", "--workspace"])
        .arg(&ws)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

/// `sms configuration set` adds, then changes only what it is given; bad input is refused
/// with every reason and writes nothing.
#[test]
fn sms_configurations_are_set_from_the_command_line_and_bad_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    run_ok(cli().args(["demo", "--profiles", "50", "--workspace"]).arg(&ws));
    let sms = |args: &[&str]| {
        let mut c = cli();
        c.arg("sms").args(args).arg("--workspace").arg(&ws);
        c.output().unwrap()
    };
    let out = sms(&["configuration", "set", "France", "--sender", "+33757000000"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("a new configuration needs --credential"));
    let out =
        sms(&["configuration", "set", "France", "--credential", "sandbox", "--sender", "0612", "--opt-in", "stop"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("\u{201c}0612\u{201d} is not a phone number") && err.contains("is in two lists"), "{err}");
    let out = sms(&[
        "configuration",
        "set",
        "France",
        "--credential",
        "Sandbox",
        "--sender",
        "+33757000000",
        "--opt-out",
        "stop, arret",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = sms(&["configuration", "set", "france", "--shorten-links"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed = String::from_utf8(sms(&["list"]).stdout).unwrap();
    let line = listed.lines().find(|l| l.starts_with("France")).unwrap_or_else(|| panic!("{listed}"));
    assert!(line.contains("+33757000000") && line.contains("short") && line.ends_with("STOP,ARRET"), "{line}");
    assert!(listed.contains("Sandbox SMS"), "the demo's: {listed}");
    let out = sms(&["configuration", "remove", "nope"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no SMS configuration called"));
    assert!(sms(&["configuration", "remove", "FRANCE"]).status.success());
    assert!(!String::from_utf8(sms(&["list"]).stdout).unwrap().contains("France"));
}

#[test]
fn visitors_are_searched_and_exported_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let at = |args: &[&str]| {
        let mut c = cli();
        c.args(args).arg("--workspace").arg(&ws);
        c
    };
    run_ok(&mut at(&["demo", "--profiles", "100", "--visitors", "300"]));
    let none = at(&["visitors", "search", "ali"]).output().unwrap();
    assert!(String::from_utf8_lossy(&none.stderr).contains("no visitors yet: `campaign-console x sync`"));
    run_ok(&mut at(&["x", "sync"]));
    // alice_0, alice_13… and every "Alice …" full name, in any case, by id.
    let found = run_ok(&mut at(&["visitors", "search", "ALI", "--limit", "2"]));
    assert!(found.contains("alice_0") && found.contains("2 of "), "{found}");
    let bad = at(&["visitors", "search", "a", "--limit", "0"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("0 is not in 1..=100000"));
    let file = dir.path().join("visitors.csv");
    let said = run_ok(at(&["visitors", "export"]).arg(&file));
    assert!(said.contains("300 visitors written"), "{said}");
    let csv = std::fs::read_to_string(&file).unwrap();
    assert_eq!(csv.lines().count(), 301);
    assert!(csv.starts_with("id,visitor_key,origin,external_id,username,full_name"), "{csv}");
    // A folder named in any case, as `visitors count` takes it; an unknown one refused.
    let said = run_ok(at(&["visitors", "export", "--folder", "visitors"]).arg(&file));
    assert!(said.contains("300 visitors written"), "{said}");
    let unknown = at(&["visitors", "export", "--folder", "Nope"]).arg(&file).output().unwrap();
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no visitor folder called \u{201c}Nope\u{201d}"));
    let nowhere = at(&["visitors", "export"]).arg(dir.path().join("no/such/folder/v.csv")).output().unwrap();
    assert!(!nowhere.status.success());
    assert!(String::from_utf8_lossy(&nowhere.stderr).contains("does not exist"));
}

#[test]
fn the_clock_can_be_set_and_a_bad_time_is_refused_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    run_ok(cli().args(["demo", "--profiles", "100", "--workspace"]).arg(&ws));
    run_ok(
        cli().args(["--clock", "2030-01-02T03:04:00Z", "apikey", "create", "--name", "Later", "--workspace"]).arg(&ws),
    );
    let listed = run_ok(cli().args(["apikey", "list", "--workspace"]).arg(&ws));
    assert!(listed.contains("created 2030-01-02T03:04:"), "{listed}");
    let bad = cli().args(["--clock", "next tuesday", "campaigns", "--workspace"]).arg(&ws).output().unwrap();
    assert!(!bad.status.success());
    let said = String::from_utf8(bad.stderr).unwrap();
    assert!(said.contains("is not a date and time") && said.contains("2026-01-01T09:00:00Z"), "{said}");
}
