//! Schedule strings: a decision log as compact, versioned, checksummed, shell-safe text.
//!
//! Format `ds1.<payload>`: `ds1` names the version; the payload is base64url (no padding) of the
//! encoded decisions followed by a 4-byte FNV-1a checksum of them. Each decision is a LEB128
//! varint: an even number `2·id` is a choice of task `id`; the number `1` is a random value,
//! whose varint follows. The alphabet (`A–Z a–z 0–9 - _` and the dot) survives CI logs, shells
//! and URLs unquoted. A schedule is a *prefix*: replay continues in FIFO order past its end, so
//! trailing FIFO choices are left out.

use std::fmt;

use super::Decision;
use super::TaskId;

const PREFIX: &str = "ds1.";
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A schedule string that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleParseError {
    message: String,
}

impl ScheduleParseError {
    fn new(message: impl Into<String>) -> Self {
        ScheduleParseError {
            message: message.into(),
        }
    }
}

impl fmt::Display for ScheduleParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (copy the whole schedule string, starting with `{PREFIX}`, from the failure report)",
            self.message
        )
    }
}

impl std::error::Error for ScheduleParseError {}

/// A decision log in the form that replays it: `ds1.` followed by base64url of the varint-encoded
/// decisions and an FNV-1a checksum (see [`crate::explore`]).
///
/// ```
/// use detsim::explore::Schedule;
/// use detsim::scheduler::Random;
/// let report = detsim::Builder::new().seed(3).scheduler(Random::new()).run_report(async {
///     let hs: Vec<_> = (0..3).map(|_| detsim::spawn(detsim::yield_now())).collect();
///     for h in hs { h.await.unwrap(); }
/// });
/// let s = Schedule::from_decisions(&report.decisions);
/// let text = s.to_string();
/// assert!(text.starts_with("ds1."));
/// assert_eq!(text.parse::<Schedule>().unwrap(), s);
/// assert!("ds1.AAAA".parse::<Schedule>().is_err()); // checksum
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Schedule {
    decisions: Vec<Decision>,
}

impl Schedule {
    /// The schedule that replays `decisions`, with trailing FIFO choices (index 0) and trailing
    /// zero random values left out (replay supplies them).
    pub fn from_decisions(decisions: &[Decision]) -> Schedule {
        let mut end = decisions.len();
        while end > 0 {
            match decisions[end - 1] {
                Decision::Task { index: 0, .. } | Decision::Random(0) => end -= 1,
                _ => break,
            }
        }
        let decisions = decisions[..end]
            .iter()
            .map(|d| match *d {
                Decision::Task { task, .. } => Decision::Task {
                    task,
                    index: 0,
                    runnable: 0,
                },
                r => r,
            })
            .collect();
        Schedule { decisions }
    }

    /// The decisions, as a log that [`Replay`](crate::scheduler::Replay) accepts. Task choices
    /// carry only the task id (index and runnable count are 0: replay finds the task by id).
    pub fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// How many decisions it holds.
    pub fn len(&self) -> usize {
        self.decisions.len()
    }

    /// Whether it is the empty schedule (pure FIFO).
    pub fn is_empty(&self) -> bool {
        self.decisions.is_empty()
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for d in &self.decisions {
            match *d {
                Decision::Task { task, .. } => put_varint(&mut out, 2 * task.as_u32() as u64),
                Decision::Random(v) => {
                    put_varint(&mut out, 1);
                    put_varint(&mut out, v);
                }
            }
        }
        let sum = fnv1a(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PREFIX)?;
        f.write_str(&base64url(&self.encode()))
    }
}

impl std::str::FromStr for Schedule {
    type Err = ScheduleParseError;

    fn from_str(s: &str) -> Result<Schedule, ScheduleParseError> {
        let s = s.trim();
        let Some(body) = s.strip_prefix(PREFIX) else {
            let head: String = s.chars().take(8).collect();
            return Err(ScheduleParseError::new(match s.split_once('.') {
                Some((v, _)) if v.starts_with("ds") => format!(
                    "schedule string version `{v}` is not supported by this detsim (it reads \
                     `ds1`); replay it with the detsim version that wrote it"
                ),
                _ => format!(
                    "`{head}…` is not a detsim schedule string: it must start with `{PREFIX}`"
                ),
            }));
        };
        let bytes = unbase64url(body)?;
        if bytes.len() < 4 {
            return Err(ScheduleParseError::new(
                "the schedule string is truncated (shorter than its checksum)",
            ));
        }
        let (data, sum) = bytes.split_at(bytes.len() - 4);
        if fnv1a(data).to_le_bytes() != sum {
            return Err(ScheduleParseError::new(
                "the schedule string's checksum does not match: it was corrupted or truncated",
            ));
        }
        let mut decisions = Vec::new();
        let mut pos = 0;
        while pos < data.len() {
            let x = get_varint(data, &mut pos)?;
            if x == 1 {
                decisions.push(Decision::Random(get_varint(data, &mut pos)?));
            } else if x % 2 == 0 {
                let id = u32::try_from(x / 2).map_err(|_| {
                    ScheduleParseError::new("a task id in the schedule is too large")
                })?;
                decisions.push(Decision::Task {
                    task: TaskId::from_u32(id),
                    index: 0,
                    runnable: 0,
                });
            } else {
                return Err(ScheduleParseError::new(format!(
                    "unknown decision tag {x} at byte {pos}"
                )));
            }
        }
        Ok(Schedule { decisions })
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn get_varint(data: &[u8], pos: &mut usize) -> Result<u64, ScheduleParseError> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let Some(&b) = data.get(*pos) else {
            return Err(ScheduleParseError::new(
                "the schedule string ends inside a decision",
            ));
        };
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(ScheduleParseError::new(
        "a decision in the schedule is too long",
    ))
}

fn fnv1a(data: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in data {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn base64url(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk.len();
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=n {
            out.push(ALPHABET[((v >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn unbase64url(s: &str) -> Result<Vec<u8>, ScheduleParseError> {
    let mut vals = Vec::with_capacity(s.len());
    for (i, c) in s.bytes().enumerate() {
        let v = ALPHABET.iter().position(|a| *a == c).ok_or_else(|| {
            ScheduleParseError::new(format!(
                "invalid character {:?} at position {} of the schedule string",
                c as char,
                i + PREFIX.len()
            ))
        })?;
        vals.push(v as u32);
    }
    if vals.len() % 4 == 1 {
        return Err(ScheduleParseError::new("the schedule string is truncated"));
    }
    let mut out = Vec::with_capacity(vals.len() * 3 / 4);
    for chunk in vals.chunks(4) {
        let mut v = 0u32;
        for (i, x) in chunk.iter().enumerate() {
            v |= x << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((v >> (16 - 8 * i)) as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PINNED: &str = "ds1.BgGsAgIYYoMZ";

    fn task(id: u32, index: u32) -> Decision {
        Decision::Task {
            task: TaskId::from_u32(id),
            index,
            runnable: 9,
        }
    }

    fn ids(s: &Schedule) -> Vec<String> {
        s.decisions()
            .iter()
            .map(|d| match d {
                Decision::Task { task, .. } => format!("t{task}"),
                Decision::Random(v) => format!("r{v}"),
            })
            .collect()
    }

    #[test]
    fn round_trips() {
        let log = vec![
            task(3, 1),
            Decision::Random(u64::MAX),
            task(300, 2),
            Decision::Random(7),
            task(1, 1),
        ];
        let s = Schedule::from_decisions(&log);
        let back: Schedule = s.to_string().parse().unwrap();
        assert_eq!(
            ids(&back),
            ["t3", &format!("r{}", u64::MAX), "t300", "r7", "t1"]
        );
        for n in 0..5 {
            let s = Schedule::from_decisions(&log[..n]);
            assert_eq!(s.to_string().parse::<Schedule>().unwrap().len(), s.len());
        }
    }

    #[test]
    fn trailing_fifo_choices_are_dropped() {
        let s = Schedule::from_decisions(&[task(2, 1), task(1, 0), Decision::Random(0)]);
        assert_eq!(s.len(), 1);
        assert!(Schedule::from_decisions(&[task(1, 0)]).is_empty());
    }

    #[test]
    fn format_is_pinned() {
        // Recorded schedule strings must keep their meaning: never change these casually.
        assert_eq!(Schedule::default().to_string(), "ds1.xZ0cgQ");
        let s = Schedule::from_decisions(&[task(3, 1), Decision::Random(300), task(1, 2)]);
        assert_eq!(s.to_string(), PINNED);
    }

    #[test]
    fn corruption_is_detected() {
        let s = Schedule::from_decisions(&[task(3, 1), task(4, 2), task(5, 1)]).to_string();
        // Every single-character substitution and every truncation is caught.
        for i in PREFIX.len()..s.len() {
            for c in ['A', 'z', '0', '_'] {
                let mut t: Vec<char> = s.chars().collect();
                if t[i] == c {
                    continue;
                }
                t[i] = c;
                let t: String = t.into_iter().collect();
                assert!(t.parse::<Schedule>().is_err(), "{t} parsed");
            }
        }
        for n in 0..s.len() {
            assert!(s[..n].parse::<Schedule>().is_err(), "{} parsed", &s[..n]);
        }
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let e = "xyz".parse::<Schedule>().unwrap_err().to_string();
        assert!(e.contains("must start with `ds1.`"), "{e}");
        let e = "ds2.AAAA".parse::<Schedule>().unwrap_err().to_string();
        assert!(e.contains("version `ds2`"), "{e}");
        let e = "ds1.AA*A".parse::<Schedule>().unwrap_err().to_string();
        assert!(e.contains("invalid character '*' at position 6"), "{e}");
    }
}
