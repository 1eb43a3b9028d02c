//! The judge on samples from known distributions, over 1,000 seeded trials each:
//! it must catch a 20% latency increase at least 95% of the time, and fail identical
//! distributions at most 2% of the time.

use ferry_core::promotion::canary::{
    classify, judge, Classification, Direction, JudgeConfig, MetricConfig, Outcome,
};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, LogNormal};

const TRIALS: usize = 1_000;
/// One bake window of latency samples per colour (e.g. 10-second p50s over 10 minutes).
const SAMPLES: usize = 60;

fn latency() -> MetricConfig {
    MetricConfig {
        name: "latency_p50".into(),
        group: "latency".into(),
        direction: Direction::Increase,
        critical: false,
        effect_tolerance: 0.05,
    }
}

/// Latency around 120 ms, log-normal with sigma 0.2 (a coefficient of variation of about
/// 20% between 10-second datapoints).
fn samples(rng: &mut StdRng, scale: f64) -> Vec<f64> {
    let distribution = LogNormal::new((0.120f64).ln(), 0.2).unwrap();
    (0..SAMPLES)
        .map(|_| distribution.sample(rng) * scale)
        .collect()
}

fn failure_rate(scale: f64, seed: u64) -> f64 {
    let mut rng = StdRng::seed_from_u64(seed);
    let config = JudgeConfig::default();
    let failures = (0..TRIALS)
        .filter(|_| {
            let control = samples(&mut rng, 1.0);
            let experiment = samples(&mut rng, scale);
            judge(
                vec![classify(&latency(), &control, &experiment, &config)],
                &config,
            )
            .outcome
                == Outcome::Fail
        })
        .count();
    failures as f64 / TRIALS as f64
}

#[test]
fn detects_a_20_percent_latency_increase_in_at_least_95_percent_of_trials() {
    let detected = failure_rate(1.2, 42);
    println!(
        "20% latency increase detected in {:.1}% of {TRIALS} trials",
        detected * 100.0
    );
    assert!(detected >= 0.95, "detection rate {detected}");
}

#[test]
fn fails_identical_distributions_in_at_most_2_percent_of_trials() {
    let false_failures = failure_rate(1.0, 7);
    println!(
        "identical distributions failed in {:.1}% of {TRIALS} trials",
        false_failures * 100.0
    );
    assert!(
        false_failures <= 0.02,
        "false failure rate {false_failures}"
    );
}

#[test]
fn direction_decides_whether_a_difference_fails() {
    let mut rng = StdRng::seed_from_u64(1);
    let config = JudgeConfig::default();
    let control = samples(&mut rng, 1.0);
    let faster = samples(&mut rng, 0.7);
    let result = classify(&latency(), &control, &faster, &config);
    assert_eq!(result.classification, Classification::Low);
    assert!(!result.failed, "lower latency is not a failure");
    let either = MetricConfig {
        direction: Direction::Either,
        ..latency()
    };
    assert!(classify(&either, &control, &faster, &config).failed);
}

#[test]
fn scores_by_group_and_critical_metrics_fail_outright() {
    let mut rng = StdRng::seed_from_u64(2);
    let config = JudgeConfig::default();
    let same = |rng: &mut StdRng| (samples(rng, 1.0), samples(rng, 1.0));
    let (c1, e1) = same(&mut rng);
    let (c2, e2) = (samples(&mut rng, 1.0), samples(&mut rng, 1.5));
    let errors = MetricConfig {
        name: "5xx_rate".into(),
        group: "errors".into(),
        ..latency()
    };
    let verdict = judge(
        vec![
            classify(&latency(), &c1, &e1, &config),
            classify(&errors, &c2, &e2, &config),
        ],
        &config,
    );
    // latency group 100, errors group 0: weighted equally, 50.
    assert_eq!((verdict.score, verdict.outcome), (50.0, Outcome::Fail));
    let critical = MetricConfig {
        critical: true,
        ..errors
    };
    let mut weighted = JudgeConfig::default();
    weighted.group_weights.insert("latency".into(), 9.0);
    let verdict = judge(
        vec![
            classify(&latency(), &c1, &e1, &weighted),
            classify(&critical, &c2, &e2, &weighted),
        ],
        &weighted,
    );
    assert_eq!(verdict.score, 90.0);
    assert_eq!(verdict.outcome, Outcome::Fail, "{}", verdict.reason);
    assert!(verdict.reason.contains("critical"));
}

#[test]
fn too_little_data_is_no_data_and_pauses_for_a_human() {
    let config = JudgeConfig::default();
    let result = classify(&latency(), &[0.1, 0.2], &[0.1, 0.3, 0.2], &config);
    assert_eq!(result.classification, Classification::NoData);
    assert_eq!(judge(vec![result], &config).outcome, Outcome::Marginal);
}
