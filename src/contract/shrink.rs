//! Shrinking: from the first case that breaks a property, proptest's
//! `TestRunner::run_one` walks to the smallest case that still breaks it,
//! replaying each candidate in full. It owns the walk and the bound on it;
//! playing a candidate is `play.rs`'s, and it must not judge a case itself.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use proptest::strategy::ValueTree;
use proptest::test_runner::{TestCaseError, TestError, TestRunner};

use super::cases::Case;
use super::play::{Outcome, Stop};
use super::properties::{Property, Verdict};
use super::runner::{Failure, RunError, Runner};

/// How long shrinking one failure may take; each step replays a whole case.
pub(super) const SHRINK_TIME: Duration = Duration::from_secs(60);
pub(super) const SHRINK_STEPS: u32 = 200;

impl Runner<'_> {
    /// The smallest case proptest finds from `tree` that still breaks
    /// `property`; `first` is the failure as first seen.
    pub(super) fn shrink<T: ValueTree<Value = Case>>(
        &mut self,
        shrinker: &mut TestRunner,
        tree: T,
        property: Property,
        reason: String,
        first: Outcome,
    ) -> Result<Failure, RunError> {
        let original = tree.current();
        let this = RefCell::new(&mut *self);
        let fatal: RefCell<Option<RunError>> = RefCell::new(None);
        let smallest: RefCell<(Case, String, Outcome)> = RefCell::new((original, reason, first));
        let steps = Cell::new(0u32);
        let result = shrinker.run_one(tree, |case: Case| {
            if fatal.borrow().is_some() {
                return Err(TestCaseError::reject("the run already failed"));
            }
            steps.set(steps.get() + 1);
            let outcome = match this.borrow_mut().play(&case) {
                Ok(outcome) => outcome,
                Err(Stop::Fatal(error)) => {
                    *fatal.borrow_mut() = Some(error);
                    return Err(TestCaseError::reject("the run failed"));
                }
                Err(Stop::Connector) => return Err(TestCaseError::reject("the bridge failed")),
            };
            match outcome.verdicts.get(property) {
                Verdict::Broken(reason) => {
                    let reason = reason.clone();
                    *smallest.borrow_mut() = (case, reason.clone(), outcome);
                    Err(TestCaseError::fail(reason))
                }
                _ => Ok(()),
            }
        });
        if let Some(error) = fatal.into_inner() {
            return Err(error);
        }
        // proptest ends on the smallest failing value, the last one that
        // failed, whose outcome `smallest` kept.
        let (_, reason, outcome) = smallest.into_inner();
        if let Err(TestError::Abort(why)) = result {
            return Err(RunError::Crm(format!("shrinking stopped: {why}")));
        }
        Ok(Failure {
            property,
            reason,
            outcome,
            shrink_steps: steps.get().saturating_sub(1),
        })
    }
}
