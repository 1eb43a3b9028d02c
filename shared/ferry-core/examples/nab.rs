//! Runs the detector over a NAB data folder and writes NAB result files:
//! `cargo run --release -p ferry-core --example nab -- DATA RESULTS [PREFIX]`.
//! `scripts/nab` runs it and the scorer.

use ferry_core::monitoring::anomaly::{backtest_at, DetectorConfig};
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (data, results) = (Path::new(&args[1]), Path::new(&args[2]));
    let prefix = args.get(3).cloned().unwrap_or_else(|| "ferry_".into());
    let mut config = DetectorConfig::default();
    if let Ok(json) = std::env::var("FERRY_DETECTOR") {
        config = serde_json::from_str(&json).expect("FERRY_DETECTOR is a DetectorConfig");
    }
    for category in std::fs::read_dir(data).unwrap().flatten() {
        if !category.path().is_dir() || category.file_name() == "labels" {
            continue;
        }
        let out = results.join(category.file_name());
        std::fs::create_dir_all(&out).unwrap();
        for file in std::fs::read_dir(category.path()).unwrap().flatten() {
            let text = std::fs::read_to_string(file.path()).unwrap();
            let rows: Vec<(&str, f64)> = text
                .lines()
                .skip(1)
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let (t, v) = l.split_once(',').unwrap();
                    (t, v.trim().parse().unwrap())
                })
                .collect();
            let points: Vec<(i64, f64)> = rows
                .iter()
                .map(|(t, v)| {
                    let at = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
                        .expect("a NAB timestamp");
                    (at.and_utc().timestamp(), *v)
                })
                .collect();
            let scores = backtest_at(&points, config);
            let mut csv = String::from("timestamp,value,anomaly_score\n");
            for ((t, v), s) in rows.iter().zip(scores) {
                csv.push_str(&format!("{t},{v},{s}\n"));
            }
            let name = format!("{prefix}{}", file.file_name().to_string_lossy());
            std::fs::write(out.join(name), csv).unwrap();
        }
    }
}
