//! A promotion deploys the template GenerateTemplate pinned, or one derived from it by
//! traffic alone. For every example under every environment and both live colours:
//! - each traffic step derived from Deploy's template is exactly the template generated
//!   for that step, so deriving loses nothing;
//! - Finalise's and Rollback's derived templates differ from the pinned one only in
//!   weights, task counts, scaling bounds, the alarms' colour and the live-colour label:
//!   no image, config, size or other setting moves.

use ferry_core::infra::spec::AppSpec;
use ferry_core::infra::template::generate_rollout;
use ferry_core::model::Release;
use ferry_core::names::{Colour, ImageRef};
use ferry_core::promotion::pinned::{derive, Traffic};
use ferry_core::promotion::rollout::{Candidate, Rollout};
use serde_json::{json, Value};

const EXAMPLES: [&str; 4] = [
    include_str!("../../../examples/small-web.yaml"),
    include_str!("../../../examples/web-postgres-valkey.yaml"),
    include_str!("../../../examples/two-services.yaml"),
    include_str!("../../../examples/shop.json"),
];

fn release(fill: char, config: Value) -> Release {
    Release {
        image: ImageRef::parse(
            "image",
            &format!("repo/app@sha256:{}", fill.to_string().repeat(64)),
        )
        .unwrap(),
        config: config.as_object().unwrap().clone(),
        recorded_at: chrono::DateTime::UNIX_EPOCH,
    }
}

/// Every (path, pinned value, derived value) where the two templates differ.
fn differences(path: &str, pinned: &Value, derived: &Value, out: &mut Vec<String>) {
    match (pinned, derived) {
        (Value::Object(a), Value::Object(b)) => {
            for key in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
                let child = format!("{path}/{key}");
                differences(
                    &child,
                    &a[key.as_str()],
                    b.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                differences(&format!("{path}/{i}"), x, y, out);
            }
        }
        (a, b) if a != b => out.push(path.to_owned()),
        _ => {}
    }
}

/// The only places a traffic change may touch.
fn is_traffic(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    [
        "Weight",
        "DesiredCount",
        "MinCapacity",
        "MaxCapacity",
        "LiveColour",
    ]
    .contains(&last)
        || (path.contains("Alarm/Properties/") || path.contains("Dashboard/Properties/"))
}

#[test]
fn every_step_derived_from_the_pinned_template_is_the_step_itself() {
    let old = release('a', json!({"FEATURE_X": "off"}));
    let new = release('b', json!({"FEATURE_X": "on", "RETRIES": 3}));
    let mut checked = 0;
    for text in EXAMPLES {
        let spec = AppSpec::parse(text).unwrap();
        for name in spec.environment_names() {
            let env = spec.new_environment(&name).unwrap();
            for live in [Colour::Blue, Colour::Green] {
                let at = |weight| Rollout {
                    live,
                    live_release: Some(&old),
                    candidate: Some(Candidate {
                        release: &new,
                        weight,
                    }),
                };
                let pinned = generate_rollout(&env, &at(0));
                for weight in [0, 1, 10, 50, 99, 100] {
                    let derived = derive(&pinned, live, &Traffic::of(&at(weight))).unwrap();
                    assert_eq!(
                        derived,
                        generate_rollout(&env, &at(weight)),
                        "{}/{name}, live {live}, weight {weight}",
                        env.app
                    );
                    checked += 1;
                }
                // Finalise (all on the new colour, the old one scaled down) and Rollback
                // (all on the old one, the new one scaled down).
                for ending in [
                    Rollout::steady(live.other(), Some(&new)),
                    Rollout::steady(live, Some(&old)),
                ] {
                    let derived = derive(&pinned, live, &Traffic::of(&ending)).unwrap();
                    let mut changed = vec![];
                    differences("", &pinned, &derived, &mut changed);
                    assert!(!changed.is_empty());
                    let beyond: Vec<&String> = changed.iter().filter(|p| !is_traffic(p)).collect();
                    assert!(beyond.is_empty(), "{}/{name}: {beyond:?}", env.app);
                    // The traffic itself is the ending's.
                    let generated = generate_rollout(&env, &ending);
                    let weights = |t: &Value| -> Vec<Value> {
                        t["Resources"]
                            .as_object()
                            .unwrap()
                            .values()
                            .filter_map(|r| {
                                r.pointer("/Properties/DefaultActions/0/ForwardConfig/TargetGroups")
                            })
                            .flat_map(|g| g.as_array().unwrap().iter().map(|g| g["Weight"].clone()))
                            .collect()
                    };
                    assert_eq!(weights(&derived), weights(&generated));
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "{checked} cases");
}

/// The release's config reaches the containers, on the colour that runs the release.
#[test]
fn the_release_config_reaches_its_colours_containers() {
    let spec = AppSpec::parse(EXAMPLES[0]).unwrap();
    let name = spec.environment_names().into_iter().next().unwrap();
    let env = spec.new_environment(&name).unwrap();
    let old = release('a', json!({"FEATURE_X": "off"}));
    let new = release(
        'b',
        json!({"FEATURE_X": "on", "RETRIES": 3, "DEBUG": false}),
    );
    let template = generate_rollout(
        &env,
        &Rollout {
            live: Colour::Blue,
            live_release: Some(&old),
            candidate: Some(Candidate {
                release: &new,
                weight: 0,
            }),
        },
    );
    let variables = |colour: &str| -> Vec<(String, String)> {
        let (_, task) = template["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(id, _)| id.ends_with(&format!("{colour}TaskDefinition")))
            .unwrap();
        task["Properties"]["ContainerDefinitions"][0]["Environment"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["Name"].as_str().unwrap().to_owned(),
                    v["Value"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let blue = variables("Blue");
    let green = variables("Green");
    assert!(
        blue.contains(&("FEATURE_X".into(), "off".into())),
        "{blue:?}"
    );
    assert!(
        green.contains(&("FEATURE_X".into(), "on".into())),
        "{green:?}"
    );
    assert!(green.contains(&("RETRIES".into(), "3".into())));
    assert!(green.contains(&("DEBUG".into(), "false".into())));
    assert!(!blue.iter().any(|(k, _)| k == "RETRIES"));
}
