// Ferry patch: not part of cfn-guard 3.2.1. See FERRY-PATCH.md at the crate root.

//! Rules parsed once, evaluated many times.
//!
//! [`crate::run_checks`] parses the rules text and the data on every call and renders
//! a JSON report the caller has to parse back. A program that checks many documents
//! against one fixed rules file can instead parse the rules once with
//! [`PreparedRules::parse`] and call [`PreparedRules::evaluate`] for each document,
//! which returns the failed rules directly.
//!
//! Evaluation is the same engine `run_checks` uses (`eval_rules_file` on a root scope).
//! A document is first evaluated without recording the evaluation tree; only when some
//! rule fails is it evaluated again with the recorder on, to collect the messages of
//! the failing checks. The failures reported are exactly the `not_compliant` entries of
//! `run_checks`' JSON report, with the same `error_message` and `custom_message` texts
//! (whole, where `run_checks` returns only the tail of a report longer than 8 KiB).

use std::borrow::Cow;
use std::convert::TryFrom;
use std::rc::Rc;

use crate::rules::errors::Error;
use crate::rules::eval::eval_rules_file;
use crate::rules::eval_context::{root_scope, simplified_json_from_root, ClauseReport};
use crate::rules::exprs::RulesFile;
use crate::rules::parser::{rules_file, Span};
use crate::rules::path_value::{Path, PathAwareValue};
use crate::rules::Status;
use crate::view::Reads;
pub use crate::rules::eval_context::{class_case, class_case_by_cruet, know_class_cases};

/// A rules file, parsed once.
///
/// Borrows the rules text (`'r`): keep the text alive as long as the rules, for example
/// by parsing a `&'static str` from `include_str!`. `Send` and `Sync`, so it can live in
/// a `static` (`std::sync::OnceLock`) and be shared between threads.
#[derive(Debug)]
pub struct PreparedRules<'r> {
    /// `None` when the text holds no rules (only comments or whitespace): every document
    /// then passes, as `run_checks` reports nothing for it.
    rules: Option<RulesFile<'r>>,
    /// What the rules read, for [`PreparedRules::view`].
    reads: Reads,
}

/// A rule that failed on a document, with every failing check under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRule {
    /// The rule's name, as written after `rule` in the rules file.
    pub rule: String,
    /// The failing checks, in evaluation order (as in `run_checks`' report).
    pub checks: Vec<FailedCheck>,
}

/// One failing check: the two messages `run_checks`' JSON report gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedCheck {
    /// cfn-guard's account of what failed. Names the data path of the offending value
    /// (for example `/Resources/Bucket/Properties/...`) where there is one.
    pub error_message: String,
    /// The rule's own message for the check (`<<...>>`), when the check has one. May be
    /// empty, as in the JSON report.
    pub custom_message: Option<String>,
}

impl<'r> PreparedRules<'r> {
    /// Parses `rules_text`; `file_name` is the name parse errors and the rules' locations
    /// refer to.
    ///
    /// Also refuses rules that could not be evaluated on any document: a rule that
    /// depends on itself (by name or through parameterized rules), which the evaluator
    /// would follow until the stack overflows, and a reference to a rule not defined.
    pub fn parse(rules_text: &'r str, file_name: &'r str) -> Result<Self, Error> {
        let span = Span::new_extra(rules_text, file_name);
        let rules = rules_file(span).map_err(|e| Error::ParseError(e.to_string()))?;
        let reads = match &rules {
            Some(rules) => Reads::of(rules).map_err(Error::IllegalArguments)?,
            None => Reads::nothing(),
        };
        Ok(PreparedRules { rules, reads })
    }

    /// The names of the rules, in the order they are written, each once. Parameterized
    /// rules, which run only where another rule calls them, are not among them.
    pub fn rule_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for rule in self.rules.iter().flat_map(|r| &r.guard_rules) {
            if !names.contains(&rule.rule_name.as_str()) {
                names.push(&rule.rule_name);
            }
        }
        names
    }

    /// `data` cut down to what the rules can read, derived from the parsed rules (see
    /// `src/view.rs`): [`PreparedRules::evaluate`] gives the same failed rules on the view
    /// as on `data`, and is faster the smaller the view. The messages of failing checks
    /// are the same where they quote a value compared with `==`, `in` or the like (kept
    /// whole); a value tested only for existence, emptiness or type may be quoted cut down.
    /// The whole of `data` (borrowed) when the rules' reads could not be bounded.
    pub fn view<'d>(&self, data: &'d serde_json::Value) -> Cow<'d, serde_json::Value> {
        self.reads.view(data)
    }

    /// Every key the rules look up in a document, each once: the keys whose other
    /// spellings (`class_case` and the rest) the evaluator may try.
    pub fn keys_read(&self) -> std::collections::BTreeSet<&str> {
        self.reads.keys()
    }

    /// Whether [`PreparedRules::view`] is the whole document, for any document.
    pub fn views_everything(&self) -> bool {
        self.reads.everything()
    }

    /// Evaluates every rule on `data` (JSON or YAML text, as `run_checks` reads it) and
    /// returns the rules that failed. `data_file_name` names the document in errors.
    pub fn evaluate_str(&self, data: &str, data_file_name: &str) -> Result<Vec<FailedRule>, Error> {
        let value = match serde_json::from_str::<serde_json::Value>(data) {
            Ok(value) => PathAwareValue::try_from(value),
            Err(_) => {
                let value = serde_yaml::from_str::<serde_yaml::Value>(data)?;
                PathAwareValue::try_from(value)
            }
        }
        .map_err(|e| unreadable(data_file_name, e))?;
        self.evaluate_path_value(value)
    }

    /// Evaluates every rule on `data` and returns the rules that failed, in the order
    /// they are written; an empty list when every rule passed or did not apply.
    /// `data_file_name` names the document in errors.
    ///
    /// Gives the same result as `run_checks` on `data` serialised to JSON, without the
    /// round trip through text.
    pub fn evaluate(
        &self,
        data: &serde_json::Value,
        data_file_name: &str,
    ) -> Result<Vec<FailedRule>, Error> {
        let value = PathAwareValue::try_from((data, Path::root()))
            .map_err(|e| unreadable(data_file_name, e))?;
        self.evaluate_path_value(value)
    }

    fn evaluate_path_value(&self, value: PathAwareValue) -> Result<Vec<FailedRule>, Error> {
        let rules = match &self.rules {
            Some(rules) => rules,
            None => return Ok(Vec::new()),
        };
        let root = Rc::new(value);

        // Most documents pass: decide that without recording the evaluation tree.
        let mut scope = root_scope(rules, Rc::clone(&root));
        scope.stop_recording();
        if let Ok(Status::PASS | Status::SKIP) = eval_rules_file(rules, &mut scope, None) {
            return Ok(Vec::new());
        }
        drop(scope);

        // Something failed: evaluate again, recording, for the failing checks' messages.
        // An error is also taken from this run, where its text is what `run_checks` gives
        // (some error texts quote a record's context, which is not built while not recording).
        let mut scope = root_scope(rules, root);
        eval_rules_file(rules, &mut scope, None)?;
        let record = scope.reset_recorder().extract();
        let report = simplified_json_from_root(&record)?;
        Ok(report
            .not_compliant
            .iter()
            .map(|entry| FailedRule {
                rule: match entry {
                    ClauseReport::Rule(rule) => rule.name.to_string(),
                    _ => String::from("unknown"),
                },
                checks: entry
                    .get_message()
                    .into_iter()
                    .filter_map(|messages| {
                        let custom_message = messages.custom_message;
                        messages.error_message.map(|error_message| FailedCheck {
                            error_message,
                            custom_message,
                        })
                    })
                    .collect(),
            })
            .collect())
    }
}

fn unreadable(data_file_name: &str, e: Error) -> Error {
    Error::ParseError(format!(
        "Unable to process data in file {data_file_name}, Error {e},"
    ))
}
