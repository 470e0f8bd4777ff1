use crate::harness::{Env, SMALL, code, stderr};

#[test]
fn record_refuses_to_overwrite_without_force() {
    let env = Env::new();
    env.write("suites/small.yaml", SMALL);
    assert_eq!(code(&env.run("1", &["record", "suites/small.yaml"])), 0);
    let manifest = std::fs::read(env.path().join("baselines/small/manifest.json")).unwrap();
    let again = env.run("2", &["record", "suites/small.yaml"]);
    assert_eq!(code(&again), 2);
    assert!(
        stderr(&again)
            .contains("baselines already exist for small/bottle, small/sneaker, small/watch"),
        "{}",
        stderr(&again)
    );
    assert!(stderr(&again).contains("--force"));
    assert_eq!(
        std::fs::read(env.path().join("baselines/small/manifest.json")).unwrap(),
        manifest
    );
    assert_eq!(
        code(&env.run("2", &["record", "--force", "suites/small.yaml"])),
        0
    );
    assert_ne!(
        std::fs::read(env.path().join("baselines/small/manifest.json")).unwrap(),
        manifest
    );
}

#[test]
fn record_writes_images_and_manifest() {
    let env = Env::new();
    env.write("suites/small.yaml", SMALL);
    assert_eq!(code(&env.run("1", &["record", "suites/small.yaml"])), 0);
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(env.path().join("baselines/small/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(m["format_version"], 1);
    let case = &m["cases"]["bottle"];
    assert_eq!(case["images"].as_array().unwrap().len(), 2);
    assert_eq!(case["fingerprint"].as_str().unwrap().len(), 64);
    assert_eq!(case["provider"][0]["headers"]["x-sim-build"], "1");
    assert!(env.path().join("baselines/small/bottle/1.png").is_file());
}
