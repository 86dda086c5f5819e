//! Shrinking: from the first case that breaks a property, proptest's
//! `TestRunner::run_one` walks to the smallest case that still breaks it,
//! replaying each candidate in full. The walk is proptest's and depends
//! only on whether each candidate broke the property, never on time or on
//! other jobs, so one seed shrinks to the same case however many jobs run
//! (bar the time bound, a safety net a normal run does not reach).
//!
//! It owns the walk and its bounds; it must not know what a case is or
//! judge one: the caller plays each candidate and says what it found.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

/// How long shrinking one failure may take; each step replays a whole case.
const SHRINK_TIME: Duration = Duration::from_secs(60);
/// How many simpler cases shrinking one failure may try.
const SHRINK_STEPS: u32 = 200;

/// What playing one candidate found for the property being shrunk.
pub(super) enum Tried<O, E> {
    /// Still broken: why, and everything the candidate left behind.
    Broke(String, O),
    Held,
    /// The candidate could not be judged (its connector died); proptest
    /// skips it.
    Unjudged,
    /// The run cannot go on.
    Fatal(E),
}

/// The smallest failing candidate found.
pub(super) struct Shrunk<O> {
    pub reason: String,
    pub outcome: O,
    /// Simpler candidates tried.
    pub steps: u32,
}

pub(super) enum ShrinkError<E> {
    Fatal(E),
    /// proptest gave up (too many candidates could not be judged).
    Aborted(String),
}

/// Walks from `tree`, whose current value failed with `first`, to the
/// smallest value `attempt` still finds broken.
pub(super) fn shrink<T, O, E>(
    tree: T,
    first: (String, O),
    attempt: impl FnMut(&T::Value) -> Tried<O, E>,
) -> Result<Shrunk<O>, ShrinkError<E>>
where
    T: ValueTree,
{
    let config = Config {
        max_shrink_iters: SHRINK_STEPS,
        max_shrink_time: u32::try_from(SHRINK_TIME.as_millis()).unwrap_or(u32::MAX),
        failure_persistence: None,
        ..Config::default()
    };
    // Shrinking draws nothing at random; the generator is only required.
    let mut shrinker =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let fatal: RefCell<Option<E>> = RefCell::new(None);
    let smallest: RefCell<(String, O)> = RefCell::new(first);
    let steps = Cell::new(0u32);
    // proptest takes an `Fn`; playing a candidate needs the job's connector.
    let attempt = RefCell::new(attempt);
    let result = shrinker.run_one(tree, |candidate| {
        if fatal.borrow().is_some() {
            return Err(TestCaseError::reject("the run already failed"));
        }
        steps.set(steps.get() + 1);
        let tried = (attempt.borrow_mut())(&candidate);
        match tried {
            Tried::Broke(reason, outcome) => {
                *smallest.borrow_mut() = (reason.clone(), outcome);
                Err(TestCaseError::fail(reason))
            }
            Tried::Held => Ok(()),
            Tried::Unjudged => Err(TestCaseError::reject("the connector failed")),
            Tried::Fatal(error) => {
                *fatal.borrow_mut() = Some(error);
                Err(TestCaseError::reject("the run failed"))
            }
        }
    });
    if let Some(error) = fatal.into_inner() {
        return Err(ShrinkError::Fatal(error));
    }
    if let Err(TestError::Abort(why)) = result {
        return Err(ShrinkError::Aborted(why.to_string()));
    }
    // proptest ends on the smallest failing value, the last one that
    // failed, whose outcome `smallest` kept.
    let (reason, outcome) = smallest.into_inner();
    Ok(Shrunk {
        reason,
        outcome,
        // The first try replays the case as found.
        steps: steps.get().saturating_sub(1),
    })
}
