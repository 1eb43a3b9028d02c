//! How a promotion moves traffic: the steps each strategy takes (weights on the new
//! colour and how long each bakes), what the canary judge compares, and the per-
//! environment settings a spec may override (`promotion:` in the spec).

use crate::names::{Colour, Strategy};
use crate::promotion::canary::{Direction, JudgeConfig, MetricConfig};
use serde::{Deserialize, Serialize};

/// One traffic step: the new colour's share of requests, then a bake before judging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficStep {
    /// Percent of requests on the new colour, 0 to 100. 0 is a smoke check: the new
    /// colour runs and must be healthy, but serves no users.
    pub weight: u8,
    #[serde(default)]
    pub bake_seconds: u64,
}

/// One metric the canary judge compares between the colours' target groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisMetric {
    /// How results name it, e.g. `latency_p99`.
    pub name: String,
    #[serde(default = "default_group")]
    pub group: String,
    /// The `AWS/ApplicationELB` metric, per target group.
    pub metric: String,
    /// A CloudWatch statistic: `Average`, `Sum`, `p50`, `p99`, ...
    pub stat: String,
    /// Divide by this metric's `Sum` in the same period, for rates (5xx per request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per: Option<String>,
    pub direction: Direction,
    #[serde(default)]
    pub critical: bool,
    #[serde(default = "default_tolerance")]
    pub effect_tolerance: f64,
}

fn default_group() -> String {
    "default".into()
}
fn default_tolerance() -> f64 {
    0.05
}

impl AnalysisMetric {
    pub fn judge_config(&self) -> MetricConfig {
        MetricConfig {
            name: self.name.clone(),
            group: self.group.clone(),
            direction: self.direction,
            critical: self.critical,
            effect_tolerance: self.effect_tolerance,
        }
    }
}

/// What Kayenta users compare first: latency at the median and the tail, and errors.
pub fn default_metrics() -> Vec<AnalysisMetric> {
    let latency = |name: &str, stat: &str| AnalysisMetric {
        name: name.into(),
        group: "latency".into(),
        metric: "TargetResponseTime".into(),
        stat: stat.into(),
        per: None,
        direction: Direction::Increase,
        critical: false,
        effect_tolerance: 0.05,
    };
    vec![
        latency("latency_p50", "p50"),
        latency("latency_p99", "p99"),
        AnalysisMetric {
            name: "error_rate_5xx".into(),
            group: "errors".into(),
            metric: "HTTPCode_Target_5XX_Count".into(),
            stat: "Sum".into(),
            per: Some("RequestCount".into()),
            direction: Direction::Increase,
            critical: true,
            effect_tolerance: 0.05,
        },
    ]
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisSettings {
    /// Samples are this many seconds apart (ALB metrics are per minute).
    #[serde(default = "default_period")]
    pub period_seconds: u32,
    /// How far back from the end of a bake the judge looks; defaults to the bake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_seconds: Option<u64>,
    #[serde(default = "default_metrics")]
    pub metrics: Vec<AnalysisMetric>,
    #[serde(default = "default_pass")]
    pub pass_threshold: f64,
    #[serde(default = "default_marginal")]
    pub marginal_threshold: f64,
}

fn default_period() -> u32 {
    60
}
fn default_pass() -> f64 {
    95.0
}
fn default_marginal() -> f64 {
    75.0
}

impl Default for AnalysisSettings {
    fn default() -> Self {
        Self {
            period_seconds: default_period(),
            window_seconds: None,
            metrics: default_metrics(),
            pass_threshold: default_pass(),
            marginal_threshold: default_marginal(),
        }
    }
}

impl AnalysisSettings {
    pub fn judge_config(&self) -> JudgeConfig {
        JudgeConfig {
            pass_threshold: self.pass_threshold,
            marginal_threshold: self.marginal_threshold,
            ..JudgeConfig::default()
        }
    }
}

/// The `promotion:` section of a spec, per environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionSettings {
    /// The steps of the `Custom` strategy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<TrafficStep>,
    /// BlueGreen keeps the old colour running this long after the switch.
    #[serde(default = "default_blue_green_bake")]
    pub blue_green_bake_seconds: u64,
    /// Overrides Ferry's configured approval timeout for this environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_timeout_seconds: Option<u64>,
    /// Whether promotions into this environment wait for an approval; `None` takes the
    /// profile's ([`ApprovalPolicy::for_profile`]). Never decided by the environment's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalPolicy>,
    /// How many different people must approve (the requester never counts).
    #[serde(default = "default_approvers")]
    pub approvers: u8,
    /// How long after the last traffic step the old colour stays warm (running, no
    /// traffic) while the alarms are watched; an alarm in it rolls back to it. `None`:
    /// Ferry's default, 10 minutes ([`crate::infra::spec::EnvironmentSpec::watch_window_seconds`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch_window_seconds: Option<u64>,
    #[serde(default)]
    pub analysis: AnalysisSettings,
}

/// Whether a promotion into an environment waits for an approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalPolicy {
    /// Every promotion waits for an approval.
    Always,
    /// A promotion waits when its risk score reaches Ferry's approval threshold.
    Risk,
    /// No promotion waits (a marginal canary still asks a human).
    Never,
}

impl ApprovalPolicy {
    /// The profile's default: prod always, staging by risk, dev never.
    pub fn for_profile(profile: crate::infra::profile::ProfileName) -> ApprovalPolicy {
        use crate::infra::profile::ProfileName;
        match profile {
            ProfileName::Prod => ApprovalPolicy::Always,
            ProfileName::Staging => ApprovalPolicy::Risk,
            ProfileName::Dev => ApprovalPolicy::Never,
        }
    }

    /// Whether a promotion with this risk score waits, at Ferry's `threshold`.
    pub fn requires_approval(self, score: u8, threshold: u8) -> bool {
        match self {
            ApprovalPolicy::Always => true,
            ApprovalPolicy::Risk => score >= threshold,
            ApprovalPolicy::Never => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalPolicy::Always => "always",
            ApprovalPolicy::Risk => "risk",
            ApprovalPolicy::Never => "never",
        }
    }
}

impl std::fmt::Display for ApprovalPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn default_approvers() -> u8 {
    1
}

fn default_blue_green_bake() -> u64 {
    900
}

impl Default for PromotionSettings {
    fn default() -> Self {
        Self {
            steps: vec![],
            blue_green_bake_seconds: default_blue_green_bake(),
            approval_timeout_seconds: None,
            approval: None,
            approvers: default_approvers(),
            watch_window_seconds: None,
            analysis: AnalysisSettings::default(),
        }
    }
}

impl PromotionSettings {
    /// Problems a schema cannot state, as (field under `promotion`, message).
    pub fn check(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        let mut previous = 0;
        for (i, step) in self.steps.iter().enumerate() {
            if step.weight > 100 {
                problems.push((
                    format!("steps[{i}].weight"),
                    format!("{} is above 100 percent", step.weight),
                ));
            } else if i > 0 && step.weight < previous {
                problems.push((
                    format!("steps[{i}].weight"),
                    format!("{} is below the step before ({previous}); weights only go up, a rollback is how traffic goes back", step.weight),
                ));
            }
            previous = step.weight;
        }
        if let Some(last) = self.steps.last() {
            if last.weight != 100 {
                problems.push((
                    format!("steps[{}].weight", self.steps.len() - 1),
                    format!(
                        "the last step must move all traffic (100), not {}",
                        last.weight
                    ),
                ));
            }
        }
        let longest = crate::promotion::budget::MAX_WATCH_WINDOW_SECONDS;
        if let Some(window) = self.watch_window_seconds.filter(|w| *w > longest) {
            problems.push((
                "watch_window_seconds".into(),
                format!("{window} is above {longest} (1 day)"),
            ));
        }
        let a = &self.analysis;
        if a.marginal_threshold > a.pass_threshold {
            problems.push((
                "analysis.marginal_threshold".into(),
                format!(
                    "{} is above the pass threshold {}",
                    a.marginal_threshold, a.pass_threshold
                ),
            ));
        }
        let mut names: Vec<&str> = a.metrics.iter().map(|m| m.name.as_str()).collect();
        names.sort();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            problems.push((
                "analysis.metrics".into(),
                format!("'{}' is named twice", w[0]),
            ));
        }
        problems
    }
}

/// The steps of `strategy` for an environment with `settings`. `Custom` needs steps.
pub fn plan(strategy: Strategy, settings: &PromotionSettings) -> Result<Vec<TrafficStep>, String> {
    let step = |weight, bake_seconds| TrafficStep {
        weight,
        bake_seconds,
    };
    let linear = |bake| {
        (1..=10)
            .map(|i| step(i * 10, if i < 10 { bake } else { 0 }))
            .collect()
    };
    Ok(match strategy {
        Strategy::AllAtOnce => vec![step(100, 0)],
        // Smoke-check the idle colour with no users on it, switch everything, then keep
        // the old colour warm through the bake for an instant rollback.
        Strategy::BlueGreen => vec![step(0, 0), step(100, settings.blue_green_bake_seconds)],
        Strategy::Canary10Percent5Minutes => vec![step(10, 300), step(100, 0)],
        Strategy::Canary10Percent15Minutes => vec![step(10, 900), step(100, 0)],
        Strategy::Linear10PercentEvery1Minute => linear(60),
        Strategy::Linear10PercentEvery3Minutes => linear(180),
        Strategy::Custom if settings.steps.is_empty() => {
            return Err(
                "the Custom strategy needs promotion.steps in the target environment's spec".into(),
            )
        }
        Strategy::Custom => settings.steps.clone(),
    })
}

/// What an environment's stack runs at one moment of a promotion: the live colour with
/// its release, and (during a promotion) the candidate on the other colour with its
/// share of traffic. Templates are generated from this, so every traffic move is a
/// change set and the stack never drifts from what Ferry last deployed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rollout<'a> {
    pub live: Colour,
    pub live_release: Option<&'a crate::model::Release>,
    pub candidate: Option<Candidate<'a>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate<'a> {
    pub release: &'a crate::model::Release,
    /// Percent of traffic on the candidate's colour.
    pub weight: u8,
}

impl<'a> Rollout<'a> {
    /// No promotion running: everything on `live`.
    pub fn steady(live: Colour, release: Option<&'a crate::model::Release>) -> Self {
        Self {
            live,
            live_release: release,
            candidate: None,
        }
    }

    pub fn weight(&self, colour: Colour) -> u8 {
        let candidate = self.candidate.map_or(0, |c| c.weight);
        if colour == self.live {
            100 - candidate
        } else {
            candidate
        }
    }

    /// Whether `colour` runs tasks: the live one always, the other during a promotion.
    pub fn running(&self, colour: Colour) -> bool {
        colour == self.live || self.candidate.is_some()
    }

    /// The colour the alarms watch: the one that serves the traffic. That is the live one
    /// while a candidate takes a share, and the candidate's once it takes all of it
    /// (blue/green's 100% bake), so that bake is judged on the new colour, not on the
    /// idle old one.
    pub fn watched(&self) -> Colour {
        match self.candidate {
            Some(candidate) if candidate.weight == 100 => self.live.other(),
            _ => self.live,
        }
    }

    pub fn release(&self, colour: Colour) -> Option<&'a crate::model::Release> {
        match self.candidate {
            Some(c) if colour != self.live => Some(c.release),
            _ => self.live_release,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(fill: char) -> crate::model::Release {
        crate::model::Release {
            image: crate::names::ImageRef::parse(
                "image",
                &format!("repo/shop@sha256:{}", fill.to_string().repeat(64)),
            )
            .expect("a valid digest"),
            config: serde_json::Map::new(),
            recorded_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn approval_is_the_profiles_unless_the_environment_says_otherwise() {
        use crate::infra::profile::ProfileName;
        assert_eq!(
            ApprovalPolicy::for_profile(ProfileName::Prod),
            ApprovalPolicy::Always
        );
        assert_eq!(
            ApprovalPolicy::for_profile(ProfileName::Staging),
            ApprovalPolicy::Risk
        );
        assert_eq!(
            ApprovalPolicy::for_profile(ProfileName::Dev),
            ApprovalPolicy::Never
        );
        // At Ferry's threshold of 60: always waits, risk from 60 on, never never.
        let waits = |policy: ApprovalPolicy| {
            [0, 59, 60, 100].map(|score| policy.requires_approval(score, 60))
        };
        assert_eq!(waits(ApprovalPolicy::Always), [true; 4]);
        assert_eq!(waits(ApprovalPolicy::Risk), [false, false, true, true]);
        assert_eq!(waits(ApprovalPolicy::Never), [false; 4]);
        // Stored environments from before the setting read as their profile's.
        let old: PromotionSettings = serde_json::from_str("{}").unwrap();
        assert_eq!((old.approval, old.approvers), (None, 1));
        let spec = crate::model::EnvironmentSpec {
            profile_name: ProfileName::Prod,
            ..Default::default()
        };
        assert_eq!(spec.approval_policy(), ApprovalPolicy::Always);
        let mut own = spec.clone();
        own.promotion.approval = Some(ApprovalPolicy::Never);
        assert_eq!(own.approval_policy(), ApprovalPolicy::Never);
    }

    #[test]
    fn canary_ten_percent_five_minutes_is_two_steps() {
        let steps = plan(
            Strategy::Canary10Percent5Minutes,
            &PromotionSettings::default(),
        )
        .unwrap();
        assert_eq!(
            steps,
            [
                TrafficStep {
                    weight: 10,
                    bake_seconds: 300
                },
                TrafficStep {
                    weight: 100,
                    bake_seconds: 0
                }
            ]
        );
    }

    #[test]
    fn linear_moves_ten_percent_at_a_time() {
        let steps = plan(
            Strategy::Linear10PercentEvery3Minutes,
            &PromotionSettings::default(),
        )
        .unwrap();
        assert_eq!(steps.len(), 10);
        assert_eq!(
            steps[0],
            TrafficStep {
                weight: 10,
                bake_seconds: 180
            }
        );
        assert_eq!(
            steps[9],
            TrafficStep {
                weight: 100,
                bake_seconds: 0
            }
        );
    }

    #[test]
    fn blue_green_smoke_checks_then_bakes_with_the_old_colour_warm() {
        let settings = PromotionSettings {
            blue_green_bake_seconds: 120,
            ..Default::default()
        };
        let steps = plan(Strategy::BlueGreen, &settings).unwrap();
        assert_eq!(
            steps,
            [
                TrafficStep {
                    weight: 0,
                    bake_seconds: 0
                },
                TrafficStep {
                    weight: 100,
                    bake_seconds: 120
                }
            ]
        );
    }

    #[test]
    fn custom_needs_steps_that_end_at_100_and_never_go_down() {
        assert!(plan(Strategy::Custom, &PromotionSettings::default()).is_err());
        let settings = PromotionSettings {
            steps: vec![
                TrafficStep {
                    weight: 25,
                    bake_seconds: 60,
                },
                TrafficStep {
                    weight: 5,
                    bake_seconds: 60,
                },
                TrafficStep {
                    weight: 50,
                    bake_seconds: 0,
                },
            ],
            ..Default::default()
        };
        let problems = settings.check();
        assert_eq!(problems[0].0, "steps[1].weight");
        assert!(problems[0].1.contains("below the step before"));
        assert_eq!(problems[1].0, "steps[2].weight");
        assert!(problems[1].1.contains("must move all traffic"));
    }

    #[test]
    fn weights_and_releases_per_colour() {
        let old = release('a');
        let new = release('b');
        let rollout = Rollout {
            live: Colour::Blue,
            live_release: Some(&old),
            candidate: Some(Candidate {
                release: &new,
                weight: 10,
            }),
        };
        assert_eq!(
            (rollout.weight(Colour::Blue), rollout.weight(Colour::Green)),
            (90, 10)
        );
        assert_eq!(rollout.release(Colour::Green), Some(&new));
        assert!(rollout.running(Colour::Green));
        let steady = Rollout::steady(Colour::Green, Some(&new));
        assert_eq!(
            (steady.weight(Colour::Blue), steady.weight(Colour::Green)),
            (0, 100)
        );
        assert!(!steady.running(Colour::Blue));
        assert_eq!(steady.release(Colour::Blue), Some(&new));
    }
}
