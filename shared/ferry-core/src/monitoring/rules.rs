//! Alert rules, as an environment's spec states them: threshold (CloudWatch alarm
//! semantics: statistic, period, M of N datapoints, missing-data policy), anomaly band
//! (a seasonal model, band width in standard deviations), forecast (time until a
//! threshold is crossed) and composite (AND, OR, NOT of other rules).

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The metrics a rule can name: Ferry's names for the CloudWatch series of an
/// environment's resources.
pub const METRICS: [&str; 11] = [
    "alb.5xx_rate",
    "alb.request_count",
    "service.cpu",
    "service.memory",
    "service.latency_p99",
    "database.cpu",
    "database.free_storage",
    "database.connections",
    "cache.cpu",
    "cache.memory",
    "cache.evictions",
];

const STATISTICS: [&str; 5] = ["Average", "Sum", "Minimum", "Maximum", "SampleCount"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingData {
    Missing,
    Ignore,
    Breaching,
    NotBreaching,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    #[serde(rename = ">")]
    Above,
    #[serde(rename = ">=")]
    AtOrAbove,
    #[serde(rename = "<")]
    Below,
    #[serde(rename = "<=")]
    AtOrBelow,
}

impl Comparison {
    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Above => value > threshold,
            Comparison::AtOrAbove => value >= threshold,
            Comparison::Below => value < threshold,
            Comparison::AtOrBelow => value <= threshold,
        }
    }
}

fn default_period() -> u32 {
    60
}
fn one() -> u32 {
    1
}
fn missing() -> MissingData {
    MissingData::Missing
}
fn three() -> f64 {
    3.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleKind {
    Threshold {
        metric: String,
        statistic: String,
        #[serde(default = "default_period")]
        period_seconds: u32,
        comparison: Comparison,
        threshold: f64,
        /// M: breaching datapoints needed...
        #[serde(default = "one")]
        datapoints: u32,
        /// ... out of the last N.
        #[serde(default = "one")]
        evaluation_periods: u32,
        #[serde(default = "missing")]
        missing_data: MissingData,
    },
    Anomaly {
        metric: String,
        statistic: String,
        #[serde(default = "default_period")]
        period_seconds: u32,
        /// Band width in standard deviations, as CloudWatch anomaly detection.
        #[serde(default = "three")]
        band_stddevs: f64,
    },
    Forecast {
        metric: String,
        statistic: String,
        #[serde(default = "default_period")]
        period_seconds: u32,
        comparison: Comparison,
        threshold: f64,
        /// Alert when the crossing is forecast within this many hours.
        within_hours: f64,
    },
    Composite {
        /// e.g. `web-latency AND NOT (db-cpu OR cache-cpu)`.
        expression: String,
    },
}

/// serde cannot deny unknown fields through `flatten`: the spec's JSON Schema
/// (`$defs/alert_rule`) rejects them before a rule is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    #[serde(flatten)]
    pub kind: RuleKind,
}

/// A composite expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    Rule(String),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

impl Expr {
    pub fn eval(&self, states: &BTreeMap<String, bool>) -> bool {
        match self {
            Expr::Rule(name) => states.get(name).copied().unwrap_or(false),
            Expr::Not(e) => !e.eval(states),
            Expr::And(a, b) => a.eval(states) && b.eval(states),
            Expr::Or(a, b) => a.eval(states) || b.eval(states),
        }
    }

    fn names(&self, out: &mut BTreeSet<String>) {
        match self {
            Expr::Rule(name) => {
                out.insert(name.clone());
            }
            Expr::Not(e) => e.names(out),
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.names(out);
                b.names(out);
            }
        }
    }
}

/// Parses `a AND NOT (b OR c)`: NOT binds tightest, then AND, then OR.
pub fn parse_expression(text: &str) -> Result<Expr, String> {
    let spaced = text.replace('(', " ( ").replace(')', " ) ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut position = 0;
    let expr = parse_or(&tokens, &mut position)?;
    if position != tokens.len() {
        return Err(format!("unexpected '{}'", tokens[position]));
    }
    Ok(expr)
}

fn parse_or(t: &[&str], p: &mut usize) -> Result<Expr, String> {
    let mut left = parse_and(t, p)?;
    while t.get(*p).is_some_and(|w| w.eq_ignore_ascii_case("OR")) {
        *p += 1;
        left = Expr::Or(Box::new(left), Box::new(parse_and(t, p)?));
    }
    Ok(left)
}

fn parse_and(t: &[&str], p: &mut usize) -> Result<Expr, String> {
    let mut left = parse_not(t, p)?;
    while t.get(*p).is_some_and(|w| w.eq_ignore_ascii_case("AND")) {
        *p += 1;
        left = Expr::And(Box::new(left), Box::new(parse_not(t, p)?));
    }
    Ok(left)
}

fn parse_not(t: &[&str], p: &mut usize) -> Result<Expr, String> {
    match t.get(*p) {
        Some(w) if w.eq_ignore_ascii_case("NOT") => {
            *p += 1;
            Ok(Expr::Not(Box::new(parse_not(t, p)?)))
        }
        Some(&"(") => {
            *p += 1;
            let inner = parse_or(t, p)?;
            if t.get(*p) != Some(&")") {
                return Err("a '(' is not closed".into());
            }
            *p += 1;
            Ok(inner)
        }
        Some(w) if !["AND", "OR", ")"].contains(&w.to_ascii_uppercase().as_str()) => {
            *p += 1;
            Ok(Expr::Rule((*w).to_owned()))
        }
        Some(w) => Err(format!("expected a rule name, got '{w}'")),
        None => Err("the expression ends too early".into()),
    }
}

fn check_statistic(at: &str, statistic: &str) -> Option<String> {
    let percentile = statistic
        .strip_prefix('p')
        .and_then(|n| n.parse::<f64>().ok())
        .is_some_and(|n| n > 0.0 && n < 100.0);
    (!STATISTICS.contains(&statistic) && !percentile).then(|| {
        format!(
            "{at}.statistic: unknown statistic '{statistic}'; use {} or a percentile pNN",
            STATISTICS.join(", ")
        )
    })
}

/// Checks a set of rules; every problem is named by its rule and field.
pub fn validate(rules: &[Rule]) -> Result<BTreeMap<String, Option<Expr>>, Vec<String>> {
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    let mut expressions = BTreeMap::new();
    for rule in rules {
        let at = format!("alerts.rules[{}]", rule.name);
        if !seen.insert(rule.name.clone()) {
            errors.push(format!("{at}.name: '{}' is used twice", rule.name));
        }
        let metric_statistic = match &rule.kind {
            RuleKind::Threshold {
                metric,
                statistic,
                evaluation_periods,
                datapoints,
                ..
            } => {
                if datapoints > evaluation_periods || *datapoints == 0 {
                    errors.push(format!(
                        "{at}.datapoints: {datapoints} of {evaluation_periods} evaluation periods is not possible"
                    ));
                }
                Some((metric, statistic))
            }
            RuleKind::Anomaly {
                metric,
                statistic,
                band_stddevs,
                ..
            } => {
                if *band_stddevs <= 0.0 {
                    errors.push(format!(
                        "{at}.band_stddevs: must be above 0, got {band_stddevs}"
                    ));
                }
                Some((metric, statistic))
            }
            RuleKind::Forecast {
                metric,
                statistic,
                within_hours,
                ..
            } => {
                if *within_hours <= 0.0 {
                    errors.push(format!(
                        "{at}.within_hours: must be above 0, got {within_hours}"
                    ));
                }
                Some((metric, statistic))
            }
            RuleKind::Composite { expression } => {
                match parse_expression(expression) {
                    Ok(expr) => {
                        expressions.insert(rule.name.clone(), Some(expr));
                    }
                    Err(e) => errors.push(format!("{at}.expression: {e}")),
                }
                None
            }
        };
        if let Some((metric, statistic)) = metric_statistic {
            if !METRICS.contains(&metric.as_str()) {
                errors.push(format!(
                    "{at}.metric: unknown metric '{metric}'; known: {}",
                    METRICS.join(", ")
                ));
            }
            errors.extend(check_statistic(&at, statistic));
            expressions.insert(rule.name.clone(), None);
        }
    }
    // Composites may only name rules that exist, and never themselves, even indirectly.
    for (name, expr) in &expressions {
        let Some(expr) = expr else { continue };
        let mut names = BTreeSet::new();
        expr.names(&mut names);
        for missing in names.iter().filter(|n| !expressions.contains_key(*n)) {
            errors.push(format!(
                "alerts.rules[{name}].expression: no rule named '{missing}'"
            ));
        }
    }
    for name in expressions.keys() {
        if let Some(cycle) = cycle_from(name, &expressions) {
            errors.push(format!(
                "alerts.rules[{name}].expression: a cycle: {}",
                cycle.join(" -> ")
            ));
            break;
        }
    }
    if errors.is_empty() {
        Ok(expressions)
    } else {
        Err(errors)
    }
}

fn cycle_from(start: &str, expressions: &BTreeMap<String, Option<Expr>>) -> Option<Vec<String>> {
    fn visit(
        name: &str,
        expressions: &BTreeMap<String, Option<Expr>>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == name) {
            let mut cycle = path[i..].to_vec();
            cycle.push(name.to_owned());
            return Some(cycle);
        }
        let Some(Some(expr)) = expressions.get(name) else {
            return None;
        };
        path.push(name.to_owned());
        let mut names = BTreeSet::new();
        expr.names(&mut names);
        for next in names {
            if let Some(cycle) = visit(&next, expressions, path) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    visit(start, expressions, &mut Vec::new())
}

/// The profile's default rules: its alarm thresholds, as threshold rules (3 of 5
/// one-minute datapoints, missing data not breaching), and storage-full forecasting.
pub fn profile_rules(profile: &crate::infra::profile::Profile) -> Vec<Rule> {
    let t = &profile.alarms;
    let threshold = |name: &str, metric: &str, statistic: &str, comparison, value: f64| Rule {
        name: name.into(),
        kind: RuleKind::Threshold {
            metric: metric.into(),
            statistic: statistic.into(),
            period_seconds: 60,
            comparison,
            threshold: value,
            datapoints: 3,
            evaluation_periods: 5,
            missing_data: MissingData::NotBreaching,
        },
    };
    vec![
        threshold(
            "alb-5xx-rate",
            "alb.5xx_rate",
            "Average",
            Comparison::Above,
            t.alb_5xx_rate_percent,
        ),
        threshold(
            "latency-p99",
            "service.latency_p99",
            "p99",
            Comparison::Above,
            t.p99_latency_seconds,
        ),
        threshold(
            "service-cpu",
            "service.cpu",
            "Average",
            Comparison::Above,
            t.ecs_cpu_percent,
        ),
        threshold(
            "service-memory",
            "service.memory",
            "Average",
            Comparison::Above,
            t.ecs_memory_percent,
        ),
        threshold(
            "database-cpu",
            "database.cpu",
            "Average",
            Comparison::Above,
            t.rds_cpu_percent,
        ),
        threshold(
            "database-connections",
            "database.connections",
            "Maximum",
            Comparison::Above,
            t.rds_connections,
        ),
        threshold(
            "cache-cpu",
            "cache.cpu",
            "Average",
            Comparison::Above,
            t.cache_cpu_percent,
        ),
        threshold(
            "cache-memory",
            "cache.memory",
            "Average",
            Comparison::Above,
            t.cache_memory_percent,
        ),
        Rule {
            name: "database-storage-full".into(),
            kind: RuleKind::Forecast {
                metric: "database.free_storage".into(),
                statistic: "Minimum".into(),
                period_seconds: 300,
                comparison: Comparison::Below,
                threshold: t.rds_free_storage_gb * 1024.0 * 1024.0 * 1024.0,
                within_hours: 72.0,
            },
        },
    ]
}

/// CloudWatch's M-of-N evaluation over the last `evaluation_periods` datapoints (oldest
/// first; `None` is a period with no data), with its missing-data policies.
pub fn threshold_breached(
    values: &[Option<f64>],
    comparison: Comparison,
    threshold: f64,
    datapoints: u32,
    evaluation_periods: u32,
    missing: MissingData,
) -> Option<bool> {
    let window = &values[values.len().saturating_sub(evaluation_periods as usize)..];
    let mut breaching = 0;
    let mut present = 0;
    for value in window {
        match (value, missing) {
            (Some(v), _) => {
                present += 1;
                breaching += u32::from(comparison.breaches(*v, threshold));
            }
            (None, MissingData::Breaching) => {
                present += 1;
                breaching += 1;
            }
            (None, MissingData::NotBreaching) => present += 1,
            (None, _) => {}
        }
    }
    if present == 0 {
        // No data at all: `missing` reports INSUFFICIENT_DATA (None); `ignore` keeps the
        // current state (also None to the caller).
        return None;
    }
    Some(breaching >= datapoints)
}

/// Hours until a least-squares line through `(hours, value)` points crosses `threshold`
/// in the direction of `comparison`; `None` if it never does (flat or moving away).
pub fn hours_until(points: &[(f64, f64)], comparison: Comparison, threshold: f64) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let (sxy, sxx) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    if sxx == 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let last_x = points.last()?.0;
    let now = my + slope * (last_x - mx);
    if comparison.breaches(now, threshold) {
        return Some(0.0);
    }
    let towards = match comparison {
        Comparison::Above | Comparison::AtOrAbove => slope > 0.0,
        Comparison::Below | Comparison::AtOrBelow => slope < 0.0,
    };
    towards.then(|| (threshold - now) / slope)
}

/// A seasonal band: the series as a daily shape, the weekly departure from it, an hourly
/// shape and a trend:
///
/// `expected(t) = daily[hour] + weekly[hour of week] + hourly[5 min of hour] + drift + slope * hours`
///
/// Each part learns from what the parts before it leave, never the other way round, so
/// they cannot drift against each other: the daily shape (24 EWMAs of the values) first,
/// then Holt's level and slope on what it leaves (a trend the slowly moving shape lags
/// behind), then the hourly shape (12 slots of 5 minutes: jobs at :00), then the weekly
/// departure (168 slots: weekends differ from weekdays). The spread is kept per
/// hour of the day. A daily shape is known after two days; the weekly one refines it
/// over two weeks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeasonalBand {
    daily: Vec<f64>,
    weekly: Vec<f64>,
    hourly: Vec<f64>,
    /// Points learned per slot: a slot's first points set it, later ones move it by
    /// `alpha` a period.
    seen: Vec<u32>,
    weekly_seen: Vec<u32>,
    hourly_seen: Vec<u32>,
    /// Holt's level and slope (per hour) of what the shapes leave.
    drift: f64,
    slope: f64,
    /// Squared residuals' EWMA, per hour of the day, from the second day that hour is
    /// seen (the first day's residuals are the shapes still learning).
    var: Vec<f64>,
    var_seen: Vec<u32>,
    /// Unix seconds of the last point learned.
    last_at: Option<i64>,
    alpha: f64,
}

/// (hour of day, hour of week from Monday, 5-minute slot of the hour)
fn phases(at: DateTime<Utc>) -> (usize, usize, usize) {
    let hour = at.hour() as usize;
    let week_hour = at.weekday().num_days_from_monday() as usize * 24 + hour;
    (hour, week_hour, at.minute() as usize / 5)
}

impl SeasonalBand {
    /// `alpha`: how far a seasonal slot moves towards a new point, per period.
    pub fn new(alpha: f64) -> SeasonalBand {
        SeasonalBand {
            daily: vec![0.0; 24],
            weekly: vec![0.0; 168],
            hourly: vec![0.0; 12],
            seen: vec![0; 24],
            weekly_seen: vec![0; 168],
            hourly_seen: vec![0; 12],
            drift: 0.0,
            slope: 0.0,
            var: vec![0.0; 24],
            var_seen: vec![0; 24],
            last_at: None,
            alpha,
        }
    }

    fn hours_since_last(&self, at: DateTime<Utc>) -> f64 {
        self.last_at
            .map_or(0.0, |last| (at.timestamp() - last) as f64 / 3600.0)
    }

    /// The daily, weekly and hourly shapes at this moment (an unseen slot adds nothing).
    fn shapes(&self, hour: usize, week_hour: usize, slot: usize) -> (f64, f64, f64) {
        let weekly = if self.weekly_seen[week_hour] > 0 {
            self.weekly[week_hour]
        } else {
            0.0
        };
        let hourly = if self.hourly_seen[slot] > 0 {
            self.hourly[slot]
        } else {
            0.0
        };
        (self.daily[hour], weekly, hourly)
    }

    fn expected(&self, at: DateTime<Utc>) -> f64 {
        let (hour, week_hour, slot) = phases(at);
        let (daily, weekly, hourly) = self.shapes(hour, week_hour, slot);
        // A trend is extrapolated a day at most.
        daily + weekly + hourly + self.drift + self.slope * self.hours_since_last(at).min(24.0)
    }

    /// `(low, high)` at `at`, `stddevs` wide; `None` until this hour of the day has been
    /// seen on a second day.
    pub fn band(&self, at: DateTime<Utc>, stddevs: f64) -> Option<(f64, f64)> {
        let (hour, _, _) = phases(at);
        (self.var_seen[hour] >= 1).then(|| {
            let centre = self.expected(at);
            // An hour seen only a few times can show no spread at all: the band never
            // narrows below 10% of its centre, as a floor against alarming on noise.
            let spread = self.var[hour]
                .sqrt()
                .max(0.1 * centre.abs() / stddevs.max(1e-9));
            (centre - stddevs * spread, centre + stddevs * spread)
        })
    }

    pub fn learn(&mut self, at: DateTime<Utc>, value: f64) {
        let (hour, week_hour, slot) = phases(at);
        let hours = self.hours_since_last(at);
        // `alpha` is per period of a slot: a slot that gets many points a period (12
        // five-minute points in an hour of the day) moves by a share of it per point.
        let step_share = |slot_seconds: f64| {
            self.last_at
                .map_or(1.0, |_| (hours * 3600.0 / slot_seconds).clamp(0.0, 1.0))
        };
        let (daily_share, hourly_share) = (step_share(3600.0), step_share(300.0));
        let alpha = self.alpha;
        let rate = |seen: &mut u32, share: f64| {
            let rate = (1.0 / f64::from(*seen + 1)).max(alpha * share);
            *seen = seen.saturating_add(1);
            rate
        };
        if self.seen[hour] > 0 {
            // A day's worth of points for this hour: 1 / daily_share of them.
            if f64::from(self.seen[hour]) * daily_share >= 1.0 {
                let residual = value - self.expected(at);
                let r = rate(&mut self.var_seen[hour], daily_share);
                self.var[hour] += r * (residual * residual - self.var[hour]);
            }
            // Holt on what the daily shape leaves: a trend it lags behind.
            let left = value - self.daily[hour];
            let previous = self.drift;
            let projected = self.drift + self.slope * hours.min(24.0);
            let level_rate = (0.05 * hours.max(1.0 / 60.0)).min(0.5);
            self.drift = projected + level_rate * (left - projected);
            if hours > 0.0 {
                let slope_rate = (0.02 * hours).min(0.2);
                self.slope += slope_rate * ((self.drift - previous) / hours - self.slope);
            }
        }
        let r = rate(&mut self.seen[hour], daily_share);
        self.daily[hour] += r * (value - self.daily[hour]);
        let hourly = if self.hourly_seen[slot] > 0 {
            self.hourly[slot]
        } else {
            0.0
        };
        let r = rate(&mut self.hourly_seen[slot], hourly_share);
        self.hourly[slot] += r * (value - self.daily[hour] - self.drift - hourly);
        let (daily, _, hourly) = self.shapes(hour, week_hour, slot);
        let r = rate(&mut self.weekly_seen[week_hour], daily_share);
        self.weekly[week_hour] +=
            r * (value - daily - self.drift - hourly - self.weekly[week_hour]);
        self.last_at = Some(at.timestamp());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(yaml: &str) -> Vec<Rule> {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn unknown_metrics_statistics_and_cycles_are_named_by_rule_and_field() {
        let errors = validate(&rules(
            "- {name: latency, kind: threshold, metric: service.latency, statistic: p99, comparison: '>', threshold: 1}\n\
             - {name: cpu, kind: threshold, metric: service.cpu, statistic: Median, comparison: '>', threshold: 80}\n\
             - {name: a, kind: composite, expression: 'b AND cpu'}\n\
             - {name: b, kind: composite, expression: 'NOT a'}\n",
        ))
        .unwrap_err();
        assert!(
            errors[0].starts_with("alerts.rules[latency].metric: unknown metric 'service.latency'"),
            "{errors:?}"
        );
        assert!(
            errors[1].starts_with("alerts.rules[cpu].statistic: unknown statistic 'Median'"),
            "{errors:?}"
        );
        assert_eq!(
            errors[2],
            "alerts.rules[a].expression: a cycle: a -> b -> a"
        );
    }

    #[test]
    fn composites_parse_with_precedence_and_evaluate() {
        let expr = parse_expression("web AND NOT (db OR cache)").unwrap();
        let states =
            |w, d, c| BTreeMap::from([("web".into(), w), ("db".into(), d), ("cache".into(), c)]);
        assert!(expr.eval(&states(true, false, false)));
        assert!(!expr.eval(&states(true, true, false)));
        assert_eq!(
            parse_expression("web AND (db").unwrap_err(),
            "a '(' is not closed"
        );
        assert!(validate(&rules(
            "- {name: x, kind: composite, expression: 'y OR z'}\n"
        ))
        .unwrap_err()[0]
            .contains("no rule named 'y'"));
    }

    #[test]
    fn m_of_n_with_cloudwatch_missing_data_policies() {
        use Comparison::Above;
        let v = [Some(90.0), None, Some(95.0), Some(50.0), None];
        assert_eq!(
            threshold_breached(&v, Above, 80.0, 3, 5, MissingData::Missing),
            Some(false)
        );
        assert_eq!(
            threshold_breached(&v, Above, 80.0, 3, 5, MissingData::Breaching),
            Some(true)
        );
        assert_eq!(
            threshold_breached(&v, Above, 80.0, 2, 5, MissingData::NotBreaching),
            Some(true)
        );
        assert_eq!(
            threshold_breached(&[None, None], Above, 80.0, 1, 2, MissingData::Missing),
            None
        );
    }

    #[test]
    fn storage_full_within_days_is_forecast_from_the_trend() {
        // Free storage falls 1 GB an hour from 100 GB: 2 GB is crossed 98 hours after.
        let points: Vec<(f64, f64)> = (0..24)
            .map(|h| (f64::from(h), 100.0 - f64::from(h)))
            .collect();
        let hours = hours_until(&points, Comparison::Below, 2.0).unwrap();
        assert!((hours - 75.0).abs() < 1e-9, "{hours}");
        let flat: Vec<(f64, f64)> = (0..24).map(|h| (f64::from(h), 50.0)).collect();
        assert_eq!(hours_until(&flat, Comparison::Below, 2.0), None);
    }

    fn hour(h: i64) -> DateTime<Utc> {
        // 2026-11-02 is a Monday.
        DateTime::parse_from_rfc3339("2026-11-02T00:00:00Z")
            .unwrap()
            .to_utc()
            + chrono::Duration::hours(h)
    }

    #[test]
    fn a_seasonal_band_judges_each_hour_against_its_own_history() {
        let mut band = SeasonalBand::new(0.2);
        // Three weeks: weekday 09:00 runs at 100, the rest at 10.
        for h in 0..3 * 168 {
            let busy = (h % 24) == 9 && (h % 168) / 24 < 5;
            band.learn(
                hour(h),
                if busy { 100.0 } else { 10.0 } + (h / 168 % 2) as f64,
            );
        }
        let (low, high) = band.band(hour(3 * 168 + 9), 3.0).unwrap();
        assert!(low < 100.0 && 100.0 < high, "{low}..{high}");
        let (_, quiet_high) = band.band(hour(3 * 168 + 3), 3.0).unwrap();
        assert!(
            100.0 > quiet_high,
            "100 at 03:00 is anomalous: band ends at {quiet_high}"
        );
        // Saturday 09:00 is quiet, as Saturdays have been: a weekday peak is not.
        let (_, saturday_high) = band.band(hour(3 * 168 + 5 * 24 + 9), 3.0).unwrap();
        assert!(
            100.0 > saturday_high,
            "Saturday's band ends at {saturday_high}"
        );
    }

    #[test]
    fn a_daily_shape_is_known_after_two_days_and_a_trend_is_followed() {
        let mut band = SeasonalBand::new(0.2);
        // Busy afternoons (14:00-17:00 at +50), on a level growing 1 per hour.
        let value = |h: i64| {
            100.0
                + h as f64
                + if (14..18).contains(&(h % 24)) {
                    50.0
                } else {
                    0.0
                }
        };
        for h in 0..3 * 24 {
            band.learn(hour(h), value(h));
        }
        for h in 3 * 24..5 * 24 {
            let (low, high) = band.band(hour(h), 3.0).unwrap();
            let v = value(h);
            assert!(low <= v && v <= high, "hour {h}: {v} outside {low}..{high}");
            band.learn(hour(h), v);
        }
        // The afternoon level at 04:00 is out of the band.
        let at = 5 * 24 + 4;
        let (_, high) = band.band(hour(at), 3.0).unwrap();
        assert!(
            value(at) + 50.0 > high,
            "{} within ..{high}",
            value(at) + 50.0
        );
    }

    #[test]
    fn an_hourly_job_is_part_of_the_shape_and_the_same_load_at_half_past_is_not() {
        let mut band = SeasonalBand::new(0.2);
        let start = hour(0);
        // Five-minute points for three days; a job at :00 each hour doubles the load.
        let at = |i: i64| start + chrono::Duration::minutes(5 * i);
        let value = |i: i64| if i % 12 == 0 { 80.0 } else { 40.0 } + (i % 5) as f64;
        for i in 0..3 * 288 + 12 * 10 {
            band.learn(at(i), value(i));
        }
        let on_the_hour = 3 * 288 + 12 * 10;
        let (low, high) = band.band(at(on_the_hour), 3.0).unwrap();
        assert!(low <= 80.0 && 80.0 <= high, "the :00 job: {low}..{high}");
        for i in on_the_hour..on_the_hour + 6 {
            band.learn(at(i), value(i));
        }
        let (_, high) = band.band(at(on_the_hour + 6), 3.0).unwrap();
        assert!(
            80.0 > high,
            "the same load at :30 is anomalous: band ends at {high}"
        );
    }
}
