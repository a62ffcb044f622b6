//! The large ready queue's index: which slots of its append-only buffer hold a runnable task,
//! with "the slot of the `i`-th live task" (select) and its removal in `O(log n)`.
//!
//! A bitset of the slots under a tree of counts with eight children per node:
//!
//! * bit `j % 64` of `bits[j / 64]` is set exactly when slot `j` is live; there are `8^depth`
//!   words (`depth ≥ 1`), and slots at or past the buffer's length are never set; the buffer
//!   holds at most `room` slots (`8^depth · 64` or fewer);
//! * the nodes of level `l` (`0..depth`, the root is level 0) are `nodes[first(l)..][..8^l]`,
//!   with `first(l) = (8^l − 1) / 7`; node `p` of level `l` has children `8p..8p + 8` on level
//!   `l + 1`, and on the last level those children are words. `node[c]` is the number of live
//!   slots in children `0..c` (so `node[0]` is always 0);
//! * `live` is the number of live slots.
//!
//! A lookup walks `depth` nodes (3 for up to 32,768 slots, 4 up to 262,144), choosing the child by
//! *counting* the entries at or below the rank sought: arithmetic on eight lanes, without a
//! branch to mispredict (a binary tree's walk turns at random, and compiled to branches it
//! mispredicted half its levels), then selects the bit within one word; a removal walks the same
//! path once, decrementing the entries past it. The index takes about 1.5 bits per slot of its
//! capacity (6 KB for 32,768 slots, which stays in the first cache level), where a flag and a
//! Fenwick tree node per slot took 40; the capacity is the room rounded up to a power of eight
//! words, so between 1 and 8 times the room.

/// Children per node.
const FAN: usize = 8;

/// A node: live slots before each child.
type Node = [i32; FAN];

/// The live slots of the large ready queue (see the module doc for the invariants).
#[derive(Debug)]
pub(super) struct LiveSlots {
    bits: Vec<u64>,
    nodes: Vec<Node>,
    depth: u32,
    live: usize,
    /// The slots asked for: [`insert`](Self::insert) takes slots below it.
    room: usize,
}

impl LiveSlots {
    /// Slots `0..n` live, and room for `room` slots (at least `n`; the words are rounded up to
    /// a power of eight).
    pub(super) fn with_live_prefix(n: usize, room: usize) -> LiveSlots {
        let room = room.max(n);
        let need = room.div_ceil(64);
        let mut depth = 1;
        while FAN.pow(depth) < need {
            depth += 1;
        }
        let words = FAN.pow(depth);
        let mut bits = vec![0u64; words];
        let full = n / 64;
        bits[..full].fill(u64::MAX);
        if n % 64 != 0 {
            bits[full] = (1u64 << (n % 64)) - 1;
        }
        // Bottom-up: `counts` holds the live slots under each child of the level being built.
        let mut nodes = vec![[0i32; FAN]; (words - 1) / (FAN - 1)];
        let mut counts: Vec<i32> = bits.iter().map(|w| w.count_ones() as i32).collect();
        for level in (0..depth).rev() {
            let first = (FAN.pow(level) - 1) / (FAN - 1);
            let mut totals = Vec::with_capacity(counts.len() / FAN);
            for (p, children) in counts.chunks_exact(FAN).enumerate() {
                let node = &mut nodes[first + p];
                let mut before = 0;
                for (c, &count) in children.iter().enumerate() {
                    node[c] = before;
                    before += count;
                }
                totals.push(before);
            }
            counts = totals;
        }
        LiveSlots {
            bits,
            nodes,
            depth,
            live: n,
            room,
        }
    }

    /// How many slots are live.
    #[inline]
    pub(super) fn live(&self) -> usize {
        self.live
    }

    /// How many slots there is room for.
    pub(super) fn cap(&self) -> usize {
        self.room
    }

    /// Whether slot `j` is live.
    #[inline]
    pub(super) fn is_live(&self, j: usize) -> bool {
        self.bits[j / 64] >> (j % 64) & 1 != 0
    }

    /// The live slots in order (`O(words + live)`).
    pub(super) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.bits.iter().enumerate().flat_map(|(w, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    w * 64 + bit
                })
            })
        })
    }

    /// Marks slot `j` live (it must be below [`cap`](Self::cap) and not live).
    pub(super) fn insert(&mut self, j: usize) {
        debug_assert!(!self.is_live(j), "slot {j} is already live");
        let w = j / 64;
        self.bits[w] |= 1 << (j % 64);
        self.live += 1;
        // The path from the root to word `w`: its base-8 digits, most significant first.
        let mut first = 0;
        for level in 0..self.depth {
            let shift = 3 * (self.depth - 1 - level);
            let p = w >> (shift + 3);
            let c = (w >> shift) % FAN;
            let node = &mut self.nodes[first + p];
            add_past(node, c);
            first = first * FAN + 1;
        }
    }

    /// The slot of the `i`-th (0-based) live slot; `i` must be below [`live`](Self::live).
    pub(super) fn find(&self, i: usize) -> usize {
        debug_assert!(i < self.live);
        let mut rem = i as i32;
        let mut p = 0;
        let mut first = 0;
        for _ in 0..self.depth {
            let node = &self.nodes[first + p];
            let c = child(node, rem);
            rem -= node[c];
            p = p * FAN + c;
            first = first * FAN + 1;
        }
        p * 64 + select_in_word(self.bits[p], rem as u32) as usize
    }

    /// Finds the `i`-th (0-based) live slot, marks it dead and returns it; `i` must be below
    /// [`live`](Self::live). One walk: each node on the path loses one from the entries past
    /// the child taken.
    pub(super) fn remove_nth(&mut self, i: usize) -> usize {
        debug_assert!(i < self.live);
        let mut rem = i as i32;
        let mut p = 0;
        let mut first = 0;
        for _ in 0..self.depth {
            let node = &mut self.nodes[first + p];
            let c = child(node, rem);
            rem -= node[c];
            sub_past(node, c);
            p = p * FAN + c;
            first = first * FAN + 1;
        }
        let word = &mut self.bits[p];
        let bit = select_in_word(*word, rem as u32);
        *word &= !(1u64 << bit);
        self.live -= 1;
        p * 64 + bit as usize
    }
}

/// The child holding rank `rem` of `node`: the last entry at or below `rem` (entry 0 is 0).
/// Counted, not searched: `(rem − entry) >> 31` is −1 exactly for the entries above `rem`
/// (entries and ranks are below 2³¹), lane-wise arithmetic the compiler vectorises.
#[inline]
fn child(node: &Node, rem: i32) -> usize {
    let mut above = 0i32;
    for &before in node {
        above += rem.wrapping_sub(before) >> 31;
    }
    (FAN as i32 - 1 + above) as usize % FAN
}

/// `PAST[c][k]`: 1 for the entries `k > c` of a node, which count child `c`'s slots.
static PAST: [Node; FAN] = {
    let mut table = [[0; FAN]; FAN];
    let mut c = 0;
    while c < FAN {
        let mut k = c + 1;
        while k < FAN {
            table[c][k] = 1;
            k += 1;
        }
        c += 1;
    }
    table
};

/// One more live slot in child `c` of `node`.
#[inline]
fn add_past(node: &mut Node, c: usize) {
    let past = &PAST[c % FAN];
    for k in 0..FAN {
        node[k] += past[k];
    }
}

/// One live slot fewer in child `c` of `node`.
#[inline]
fn sub_past(node: &mut Node, c: usize) {
    let past = &PAST[c % FAN];
    for k in 0..FAN {
        node[k] -= past[k];
    }
}

/// The position of the `k`-th (0-based) set bit of `x`; `k` must be below `x.count_ones()`.
///
/// Broadword: the bytes' cumulative popcounts, then a byte-wise comparison with `k` locate the
/// byte, and a table the bit within it. Branch-free, about 25 instructions, and independent of
/// the CPU's `popcnt`/`pdep` (the crate builds for the baseline target).
#[inline]
pub(super) fn select_in_word(x: u64, k: u32) -> u32 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    debug_assert!(k < x.count_ones());
    // Byte j of `s`: the set bits of byte j of `x`.
    let mut s = x - ((x >> 1) & 0x5555_5555_5555_5555);
    s = (s & 0x3333_3333_3333_3333) + ((s >> 2) & 0x3333_3333_3333_3333);
    s = (s + (s >> 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    // Byte j of `sums`: the set bits of bytes 0..=j (at most 64: no carries between bytes).
    let sums = s.wrapping_mul(ONES);
    // Byte j's high bit: `sums[j] <= k`; those bytes are a prefix, and the target byte is the
    // first one past it. (`k | 0x80 − sums[j]` stays within 64..=191: no borrows.)
    let at_or_below = (((u64::from(k) * ONES) | HIGH) - sums) & HIGH;
    let byte = ((at_or_below >> 7).wrapping_mul(ONES) >> 56) as u32;
    let shift = 8 * byte;
    // The set bits before the target byte: byte `byte − 1` of `sums` (0 for byte 0).
    let before = ((sums << 8) >> shift) as u32 & 0xFF;
    let in_byte = ((x >> shift) & 0xFF) as usize;
    shift + u32::from(SELECT_IN_BYTE[in_byte][(k - before) as usize])
}

/// `SELECT_IN_BYTE[b][r]`: the position of the `r`-th set bit of byte `b` (0 where there is none).
static SELECT_IN_BYTE: [[u8; 8]; 256] = {
    let mut table = [[0u8; 8]; 256];
    let mut b = 0;
    while b < 256 {
        let mut r = 0;
        let mut bit = 0;
        while bit < 8 {
            if b >> bit & 1 != 0 {
                table[b][r] = bit as u8;
                r += 1;
            }
            bit += 1;
        }
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_select(x: u64, k: u32) -> u32 {
        (0..64).filter(|b| x >> b & 1 != 0).nth(k as usize).unwrap()
    }

    #[test]
    fn select_in_word_matches_a_scan() {
        let mut words = vec![
            1,
            u64::MAX,
            1 << 63,
            0x8000_0000_0000_0001,
            0x00FF_0000_0000_FF00,
            0x0101_0101_0101_0101,
            0xF0F0_F0F0_F0F0_F0F0,
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            words.push(x);
            // Sparse and dense words too.
            words.push(x & x.rotate_left(17) & x.rotate_left(31));
            words.push(x | x.rotate_left(9) | x.rotate_left(40));
        }
        for w in words {
            for k in 0..w.count_ones() {
                assert_eq!(
                    select_in_word(w, k),
                    naive_select(w, k),
                    "word {w:#x}, k {k}"
                );
            }
        }
    }

    /// Insertions, finds and removals against a sorted vector of live slots: across word and
    /// node boundaries, filled to capacity, emptied, with one to four levels of nodes.
    #[test]
    fn matches_a_sorted_vector() {
        for (prefix, cap) in [
            (0, 64),
            (1, 64),
            (64, 128),
            (65, 256),
            (511, 512),
            (1000, 4096),
            (4096, 4096),
            (4097, 8192),
            (40_000, 40_000),
        ] {
            let mut s = LiveSlots::with_live_prefix(prefix, cap);
            let mut model: Vec<usize> = (0..prefix).collect();
            let mut next = prefix;
            let mut x: u64 = 7 + prefix as u64;
            let mut rand = |n: usize| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % n as u64) as usize
            };
            let rounds = (3 * s.cap()).min(30_000);
            for round in 0..rounds {
                // Mostly insertions in the first half, mostly removals in the second.
                let insert = (rand(3) == 0) == (round >= rounds / 2);
                if next < s.cap() && (model.is_empty() || insert) {
                    s.insert(next);
                    model.push(next);
                    next += 1;
                } else if !model.is_empty() {
                    let i = rand(model.len());
                    assert_eq!(s.find(i), model[i]);
                    assert_eq!(s.remove_nth(i), model.remove(i));
                }
                assert_eq!(s.live(), model.len());
            }
            for j in 0..s.bits.len() * 64 {
                assert_eq!(s.is_live(j), model.binary_search(&j).is_ok());
            }
            assert_eq!(s.iter().collect::<Vec<_>>(), model);
        }
    }
}
