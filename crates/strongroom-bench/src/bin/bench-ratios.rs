//! Prints criterion's medians as a table of ratios against chosen baselines.
//!
//! usage: bench-ratios GROUP_PREFIX BASELINE [BASELINE...]
//! e.g.   bench-ratios guarded floor_anonymous sodium_malloc
//!
//! Reads `target/criterion/**/new/{benchmark,estimates}.json` from the last `cargo bench`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&fs::read_to_string(path).ok()?).ok()
}

fn estimates(root: &Path, out: &mut Vec<(String, String, f64)>) {
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.ends_with("new") {
            let bench = read_json(&path.join("benchmark.json"));
            let est = read_json(&path.join("estimates.json"));
            if let (Some(bench), Some(est)) = (bench, est) {
                let group = bench["group_id"].as_str().unwrap_or("").to_owned();
                let func = bench["function_id"].as_str().unwrap_or("").to_owned();
                if let Some(median) = est["median"]["point_estimate"].as_f64() {
                    out.push((group, func, median));
                }
            }
        } else if path.is_dir() {
            estimates(&path, out);
        }
    }
}

fn human(ns: f64) -> String {
    match ns {
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.2} µs", n / 1e3),
        n => format!("{n:.1} ns"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((prefix, baselines)) = args.split_first() else {
        eprintln!("usage: bench-ratios GROUP_PREFIX BASELINE [BASELINE...]");
        std::process::exit(2);
    };
    let root = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let mut all = Vec::new();
    estimates(&root.join("criterion"), &mut all);
    let mut groups: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
    for (group, func, median) in all.into_iter().filter(|(g, _, _)| g.starts_with(prefix.as_str())) {
        groups.entry(group).or_default().push((func, median));
    }
    let mut header = "| group | candidate | median |".to_owned();
    for b in baselines {
        header += &format!(" × {b} |");
    }
    println!("{header}\n|{}", "---|".repeat(3 + baselines.len()));
    for (group, mut rows) in groups {
        rows.sort_by(|a, b| a.1.total_cmp(&b.1));
        let find = |name: &str| rows.iter().find(|(f, _)| f == name).map(|(_, m)| *m);
        for (func, median) in &rows {
            let mut line = format!("| {group} | {func} | {} |", human(*median));
            for b in baselines {
                line += &match find(b) {
                    Some(base) => format!(" {:.3} |", median / base),
                    None => " – |".to_owned(),
                };
            }
            println!("{line}");
        }
    }
}
