//! Detector throughput in points per second on one core, beside a naive baseline (a
//! z-score against the running mean and variance) in the same run. Target: 10 M points/s.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ferry_core::monitoring::anomaly::Detector;
use std::hint::black_box;

/// A daily-seasonal series with noise and a few level shifts (deterministic).
fn series(n: usize) -> Vec<f64> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state % 1000) as f64 / 1000.0 - 0.5;
            let season = (i as f64 * std::f64::consts::TAU / 288.0).sin() * 10.0;
            let shift = if (i / 20_000) % 2 == 1 { 15.0 } else { 0.0 };
            50.0 + season + shift + noise * 4.0
        })
        .collect()
}

/// The naive baseline: Welford's running mean and variance, and a z-score.
fn naive(values: &[f64]) -> f64 {
    let (mut n, mut mean, mut m2, mut last) = (0.0, 0.0, 0.0, 0.0);
    for v in values {
        n += 1.0;
        let d = v - mean;
        mean += d / n;
        m2 += d * (v - mean);
        let sd = (m2 / n).sqrt().max(1e-9);
        let z = (v - mean).abs() / sd;
        last = z / (z + 4.0);
    }
    last
}

fn bench(c: &mut Criterion) {
    let values = series(1_000_000);
    let mut group = c.benchmark_group("anomaly detector, 1M points");
    group.throughput(Throughput::Elements(values.len() as u64));
    group.bench_function("naive z-score baseline", |b| {
        b.iter(|| naive(black_box(&values)))
    });
    group.bench_function("ferry detector, values only", |b| {
        b.iter(|| {
            let mut detector = Detector::default();
            let mut last = 0.0;
            for v in black_box(&values) {
                last = detector.score(*v);
            }
            last
        })
    });
    // What `ferry alerts backtest` and the NAB figures use: five-minute timestamps, so
    // the daily and weekly shape models learn and judge too.
    group.bench_function("ferry detector, with daily and weekly shapes", |b| {
        b.iter(|| {
            let mut detector = Detector::default();
            let mut last = 0.0;
            for (i, v) in black_box(&values).iter().enumerate() {
                last = detector.score_at(1_700_000_000 + 300 * i as i64, *v);
            }
            last
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
