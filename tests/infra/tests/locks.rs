//! Locks that never leak, as Ferry's template and state machine set them up: every
//! execution times out at the figure the promotion budget is computed against; an
//! execution that ends outside the machine's own steps reaches promotion-step, which may
//! cancel a stack's update; a rollback gives up only after its bound, through a step
//! that frees the lock and tells people.

use ferry_core::promotion::budget::{
    EXECUTION_TIMEOUT_SECONDS, MAX_APPROVAL_TIMEOUT_SECONDS, MAX_WATCH_WINDOW_SECONDS,
};
use infra::{ferry_template, inline_statements};
use serde_json::{json, Value};

fn state_machine() -> Value {
    let text = std::fs::read_to_string(infra::root().join("state-machines/promotion.asl.json"))
        .expect("the state machine");
    serde_json::from_str(&text).expect("JSON")
}

#[test]
fn every_execution_times_out_at_the_budgets_figure() {
    let machine = state_machine();
    assert_eq!(
        machine["TimeoutSeconds"].as_u64(),
        Some(EXECUTION_TIMEOUT_SECONDS)
    );
    // The longest approval Ferry's parameter and a spec allow is the budget's.
    let template = ferry_template();
    assert_eq!(
        template["Parameters"]["ApprovalTimeoutSeconds"]["MaxValue"].as_u64(),
        Some(MAX_APPROVAL_TIMEOUT_SECONDS)
    );
    let schema: Value = serde_json::from_str(ferry_core::infra::spec::SCHEMA).unwrap();
    assert_eq!(
        schema["$defs"]["promotion"]["properties"]["approval_timeout_seconds"]["maximum"].as_u64(),
        Some(MAX_APPROVAL_TIMEOUT_SECONDS)
    );
}

/// Waiting costs transitions, not Lambda time: promotion-step never waits on a stack, so
/// it and each of its tasks are held to a minute, and every stack operation is followed
/// by a Wait/Check/Choice loop.
#[test]
fn no_promotion_step_runs_longer_than_a_minute_and_stacks_are_waited_for_in_the_machine() {
    let template = ferry_template();
    assert_eq!(
        template["Resources"]["PromotionStepFunction"]["Properties"]["Timeout"].as_u64(),
        Some(60)
    );
    let machine = state_machine();
    let states = machine["States"].as_object().unwrap();
    for (name, state) in states {
        let payload = &state["Parameters"]["Payload"];
        let step = state["Parameters"]["FunctionName"] == "${PromotionStepFunctionArn}";
        if state["Type"] == "Task" && step && payload.get("task_token.$").is_none() {
            let timeout = state["TimeoutSeconds"].as_u64();
            assert!(timeout.is_some_and(|t| t <= 60), "{name}: {timeout:?}");
        }
    }
    for operation in ["Deploy", "Shift", "Finalise", "Rollback"] {
        let wait = format!("{operation}Wait");
        let check = format!("Check{operation}");
        let settled = format!("{operation}Settled");
        assert_eq!(states[operation]["Next"], json!(wait));
        assert_eq!(states[&wait]["Type"], "Wait");
        assert_eq!(states[&wait]["Next"], json!(check));
        assert_eq!(
            states[&check]["Parameters"]["Payload"]["action"],
            "check_stack"
        );
        assert_eq!(states[&check]["Next"], json!(settled));
        assert_eq!(states[&settled]["Choices"][0]["Next"], json!(wait));
    }
    // The watch window is bounded where the budget counts it.
    let schema: Value = serde_json::from_str(ferry_core::infra::spec::SCHEMA).unwrap();
    assert_eq!(
        schema["$defs"]["promotion"]["properties"]["watch_window_seconds"]["maximum"].as_u64(),
        Some(MAX_WATCH_WINDOW_SECONDS)
    );
}

#[test]
fn an_execution_that_ends_outside_its_steps_reaches_promotion_step() {
    let template = ferry_template();
    let rule = &template["Resources"]["ExecutionStatusChangeRule"]["Properties"];
    let pattern = &rule["EventPattern"];
    assert_eq!(pattern["source"], json!(["aws.states"]));
    assert_eq!(
        pattern["detail-type"],
        json!(["Step Functions Execution Status Change"])
    );
    assert_eq!(
        pattern["detail"]["status"],
        json!(["ABORTED", "TIMED_OUT", "FAILED"])
    );
    assert_eq!(
        pattern["detail"]["stateMachineArn"],
        json!([{"Ref": "PromotionStateMachine"}]),
        "Ferry's own state machine only"
    );
    assert_eq!(
        rule["Targets"][0]["Arn"],
        json!({"Fn::GetAtt": ["PromotionStepFunction", "Arn"]})
    );
    let permission = &template["Resources"]["ExecutionStatusChangeRulePermission"]["Properties"];
    assert_eq!(permission["Principal"], "events.amazonaws.com");
    assert_eq!(
        permission["SourceArn"],
        json!({"Fn::GetAtt": ["ExecutionStatusChangeRule", "Arn"]})
    );
    // What the handler does takes these, and no more than the steps already had.
    let statements = inline_statements(&template["Resources"]["PromotionStepRole"]);
    let stacks = statements
        .iter()
        .find(|s| s["Sid"] == "EnvironmentStacks")
        .unwrap();
    assert!(infra::actions(stacks).contains(&"cloudformation:CancelUpdateStack".to_owned()));
    // The unlock route asks whether the execution still runs: this machine's only.
    let api = inline_statements(&template["Resources"]["ApiRole"]);
    let describe = api
        .iter()
        .find(|s| infra::actions(s) == ["states:DescribeExecution"])
        .expect("the api may describe executions");
    assert_eq!(
        describe["Resource"]["Fn::Sub"],
        "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${PromotionStateMachine.Name}:*"
    );
}

#[test]
fn a_rollback_waits_for_a_busy_stack_then_gives_up_through_a_step_that_frees_the_lock() {
    let machine = state_machine();
    let rollback = &machine["States"]["Rollback"];
    let busy = rollback["Retry"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ErrorEquals"] == json!(["StackBusy"]))
        .expect("StackBusy is retried");
    // Bounded: 30 + 60 + 120 + 240 + 480 s, the budget's figure.
    let (interval, attempts, rate) = (
        busy["IntervalSeconds"].as_f64().unwrap(),
        busy["MaxAttempts"].as_u64().unwrap(),
        busy["BackoffRate"].as_f64().unwrap(),
    );
    let waited: f64 = (0..attempts).map(|i| interval * rate.powi(i as i32)).sum();
    assert_eq!(waited, 930.0);
    assert_eq!(rollback["Catch"][0]["Next"], "NotifyRollbackFailed");
    let give_up = &machine["States"]["NotifyRollbackFailed"];
    assert_eq!(
        give_up["Parameters"]["Payload"]["action"],
        "rollback_failed"
    );
    assert_eq!(give_up["Next"], "RollbackFailed");
    assert_eq!(machine["States"]["RollbackFailed"]["Type"], "Fail");
}
