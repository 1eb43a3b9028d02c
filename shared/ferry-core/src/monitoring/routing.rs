//! `alerts.routing` in the spec: how an environment's alerts are grouped, inhibited,
//! muted and judged flapping. Every field is optional; what is left out keeps
//! Alertmanager's defaults (and Ferry's built-in inhibition: a failing database explains
//! its callers' alerts). Checked field by field, so a bad value is named before anything
//! is deployed or stored.

use super::noise::{FlapConfig, NoiseConfig};
use super::{InhibitRule, MatchOp, Matcher, MuteTimeInterval};
use chrono::Duration;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingSpec {
    /// Labels whose values split alerts into notification groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_wait_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_interval_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_interval_seconds: Option<i64>,
    /// Replaces the built-in inhibition when given (an empty list turns it off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inhibit: Option<Vec<InhibitSpec>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mute_intervals: Vec<MuteIntervalSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flap: Option<FlapSpec>,
}

/// Matchers as Alertmanager writes them: `component="database"`, `service=~"web|api"`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InhibitSpec {
    pub source: Vec<String>,
    pub target: Vec<String>,
    #[serde(default)]
    pub equal: Vec<String>,
}

/// A recurring mute: weekdays (1 = Monday ... 7 = Sunday; none = every day) and a UTC
/// time range `HH:MM`-`HH:MM`, end exclusive.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MuteIntervalSpec {
    pub name: String,
    #[serde(default)]
    pub weekdays: Vec<u32>,
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlapSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_percent: Option<f64>,
}

/// Ferry's inhibition when the spec names none: a database alert mutes the service and
/// load balancer alerts of the same environment, which it most likely explains.
pub fn default_inhibit_rules() -> Vec<InhibitRule> {
    let m = Matcher::builtin;
    vec![InhibitRule {
        source: vec![m("component", MatchOp::Equal, "database")],
        target: vec![m("component", MatchOp::Regex, "service:.*|alb")],
        equal: vec!["app".into(), "env".into()],
    }]
}

fn label_name_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    (!valid).then(|| format!("'{name}' is not a label name (letters, digits and _)"))
}

/// Minutes since midnight of `HH:MM` (`24:00` allowed as an end).
fn minute_of_day(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    let minute = h * 60 + m;
    (m < 60 && minute <= 24 * 60).then_some(minute)
}

impl RoutingSpec {
    pub fn is_empty(&self) -> bool {
        self == &RoutingSpec::default()
    }

    /// The noise configuration, or every problem as `(field, message)`.
    pub fn noise_config(&self) -> Result<NoiseConfig, Vec<(String, String)>> {
        let at = "alerts.routing";
        let mut errors: Vec<(String, String)> = Vec::new();
        let mut config = NoiseConfig {
            inhibit_rules: default_inhibit_rules(),
            ..NoiseConfig::default()
        };
        if let Some(labels) = &self.group_by {
            for (i, label) in labels.iter().enumerate() {
                if let Some(problem) = label_name_problem(label) {
                    errors.push((format!("{at}.group_by[{i}]"), problem));
                }
            }
            config.group_by = labels.clone();
        }
        for (field, value, target) in [
            (
                "group_wait_seconds",
                self.group_wait_seconds,
                &mut config.group_wait,
            ),
            (
                "group_interval_seconds",
                self.group_interval_seconds,
                &mut config.group_interval,
            ),
            (
                "repeat_interval_seconds",
                self.repeat_interval_seconds,
                &mut config.repeat_interval,
            ),
        ] {
            match value {
                Some(seconds) if seconds < 0 || (seconds == 0 && field != "group_wait_seconds") => {
                    errors.push((
                        format!("{at}.{field}"),
                        format!("must be more than 0 seconds, got {seconds}"),
                    ))
                }
                Some(seconds) if seconds > 7 * 86_400 => errors.push((
                    format!("{at}.{field}"),
                    format!("must be at most a week (604800 seconds), got {seconds}"),
                )),
                Some(seconds) => *target = Duration::seconds(seconds),
                None => {}
            }
        }
        if config.repeat_interval < config.group_interval {
            errors.push((
                format!("{at}.repeat_interval_seconds"),
                format!(
                    "{} s is shorter than group_interval_seconds ({} s): repeats are only sent at a group flush",
                    config.repeat_interval.num_seconds(),
                    config.group_interval.num_seconds()
                ),
            ));
        }
        if let Some(rules) = &self.inhibit {
            config.inhibit_rules = Vec::new();
            for (i, rule) in rules.iter().enumerate() {
                let here = format!("{at}.inhibit[{i}]");
                let mut matchers = |side: &str, texts: &[String]| {
                    if texts.is_empty() {
                        errors.push((
                            format!("{here}.{side}"),
                            "at least one matcher is needed".into(),
                        ));
                    }
                    texts
                        .iter()
                        .enumerate()
                        .filter_map(|(j, text)| {
                            let field = format!("{here}.{side}[{j}]");
                            Matcher::parse(&field, text)
                                .map_err(|e| {
                                    let message = e
                                        .strip_prefix(&format!("{field}: "))
                                        .unwrap_or(&e)
                                        .to_owned();
                                    errors.push((field.clone(), message));
                                })
                                .ok()
                        })
                        .collect::<Vec<Matcher>>()
                };
                let source = matchers("source", &rule.source);
                let target = matchers("target", &rule.target);
                for (j, label) in rule.equal.iter().enumerate() {
                    if let Some(problem) = label_name_problem(label) {
                        errors.push((format!("{here}.equal[{j}]"), problem));
                    }
                }
                config.inhibit_rules.push(InhibitRule {
                    source,
                    target,
                    equal: rule.equal.clone(),
                });
            }
        }
        for (i, mute) in self.mute_intervals.iter().enumerate() {
            let here = format!("{at}.mute_intervals[{i}]");
            if mute.name.trim().is_empty() {
                errors.push((format!("{here}.name"), "must not be empty".into()));
            }
            if let Some(day) = mute.weekdays.iter().find(|d| !(1..=7).contains(*d)) {
                errors.push((
                    format!("{here}.weekdays"),
                    format!("{day} is not a weekday (1 = Monday ... 7 = Sunday)"),
                ));
            }
            let start = minute_of_day(&mute.start).filter(|m| *m < 24 * 60);
            let end = minute_of_day(&mute.end);
            if start.is_none() {
                errors.push((
                    format!("{here}.start"),
                    format!("'{}' is not a time HH:MM (UTC)", mute.start),
                ));
            }
            if end.is_none() {
                errors.push((
                    format!("{here}.end"),
                    format!("'{}' is not a time HH:MM (UTC)", mute.end),
                ));
            }
            if let (Some(start), Some(end)) = (start, end) {
                if end <= start {
                    errors.push((
                        format!("{here}.end"),
                        format!("{} is not after start {}", mute.end, mute.start),
                    ));
                }
                config.mute_intervals.push(MuteTimeInterval {
                    name: mute.name.clone(),
                    weekdays: mute.weekdays.clone(),
                    start_minute: start,
                    end_minute: end,
                });
            }
        }
        if let Some(flap) = &self.flap {
            let defaults = FlapConfig::default();
            let history = flap.history.unwrap_or(defaults.history);
            let start = flap.start_percent.unwrap_or(defaults.start_percent);
            let stop = flap.stop_percent.unwrap_or(defaults.stop_percent);
            if !(4..=100).contains(&history) {
                errors.push((
                    format!("{at}.flap.history"),
                    format!("must be between 4 and 100 observations, got {history}"),
                ));
            }
            for (field, value) in [("start_percent", start), ("stop_percent", stop)] {
                if !(value > 0.0 && value < 100.0) {
                    errors.push((
                        format!("{at}.flap.{field}"),
                        format!("must be between 0 and 100 (exclusive), got {value}"),
                    ));
                }
            }
            if stop > start {
                errors.push((
                    format!("{at}.flap.stop_percent"),
                    format!("{stop} is above start_percent {start}: recovery needs hysteresis"),
                ));
            }
            config.flap = FlapConfig {
                history,
                start_percent: start,
                stop_percent: stop,
            };
        }
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_inhibit_rules_regexes_compile_as_a_users_would() {
        for rule in default_inhibit_rules() {
            for m in rule.source.iter().chain(&rule.target) {
                assert_eq!(
                    Matcher::new("inhibit", &m.name, m.op, &m.value).as_ref(),
                    Ok(m)
                );
            }
        }
        let database_down = default_inhibit_rules().remove(0);
        let labels =
            |component: &str| super::super::Labels::from([("component".into(), component.into())]);
        assert!(database_down.target[0].matches(&labels("service:web")));
        assert!(!database_down.target[0].matches(&labels("database")));
    }

    fn routing(yaml: &str) -> RoutingSpec {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn nothing_given_keeps_alertmanagers_defaults_and_ferrys_inhibition() {
        let config = RoutingSpec::default().noise_config().unwrap();
        assert_eq!(config.group_wait, Duration::seconds(30));
        assert_eq!(config.group_interval, Duration::minutes(5));
        assert_eq!(config.repeat_interval, Duration::hours(4));
        assert_eq!(config.inhibit_rules, default_inhibit_rules());
        assert_eq!(config.flap, FlapConfig::default());
    }

    #[test]
    fn every_field_is_applied() {
        let config = routing(
            r#"
group_by: [app, env, component]
group_wait_seconds: 10
group_interval_seconds: 60
repeat_interval_seconds: 3600
inhibit:
  - source: ['component="cache"']
    target: ['service=~"web|api"']
    equal: [env]
mute_intervals:
  - {name: nightly-batch, weekdays: [1, 2, 3, 4, 5], start: "02:00", end: "03:30"}
flap: {history: 10, start_percent: 40}
"#,
        )
        .noise_config()
        .unwrap();
        assert_eq!(config.group_by, ["app", "env", "component"]);
        assert_eq!(config.group_wait, Duration::seconds(10));
        assert_eq!(config.repeat_interval, Duration::hours(1));
        assert_eq!(config.inhibit_rules.len(), 1);
        let mut cache = super::super::Labels::new();
        cache.insert("component".into(), "cache".into());
        cache.insert("env".into(), "prod".into());
        let mut web = super::super::Labels::new();
        web.insert("service".into(), "web".into());
        web.insert("env".into(), "prod".into());
        assert!(config.inhibit_rules[0].inhibits(&cache, &web));
        assert_eq!(config.mute_intervals[0].start_minute, 120);
        assert_eq!(config.mute_intervals[0].end_minute, 210);
        assert_eq!(config.flap.history, 10);
        assert_eq!(config.flap.start_percent, 40.0);
        assert_eq!(config.flap.stop_percent, 10.0);
        let off = routing("inhibit: []").noise_config().unwrap();
        assert!(off.inhibit_rules.is_empty());
    }

    #[test]
    fn every_bad_field_is_named() {
        let errors = routing(
            r#"
group_by: [app, "bad label"]
group_wait_seconds: -1
group_interval_seconds: 600
repeat_interval_seconds: 300
inhibit:
  - source: ['component database']
    target: []
    equal: ["x-y"]
mute_intervals:
  - {name: "", weekdays: [0], start: "25:00", end: "03:00"}
  - {name: backwards, start: "05:00", end: "04:00"}
flap: {history: 2, start_percent: 10, stop_percent: 20}
"#,
        )
        .noise_config()
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "alerts.routing.group_by[1]",
                "alerts.routing.group_wait_seconds",
                "alerts.routing.repeat_interval_seconds",
                "alerts.routing.inhibit[0].source[0]",
                "alerts.routing.inhibit[0].target",
                "alerts.routing.inhibit[0].equal[0]",
                "alerts.routing.mute_intervals[0].name",
                "alerts.routing.mute_intervals[0].weekdays",
                "alerts.routing.mute_intervals[0].start",
                "alerts.routing.mute_intervals[1].end",
                "alerts.routing.flap.history",
                "alerts.routing.flap.stop_percent",
            ],
            "{errors:?}"
        );
        let message = |field: &str| &errors.iter().find(|(f, _)| f == field).unwrap().1;
        assert!(message("alerts.routing.inhibit[0].source[0]").contains("is not a matcher"));
        assert!(message("alerts.routing.repeat_interval_seconds").contains("shorter than"));
        assert!(message("alerts.routing.mute_intervals[1].end").contains("is not after start"));
    }
}
