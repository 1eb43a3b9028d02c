// Ferry patch: not part of cfn-guard 3.2.1. See FERRY-PATCH.md at the crate root.

//! The part of a document a rules file can read, derived from the parsed rules.
//!
//! Evaluation costs grow with the document: every `Resources.*` walks every resource,
//! and every value a query reaches is shared into the evaluation. A program that checks
//! large documents against rules that read a small part of them can evaluate the rules on
//! [`crate::PreparedRules::view`] instead, and get the same result.
//!
//! The view is derived from the queries in the rules' syntax tree, by walking each one
//! over an abstract document (a tree of the keys, map values and list elements the
//! queries step through), as the evaluator walks the data:
//!
//! - every query of every rule, `let`, `when` condition, filter, block, type block,
//!   function argument and comparison operand is followed, from the context it is
//!   evaluated in (the root, a block's values, a filter's candidates, the call site of a
//!   parameterized rule), with variables resolved through the scopes the evaluator uses;
//! - where a query ends, its values are kept whole when they are compared with `==`,
//!   `in`, `<` and the like, or as far as their emptiness and type show when they are
//!   tested with `exists`, `empty` or `is_*` (which is all those operators look at);
//! - a key is kept under every spelling the evaluator would try for it (the exact key,
//!   then its camelCase, snake_case and other conversions);
//! - list elements are never dropped (indices and counts stay as they were); map
//!   values that a filter such as `[ Type == 'AWS::S3::Bucket' ]` or
//!   `[ Type in [...] ]` would reject for certain, because the value at the filtered
//!   path is a string the filter does not accept, are dropped, unless another query
//!   reaches them without that filter.
//!
//! Anything the walk cannot bound (a parameterized rule called more deeply than
//! [`MAX_CALL_DEPTH`], a query reaching more than [`MAX_POSITIONS`] places) makes the view
//! the whole document: slower, never wrong.
//!
//! Walking the rules also finds the two mistakes that would stop evaluation on every
//! document: a rule that depends on itself (the evaluator recurses until the stack
//! overflows) and a reference to a rule that is not defined.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::{Map, Value};

use crate::rules::eval_context::converted_keys;
use crate::rules::eval_context::FunctionName;
use crate::rules::exprs::{
    AccessClause, Block, Conjunctions, FunctionExpr, GuardAccessClause, GuardClause, LetExpr,
    LetValue, ParameterizedNamedRuleClause, ParameterizedRule, QueryPart, Rule, RuleClause,
    RulesFile, WhenConditions, WhenGuardClause,
};
use crate::rules::path_value::PathAwareValue;
use crate::rules::values::CmpOperator;

/// Parameterized rules calling parameterized rules deeper than this read the whole document.
pub const MAX_CALL_DEPTH: usize = 16;
/// A query that reaches more places than this in the abstract document reads all of it.
pub const MAX_POSITIONS: usize = 4096;

const ROOT: usize = 0;
/// Stands for "as far as emptiness and type show" on every element of a list.
const SHAPE: usize = 1;

/// A filter's test on a map value, when it is a necessary one: the value at `path` (exact
/// keys) equal to one of `allowed`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Guard {
    path: Vec<String>,
    allowed: BTreeSet<String>,
}

impl Guard {
    /// False only when the filter rejects `value` for certain: the value at `path` is a
    /// string not in `allowed`. A missing key or another type is admitted, since the
    /// evaluator may find the key under another spelling.
    fn admits(&self, value: &Value) -> bool {
        let mut at = value;
        for key in &self.path {
            match at.get(key) {
                Some(next) => at = next,
                None => return true,
            }
        }
        match at {
            Value::String(s) => self.allowed.contains(s),
            _ => true,
        }
    }
}

/// A place in the abstract document, and what is kept there.
#[derive(Debug, Default)]
struct Node {
    /// The value is kept as it is.
    whole: bool,
    /// The value's emptiness and type are kept: a scalar as it is, a container with at
    /// least one entry if it had one, a list's elements likewise.
    shape: bool,
    keys: BTreeMap<String, usize>,
    /// Every value of a map, or those a guard admits.
    values: Vec<(Option<Guard>, usize)>,
    /// Every element of a list.
    elements: Option<usize>,
    /// Built by `finish` from `keys`: each spelling a key may be found under.
    lookup: HashMap<String, Vec<usize>>,
}

/// What a rules file reads, ready to cut documents down to it.
#[derive(Debug)]
pub(crate) struct Reads {
    nodes: Vec<Node>,
    /// The walk could not bound what the rules read: the view is the whole document.
    everything: bool,
}

impl Reads {
    /// What `rules` can read; an error for rules that cannot be evaluated on any document.
    pub(crate) fn of(rules: &RulesFile<'_>) -> Result<Reads, String> {
        let mut walk = Walk {
            nodes: vec![Node::default(), Node::default()],
            parameterized: rules
                .parameterized_rules
                .iter()
                .map(|p| (p.rule.rule_name.as_str(), p))
                .collect(),
            calls: Vec::new(),
            current_rule: String::new(),
            references: BTreeMap::new(),
            unbounded: false,
            error: None,
        };
        walk.nodes[SHAPE].shape = true;
        let file = Scope::new(vec![ROOT], &rules.assignments, None);
        for rule in &rules.guard_rules {
            walk.current_rule = rule.rule_name.clone();
            walk.references.entry(rule.rule_name.clone()).or_default();
            walk.rule(&file, rule);
        }
        if let Some(error) = walk.error.take() {
            return Err(error);
        }
        walk.check_references()?;
        let mut reads = Reads {
            nodes: walk.nodes,
            everything: walk.unbounded,
        };
        reads.finish();
        Ok(reads)
    }

    /// Nothing to read: the rules text holds no rules.
    pub(crate) fn nothing() -> Reads {
        Reads {
            nodes: vec![Node::default(), Node::default()],
            everything: false,
        }
    }

    /// Every key looked up anywhere in the document.
    pub(crate) fn keys(&self) -> BTreeSet<&str> {
        self.nodes
            .iter()
            .flat_map(|node| node.keys.keys().map(String::as_str))
            .collect()
    }

    pub(crate) fn everything(&self) -> bool {
        self.everything
    }

    fn finish(&mut self) {
        for node in &mut self.nodes {
            let mut lookup: HashMap<String, Vec<usize>> = HashMap::new();
            for (key, child) in &node.keys {
                let converted = converted_keys(key);
                let spellings = std::iter::once(key.clone()).chain(converted.iter().cloned());
                for spelling in spellings {
                    let children = lookup.entry(spelling).or_default();
                    if !children.contains(child) {
                        children.push(*child);
                    }
                }
            }
            node.lookup = lookup;
        }
    }

    /// `data` cut down to what the rules read.
    pub(crate) fn view<'d>(&self, data: &'d Value) -> Cow<'d, Value> {
        if self.everything {
            Cow::Borrowed(data)
        } else {
            Cow::Owned(self.apply(&[ROOT], data))
        }
    }

    /// `value` as the places `at` (all reached by the rules at this point) keep it.
    fn apply(&self, at: &[usize], value: &Value) -> Value {
        if at.iter().any(|n| self.nodes[*n].whole) {
            return value.clone();
        }
        let shape = at.iter().any(|n| self.nodes[*n].shape);
        match value {
            Value::Object(map) => {
                let mut out = Map::new();
                let mut children = Vec::new();
                for (key, each) in map {
                    children.clear();
                    for node in at.iter().map(|n| &self.nodes[*n]) {
                        if let Some(found) = node.lookup.get(key) {
                            children.extend_from_slice(found);
                        }
                        for (guard, child) in &node.values {
                            if guard.as_ref().map_or(true, |g| g.admits(each)) {
                                children.push(*child);
                            }
                        }
                    }
                    if !children.is_empty() {
                        children.sort_unstable();
                        children.dedup();
                        out.insert(key.clone(), self.apply(&children, each));
                    }
                }
                if shape && out.is_empty() {
                    // One entry keeps the map non-empty. Its value keeps its type but
                    // nothing in it, so a filter that rejected it rejects it still (a
                    // null would come back from a filter unresolved, and fail a clause).
                    if let Some((key, first)) = map.iter().next() {
                        out.insert(key.clone(), self.apply(&[], first));
                    }
                }
                Value::Object(out)
            }
            Value::Array(items) => {
                let mut children: Vec<usize> =
                    at.iter().filter_map(|n| self.nodes[*n].elements).collect();
                if shape {
                    children.push(SHAPE);
                }
                if children.is_empty() {
                    return Value::Array(Vec::new());
                }
                children.sort_unstable();
                children.dedup();
                Value::Array(
                    items
                        .iter()
                        .map(|item| self.apply(&children, item))
                        .collect(),
                )
            }
            scalar => scalar.clone(),
        }
    }
}

#[derive(Clone, Copy)]
enum Need {
    Whole,
    Shape,
}

/// A scope of variables, as the evaluator's: the places its queries start from, its
/// `let`s (resolved there, on first use), and the parameters of a parameterized rule.
struct Scope<'s, 'r, 'loc> {
    context: Vec<usize>,
    lets: HashMap<&'r str, &'r LetValue<'loc>>,
    parameters: HashMap<&'r str, Vec<usize>>,
    resolved: RefCell<HashMap<&'r str, Vec<usize>>>,
    resolving: RefCell<HashSet<&'r str>>,
    parent: Option<&'s Scope<'s, 'r, 'loc>>,
}

impl<'s, 'r, 'loc> Scope<'s, 'r, 'loc> {
    fn new(
        context: Vec<usize>,
        lets: &'r [LetExpr<'loc>],
        parent: Option<&'s Scope<'s, 'r, 'loc>>,
    ) -> Self {
        Scope {
            context,
            lets: lets.iter().map(|l| (l.var.as_str(), &l.value)).collect(),
            parameters: HashMap::new(),
            resolved: RefCell::new(HashMap::new()),
            resolving: RefCell::new(HashSet::new()),
            parent,
        }
    }
}

struct Walk<'r, 'loc> {
    nodes: Vec<Node>,
    parameterized: HashMap<&'r str, &'r ParameterizedRule<'loc>>,
    /// The parameterized rules being walked, innermost last.
    calls: Vec<&'r str>,
    /// The top-level rule being walked, and the rules each one refers to by name.
    current_rule: String,
    references: BTreeMap<String, BTreeSet<String>>,
    unbounded: bool,
    error: Option<String>,
}

impl<'r, 'loc> Walk<'r, 'loc> {
    fn child(
        &mut self,
        make: impl FnOnce(&mut Self) -> Option<usize>,
        set: impl FnOnce(&mut Self, usize),
    ) -> usize {
        if let Some(existing) = make(self) {
            return existing;
        }
        let id = self.nodes.len();
        self.nodes.push(Node::default());
        set(self, id);
        id
    }

    fn key(&mut self, at: usize, key: &str) -> usize {
        self.child(
            |w| w.nodes[at].keys.get(key).copied(),
            |w, id| {
                w.nodes[at].keys.insert(key.to_owned(), id);
            },
        )
    }

    fn values(&mut self, at: usize, guard: Option<Guard>) -> usize {
        let found = self.nodes[at]
            .values
            .iter()
            .find(|(g, _)| *g == guard)
            .map(|(_, id)| *id);
        match found {
            Some(id) => id,
            None => {
                let id = self.nodes.len();
                self.nodes.push(Node::default());
                self.nodes[at].values.push((guard, id));
                id
            }
        }
    }

    fn elements(&mut self, at: usize) -> usize {
        self.child(
            |w| w.nodes[at].elements,
            |w, id| w.nodes[at].elements = Some(id),
        )
    }

    fn keep(&mut self, at: &[usize], need: Need) {
        for &n in at {
            match need {
                Need::Whole => self.nodes[n].whole = true,
                Need::Shape => self.nodes[n].shape = true,
            }
        }
    }

    fn bounded(&mut self, mut at: Vec<usize>) -> Vec<usize> {
        at.sort_unstable();
        at.dedup();
        if at.len() > MAX_POSITIONS {
            self.unbounded = true;
            at.truncate(MAX_POSITIONS);
        }
        at
    }

    fn variable(&mut self, scope: &Scope<'_, 'r, 'loc>, name: &str) -> Vec<usize> {
        let mut current = Some(scope);
        while let Some(s) = current {
            if let Some(at) = s.parameters.get(name) {
                return at.clone();
            }
            if let Some((&var, &value)) = s.lets.get_key_value(name) {
                if let Some(at) = s.resolved.borrow().get(var) {
                    return at.clone();
                }
                if !s.resolving.borrow_mut().insert(var) {
                    // A variable defined through itself: the evaluator cannot resolve it
                    // either; nothing more to read.
                    return Vec::new();
                }
                let at = self.let_value(s, value);
                s.resolving.borrow_mut().remove(var);
                s.resolved.borrow_mut().insert(var, at.clone());
                return at;
            }
            current = s.parent;
        }
        // Not a `let` or a parameter: the keys a named filter or `*` captured, strings the
        // walk kept with the map they came from.
        Vec::new()
    }

    /// The places a `let` value (or an argument) stands for; function results are new
    /// values, so they stand for none, and their arguments are read whole.
    fn let_value(&mut self, scope: &Scope<'_, 'r, 'loc>, value: &'r LetValue<'loc>) -> Vec<usize> {
        match value {
            LetValue::Value(_) => Vec::new(),
            LetValue::AccessClause(query) => self.query(scope, &query.query),
            LetValue::FunctionCall(function) => {
                self.function(scope, function);
                Vec::new()
            }
        }
    }

    fn function(&mut self, scope: &Scope<'_, 'r, 'loc>, function: &'r FunctionExpr<'loc>) {
        // `count` counts the values its query resolves to, and looks at nothing else.
        let need = match function.name {
            FunctionName::Count => Need::Shape,
            _ => Need::Whole,
        };
        for parameter in &function.parameters {
            let at = self.let_value(scope, parameter);
            self.keep(&at, need);
        }
    }

    /// The other side of a comparison: read whole.
    fn operand(&mut self, scope: &Scope<'_, 'r, 'loc>, value: &'r LetValue<'loc>) {
        let at = self.let_value(scope, value);
        self.keep(&at, Need::Whole);
    }

    fn query(&mut self, scope: &Scope<'_, 'r, 'loc>, query: &'r [QueryPart<'loc>]) -> Vec<usize> {
        let (mut at, mut index) = match query.first() {
            Some(first) if first.is_variable() => {
                let at = self.variable(scope, first.variable().unwrap_or_default());
                // `%x[*]` is `%x`: the evaluator skips the `[*]`.
                match query.get(1) {
                    Some(QueryPart::AllIndices(_)) => (at, 2),
                    _ => (at, 1),
                }
            }
            _ => (scope.context.clone(), 0),
        };
        // Walked to the end even from no place (a value a function made, a literal): a
        // filter or projection further on may still read variables bound to the template.
        while index < query.len() {
            let next_filter = match query.get(index + 1) {
                Some(QueryPart::Filter(_, conjunctions)) => Some(conjunctions),
                _ => None,
            };
            let mut next = Vec::with_capacity(at.len());
            match &query[index] {
                QueryPart::This => next = at.clone(),
                QueryPart::Key(key) if key.starts_with('%') => {
                    // A projection: the map's values under the keys the variable holds,
                    // which are read whole. An index after it picks one of those keys.
                    let keys = self.variable(scope, &key[1..]);
                    self.keep(&keys, Need::Whole);
                    for &p in &at {
                        next.push(self.values(p, None));
                    }
                    if let Some(QueryPart::Index(_)) = query.get(index + 1) {
                        index += 1;
                    }
                }
                QueryPart::Key(key) if key.parse::<i64>().is_ok() => {
                    for &p in &at {
                        next.push(self.elements(p));
                    }
                }
                QueryPart::Key(key) => {
                    for &p in &at {
                        next.push(self.key(p, key));
                    }
                }
                QueryPart::Index(_) => {
                    for &p in &at {
                        next.push(self.elements(p));
                    }
                }
                QueryPart::AllValues(name) => {
                    // A filter right after `*` is applied to each value: where it surely
                    // rejects one, that value need not be kept. Not when `*` captures the
                    // keys, which are then every key of the map.
                    let guard = match (name, next_filter) {
                        (None, Some(conjunctions)) => guard(conjunctions),
                        _ => None,
                    };
                    for &p in &at {
                        next.push(self.values(p, guard.clone()));
                        next.push(self.elements(p));
                    }
                }
                QueryPart::AllIndices(name) => {
                    // On a map, unnamed `[*]` passes the map itself on; named, its values.
                    for &p in &at {
                        next.push(p);
                        next.push(self.elements(p));
                        if name.is_some() {
                            next.push(self.values(p, None));
                        }
                    }
                }
                QueryPart::MapKeyFilter(_, filter) => {
                    // The keys are compared with a value queried from the map itself.
                    let on_map = Scope {
                        context: at.clone(),
                        ..Scope::new(Vec::new(), &[], Some(scope))
                    };
                    self.operand(&on_map, &filter.compare_with);
                    for &p in &at {
                        next.push(self.values(p, None));
                        next.push(self.elements(p));
                    }
                }
                QueryPart::Filter(_, conjunctions) => {
                    // Which values the filter tests: after `*` or `[*]`, each value itself
                    // (or a list's elements); after a key, the values of the map there.
                    let previous = index.checked_sub(1).map(|i| &query[i]);
                    for &p in &at {
                        match previous {
                            Some(QueryPart::AllValues(_)) | Some(QueryPart::AllIndices(_)) => {
                                next.push(p);
                                next.push(self.elements(p));
                            }
                            Some(QueryPart::Key(_)) => {
                                let guard = guard(conjunctions);
                                next.push(self.values(p, guard));
                                next.push(self.elements(p));
                            }
                            _ => {
                                next.push(p);
                                next.push(self.elements(p));
                                next.push(self.values(p, None));
                            }
                        }
                    }
                    next = self.bounded(next);
                    let candidates = Scope::new(next.clone(), &[], Some(scope));
                    self.conjunctions(&candidates, conjunctions);
                }
            }
            at = self.bounded(next);
            index += 1;
        }
        at
    }

    fn conjunctions(
        &mut self,
        scope: &Scope<'_, 'r, 'loc>,
        conjunctions: &'r Conjunctions<GuardClause<'loc>>,
    ) {
        for clause in conjunctions.iter().flatten() {
            self.guard_clause(scope, clause);
        }
    }

    fn access_clause(&mut self, scope: &Scope<'_, 'r, 'loc>, clause: &'r AccessClause<'loc>) {
        let at = self.query(scope, &clause.query.query);
        let need = if clause.comparator.0.is_unary() {
            Need::Shape
        } else {
            Need::Whole
        };
        self.keep(&at, need);
        if let Some(other) = &clause.compare_with {
            self.operand(scope, other);
        }
    }

    fn guard_clause(&mut self, scope: &Scope<'_, 'r, 'loc>, clause: &'r GuardClause<'loc>) {
        match clause {
            GuardClause::Clause(GuardAccessClause { access_clause, .. }) => {
                self.access_clause(scope, access_clause)
            }
            GuardClause::NamedRule(named) => self.refer(&named.dependent_rule),
            GuardClause::ParameterizedNamedRule(call) => self.call(scope, call),
            GuardClause::BlockClause(block) => {
                let at = self.query(scope, &block.query.query);
                self.block(at, &block.block, scope);
            }
            GuardClause::WhenBlock(conditions, block) => {
                self.when(scope, conditions);
                self.block(scope.context.clone(), block, scope);
            }
        }
    }

    fn block(
        &mut self,
        at: Vec<usize>,
        block: &'r Block<'loc, GuardClause<'loc>>,
        parent: &Scope<'_, 'r, 'loc>,
    ) {
        let scope = Scope::new(at, &block.assignments, Some(parent));
        self.conjunctions(&scope, &block.conjunctions);
    }

    fn when(&mut self, scope: &Scope<'_, 'r, 'loc>, conditions: &'r WhenConditions<'loc>) {
        for condition in conditions.iter().flatten() {
            match condition {
                WhenGuardClause::Clause(GuardAccessClause { access_clause, .. }) => {
                    self.access_clause(scope, access_clause)
                }
                WhenGuardClause::NamedRule(named) => self.refer(&named.dependent_rule),
                WhenGuardClause::ParameterizedNamedRule(call) => self.call(scope, call),
            }
        }
    }

    /// A named rule is evaluated once, at the root, as a rule of the file: walked there.
    fn refer(&mut self, rule: &str) {
        if let Some(references) = self.references.get_mut(&self.current_rule) {
            references.insert(rule.to_owned());
        }
    }

    fn call(&mut self, scope: &Scope<'_, 'r, 'loc>, call: &'r ParameterizedNamedRuleClause<'loc>) {
        let name = call.named_rule.dependent_rule.as_str();
        let Some(&rule) = self.parameterized.get(name) else {
            self.error.get_or_insert_with(|| {
                format!("rule {name} is called but no parameterized rule of that name is defined")
            });
            return;
        };
        if self.calls.contains(&rule.rule.rule_name.as_str()) {
            self.error.get_or_insert_with(|| {
                format!(
                    "parameterized rule {name} calls itself, which cfn-guard would do without end"
                )
            });
            return;
        }
        if self.calls.len() >= MAX_CALL_DEPTH {
            self.unbounded = true;
            return;
        }
        // The body runs where it is called: its queries start at the caller's context,
        // and a name that is neither a parameter nor its own resolves in the caller's scopes.
        let mut body = Scope::new(scope.context.clone(), &[], Some(scope));
        for (parameter, argument) in rule.parameter_names.iter().zip(&call.parameters) {
            let at = self.let_value(scope, argument);
            body.parameters.insert(parameter.as_str(), at);
        }
        self.calls.push(rule.rule.rule_name.as_str());
        self.rule(&body, &rule.rule);
        self.calls.pop();
    }

    fn rule(&mut self, scope: &Scope<'_, 'r, 'loc>, rule: &'r Rule<'loc>) {
        if let Some(conditions) = &rule.conditions {
            self.when(scope, conditions);
        }
        let body = Scope::new(scope.context.clone(), &rule.block.assignments, Some(scope));
        for clause in rule.block.conjunctions.iter().flatten() {
            match clause {
                RuleClause::Clause(clause) => self.guard_clause(&body, clause),
                RuleClause::WhenBlock(conditions, block) => {
                    self.when(&body, conditions);
                    self.block(body.context.clone(), block, &body);
                }
                RuleClause::TypeBlock(type_block) => {
                    // Conditions and clauses are evaluated on each resource of the type.
                    let at = self.query(&body, &type_block.query);
                    let each = Scope::new(at.clone(), &[], Some(&body));
                    if let Some(conditions) = &type_block.conditions {
                        self.when(&each, conditions);
                    }
                    self.block(at, &type_block.block, &each);
                }
            }
        }
    }

    /// Every rule referred to by name exists, and none depends on itself.
    fn check_references(&self) -> Result<(), String> {
        for (rule, references) in &self.references {
            if let Some(missing) = references
                .iter()
                .find(|r| !self.references.contains_key(*r))
            {
                return Err(format!(
                    "rule {rule} refers to rule {missing}, which is not defined"
                ));
            }
        }
        // Depth-first, from each rule: a rule met again on the current path is a cycle.
        fn visit<'a>(
            rule: &'a str,
            references: &'a BTreeMap<String, BTreeSet<String>>,
            path: &mut Vec<&'a str>,
            done: &mut HashSet<&'a str>,
        ) -> Result<(), String> {
            if let Some(start) = path.iter().position(|r| *r == rule) {
                let mut cycle: Vec<&str> = path[start..].to_vec();
                cycle.push(rule);
                return Err(format!(
                    "rule {rule} depends on itself ({}), which cfn-guard would evaluate without end",
                    cycle.join(" -> ")
                ));
            }
            if !done.insert(rule) {
                return Ok(());
            }
            path.push(rule);
            for next in references.get(rule).into_iter().flatten() {
                visit(next, references, path, done)?;
            }
            path.pop();
            Ok(())
        }
        let mut done = HashSet::new();
        for rule in self.references.keys() {
            visit(rule, &self.references, &mut Vec::new(), &mut done)?;
        }
        Ok(())
    }
}

/// The test a filter makes on every value it selects, if one of its conjunctions is a
/// plain `path == 'string'` or `path in ['string', ...]` (or a disjunction of those on one
/// path): a value failing it fails the filter whatever the other clauses say.
fn guard(conjunctions: &Conjunctions<GuardClause<'_>>) -> Option<Guard> {
    conjunctions.iter().find_map(|disjunction| {
        let mut path: Option<Vec<String>> = None;
        let mut allowed = BTreeSet::new();
        for clause in disjunction {
            let GuardClause::Clause(GuardAccessClause {
                access_clause,
                negation: false,
            }) = clause
            else {
                return None;
            };
            let keys: Vec<String> = access_clause
                .query
                .query
                .iter()
                .map(|part| match part {
                    QueryPart::Key(key) if !key.starts_with('%') && key.parse::<i64>().is_err() => {
                        Some(key.clone())
                    }
                    _ => None,
                })
                .collect::<Option<_>>()?;
            if keys.is_empty() {
                return None;
            }
            match (access_clause.comparator, &access_clause.compare_with) {
                (
                    (CmpOperator::Eq, false),
                    Some(LetValue::Value(PathAwareValue::String((_, s)))),
                ) => {
                    allowed.insert(s.clone());
                }
                (
                    (CmpOperator::In, false),
                    Some(LetValue::Value(PathAwareValue::List((_, items)))),
                ) => {
                    for item in items {
                        match item {
                            PathAwareValue::String((_, s)) => {
                                allowed.insert(s.clone());
                            }
                            _ => return None,
                        }
                    }
                }
                _ => return None,
            }
            if *path.get_or_insert_with(|| keys.clone()) != keys {
                return None;
            }
        }
        Some(Guard {
            path: path?,
            allowed,
        })
    })
}
