//! `ferry alerts backtest FILE.csv`: the anomaly detector over a `timestamp,value` CSV,
//! one score per row, in NAB's results format or as a summary.

use anyhow::{bail, Result};
use ferry_core::anomaly::Detector;
use std::path::Path;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum BacktestOutput {
    /// `timestamp,value,anomaly_score` for every row (NAB's results format).
    Nab,
    /// The highest-scoring rows.
    Summary,
}

/// Rows of a `timestamp,value` CSV; a bad row is named by its line.
fn read_rows(path: &Path) -> Result<Vec<(String, f64)>> {
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
        rows.push((timestamp.trim().to_owned(), value));
    }
    if rows.is_empty() {
        bail!("{}: no rows after the header", path.display());
    }
    Ok(rows)
}

pub fn backtest(path: &Path, output: BacktestOutput) -> Result<()> {
    let rows = read_rows(path)?;
    let mut detector = Detector::default();
    let scores: Vec<f64> = rows.iter().map(|(_, v)| detector.score(*v)).collect();
    match output {
        BacktestOutput::Nab => {
            let mut out = String::from("timestamp,value,anomaly_score\n");
            for ((t, v), s) in rows.iter().zip(&scores) {
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
                println!("  {}  value {}  score {score:.4}", rows[i].0, rows[i].1);
            }
        }
    }
    Ok(())
}
