//! `Array.prototype.sort(comparefn)` exactly as V8 (Node.js 20, the engine
//! App Connect's core runs on) orders the elements: its TimSort, with the
//! same comparisons in the same order, so that a comparator that is not
//! consistent (one that answers NaN, read as "equal", for some pairs and a
//! number for others, as `b.creationTime - a.creationTime` does when some
//! times are ISO strings) leaves the elements exactly where V8 leaves them.
//!
//! Pure: it owns only the algorithm (V8's `array-sort.tq`, after CPython's
//! listsort), never what is compared. There is no `undefined` element
//! here (V8 moves those to the end uncompared): callers sort values.

/// The elements of `items` in the order V8's `Array.prototype.sort` leaves
/// them with `compare`, a comparator returning a JavaScript number
/// (negative: the first argument goes first; NaN counts as zero).
pub fn sorted<T>(items: Vec<T>, mut compare: impl FnMut(&T, &T) -> f64) -> Vec<T> {
    let mut work: Vec<usize> = (0..items.len()).collect();
    if items.len() >= 2 {
        let mut sort = TimSort {
            less: |a: usize, b: usize| compare(&items[a], &items[b]) < 0.0,
            min_gallop: MIN_GALLOP_WINS,
            runs: Vec::new(),
        };
        sort.run(&mut work);
    }
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    work.into_iter()
        .filter_map(|index| slots.get_mut(index).and_then(Option::take))
        .collect()
}

/// After this many wins in a row, a merge starts galloping.
const MIN_GALLOP_WINS: usize = 7;

struct TimSort<F> {
    /// `Compare(x, y) < 0` (a NaN answer is not less).
    less: F,
    min_gallop: usize,
    /// Pending runs: (base, length).
    runs: Vec<(usize, usize)>,
}

impl<F: FnMut(usize, usize) -> bool> TimSort<F> {
    fn run(&mut self, work: &mut [usize]) {
        let length = work.len();
        let min_run = min_run_length(length);
        let mut low = 0;
        let mut remaining = length;
        while remaining != 0 {
            let mut run = self.count_and_make_run(work, low, low + remaining);
            if run < min_run {
                let forced = min_run.min(remaining);
                self.binary_insertion_sort(work, low, low + run, low + forced);
                run = forced;
            }
            self.runs.push((low, run));
            self.merge_collapse(work);
            low += run;
            remaining -= run;
        }
        self.merge_force_collapse(work);
    }

    fn less(&mut self, work: &[usize], x: usize, y: usize) -> bool {
        (self.less)(work[x], work[y])
    }

    /// Sorts `[low, high)` given that `[low, start)` is sorted.
    fn binary_insertion_sort(&mut self, work: &mut [usize], low: usize, start: usize, high: usize) {
        let mut start = if low == start { start + 1 } else { start };
        while start < high {
            let pivot = work[start];
            let (mut left, mut right) = (low, start);
            while left < right {
                let mid = left + ((right - left) >> 1);
                if (self.less)(pivot, work[mid]) {
                    right = mid;
                } else {
                    left = mid + 1;
                }
            }
            work.copy_within(left..start, left + 1);
            work[left] = pivot;
            start += 1;
        }
    }

    /// The length of the run at `low`: ascending (`a[i] <= a[i+1]`) or
    /// strictly descending, which is reversed in place.
    fn count_and_make_run(&mut self, work: &mut [usize], low_arg: usize, high: usize) -> usize {
        let low = low_arg + 1;
        if low == high {
            return 1;
        }
        let mut run = 2;
        let descending = self.less(work, low, low - 1);
        let mut previous = low;
        for index in low + 1..high {
            let is_less = self.less(work, index, previous);
            if descending != is_less {
                break;
            }
            previous = index;
            run += 1;
        }
        if descending {
            work[low_arg..low_arg + run].reverse();
        }
        run
    }

    fn merge_collapse(&mut self, work: &mut [usize]) {
        while self.runs.len() > 1 {
            let mut n = self.runs.len() - 2;
            if !self.invariant_holds(n + 1) || !self.invariant_holds(n) {
                if n > 0 && self.runs[n - 1].1 < self.runs[n + 1].1 {
                    n -= 1;
                }
                self.merge_at(work, n);
            } else if self.runs[n].1 <= self.runs[n + 1].1 {
                self.merge_at(work, n);
            } else {
                break;
            }
        }
    }

    /// `run_length(n - 2) > run_length(n - 1) + run_length(n)`.
    fn invariant_holds(&self, n: usize) -> bool {
        if n < 2 {
            return true;
        }
        self.runs[n - 2].1 > self.runs[n - 1].1 + self.runs[n].1
    }

    fn merge_force_collapse(&mut self, work: &mut [usize]) {
        while self.runs.len() > 1 {
            let mut n = self.runs.len() - 2;
            if n > 0 && self.runs[n - 1].1 < self.runs[n + 1].1 {
                n -= 1;
            }
            self.merge_at(work, n);
        }
    }

    fn merge_at(&mut self, work: &mut [usize], i: usize) {
        let (mut base_a, mut length_a) = self.runs[i];
        let (base_b, mut length_b) = self.runs[i + 1];
        self.runs[i].1 = length_a + length_b;
        self.runs.remove(i + 1);

        let key_right = work[base_b];
        let k = self.gallop_right(work, key_right, base_a, length_a, 0);
        base_a += k;
        length_a -= k;
        if length_a == 0 {
            return;
        }
        let key_left = work[base_a + length_a - 1];
        length_b = self.gallop_left(work, key_left, base_b, length_b, length_b - 1);
        if length_b == 0 {
            return;
        }
        if length_a <= length_b {
            self.merge_low(work, base_a, length_a, base_b, length_b);
        } else {
            self.merge_high(work, base_a, length_a, base_b, length_b);
        }
    }

    /// Where `key` goes in the sorted `array[base..base + length]`, left of
    /// any equal elements.
    fn gallop_left(
        &mut self,
        array: &[usize],
        key: usize,
        base: usize,
        length: usize,
        hint: usize,
    ) -> usize {
        let (mut last, mut offset): (isize, isize) = (0, 1);
        let hint_i = hint as isize;
        let length_i = length as isize;
        if (self.less)(array[base + hint], key) {
            let max = length_i - hint_i;
            while offset < max {
                if !(self.less)(array[base + hint + offset as usize], key) {
                    break;
                }
                last = offset;
                offset = (offset << 1) + 1;
            }
            offset = offset.min(max);
            last += hint_i;
            offset += hint_i;
        } else {
            let max = hint_i + 1;
            while offset < max {
                if (self.less)(array[base + hint - offset as usize], key) {
                    break;
                }
                last = offset;
                offset = (offset << 1) + 1;
            }
            offset = offset.min(max);
            let previous_last = last;
            last = hint_i - offset;
            offset = hint_i - previous_last;
        }
        last += 1;
        while last < offset {
            let m = last + ((offset - last) >> 1);
            if (self.less)(array[base + m as usize], key) {
                last = m + 1;
            } else {
                offset = m;
            }
        }
        offset as usize
    }

    /// Where `key` goes in the sorted `array[base..base + length]`, right of
    /// any equal elements.
    fn gallop_right(
        &mut self,
        array: &[usize],
        key: usize,
        base: usize,
        length: usize,
        hint: usize,
    ) -> usize {
        let (mut last, mut offset): (isize, isize) = (0, 1);
        let hint_i = hint as isize;
        let length_i = length as isize;
        if (self.less)(key, array[base + hint]) {
            let max = hint_i + 1;
            while offset < max {
                if !(self.less)(key, array[base + hint - offset as usize]) {
                    break;
                }
                last = offset;
                offset = (offset << 1) + 1;
            }
            offset = offset.min(max);
            let previous_last = last;
            last = hint_i - offset;
            offset = hint_i - previous_last;
        } else {
            let max = length_i - hint_i;
            while offset < max {
                if (self.less)(key, array[base + hint + offset as usize]) {
                    break;
                }
                last = offset;
                offset = (offset << 1) + 1;
            }
            offset = offset.min(max);
            last += hint_i;
            offset += hint_i;
        }
        last += 1;
        while last < offset {
            let m = last + ((offset - last) >> 1);
            if (self.less)(key, array[base + m as usize]) {
                offset = m;
            } else {
                last = m + 1;
            }
        }
        offset as usize
    }

    /// Merges the runs at `base_a` and `base_b` (adjacent, the first the
    /// shorter) from the left, with the first in a temporary copy.
    fn merge_low(
        &mut self,
        work: &mut [usize],
        base_a: usize,
        length_a: usize,
        base_b: usize,
        length_b: usize,
    ) {
        let (mut length_a, mut length_b) = (length_a, length_b);
        let temp: Vec<usize> = work[base_a..base_a + length_a].to_vec();
        let mut dest = base_a;
        let mut cursor_temp = 0;
        let mut cursor_b = base_b;
        work[dest] = work[cursor_b];
        dest += 1;
        cursor_b += 1;
        length_b -= 1;
        let outcome = 'merge: {
            if length_b == 0 {
                break 'merge Finish::Succeed;
            }
            if length_a == 1 {
                break 'merge Finish::CopyOther;
            }
            let mut min_gallop = self.min_gallop;
            loop {
                let (mut wins_a, mut wins_b) = (0usize, 0usize);
                loop {
                    if (self.less)(work[cursor_b], temp[cursor_temp]) {
                        work[dest] = work[cursor_b];
                        dest += 1;
                        cursor_b += 1;
                        wins_b += 1;
                        length_b -= 1;
                        wins_a = 0;
                        if length_b == 0 {
                            break 'merge Finish::Succeed;
                        }
                        if wins_b >= min_gallop {
                            break;
                        }
                    } else {
                        work[dest] = temp[cursor_temp];
                        dest += 1;
                        cursor_temp += 1;
                        wins_a += 1;
                        length_a -= 1;
                        wins_b = 0;
                        if length_a == 1 {
                            break 'merge Finish::CopyOther;
                        }
                        if wins_a >= min_gallop {
                            break;
                        }
                    }
                }
                min_gallop += 1;
                let mut first = true;
                while wins_a >= MIN_GALLOP_WINS || wins_b >= MIN_GALLOP_WINS || first {
                    first = false;
                    min_gallop = min_gallop.saturating_sub(1).max(1);
                    self.min_gallop = min_gallop;
                    wins_a = self.gallop_right(&temp, work[cursor_b], cursor_temp, length_a, 0);
                    if wins_a > 0 {
                        work[dest..dest + wins_a]
                            .copy_from_slice(&temp[cursor_temp..cursor_temp + wins_a]);
                        dest += wins_a;
                        cursor_temp += wins_a;
                        length_a -= wins_a;
                        if length_a == 1 {
                            break 'merge Finish::CopyOther;
                        }
                        if length_a == 0 {
                            break 'merge Finish::Succeed;
                        }
                    }
                    work[dest] = work[cursor_b];
                    dest += 1;
                    cursor_b += 1;
                    length_b -= 1;
                    if length_b == 0 {
                        break 'merge Finish::Succeed;
                    }
                    wins_b = self.gallop_left(work, temp[cursor_temp], cursor_b, length_b, 0);
                    if wins_b > 0 {
                        work.copy_within(cursor_b..cursor_b + wins_b, dest);
                        dest += wins_b;
                        cursor_b += wins_b;
                        length_b -= wins_b;
                        if length_b == 0 {
                            break 'merge Finish::Succeed;
                        }
                    }
                    work[dest] = temp[cursor_temp];
                    dest += 1;
                    cursor_temp += 1;
                    length_a -= 1;
                    if length_a == 1 {
                        break 'merge Finish::CopyOther;
                    }
                }
                min_gallop += 1;
                self.min_gallop = min_gallop;
            }
        };
        match outcome {
            Finish::Succeed => {
                if length_a > 0 {
                    work[dest..dest + length_a]
                        .copy_from_slice(&temp[cursor_temp..cursor_temp + length_a]);
                }
            }
            Finish::CopyOther => {
                work.copy_within(cursor_b..cursor_b + length_b, dest);
                work[dest + length_b] = temp[cursor_temp];
            }
        }
    }

    /// Merges the runs at `base_a` and `base_b` (adjacent, the second the
    /// shorter) from the right, with the second in a temporary copy.
    fn merge_high(
        &mut self,
        work: &mut [usize],
        base_a: usize,
        length_a: usize,
        base_b: usize,
        length_b: usize,
    ) {
        let (mut length_a, mut length_b) = (length_a, length_b);
        let temp: Vec<usize> = work[base_b..base_b + length_b].to_vec();
        // Cursors move leftwards and can pass below zero by one at the end,
        // as V8's Smi cursors do.
        let mut dest = (base_b + length_b - 1) as isize;
        let mut cursor_temp = length_b as isize - 1;
        let mut cursor_a = (base_a + length_a - 1) as isize;
        let at = |i: isize| i as usize;
        work[at(dest)] = work[at(cursor_a)];
        dest -= 1;
        cursor_a -= 1;
        length_a -= 1;
        let outcome = 'merge: {
            if length_a == 0 {
                break 'merge Finish::Succeed;
            }
            if length_b == 1 {
                break 'merge Finish::CopyOther;
            }
            let mut min_gallop = self.min_gallop;
            loop {
                let (mut wins_a, mut wins_b) = (0usize, 0usize);
                loop {
                    if (self.less)(temp[at(cursor_temp)], work[at(cursor_a)]) {
                        work[at(dest)] = work[at(cursor_a)];
                        dest -= 1;
                        cursor_a -= 1;
                        wins_a += 1;
                        length_a -= 1;
                        wins_b = 0;
                        if length_a == 0 {
                            break 'merge Finish::Succeed;
                        }
                        if wins_a >= min_gallop {
                            break;
                        }
                    } else {
                        work[at(dest)] = temp[at(cursor_temp)];
                        dest -= 1;
                        cursor_temp -= 1;
                        wins_b += 1;
                        length_b -= 1;
                        wins_a = 0;
                        if length_b == 1 {
                            break 'merge Finish::CopyOther;
                        }
                        if wins_b >= min_gallop {
                            break;
                        }
                    }
                }
                min_gallop += 1;
                let mut first = true;
                while wins_a >= MIN_GALLOP_WINS || wins_b >= MIN_GALLOP_WINS || first {
                    first = false;
                    min_gallop = min_gallop.saturating_sub(1).max(1);
                    self.min_gallop = min_gallop;
                    let k = self.gallop_right(
                        work,
                        temp[at(cursor_temp)],
                        base_a,
                        length_a,
                        length_a - 1,
                    );
                    wins_a = length_a - k;
                    if wins_a > 0 {
                        dest -= wins_a as isize;
                        cursor_a -= wins_a as isize;
                        work.copy_within(at(cursor_a + 1)..at(cursor_a + 1) + wins_a, at(dest + 1));
                        length_a -= wins_a;
                        if length_a == 0 {
                            break 'merge Finish::Succeed;
                        }
                    }
                    work[at(dest)] = temp[at(cursor_temp)];
                    dest -= 1;
                    cursor_temp -= 1;
                    length_b -= 1;
                    if length_b == 1 {
                        break 'merge Finish::CopyOther;
                    }
                    let k = self.gallop_left(&temp, work[at(cursor_a)], 0, length_b, length_b - 1);
                    wins_b = length_b - k;
                    if wins_b > 0 {
                        dest -= wins_b as isize;
                        cursor_temp -= wins_b as isize;
                        let from = at(cursor_temp + 1);
                        work[at(dest + 1)..at(dest + 1) + wins_b]
                            .copy_from_slice(&temp[from..from + wins_b]);
                        length_b -= wins_b;
                        if length_b == 1 {
                            break 'merge Finish::CopyOther;
                        }
                        if length_b == 0 {
                            break 'merge Finish::Succeed;
                        }
                    }
                    work[at(dest)] = work[at(cursor_a)];
                    dest -= 1;
                    cursor_a -= 1;
                    length_a -= 1;
                    if length_a == 0 {
                        break 'merge Finish::Succeed;
                    }
                }
                min_gallop += 1;
                self.min_gallop = min_gallop;
            }
        };
        match outcome {
            Finish::Succeed => {
                if length_b > 0 {
                    let to = at(dest - (length_b as isize - 1));
                    work[to..to + length_b].copy_from_slice(&temp[..length_b]);
                }
            }
            Finish::CopyOther => {
                dest -= length_a as isize;
                cursor_a -= length_a as isize;
                work.copy_within(at(cursor_a + 1)..at(cursor_a + 1) + length_a, at(dest + 1));
                work[at(dest)] = temp[at(cursor_temp)];
            }
        }
    }
}

/// How a merge ends: all of one run placed (`Succeed`), or one element of
/// the copied run left, which goes after (low) or before (high) the rest of
/// the other run (`CopyOther`).
enum Finish {
    Succeed,
    CopyOther,
}

/// `n` below 64; else a length between 32 and 64 that splits `n` into
/// close to a power of two runs.
fn min_run_length(mut n: usize) -> usize {
    let mut r = 0;
    while n >= 64 {
        r |= n & 1;
        n >>= 1;
    }
    n + r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(keys: &[f64]) -> Vec<usize> {
        let items: Vec<(usize, f64)> = keys.iter().copied().enumerate().collect();
        sorted(items, |a, b| b.1 - a.1)
            .into_iter()
            .map(|(index, _)| index)
            .collect()
    }

    #[test]
    fn a_consistent_comparator_sorts_stably() {
        let keys: Vec<f64> = (0..300).map(|i| f64::from((i * 7919) % 101)).collect();
        let order = numbers(&keys);
        for pair in order.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            assert!(keys[a] > keys[b] || (keys[a] == keys[b] && a < b));
        }
    }

    #[test]
    fn nan_answers_are_equal_and_leave_v8s_order() {
        // [5, NaN, 9, NaN, 1].sort((a, b) => b - a) in Node.js 20 is
        // [5, NaN, 9, NaN, 1]: every pair with a NaN is "equal", so the
        // binary insertion places 9 after the NaN before it.
        let keys = [5.0, f64::NAN, 9.0, f64::NAN, 1.0];
        assert_eq!(numbers(&keys), vec![0, 1, 2, 3, 4]);
        // [1, 2, NaN, 3].sort((a, b) => b - a) is [3, 2, 1, NaN].
        assert_eq!(numbers(&[1.0, 2.0, f64::NAN, 3.0]), vec![3, 1, 0, 2]);
    }

    #[test]
    fn merges_of_long_runs_place_nan_keys_where_v8_does() {
        // 150 items, key (i * 37) % 23 (plus i past 90), NaN when i % 7 == 3:
        // two runs merged with galloping. Node.js 20's order:
        let keys: Vec<f64> = (0..150)
            .map(|i: u32| match i {
                i if i % 7 == 3 => f64::NAN,
                i => f64::from((i * 37) % 23 + if i > 90 { i } else { 0 }),
            })
            .collect();
        let node: [usize; 150] = [
            18, 13, 36, 8, 26, 21, 16, 11, 34, 6, 29, 1, 19, 14, 37, 9, 32, 4, 27, 22, 12, 7, 30,
            2, 20, 15, 33, 0, 3, 5, 10, 17, 35, 28, 23, 24, 25, 31, 38, 41, 64, 54, 49, 72, 44, 67,
            39, 62, 57, 75, 47, 70, 42, 65, 60, 55, 68, 40, 43, 45, 50, 63, 58, 53, 48, 71, 61, 56,
            51, 46, 52, 59, 66, 74, 69, 73, 110, 113, 105, 111, 100, 103, 106, 109, 112, 95, 98,
            104, 107, 93, 96, 99, 102, 91, 97, 92, 82, 77, 90, 85, 88, 83, 78, 86, 81, 76, 89, 84,
            79, 80, 87, 94, 101, 108, 114, 115, 146, 149, 141, 144, 147, 133, 139, 142, 145, 148,
            128, 131, 134, 137, 140, 123, 126, 132, 135, 138, 118, 121, 124, 127, 130, 116, 119,
            125, 117, 120, 122, 129, 136, 143,
        ];
        assert_eq!(numbers(&keys), node.to_vec());
    }
}
