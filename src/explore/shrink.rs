//! Shrinking a failing schedule, Hypothesis-style, over its choice sequence.
//!
//! A schedule is a sequence of numbers ([`Choices`](crate::scheduler::Choices)): task indices in
//! ready-queue order and random values, with 0 as the FIFO default past its end. The shrinker
//! looks for a sequence that is smaller in *shortlex* order — shorter first, then lexicographically
//! smaller — and still fails in the same way. Shorter means fewer decisions away from FIFO; smaller
//! numbers mean choices pushed towards the FIFO head, so fewer preemptions.
//!
//! Each candidate is run; a candidate that fails in the same way is replaced by the choice
//! sequence its run actually took (normalised: trailing zeros dropped), which is never larger.
//! Passes — delete blocks, zero blocks, lower single values — repeat until none helps or the run
//! budget is spent. The result always replays the failure: it is the normalised sequence of a
//! run that failed.
//!
//! # Cost
//!
//! Building a candidate copies the sequence, so every pass stops as soon as the run budget is
//! spent: the shrinker's own work is `O(budget × length)` on top of the runs, never
//! `O(length²)` (a livelock at the step limit has a million decisions).

/// `a` is smaller than `b` in shortlex order.
pub(crate) fn shortlex_lt(a: &[u64], b: &[u64]) -> bool {
    (a.len(), a) < (b.len(), b)
}

/// Drops trailing zeros (the FIFO default supplies them).
pub(crate) fn normalise(mut v: Vec<u64>) -> Vec<u64> {
    while v.last() == Some(&0) {
        v.pop();
    }
    v
}

/// The outcome of shrinking.
pub(crate) struct Shrunk {
    pub(crate) choices: Vec<u64>,
    pub(crate) runs: usize,
    /// Candidates built (copied), run or not: what the shrinker itself spent.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) built: usize,
}

/// Shrinks `initial` (which must fail). `attempt` runs a candidate and returns the normalised
/// choices of its run when it fails in the same way.
pub(crate) fn shrink(
    initial: Vec<u64>,
    budget: usize,
    mut attempt: impl FnMut(&[u64]) -> Option<Vec<u64>>,
) -> Shrunk {
    let mut best = normalise(initial);
    let mut runs = 0usize;
    let built = std::cell::Cell::new(0usize);
    let mut try_candidate = |cand: Vec<u64>, best: &mut Vec<u64>, runs: &mut usize| -> bool {
        built.set(built.get() + 1);
        let cand = normalise(cand);
        if !shortlex_lt(&cand, best) || *runs >= budget {
            return false;
        }
        *runs += 1;
        match attempt(&cand) {
            Some(actual) if shortlex_lt(&actual, best) => {
                *best = actual;
                true
            }
            _ => false,
        }
    };
    loop {
        let before = best.clone();
        // 1. Delete blocks, largest first, from the end (later decisions matter least).
        for size in [16usize, 8, 4, 2, 1] {
            let mut i = best.len().saturating_sub(size);
            loop {
                if runs >= budget {
                    break;
                }
                if i + size <= best.len() {
                    let mut cand = best.clone();
                    cand.drain(i..i + size);
                    try_candidate(cand, &mut best, &mut runs);
                }
                if i == 0 {
                    break;
                }
                i = i
                    .saturating_sub(size.max(1))
                    .min(best.len().saturating_sub(1));
            }
        }
        // 2. Zero blocks (push a stretch of choices back to FIFO).
        for size in [8usize, 4, 2, 1] {
            let mut i = 0;
            while i < best.len() && runs < budget {
                let end = (i + size).min(best.len());
                if best[i..end].iter().any(|v| *v != 0) {
                    let mut cand = best.clone();
                    cand[i..end].iter_mut().for_each(|v| *v = 0);
                    try_candidate(cand, &mut best, &mut runs);
                }
                i += size;
            }
        }
        // 3. Lower single values: 0, then halving towards 0, then one less.
        let mut i = 0;
        while i < best.len() && runs < budget {
            let v = best[i];
            if v > 0 {
                for lower in [0, v / 2, v - 1] {
                    if lower < v && i < best.len() && best[i] == v {
                        let mut cand = best.clone();
                        cand[i] = lower;
                        if try_candidate(cand, &mut best, &mut runs) {
                            break;
                        }
                    }
                }
            }
            i += 1;
        }
        if best == before || runs >= budget {
            return Shrunk {
                choices: best,
                runs,
                built: built.get(),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortlex_order() {
        assert!(shortlex_lt(&[5], &[0, 0]));
        assert!(shortlex_lt(&[1, 0], &[1, 1]));
        assert!(!shortlex_lt(&[1, 1], &[1, 1]));
    }

    #[test]
    fn finds_the_minimal_failing_sequence() {
        // "Fails" when some choice is >= 3 and the sequence contains a later 1.
        let fails = |c: &[u64]| {
            let i = c.iter().position(|v| *v >= 3)?;
            c[i + 1..].contains(&1).then(|| normalise(c.to_vec()))
        };
        let start = vec![0, 2, 7, 4, 0, 9, 1, 3, 1, 0, 5];
        assert!(fails(&start).is_some());
        let out = shrink(start, 10_000, fails);
        assert_eq!(out.choices, vec![3, 1]);
    }

    #[test]
    fn a_long_sequence_costs_the_budget_not_its_length_squared() {
        // A livelock at the step limit: a million decisions, a handful of replays. The passes
        // used to build (copy) a candidate at every position even after the budget was spent:
        // 125,000 copies of a million values for the first pass alone.
        let mut calls = 0;
        let out = shrink(vec![1; 1_000_000], 8, |c| {
            calls += 1;
            Some(c.to_vec())
        });
        assert_eq!(out.runs, 8);
        assert_eq!(calls, 8);
        assert!(out.built <= 16, "{} candidates built", out.built);
    }

    #[test]
    fn respects_the_budget() {
        let mut calls = 0;
        let out = shrink(vec![9; 50], 7, |_| {
            calls += 1;
            None
        });
        assert_eq!(out.choices, vec![9; 50]);
        assert_eq!(out.runs, 7);
        assert_eq!(calls, 7);
    }
}
