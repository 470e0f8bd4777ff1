use crate::harness::{Env, SMALL, code, repo, stderr, stdout};

#[test]
fn demo_suite_drifts_and_writes_every_report_file() {
    let env = Env::new();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_driftgate"))
        .args(["run", "suites/demo.yaml", "--out"])
        .arg(env.path().join("demo"))
        .current_dir(repo())
        .env_remove("DRIFTGATE_SIM_BUILD")
        .env("DRIFTGATE_SIM_DATE", "2026-12-01")
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    for f in ["run.json", "index.html", "junit.xml", "summary.md"] {
        assert!(env.path().join("demo").join(f).is_file(), "{f} missing");
    }
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.path().join("demo/run.json")).unwrap()).unwrap();
    assert_eq!(run["schema_version"], 1);
    assert_eq!(run["verdict"], "drift");
    let cases = run["cases"].as_array().unwrap();
    assert!(cases.iter().any(|c| c["verdict"] == "drift"));
    assert!(cases.iter().any(|c| c["verdict"] == "pass"));
    let sample = &cases[0]["samples"][0];
    for key in [
        "ssim",
        "ssim_rgb",
        "phash",
        "dhash",
        "delta_e",
        "delta_e_p95",
        "lab_shift",
    ] {
        assert!(
            sample["metrics"].get(key).is_some(),
            "metrics.{key} missing"
        );
    }
    assert!(
        env.path()
            .join("demo")
            .join(sample["candidate"].as_str().unwrap())
            .is_file()
    );
    assert!(
        env.path()
            .join("demo")
            .join(sample["heatmap"].as_str().unwrap())
            .is_file()
    );
    assert!(stdout(&out).contains("DRIFT"));
}

#[test]
fn same_build_passes_and_new_build_drifts() {
    let env = Env::new();
    env.write("suites/small.yaml", SMALL);
    assert_eq!(code(&env.run("1", &["record", "suites/small.yaml"])), 0);
    let pass = env.run(
        "1",
        &[
            "run",
            "suites/small.yaml",
            "--out",
            "r1",
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&pass), 0, "{}{}", stdout(&pass), stderr(&pass));
    let json: serde_json::Value = serde_json::from_str(&stdout(&pass)).unwrap();
    assert_eq!(json["verdict"], "pass");
    let drift = env.run("2", &["run", "suites/small.yaml", "--out", "r2"]);
    assert_eq!(code(&drift), 1, "{}", stderr(&drift));
    let text = stdout(&drift);
    assert!(
        text.contains("DRIFT") && text.contains("small/watch"),
        "{text}"
    );
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.path().join("r2/run.json")).unwrap()).unwrap();
    let changes = run["suites"][0]["fingerprint_changes"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c["field"] == "x-sim-build" && c["candidate"] == "2"),
        "{changes:?}"
    );
}

#[test]
fn stale_baseline_stops_the_run_before_any_request() {
    let env = Env::new();
    env.write("suites/small.yaml", SMALL);
    assert_eq!(code(&env.run("1", &["record", "suites/small.yaml"])), 0);
    env.write(
        "suites/small.yaml",
        &SMALL.replace("red sneaker", "blue sneaker"),
    );
    let out = env.run("1", &["run", "suites/small.yaml", "--out", "r"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("baseline of case `sneaker` is stale"),
        "{}",
        stderr(&out)
    );
    assert!(!env.path().join("r/run.json").exists());
}

#[test]
fn case_filter_and_dry_run_send_nothing() {
    let env = Env::new();
    env.write("suites/small.yaml", SMALL);
    assert_eq!(code(&env.run("1", &["record", "suites/small.yaml"])), 0);
    let out = env.run(
        "1",
        &["run", "suites/small.yaml", "--case", "s*", "--dry-run"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("1 cases, 2 requests"),
        "{}",
        stdout(&out)
    );
    assert!(!env.path().join("reports").exists());
}

#[test]
fn one_sample_is_inconclusive_and_says_how_many_more() {
    let env = Env::new();
    env.write(
        "suites/small.yaml",
        &SMALL.replace("samples: 2", "samples: 1"),
    );
    assert_eq!(code(&env.run("1", &["record", "suites/small.yaml"])), 0);
    let out = env.run(
        "1",
        &["run", "suites/small.yaml", "--out", "r", "--format", "json"],
    );
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let run: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(run["verdict"], "incomplete");
    let case = &run["cases"][0];
    assert_eq!(case["verdict"], "inconclusive");
    assert!(
        case["reasons"][0]
            .as_str()
            .unwrap()
            .contains("need at least 2 of each"),
        "{case}"
    );
}

#[test]
fn a_brand_limit_still_fails_a_single_sample() {
    let env = Env::new();
    env.write(
        "suites/small.yaml",
        &SMALL.replace("samples: 2", "samples: 1"),
    );
    assert_eq!(code(&env.run("1", &["record", "suites/small.yaml"])), 0);
    let out = env.run(
        "2",
        &["run", "suites/small.yaml", "--out", "r", "--format", "json"],
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let run: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let watch = run["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "watch")
        .unwrap();
    assert_eq!(watch["verdict"], "drift");
    assert!(
        watch["reasons"][0]
            .as_str()
            .unwrap()
            .starts_with("beyond the suite's limits: colour ΔE"),
        "{watch}"
    );
}

#[test]
fn noise_floor_channels_are_in_run_json() {
    let env = Env::new();
    env.write(
        "suites/small.yaml",
        &SMALL.replace("samples: 2", "samples: 3"),
    );
    assert_eq!(code(&env.run("1", &["record", "suites/small.yaml"])), 0);
    let out = env.run(
        "2",
        &["run", "suites/small.yaml", "--out", "r", "--format", "json"],
    );
    let run: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let watch = run["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "watch")
        .unwrap();
    let floors = watch["floors"].as_array().unwrap();
    let ssim = floors.iter().find(|f| f["metric"] == "ssim").unwrap();
    assert!(
        ssim["significant"].as_bool().unwrap() && ssim["outside_floor"].as_bool().unwrap(),
        "{ssim}"
    );
    assert!(ssim["value"].as_f64().unwrap() < ssim["low"].as_f64().unwrap());
}
