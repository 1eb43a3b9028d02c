//! The store contract: the conditional-write semantics every store must have, as one
//! suite. `ferry-testkit`'s own tests run it on [`crate::InMemoryStore`], and the
//! end-to-end tests on the DynamoDB store of the local AWS, so the fake the engine tests
//! rely on cannot drift from the real thing.
//!
//! Each check works on its own app (`<prefix>-<check>`), so the suite can share a table
//! with other tests; a failed expectation is returned as an error naming the check.

use chrono::Utc;
use ferry_core::model::{
    App, Approval, Decision, Environment, EnvironmentSpec, Promotion, PromotionStatus,
};
use ferry_core::names::{AppName, Colour, EnvName, PromotionId, Strategy};
use ferry_core::ports::{Completion, Store, StoreError};

/// Runs every check of the contract on `store`. `prefix` keeps this run's apps apart from
/// other runs' on a shared table (a few lowercase letters and digits, starting with a
/// letter).
pub async fn run(store: &dyn Store, prefix: &str) -> Result<Vec<&'static str>, String> {
    let mut passed = Vec::new();
    versions(store, &names(prefix, "versions")).await?;
    passed.push("versions");
    stacks(store, &names(prefix, "stacks")).await?;
    passed.push("stacks");
    lock(store, &names(prefix, "lock")).await?;
    passed.push("lock");
    approval_while_waiting(store, &names(prefix, "approval")).await?;
    passed.push("decisions recorded while the wait is open");
    late_step(store, &names(prefix, "late")).await?;
    passed.push("an ended promotion keeps its status");
    unlock(store, &names(prefix, "unlock")).await?;
    passed.push("unlock by hand");
    ledger(store, prefix).await?;
    passed.push("ledger claim");
    engine_state(store, &names(prefix, "state")).await?;
    passed.push("engine state versions");
    pinned_template(store, &names(prefix, "pinned")).await?;
    passed.push("a promotion's template pinned once");
    Ok(passed)
}

struct Names {
    app: AppName,
    dev: EnvName,
    prod: EnvName,
}

fn names(prefix: &str, check: &str) -> Names {
    Names {
        app: AppName::parse("app", &format!("{prefix}-{check}")).expect("a valid prefix"),
        dev: EnvName::parse("env", "dev").expect("valid"),
        prod: EnvName::parse("env", "prod").expect("valid"),
    }
}

fn environment(app: &AppName, env: &EnvName, stack: &str) -> Environment {
    Environment {
        app: app.clone(),
        name: env.clone(),
        spec: EnvironmentSpec::default(),
        stack_name: stack.to_owned(),
        deployed_release: None,
        live_colour: Colour::Blue,
        active_promotion: None,
        version: 0,
        updated_at: Utc::now(),
        deployed_spec: None,
    }
}

fn promotion(app: &AppName, source: &EnvName, target: &EnvName, id: &str) -> Promotion {
    Promotion {
        id: PromotionId::parse("id", id).expect("valid"),
        app: app.clone(),
        source_env: source.clone(),
        target_env: target.clone(),
        strategy: Strategy::AllAtOnce,
        status: PromotionStatus::Pending,
        requested_by: "contract@ferry.local".into(),
        release: None,
        plan: vec![],
        execution_arn: None,
        created_at: Utc::now(),
        updated_at: Utc::now(),
        steps: vec![],
        approvals: vec![],
        approval_token: None,
        watch_token: None,
        requested_by_principal: String::new(),
        unlocked: None,
        pinned: None,
        allow_replace: vec![],
        kind: Default::default(),
        reason: None,
    }
}

fn expect<T: std::fmt::Debug>(
    check: &str,
    what: &str,
    got: Result<T, StoreError>,
    wanted: impl Fn(&Result<T, StoreError>) -> bool,
) -> Result<T, String> {
    if wanted(&got) {
        got.map_err(|e| format!("{check}: {what}: unexpected {e}"))
    } else {
        Err(format!("{check}: {what}: got {got:?}"))
    }
}

fn expect_err<T: std::fmt::Debug>(
    check: &str,
    what: &str,
    got: Result<T, StoreError>,
    wanted: impl Fn(&StoreError) -> bool,
) -> Result<(), String> {
    match got {
        Err(e) if wanted(&e) => Ok(()),
        other => Err(format!("{check}: {what}: got {other:?}")),
    }
}

async fn setup(store: &dyn Store, n: &Names) -> Result<(), String> {
    let app = App {
        name: n.app.clone(),
        created_at: Utc::now(),
    };
    store
        .create_app(&app)
        .await
        .map_err(|e| format!("setup: create_app {}: {e}", n.app))?;
    expect_err(
        "setup",
        "an app created twice",
        store.create_app(&app).await,
        |e| matches!(e, StoreError::AlreadyExists(_)),
    )
}

/// Optimistic concurrency on environments: created once, replaced only at the version
/// read, and each write bumps the version.
async fn versions(store: &dyn Store, n: &Names) -> Result<(), String> {
    const CHECK: &str = "versions";
    setup(store, n).await?;
    let stack = format!("ferry-{}-dev", n.app);
    let created = expect(
        CHECK,
        "create",
        store
            .put_environment(&environment(&n.app, &n.dev, &stack), None)
            .await,
        Result::is_ok,
    )?;
    if created.version != 1 {
        return Err(format!(
            "{CHECK}: a new environment is version 1, got {}",
            created.version
        ));
    }
    expect_err(
        CHECK,
        "create over an existing one",
        store.put_environment(&created, None).await,
        |e| matches!(e, StoreError::AlreadyExists(_)),
    )?;
    let replaced = expect(
        CHECK,
        "replace at the version read",
        store.put_environment(&created, Some(1)).await,
        Result::is_ok,
    )?;
    if replaced.version != 2 {
        return Err(format!(
            "{CHECK}: a replace bumps the version to 2, got {}",
            replaced.version
        ));
    }
    expect_err(
        CHECK,
        "replace at a stale version",
        store.put_environment(&created, Some(1)).await,
        |e| matches!(e, StoreError::VersionConflict { expected: 1, .. }),
    )?;
    expect_err(
        CHECK,
        "replace what does not exist",
        store
            .put_environment(
                &environment(&n.app, &n.prod, &format!("ferry-{}-prod", n.app)),
                Some(1),
            )
            .await,
        |e| matches!(e, StoreError::VersionConflict { .. }),
    )?;
    let read = store
        .get_environment(&n.app, &n.dev)
        .await
        .map_err(|e| e.to_string())?;
    if read.map(|e| e.version) != Some(2) {
        return Err(format!("{CHECK}: the stored version is 2"));
    }
    Ok(())
}

/// Two environments never share a stack; one that moves to another stack frees its old
/// one.
async fn stacks(store: &dyn Store, n: &Names) -> Result<(), String> {
    const CHECK: &str = "stacks";
    setup(store, n).await?;
    let shared = format!("ferry-{}-shared", n.app);
    let dev = expect(
        CHECK,
        "claim",
        store
            .put_environment(&environment(&n.app, &n.dev, &shared), None)
            .await,
        Result::is_ok,
    )?;
    expect_err(
        CHECK,
        "a second environment on the same stack",
        store
            .put_environment(&environment(&n.app, &n.prod, &shared), None)
            .await,
        |e| matches!(e, StoreError::StackTaken { owner, .. } if owner == &format!("{}/{}", n.app, n.dev)),
    )?;
    if store
        .get_environment(&n.app, &n.prod)
        .await
        .map_err(|e| e.to_string())?
        .is_some()
    {
        return Err(format!("{CHECK}: the refused environment was written"));
    }
    let moved = Environment {
        stack_name: format!("ferry-{}-dev", n.app),
        ..dev.clone()
    };
    expect(
        CHECK,
        "move to another stack",
        store.put_environment(&moved, Some(dev.version)).await,
        Result::is_ok,
    )?;
    expect(
        CHECK,
        "the old stack, freed, is claimed",
        store
            .put_environment(&environment(&n.app, &n.prod, &shared), None)
            .await,
        Result::is_ok,
    )?;
    Ok(())
}

/// The lock: a promotion takes its target's, a second promotion there is refused, only
/// the holder completes it, and completing frees it.
async fn lock(store: &dyn Store, n: &Names) -> Result<(), String> {
    const CHECK: &str = "lock";
    setup(store, n).await?;
    for env in [&n.dev, &n.prod] {
        expect(
            CHECK,
            "environments",
            store
                .put_environment(
                    &environment(&n.app, env, &format!("ferry-{}-{env}", n.app)),
                    None,
                )
                .await,
            Result::is_ok,
        )?;
    }
    let first = promotion(&n.app, &n.dev, &n.prod, &format!("{}-1", n.app));
    expect(
        CHECK,
        "the first promotion takes the lock",
        store.create_promotion(&first).await,
        Result::is_ok,
    )?;
    expect_err(
        CHECK,
        "the same promotion again",
        store.create_promotion(&first).await,
        |e| matches!(e, StoreError::AlreadyExists(_)),
    )?;
    let second = promotion(&n.app, &n.dev, &n.prod, &format!("{}-2", n.app));
    expect_err(
        CHECK,
        "a second promotion while the lock is held",
        store.create_promotion(&second).await,
        |e| matches!(e, StoreError::Locked { holder, .. } if holder == first.id.as_str()),
    )?;
    if store
        .get_promotion(&second.id)
        .await
        .map_err(|e| e.to_string())?
        .is_some()
    {
        return Err(format!("{CHECK}: the refused promotion was written"));
    }
    let held = store
        .get_environment(&n.app, &n.prod)
        .await
        .map_err(|e| e.to_string())?;
    if held.as_ref().and_then(|e| e.active_promotion.as_ref()) != Some(&first.id) {
        return Err(format!("{CHECK}: the environment names its lock holder"));
    }
    let done = Completion {
        status: PromotionStatus::Succeeded,
        environment: None,
    };
    expect_err(
        CHECK,
        "completed by a promotion that does not hold the lock",
        store.complete_promotion(&second, done.clone()).await,
        |e| matches!(e, StoreError::LockNotHeld { .. } | StoreError::NotFound(_)),
    )?;
    expect(
        CHECK,
        "completed by its holder",
        store.complete_promotion(&first, done.clone()).await,
        Result::is_ok,
    )?;
    expect_err(
        CHECK,
        "completed twice",
        store.complete_promotion(&first, done).await,
        |e| matches!(e, StoreError::LockNotHeld { .. }),
    )?;
    let freed = store
        .get_environment(&n.app, &n.prod)
        .await
        .map_err(|e| e.to_string())?;
    if freed.and_then(|e| e.active_promotion).is_some() {
        return Err(format!("{CHECK}: completing frees the lock"));
    }
    expect(
        CHECK,
        "the next promotion takes the freed lock",
        store.create_promotion(&second).await,
        Result::is_ok,
    )?;
    Ok(())
}

/// Decisions are recorded while the promotion waits on their token, and the token stays
/// until the pipeline has the decision: a decision on another (or a closed) wait is
/// refused and records nothing; clearing is idempotent and leaves a later wait's token.
async fn approval_while_waiting(store: &dyn Store, n: &Names) -> Result<(), String> {
    const CHECK: &str = "approval";
    setup(store, n).await?;
    for env in [&n.dev, &n.prod] {
        expect(
            CHECK,
            "environments",
            store
                .put_environment(
                    &environment(&n.app, env, &format!("ferry-{}-{env}", n.app)),
                    None,
                )
                .await,
            Result::is_ok,
        )?;
    }
    let waiting = promotion(&n.app, &n.dev, &n.prod, &format!("{}-1", n.app));
    expect(
        CHECK,
        "promotion",
        store.create_promotion(&waiting).await,
        Result::is_ok,
    )?;
    expect(
        CHECK,
        "pending token",
        store.set_approval_token(&waiting.id, "token-1").await,
        Result::is_ok,
    )?;
    let decision = |by: &str, decision| Approval {
        promotion_id: waiting.id.clone(),
        decision,
        decided_by: by.into(),
        principal: by.into(),
        wait: "w1".into(),
        comment: "contract".into(),
        decided_at: Utc::now(),
    };
    expect_err(
        CHECK,
        "a decision with another token",
        store
            .record_decision(&decision("ana", Decision::Approved), "token-0")
            .await,
        |e| matches!(e, StoreError::VersionConflict { .. }),
    )?;
    for by in ["bo", "cy"] {
        expect(
            CHECK,
            "a decision on the open wait",
            store
                .record_decision(&decision(by, Decision::Approved), "token-1")
                .await,
            Result::is_ok,
        )?;
    }
    let token = |p: Option<ferry_core::model::Promotion>| p.and_then(|p| p.approval_token);
    let stored = store
        .get_promotion(&waiting.id)
        .await
        .map_err(|e| e.to_string())?;
    if token(stored.clone()).as_deref() != Some("token-1") {
        return Err(format!(
            "{CHECK}: the token stays until the pipeline is told"
        ));
    }
    expect(
        CHECK,
        "clearing another wait's token",
        store.clear_approval_token(&waiting.id, "token-0").await,
        Result::is_ok,
    )?;
    expect(
        CHECK,
        "clearing the token",
        store.clear_approval_token(&waiting.id, "token-1").await,
        Result::is_ok,
    )?;
    expect(
        CHECK,
        "clearing it again",
        store.clear_approval_token(&waiting.id, "token-1").await,
        Result::is_ok,
    )?;
    expect_err(
        CHECK,
        "a decision once the wait is closed",
        store
            .record_decision(&decision("vi", Decision::Rejected), "token-1")
            .await,
        |e| matches!(e, StoreError::VersionConflict { .. }),
    )?;
    let stored = store
        .get_promotion(&waiting.id)
        .await
        .map_err(|e| e.to_string())?;
    let mut approvals: Vec<String> = stored
        .clone()
        .map(|p| p.approvals.iter().map(|a| a.decided_by.clone()).collect())
        .unwrap_or_default();
    approvals.sort();
    if approvals != ["bo", "cy"] || token(stored).is_some() {
        return Err(format!(
            "{CHECK}: two decisions recorded and the token gone, got {approvals:?}"
        ));
    }
    Ok(())
}

/// A step recorded after the promotion ended (an execution stopped mid-step) is kept,
/// and the promotion keeps how it ended.
async fn late_step(store: &dyn Store, n: &Names) -> Result<(), String> {
    const CHECK: &str = "late step";
    setup(store, n).await?;
    expect(
        CHECK,
        "environment",
        store
            .put_environment(
                &environment(&n.app, &n.prod, &format!("ferry-{}-prod", n.app)),
                None,
            )
            .await,
        Result::is_ok,
    )?;
    let ended = promotion(&n.app, &n.dev, &n.prod, &format!("{}-1", n.app));
    expect(
        CHECK,
        "promotion",
        store.create_promotion(&ended).await,
        Result::is_ok,
    )?;
    let done = Completion {
        status: PromotionStatus::RolledBack,
        environment: None,
    };
    expect(
        CHECK,
        "ended",
        store.complete_promotion(&ended, done).await,
        Result::is_ok,
    )?;
    let step = ferry_core::model::StepRecord {
        name: "Shift 2".into(),
        outcome: ferry_core::model::StepOutcome::Succeeded,
        started_at: Utc::now(),
        finished_at: Utc::now(),
        detail: serde_json::json!({}),
    };
    expect(
        CHECK,
        "a late step",
        store
            .record_step(&ended.id, &step, PromotionStatus::Running)
            .await,
        Result::is_ok,
    )?;
    let stored = store
        .get_promotion(&ended.id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or(format!("{CHECK}: the promotion is gone"))?;
    if stored.status != PromotionStatus::RolledBack || stored.steps.len() != 1 {
        return Err(format!(
            "{CHECK}: RolledBack with the late step kept, got {:?} with {} steps",
            stored.status,
            stored.steps.len()
        ));
    }
    Ok(())
}

/// The template a promotion deploys is written once: the same text again (a retried
/// GenerateTemplate) is accepted, a different one refused, and what is read back is
/// the text that was written, byte for byte, large templates included.
async fn pinned_template(store: &dyn Store, n: &Names) -> Result<(), String> {
    use ferry_core::model::{PinnedTemplate, TemplateRole};
    const CHECK: &str = "pinned template";
    let id = PromotionId::parse("id", &format!("{}-1", n.app)).expect("valid");
    let none = expect(
        CHECK,
        "nothing pinned yet",
        store.pinned_template(&id, TemplateRole::Deploy).await,
        Result::is_ok,
    )?;
    if none.is_some() {
        return Err(format!("{CHECK}: a template before any was pinned"));
    }
    // Over DynamoDB's 400 KB item limit as text, as the largest allowed templates are.
    let filler: String = (0..40_000).map(|i| format!("\"R{i}\":{{}},")).collect();
    let body = format!("{{{}\"Last\":{{}}}}", filler);
    let first = PinnedTemplate::new(body.clone(), 7);
    expect(
        CHECK,
        "pin",
        store.pin_template(&id, TemplateRole::Deploy, &first).await,
        Result::is_ok,
    )?;
    expect(
        CHECK,
        "pin the same again",
        store.pin_template(&id, TemplateRole::Deploy, &first).await,
        Result::is_ok,
    )?;
    let other = PinnedTemplate::new(format!("{body} "), 8);
    match store.pin_template(&id, TemplateRole::Deploy, &other).await {
        Err(StoreError::AlreadyExists(_)) => {}
        got => return Err(format!("{CHECK}: pin a different one: got {got:?}")),
    }
    let read = expect(
        CHECK,
        "read",
        store.pinned_template(&id, TemplateRole::Deploy).await,
        Result::is_ok,
    )?;
    if read.as_ref() != Some(&first) {
        return Err(format!(
            "{CHECK}: read back {} bytes, sha {:?}; wrote {} bytes, sha {}",
            read.as_ref().map_or(0, |r| r.body.len()),
            read.as_ref().map(|r| &r.sha256),
            first.body.len(),
            first.sha256
        ));
    }
    Ok(())
}

/// An environment's lock released by hand: only from its holder, recorded on the
/// promotion with its new status in the same write; without a promotion record, the
/// lock alone.
async fn unlock(store: &dyn Store, n: &Names) -> Result<(), String> {
    const CHECK: &str = "unlock";
    setup(store, n).await?;
    expect(
        CHECK,
        "environment",
        store
            .put_environment(
                &environment(&n.app, &n.prod, &format!("ferry-{}-prod", n.app)),
                None,
            )
            .await,
        Result::is_ok,
    )?;
    let stuck = promotion(&n.app, &n.dev, &n.prod, &format!("{}-1", n.app));
    expect(
        CHECK,
        "promotion",
        store.create_promotion(&stuck).await,
        Result::is_ok,
    )?;
    let record = ferry_core::model::Unlock {
        by: "admin@ferry.local".into(),
        reason: "the execution is gone".into(),
        at: Utc::now(),
    };
    let other = PromotionId::parse("id", &format!("{}-2", n.app)).expect("valid");
    expect_err(
        CHECK,
        "unlocked for a promotion that does not hold it",
        store
            .unlock(
                &n.app,
                &n.prod,
                &other,
                Some((&record, PromotionStatus::Failed)),
            )
            .await,
        |e| matches!(e, StoreError::LockNotHeld { .. }),
    )?;
    expect(
        CHECK,
        "unlocked by hand",
        store
            .unlock(
                &n.app,
                &n.prod,
                &stuck.id,
                Some((&record, PromotionStatus::Failed)),
            )
            .await,
        Result::is_ok,
    )?;
    let env = store
        .get_environment(&n.app, &n.prod)
        .await
        .map_err(|e| e.to_string())?
        .ok_or(format!("{CHECK}: the environment is gone"))?;
    let ended = store
        .get_promotion(&stuck.id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or(format!("{CHECK}: the promotion is gone"))?;
    if env.active_promotion.is_some()
        || ended.status != PromotionStatus::Failed
        || ended.unlocked.as_ref().map(|u| u.reason.as_str()) != Some("the execution is gone")
    {
        return Err(format!(
            "{CHECK}: lock free and the unlock recorded, got {:?} / {:?} {:?}",
            env.active_promotion, ended.status, ended.unlocked
        ));
    }
    expect_err(
        CHECK,
        "unlocked twice",
        store
            .unlock(
                &n.app,
                &n.prod,
                &stuck.id,
                Some((&record, PromotionStatus::Failed)),
            )
            .await,
        |e| matches!(e, StoreError::LockNotHeld { .. }),
    )?;
    // A lock whose holder has no record: the lock alone is released.
    let orphan = promotion(&n.app, &n.dev, &n.prod, &format!("{}-3", n.app));
    expect(
        CHECK,
        "promotion",
        store.create_promotion(&orphan).await,
        Result::is_ok,
    )?;
    expect(
        CHECK,
        "the lock alone",
        store.unlock(&n.app, &n.prod, &orphan.id, None).await,
        Result::is_ok,
    )?;
    let env = store
        .get_environment(&n.app, &n.prod)
        .await
        .map_err(|e| e.to_string())?;
    if env.and_then(|e| e.active_promotion).is_some() {
        return Err(format!("{CHECK}: the lock alone released"));
    }
    Ok(())
}

/// The notification ledger: the first attempt claims the record (pending), a retry
/// finds the same one, and once finished it reads as sent, never to go out again.
async fn ledger(store: &dyn Store, prefix: &str) -> Result<(), String> {
    const CHECK: &str = "ledger";
    let key = format!("{prefix}-incident-1");
    let at = Utc::now();
    let first = expect(
        CHECK,
        "claim",
        store.begin_delivery(&key, "slack", at).await,
        Result::is_ok,
    )?;
    if first.sent || first.attempts != 0 {
        return Err(format!("{CHECK}: a new record is pending, got {first:?}"));
    }
    let again = expect(
        CHECK,
        "claim again (a retry)",
        store.begin_delivery(&key, "slack", at).await,
        Result::is_ok,
    )?;
    if again.sent {
        return Err(format!("{CHECK}: an unfinished delivery is still pending"));
    }
    expect(
        CHECK,
        "finish",
        store.finish_delivery(&key, "slack", 2, at).await,
        Result::is_ok,
    )?;
    let sent = expect(
        CHECK,
        "claim after it was sent",
        store.begin_delivery(&key, "slack", at).await,
        Result::is_ok,
    )?;
    if !sent.sent || sent.attempts != 2 {
        return Err(format!(
            "{CHECK}: a finished delivery reads as sent, got {sent:?}"
        ));
    }
    let other = expect(
        CHECK,
        "another channel",
        store.begin_delivery(&key, "email", at).await,
        Result::is_ok,
    )?;
    if other.sent {
        return Err(format!("{CHECK}: each channel has its own record"));
    }
    Ok(())
}

/// Engine state is versioned like everything else: written over the version read.
async fn engine_state(store: &dyn Store, n: &Names) -> Result<(), String> {
    const CHECK: &str = "engine state";
    let empty = store
        .silences(&n.app, &n.dev)
        .await
        .map_err(|e| e.to_string())?;
    if empty.version != 0 || !empty.value.is_empty() {
        return Err(format!(
            "{CHECK}: no silences yet is version 0, got {empty:?}"
        ));
    }
    let first = expect(
        CHECK,
        "first write",
        store.save_silences(&n.app, &n.dev, &[], 0).await,
        Result::is_ok,
    )?;
    expect_err(
        CHECK,
        "a write from the stale version",
        store.save_silences(&n.app, &n.dev, &[], 0).await,
        |e| matches!(e, StoreError::VersionConflict { .. }),
    )?;
    expect(
        CHECK,
        "a write from the version read",
        store.save_silences(&n.app, &n.dev, &[], first).await,
        Result::is_ok,
    )?;
    Ok(())
}
