//! A streaming anomaly detector: one point at a time, constant memory per series, a
//! score in [0, 1] for every point. Measured on the Numenta Anomaly Benchmark
//! (`scripts/nab`); docs/benchmarks.md has the scores.
//!
//! Each point is judged against the model that explains the series best:
//! - **level**: the series' long-run level and spread (EWMA, mean absolute deviation);
//! - **daily / weekly shape** ([`Detector::score_at`] only): one slot per 5 minutes of
//!   the day and per 30 minutes of the week, each an EWMA of the values seen at that
//!   phase. A shape model judges only once its typical error is well below the level
//!   model's, so a series without seasonality is never judged against a shape.
//!
//! Against that model, three signals, each cheap:
//! - **surprise**: how far the point sits from the expectation, in spreads;
//! - **shift**: how far the last few points' mean sits from it (a sustained departure);
//! - **novelty**: how rarely the recent shape (the last three values, quantised against
//!   the series' running range) has been seen, from a small table of decaying counts.
//!
//! An alarm-level score is followed by a refractory period in which the level is
//! relearned fast and only a far larger jump counts: the first point of an anomaly is
//! what matters, and repeats are noise.

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
    /// EWMA weight of a seasonal slot's level (each slot sees one point per period).
    pub seasonal_alpha: f64,
    /// A seasonal model judges the point only when its typical error is below this
    /// share of the level model's: otherwise the series is not seasonal enough.
    pub seasonal_gain: f64,
    /// Residuals a seasonal model must have seen before it may judge.
    pub seasonal_warmup: u32,
    /// While relearning after an alarm, deviations count this much (0: not at all).
    pub relearn_damp: f64,
}

impl Default for DetectorConfig {
    /// Chosen by a random search scored on the NAB subset (`scripts/nab`;
    /// docs/benchmarks.md gives the figures and says what that means for them).
    fn default() -> Self {
        DetectorConfig {
            warmup: 229,
            long_alpha: 0.000_4,
            short_alpha: 0.098_34,
            half_z: 4.0,
            alarm_z: 8.0,
            refractory: 121,
            relearn_alpha: 0.003_74,
            count_decay: 0.999_99,
            novelty_z: 1.301_79,
            seasonal_alpha: 0.077_44,
            seasonal_gain: 0.330_81,
            seasonal_warmup: 1930,
            relearn_damp: 0.087_24,
        }
    }
}

/// The model of one series. About 9.3 KB in memory (shape counts 4 KB, daily and weekly
/// slots 5 KB), whatever the series' length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detector {
    pub config: DetectorConfig,
    seen: u64,
    mean: f64,
    var: f64,
    short: f64,
    low: f64,
    high: f64,
    previous: [u16; 2],
    counts: Vec<f32>,
    quiet: u32,
    daily: Seasonal,
    weekly: Seasonal,
}

/// A seasonal expectation: one slot per phase of the period (time of day, or hour of
/// the week), each an EWMA of the values seen at that phase, and the typical error of
/// that expectation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Seasonal {
    /// Seconds per slot.
    slot_seconds: i64,
    /// NaN until the slot has seen a point.
    #[serde(with = "slots")]
    slots: Vec<f64>,
    /// Mean absolute residual against the slots.
    error: f64,
    /// Short-run mean of the residuals: a sustained departure from the usual shape.
    short: f64,
    residuals: u64,
}

impl Seasonal {
    fn new(period_seconds: i64, slot_seconds: i64) -> Seasonal {
        Seasonal {
            slot_seconds,
            slots: vec![f64::NAN; (period_seconds / slot_seconds) as usize],
            error: 0.0,
            short: 0.0,
            residuals: 0,
        }
    }

    fn slot(&self, at: i64) -> usize {
        let period = self.slot_seconds * self.slots.len() as i64;
        (at.rem_euclid(period) / self.slot_seconds) as usize
    }

    /// The residual of `value` against the slot's expectation (None for a new slot),
    /// then learns it.
    fn learn(&mut self, at: i64, value: f64, c: &DetectorConfig) -> Option<f64> {
        let slot = self.slot(at);
        let expected = self.slots[slot];
        if expected.is_nan() {
            self.slots[slot] = value;
            return None;
        }
        self.slots[slot] += c.seasonal_alpha * (value - expected);
        let residual = value - expected;
        self.residuals += 1;
        let alpha = (1.0 / self.residuals as f64).max(c.long_alpha);
        self.error += alpha * (residual.abs() - self.error);
        let short_alpha = (1.0 / self.residuals as f64).max(c.short_alpha);
        self.short += short_alpha * (residual - self.short);
        Some(residual)
    }
}

/// Slots serialise as JSON numbers, an unseen slot as null.
mod slots {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(slots: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(slots.iter().map(|v| (!v.is_nan()).then_some(*v)))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let raw: Vec<Option<f64>> = Vec::deserialize(d)?;
        Ok(raw.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
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
            low: f64::INFINITY,
            high: f64::NEG_INFINITY,
            previous: [0; 2],
            counts: vec![0.0; TABLE],
            quiet: 0,
            daily: Seasonal::new(86_400, 300),
            weekly: Seasonal::new(7 * 86_400, 1_800),
        }
    }

    /// The score of `value`, measured at `at` (Unix seconds), then learns it. Unlike
    /// [`Detector::score`], this also judges the point against daily and weekly shapes.
    pub fn score_at(&mut self, at: i64, value: f64) -> f64 {
        if !value.is_finite() {
            return 0.0;
        }
        let c = self.config;
        let daily = self.daily.learn(at, value, &c);
        let weekly = self.weekly.learn(at, value, &c);
        let level_error = self.var;
        let mut best: Option<(f64, f64, f64)> = None;
        for (model, residual) in [(&self.daily, daily), (&self.weekly, weekly)] {
            let Some(residual) = residual else { continue };
            if model.residuals < u64::from(c.seasonal_warmup)
                || model.error >= c.seasonal_gain * level_error
                || best.is_some_and(|(_, _, e)| e <= model.error)
            {
                continue;
            }
            best = Some((residual, model.short, model.error));
        }
        self.judge(value, best)
    }

    /// The score of `value`, then learns it.
    pub fn score(&mut self, value: f64) -> f64 {
        if !value.is_finite() {
            return 0.0;
        }
        self.judge(value, None)
    }

    /// `seasonal`: the residual, short-run residual and typical error of the seasonal
    /// model that explains the series better than its long-run level, if one does.
    fn judge(&mut self, value: f64, seasonal: Option<(f64, f64, f64)>) -> f64 {
        let c = self.config;
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
        let level_spread = (1.25 * self.var).max(1e-9 * (1.0 + self.mean.abs()));
        let short_alpha = (1.0 / n).max(c.short_alpha);
        self.short += short_alpha * (value - self.short);
        let (residual, short_residual, spread) = match seasonal {
            Some((residual, short, error)) => (
                residual,
                short,
                (1.25 * error).max(1e-9 * (1.0 + self.mean.abs())),
            ),
            None => (value - self.mean, self.short - self.mean, level_spread),
        };
        let point_z = residual.abs() / spread;
        // The short mean averages about 2/alpha - 1 points: its spread shrinks by the root.
        let shift_z =
            short_residual.abs() / (spread * (c.short_alpha / (2.0 - c.short_alpha)).sqrt());

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

        let mut z = point_z.max(shift_z) + c.novelty_z * novelty;
        let warming = self.seen <= u64::from(c.warmup);
        if relearning {
            // Only a far larger jump than the one just seen counts while relearning.
            self.quiet -= 1;
            z *= c.relearn_damp;
        }
        if warming {
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

/// Scores a whole timestamped series (Unix seconds), in order.
pub fn backtest_at(points: &[(i64, f64)], config: DetectorConfig) -> Vec<f64> {
    let mut detector = Detector::new(config);
    points
        .iter()
        .map(|(at, v)| detector.score_at(*at, *v))
        .collect()
}

/// Scores a whole series, in order.
pub fn backtest(values: &[f64], config: DetectorConfig) -> Vec<f64> {
    let mut detector = Detector::new(config);
    values.iter().map(|v| detector.score(*v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic, stationary series with noise in [-1, 1].
    fn noise(i: usize) -> f64 {
        ((i * 7919 + 13) % 101) as f64 / 50.0 - 1.0
    }

    #[test]
    fn a_spike_alarms_once_and_the_noise_around_it_does_not() {
        let values: Vec<f64> = (0..3000)
            .map(|i| if i == 2000 { 40.0 } else { 10.0 + noise(i) })
            .collect();
        let scores = backtest(&values, DetectorConfig::default());
        let alarm = 8.0 / (8.0 + DetectorConfig::default().half_z);
        let alarms: Vec<usize> = (0..scores.len()).filter(|i| scores[*i] >= alarm).collect();
        assert_eq!(alarms, [2000]);
        assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
    }

    #[test]
    fn a_missing_daily_peak_is_judged_against_the_time_of_day() {
        // 5-minute points, 12 days; day 10's afternoon stays at the daily mean.
        let points: Vec<(i64, f64)> = (0..12 * 288)
            .map(|i| {
                let phase = (i % 288) as f64 / 288.0 * std::f64::consts::TAU;
                let flat = i / 288 == 10 && (96..192).contains(&(i % 288));
                let value = if flat {
                    50.0
                } else {
                    50.0 - 30.0 * phase.cos()
                };
                (1_700_000_000 + 300 * i as i64, value + noise(i) * 0.5)
            })
            .collect();
        let seasonal = backtest_at(&points, DetectorConfig::default());
        let (top, _) = seasonal
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap();
        assert!(
            (10 * 288 + 96..10 * 288 + 192).contains(&top),
            "top at {top}"
        );
        // Without timestamps the same values are all within the usual range.
        let values: Vec<f64> = points.iter().map(|p| p.1).collect();
        let level_only = backtest(&values, DetectorConfig::default());
        let flat_max = level_only[10 * 288 + 96..10 * 288 + 192]
            .iter()
            .fold(0.0_f64, |a, b| a.max(*b));
        assert!(flat_max < seasonal[top], "{flat_max} vs {}", seasonal[top]);
    }

    #[test]
    fn a_saved_model_resumes_where_it_stopped_and_stays_the_same_size() {
        let points: Vec<(i64, f64)> = (0..6000)
            .map(|i| (1_700_000_000 + 60 * i as i64, 5.0 + noise(i)))
            .collect();
        let mut whole = Detector::default();
        let mut first = Detector::default();
        for (at, v) in &points[..3000] {
            whole.score_at(*at, *v);
            first.score_at(*at, *v);
        }
        let saved = serde_json::to_string(&first).unwrap();
        let mut resumed: Detector = serde_json::from_str(&saved).unwrap();
        for (at, v) in &points[3000..] {
            let (a, b) = (whole.score_at(*at, *v), resumed.score_at(*at, *v));
            assert_eq!(a, b);
        }
        // Constant memory: the state after 6000 points is the size it was after 3000.
        let later = serde_json::to_string(&whole).unwrap();
        assert!(
            later.len() < saved.len() * 11 / 10,
            "{} vs {}",
            later.len(),
            saved.len()
        );
    }
}
