//! Alert bookkeeping: which app and environment an alarm belongs to, and how an alarm's
//! current state moves with each state change.

use crate::model::{AlertEvent, AlertState};
use crate::names::{AppName, EnvName};

/// Ferry names the alarms it generates `ferry/<app>/<env>/<check>`, so a state change
/// can be tied to an environment without a lookup. Other alarms are kept, unattributed.
pub fn attribute_alarm(alarm_name: &str) -> (Option<AppName>, Option<EnvName>) {
    let mut parts = alarm_name.split('/');
    if parts.next() != Some("ferry") {
        return (None, None);
    }
    let app = parts.next().and_then(|a| AppName::parse("app", a).ok());
    let env = parts.next().and_then(|e| EnvName::parse("env", e).ok());
    match (app, env) {
        (Some(app), Some(env)) => (Some(app), Some(env)),
        _ => (None, None),
    }
}

/// The alarm's state after `event`. Counting entries into ALARM is what later flap
/// suppression needs; a repeated state does not restart `since`.
pub fn next_state(previous: Option<&AlertState>, event: &AlertEvent) -> AlertState {
    let entered_alarm = event.state == "ALARM" && previous.is_none_or(|p| p.state != "ALARM");
    let same_state = previous.is_some_and(|p| p.state == event.state);
    AlertState {
        alarm_name: event.alarm_name.clone(),
        app: event.app.clone(),
        env: event.env.clone(),
        state: event.state.clone(),
        since: match previous {
            Some(p) if same_state => p.since,
            _ => event.changed_at,
        },
        alarm_count: previous.map_or(0, |p| p.alarm_count) + u64::from(entered_alarm),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn event(state: &str, minute: u32) -> AlertEvent {
        AlertEvent {
            event_id: format!("e{minute}"),
            alarm_name: "ferry/shop/prod/alb-5xx".into(),
            app: None,
            env: None,
            state: state.into(),
            previous_state: None,
            reason: "test".into(),
            metric: None,
            changed_at: Utc.with_ymd_and_hms(2026, 11, 1, 10, minute, 0).unwrap(),
        }
    }

    #[test]
    fn ferry_alarm_names_carry_app_and_env() {
        let (app, env) = attribute_alarm("ferry/shop/prod/alb-5xx");
        assert_eq!(app.unwrap().as_str(), "shop");
        assert_eq!(env.unwrap().as_str(), "prod");
        assert_eq!(attribute_alarm("ServerCpuTooHigh"), (None, None));
        assert_eq!(attribute_alarm("ferry/Bad App/prod/x"), (None, None));
    }

    #[test]
    fn counts_entries_into_alarm_and_keeps_since_on_repeats() {
        let first = next_state(None, &event("ALARM", 1));
        assert_eq!(first.alarm_count, 1);
        let repeat = next_state(Some(&first), &event("ALARM", 2));
        assert_eq!((repeat.alarm_count, repeat.since), (1, first.since));
        let ok = next_state(Some(&repeat), &event("OK", 3));
        let again = next_state(Some(&ok), &event("ALARM", 4));
        assert_eq!(again.alarm_count, 2);
        assert_eq!(again.since, event("ALARM", 4).changed_at);
    }
}
