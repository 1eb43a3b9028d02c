//! How long a promotion's execution may run. The state machine's `TimeoutSeconds`
//! (`state-machines/promotion.asl.json`) is [`EXECUTION_TIMEOUT_SECONDS`]: Step Functions
//! ends an execution that runs longer (TIMED_OUT), and the status-change handler then
//! puts traffic back and frees the lock, so no lock outlives it. A promotion whose worst
//! case is longer is refused when it starts, so none that behaves is cut short.

use crate::promotion::rollout::TrafficStep;

/// 30 days. It covers the longest approval Ferry allows (7 days, the cap of
/// `FERRY_APPROVAL_TIMEOUT_SECONDS` and of `promotion.approval_timeout_seconds`) plus the
/// longest bake a step may have (1 day), the longest watch window (1 day), and every task
/// and stack operation at its worst several times over;
/// and every built-in strategy at Ferry's default approval timeout (1 day), judgement
/// waits included. `tests/infra` holds the state machine to this figure.
pub const EXECUTION_TIMEOUT_SECONDS: u64 = 30 * 86_400;

/// The longest approval timeout Ferry accepts (7 days).
pub const MAX_APPROVAL_TIMEOUT_SECONDS: u64 = 7 * 86_400;

/// How long one stack operation (Deploy, a Shift, Finalise, Rollback) may take before the
/// look at it that finds it still changing fails it: 30 minutes, ECS services reaching a
/// steady state included. The steps never wait for it themselves; the state machine's
/// Wait loop does.
pub const STACK_DEADLINE_SECONDS: u64 = 30 * 60;

/// The longest post-Finalise watch window a spec may set (`promotion.watch_window_seconds`):
/// 1 day. The worst case counts it whatever the spec says.
pub const MAX_WATCH_WINDOW_SECONDS: u64 = 86_400;

/// Every promotion-step task's `TimeoutSeconds` (and the function's own timeout).
const TASK_TIMEOUT: u64 = 60;

/// The longest wait between two looks at a stack ([`crate::promotion::StackWait`]).
const LONGEST_STACK_WAIT: u64 = 60;

/// A Lambda task at its worst: its `TimeoutSeconds` on each of 4 attempts (3 retries),
/// with 1 + 2 + 4 s of backoff between them.
const fn task(timeout: u64) -> u64 {
    4 * timeout + 7
}

/// A stack operation at its worst: the step that starts it, then Wait and look until the
/// deadline, with one more wait and look to find it past.
const fn stack_operation() -> u64 {
    task(TASK_TIMEOUT) + STACK_DEADLINE_SECONDS + LONGEST_STACK_WAIT + task(TASK_TIMEOUT)
}

/// The longest a promotion with this plan and approval timeout can run, every task
/// timing out and retrying, every stack operation running to its deadline, every wait
/// for a decision running to its timeout: a wait for approval, then one for each split
/// step a marginal canary could stop at, and the longest watch window.
pub fn worst_case_seconds(plan: &[TrafficStep], approval_timeout_seconds: u64) -> u64 {
    let wait = approval_timeout_seconds + task(TASK_TIMEOUT);
    // Validate, GenerateTemplate, AssessRisk; the approval; Deploy.
    let mut total = 3 * task(TASK_TIMEOUT) + wait + stack_operation();
    for step in plan {
        // Shift, the bake, Analyse, and a judgement where a canary can be marginal.
        total += stack_operation() + step.bake_seconds + task(TASK_TIMEOUT);
        if (1..100).contains(&step.weight) {
            total += wait;
        }
    }
    // The watch window, then Finalise scaling the old colour down.
    total += MAX_WATCH_WINDOW_SECONDS + stack_operation();
    // Rollback: 7 attempts with 1 + 2 + ... + 32 s of backoff, then a busy stack's
    // 30 + 60 + 120 + 240 + 480 s; its restore; and NotifyRollbackFailed.
    total + 7 * TASK_TIMEOUT + 63 + 930 + stack_operation() + task(TASK_TIMEOUT)
}

/// Why a promotion cannot start: its worst case outlasts the execution's timeout.
pub fn check(plan: &[TrafficStep], approval_timeout_seconds: u64) -> Result<(), String> {
    let worst = worst_case_seconds(plan, approval_timeout_seconds);
    if worst <= EXECUTION_TIMEOUT_SECONDS {
        return Ok(());
    }
    let waits = 1 + plan.iter().filter(|s| (1..100).contains(&s.weight)).count();
    Err(format!(
        "could run {:.1} days at worst ({waits} waits for a decision of up to {:.1} days each, \
         and {} steps), longer than a promotion's execution may run ({} days): shorten the \
         target's promotion.approval_timeout_seconds, or use fewer steps",
        worst as f64 / 86_400.0,
        approval_timeout_seconds as f64 / 86_400.0,
        plan.len(),
        EXECUTION_TIMEOUT_SECONDS / 86_400
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::Strategy;
    use crate::promotion::rollout::{plan, PromotionSettings};

    #[test]
    fn the_longest_approval_and_bake_fit() {
        let longest_bake = [
            TrafficStep {
                weight: 0,
                bake_seconds: 0,
            },
            TrafficStep {
                weight: 100,
                bake_seconds: 86_400,
            },
        ];
        assert!(check(&longest_bake, MAX_APPROVAL_TIMEOUT_SECONDS).is_ok());
        assert!(
            worst_case_seconds(&longest_bake, MAX_APPROVAL_TIMEOUT_SECONDS)
                > MAX_APPROVAL_TIMEOUT_SECONDS + 86_400 + MAX_WATCH_WINDOW_SECONDS
        );
    }

    #[test]
    fn every_built_in_strategy_fits_at_the_default_approval_timeout() {
        for strategy in [
            Strategy::AllAtOnce,
            Strategy::BlueGreen,
            Strategy::Canary10Percent5Minutes,
            Strategy::Canary10Percent15Minutes,
            Strategy::Linear10PercentEvery1Minute,
            Strategy::Linear10PercentEvery3Minutes,
        ] {
            let steps = plan(strategy, &PromotionSettings::default()).unwrap();
            assert!(check(&steps, 86_400).is_ok(), "{strategy:?}");
        }
    }

    #[test]
    fn a_plan_that_could_outlast_the_execution_is_refused_saying_why() {
        let linear = plan(
            Strategy::Linear10PercentEvery3Minutes,
            &PromotionSettings::default(),
        )
        .unwrap();
        let why = check(&linear, MAX_APPROVAL_TIMEOUT_SECONDS).unwrap_err();
        assert!(why.contains("10 waits for a decision"), "{why}");
        assert!(why.contains("approval_timeout_seconds"), "{why}");
    }
}
