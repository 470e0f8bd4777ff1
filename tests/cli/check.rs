use crate::harness::{Env, SMALL, code, redact, stderr, stdout};

fn check(env: &Env, suite: &str, text: &str) -> String {
    env.write(suite, text);
    let out = env.run("1", &["check", suite]);
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    redact(env, &stderr(&out))
}

#[test]
fn good_suite_with_baselines_passes() {
    let env = Env::new();
    env.write("suites/small.yaml", SMALL);
    assert_eq!(code(&env.run("1", &["record", "suites/small.yaml"])), 0);
    let out = env.run("1", &["check", "suites/small.yaml"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("3 cases, 6 baseline images verified"));
}

#[test]
fn unknown_key_is_located_with_a_suggestion() {
    let env = Env::new();
    insta::assert_snapshot!(check(
        &env,
        "suites/bad.yaml",
        &SMALL.replace("    prompt: red sneaker", "    promt: red sneaker")
    ));
}

#[test]
fn wrong_type_is_located() {
    let env = Env::new();
    insta::assert_snapshot!(check(
        &env,
        "suites/bad.yaml",
        &SMALL.replace("samples: 2", "samples: many")
    ));
}

#[test]
fn every_semantic_problem_is_reported_at_once() {
    let env = Env::new();
    let text = SMALL
        .replace("id: sneaker", "id: bottle")
        .replace("refs/bottle.png", "../outside.png")
        + "  - id: Bad/Id\n    prompt: x\n";
    insta::assert_snapshot!(check(&env, "suites/bad.yaml", &text));
}

#[test]
fn corrupted_baseline_image_is_caught() {
    let env = Env::new();
    env.write("suites/small.yaml", SMALL);
    assert_eq!(code(&env.run("1", &["record", "suites/small.yaml"])), 0);
    let img = env.path().join("baselines/small/sneaker/1.png");
    let mut bytes = std::fs::read(&img).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&img, &bytes).unwrap();
    let out = env.run("1", &["check", "suites/small.yaml"]);
    assert_eq!(code(&out), 2);
    let err = redact(&env, &stderr(&out));
    assert!(
        err.contains("baseline baselines/small/sneaker/1.png does not match its sha256"),
        "{err}"
    );
    assert!(img.is_file(), "nothing is deleted");
    let run = env.run("1", &["run", "suites/small.yaml", "--out", "r"]);
    assert_eq!(code(&run), 2);
}

#[test]
fn stale_baseline_says_re_record() {
    let env = Env::new();
    env.write("suites/small.yaml", SMALL);
    assert_eq!(code(&env.run("1", &["record", "suites/small.yaml"])), 0);
    insta::assert_snapshot!(check(
        &env,
        "suites/small.yaml",
        &SMALL.replace("seed: 3", "seed: 4")
    ));
}
