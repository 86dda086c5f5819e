//! The scheduling of jobs: items (cases, or failures to shrink) handed to
//! a fixed set of workers, each in a thread of its own with resources of
//! its own (its Node.js bridge), the next item to whichever worker is free,
//! the results put back in the items' order. A run waits far more than it
//! computes (a delayed answer, a `Retry-After`), so overlapping the waits is
//! what makes it fast.
//!
//! It owns who plays what and when, and how a failure stops the rest; it
//! must not know what an item is or judge a result, so that any kind of
//! case can be scheduled by it. The order results come back in never
//! depends on timing: whatever the number of workers, item `i`'s result is
//! at `i`, and the error reported is that of the first item that failed.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Runs `work` on every item, `workers.len()` at a time, and gives back
/// the results in the items' order; `work` gets the worker, the item's
/// index and the item. After an error no item is started any more, the
/// ones under way finish, and the error of the lowest index is returned.
/// With one worker, everything runs on the calling thread, in order; with
/// none, nothing runs (a run always has the worker that loaded the
/// connector).
pub(super) fn run<W, I, O, E>(
    workers: &mut [W],
    items: &[I],
    work: impl Fn(&mut W, usize, &I) -> Result<O, E> + Sync,
) -> Result<Vec<O>, E>
where
    W: Send,
    I: Sync,
    O: Send,
    E: Send,
{
    if workers.len() <= 1 || items.len() <= 1 {
        let Some(worker) = workers.first_mut() else {
            return Ok(Vec::new());
        };
        return items
            .iter()
            .enumerate()
            .map(|(index, item)| work(worker, index, item))
            .collect();
    }
    let next = AtomicUsize::new(0);
    let stopped = AtomicBool::new(false);
    let results: Mutex<Vec<Option<Result<O, E>>>> =
        Mutex::new(items.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for worker in workers.iter_mut().take(items.len()) {
            let (next, stopped, results, work) = (&next, &stopped, &results, &work);
            scope.spawn(move || loop {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(index) else {
                    return;
                };
                let result = work(worker, index, item);
                if result.is_err() {
                    stopped.store(true, Ordering::SeqCst);
                }
                let mut results = results
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                results[index] = Some(result);
            });
        }
    });
    let results = results
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // Items after a failure were never started: the failure comes first.
    let mut done = Vec::with_capacity(results.len());
    for result in results.into_iter().flatten() {
        done.push(result?);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_the_items_order_whatever_worker_played_them() {
        let items: Vec<u32> = (0..200).collect();
        for workers in [1, 2, 7] {
            let mut played = vec![0u32; workers];
            let results = run(&mut played, &items, |count, index, item| {
                *count += 1;
                Ok::<_, ()>((index, item * 2))
            })
            .expect("no item fails");
            let expected: Vec<(usize, u32)> = items
                .iter()
                .map(|item| (*item as usize, item * 2))
                .collect();
            assert_eq!(results, expected, "{workers} workers");
            assert_eq!(played.iter().sum::<u32>(), 200, "every item played once");
        }
    }

    #[test]
    fn the_error_reported_is_the_first_items_and_nothing_starts_after_it() {
        let items: Vec<u32> = (0..500).collect();
        for workers in [1, 4] {
            let mut started = vec![Vec::new(); workers];
            let result = run(&mut started, &items, |seen: &mut Vec<u32>, _, item| {
                seen.push(*item);
                if *item == 30 || *item == 31 || *item == 400 {
                    Err(format!("item {item}"))
                } else {
                    Ok(())
                }
            });
            assert_eq!(result, Err("item 30".to_owned()), "{workers} workers");
            let played: usize = started.iter().map(Vec::len).sum();
            // Each other worker finishes the item it holds, and at most one
            // it took as the failure was being noted; none after that.
            assert!(
                played <= 31 + 2 * (workers - 1),
                "{played} items with {workers} workers"
            );
        }
    }
}
