//! An in-memory CloudWatch: series and alarm states.

use async_trait::async_trait;
use ferry_core::ports::{MetricQuery, Metrics, MetricsError};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// A metric name, its sorted dimensions, a timestamp and a value.
type DataPoint = (
    String,
    Vec<(String, String)>,
    chrono::DateTime<chrono::Utc>,
    f64,
);

/// In-memory CloudWatch: raw data points per metric, the statistics computed per period
/// as CloudWatch does, and alarm states.
#[derive(Default)]
pub struct InMemoryMetrics {
    points: Mutex<Vec<DataPoint>>,
    alarms: Mutex<BTreeMap<String, String>>,
    /// State changes: alarm, when, old state, new state.
    history: Mutex<Vec<AlarmChange>>,
}

type AlarmChange = (String, chrono::DateTime<chrono::Utc>, String, String);

impl InMemoryMetrics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn put(
        &self,
        metric: &str,
        dimensions: &[(&str, &str)],
        at: chrono::DateTime<chrono::Utc>,
        value: f64,
    ) {
        let mut dims: Vec<(String, String)> = dimensions
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        dims.sort();
        self.points.lock().unwrap_or_else(|p| p.into_inner()).push((
            metric.to_owned(),
            dims,
            at,
            value,
        ));
    }

    /// Sets an alarm's state now, recording the change in its history as CloudWatch does.
    pub fn set_alarm(&self, name: &str, state: &str) {
        self.set_alarm_at(name, state, chrono::Utc::now());
    }

    /// Sets an alarm's state as of `at`, recording the change in its history.
    pub fn set_alarm_at(&self, name: &str, state: &str, at: chrono::DateTime<chrono::Utc>) {
        let old = self
            .alarms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_owned(), state.to_owned())
            .unwrap_or_else(|| "INSUFFICIENT_DATA".to_owned());
        if old != state {
            self.history
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((name.to_owned(), at, old, state.to_owned()));
        }
    }
}

/// A CloudWatch statistic over one period's values.
pub fn statistic(stat: &str, values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let sum: f64 = values.iter().sum();
    match stat {
        "Sum" => Some(sum),
        "Average" => Some(sum / values.len() as f64),
        "Minimum" => values.first().copied(),
        "Maximum" => values.last().copied(),
        "SampleCount" => Some(values.len() as f64),
        p => {
            let q: f64 = p.strip_prefix('p')?.parse().ok()?;
            let rank = ((q / 100.0) * values.len() as f64).ceil().max(1.0) as usize;
            values.get(rank - 1).copied()
        }
    }
}

#[async_trait]
impl Metrics for InMemoryMetrics {
    async fn series(
        &self,
        query: &MetricQuery,
        start: chrono::DateTime<chrono::Utc>,
        end: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(chrono::DateTime<chrono::Utc>, f64)>, MetricsError> {
        let mut dims = query.dimensions.clone();
        dims.sort();
        let period = chrono::Duration::seconds(i64::from(query.period_seconds.max(1)));
        let mut buckets: BTreeMap<chrono::DateTime<chrono::Utc>, Vec<f64>> = BTreeMap::new();
        for (metric, d, at, value) in self.points.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            if *metric == query.metric && *d == dims && *at >= start && *at < end {
                let index = (*at - start).num_milliseconds() / period.num_milliseconds();
                buckets
                    .entry(start + period * index as i32)
                    .or_default()
                    .push(*value);
            }
        }
        Ok(buckets
            .into_iter()
            .filter_map(|(at, mut values)| statistic(&query.stat, &mut values).map(|v| (at, v)))
            .collect())
    }

    async fn alarms_in_alarm_since(
        &self,
        prefix: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<String>, MetricsError> {
        let mut names: Vec<String> = self
            .alarms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(name, state)| name.starts_with(prefix) && *state == "ALARM")
            .map(|(name, _)| name.clone())
            .collect();
        for (name, at, old, new) in self
            .history
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            if name.starts_with(prefix) && *at >= since && (old == "ALARM" || new == "ALARM") {
                names.push(name.clone());
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }
}
