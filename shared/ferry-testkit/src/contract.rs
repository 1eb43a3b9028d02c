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
    approval_once(store, &names(prefix, "approval")).await?;
    passed.push("approval taken once");
    ledger(store, prefix).await?;
    passed.push("ledger claim");
    engine_state(store, &names(prefix, "state")).await?;
    passed.push("engine state versions");
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

/// An approval is decided once: the pending token is taken with the decision, so a
/// second decision (or a stale token) is refused and records nothing.
async fn approval_once(store: &dyn Store, n: &Names) -> Result<(), String> {
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
        comment: "contract".into(),
        decided_at: Utc::now(),
    };
    expect_err(
        CHECK,
        "a decision with another token",
        store
            .decide_approval(&decision("ana", Decision::Approved), "token-0")
            .await,
        |e| matches!(e, StoreError::VersionConflict { .. }),
    )?;
    expect(
        CHECK,
        "the first decision",
        store
            .decide_approval(&decision("bo", Decision::Approved), "token-1")
            .await,
        Result::is_ok,
    )?;
    expect_err(
        CHECK,
        "a second decision",
        store
            .decide_approval(&decision("vi", Decision::Rejected), "token-1")
            .await,
        |e| matches!(e, StoreError::VersionConflict { .. }),
    )?;
    let stored = store
        .get_promotion(&waiting.id)
        .await
        .map_err(|e| e.to_string())?;
    let approvals: Vec<String> = stored
        .map(|p| p.approvals.iter().map(|a| a.decided_by.clone()).collect())
        .unwrap_or_default();
    if approvals != ["bo"] {
        return Err(format!("{CHECK}: one decision recorded, got {approvals:?}"));
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
