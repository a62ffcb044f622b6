//! The schedule indices a campaign (or one shard of it) runs, as an arithmetic progression.
//!
//! # Invariants
//!
//! * Nothing is materialised: a campaign of 2⁶⁴ − 1 schedules costs the same memory as one of
//!   ten, and selecting a shard costs nothing up front.
//! * Shard `k` of `n` holds exactly the indices `i < count` with `i mod n = k − 1`, in increasing
//!   order, so the shards of one campaign partition it.

/// The indices `start, start + step, …` below `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Indices {
    start: u64,
    step: u64,
    end: u64,
}

impl Indices {
    /// Schedules `0..count`, or shard `k` of `n` (1-based) of them.
    pub(crate) fn new(count: u64, shard: Option<(u64, u64)>) -> Indices {
        match shard {
            Some((k, n)) => Indices {
                start: k - 1,
                step: n,
                end: count,
            },
            None => Indices {
                start: 0,
                step: 1,
                end: count,
            },
        }
    }

    /// How many indices there are.
    pub(crate) fn len(&self) -> u64 {
        if self.start >= self.end {
            0
        } else {
            (self.end - self.start - 1) / self.step + 1
        }
    }

    /// The `k`-th index (0-based), if there is one.
    pub(crate) fn nth(&self, k: u64) -> Option<u64> {
        let i = self.start.checked_add(k.checked_mul(self.step)?)?;
        (i < self.end).then_some(i)
    }

    /// Where `index` stands in the sequence (0-based).
    pub(crate) fn position(&self, index: u64) -> u64 {
        index.saturating_sub(self.start) / self.step
    }

    /// The indices in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u64> + use<> {
        let this = *self;
        (0..this.len()).map_while(move |k| this.nth(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_campaign() {
        for count in [0u64, 1, 2, 7, 10] {
            for n in 1..=4u64 {
                let mut all: Vec<u64> = (1..=n)
                    .flat_map(|k| Indices::new(count, Some((k, n))).iter())
                    .collect();
                all.sort_unstable();
                assert_eq!(all, (0..count).collect::<Vec<_>>(), "count {count}, n {n}");
                for k in 1..=n {
                    let s = Indices::new(count, Some((k, n)));
                    let v: Vec<u64> = s.iter().collect();
                    assert_eq!(s.len(), v.len() as u64);
                    for (p, i) in v.iter().enumerate() {
                        assert_eq!(s.position(*i), p as u64);
                    }
                }
            }
        }
    }

    #[test]
    fn the_largest_campaigns_cost_nothing_up_front() {
        let all = Indices::new(u64::MAX, None);
        assert_eq!(all.len(), u64::MAX);
        assert_eq!(all.nth(u64::MAX - 1), Some(u64::MAX - 1));
        assert_eq!(all.nth(u64::MAX), None);
        let half = Indices::new(u64::MAX, Some((2, 2)));
        assert_eq!(half.len(), u64::MAX / 2);
        assert_eq!(half.iter().take(3).collect::<Vec<_>>(), [1, 3, 5]);
        assert_eq!(half.nth(u64::MAX / 2), None);
    }
}
