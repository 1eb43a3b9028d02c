//! The canary judge, after Kayenta's: per metric, drop outliers by IQR, compare the new
//! colour (experiment) with the old (control) by a Mann-Whitney U test, and call a
//! difference only when it is both significant and larger than a tolerance on the
//! Hodges-Lehmann shift. Metrics roll up into a score from 0 to 100, weighted by group.
//! The p-values come from statrs; nothing here hand-writes a distribution tail.

use serde::{Deserialize, Serialize};
use statrs::stats_tests::mannwhitneyu::{mannwhitneyu, MannWhitneyUMethod};
use statrs::stats_tests::Alternative;
use std::collections::BTreeMap;

/// Which way a change is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Higher is worse (latency, error rate).
    Increase,
    /// Lower is worse (throughput).
    Decrease,
    Either,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricConfig {
    pub name: String,
    pub group: String,
    pub direction: Direction,
    /// A critical metric that fails fails the whole canary, whatever the score.
    #[serde(default)]
    pub critical: bool,
    /// Shifts smaller than this share of the control's median are not differences,
    /// however significant (0.05 = 5%).
    #[serde(default = "default_tolerance")]
    pub effect_tolerance: f64,
}

fn default_tolerance() -> f64 {
    0.05
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeConfig {
    /// 0.98: a difference needs p < 0.02 (two-sided).
    pub confidence: f64,
    pub pass_threshold: f64,
    pub marginal_threshold: f64,
    /// Group -> weight; groups not listed weigh 1.
    #[serde(default)]
    pub group_weights: BTreeMap<String, f64>,
    /// Outliers are beyond `iqr_factor` x IQR outside the quartiles.
    pub iqr_factor: f64,
}

impl Default for JudgeConfig {
    fn default() -> Self {
        JudgeConfig {
            confidence: 0.98,
            pass_threshold: 95.0,
            marginal_threshold: 75.0,
            group_weights: BTreeMap::new(),
            iqr_factor: 1.5,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Classification {
    Pass,
    High,
    Low,
    /// Too little data on either side to judge; counted as neither pass nor fail.
    NoData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricResult {
    pub name: String,
    pub group: String,
    pub classification: Classification,
    /// Whether this result counts against the canary, given the metric's direction.
    pub failed: bool,
    pub critical: bool,
    pub p_value: Option<f64>,
    /// Median of all pairwise differences (experiment - control).
    pub hodges_lehmann: Option<f64>,
    pub control_median: Option<f64>,
    pub experiment_median: Option<f64>,
    pub control_samples: usize,
    pub experiment_samples: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Pass,
    /// Pauses for a human decision.
    Marginal,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub score: f64,
    pub outcome: Outcome,
    pub metrics: Vec<MetricResult>,
    pub reason: String,
}

/// Fewer points than this on either side and a metric is NoData.
pub const MIN_SAMPLES: usize = 5;

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

/// Linear-interpolated quantile of sorted data.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
}

/// Drops points beyond `factor` x IQR outside the quartiles.
pub fn remove_outliers(values: &[f64], factor: f64) -> Vec<f64> {
    let data = sorted(values);
    if data.len() < 4 {
        return data;
    }
    let (q1, q3) = (quantile(&data, 0.25), quantile(&data, 0.75));
    let spread = (q3 - q1) * factor;
    data.into_iter()
        .filter(|x| *x >= q1 - spread && *x <= q3 + spread)
        .collect()
}

/// The Hodges-Lehmann estimate of the shift from `control` to `experiment`.
pub fn hodges_lehmann(control: &[f64], experiment: &[f64]) -> f64 {
    let mut differences: Vec<f64> = experiment
        .iter()
        .flat_map(|e| control.iter().map(move |c| e - c))
        .collect();
    differences.sort_by(|a, b| a.total_cmp(b));
    quantile(&differences, 0.5)
}

pub fn classify(
    metric: &MetricConfig,
    control: &[f64],
    experiment: &[f64],
    config: &JudgeConfig,
) -> MetricResult {
    let control = remove_outliers(control, config.iqr_factor);
    let experiment = remove_outliers(experiment, config.iqr_factor);
    let mut result = MetricResult {
        name: metric.name.clone(),
        group: metric.group.clone(),
        classification: Classification::NoData,
        failed: false,
        critical: metric.critical,
        p_value: None,
        hodges_lehmann: None,
        control_median: (!control.is_empty()).then(|| quantile(&control, 0.5)),
        experiment_median: (!experiment.is_empty()).then(|| quantile(&experiment, 0.5)),
        control_samples: control.len(),
        experiment_samples: experiment.len(),
    };
    if control.len() < MIN_SAMPLES || experiment.len() < MIN_SAMPLES {
        return result;
    }
    let p_value = match mannwhitneyu(
        &experiment,
        &control,
        MannWhitneyUMethod::Automatic,
        Alternative::TwoSided,
    ) {
        Ok((_, p)) => p,
        Err(_) => return result,
    };
    let shift = hodges_lehmann(&control, &experiment);
    let baseline = result.control_median.unwrap_or(0.0).abs().max(f64::EPSILON);
    let significant = p_value < 1.0 - config.confidence;
    let large = shift.abs() / baseline > metric.effect_tolerance;
    result.p_value = Some(p_value);
    result.hodges_lehmann = Some(shift);
    result.classification = match (significant && large, shift > 0.0) {
        (false, _) => Classification::Pass,
        (true, true) => Classification::High,
        (true, false) => Classification::Low,
    };
    result.failed = matches!(
        (result.classification, metric.direction),
        (
            Classification::High,
            Direction::Increase | Direction::Either
        ) | (Classification::Low, Direction::Decrease | Direction::Either)
    );
    result
}

/// Scores classified metrics: per group, passed / judged x 100; groups weighted; a failed
/// critical metric fails the canary outright.
pub fn judge(results: Vec<MetricResult>, config: &JudgeConfig) -> Verdict {
    let mut groups: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for r in results
        .iter()
        .filter(|r| r.classification != Classification::NoData)
    {
        let entry = groups.entry(r.group.as_str()).or_default();
        entry.1 += 1;
        if !r.failed {
            entry.0 += 1;
        }
    }
    let (mut weighted, mut weights) = (0.0, 0.0);
    for (group, (passed, judged)) in &groups {
        let weight = config.group_weights.get(*group).copied().unwrap_or(1.0);
        weighted += weight * (*passed as f64 / *judged as f64) * 100.0;
        weights += weight;
    }
    let score = if weights > 0.0 {
        (weighted / weights * 100.0).round() / 100.0
    } else {
        0.0
    };
    let critical: Vec<&str> = results
        .iter()
        .filter(|r| r.critical && r.failed)
        .map(|r| r.name.as_str())
        .collect();
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| r.failed)
        .map(|r| r.name.as_str())
        .collect();
    let (outcome, reason) = if !critical.is_empty() {
        (
            Outcome::Fail,
            format!("critical metric failed: {}", critical.join(", ")),
        )
    } else if groups.is_empty() {
        (
            Outcome::Marginal,
            "no metric had enough data to judge".to_owned(),
        )
    } else if score >= config.pass_threshold {
        (
            Outcome::Pass,
            format!("score {score} >= {}", config.pass_threshold),
        )
    } else if score >= config.marginal_threshold {
        (
            Outcome::Marginal,
            format!("score {score} is marginal; failed: {}", failed.join(", ")),
        )
    } else {
        (
            Outcome::Fail,
            format!(
                "score {score} < {}; failed: {}",
                config.marginal_threshold,
                failed.join(", ")
            ),
        )
    };
    Verdict {
        score,
        outcome,
        metrics: results,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outliers_beyond_the_fences_are_dropped() {
        let data = [10.0, 11.0, 12.0, 11.0, 10.5, 500.0];
        assert_eq!(remove_outliers(&data, 1.5), [10.0, 10.5, 11.0, 11.0, 12.0]);
    }

    #[test]
    fn hodges_lehmann_is_the_median_pairwise_shift() {
        assert_eq!(hodges_lehmann(&[1.0, 2.0, 3.0], &[3.0, 4.0, 5.0]), 2.0);
    }
}
