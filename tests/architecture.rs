//! The layer rule of DESIGN.md, checked on the source: data flows one way (UI/CLI → Console →
//! engine / store / delivery → providers), and each layer names only what is below it. A `use`
//! or a path that crosses the rule fails this test with the file, the line and the rule.
//!
//! Also: no SQL in `console/`, and the Console's capability files (one `impl Console` per
//! capability) call only the core beside them, never each other.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What files under a folder of `src/` must not name, and why.
struct Rule {
    /// The folder (or file) under `src/` the rule is about.
    layer: &'static str,
    /// Files of the layer the rule leaves out (the one place that may), relative to `src/`.
    except: &'static [&'static str],
    forbidden: &'static [&'static str],
    why: &'static str,
}

const RULES: &[Rule] = &[
    Rule {
        layer: "ui",
        except: &[],
        forbidden: &["crate::store", "crate::channels", "crate::delivery", "rusqlite", "reqwest", "tokio::spawn"],
        why: "the UI talks to the Console only: no SQL, no provider, no delivery, no task of its own",
    },
    Rule {
        layer: "model",
        except: &[],
        forbidden: &[
            "crate::store",
            "crate::console",
            "crate::ui",
            "crate::audience",
            "crate::channels",
            "crate::delivery",
            "crate::secrets",
            "crate::demo",
            "crate::personalize",
            "crate::schedule",
            "rusqlite",
            "reqwest",
            "tokio",
            "std::fs",
        ],
        why: "the model is plain domain types: it names nothing above it and does no I/O",
    },
    Rule {
        layer: "store",
        except: &[],
        forbidden: &["crate::console", "crate::ui", "crate::channels", "crate::delivery"],
        why: "the store is below the Console and the providers",
    },
    Rule {
        layer: "channels",
        except: &[],
        forbidden: &["crate::store", "crate::console", "crate::ui", "crate::delivery", "crate::audience"],
        why: "a provider sends what it is given: it reads no workspace and knows no caller",
    },
    Rule {
        layer: "audience",
        // The work-table runner owns its writes of saved audiences and control groups.
        except: &["audience/run.rs"],
        forbidden: &["crate::store", "crate::console", "crate::ui", "crate::channels", "crate::delivery"],
        why: "the audience engine is pure (validation and compilation): only its runner touches the workspace",
    },
    Rule {
        layer: "audience/compile",
        except: &[],
        forbidden: &["std::fs", "Path::new", "crate::clock", "read_header(", "fingerprint(", "Timestamp::now"],
        why: "the compiler is pure: the files it reconciles and the time come from its caller (CompileOptions)",
    },
    Rule {
        layer: "audience/validate",
        except: &[],
        forbidden: &["std::fs", "Path::new", "crate::clock", "read_header(", "fingerprint(", "Timestamp::now"],
        why: "validation is pure: the files it checks and the time come from its caller (CompileOptions)",
    },
    Rule {
        layer: "delivery",
        except: &[],
        forbidden: &["crate::console", "crate::ui"],
        why: "delivery is below the Console",
    },
    Rule {
        layer: "personalize.rs",
        except: &[],
        forbidden: &["crate::store", "crate::console", "crate::ui", "crate::channels", "crate::delivery", "rusqlite"],
        why: "templates are pure",
    },
    Rule {
        layer: "schedule.rs",
        except: &[],
        forbidden: &["crate::store", "crate::console", "crate::ui", "crate::channels", "crate::delivery", "rusqlite"],
        why: "schedules are pure",
    },
    Rule {
        layer: "secrets.rs",
        except: &[],
        forbidden: &["crate::store", "crate::console", "crate::ui", "crate::channels", "crate::delivery"],
        why: "the secret store is below the Console",
    },
    Rule {
        layer: "import",
        except: &[],
        forbidden: &["crate::store", "crate::console", "crate::ui", "crate::channels", "crate::delivery", "rusqlite"],
        why: "reading files to import is pure of the workspace: the Console hands the rows to the store",
    },
    Rule {
        layer: "server",
        except: &[],
        forbidden: &["crate::store", "crate::delivery", "crate::ui", "rusqlite"],
        why: "the server translates HTTP to the Console's methods: what a request does is the Console's",
    },
    Rule {
        layer: "console",
        except: &[],
        forbidden: &["crate::ui", "execute_batch", "query_row", ".prepare(", ".prepare_cached("],
        why: "the Console is below the UI, and its SQL lives in the store",
    },
];

/// The Console's capability files, in groups that may call each other (a run and its schedule
/// are one capability); each group calls only the core (`mod.rs`, `jobs.rs`, `routes.rs`, …).
const CAPABILITIES: &[&[&str]] = &[
    &["campaigns.rs", "campaign_files.rs"],
    &["api_campaigns.rs", "api_intake.rs", "api_trigger.rs", "api_events.rs", "api_keys.rs"],
    &["data.rs", "data_model.rs", "browse.rs"],
    &["counting.rs"],
    &["proofs.rs"],
    &["credentials.rs"],
    &["sms.rs", "sms_configurations.rs"],
    &["server.rs"],
    &["x_sync.rs", "x_workflow.rs"],
    &[
        "runs.rs",
        "scheduling.rs",
        "sent_messages.rs",
        "connectors.rs",
        "connector_fire.rs",
        "reports.rs",
        "global_report.rs",
    ],
    &["tracked.rs"],
    &["imports.rs"],
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a line, without its comment (a `//` inside a string is rare enough here).
fn code(line: &str) -> &str {
    let t = line.trim_start();
    if t.starts_with("//") {
        return "";
    }
    match line.find(" //") {
        Some(i) if !line[..i].contains('"') => &line[..i],
        _ => line,
    }
}

/// The lines of `source` (a file at `relative`, under `src/`) that break a rule.
fn violations(relative: &str, source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for rule in RULES {
        let in_layer = relative == rule.layer || relative.starts_with(&format!("{}/", rule.layer));
        if !in_layer || rule.except.contains(&relative) {
            continue;
        }
        let mut in_tests = false;
        for (n, line) in source.lines().enumerate() {
            // Unit tests at the bottom of a file may reach around the layers.
            if line.starts_with("#[cfg(test)]") {
                in_tests = true;
            }
            if in_tests {
                continue;
            }
            let code = code(line);
            for bad in rule.forbidden {
                if code.contains(bad) {
                    found.push(format!("src/{relative}:{}: names `{bad}`: {}\n    {}", n + 1, rule.why, line.trim()));
                }
            }
        }
    }
    found
}

/// The methods each Console capability group defines.
fn capability_methods(files: &BTreeMap<String, String>) -> Vec<(usize, BTreeSet<String>)> {
    let fn_name = |line: &str| {
        let t = line.trim_start();
        let t = t.strip_prefix("pub(super) ").or_else(|| t.strip_prefix("pub ")).unwrap_or(t);
        t.strip_prefix("fn ").map(|rest| rest.split(['(', '<']).next().unwrap_or("").to_owned())
    };
    CAPABILITIES
        .iter()
        .enumerate()
        .map(|(i, group)| {
            let names = group
                .iter()
                .filter_map(|f| files.get(&format!("console/{f}")))
                .flat_map(|s| s.lines().filter(|l| l.starts_with("    ")).filter_map(fn_name).collect::<Vec<_>>())
                .collect();
            (i, names)
        })
        .collect()
}

fn sources() -> BTreeMap<String, String> {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files
        .into_iter()
        .map(|p| {
            let relative = p.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
            (relative, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

#[test]
fn no_layer_names_what_is_above_it() {
    let found: Vec<String> = sources().iter().flat_map(|(relative, source)| violations(relative, source)).collect();
    assert!(found.is_empty(), "the layer rule of DESIGN.md is broken:\n{}", found.join("\n"));
}

#[test]
fn console_capabilities_call_only_the_core_never_each_other() {
    let files = sources();
    let groups = capability_methods(&files);
    let mut found = Vec::new();
    for (i, group) in CAPABILITIES.iter().enumerate() {
        for file in *group {
            let Some(source) = files.get(&format!("console/{file}")) else { continue };
            for (j, names) in &groups {
                if *j == i {
                    continue;
                }
                for (n, line) in source.lines().enumerate() {
                    let code = code(line);
                    for name in names {
                        if code.contains(&format!("self.{name}(")) || code.contains(&format!("console.{name}(")) {
                            found.push(format!(
                                "src/console/{file}:{}: calls `{name}` of {:?}: move what both need to the core (mod.rs)",
                                n + 1,
                                CAPABILITIES[*j]
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "a Console capability calls another:\n{}", found.join("\n"));
}

/// The check itself works: a planted bad import is caught, a good one is not.
#[test]
fn a_planted_bad_import_is_caught() {
    assert_eq!(violations("ui/channels.rs", "use crate::store::credentials;\n").len(), 1);
    assert_eq!(violations("ui/canvas/mod.rs", "    let conn: rusqlite::Connection = todo();\n").len(), 1);
    assert_eq!(violations("model/canvas.rs", "use crate::audience::Problem;\n").len(), 1);
    assert_eq!(violations("channels/sandbox.rs", "use crate::store;\n").len(), 1);
    assert_eq!(violations("console/runs.rs", "        conn.query_row(\"SELECT 1\", [], |r| r.get(0))?;\n").len(), 1);
    assert_eq!(violations("audience/compile/mod.rs", "use crate::store::quote_ident;\n").len(), 1);
    assert_eq!(
        violations("audience/validate/sources.rs", "    let h = reconcile::read_header(Path::new(f));\n").len(),
        2
    );
    // Allowed: the runner's own writes, a comment, the UI naming the Console.
    assert!(violations("audience/run.rs", "crate::store::audiences::replace_from_table(\n").is_empty());
    assert!(violations("ui/mod.rs", "// not crate::store, ever\n").is_empty());
    assert!(violations("ui/mod.rs", "use crate::console::{Command, Console};\n").is_empty());
}

/// Errors are typed in library code (DESIGN.md: one error enum per module): a
/// `Result<_, String>` there loses what went wrong. The CLI's argument parsers may use one,
/// as clap's value parsers do.
fn stringly_errors(relative: &str, source: &str) -> Vec<String> {
    if relative.starts_with("cli/") || relative == "main.rs" {
        return Vec::new();
    }
    source
        .lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]"))
        .enumerate()
        .filter(|(_, l)| {
            let code = code(l);
            code.contains("Result<") && (code.contains(", String>") || code.contains("<_, String>"))
        })
        .map(|(n, l)| format!("src/{relative}:{}: an error as a String: {}", n + 1, l.trim()))
        .collect()
}

#[test]
fn library_errors_are_types_not_strings() {
    let found: Vec<String> =
        sources().iter().flat_map(|(relative, source)| stringly_errors(relative, source)).collect();
    assert!(found.is_empty(), "give these errors a type (a thiserror enum of the module):\n{}", found.join("\n"));
    // The check itself works.
    assert_eq!(stringly_errors("delivery/mod.rs", "pub fn render(&self) -> Result<Rendered, String> {\n").len(), 1);
    assert!(stringly_errors("cli/mod.rs", "fn parser() -> impl Fn(&str) -> Result<u64, String> {\n").is_empty());
}
