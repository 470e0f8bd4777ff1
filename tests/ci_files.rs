//! The CI files a team copies: `action.yml`, the workflows in `docs/ci.md` and the one
//! `driftgate init` writes. Each is validated against SchemaStore's schemas for action
//! metadata and workflows (`tests/fixtures/schemas/`), then checked for what a schema
//! cannot see: inputs that are declared but never read, outputs naming steps that do not
//! exist, a shard matrix that misses a shard, a merge that does not wait for the shards.
//! The action's own scripts run here against the real binary, so the verdict, the
//! summary and the exit status it reports are the ones driftgate gave.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn schema(name: &str) -> jsonschema::Validator {
    let text = read(&format!("tests/fixtures/schemas/{name}.json"));
    let v: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&v).expect("schema compiles offline")
}

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"))
}

/// Every violation, so a broken file shows all its problems at once.
fn violations(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn action() -> Value {
    yaml(&read("action.yml"))
}

/// The ```yaml blocks of a Markdown file, with the line each starts on.
fn yaml_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (n, line) in markdown.lines().enumerate() {
        match current.as_mut() {
            None if line.trim_start() == "```yaml" => current = Some((n + 1, String::new())),
            None => {}
            Some(_) if line.trim_start() == "```" => blocks.extend(current.take()),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    assert!(current.is_none(), "an unclosed ```yaml block");
    blocks
}

/// The workflows in docs/ci.md by name; the other blocks are snippets.
fn doc_workflows() -> BTreeMap<String, Value> {
    let mut found = BTreeMap::new();
    for (line, text) in yaml_blocks(&read("docs/ci.md")) {
        let doc = yaml(&text);
        if doc.get("jobs").is_none() {
            continue;
        }
        let name = doc["name"]
            .as_str()
            .unwrap_or_else(|| panic!("docs/ci.md:{line}: a workflow without a name"))
            .to_string();
        assert!(
            found.insert(name.clone(), doc).is_none(),
            "two workflows named {name}"
        );
    }
    found
}

fn driftgate(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftgate"))
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("run driftgate")
}

/// The workflow `driftgate init --provider P` writes.
fn init_workflow(provider: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = driftgate(dir.path(), &["init", "--provider", provider]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(dir.path().join(".github/workflows/driftgate.yml")).expect("workflow")
}

/// Every `run:` script of a workflow's jobs or an action's steps.
fn scripts(doc: &Value) -> Vec<String> {
    let steps: Vec<&Value> = match doc.get("jobs").and_then(Value::as_object) {
        Some(jobs) => jobs
            .values()
            .filter_map(|j| j["steps"].as_array())
            .flatten()
            .collect(),
        None => doc["runs"]["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .collect(),
    };
    steps
        .into_iter()
        .filter_map(|s| s["run"].as_str().map(str::to_string))
        .collect()
}

/// Every `uses:` of a workflow's jobs or an action's steps.
fn uses(doc: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let mut visit = |steps: &Value| {
        for s in steps.as_array().into_iter().flatten() {
            if let Some(u) = s["uses"].as_str() {
                found.push(u.to_string());
            }
        }
    };
    match doc.get("jobs").and_then(Value::as_object) {
        Some(jobs) => jobs.values().for_each(|j| visit(&j["steps"])),
        None => visit(&doc["runs"]["steps"]),
    }
    found
}

/// Names following `prefix` in `text` (`inputs.` → `suites`, `shard`, ...).
fn references<'t>(text: &'t str, prefix: &str) -> Vec<&'t str> {
    text.match_indices(prefix)
        .map(|(at, _)| {
            let rest = &text[at + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

/// The subcommands `driftgate --help` lists.
fn subcommands() -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let help = String::from_utf8_lossy(&driftgate(dir.path(), &["--help"]).stdout).into_owned();
    help.split("Commands:")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn the_action_metadata_is_valid() {
    let problems = violations(&schema("github-action"), &action());
    assert!(problems.is_empty(), "action.yml: {problems:#?}");
}

#[test]
fn the_workflows_in_the_docs_are_valid() {
    let workflows = doc_workflows();
    assert_eq!(
        workflows.keys().map(String::as_str).collect::<Vec<_>>(),
        ["drift", "drift-night"],
        "docs/ci.md should hold the single-job and the sharded workflow"
    );
    let validator = schema("github-workflow");
    for (name, doc) in &workflows {
        let problems = violations(&validator, doc);
        assert!(
            problems.is_empty(),
            "docs/ci.md workflow {name}: {problems:#?}"
        );
    }
    // The snippets are YAML too, and the action snippet names the action's inputs.
    for (line, text) in yaml_blocks(&read("docs/ci.md")) {
        let doc = yaml(&text);
        if let Some(with) = doc[0]["with"].as_object() {
            for key in with.keys() {
                assert!(
                    action()["inputs"].get(key).is_some(),
                    "docs/ci.md:{line}: `{key}` is not an input of the action"
                );
            }
        }
    }
}

#[test]
fn the_workflow_init_writes_is_valid() {
    let validator = schema("github-workflow");
    // sim needs no key, fal passes one from secrets: both shapes of the template.
    for provider in ["sim", "fal"] {
        let text = init_workflow(provider);
        let problems = violations(&validator, &yaml(&text));
        assert!(
            problems.is_empty(),
            "init --provider {provider}: {problems:#?}\n{text}"
        );
        // Installed from source, as docs/ci.md says: the crate is not on crates.io.
        assert!(text.contains("cargo install --locked --git"), "{text}");
        assert!(!text.contains("cargo install --locked driftgate"), "{text}");
    }
}

/// Without this the tests above could pass on a schema that accepts anything.
#[test]
fn a_typo_fails_validation() {
    let workflow = schema("github-workflow");
    let good = doc_workflows()
        .remove("drift")
        .expect("the single-job workflow");
    assert!(violations(&workflow, &good).is_empty());

    let mut stepz = good.clone();
    let job = stepz["jobs"]["drift"].as_object_mut().expect("job drift");
    let steps = job.remove("steps").expect("steps");
    job.insert("stepz".into(), steps);
    assert!(
        !violations(&workflow, &stepz).is_empty(),
        "`stepz` accepted"
    );

    let mut no_runner = good.clone();
    let job = no_runner["jobs"]["drift"]
        .as_object_mut()
        .expect("job drift");
    job.remove("runs-on");
    assert!(
        !violations(&workflow, &no_runner).is_empty(),
        "a job without `runs-on` accepted"
    );

    let mut bad_on = good;
    bad_on["on"]["schedule"] = Value::String("nightly".into());
    assert!(
        !violations(&workflow, &bad_on).is_empty(),
        "a string schedule accepted"
    );

    let metadata = schema("github-action");
    let mut no_shell = action();
    let step = no_shell["runs"]["steps"]
        .as_array_mut()
        .and_then(|s| s.iter_mut().find(|s| s.get("run").is_some()))
        .and_then(Value::as_object_mut)
        .expect("a run step");
    step.remove("shell");
    assert!(
        !violations(&metadata, &no_shell).is_empty(),
        "a composite run step without `shell` accepted"
    );

    let mut runz = action();
    let root = runz.as_object_mut().expect("mapping");
    let runs = root.remove("runs").expect("runs");
    root.insert("runz".into(), runs);
    assert!(!violations(&metadata, &runz).is_empty(), "`runz` accepted");
}

#[test]
fn every_input_of_the_action_is_used_and_every_use_is_declared() {
    let action = action();
    let declared: Vec<&String> = action["inputs"]
        .as_object()
        .expect("inputs")
        .keys()
        .collect();
    for required in ["suites", "baselines", "shard", "fdr"] {
        assert!(
            declared.iter().any(|d| *d == required),
            "no input `{required}`"
        );
    }
    let runs = serde_json::to_string(&action["runs"]).expect("json");
    let used = references(&runs, "inputs.");
    for input in &declared {
        assert!(
            used.contains(&input.as_str()),
            "input `{input}` is never read"
        );
    }
    for name in used {
        assert!(
            declared.iter().any(|d| *d == name),
            "`inputs.{name}` is not declared"
        );
    }
}

#[test]
fn the_outputs_and_step_references_name_existing_steps() {
    let action = action();
    let steps = action["runs"]["steps"].as_array().expect("steps");
    let ids: Vec<&str> = steps.iter().filter_map(|s| s["id"].as_str()).collect();

    let outputs = action["outputs"].as_object().expect("outputs");
    for required in ["verdict", "report-path"] {
        assert!(outputs.contains_key(required), "no output `{required}`");
    }
    for (name, output) in outputs {
        let value = output["value"]
            .as_str()
            .expect("a composite output has a value");
        let refs = references(value, "steps.");
        assert_eq!(refs.len(), 1, "output {name}: {value}");
        let id = refs[0];
        let step = steps
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("output {name} reads step `{id}`, which does not exist"));
        let field = value
            .split(&format!("steps.{id}.outputs."))
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("an output field");
        let script = step["run"].as_str().expect("the step is a script");
        assert!(
            script.contains(&format!("echo \"{field}=")),
            "step {id} never writes `{field}` to GITHUB_OUTPUT"
        );
    }
    // A step may only read the outputs of a step before it.
    for (at, step) in steps.iter().enumerate() {
        let text = serde_json::to_string(step).expect("json");
        for id in references(&text, "steps.") {
            let from = ids.iter().position(|i| *i == id);
            let before = steps[..at].iter().any(|s| s["id"] == id);
            assert!(
                from.is_some() && before,
                "step {at} reads `steps.{id}` before it runs"
            );
        }
    }
}

#[test]
fn the_action_publishes_before_it_gates() {
    let action = action();
    let steps = action["runs"]["steps"].as_array().expect("steps");
    let position = |pred: &dyn Fn(&Value) -> bool| steps.iter().position(pred);
    let upload = position(&|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("actions/upload-artifact@"))
    })
    .expect("an upload step");
    let gate = steps.len() - 1;
    assert!(upload < gate);
    assert!(
        steps[upload]["if"]
            .as_str()
            .is_some_and(|c| c.contains("always()")),
        "the upload must run when driftgate failed"
    );
    let last = &steps[gate];
    assert!(last["if"].as_str().is_some_and(|c| c.contains("always()")));
    assert!(
        last["run"]
            .as_str()
            .is_some_and(|r| r.contains("exit \"$STATUS\"")),
        "the last step exits with driftgate's status"
    );
    let run = steps
        .iter()
        .find(|s| s["id"] == "run")
        .expect("the run step");
    let script = run["run"].as_str().expect("script");
    assert!(script.contains("$GITHUB_STEP_SUMMARY") && script.contains("summary.md"));
    let install = steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .find(|r| r.contains("cargo install"))
        .expect("an install step");
    assert!(install.contains("--locked --path"), "{install}");
    assert!(
        uses(&action)
            .iter()
            .any(|u| u.starts_with("actions/cache@")),
        "the build is cached"
    );
}

#[test]
fn the_nightly_shards_cover_one_to_four_and_the_merge_waits_for_them() {
    let night = doc_workflows()
        .remove("drift-night")
        .expect("the sharded workflow");
    let jobs = &night["jobs"];
    let shard = &jobs["shard"];
    let matrix: Vec<i64> = shard["strategy"]["matrix"]["shard"]
        .as_array()
        .expect("a shard matrix")
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    assert_eq!(matrix, [1, 2, 3, 4]);
    let runs = scripts(&serde_json::json!({ "jobs": { "shard": shard } }));
    assert!(
        runs.iter()
            .any(|r| r.contains("driftgate run") && r.contains("--shard ${{ matrix.shard }}/4")),
        "{runs:#?}"
    );
    assert!(
        runs.iter()
            .any(|r| r.contains("--baselines \"$DRIFTGATE_BASELINES\""))
    );
    assert!(
        night["env"]["DRIFTGATE_BASELINES"]
            .as_str()
            .is_some_and(|b| b.starts_with("s3://"))
    );

    // Each shard's folder goes up under a name the merge's download pattern matches.
    let upload = shard["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact@"))
        })
        .expect("the shard uploads its run folder");
    assert_eq!(upload["with"]["name"], "shard-${{ matrix.shard }}");
    assert!(
        upload["if"]
            .as_str()
            .is_some_and(|c| c.contains("always()"))
    );

    let merge = &jobs["merge"];
    let needs: Vec<&str> = match &merge["needs"] {
        Value::String(one) => vec![one.as_str()],
        list => list
            .as_array()
            .expect("needs")
            .iter()
            .filter_map(Value::as_str)
            .collect(),
    };
    assert!(needs.contains(&"shard"), "merge needs {needs:?}");
    // A failed shard must still leave a merge to say which one is missing.
    let condition = merge["if"].as_str().expect("merge has a condition");
    assert!(condition.contains("!cancelled()") || condition.contains("always()"));
    let download = merge["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["with"]["pattern"].is_string())
        .expect("the merge downloads the shards");
    assert_eq!(download["with"]["pattern"], "shard-*");
    let merge_runs = scripts(&serde_json::json!({ "jobs": { "merge": merge } }));
    assert!(
        merge_runs
            .iter()
            .any(|r| r.contains("driftgate merge shard-*/ --out merged")),
        "{merge_runs:#?}"
    );
    assert!(
        merge_runs.iter().any(|r| r.contains("exit \"$STATUS\"")),
        "the merge's status gates the night"
    );
}

#[test]
fn the_ci_files_use_existing_commands_and_pinned_actions() {
    let known = subcommands();
    for needed in ["run", "merge", "baselines"] {
        assert!(known.iter().any(|k| k == needed), "{needed}: {known:?}");
    }
    let mut docs: Vec<(String, Value)> = doc_workflows().into_iter().collect();
    docs.push(("action.yml".into(), action()));
    docs.push(("init --provider fal".into(), yaml(&init_workflow("fal"))));
    for (file, doc) in &docs {
        for script in scripts(doc) {
            let commands = script
                .lines()
                .filter_map(|l| l.trim().strip_prefix("driftgate "));
            for cmd in commands.filter_map(|rest| rest.split_whitespace().next()) {
                assert!(
                    known.iter().any(|k| k == cmd),
                    "{file}: `driftgate {cmd}` does not exist"
                );
            }
        }
        // A major tag follows fixes without a workflow edit and without taking a new major.
        for used in uses(doc) {
            if used.starts_with("your-org/driftgate@") {
                continue;
            }
            let major = used.split_once('@').map(|(_, v)| v);
            assert!(
                major.is_some_and(|v| {
                    v == "stable"
                        || v.strip_prefix('v')
                            .is_some_and(|n| n.parse::<u32>().is_ok())
                }),
                "{file}: `{used}` is not pinned to a major"
            );
        }
    }
}

/// Runs the action's scripts the way the runner does: each step's `env:` from its
/// inputs and earlier steps' outputs, `bash -eo pipefail`, and `GITHUB_OUTPUT` and
/// `GITHUB_STEP_SUMMARY` files.
struct Runner {
    dir: tempfile::TempDir,
    inputs: BTreeMap<String, String>,
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    summary: PathBuf,
}

impl Runner {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let summary = dir.path().join("step-summary.md");
        std::fs::write(&summary, "").expect("summary");
        Self {
            dir,
            inputs: BTreeMap::new(),
            outputs: BTreeMap::new(),
            summary,
        }
    }

    fn with(mut self, input: &str, value: &str) -> Self {
        self.inputs.insert(input.into(), value.into());
        self
    }

    fn workspace(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// The value of `${{ inputs.X }}` or `${{ steps.ID.outputs.X }}`: the only
    /// expressions the action passes to its scripts.
    fn eval(&self, value: &str, action: &Value) -> String {
        let Some(expr) = value
            .strip_prefix("${{")
            .and_then(|v| v.strip_suffix("}}"))
            .map(str::trim)
        else {
            return value.to_string();
        };
        if let Some(name) = expr.strip_prefix("inputs.") {
            return self.inputs.get(name).cloned().unwrap_or_else(|| {
                action["inputs"][name]["default"]
                    .as_str()
                    .unwrap_or_else(|| panic!("no input {name}"))
                    .to_string()
            });
        }
        let (id, field) = expr
            .strip_prefix("steps.")
            .and_then(|rest| rest.split_once(".outputs."))
            .unwrap_or_else(|| panic!("an expression the test cannot evaluate: {value}"));
        self.outputs
            .get(id)
            .and_then(|o| o.get(field))
            .cloned()
            .unwrap_or_default()
    }

    /// Runs the step with id `id` and returns its exit status.
    fn step(&mut self, id: &str, sim_build: &str) -> i32 {
        let action = action();
        let step = action["runs"]["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("no step {id}"))
            .clone();
        assert_eq!(step["shell"], "bash");
        let script = self.dir.path().join(format!("{id}.sh"));
        std::fs::write(&script, step["run"].as_str().expect("a script")).expect("script");
        let output_file = self.dir.path().join(format!("{id}.out"));
        std::fs::write(&output_file, "").expect("output file");
        let cwd = match step["working-directory"].as_str() {
            Some(wd) => self.workspace().join(self.eval(wd, &action)),
            None => self.workspace(),
        };
        let bin = Path::new(env!("CARGO_BIN_EXE_driftgate"))
            .parent()
            .expect("bin dir")
            .to_path_buf();
        let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )))
        .expect("PATH");
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(cwd)
            .env("PATH", path)
            .env("HOME", self.dir.path())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_ACTION_PATH", repo())
            .env("GITHUB_RUN_ID", "4242")
            .env("GITHUB_RUN_ATTEMPT", "1")
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_STEP_SUMMARY", &self.summary)
            .env("DRIFTGATE_SIM_BUILD", sim_build);
        for (key, value) in step["env"].as_object().into_iter().flatten() {
            cmd.env(key, self.eval(value.as_str().expect("a string"), &action));
        }
        let out = cmd.output().expect("bash");
        let written = std::fs::read_to_string(&output_file).expect("outputs");
        let parsed = written
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.outputs.insert(id.into(), parsed);
        let status = out.status.code().unwrap_or(-1);
        eprintln!(
            "step {id} exited {status}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        status
    }

    fn output(&self, id: &str, field: &str) -> String {
        self.outputs[id].get(field).cloned().unwrap_or_default()
    }

    fn summary(&self) -> String {
        std::fs::read_to_string(&self.summary).expect("summary")
    }
}

/// A two-case sim suite recorded with build 1 in the runner's workspace.
fn recorded(runner: &Runner) {
    let work = runner.workspace();
    std::fs::create_dir_all(work.join("suites")).expect("suites");
    std::fs::write(
        work.join("suites/tiny.yaml"),
        "suite: tiny
model: { provider: sim, endpoint: sim/test, version: \"1\" }
defaults: { size: { width: 64, height: 64 }, seed: 3, samples: 2 }
cases:
  - id: sneaker
    prompt: red sneaker on concrete, studio light
  - id: watch
    prompt: gold watch on black marble
",
    )
    .expect("suite");
    let out = Command::new(env!("CARGO_BIN_EXE_driftgate"))
        .args(["record", "suites/tiny.yaml"])
        .current_dir(&work)
        .env("DRIFTGATE_SIM_BUILD", "1")
        .output()
        .expect("record");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_action_reports_drift_publishes_the_summary_and_fails_with_1() {
    let mut runner = Runner::new().with("suites", "suites/tiny.yaml");
    recorded(&runner);
    assert_eq!(runner.step("run", "2"), 0, "the run step keeps the status");
    assert_eq!(runner.output("run", "exit-code"), "1");
    assert_eq!(runner.output("run", "verdict"), "drift");
    let report = PathBuf::from(runner.output("run", "report-path"));
    assert!(report.is_absolute(), "{}", report.display());
    assert_eq!(
        report,
        runner.workspace().join("reports/driftgate-4242-1"),
        "the default run folder"
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("run.json")).expect("run.json"))
            .expect("json");
    assert_eq!(json["verdict"], "drift");
    let summary = std::fs::read_to_string(report.join("summary.md")).expect("summary.md");
    assert!(
        runner.summary().contains(summary.trim()),
        "{}",
        runner.summary()
    );
    assert_eq!(runner.output("run", "artifact"), "driftgate-report");
    assert_eq!(runner.step("gate", "2"), 1, "drift fails the job");
}

#[test]
fn the_action_passes_a_night_without_drift_and_names_shards() {
    let mut runner = Runner::new()
        .with("suites", "suites/tiny.yaml")
        .with("shard", "1/2")
        .with("fdr", "0.05");
    recorded(&runner);
    assert_eq!(runner.step("run", "1"), 0);
    assert_eq!(runner.output("run", "exit-code"), "0");
    assert_eq!(runner.output("run", "verdict"), "pass");
    let report = PathBuf::from(runner.output("run", "report-path"));
    assert!(
        report.ends_with("reports/driftgate-4242-1-shard-1"),
        "{}",
        report.display()
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("run.json")).expect("run.json"))
            .expect("json");
    assert_eq!(
        json["cases"].as_array().map(Vec::len),
        Some(1),
        "one case of two in shard 1/2"
    );
    assert_eq!(runner.output("run", "artifact"), "driftgate-report-shard-1");
    assert_eq!(runner.step("gate", "1"), 0);
}

#[test]
fn the_action_reports_an_error_when_nothing_was_judged() {
    let mut runner = Runner::new()
        .with("suites", "suites/missing.yaml")
        .with("artifact-name", "night report");
    recorded(&runner);
    assert_eq!(runner.step("run", "1"), 0);
    assert_eq!(runner.output("run", "exit-code"), "2");
    assert_eq!(runner.output("run", "verdict"), "error");
    assert!(
        runner
            .summary()
            .contains("driftgate exited 2 and wrote no report"),
        "{}",
        runner.summary()
    );
    assert_eq!(runner.output("run", "artifact"), "night report");
    assert_eq!(runner.step("gate", "1"), 2);
}

#[test]
fn the_action_installs_from_its_own_source_unless_told_otherwise() {
    let mut own = Runner::new();
    std::fs::create_dir_all(own.workspace()).expect("workspace");
    assert_eq!(own.step("source", "1"), 0);
    assert_eq!(PathBuf::from(own.output("source", "dir")), repo());
    assert_eq!(own.output("source", "hash").len(), 16);

    let mut none = Runner::new().with("source", "none");
    std::fs::create_dir_all(none.workspace()).expect("workspace");
    assert_eq!(none.step("source", "1"), 0);
    assert_eq!(none.output("source", "dir"), "", "nothing to install");

    let mut wrong = Runner::new().with("source", "/nonexistent");
    std::fs::create_dir_all(wrong.workspace()).expect("workspace");
    assert_ne!(
        wrong.step("source", "1"),
        0,
        "a folder without driftgate's source"
    );
}
