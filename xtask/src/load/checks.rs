//! The pure rules of `cargo xtask load`: latency percentiles, and the three checks a run must pass — no error
//! answers, exactly one new row per `201`, and an api whose memory stays flat. Kept apart from the measuring so
//! that each rule is tested on its own numbers.

use std::collections::BTreeMap;

/// One check's verdict, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Check {
    /// What was checked, e.g. "rows: one new row per 201".
    pub(crate) name: String,
    pub(crate) passed: bool,
    /// The numbers behind the verdict, in a sentence.
    pub(crate) detail: String,
}

/// The `p`-th percentile (0 to 100) of `sorted` (ascending) by the nearest-rank rule: the smallest value that
/// at least `p` % of the values do not exceed, always one of the values (no interpolation, so a p99 is a latency
/// some request really had). `None` for no values.
pub(crate) fn percentile(sorted: &[u32], p: f64) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let p = p.clamp(0.0, 100.0);
    // Rank counted from 1; the product is at most `len`, so the cast loses nothing.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// How much the api's resident memory may grow from the end of the warm-up to the end of the run: `ratio` of
/// the warm-up figure plus a fixed `slack_kib`.
///
/// The warm-up has opened every connection and touched every code path, so what may still grow is what grows
/// with the data rather than with the requests: SQLite's page caches (at most about 2 MiB per connection, its
/// default `cache_size = -2000`), which fill as the projects table grows past them — every write adds a row, and
/// the list's count reads the whole table — on the read pool's connections (up to 4 kept idle) and the writer
/// pool's (which touch mostly the table's tail), and what the allocator keeps of freed pages. That is the fixed
/// 16 MiB; the proportional 20 % covers buffers that scale with what the process already holds. A 30 s run on
/// 2 CPUs grew the api by about 5 MiB, a third of the bound. A leak of `(limit - warm) / requests` bytes per
/// request, or more, fails the check; the report prints that figure, so each run states its sensitivity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RssBound {
    pub(crate) ratio: f64,
    pub(crate) slack_kib: u64,
}

/// The bound `cargo xtask load` applies: 20 % + 16 MiB (see [`RssBound`] for why).
pub(crate) const RSS_BOUND: RssBound = RssBound { ratio: 0.20, slack_kib: 16 * 1024 };

impl RssBound {
    /// The largest end-of-run RSS that passes, for an RSS of `warm_kib` after the warm-up.
    pub(crate) fn limit_kib(&self, warm_kib: u64) -> u64 {
        warm_kib + (warm_kib as f64 * self.ratio).round() as u64 + self.slack_kib
    }

    /// Whether the api's memory stayed flat: the RSS at the end of the run at most [`RssBound::limit_kib`] of the
    /// RSS after the warm-up.
    pub(crate) fn check(&self, warm_kib: u64, end_kib: u64) -> Check {
        let limit = self.limit_kib(warm_kib);
        let passed = end_kib <= limit;
        let growth = end_kib as i64 - warm_kib as i64;
        Check {
            name: "memory: the api's RSS stays flat".to_string(),
            passed,
            detail: format!(
                "RSS {} after the warm-up, {} at the end ({}{}), limit {} ({:.0} % + {})",
                mib(warm_kib),
                mib(end_kib),
                if growth >= 0 { "+" } else { "-" },
                mib(growth.unsigned_abs()),
                mib(limit),
                self.ratio * 100.0,
                mib(self.slack_kib)
            ),
        }
    }
}

/// `kib` KiB in MiB with one decimal, e.g. `18.3 MiB`.
pub(crate) fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// Whether the writes all landed exactly once: the rows the list counts grew by exactly the number of `POST`s
/// answered `201`. Fewer rows means a write the api confirmed was lost; more means a row was written twice or
/// written without a `201` reaching the client (which the error check then shows too).
pub(crate) fn rows_check(before: u64, after: u64, created: u64) -> Check {
    let name = "rows: exactly one new project per 201".to_string();
    let numbers = format!("{before} rows before, {after} after, {created} POSTs answered 201");
    let Some(grown) = after.checked_sub(before) else {
        return Check { name, passed: false, detail: format!("{numbers}: {} rows disappeared", before - after) };
    };
    let detail = match grown.cmp(&created) {
        std::cmp::Ordering::Equal => format!("{numbers}: +{grown} rows, as many as the 201s"),
        std::cmp::Ordering::Less => format!("{numbers}: {} confirmed writes are missing (lost)", created - grown),
        std::cmp::Ordering::Greater => {
            format!("{numbers}: {} rows more than 201s (duplicated, or written without a 201)", grown - created)
        }
    };
    Check { name, passed: grown == created, detail }
}

/// The ids that more than one `201` answered with, ascending: the api must hand out each id once.
pub(crate) fn repeated_ids(ids: &[i64]) -> Vec<i64> {
    let mut seen = BTreeMap::<i64, u32>::new();
    for id in ids {
        *seen.entry(*id).or_default() += 1;
    }
    seen.into_iter().filter(|(_, times)| *times > 1).map(|(id, _)| id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let hundred: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 50.0), Some(50));
        assert_eq!(percentile(&hundred, 99.0), Some(99));
        assert_eq!(percentile(&hundred, 100.0), Some(100));
        assert_eq!(percentile(&hundred, 0.0), Some(1));
        // Four values: p50 is the 2nd (rank 2.0), p99 the 4th (rank 3.96 rounds up), p26 the 2nd (1.04 up).
        let four = [10, 20, 30, 40];
        assert_eq!(percentile(&four, 50.0), Some(20));
        assert_eq!(percentile(&four, 99.0), Some(40));
        assert_eq!(percentile(&four, 26.0), Some(20));
        assert_eq!(percentile(&four, 25.0), Some(10));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn memory_may_grow_by_the_bound_and_not_a_kibibyte_more() {
        let bound = RssBound { ratio: 0.20, slack_kib: 16 * 1024 };
        let warm = 100 * 1024;
        assert_eq!(bound.limit_kib(warm), 136 * 1024);
        assert!(bound.check(warm, 136 * 1024).passed);
        assert!(!bound.check(warm, 136 * 1024 + 1).passed);
        // Shrinking is flat too.
        let shrunk = bound.check(warm, 90 * 1024);
        assert!(shrunk.passed);
        assert!(shrunk.detail.contains("(-10.0 MiB)"), "{}", shrunk.detail);
        let grown = bound.check(warm, 140 * 1024);
        assert!(grown.detail.contains("(+40.0 MiB), limit 136.0 MiB (20 % + 16.0 MiB)"), "{}", grown.detail);
        // The ratio applies to the warm-up figure, not to the slack.
        assert_eq!(RssBound { ratio: 0.5, slack_kib: 0 }.limit_kib(10), 15);
    }

    #[test]
    fn rows_must_grow_by_exactly_the_201s() {
        assert!(rows_check(10, 110, 100).passed);
        assert!(rows_check(0, 0, 0).passed);
        let lost = rows_check(10, 109, 100);
        assert!(!lost.passed);
        assert!(lost.detail.contains("1 confirmed writes are missing (lost)"), "{}", lost.detail);
        let extra = rows_check(10, 112, 100);
        assert!(!extra.passed);
        assert!(extra.detail.contains("2 rows more than 201s"), "{}", extra.detail);
        let vanished = rows_check(10, 5, 0);
        assert!(!vanished.passed);
        assert!(vanished.detail.contains("5 rows disappeared"), "{}", vanished.detail);
    }

    #[test]
    fn an_id_answered_twice_is_found() {
        assert_eq!(repeated_ids(&[3, 1, 2]), Vec::<i64>::new());
        assert_eq!(repeated_ids(&[5, 1, 5, 2, 1, 5]), vec![1, 5]);
    }
}
