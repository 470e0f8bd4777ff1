//! The shared benchmarks of real photographs: `drift-bench` (4 samples a case, also run at
//! the default 3) and `drift-bench2` (3 samples, what hosted platforms do wrong).

use std::path::{Path, PathBuf};

use crate::{Verdict, compare, parallel_map};

/// Folders of fresh samples with no drift: every flag there is a false alarm.
fn is_no_drift(folder: &str) -> bool {
    folder == "nodrift" || folder.starts_with("night")
}

/// Folders where some samples are degenerate (blank, failed): flagged with no statistics.
fn is_degenerate(folder: &str) -> bool {
    folder.starts_with("blank")
}

/// Folders whose drift moves only chroma (a hue rotation, a desaturation): on a greyscale
/// photograph they leave the pixels as they were, so such cases carry nothing to find.
fn chroma_only(folder: &str) -> bool {
    folder.starts_with("hue") || folder.starts_with("desat")
}

/// Whether a case's baseline is a greyscale photograph: mean channel spread of its first
/// sample under one level (JPEG chroma rounding leaves a little).
fn is_grey(bench: &Path, case: &str) -> bool {
    let Some(first) = std::fs::read_dir(bench.join("base").join(case))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .min()
    else {
        return false;
    };
    let Ok(img) = image::open(&first) else {
        return false;
    };
    let img = img.to_rgb8();
    let spread: f64 = img
        .pixels()
        .map(|p| {
            let [r, g, b] = p.0.map(i32::from);
            f64::from((r - g).abs().max((g - b).abs()).max((r - b).abs()))
        })
        .sum();
    spread / f64::from((img.width() * img.height()).max(1)) < 1.0
}

fn folders(bench: &Path) -> Vec<String> {
    let mut folders: Vec<String> = std::fs::read_dir(bench)
        .expect("read bench")
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n != "base")
        .collect();
    folders.sort_by_key(|n| (!is_no_drift(n), is_degenerate(n), n.clone()));
    folders
}

/// A copy of the bench keeping samples `0..samples` of every case.
fn trimmed_copy(from: &Path, to: &Path, samples: u32) -> PathBuf {
    for folder in std::fs::read_dir(from).expect("read bench").flatten() {
        if !folder.path().is_dir() {
            continue;
        }
        for case in std::fs::read_dir(folder.path())
            .expect("read folder")
            .flatten()
        {
            let dir = to.join(folder.file_name()).join(case.file_name());
            std::fs::create_dir_all(&dir).expect("mkdir");
            for file in std::fs::read_dir(case.path()).expect("read case").flatten() {
                let keep = file
                    .path()
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .and_then(|s| s.parse::<u32>().ok())
                    .is_some_and(|n| n < samples);
                if keep {
                    std::fs::copy(file.path(), dir.join(file.file_name())).expect("copy sample");
                }
            }
        }
    }
    to.to_path_buf()
}

/// A copy of `from` whose sample 2 in every case is a flat grey image of the same size:
/// a provider returning one blank picture among several.
fn grey_copy(from: &Path, to: &Path) -> PathBuf {
    for case in std::fs::read_dir(from).expect("read folder").flatten() {
        let dir = to.join(case.file_name());
        std::fs::create_dir_all(&dir).expect("mkdir");
        for file in std::fs::read_dir(case.path()).expect("read case").flatten() {
            let path = file.path();
            if path.file_stem().is_some_and(|s| s == "2") {
                let (w, h) = image::image_dimensions(&path).expect("image size");
                image::RgbImage::from_pixel(w, h, image::Rgb([128, 128, 128]))
                    .save(dir.join("2.png"))
                    .expect("write grey sample");
            } else {
                std::fs::copy(&path, dir.join(file.file_name())).expect("copy sample");
            }
        }
    }
    to.to_path_buf()
}

/// Cases flagged in one folder.
struct Tally {
    flagged: usize,
    cases: usize,
    missed: Vec<String>,
    /// Flagged and all, over the cases whose pixels the drift changes.
    changed: (usize, usize),
}

impl Tally {
    fn of(verdicts: &[Verdict], no_drift: bool, unchanged: &[String]) -> Self {
        let changed: Vec<&Verdict> = verdicts
            .iter()
            .filter(|v| !unchanged.contains(&v.id))
            .collect();
        let flagged = verdicts.iter().filter(|v| v.drift).count();
        // For a no-drift folder the cases worth naming are the flagged ones.
        let named = verdicts
            .iter()
            .filter(|v| v.drift == no_drift)
            .map(|v| v.id.clone())
            .collect();
        Tally {
            flagged,
            cases: verdicts.len(),
            missed: named,
            changed: (changed.iter().filter(|v| v.drift).count(), changed.len()),
        }
    }

    fn cell(&self) -> String {
        format!("{}/{}", self.flagged, self.cases)
    }
}

/// Totals over both benches at 3 samples, for the "done when".
#[derive(Default)]
pub(crate) struct Totals {
    drift: (usize, usize),
    degenerate: (usize, usize),
    alarms: (usize, usize),
    alarms_at_4: (usize, usize),
}

fn add(to: &mut (usize, usize), t: &Tally) {
    to.0 += t.flagged;
    to.1 += t.cases;
}

fn add_changed(to: &mut (usize, usize), t: &Tally) {
    to.0 += t.changed.0;
    to.1 += t.changed.1;
}

fn print_row(folder: &str, at3: &Tally, at4: Option<&Tally>) {
    let no_drift = is_no_drift(folder);
    let label = if no_drift {
        format!("{folder} (false alarms)")
    } else {
        folder.to_string()
    };
    let missed = |t: &Tally| {
        if no_drift {
            if t.missed.is_empty() {
                String::new()
            } else {
                format!("flagged: {}", t.missed.join(" "))
            }
        } else {
            t.missed.join(" ")
        }
    };
    match at4 {
        Some(t4) => println!(
            "| {label} | {} | {} | {} | {} |",
            at3.cell(),
            t4.cell(),
            missed(at3),
            missed(t4)
        ),
        None => println!("| {label} | {} | {} |", at3.cell(), missed(at3)),
    }
}

/// `unchanged`: the cases of `folder` whose pixels its drift leaves as they were.
fn run_folder(work: &Path, bench: &Path, folder: &str, unchanged: &[String]) -> Tally {
    let v = compare(work, &bench.join("base"), &bench.join(folder));
    Tally::of(&v, is_no_drift(folder), unchanged)
}

fn unchanged_cases(bench: &Path, folder: &str) -> Vec<String> {
    if !chroma_only(folder) {
        return Vec::new();
    }
    let mut cases: Vec<String> = std::fs::read_dir(bench.join(folder))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|case| is_grey(bench, case))
        .collect();
    cases.sort();
    cases
}

/// `drift-bench`: every folder at 3 samples (a trimmed copy) and at 4 (as is).
fn bench_one(work: &Path, bench: &Path, totals: &mut Totals) {
    println!(
        "\ndrift benchmark: {} (3 samples: samples 0..2 of every case; 4: as is)\n",
        bench.display()
    );
    println!("| folder | flagged at 3 | flagged at 4 | missed at 3 | missed at 4 |");
    println!("|---|---|---|---|---|");
    let three = trimmed_copy(bench, &work.join("bench-3"), 3);
    let (mut drift3, mut drift4) = ((0, 0), (0, 0));
    let (mut changed3, mut changed4) = ((0, 0), (0, 0));
    let mut unchanged_all = Vec::new();
    let folders = folders(bench);
    let runs = parallel_map(&folders, |folder| {
        let unchanged = unchanged_cases(bench, folder);
        let t3 = run_folder(work, &three, folder, &unchanged);
        let t4 = run_folder(work, bench, folder, &unchanged);
        (unchanged, t3, t4)
    });
    for (folder, (unchanged, t3, t4)) in folders.iter().zip(runs) {
        let folder = folder.as_str();
        print_row(folder, &t3, Some(&t4));
        if is_no_drift(folder) {
            add(&mut totals.alarms, &t3);
            add(&mut totals.alarms_at_4, &t4);
        } else {
            add(&mut drift3, &t3);
            add(&mut drift4, &t4);
            add_changed(&mut changed3, &t3);
            add_changed(&mut changed4, &t4);
            unchanged_all.extend(unchanged.iter().map(|c| format!("{folder}/{c}")));
        }
    }
    println!(
        "| **all drift** | {}/{} | {}/{} | | |",
        drift3.0, drift3.1, drift4.0, drift4.1
    );
    println!(
        "| **cases whose pixels change** | {}/{} | {}/{} | | |",
        changed3.0, changed3.1, changed4.0, changed4.1
    );
    totals.drift.0 += changed3.0;
    totals.drift.1 += changed3.1;
    // One sample of every no-drift case replaced by a flat grey image.
    let grey3 = grey_copy(&three.join("nodrift"), &work.join("grey-3"));
    let grey4 = grey_copy(&bench.join("nodrift"), &work.join("grey-4"));
    let g3 = Tally::of(&compare(work, &three.join("base"), &grey3), false, &[]);
    let g4 = Tally::of(&compare(work, &bench.join("base"), &grey4), false, &[]);
    println!(
        "| nodrift, sample 2 grey (degenerate) | {} | {} | {} | {} |",
        g3.cell(),
        g4.cell(),
        g3.missed.join(" "),
        g4.missed.join(" ")
    );
    add(&mut totals.degenerate, &g3);
    if !unchanged_all.is_empty() {
        println!(
            "\n(pixels unchanged, greyscale under a chroma-only drift: {})",
            unchanged_all.join(" ")
        );
    }
}

/// `drift-bench2`: every folder at its 3 samples.
fn bench_two(work: &Path, bench: &Path, totals: &mut Totals) {
    println!("\ndrift benchmark 2: {} (3 samples)\n", bench.display());
    println!("| folder | flagged at 3 | missed at 3 |");
    println!("|---|---|---|");
    let folders = folders(bench);
    let runs = parallel_map(&folders, |folder| {
        run_folder(work, bench, folder, &unchanged_cases(bench, folder))
    });
    for (folder, t) in folders.iter().zip(runs) {
        let folder = folder.as_str();
        print_row(folder, &t, None);
        if is_no_drift(folder) {
            add(&mut totals.alarms, &t);
        } else if is_degenerate(folder) {
            add(&mut totals.degenerate, &t);
        } else {
            add_changed(&mut totals.drift, &t);
        }
    }
}

fn bench_dir(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join(default),
        PathBuf::from,
    )
}

fn percent(hit: usize, all: usize) -> f64 {
    100.0 * hit as f64 / all.max(1) as f64
}

/// Runs whichever shared benches are present and prints the totals the issue asks for.
pub(crate) fn run(work: &Path) {
    let one = bench_dir("DRIFTGATE_BENCH", "../shared/drift-bench");
    let two = bench_dir("DRIFTGATE_BENCH2", "../shared/drift-bench2");
    let mut totals = Totals::default();
    let mut ran = false;
    for (dir, var, run) in [
        (
            &one,
            "DRIFTGATE_BENCH",
            bench_one as fn(&Path, &Path, &mut Totals),
        ),
        (&two, "DRIFTGATE_BENCH2", bench_two),
    ] {
        if dir.join("base").is_dir() {
            run(work, dir, &mut totals);
            ran = true;
        } else {
            println!("\nskipped: no benchmark at {} (set {var})", dir.display());
        }
    }
    if !ran {
        return;
    }
    let Totals {
        drift,
        degenerate,
        alarms,
        alarms_at_4,
    } = totals;
    println!();
    println!(
        "drifted cases whose pixels change flagged at 3 samples, both benches: {} of {} ({:.1}%; target >= 97%)",
        drift.0,
        drift.1,
        percent(drift.0, drift.1)
    );
    println!(
        "degenerate samples flagged at 3 samples (blank1, grey-sample copy): {} of {} (target: all)",
        degenerate.0, degenerate.1
    );
    println!(
        "false alarms at 3 samples (nodrift, night1..3): {} of {} (target 0); at 4 (nodrift): {} of {}",
        alarms.0, alarms.1, alarms_at_4.0, alarms_at_4.1
    );
}
