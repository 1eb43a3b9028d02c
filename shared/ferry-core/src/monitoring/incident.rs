//! Correlation: alerts that fire in one environment within a window form an incident,
//! and its probable root cause is ranked from the environment's dependency graph (ALB ->
//! service -> database and cache, from the spec and template) and from which alert
//! fired first.

use super::{AlertStatus, Labels, RawAlert};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What depends on what, by component name (`alb`, `service:web`, `database`, `cache`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DependencyGraph {
    /// component -> the components it calls.
    pub calls: BTreeMap<String, BTreeSet<String>>,
}

impl DependencyGraph {
    /// Ferry's environment shape: the ALB calls every service; every service calls the
    /// database and the cache when the environment has them.
    pub fn for_environment(services: &[String], database: bool, cache: bool) -> DependencyGraph {
        let mut calls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for service in services {
            let node = format!("service:{service}");
            calls.entry("alb".into()).or_default().insert(node.clone());
            let deps = calls.entry(node).or_default();
            if database {
                deps.insert("database".into());
            }
            if cache {
                deps.insert("cache".into());
            }
        }
        DependencyGraph { calls }
    }

    /// Every component that reaches `component` through calls.
    pub fn dependents(&self, component: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let mut frontier = vec![component.to_owned()];
        while let Some(target) = frontier.pop() {
            for (caller, callees) in &self.calls {
                if callees.contains(&target) && found.insert(caller.clone()) {
                    frontier.push(caller.clone());
                }
            }
        }
        found
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    pub component: String,
    pub score: f64,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: String,
    pub env: Labels,
    pub opened_at: DateTime<Utc>,
    pub last_activity: DateTime<Utc>,
    /// fingerprint -> (rule, component, first fired)
    pub alerts: BTreeMap<String, (String, String, DateTime<Utc>)>,
    /// Most probable first.
    pub causes: Vec<Cause>,
}

impl Incident {
    pub fn root_cause(&self) -> Option<&Cause> {
        self.causes.first()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incidents {
    pub window: Duration,
    pub graph: DependencyGraph,
    /// The labels an incident is scoped by (an environment).
    pub scope: Vec<String>,
    open: BTreeMap<String, Incident>,
    pub closed: Vec<Incident>,
}

impl Incidents {
    pub fn new(graph: DependencyGraph, window: Duration) -> Incidents {
        Incidents {
            window,
            graph,
            scope: vec!["app".into(), "env".into()],
            open: BTreeMap::new(),
            closed: Vec::new(),
        }
    }

    fn scope_of(&self, labels: &Labels) -> (String, Labels) {
        let env: Labels = self
            .scope
            .iter()
            .map(|l| (l.clone(), labels.get(l).cloned().unwrap_or_default()))
            .collect();
        (env.values().cloned().collect::<Vec<_>>().join("/"), env)
    }

    /// A state change of one alert (duplicates are filtered before).
    pub fn observe(&mut self, fingerprint: &str, raw: &RawAlert) {
        let (key, env) = self.scope_of(&raw.labels);
        // An incident quiet for longer than the window is over.
        if let Some(incident) = self.open.get(&key) {
            if raw.at - incident.last_activity > self.window {
                let done = self.open.remove(&key).expect("exists");
                self.closed.push(done);
            }
        }
        if raw.status != AlertStatus::Firing {
            if let Some(incident) = self.open.get_mut(&key) {
                incident.last_activity = raw.at;
            }
            return;
        }
        let component = raw
            .labels
            .get("component")
            .cloned()
            .unwrap_or_else(|| "unknown".into());
        let incident = self.open.entry(key.clone()).or_insert_with(|| Incident {
            id: format!("{key}@{}", raw.at.format("%Y%m%dT%H%M%SZ")),
            env,
            opened_at: raw.at,
            last_activity: raw.at,
            alerts: BTreeMap::new(),
            causes: Vec::new(),
        });
        incident.last_activity = raw.at;
        incident.alerts.entry(fingerprint.to_owned()).or_insert((
            raw.rule.clone(),
            component,
            raw.at,
        ));
        let causes = rank(&self.graph, incident);
        incident.causes = causes;
    }

    /// The incident open in this scope at `now`, if any.
    pub fn current(&self, scope: &Labels, now: DateTime<Utc>) -> Option<Incident> {
        let (key, _) = self.scope_of(scope);
        self.open
            .get(&key)
            .filter(|i| now - i.last_activity <= self.window)
            .cloned()
    }

    pub fn all(&self) -> Vec<&Incident> {
        self.closed.iter().chain(self.open.values()).collect()
    }
}

/// Ranks the alerting components: one that other alerting components depend on explains
/// them (3 points each), and the first to fire is more likely the cause (2 points, then
/// less for each later one).
fn rank(graph: &DependencyGraph, incident: &Incident) -> Vec<Cause> {
    let mut firsts: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    for (_, component, at) in incident.alerts.values() {
        let entry = firsts.entry(component.clone()).or_insert(*at);
        if at < entry {
            *entry = *at;
        }
    }
    let mut order: Vec<(&String, &DateTime<Utc>)> = firsts.iter().collect();
    order.sort_by_key(|(c, at)| (**at, (*c).clone()));
    let alerting: BTreeSet<&String> = firsts.keys().collect();
    let mut causes: Vec<Cause> = order
        .iter()
        .enumerate()
        .map(|(position, (component, at))| {
            let explained: Vec<String> = graph
                .dependents(component)
                .into_iter()
                .filter(|d| alerting.contains(d))
                .collect();
            let mut reasons = Vec::new();
            if !explained.is_empty() {
                reasons.push(format!(
                    "{} depend on it and alert too",
                    explained.join(", ")
                ));
            }
            reasons.push(if position == 0 {
                format!("it fired first, at {}", at.format("%H:%M:%S"))
            } else {
                format!(
                    "it fired {} after the first alert",
                    humanise(**at - *order[0].1)
                )
            });
            Cause {
                component: (*component).clone(),
                score: 3.0 * explained.len() as f64 + 2.0 / (1.0 + position as f64),
                reasons,
            }
        })
        .collect();
    causes.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.component.cmp(&b.component))
    });
    causes
}

fn humanise(d: Duration) -> String {
    if d.num_minutes() >= 1 {
        format!("{} min {} s", d.num_minutes(), d.num_seconds() % 60)
    } else {
        format!("{} s", d.num_seconds())
    }
}
