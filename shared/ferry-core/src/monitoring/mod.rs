//! Monitoring: alerts in Alertmanager's vocabulary (fingerprints, matchers, silences,
//! inhibition, grouping timers) plus what neither Alertmanager nor CloudWatch has: flap
//! suppression with hysteresis, and incidents ranked by probable root cause.

pub mod alerts;
pub mod anomaly;
pub mod evaluate;
pub mod health;
pub mod incident;
pub mod jobs;
pub mod noise;
pub mod notify;
pub mod routing;
pub mod rules;
pub mod silences;

use chrono::{DateTime, Datelike, Timelike, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub type Labels = BTreeMap<String, String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    Firing,
    Resolved,
}

/// One raw observation of an alert: the evaluator emits one per rule and label set on
/// every evaluation, so the same alert arrives many times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawAlert {
    pub rule: String,
    pub labels: Labels,
    pub status: AlertStatus,
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub summary: String,
}

impl RawAlert {
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.rule, &self.labels)
    }
}

/// The identity of an alert: its rule and its labels (FNV-1a, 64 bits, hex). Stable
/// across runs and processes, so it can key stored state.
pub fn fingerprint(rule: &str, labels: &Labels) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    feed(rule.as_bytes());
    for (k, v) in labels {
        feed(&[0xff]);
        feed(k.as_bytes());
        feed(&[0xfe]);
        feed(v.as_bytes());
    }
    format!("{hash:016x}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MatchOp {
    #[serde(rename = "=")]
    Equal,
    #[serde(rename = "!=")]
    NotEqual,
    #[serde(rename = "=~")]
    Regex,
    #[serde(rename = "!~")]
    NotRegex,
}

/// A label matcher, as Alertmanager's: regexes are anchored at both ends. Read back from
/// stored state, it is checked and compiled again, once. Ferry's own matchers compile on
/// first use instead: every spec check builds the default inhibit rules, and compiling
/// their regex for each environment was a third of a `ferry template` process.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "StoredMatcher")]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    #[serde(skip)]
    compiled: std::sync::OnceLock<Regex>,
}

#[derive(Deserialize)]
struct StoredMatcher {
    name: String,
    op: MatchOp,
    value: String,
}

impl TryFrom<StoredMatcher> for Matcher {
    type Error = String;
    fn try_from(stored: StoredMatcher) -> Result<Matcher, String> {
        Matcher::new("matcher", &stored.name, stored.op, &stored.value)
    }
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        (&self.name, self.op, &self.value) == (&other.name, other.op, &other.value)
    }
}

impl Matcher {
    /// `field` names the matcher in errors (e.g. `silences[0].matchers[1]`).
    pub fn new(field: &str, name: &str, op: MatchOp, value: &str) -> Result<Matcher, String> {
        if name.is_empty() {
            return Err(format!("{field}.name: must not be empty"));
        }
        let matcher = Matcher::builtin(name, op, value);
        if matches!(op, MatchOp::Regex | MatchOp::NotRegex) {
            let compiled = Regex::new(&format!("^(?:{value})$"))
                .map_err(|e| format!("{field}.value: not a regular expression: {e}"))?;
            let _ = matcher.compiled.set(compiled);
        }
        Ok(matcher)
    }

    /// One of Ferry's own matchers, whose regex is known to compile (a test compiles each):
    /// compiled when first matched, not now.
    pub(crate) fn builtin(name: &str, op: MatchOp, value: &str) -> Matcher {
        Matcher {
            name: name.into(),
            op,
            value: value.into(),
            compiled: std::sync::OnceLock::new(),
        }
    }

    fn regex(&self) -> &Regex {
        self.compiled.get_or_init(|| {
            Regex::new(&format!("^(?:{})$", self.value))
                .expect("a built-in matcher's regex compiles")
        })
    }

    /// `name=value`, `name!=value`, `name=~regex`, `name!~regex`.
    pub fn parse(field: &str, text: &str) -> Result<Matcher, String> {
        for (token, op) in [
            ("=~", MatchOp::Regex),
            ("!~", MatchOp::NotRegex),
            ("!=", MatchOp::NotEqual),
            ("=", MatchOp::Equal),
        ] {
            if let Some((name, value)) = text.split_once(token) {
                return Matcher::new(field, name.trim(), op, value.trim().trim_matches('"'));
            }
        }
        Err(format!(
            "{field}: '{text}' is not a matcher (name=value, name!=value, name=~re, name!~re)"
        ))
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.name).map_or("", String::as_str);
        let regex_matches = || self.regex().is_match(value);
        match self.op {
            MatchOp::Equal => value == self.value,
            MatchOp::NotEqual => value != self.value,
            MatchOp::Regex => regex_matches(),
            MatchOp::NotRegex => !regex_matches(),
        }
    }
}

pub fn all_match(matchers: &[Matcher], labels: &Labels) -> bool {
    matchers.iter().all(|m| m.matches(labels))
}

/// A silence: alerts matching every matcher are not notified between `starts_at` and
/// `ends_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_by: String,
    pub comment: String,
}

impl Silence {
    pub fn new(
        id: &str,
        matchers: Vec<Matcher>,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        created_by: &str,
        comment: &str,
    ) -> Result<Silence, String> {
        if matchers.is_empty() {
            return Err(format!("silence {id}: matchers: at least one is needed"));
        }
        if ends_at <= starts_at {
            return Err(format!(
                "silence {id}: ends_at: {ends_at} is not after starts_at {starts_at}"
            ));
        }
        Ok(Silence {
            id: id.into(),
            matchers,
            starts_at,
            ends_at,
            created_by: created_by.into(),
            comment: comment.into(),
        })
    }

    pub fn mutes(&self, labels: &Labels, at: DateTime<Utc>) -> bool {
        at >= self.starts_at && at < self.ends_at && all_match(&self.matchers, labels)
    }
}

/// A recurring mute: weekdays (1 = Monday) and UTC minutes of the day, `[start, end)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MuteTimeInterval {
    pub name: String,
    pub weekdays: Vec<u32>,
    pub start_minute: u32,
    pub end_minute: u32,
}

impl MuteTimeInterval {
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let day = at.weekday().number_from_monday();
        let minute = at.hour() * 60 + at.minute();
        (self.weekdays.is_empty() || self.weekdays.contains(&day))
            && minute >= self.start_minute
            && minute < self.end_minute
    }
}

/// Inhibition: while a firing alert matches `source`, alerts matching `target` with the
/// same values of every `equal` label are not notified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InhibitRule {
    pub source: Vec<Matcher>,
    pub target: Vec<Matcher>,
    pub equal: Vec<String>,
}

impl InhibitRule {
    pub fn inhibits(&self, source: &Labels, target: &Labels) -> bool {
        all_match(&self.source, source)
            && all_match(&self.target, target)
            && self.equal.iter().all(|l| source.get(l) == target.get(l))
            && source != target
    }
}

/// A silence from an API request body:
/// `{"matchers": ["service=worker"], "starts_at"?: RFC 3339, "ends_at": RFC 3339, "comment"}`.
/// Every problem is named by its field; `now` is the default start.
pub fn silence_from_request(
    id: &str,
    body: &serde_json::Value,
    created_by: &str,
    now: DateTime<Utc>,
) -> Result<Silence, crate::ValidationErrors> {
    let mut errors = crate::ValidationErrors::default();
    let mut matchers = Vec::new();
    match body["matchers"].as_array() {
        Some(list) if !list.is_empty() => {
            for (i, m) in list.iter().enumerate() {
                let field = format!("matchers[{i}]");
                match m.as_str().map(|text| Matcher::parse(&field, text)) {
                    Some(Ok(matcher)) => matchers.push(matcher),
                    Some(Err(message)) => {
                        let (f, msg) = message.split_once(": ").unwrap_or((&field, &message));
                        errors.push(f.to_owned(), msg.to_owned());
                    }
                    None => errors.push(field, "must be a string like name=value"),
                }
            }
        }
        _ => errors.push(
            "matchers",
            "at least one matcher is needed, e.g. [\"service=worker\"]",
        ),
    }
    let time = |field: &str, errors: &mut crate::ValidationErrors| -> Option<DateTime<Utc>> {
        let text = body[field].as_str()?;
        match DateTime::parse_from_rfc3339(text) {
            Ok(t) => Some(t.to_utc()),
            Err(_) => {
                errors.push(
                    field.to_owned(),
                    format!("'{text}' is not an RFC 3339 time"),
                );
                None
            }
        }
    };
    let starts_at = time("starts_at", &mut errors).unwrap_or(now);
    let ends_at = time("ends_at", &mut errors);
    if body["ends_at"].is_null() {
        errors.push("ends_at", "is required");
    }
    let comment = body["comment"].as_str().unwrap_or_default();
    if comment.trim().is_empty() {
        errors.push("comment", "say why the alerts are silenced");
    }
    if let Some(ends_at) = ends_at {
        if ends_at <= starts_at {
            errors.push(
                "ends_at",
                format!("{ends_at} is not after starts_at {starts_at}"),
            );
        }
    }
    errors.into_result()?;
    Ok(Silence {
        id: id.into(),
        matchers,
        starts_at,
        ends_at: ends_at.expect("checked above"),
        created_by: created_by.into(),
        comment: comment.into(),
    })
}
