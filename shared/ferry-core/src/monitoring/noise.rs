//! The noise-reduction pipeline, driven by time: raw alerts go in (`ingest`), and
//! notifications come out when a group's timers say so (`tick`). Alertmanager's
//! semantics and defaults: dedup by fingerprint, grouping with `group_wait` 30 s,
//! `group_interval` 5 m, `repeat_interval` 4 h, inhibition, silences, mute intervals.
//! Flap suppression (with hysteresis) is Ferry's own.

use super::incident::{Incident, Incidents};
use super::{AlertStatus, InhibitRule, Labels, MuteTimeInterval, RawAlert, Silence};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlapConfig {
    /// State observations remembered per alert.
    pub history: usize,
    /// Flapping starts when more than this share of recent observations changed state...
    pub start_percent: f64,
    /// ... and stops when the share falls below this (hysteresis).
    pub stop_percent: f64,
}

impl Default for FlapConfig {
    fn default() -> Self {
        FlapConfig {
            history: 20,
            start_percent: 30.0,
            stop_percent: 10.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseConfig {
    pub group_by: Vec<String>,
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    pub inhibit_rules: Vec<InhibitRule>,
    pub silences: Vec<Silence>,
    pub mute_intervals: Vec<MuteTimeInterval>,
    pub flap: FlapConfig,
}

impl Default for NoiseConfig {
    fn default() -> Self {
        NoiseConfig {
            group_by: vec!["app".into(), "env".into()],
            group_wait: Duration::seconds(30),
            group_interval: Duration::minutes(5),
            repeat_interval: Duration::hours(4),
            inhibit_rules: Vec::new(),
            silences: Vec::new(),
            mute_intervals: Vec::new(),
            flap: FlapConfig::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tracked {
    alert: RawAlert,
    /// Recent observations: did each one change the state?
    changes: VecDeque<bool>,
    flapping: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Group {
    labels: Labels,
    first_at: Option<DateTime<Utc>>,
    last_sent_at: Option<DateTime<Utc>>,
    /// When the group is next looked at: `group_wait` after it first fires, then every
    /// `group_interval`, as Alertmanager's flush timer.
    next_flush: Option<DateTime<Utc>>,
    /// What the last notification said: fingerprint -> firing (true) / resolved (false),
    /// plus the alerts announced as flapping.
    sent: BTreeMap<String, bool>,
    sent_flapping: BTreeSet<String>,
    members: BTreeSet<String>,
}

/// An alert as a notification shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertLine {
    pub fingerprint: String,
    pub rule: String,
    pub labels: Labels,
    pub since: DateTime<Utc>,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Stable for one group and one content: a retry of the same notification carries the
    /// same key, so it is never sent twice.
    pub dedup_key: String,
    pub group: Labels,
    pub at: DateTime<Utc>,
    pub firing: Vec<AlertLine>,
    pub resolved: Vec<AlertLine>,
    /// Alerts that flap: announced once, instead of every change.
    pub flapping: Vec<AlertLine>,
    pub incident: Option<Incident>,
}

/// Counters of what the pipeline swallowed, for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NoiseStats {
    pub raw: u64,
    pub duplicates: u64,
    pub silenced: u64,
    pub inhibited: u64,
    pub flapping_changes: u64,
    pub notifications: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    pub config: NoiseConfig,
    alerts: BTreeMap<String, Tracked>,
    groups: BTreeMap<String, Group>,
    pub incidents: Incidents,
    pub stats: NoiseStats,
}

impl Pipeline {
    pub fn new(config: NoiseConfig, incidents: Incidents) -> Pipeline {
        Pipeline {
            config,
            alerts: BTreeMap::new(),
            groups: BTreeMap::new(),
            incidents,
            stats: NoiseStats::default(),
        }
    }

    fn group_of(&self, labels: &Labels) -> (String, Labels) {
        let values: Labels = self
            .config
            .group_by
            .iter()
            .map(|l| (l.clone(), labels.get(l).cloned().unwrap_or_default()))
            .collect();
        let key = values
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        (key, values)
    }

    /// One raw alert. Returns `false` for a duplicate (same fingerprint, same state).
    pub fn ingest(&mut self, raw: RawAlert) -> bool {
        self.stats.raw += 1;
        let fingerprint = raw.fingerprint();
        let flap = self.config.flap.clone();
        let tracked = self
            .alerts
            .entry(fingerprint.clone())
            .or_insert_with(|| Tracked {
                alert: raw.clone(),
                changes: VecDeque::new(),
                flapping: false,
            });
        let is_new = tracked.changes.is_empty() && tracked.alert.at == raw.at;
        let changed = tracked.alert.status != raw.status;
        tracked.changes.push_back(changed);
        if tracked.changes.len() > flap.history {
            tracked.changes.pop_front();
        }
        let share =
            100.0 * tracked.changes.iter().filter(|c| **c).count() as f64 / flap.history as f64;
        if !tracked.flapping && share > flap.start_percent {
            tracked.flapping = true;
        } else if tracked.flapping && share < flap.stop_percent {
            tracked.flapping = false;
        }
        if !changed && !is_new {
            self.stats.duplicates += 1;
            return false;
        }
        if tracked.flapping && changed {
            self.stats.flapping_changes += 1;
        }
        if changed {
            tracked.alert.status = raw.status;
            tracked.alert.at = raw.at;
            tracked.alert.summary = raw.summary.clone();
        }
        // Silenced alerts are expected (maintenance): they explain nothing in an incident.
        if self.silenced(&raw.labels, raw.at) {
            self.stats.silenced += 1;
        } else {
            if raw.status == AlertStatus::Firing && self.inhibited(&raw.labels, raw.at) {
                self.stats.inhibited += 1;
            }
            self.incidents.observe(&fingerprint, &raw);
        }
        let (key, labels) = self.group_of(&raw.labels);
        let group = self.groups.entry(key).or_insert_with(|| Group {
            labels,
            ..Group::default()
        });
        group.members.insert(fingerprint);
        if group.first_at.is_none() && raw.status == AlertStatus::Firing {
            group.first_at = Some(raw.at);
            group.next_flush = Some(raw.at + self.config.group_wait);
        }
        true
    }

    fn silenced(&self, labels: &Labels, at: DateTime<Utc>) -> bool {
        self.config.silences.iter().any(|s| s.mutes(labels, at))
    }

    fn inhibited(&self, labels: &Labels, at: DateTime<Utc>) -> bool {
        self.config.inhibit_rules.iter().any(|rule| {
            self.alerts.values().any(|source| {
                source.alert.status == AlertStatus::Firing
                    && !self.silenced(&source.alert.labels, at)
                    && rule.inhibits(&source.alert.labels, labels)
            })
        })
    }

    /// Notifications due at `now`, in group order.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<Notification> {
        let muted = self.config.mute_intervals.iter().any(|m| m.contains(now));
        let mut out = Vec::new();
        let keys: Vec<String> = self.groups.keys().cloned().collect();
        for key in keys {
            let group = &self.groups[&key];
            let Some(next_flush) = group.next_flush else {
                continue;
            };
            if now < next_flush || muted {
                continue;
            }
            self.groups.get_mut(&key).expect("exists").next_flush =
                Some(now + self.config.group_interval);
            let group = &self.groups[&key];
            // What the group would say now.
            let mut state: BTreeMap<String, bool> = BTreeMap::new();
            let mut flapping = BTreeSet::new();
            for fp in &group.members {
                let tracked = &self.alerts[fp];
                let labels = &tracked.alert.labels;
                if self.silenced(labels, now) {
                    continue;
                }
                let firing = tracked.alert.status == AlertStatus::Firing;
                let was_said_firing = group.sent.get(fp) == Some(&true);
                // While its source fires, an inhibited alert's news (flapping included)
                // is not worth a message; its resolution is, if its firing was said.
                if self.inhibited(labels, now) && (firing || !was_said_firing) {
                    continue;
                }
                if tracked.flapping {
                    flapping.insert(fp.clone());
                    continue;
                }
                // A resolved alert is worth saying once, if it was said to fire.
                if !firing && group.sent.get(fp) != Some(&true) {
                    continue;
                }
                state.insert(fp.clone(), firing);
            }
            let new_flapping: BTreeSet<String> =
                flapping.difference(&group.sent_flapping).cloned().collect();
            let changed = state != group.sent || !new_flapping.is_empty();
            let repeat = group
                .last_sent_at
                .is_some_and(|s| now >= s + self.config.repeat_interval)
                && state.values().any(|f| *f);
            if !(changed || repeat) || (state.is_empty() && new_flapping.is_empty()) {
                if state.is_empty() && flapping.is_empty() && group.sent.values().all(|f| !f) {
                    // Nothing firing and nothing left to say: the group rests until it fires.
                    let group = self.groups.get_mut(&key).expect("exists");
                    group.first_at = None;
                    group.next_flush = None;
                    group.last_sent_at = None;
                    group.sent.clear();
                }
                continue;
            }
            let line = |fp: &String| {
                let a = &self.alerts[fp].alert;
                AlertLine {
                    fingerprint: fp.clone(),
                    rule: a.rule.clone(),
                    labels: a.labels.clone(),
                    since: a.at,
                    summary: a.summary.clone(),
                }
            };
            let firing: Vec<AlertLine> = state
                .iter()
                .filter(|(_, f)| **f)
                .map(|(fp, _)| line(fp))
                .collect();
            let resolved: Vec<AlertLine> = state
                .iter()
                .filter(|(_, f)| !**f)
                .map(|(fp, _)| line(fp))
                .collect();
            let flapping_lines: Vec<AlertLine> = new_flapping.iter().map(line).collect();
            let env_labels = group.labels.clone();
            let incident = self.incidents.current(&env_labels, now);
            let content: Vec<String> = state
                .iter()
                .map(|(fp, f)| format!("{fp}:{f}"))
                .chain(new_flapping.iter().cloned())
                .collect();
            let dedup_key = super::fingerprint(
                &format!("{key}@{}", now.timestamp()),
                &content.iter().map(|c| (c.clone(), String::new())).collect(),
            );
            out.push(Notification {
                dedup_key,
                group: env_labels,
                at: now,
                firing,
                resolved,
                flapping: flapping_lines,
                incident,
            });
            self.stats.notifications += 1;
            let group = self.groups.get_mut(&key).expect("exists");
            group.last_sent_at = Some(now);
            // Resolved alerts have been said: they leave the group.
            group.sent = state.into_iter().filter(|(_, f)| *f).collect();
            group.sent_flapping.extend(new_flapping);
            group.sent_flapping.retain(|fp| flapping.contains(fp));
        }
        out
    }

    /// Replays raw alerts in time order, ticking every `step`, and after the last one
    /// until `until`. Returns every notification sent.
    pub fn replay(
        &mut self,
        mut raw: Vec<RawAlert>,
        step: Duration,
        until: DateTime<Utc>,
    ) -> Vec<Notification> {
        raw.sort_by_key(|r| r.at);
        let mut sent = Vec::new();
        let Some(first) = raw.first().map(|r| r.at) else {
            return sent;
        };
        let mut clock = first;
        let mut events = raw.into_iter().peekable();
        while clock <= until {
            while events.peek().is_some_and(|e| e.at <= clock) {
                let event = events.next().expect("peeked");
                self.ingest(event);
            }
            sent.extend(self.tick(clock));
            clock += step;
        }
        sent
    }
}
