//! `driftgate merge`, end to end: a night run whole and the same night run as shards and
//! merged give the same verdicts; shards of different nights are refused; a missing shard
//! leaves the night incomplete and is named. Every test drives the real binary with the
//! offline `sim` provider, its date pinned.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// After the sim platform's canary started: part of a night's cases drift.
const CANARY: &str = "2026-12-01";
/// Before it: every case passes.
const QUIET: &str = "2026-08-01";

const COLOURS: [&str; 6] = ["red", "teal", "gold", "blue", "green", "purple"];
const THINGS: [&str; 4] = ["bottle", "sneaker", "watch", "lamp"];

/// A suite of `n` small seeded cases without noise, so every run of a case renders the
/// same pixels and a whole night and its shards see the same images.
fn suite(id: &str, n: usize) -> String {
    let mut s = format!(
        "suite: {id}\nmodel: {{ provider: sim, endpoint: sim/test, version: \"1\" }}\n\
         defaults: {{ size: {{ width: 64, height: 64 }}, seed: 7, samples: 3 }}\ncases:\n"
    );
    for i in 0..n {
        let colour = COLOURS[i % COLOURS.len()];
        let thing = THINGS[(i / COLOURS.len()) % THINGS.len()];
        s.push_str(&format!(
            "  - id: case-{i:02}\n    prompt: a {colour} {thing} on a table, shot {i}\n"
        ));
    }
    s
}

struct Env {
    dir: tempfile::TempDir,
    date: &'static str,
}

impl Env {
    fn new(date: &'static str) -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            date,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    /// Runs driftgate in the scratch folder; `build` forces the sim's build.
    fn driftgate(&self, build: Option<&str>, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_driftgate"));
        cmd.args(args)
            .current_dir(self.path())
            .env("DRIFTGATE_SIM_DATE", self.date)
            .env_remove("DRIFTGATE_SIM_BUILD")
            .env_remove("GITHUB_ACTIONS");
        if let Some(b) = build {
            cmd.env("DRIFTGATE_SIM_BUILD", b);
        }
        cmd.output().expect("run driftgate")
    }

    /// Writes the suite and records its baselines on the original build.
    fn record(&self, file: &str, text: &str) {
        self.write(file, text);
        let o = self.driftgate(Some("1"), &["record", file, "--force"]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }

    fn run(&self, args: &[&str]) -> Output {
        self.driftgate(None, &[&["run", "-q"], args].concat())
    }

    /// Runs shard `i` of `n` of the suite into `s<i>` and returns its folder name.
    fn shard(&self, suite: &str, i: usize, n: usize, extra: &[&str]) -> String {
        let out = format!("s{i}");
        let shard = format!("{i}/{n}");
        let o = self.run(&[&[suite, "--shard", &shard, "--out", &out], extra].concat());
        assert!([0, 1].contains(&code(&o)), "shard {shard}: {}", stderr(&o));
        out
    }

    fn merge(&self, args: &[&str]) -> Output {
        self.driftgate(None, &[&["merge"], args].concat())
    }

    fn json(&self, rel: &str) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.path().join(rel)).expect("read")).expect("json")
    }

    /// Replaces the temp folder's path so snapshots are stable.
    fn redact(&self, s: &str) -> String {
        s.replace(&self.path().display().to_string(), "[TMP]")
    }
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Each case's verdict and reasons, by `suite/id`.
fn verdicts(run: &serde_json::Value) -> BTreeMap<String, (String, Vec<String>)> {
    run["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            let reasons = c["reasons"]
                .as_array()
                .expect("reasons")
                .iter()
                .map(|r| r.as_str().expect("reason").to_string())
                .collect();
            (
                format!(
                    "{}/{}",
                    c["suite"].as_str().unwrap(),
                    c["id"].as_str().unwrap()
                ),
                (c["verdict"].as_str().unwrap().to_string(), reasons),
            )
        })
        .collect()
}

/// Every image path a run's cases name, relative to its folder.
fn image_paths(run: &serde_json::Value) -> Vec<String> {
    run["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .flat_map(|c| c["samples"].as_array().expect("samples").iter())
        .flat_map(|s| ["baseline", "candidate", "heatmap"].map(|k| s[k].as_str()))
        .flatten()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_night_in_four_shards_merges_to_the_verdicts_of_the_whole_night() {
    let env = Env::new(CANARY);
    env.record("suites/night.yaml", &suite("night", 14));
    let whole = env.run(&["suites/night.yaml", "--out", "whole"]);
    let shards: Vec<String> = (1..=4)
        .map(|i| env.shard("suites/night.yaml", i, 4, &[]))
        .collect();
    let history = env.path().join("history.jsonl");
    let mut args: Vec<&str> = shards.iter().map(String::as_str).collect();
    args.extend(["--out", "merged", "--history"]);
    args.push(history.to_str().unwrap());
    let merged = env.merge(&args);
    assert_eq!(code(&merged), code(&whole), "{}", stderr(&merged));

    let (whole_run, merged_run) = (env.json("whole/run.json"), env.json("merged/run.json"));
    let expected = verdicts(&whole_run);
    assert_eq!(expected.len(), 14);
    // The canary moves part of the night: both outcomes are compared, not just one.
    assert!(expected.values().any(|(v, _)| v == "drift"), "{expected:?}");
    assert!(expected.values().any(|(v, _)| v == "pass"), "{expected:?}");
    assert_eq!(verdicts(&merged_run), expected);
    assert_eq!(merged_run["verdict"], whole_run["verdict"]);
    assert_eq!(merged_run["schema_version"], 1);
    assert_eq!(merged_run["fdr"], 0.01);
    let listed: Vec<u64> = merged_run["shards"]["merged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["index"].as_u64().unwrap())
        .collect();
    assert_eq!(listed, [1, 2, 3, 4]);
    assert!(merged_run["shards"].get("missing").is_none());
    // The cases are spread over the shards, as the shard runs' own records say.
    for (i, s) in shards.iter().enumerate() {
        let run = env.json(&format!("{s}/run.json"));
        assert_eq!(run["shard"]["index"], i + 1);
        assert_eq!(run["shard"]["count"], 4);
        assert!(!run["cases"].as_array().unwrap().is_empty());
    }

    // The merged folder stands alone: every image it names is inside it.
    for f in ["index.html", "junit.xml", "summary.md"] {
        assert!(env.path().join("merged").join(f).is_file(), "{f}");
    }
    let paths = image_paths(&merged_run);
    assert!(!paths.is_empty());
    for p in &paths {
        assert!(env.path().join("merged").join(p).is_file(), "{p}");
        assert!(
            env.path()
                .join("merged/thumbs")
                .join(format!("{p}.jpg"))
                .is_file(),
            "thumbnail of {p}"
        );
    }
    let html = std::fs::read_to_string(env.path().join("merged/index.html")).unwrap();
    assert!(!html.contains("../"), "the page points out of its folder");
    // One history line for the night.
    let lines = std::fs::read_to_string(&history).unwrap();
    assert_eq!(lines.lines().count(), 1);
    assert!(lines.contains(merged_run["run_id"].as_str().unwrap()));
    // The merged folder re-renders from its run.json like any run.
    let again = env.driftgate(None, &["report", "merged"]);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
}

#[test]
fn a_missing_shard_leaves_the_night_incomplete_and_is_named() {
    let env = Env::new(QUIET);
    env.record("suites/night.yaml", &suite("night", 8));
    let given: Vec<String> = [1, 2, 4]
        .into_iter()
        .map(|i| env.shard("suites/night.yaml", i, 4, &[]))
        .collect();
    let mut args: Vec<&str> = given.iter().map(String::as_str).collect();
    args.extend(["--out", "merged"]);
    let o = env.merge(&args);
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    let missing = "shard 3 of 4 is missing";
    assert!(stderr(&o).contains(missing), "{}", stderr(&o));
    assert!(stdout(&o).contains(missing), "{}", stdout(&o));
    let run = env.json("merged/run.json");
    assert_eq!(run["verdict"], "incomplete");
    assert_eq!(run["shards"]["missing"], serde_json::json!([3]));
    assert_eq!(run["shards"]["count"], 4);
    for f in ["summary.md", "index.html"] {
        let text = std::fs::read_to_string(env.path().join("merged").join(f)).unwrap();
        assert!(
            text.to_lowercase().contains(missing),
            "{f} does not name the shard"
        );
    }
    // Every case of the shards given is there and passed.
    let v = verdicts(&run);
    assert_eq!(v.len(), 6);
    assert!(v.values().all(|(verdict, _)| verdict == "pass"), "{v:?}");
}

/// Runs a merge expected to be refused: exit 2 and nothing written.
fn refused(env: &Env, args: &[&str]) -> String {
    let o = env.merge(&[args, &["--out", "merged"]].concat());
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    assert!(
        !env.path().join("merged").exists(),
        "a refused merge wrote a folder"
    );
    env.redact(&stderr(&o))
}

/// Rewrites a shard's run.json, as a hand-assembled or damaged folder would be.
fn edit_run(env: &Env, dir: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = env.path().join(dir).join("run.json");
    let mut run = env.json(&format!("{dir}/run.json"));
    edit(&mut run);
    std::fs::write(path, serde_json::to_vec_pretty(&run).unwrap()).unwrap();
}

#[test]
fn shards_of_different_suites_are_refused() {
    let env = Env::new(QUIET);
    env.record("suites/night.yaml", &suite("night", 4));
    env.record("suites/other.yaml", &suite("other", 4));
    let one = env.shard("suites/night.yaml", 1, 2, &[]);
    std::fs::rename(env.path().join(&one), env.path().join("night1")).unwrap();
    let two = env.shard("suites/other.yaml", 2, 2, &[]);
    insta::assert_snapshot!(refused(&env, &["night1", &two]));
}

#[test]
fn shards_of_different_suite_versions_are_refused() {
    let env = Env::new(QUIET);
    let text = suite("night", 4);
    env.record("suites/night.yaml", &text);
    let one = env.shard("suites/night.yaml", 1, 2, &[]);
    // The suite file changed between the shards: another prompt, re-recorded.
    env.record(
        "suites/night.yaml",
        &text.replace("shot 3", "shot 3, evening light"),
    );
    let two = env.shard("suites/night.yaml", 2, 2, &[]);
    insta::assert_snapshot!(refused(&env, &[&one, &two]));
}

#[test]
fn shards_of_different_scorer_versions_are_refused() {
    let env = Env::new(QUIET);
    env.record("suites/night.yaml", &suite("night", 4));
    let one = env.shard("suites/night.yaml", 1, 2, &[]);
    let two = env.shard("suites/night.yaml", 2, 2, &[]);
    edit_run(&env, &two, |r| r["scorer_version"] = 99.into());
    insta::assert_snapshot!(refused(&env, &[&one, &two]));
}

#[test]
fn shards_decided_at_different_fdr_are_refused() {
    let env = Env::new(QUIET);
    env.record("suites/night.yaml", &suite("night", 4));
    let one = env.shard("suites/night.yaml", 1, 2, &[]);
    let two = env.shard("suites/night.yaml", 2, 2, &["--fdr", "0.05"]);
    insta::assert_snapshot!(refused(&env, &[&one, &two]));
}

#[test]
fn overlapping_shards_are_refused() {
    let env = Env::new(QUIET);
    env.record("suites/night.yaml", &suite("night", 4));
    let one = env.shard("suites/night.yaml", 1, 2, &[]);
    let two = env.shard("suites/night.yaml", 2, 2, &[]);
    // Shard 2's folder also carries one of shard 1's cases.
    let stray = env.json(&format!("{one}/run.json"))["cases"][0].clone();
    edit_run(&env, &two, |r| {
        r["cases"].as_array_mut().unwrap().push(stray);
    });
    insta::assert_snapshot!("overlapping_cases", refused(&env, &[&one, &two]));
    // The same shard given twice overlaps too.
    insta::assert_snapshot!("shard_given_twice", refused(&env, &[&one, &two, &one]));
}

#[test]
fn a_whole_run_is_not_a_shard() {
    let env = Env::new(QUIET);
    env.record("suites/night.yaml", &suite("night", 2));
    let o = env.run(&["suites/night.yaml", "--out", "whole"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    insta::assert_snapshot!(refused(&env, &["whole"]));
}

/// The merged folder's images are its own: removing the shard folders afterwards
/// leaves the merged report whole.
#[test]
fn the_merged_folder_outlives_its_shards() {
    let env = Env::new(CANARY);
    env.record("suites/night.yaml", &suite("night", 4));
    let shards: Vec<String> = (1..=2)
        .map(|i| env.shard("suites/night.yaml", i, 2, &[]))
        .collect();
    let o = env.merge(&[&shards[0], &shards[1], "--out", "merged"]);
    assert!([0, 1].contains(&code(&o)), "{}", stderr(&o));
    for s in &shards {
        std::fs::remove_dir_all(env.path().join(s)).unwrap();
    }
    let run = env.json("merged/run.json");
    for p in image_paths(&run) {
        assert!(env.path().join("merged").join(&p).is_file(), "{p}");
    }
    assert!(
        PathBuf::from(run["shards"]["merged"][0]["dir"].as_str().unwrap()).ends_with(&shards[0])
    );
    // Its candidates are there to accept.
    let a = env.driftgate(None, &["accept", "merged", "--reason", "new grade"]);
    assert_eq!(code(&a), 0, "{}{}", stdout(&a), stderr(&a));
}
