//! A promotion deploys one template. GenerateTemplate renders it once, from the target's
//! spec as it was when the promotion was created (the promotion's [`PinnedTarget`]), with
//! the candidate on the idle colour taking no traffic: Deploy's template. Deploy sends
//! that text as it is. Shift, Finalise and Rollback send a template derived from it by
//! traffic alone: the listeners' weights, which colour runs tasks, and which colour the
//! alarms watch. Images, config, sizes and everything else stay as pinned, so a spec
//! saved mid-promotion waits for the next promotion, and the images that reach the
//! stack are the ones the promotion was created with.
//!
//! [`PinnedTarget`]: crate::model::PinnedTarget

use crate::infra::template::colour_title;
use crate::names::Colour;
use crate::promotion::rollout::Rollout;
use serde_json::Value;

/// The part of a [`Rollout`] a derived template may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Traffic {
    /// The colour the template's metadata names live.
    pub live: Colour,
    pub blue: ColourTraffic,
    pub green: ColourTraffic,
    /// The colour the alarms and the dashboard watch.
    pub watched: Colour,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColourTraffic {
    /// Percent of the listeners' requests.
    pub weight: u8,
    /// Whether the colour's services run tasks (else they are scaled to zero).
    pub running: bool,
}

impl Traffic {
    pub fn of(rollout: &Rollout) -> Self {
        let colour = |c| ColourTraffic {
            weight: rollout.weight(c),
            running: rollout.running(c),
        };
        Self {
            live: rollout.live,
            blue: colour(Colour::Blue),
            green: colour(Colour::Green),
            watched: rollout.watched(),
        }
    }

    fn colour(&self, colour: Colour) -> ColourTraffic {
        match colour {
            Colour::Blue => self.blue,
            Colour::Green => self.green,
        }
    }
}

/// Why a stored template cannot take a traffic change.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DeriveError {
    #[error("the pinned template is not a CloudFormation template: {0}")]
    NotATemplate(String),
}

/// `pinned` (Deploy's template: both colours running at their sizes, the alarms on
/// `pinned_watched`) with `traffic` applied. A colour that does not run is scaled to
/// zero; one that runs keeps its pinned size.
pub fn derive(
    pinned: &Value,
    pinned_watched: Colour,
    traffic: &Traffic,
) -> Result<Value, DeriveError> {
    let mut template = pinned.clone();
    let resources = template
        .get_mut("Resources")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| DeriveError::NotATemplate("no Resources".into()))?;
    for (id, resource) in resources.iter_mut() {
        let kind = resource["Type"].as_str().unwrap_or_default().to_owned();
        let properties = &mut resource["Properties"];
        match kind.as_str() {
            "AWS::ElasticLoadBalancingV2::Listener" => {
                set_weights(&mut properties["DefaultActions"], traffic)
            }
            "AWS::ElasticLoadBalancingV2::ListenerRule" => {
                set_weights(&mut properties["Actions"], traffic)
            }
            "AWS::ECS::Service" => {
                let colour = colour_of(
                    properties["TaskDefinition"]["Ref"].as_str(),
                    "TaskDefinition",
                )
                .ok_or_else(|| {
                    DeriveError::NotATemplate(format!("{id} names no colour's task definition"))
                })?;
                if !traffic.colour(colour).running {
                    properties["DesiredCount"] = 0.into();
                }
            }
            "AWS::ApplicationAutoScaling::ScalableTarget" => {
                let colour = colour_of(Some(id), "ScalableTarget")
                    .ok_or_else(|| DeriveError::NotATemplate(format!("{id} names no colour")))?;
                if !traffic.colour(colour).running {
                    properties["MinCapacity"] = 0.into();
                    properties["MaxCapacity"] = 0.into();
                }
            }
            "AWS::CloudWatch::Alarm" | "AWS::CloudWatch::Dashboard"
                if traffic.watched != pinned_watched =>
            {
                swap_colour(properties, pinned_watched);
            }
            _ => {}
        }
    }
    if let Some(metadata) = template.pointer_mut("/Metadata/Ferry/LiveColour") {
        *metadata = traffic.live.to_string().into();
    }
    Ok(template)
}

/// The forward actions' target-group weights, each by its target group's colour.
fn set_weights(actions: &mut Value, traffic: &Traffic) {
    for action in actions.as_array_mut().into_iter().flatten() {
        let groups = action
            .pointer_mut("/ForwardConfig/TargetGroups")
            .and_then(Value::as_array_mut);
        for group in groups.into_iter().flatten() {
            if let Some(colour) = colour_of(group["TargetGroupArn"]["Ref"].as_str(), "TargetGroup")
            {
                group["Weight"] = traffic.colour(colour).weight.into();
            }
        }
    }
}

/// The colour of a generated logical id `<Service><Colour><kind>`.
fn colour_of(logical_id: Option<&str>, kind: &str) -> Option<Colour> {
    let stem = logical_id?.strip_suffix(kind)?;
    [Colour::Blue, Colour::Green]
        .into_iter()
        .find(|c| stem.ends_with(colour_title(*c)))
}

/// Points an alarm or the dashboard from `from`'s services and target groups to the
/// other colour's. A reference is `<Service><Colour>Service` or `...TargetGroup`, whole:
/// followed by something that cannot continue a logical id (a quote, `.`, `}`).
fn swap_colour(value: &mut Value, from: Colour) {
    match value {
        Value::String(text) => {
            let mut swapped = text.clone();
            for kind in ["Service", "TargetGroup"] {
                let old = format!("{}{kind}", colour_title(from));
                let new = format!("{}{kind}", colour_title(from.other()));
                swapped = replace_whole(&swapped, &old, &new);
            }
            *text = swapped;
        }
        Value::Array(items) => items.iter_mut().for_each(|v| swap_colour(v, from)),
        Value::Object(map) => map.values_mut().for_each(|v| swap_colour(v, from)),
        _ => {}
    }
}

fn replace_whole(text: &str, old: &str, new: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(old) {
        let end = at + old.len();
        let whole = !rest[end..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        out.push_str(&rest[..at]);
        out.push_str(if whole { new } else { old });
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_references_change_colour() {
        assert_eq!(
            replace_whole(
                "${ApiBlueTargetGroup.TargetGroupFullName}",
                "BlueTargetGroup",
                "GreenTargetGroup"
            ),
            "${ApiGreenTargetGroup.TargetGroupFullName}"
        );
        // A service named `blue-service-x` is `BlueServiceX...`: not a colour's service.
        assert_eq!(
            replace_whole("BlueServiceXGreenService", "BlueService", "GreenService"),
            "BlueServiceXGreenService"
        );
    }

    #[test]
    fn the_colour_is_the_last_word_before_the_kind() {
        assert_eq!(
            colour_of(Some("BlueGreenTargetGroup"), "TargetGroup"),
            Some(Colour::Green)
        );
        assert_eq!(
            colour_of(Some("ApiBlueScalableTarget"), "ScalableTarget"),
            Some(Colour::Blue)
        );
        assert_eq!(colour_of(Some("ApiTargetGroup"), "TargetGroup"), None);
    }
}
