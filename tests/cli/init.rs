//! `driftgate init` and `driftgate completions`: a scaffold that `check` accepts, a
//! refusal that writes nothing, and completion scripts that know the commands.

use crate::harness::{Env, code, stderr, stdout};

const SCAFFOLD: &[&str] = &[
    "suites/drift.yaml",
    "suites/refs/README.md",
    ".github/workflows/driftgate.yml",
    "reports/.gitignore",
];

/// The subcommands `--help` lists, read from the help text itself.
fn subcommands(env: &Env) -> Vec<String> {
    let help = stdout(&env.run("1", &["--help"]));
    help.split("Commands:")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn init_then_record_then_check_passes_offline() {
    let env = Env::new();
    let out = env.run("2", &["init"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    for file in SCAFFOLD {
        assert!(env.path().join(file).is_file(), "{file}");
        assert!(stdout(&out).contains(file), "{file} not printed");
    }
    let suite = std::fs::read_to_string(env.path().join("suites/drift.yaml")).unwrap();
    assert!(suite.contains("provider: sim"), "{suite}");
    assert!(suite.contains("samples: 3"), "{suite}");

    let rec = env.run("2", &["record", "suites/drift.yaml"]);
    assert_eq!(code(&rec), 0, "{}", stderr(&rec));
    let check = env.run("2", &["check", "suites/drift.yaml"]);
    assert_eq!(code(&check), 0, "{}", stderr(&check));
    assert!(!stderr(&check).contains("warning"), "{}", stderr(&check));
    assert!(stderr(&check).contains("2 cases, 6 baseline images verified"));
}

#[test]
fn a_hosted_scaffold_is_a_valid_suite_with_the_catalogue_defaults() {
    let env = Env::new();
    let out = env.run("1", &["init", "--provider", "openai", "proj"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let suite = std::fs::read_to_string(env.path().join("proj/suites/drift.yaml")).unwrap();
    for line in [
        "endpoint: gpt-image-1",
        "api_key_env: OPENAI_API_KEY",
        "size: { width: 1024, height: 1024 }",
        "samples: 3",
    ] {
        assert!(suite.contains(line), "{line} missing from\n{suite}");
    }
    let workflow =
        std::fs::read_to_string(env.path().join("proj/.github/workflows/driftgate.yml")).unwrap();
    assert!(workflow.contains("OPENAI_API_KEY: ${{ secrets.OPENAI_API_KEY }}"));
    // Without baselines `check` has exactly one thing to say: record them.
    let check = env.run("1", &["check", "proj/suites/drift.yaml"]);
    let err = stderr(&check);
    assert_eq!(code(&check), 2, "{err}");
    assert!(!err.contains("warning"), "{err}");
    let problems: Vec<&str> = err.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(problems.len(), 1, "{err}");
    assert!(problems[0].contains("has no baselines"), "{err}");
}

#[test]
fn the_workflow_is_yaml_that_runs_the_suite_with_existing_commands() {
    let env = Env::new();
    assert_eq!(code(&env.run("1", &["init", "--provider", "fal"])), 0);
    let text = std::fs::read_to_string(env.path().join(".github/workflows/driftgate.yml")).unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str(&text).expect("valid YAML");
    assert!(doc["on"]["schedule"][0]["cron"].is_string(), "{doc}");
    let steps = doc["jobs"]["drift"]["steps"].as_array().expect("steps");
    let known = subcommands(&env);
    let mut runs = 0;
    for step in steps {
        let Some(script) = step["run"].as_str() else {
            continue;
        };
        if let Some(cmd) = script
            .split_whitespace()
            .skip_while(|w| *w != "driftgate")
            .nth(1)
        {
            assert!(
                known.iter().any(|k| k == cmd),
                "`driftgate {cmd}` does not exist"
            );
            runs += 1;
        }
    }
    assert!(text.contains("driftgate run suites/drift.yaml"), "{text}");
    assert_eq!(runs, 1, "{text}");
}

#[test]
fn init_refuses_to_overwrite_and_writes_nothing() {
    let env = Env::new();
    env.write(".github/workflows/driftgate.yml", "name: mine\n");
    let out = env.run("1", &["init"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(".github/workflows/driftgate.yml"), "{err}");
    assert_eq!(
        std::fs::read_to_string(env.path().join(".github/workflows/driftgate.yml")).unwrap(),
        "name: mine\n"
    );
    for file in SCAFFOLD.iter().filter(|f| !f.starts_with(".github")) {
        assert!(!env.path().join(file).exists(), "{file} was written");
    }
}

#[test]
fn completions_for_bash_name_the_subcommands() {
    let env = Env::new();
    let out = env.run("1", &["completions", "bash"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let script = stdout(&out);
    assert!(script.contains("complete -F"), "not a bash script");
    for sub in ["run", "record", "check", "accept", "init", "completions"] {
        assert!(script.contains(&format!("driftgate,{sub})")), "{sub}");
    }
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = env.run("1", &["completions", shell]);
        assert_eq!(code(&out), 0, "{shell}");
        assert!(stdout(&out).contains("init"), "{shell}");
    }
}

#[test]
fn help_lists_init_and_completions() {
    let env = Env::new();
    let known = subcommands(&env);
    assert!(known.iter().any(|c| c == "init"), "{known:?}");
    assert!(known.iter().any(|c| c == "completions"), "{known:?}");
}
