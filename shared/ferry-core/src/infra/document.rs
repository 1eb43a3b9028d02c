//! What a user hands the offline commands: a CloudFormation template or a Ferry app spec.
//! Decided once, here, so every command tells them apart the same way.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    /// Has `Resources`: priced or compared as it is.
    Template(Value),
    /// Has `app`: rendered per environment first.
    Spec(Value),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a CloudFormation template (no Resources) nor a Ferry spec (no app)")]
pub struct UnknownDocument;

impl Document {
    /// A template wins when a document has both keys: a spec has no `Resources`, so such
    /// a document can only be a template that happens to carry an `app` key.
    pub fn classify(document: Value) -> Result<Self, UnknownDocument> {
        if document.get("Resources").is_some() {
            Ok(Self::Template(document))
        } else if document.get("app").is_some() {
            Ok(Self::Spec(document))
        } else {
            Err(UnknownDocument)
        }
    }

    pub fn is_template(&self) -> bool {
        matches!(self, Self::Template(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_template_is_told_from_a_spec_by_its_resources() {
        assert!(Document::classify(json!({"Resources": {}}))
            .unwrap()
            .is_template());
        assert!(!Document::classify(json!({"app": "shop"}))
            .unwrap()
            .is_template());
        assert!(Document::classify(json!({"app": "shop", "Resources": {}}))
            .unwrap()
            .is_template());
        assert_eq!(
            Document::classify(json!({"name": "x"})),
            Err(UnknownDocument)
        );
    }
}
