//! The state machine's stack loop, for engine and handler tests: a start step (Deploy,
//! Shift, Finalise, Rollback), then `check_stack` until the operation settles, as
//! `state-machines/promotion.asl.json` runs Wait -> Check -> Choice.

use ferry_core::promotion::{Action, StackOp, StepError, StepInput, Steps};
use serde_json::Value;

/// How many looks a test allows before it calls the operation stuck.
const LOOKS: usize = 20;

/// [`settle`] as a method: `steps.settle(&input)` where a test would `steps.run(&input)`.
#[allow(async_fn_in_trait)]
pub trait Settle {
    async fn settle(&self, input: &StepInput) -> Result<Value, StepError>;
}

impl Settle for Steps<'_> {
    async fn settle(&self, input: &StepInput) -> Result<Value, StepError> {
        settle(self, input).await
    }
}

/// Runs `input`, then, if it started a stack operation, looks at it until it settles,
/// passing the cause on as the state machine does. Returns the last look's detail (the
/// start's when nothing needed following), or the first error.
pub async fn settle(steps: &Steps<'_>, input: &StepInput) -> Result<Value, StepError> {
    let started = steps.run(input).await?;
    let Ok(mut op) = serde_json::from_value::<StackOp>(started["stack"].clone()) else {
        return Ok(started);
    };
    for _ in 0..LOOKS {
        let last = steps
            .run(&StepInput {
                action: Action::CheckStack,
                stack: Some(op.clone()),
                ..input.clone()
            })
            .await?;
        op = serde_json::from_value(last["stack"].clone())
            .map_err(|e| StepError::InternalError(format!("check_stack's stack: {e}")))?;
        if op.settled {
            // A rollback its start already ended: the look only confirmed it.
            if last.get("already_ended").is_some() {
                return Ok(started);
            }
            return Ok(last);
        }
    }
    Err(StepError::InternalError(format!(
        "{} still changing after {LOOKS} looks",
        op.name()
    )))
}
