//! `ferry alerts backtest FILE.csv`: the anomaly detector over a `timestamp,value` CSV,
//! one score per row, in NAB's results format or as a summary.

use anyhow::{bail, Result};
use ferry_core::monitoring::anomaly::Detector;
use std::path::Path;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum BacktestOutput {
    /// `timestamp,value,anomaly_score` for every row (NAB's results format).
    Nab,
    /// The highest-scoring rows.
    Summary,
}

/// Unix seconds of a timestamp as NAB and CloudWatch exports write them.
fn parse_timestamp(text: &str) -> Option<i64> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(at.timestamp());
    }
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(text, format).ok())
        .map(|at| at.and_utc().timestamp())
        .or_else(|| text.parse::<i64>().ok())
}

/// Rows of a `timestamp,value` CSV, with each timestamp also in Unix seconds (the
/// detector judges a point against its time of day and week); a bad row is named by
/// its line.
fn read_rows(path: &Path) -> Result<Vec<(String, i64, f64)>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim().starts_with("timestamp,value") => {}
        _ => bail!("{}:1: the header must be timestamp,value", path.display()),
    }
    let mut rows = Vec::new();
    for (index, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let Some((timestamp, value)) = line.split_once(',') else {
            bail!("{}:{}: expected timestamp,value", path.display(), index + 1);
        };
        let value: f64 = value
            .trim()
            .split(',')
            .next()
            .unwrap_or("")
            .parse()
            .map_err(|_| {
                anyhow::anyhow!(
                    "{}:{}: value '{}' is not a number",
                    path.display(),
                    index + 1,
                    value.trim()
                )
            })?;
        let timestamp = timestamp.trim();
        let Some(at) = parse_timestamp(timestamp) else {
            bail!(
                "{}:{}: timestamp '{timestamp}' is not YYYY-MM-DD HH:MM:SS, RFC 3339 or Unix seconds",
                path.display(),
                index + 1
            );
        };
        rows.push((timestamp.to_owned(), at, value));
    }
    if rows.is_empty() {
        bail!("{}: no rows after the header", path.display());
    }
    Ok(rows)
}

pub fn backtest(path: &Path, output: BacktestOutput) -> Result<()> {
    let rows = read_rows(path)?;
    let mut detector = Detector::default();
    let scores: Vec<f64> = rows
        .iter()
        .map(|(_, at, v)| detector.score_at(*at, *v))
        .collect();
    match output {
        BacktestOutput::Nab => {
            let mut out = String::from("timestamp,value,anomaly_score\n");
            for ((t, _, v), s) in rows.iter().zip(&scores) {
                out.push_str(&format!("{t},{v},{s}\n"));
            }
            use std::io::Write;
            // `| head` closes the pipe early: that is not an error.
            match std::io::stdout().lock().write_all(out.as_bytes()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
                _ => {}
            }
        }
        BacktestOutput::Summary => {
            let mut ranked: Vec<(usize, f64)> = scores.iter().copied().enumerate().collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            println!("{} points scored; the highest:", rows.len());
            for (i, score) in ranked.into_iter().take(10).filter(|(_, s)| *s > 0.0) {
                println!("  {}  value {}  score {score:.4}", rows[i].0, rows[i].2);
            }
        }
    }
    Ok(())
}
