//! Data safety: kills, Ctrl-C, concurrent writers, stray writes and damaged baselines.
//!
//! The kill loops cover `record --force` and `accept`, which switch baselines in through
//! the same store commit.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::{self, Fal, Project, code, text};

/// For every case folder of a suite's baselines: `n.png` → sha256 of the bytes.
fn images(suite_dir: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(suite_dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !e.path().is_dir() || name.starts_with('.') {
            continue;
        }
        let mut files = BTreeMap::new();
        for f in std::fs::read_dir(e.path()).into_iter().flatten().flatten() {
            let fname = f.file_name().to_string_lossy().into_owned();
            if fname.starts_with('.') {
                continue;
            }
            let bytes = std::fs::read(f.path()).expect("read image");
            files.insert(fname, sha256(&bytes));
        }
        out.insert(name, files);
    }
    out
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// A small deterministic generator, so a failing iteration can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// The kill loops' seed: `DRIFTGATE_TEST_SEED` replays a printed one, else the clock's
/// nanoseconds pick a new one each run (every failure message prints it).
fn seed() -> u64 {
    if let Some(s) = std::env::var("DRIFTGATE_TEST_SEED")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        return s | 1;
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("seed {seed} (replay with DRIFTGATE_TEST_SEED={seed})");
    seed
}

/// Signals sent in the loop: SIGKILL, and SIGINT every fifth time.
const KILLS: usize = 60;

#[test]
fn record_killed_at_random_points_leaves_every_case_old_or_new() {
    let p = Project::new();
    let suite = p.write("suites/tiny.yaml", harness::sim_suite(6));
    let suite = suite.to_str().unwrap();
    // The two states a baseline may be in: everything from build 1, or from build 2.
    let mut reference = Vec::new();
    for build in ["1", "2"] {
        let dir = format!("ref-{build}");
        let o = p
            .cmd(&["record", suite, "--baselines", &dir])
            .env("DRIFTGATE_SIM_BUILD", build)
            .output()
            .unwrap();
        assert_eq!(code(&o), 0, "{}", text(&o));
        reference.push(images(&p.path().join(dir).join("tiny")));
    }
    assert_ne!(reference[0], reference[1]);
    let started = Instant::now();
    let o = p
        .cmd(&["record", suite, "--baselines", "baselines"])
        .env("DRIFTGATE_SIM_BUILD", "1")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o));
    let full = started.elapsed().as_micros() as u64;

    let seed = seed();
    let mut rng = Rng(seed);
    let (mut switched, mut forward, mut discarded) = (0, 0, 0);
    let mut previous = images(&p.path().join("baselines/tiny"));
    for i in 0..KILLS {
        let build = if i % 2 == 0 { "2" } else { "1" };
        let mut child = p
            .cmd(&["record", "--force", suite, "--baselines", "baselines", "-q"])
            .env("DRIFTGATE_SIM_BUILD", build)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Anywhere from before the process starts working to just after it would finish.
        std::thread::sleep(Duration::from_micros(rng.below(full + full / 5)));
        if i % 5 == 4 {
            // Ctrl-C: record has no handler, so this ends it like a kill, only later.
            let _ = std::process::Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
        } else {
            let _ = child.kill();
        }
        let _ = child.wait();

        // Which window the signal hit: after the commit point (the next start finishes
        // the switch) or while staging (the next start discards it).
        let staging = p.path().join("baselines/tiny/.staging");
        if staging.join("COMMIT").exists() {
            forward += 1;
        } else if staging.exists() {
            discarded += 1;
        }
        let check = p.run(&["check", suite, "--baselines", "baselines"]);
        assert_eq!(
            code(&check),
            0,
            "iteration {i} (seed {seed}): check fails after a kill\n{}",
            text(&check)
        );
        let now = images(&p.path().join("baselines/tiny"));
        for (case, files) in &now {
            assert!(
                reference.iter().any(|r| r.get(case) == Some(files)),
                "iteration {i} (seed {seed}): case {case} mixes old and new images: {files:?}"
            );
        }
        assert_eq!(now.len(), 6, "iteration {i}: a case folder vanished");
        if now != previous {
            switched += 1;
        }
        previous = now;
    }
    eprintln!(
        "{KILLS} kills ({} SIGINT): {switched} switched the baselines, {forward} mid-switch \
         (rolled forward), {discarded} mid-staging (discarded); seed {seed}",
        KILLS / 5
    );

    // A completed record afterwards leaves no debris of the interrupted ones.
    let o = p.run(&["record", "--force", suite, "--baselines", "baselines"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let left: Vec<_> = harness::tree(&p.path().join("baselines"))
        .into_keys()
        .filter(|k| {
            k.components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        })
        .collect();
    assert!(left.is_empty(), "debris left: {left:?}");
}

#[test]
fn leftover_temp_files_are_cleaned_and_ignored() {
    let p = Project::new();
    let suite = p.write("suites/tiny.yaml", harness::sim_suite(2));
    let suite = suite.to_str().unwrap();
    assert_eq!(code(&p.run(&["record", suite])), 0);
    p.write("baselines/tiny/.driftgate-tmp-999-0-manifest.json", "{half");
    p.write(
        "baselines/tiny/case-0/.driftgate-tmp-999-1-0.png",
        "half a png",
    );
    let check = p.run(&["check", suite]);
    assert_eq!(code(&check), 0, "{}", text(&check));
    let o = p.run(&["run", suite, "--out", "out"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(
        !p.path()
            .join("baselines/tiny/case-0/.driftgate-tmp-999-1-0.png")
            .exists()
    );
    assert!(
        !p.path()
            .join("baselines/tiny/.driftgate-tmp-999-0-manifest.json")
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_record_of_the_same_suite_is_refused_by_a_lock() {
    let fal = Fal::start().await;
    let p = Project::new();
    let file = p.write("suites/faults.yaml", harness::fal_suite(&fal.uri(), 1));
    let file = file.to_str().unwrap().to_string();
    fal.when(
        "a",
        harness::answer(&fal.file("ok.png")).set_delay(Duration::from_millis(1500)),
    )
    .await;
    let first = p
        .cmd(&["record", "--force", &file, "--retry-base-ms", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lock = p.path().join("baselines/faults/.lock");
    let until = Instant::now() + Duration::from_secs(10);
    while !lock.exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    let started = Instant::now();
    let second = p.run(&["record", "--force", &file]);
    assert_eq!(code(&second), 2, "{}", text(&second));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains(&format!(
            "another driftgate is recording suite faults (pid {})",
            first.id()
        )),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "it must fail fast"
    );
    let first = first.wait_with_output().unwrap();
    assert_eq!(code(&first), 0, "{}", text(&first));
    assert!(!lock.exists(), "the lock is released");
    assert_eq!(code(&p.run(&["check", &file])), 0);
}

#[test]
fn lock_file_left_by_a_dead_process_does_not_block() {
    let p = Project::new();
    let suite = p.write("suites/tiny.yaml", harness::sim_suite(1));
    let suite = suite.to_str().unwrap();
    let mut dead = std::process::Command::new("true").spawn().unwrap();
    let pid = dead.id();
    dead.wait().unwrap();
    // What a killed holder leaves: the file with its pid. The OS released its lock.
    p.write("baselines/tiny/.lock", format!("{pid}\n"));
    let o = p.run(&["record", suite]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(!p.path().join("baselines/tiny/.lock").exists());
    // A lock held by a live process (this test) is respected, and named.
    let path = p.write("baselines/tiny/.lock", format!("{}\n", std::process::id()));
    let held = std::fs::File::open(&path).unwrap();
    held.try_lock().unwrap();
    let o = p.run(&["record", "--force", suite]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "another driftgate is recording suite tiny (pid {})",
            std::process::id()
        )),
        "{}",
        text(&o)
    );
    // Released, the same file no longer blocks.
    drop(held);
    let o = p.run(&["record", "--force", suite]);
    assert_eq!(code(&o), 0, "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn sigint_during_run_writes_a_partial_report_marked_incomplete() {
    let fal = Fal::start().await;
    let (p, file) = harness::recorded(&fal, 2).await;
    fal.when("HEALTHY", harness::answer(&fal.file("ok.png")))
        .await;
    fal.when(
        "FAULTY",
        harness::answer(&fal.file("ok.png")).set_delay(Duration::from_secs(30)),
    )
    .await;
    let child = p
        .cmd(&["run", &file, "--out", "out", "--timeout", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    // Both samples of the case go out in one request.
    while fal.requests("FAULTY").await < 1 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(code(&o), 3, "{}", text(&o));
    let report = p.json("out/run.json");
    assert_eq!(report["verdict"], "incomplete");
    assert_eq!(harness::case(&report, "healthy")["verdict"], "pass");
    let faulty = harness::case(&report, "faulty");
    assert_eq!(faulty["verdict"], "error");
    assert!(
        harness::reasons(faulty).contains("interrupted"),
        "{faulty:#}"
    );
    for f in ["index.html", "junit.xml", "summary.md"] {
        assert!(p.path().join("out").join(f).exists(), "{f}");
    }
}

#[test]
fn nothing_is_written_outside_out_and_baselines() {
    let p = Project::new();
    let suite = p.write("suites/tiny.yaml", harness::sim_suite(2));
    let suite = suite.to_str().unwrap().to_string();
    let before = harness::tree(p.path());
    for args in [
        vec!["record", &suite, "--baselines", "store"],
        vec!["check", &suite, "--baselines", "store"],
        vec!["run", &suite, "--baselines", "store", "--out", "report"],
        vec!["report", "report"],
    ] {
        let o = p.run(&args);
        assert_eq!(code(&o), 0, "{args:?}: {}", text(&o));
    }
    let after: BTreeMap<_, _> = harness::tree(p.path())
        .into_iter()
        .filter(|(k, _)| !k.starts_with("store") && !k.starts_with("report"))
        .collect();
    assert_eq!(before, after);
    assert!(
        harness::tree(&p.path().join("store"))
            .keys()
            .all(|k| !k.ends_with(".lock"))
    );
}

/// A recorded tiny suite, its baseline files, and a listing to prove nothing is deleted.
fn damaged(damage: impl FnOnce(&Project)) -> (Project, String) {
    let p = Project::new();
    let suite = p.write("suites/tiny.yaml", harness::sim_suite(2));
    let suite = suite.to_str().unwrap().to_string();
    assert_eq!(code(&p.run(&["record", &suite])), 0);
    damage(&p);
    (p, suite)
}

fn refused_by_check_and_run(p: &Project, suite: &str, phrase: &str) {
    let before = harness::tree(&p.path().join("baselines"));
    let check = p.run(&["check", suite]);
    assert_eq!(code(&check), 2, "{}", text(&check));
    assert!(text(&check).contains(phrase), "{}", text(&check));
    let run = p.run(&["run", suite, "--out", "out"]);
    assert_eq!(code(&run), 2, "{}", text(&run));
    assert!(text(&run).contains(phrase), "{}", text(&run));
    assert!(!p.path().join("out/run.json").exists());
    assert_eq!(
        before,
        harness::tree(&p.path().join("baselines")),
        "nothing changed"
    );
}

#[test]
fn baseline_whose_bytes_no_longer_match_its_sha256_is_refused() {
    let (p, suite) = damaged(|p| {
        let f = p.path().join("baselines/tiny/case-1/0.png");
        let mut b = std::fs::read(&f).unwrap();
        let last = b.len() - 20;
        b[last] ^= 0xff;
        std::fs::write(f, b).unwrap();
    });
    refused_by_check_and_run(&p, &suite, "case-1/0.png does not match its sha256");
}

#[test]
fn manifest_that_is_not_json_is_refused() {
    let (p, suite) = damaged(|p| {
        p.write("baselines/tiny/manifest.json", "{\"format_version\": 1, ");
    });
    refused_by_check_and_run(&p, &suite, "manifest.json is not valid");
}

#[test]
fn missing_baseline_image_is_refused() {
    let (p, suite) = damaged(|p| {
        std::fs::remove_file(p.path().join("baselines/tiny/case-0/1.png")).unwrap();
    });
    refused_by_check_and_run(&p, &suite, "case-0/1.png is missing");
}

#[test]
fn manifest_naming_files_outside_the_store_is_refused_without_reading_them() {
    for hostile in [
        "../../suites/tiny.yaml",
        "/dev/zero",
        "case-0/../../../suites/tiny.yaml",
    ] {
        let (p, suite) = damaged(|p| {
            let path = p.path().join("baselines/tiny/manifest.json");
            let mut m: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            m["cases"]["case-0"]["images"][0]["file"] = hostile.into();
            std::fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
        });
        // A timeout turns an endless read (of /dev/zero) into a failure.
        for args in [
            vec!["check", suite.as_str()],
            vec!["run", suite.as_str(), "--out", "out"],
        ] {
            let started = Instant::now();
            let o = std::process::Command::new("timeout")
                .arg("20")
                .arg(env!("CARGO_BIN_EXE_driftgate"))
                .args(&args)
                .current_dir(p.path())
                .output()
                .unwrap();
            assert_eq!(code(&o), 2, "{hostile}: {}", text(&o));
            assert!(
                text(&o).contains("is not a baseline image path"),
                "{hostile}: {}",
                text(&o)
            );
            assert!(started.elapsed() < Duration::from_secs(5));
        }
    }
}

#[test]
fn run_killed_at_random_points_leaves_baselines_untouched() {
    let p = Project::new();
    let suite = p.write("suites/tiny.yaml", harness::sim_suite(4));
    let suite = suite.to_str().unwrap();
    assert_eq!(code(&p.run(&["record", suite])), 0);
    let before = harness::tree(&p.path().join("baselines"));
    let seed = seed();
    let mut rng = Rng(seed);
    for i in 0..10 {
        let out = format!("out-{i}");
        let mut child = p
            .cmd(&["run", suite, "--out", &out, "-q"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(300)));
        let _ = child.kill();
        let _ = child.wait();
    }
    assert_eq!(
        before,
        harness::tree(&p.path().join("baselines")),
        "seed {seed}: a killed run changed the baselines"
    );
    let o = p.run(&["run", suite, "--out", "final"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
}

/// Copies a folder tree (the pristine baselines an iteration starts from).
fn copy_tree(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    for (rel, bytes) in harness::tree(from) {
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, bytes).unwrap();
    }
}

#[test]
fn accept_killed_at_random_points_leaves_every_case_old_or_new() {
    let p = Project::new();
    let suite = p.write("suites/tiny.yaml", harness::sim_suite(6));
    let suite = suite.to_str().unwrap();
    let o = p
        .cmd(&["record", suite, "--baselines", "pristine"])
        .env("DRIFTGATE_SIM_BUILD", "1")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = p
        .cmd(&[
            "run",
            suite,
            "--baselines",
            "pristine",
            "--out",
            "night",
            "-q",
        ])
        .env("DRIFTGATE_SIM_BUILD", "2")
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "{}", text(&o));
    let old = images(&p.path().join("pristine/tiny"));
    let new = images(&p.path().join("night/candidates/tiny"));
    assert_ne!(old, new);

    copy_tree(&p.path().join("pristine"), &p.path().join("baselines"));
    let started = Instant::now();
    let o = p.run(&["accept", "night", "--baselines", "baselines"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let full = started.elapsed().as_micros() as u64;
    assert_eq!(images(&p.path().join("baselines/tiny")), new);

    let seed = seed();
    let mut rng = Rng(seed);
    let mut switched = 0;
    for i in 0..KILLS {
        copy_tree(&p.path().join("pristine"), &p.path().join("baselines"));
        let mut child = p
            .cmd(&["accept", "night", "--baselines", "baselines", "-q"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(rng.below(full + full / 5)));
        let _ = child.kill();
        let _ = child.wait();
        let check = p.run(&["check", suite, "--baselines", "baselines"]);
        let now = images(&p.path().join("baselines/tiny"));
        assert_eq!(
            code(&check),
            0,
            "iteration {i} (seed {seed}): check fails after a kill\n{}",
            text(&check)
        );
        for (case, files) in &now {
            assert!(
                old.get(case) == Some(files) || new.get(case) == Some(files),
                "iteration {i} (seed {seed}): case {case} mixes old and new images: {files:?}"
            );
        }
        if now == new {
            switched += 1;
        }
    }
    eprintln!("{KILLS} kills of accept: {switched} had switched the baselines; seed {seed}");
}
