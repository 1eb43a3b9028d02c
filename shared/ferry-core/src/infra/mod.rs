//! Infrastructure: from an app's spec (with its profiles) to the CloudFormation template
//! of each environment, checked by the policy rules, deployed through change sets, and
//! compared with what is deployed (drift).

mod class_cases;
pub mod compare;
pub mod deploy;
pub mod document;
pub mod drift;
pub mod environments;
pub mod generate;
pub mod live_drift;
pub mod policy;
pub mod profile;
pub mod spec;
pub mod stateful;
pub mod template;
