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
fn a_suite_named_by_its_bare_file_name_finds_its_references() {
    let env = Env::new();
    env.write("suites/small.yaml", SMALL);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_driftgate"))
        .args(["record", "small.yaml", "--baselines", "../baselines"])
        .current_dir(env.path().join("suites"))
        .env("DRIFTGATE_SIM_BUILD", "1")
        .output()
        .expect("run driftgate");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(env.path().join("baselines/small/manifest.json").is_file());
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

/// A suite for `endpoint` with three cases, each breaking one of the catalogue's limits:
/// a size the endpoint refuses, a param that bills images driftgate throws away, and
/// references over the platform's limit (`refs` written as `refs/big-N.png` of `bytes`).
fn over_the_limits(
    env: &Env,
    provider: &str,
    endpoint: &str,
    refs: usize,
    bytes: usize,
    param: &str,
) -> String {
    for i in 0..refs {
        std::fs::write(
            env.path().join(format!("suites/refs/big-{i}.png")),
            vec![0u8; bytes],
        )
        .unwrap();
    }
    let list: Vec<String> = (0..refs).map(|i| format!("refs/big-{i}.png")).collect();
    let text = format!(
        "suite: limits\nmodel: {{ provider: {provider}, endpoint: {endpoint}, version: \"1\" }}\ncases:\n  - id: size\n    prompt: p\n    size: {{ width: 512, height: 512 }}\n  - id: param\n    prompt: p\n    params: {{ {param} }}\n  - id: refs\n    prompt: p\n    references: [{}]\n",
        list.join(", ")
    );
    check(env, "suites/limits.yaml", &text)
}

#[test]
fn fal_limits_are_checked_before_any_request() {
    let env = Env::new();
    insta::assert_snapshot!(over_the_limits(
        &env,
        "fal",
        "fal-ai/bytedance/seedream/v4.5/edit",
        11,
        8,
        "num_images: 4"
    ));
}

#[test]
fn openrouter_limits_are_checked_before_any_request() {
    let env = Env::new();
    insta::assert_snapshot!(over_the_limits(
        &env,
        "openrouter",
        "bytedance-seed/seedream-4.5",
        11,
        8,
        "n: 2"
    ));
}

#[test]
fn replicate_limits_are_checked_before_any_request() {
    let env = Env::new();
    insta::assert_snapshot!(over_the_limits(
        &env,
        "replicate",
        "bytedance/seedream-4.5",
        1,
        256 * 1024 + 1,
        "max_images: 3"
    ));
}

#[test]
fn ark_limits_are_checked_before_any_request() {
    let env = Env::new();
    insta::assert_snapshot!(over_the_limits(
        &env,
        "ark",
        "seedream-4-5-251128",
        1,
        10 * 1024 * 1024 + 1,
        "sequential_image_generation: auto"
    ));
}

#[test]
fn openai_limits_are_checked_before_any_request() {
    let env = Env::new();
    insta::assert_snapshot!(over_the_limits(
        &env,
        "openai",
        "gpt-image-1",
        17,
        8,
        "n: 4"
    ));
}

#[test]
fn wavespeed_limits_are_checked_before_any_request() {
    let env = Env::new();
    insta::assert_snapshot!(over_the_limits(
        &env,
        "wavespeed",
        "bytedance/seedream-v4.5/edit",
        11,
        8,
        "num_images: 2"
    ));
}

#[test]
fn atlascloud_limits_are_checked_before_any_request() {
    let env = Env::new();
    insta::assert_snapshot!(over_the_limits(
        &env,
        "atlascloud",
        "bytedance/seedream-v4.5/edit",
        11,
        8,
        "max_images: 15"
    ));
}

#[test]
fn seedream_45_refuses_512_with_the_accepted_range() {
    let env = Env::new();
    let err = check(
        &env,
        "suites/s.yaml",
        "suite: s\nmodel: { provider: fal, endpoint: fal-ai/bytedance/seedream/v4.5/text-to-image }\ndefaults: { size: { width: 512, height: 512 } }\ncases:\n  - id: a\n    prompt: p\n",
    );
    assert!(
        err.contains("suites/s.yaml:3:19: defaults: size 512x512 is refused"),
        "{err}"
    );
    assert!(
        err.contains("accepted: sides 1920..4096 or 3,686,400..16,777,216 px, nearest 1920x1920"),
        "{err}"
    );
    // The same suite is refused by `record --dry-run` before anything is sent.
    let out = env.run("1", &["record", "--dry-run", "suites/s.yaml"]);
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert!(stderr(&out).contains("size 512x512 is refused"));
}

#[test]
fn a_refused_size_in_defaults_is_reported_once_at_the_defaults() {
    let env = Env::new();
    let err = check(
        &env,
        "suites/s.yaml",
        "suite: s\nmodel: { provider: fal, endpoint: fal-ai/bytedance/seedream/v4.5/text-to-image }\ndefaults: { size: { width: 512, height: 512 } }\ncases:\n  - id: a\n    prompt: p\n  - id: b\n    prompt: q\n  - id: c\n    prompt: r\n    size: { width: 640, height: 640 }\n",
    );
    // Cases `a` and `b` inherit the size and are not named; `c` writes its own.
    assert_eq!(err.matches("size 512x512 is refused").count(), 1, "{err}");
    insta::assert_snapshot!(err);
}

#[test]
fn model_fields_are_located() {
    let env = Env::new();
    insta::assert_snapshot!(check(
        &env,
        "suites/bad.yaml",
        &SMALL.replace(
            "model: { provider: sim, endpoint: sim/test, version: \"1\" }",
            "model:\n  provider: sim\n  endpoint: sim/test\n  base_url: ftp://example.com\n  mode: chat\n  rpm: 0\n  api_key_env: \"NOT A VAR\""
        )
    ));
}

#[test]
fn check_warns_of_unhonoured_seeds_and_unknown_endpoints() {
    let env = Env::new();
    env.write(
        "suites/w.yaml",
        "suite: w\nmodel: { provider: replicate, endpoint: bytedance/seedream-4.5, version: \"1\" }\ndefaults: { seed: 3 }\ncases:\n  - id: a\n    prompt: p\n",
    );
    env.write(
        "suites/u.yaml",
        "suite: u\nmodel: { provider: fal, endpoint: fal-ai/flux/dev }\ncases:\n  - id: a\n    prompt: p\n",
    );
    let out = env.run("1", &["check", "suites/w.yaml", "suites/u.yaml"]);
    let err = redact(&env, &stderr(&out));
    let warnings: Vec<&str> = err.lines().filter(|l| !l.contains("is not set")).collect();
    insta::assert_snapshot!(warnings.join("\n"));
}
