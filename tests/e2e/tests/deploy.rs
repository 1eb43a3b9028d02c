//! Deploying generated templates through change sets on moto's CloudFormation: a create,
//! an update with a change, an unchanged re-deploy, and a change CloudFormation refuses.

use e2e::{unique_app, Local};
use ferry_aws::CloudFormationStacks;
use ferry_core::infra::deploy::{deploy, DeployError, Outcome, Polling, Progress};
use ferry_core::infra::spec::AppSpec;
use ferry_core::names::Colour;
use serde_json::{json, Value};
use std::time::Duration;

const POLL: Polling = Polling {
    interval: Duration::from_millis(200),
    timeout: Duration::from_secs(120),
};

fn template(app: &str, web_count: u32) -> (String, Value) {
    let text = include_str!("../../../examples/small-web.yaml")
        .replace("app: hello", &format!("app: {app}"));
    let spec =
        AppSpec::parse(&text.replace("desired_count: 1", &format!("desired_count: {web_count}")))
            .unwrap();
    let env = spec.new_environment("dev").unwrap();
    let (template, _) = ferry_core::infra::template::render(&env, None, Colour::Blue).unwrap();
    (env.stack_name, template)
}

#[tokio::test]
async fn create_update_no_change_and_a_refused_change() {
    let local = Local::connect().await;
    let sdk = ferry_aws::sdk_config().await;
    let api = CloudFormationStacks::from_sdk(&sdk);
    let app = unique_app("deploy");
    let parameters = vec![(
        "CertificateArn".to_owned(),
        local.certificate().await.unwrap(),
    )];
    let mut log = Vec::new();

    // Create.
    let (stack, first) = template(&app, 1);
    let created = deploy(
        &api,
        &stack,
        &first.to_string(),
        &parameters,
        "ferry-1",
        POLL,
        &mut |p| log.push(p),
    )
    .await
    .unwrap();
    let Outcome::Deployed { status, changes } = created else {
        panic!("expected a deploy")
    };
    println!("create: {status}, {} changes", changes.len());
    assert_eq!(status, "CREATE_COMPLETE");
    assert!(changes.iter().all(|c| c.action == "Add"));
    assert_eq!(changes.len(), first["Resources"].as_object().unwrap().len());
    assert!(
        log.iter()
            .any(|p| matches!(p, Progress::Event(e) if e.status == "CREATE_COMPLETE")),
        "progress shows the stack's events"
    );

    // Update: one more web task is a change to the live service only, not a replacement.
    let (_, second) = template(&app, 2);
    let updated = deploy(
        &api,
        &stack,
        &second.to_string(),
        &parameters,
        "ferry-2",
        POLL,
        &mut |_| {},
    )
    .await
    .unwrap();
    let Outcome::Deployed { status, changes } = updated else {
        panic!("expected a deploy")
    };
    println!("update: {status}, changes {changes:?}");
    assert_eq!(status, "UPDATE_COMPLETE");
    let summary: Vec<(&str, &str)> = changes
        .iter()
        .map(|c| (c.action.as_str(), c.logical_id.as_str()))
        .collect();
    assert_eq!(summary, [("Modify", "WebBlueService")]);

    // The same template again: nothing to do.
    let again = deploy(
        &api,
        &stack,
        &second.to_string(),
        &parameters,
        "ferry-3",
        POLL,
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(again, Outcome::NoChanges);

    // A change CloudFormation cannot carry out: the deploy fails, names the reason, and
    // the stack stays at its last good status. (moto refuses it outright; AWS would roll
    // back, which tests/deploy.rs in ferry-core covers.)
    let mut broken = second.clone();
    broken["Resources"]["StraySubnet"] = json!({"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "192.168.0.0/24"}});
    let failed = deploy(
        &api,
        &stack,
        &broken.to_string(),
        &parameters,
        "ferry-4",
        POLL,
        &mut |_| {},
    )
    .await;
    println!("refused change: {failed:?}");
    match failed {
        Err(DeployError::ExecuteRefused { reason, status }) => {
            assert!(reason.contains("InvalidSubnet.Range"), "{reason}");
            assert_eq!(status, "UPDATE_COMPLETE");
        }
        other => panic!("expected a refused change, got {other:?}"),
    }
}
