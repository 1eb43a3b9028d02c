//! The shop app every test tier seeds, and releases by digest.

use ferry_core::model::{App, Environment};
use ferry_core::names::EnvName;
use ferry_core::ports::{Environments, StoreError};

/// A release of the shop image whose digest is `fill` repeated: `release('a')`.
pub fn release(fill: char) -> ferry_core::model::Release {
    ferry_core::model::Release {
        image: ferry_core::names::ImageRef::parse(
            "image",
            &format!("repo/shop@sha256:{}", fill.to_string().repeat(64)),
        )
        .expect("a valid digest"),
        config: serde_json::Map::new(),
        recorded_at: chrono::Utc::now(),
    }
}

/// The spec of the test and demo app: a web service and a postgres database.
pub const SHOP_SPEC: &str = r#"{
  "app": "shop",
  "services": [{"name": "web", "image": "public.ecr.aws/docker/library/nginx:stable", "port": 8080, "cpu": 512, "memory": 1024, "desired_count": 2, "health_check_path": "/health"}],
  "database": {"engine": "postgres", "version": "17.6", "instance_class": "db.t4g.micro", "storage_gb": 20}
}"#;

/// Test and demo data: app `shop` with `dev` (with a release) and `staging` (nothing
/// deployed), both from [`SHOP_SPEC`].
pub async fn seed_shop(store: &dyn Environments) -> Result<(), StoreError> {
    use ferry_core::model::Release;
    use ferry_core::names::{Colour, ImageRef};
    let spec = ferry_core::infra::spec::AppSpec::parse(SHOP_SPEC).expect("the shop spec is valid");
    let app = spec.app.clone();
    store
        .create_app(&App {
            name: app.clone(),
            created_at: chrono::Utc::now(),
        })
        .await?;
    for name in ["dev", "staging"] {
        let env = EnvName::parse("env", name).expect("valid");
        let release = (name == "dev").then(|| Release {
            image: ImageRef::parse("image", &format!("repo/shop@sha256:{}", "ab".repeat(32)))
                .expect("valid"),
            config: serde_json::Map::new(),
            recorded_at: chrono::Utc::now(),
        });
        store
            .put_environment(
                &Environment {
                    stack_name: Environment::default_stack_name(&app, &env),
                    app: app.clone(),
                    spec: spec.environment(name).expect("resolves"),
                    name: env,
                    deployed_release: release,
                    live_colour: Colour::Blue,
                    active_promotion: None,
                    version: 0,
                    updated_at: chrono::Utc::now(),
                    deployed_spec: None,
                },
                None,
            )
            .await?;
    }
    Ok(())
}

/// What the state machine's GenerateTemplate does between a promotion's creation and its
/// Deploy: renders the promotion's template from its pinned spec and stores it, for the
/// steps to deploy. Engine and handler tests that run the steps directly call this first.
pub async fn pin_promotion_template(
    store: &crate::InMemoryStore,
    promotion: &ferry_core::names::PromotionId,
) {
    use ferry_core::ports::Promotions;
    let stored = store
        .get_promotion(promotion)
        .await
        .expect("the in-memory store answers")
        .expect("the promotion exists");
    let task = ferry_core::infra::generate::TemplateTask {
        app: stored.app,
        env: stored.target_env,
        promotion_id: Some(promotion.clone()),
    };
    ferry_core::infra::generate::generate_template(store, &task, None, chrono::Utc::now())
        .await
        .expect("the promotion's template renders");
}
