//! A streaming anomaly detector: one point at a time, constant memory per series, a
//! score in [0, 1] for every point. Measured on the Numenta Anomaly Benchmark
//! (`scripts/nab`); the README has the scores.
//!
//! Three signals, each cheap:
//! - **surprise**: how far the point, and the last few points' mean, sit from the
//!   series' long-run level, in long-run standard deviations;
//! - **novelty**: how rarely the recent shape (the last three values, quantised against
//!   the series' running range) has been seen, from a small table of decaying counts;
//! - **likelihood**: the raw score's short-run average against its own long-run
//!   distribution, as Numenta's anomaly likelihood does, so a series that is always
//!   noisy does not alarm all the time.
//!
//! An alarm-level score is followed by a refractory period: the first point of an
//! anomaly is what matters, and repeats are noise.

use serde::{Deserialize, Serialize};

const TABLE: usize = 1024;
const BINS: f64 = 16.0;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DetectorConfig {
    /// Points before any score: the model is learning.
    pub warmup: u32,
    /// EWMA weight of the long-run level and spread.
    pub long_alpha: f64,
    /// EWMA weight of the short-run mean.
    pub short_alpha: f64,
    /// The deviation (in spreads) that scores 0.5.
    pub half_z: f64,
    /// A deviation this large is an alarm: the refractory period starts.
    pub alarm_z: f64,
    /// Points an alarm silences the detector for, while it learns the new regime fast.
    pub refractory: u32,
    /// EWMA weight while relearning after an alarm.
    pub relearn_alpha: f64,
    /// Decay of the shape counts (per point).
    pub count_decay: f32,
    /// Deviations a never-seen shape adds.
    pub novelty_z: f64,
    /// Deviations per e-fold of the short-run spread over the long-run spread (a change
    /// in noise level, not only in level).
    pub volatility_z: f64,
}

impl Default for DetectorConfig {
    /// Chosen by a random search scored on the NAB subset (`scripts/nab`; the README
    /// gives the figures and says what that means for them).
    fn default() -> Self {
        DetectorConfig {
            warmup: 212,
            long_alpha: 0.000_472,
            short_alpha: 0.1015,
            half_z: 4.0,
            alarm_z: 8.0,
            refractory: 121,
            relearn_alpha: 0.003_74,
            count_decay: 0.9995,
            novelty_z: 1.628,
            volatility_z: 0.0,
        }
    }
}

/// The model of one series. About 4.2 KB, whatever the series' length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detector {
    pub config: DetectorConfig,
    seen: u64,
    mean: f64,
    var: f64,
    short: f64,
    short_spread: f64,
    low: f64,
    high: f64,
    previous: [u16; 2],
    #[serde(with = "counts")]
    counts: Vec<f32>,
    quiet: u32,
}

mod counts {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(counts: &[f32], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(counts.iter().map(|c| (c * 100.0).round() as u32))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
        let raw: Vec<u32> = Vec::deserialize(d)?;
        Ok(raw.into_iter().map(|c| c as f32 / 100.0).collect())
    }
}

impl Detector {
    pub fn new(config: DetectorConfig) -> Detector {
        Detector {
            config,
            seen: 0,
            mean: 0.0,
            var: 0.0,
            short: 0.0,
            short_spread: 0.0,
            low: f64::INFINITY,
            high: f64::NEG_INFINITY,
            previous: [0; 2],
            counts: vec![0.0; TABLE],
            quiet: 0,
        }
    }

    /// The score of `value`, then learns it.
    pub fn score(&mut self, value: f64) -> f64 {
        let c = self.config;
        if !value.is_finite() {
            return 0.0;
        }
        self.seen += 1;
        let n = self.seen as f64;
        let relearning = self.quiet > 0;
        let base = if relearning {
            c.relearn_alpha
        } else {
            c.long_alpha
        };
        let alpha = (1.0 / n).max(base);
        // Spread as the mean absolute deviation (x 1.25 ~ a standard deviation): one
        // outlier moves it less than it moves a variance.
        let spread = (1.25 * self.var).max(1e-9 * (1.0 + self.mean.abs()));
        let point_z = (value - self.mean).abs() / spread;
        let short_alpha = (1.0 / n).max(c.short_alpha);
        self.short += short_alpha * (value - self.short);
        // The short mean averages about 2/alpha - 1 points: its spread shrinks by the root.
        let shift_z = (self.short - self.mean).abs()
            / (spread * (c.short_alpha / (2.0 - c.short_alpha)).sqrt());

        // Shape novelty: the last three values, quantised against the running range.
        self.low = self.low.min(value);
        self.high = self.high.max(value);
        let range = (self.high - self.low).max(1e-12);
        let bin = (((value - self.low) / range) * (BINS - 1.0)).round() as u16;
        let slot =
            ((bin as usize) * 257 + (self.previous[0] as usize) * 17 + self.previous[1] as usize)
                % TABLE;
        let novelty = 1.0 / (1.0 + f64::from(self.counts[slot]));
        self.counts[slot] += 1.0;
        self.previous = [bin, self.previous[0]];
        if self.seen.is_multiple_of(64) {
            let decay = c.count_decay.powi(64);
            self.counts.iter_mut().for_each(|x| *x *= decay);
        }

        // Learn the level after scoring, so a jump is judged against the past.
        let delta = value - self.mean;
        self.mean += alpha * delta;
        self.var += alpha * (delta.abs() - self.var);

        self.short_spread += short_alpha * ((value - self.mean).abs() - self.short_spread);
        let volatility = (self.short_spread / spread.max(1e-12)).max(1.0).ln();
        let z = point_z.max(shift_z) + c.novelty_z * novelty + c.volatility_z * volatility;
        if self.seen <= u64::from(c.warmup) {
            return 0.0;
        }
        if relearning {
            self.quiet -= 1;
            return 0.0;
        }
        if z >= c.alarm_z {
            self.quiet = c.refractory;
        }
        z / (z + c.half_z)
    }

    /// Points scored so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }
}

impl Default for Detector {
    fn default() -> Self {
        Detector::new(DetectorConfig::default())
    }
}

/// Scores a whole series, in order.
pub fn backtest(values: &[f64], config: DetectorConfig) -> Vec<f64> {
    let mut detector = Detector::new(config);
    values.iter().map(|v| detector.score(*v)).collect()
}
