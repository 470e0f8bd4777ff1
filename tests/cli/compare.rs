use crate::harness::{Env, SMALL, code, stderr, stdout};

#[test]
fn compare_scores_two_folders_without_a_suite() {
    let env = Env::new();
    env.write("suites/small.yaml", SMALL);
    assert_eq!(
        code(&env.run("1", &["record", "suites/small.yaml", "--baselines", "a"])),
        0
    );
    assert_eq!(
        code(&env.run("2", &["record", "suites/small.yaml", "--baselines", "b"])),
        0
    );
    // Same folder against itself: identical images pass with perfect scores.
    let same = env.run(
        "1",
        &[
            "compare", "a/small", "a/small", "--out", "same", "--format", "json",
        ],
    );
    assert_eq!(code(&same), 0, "{}", stderr(&same));
    let json: serde_json::Value = serde_json::from_str(&stdout(&same)).unwrap();
    assert_eq!(json["cases"].as_array().unwrap().len(), 3);
    assert_eq!(json["cases"][0]["samples"][0]["metrics"]["ssim"], 1.0);
    // Build 1 against build 2 drifts.
    let diff = env.run("1", &["compare", "a/small", "b/small", "--out", "diff"]);
    assert_eq!(code(&diff), 1, "{}", stderr(&diff));
    assert!(env.path().join("diff/index.html").is_file());
}

#[test]
fn compare_reports_missing_samples_as_errors() {
    let env = Env::new();
    env.write("suites/small.yaml", SMALL);
    assert_eq!(
        code(&env.run("1", &["record", "suites/small.yaml", "--baselines", "a"])),
        0
    );
    std::fs::create_dir_all(env.path().join("c/bottle")).unwrap();
    std::fs::copy(
        env.path().join("a/small/bottle/0.png"),
        env.path().join("c/bottle/0.png"),
    )
    .unwrap();
    let out = env.run(
        "1",
        &["compare", "a/small", "c", "--out", "r", "--format", "json"],
    );
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["verdict"], "incomplete");
    assert!(
        json["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["verdict"] == "error")
    );
}
