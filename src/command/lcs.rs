//! LCS: the longest common subsequence of two values, by Redis's dynamic programming and
//! its walk back through the table, so the subsequence and the ranges are the very ones
//! Redis answers.
//!
//! The table holds one 32-bit length per pair of prefixes, (len1 + 1) × (len2 + 1) of
//! them: memory one command asks for and gives back. Redis refuses a table larger than
//! proto-max-bulk-len, and so does this server with its value limit in that role (1 MiB
//! by default: two values of 511 bytes). Whatever the value limit, a table is also
//! refused above [`MAX_TABLE_BYTES`], which bounds the time one LCS holds its thread too.

use crate::protocol::{LcsAnswer, Match, Refusal, Reply};
use crate::store::Store;
use crate::sync::Guard;

/// The largest table any LCS may build: 64 MiB, about 16 million cells (two values of
/// 4 KiB), some tens of milliseconds of work.
pub const MAX_TABLE_BYTES: usize = 64 << 20;

/// LCS of the values under two keys (a missing key is an empty value).
pub fn lcs<'a>(
    store: &Store,
    (first, second): (&[u8], &[u8]),
    answer: LcsAnswer,
    max_table_bytes: usize,
    guard: &Guard<'_>,
) -> Reply<'a> {
    let a = store.get(first, guard).unwrap_or_default();
    let b = store.get(second, guard).unwrap_or_default();
    let table = match Table::build(a, b, max_table_bytes) {
        Ok(table) => table,
        Err(refusal) => return Reply::Refused(refusal),
    };
    let len = table.length(a.len(), b.len());
    match answer {
        LcsAnswer::Len => Reply::Integer(i64::from(len)),
        LcsAnswer::Subsequence => Reply::Bytes(table.walk(a, b, 0).0),
        LcsAnswer::Ranges { min_len, with_len } => Reply::Matches {
            matches: table.walk(a, b, min_len).1,
            len: u64::from(len),
            with_len,
        },
    }
}

/// The lengths of the longest common subsequences of every pair of prefixes.
struct Table {
    /// Row `i` (the first `i` bytes of the first value), column `j` (of the second) at
    /// `i * width + j`.
    cells: Vec<u32>,
    /// Cells per row: the second value's length plus one.
    width: usize,
}

impl Table {
    /// Fills the table for `a` and `b`.
    ///
    /// # Errors
    /// [`Refusal::LcsTableTooLarge`] if it would take more than `max_bytes`, as Redis
    /// refuses it; [`Refusal::LcsNoMemory`] if it would take more than
    /// [`MAX_TABLE_BYTES`], or the memory cannot be had.
    fn build(a: &[u8], b: &[u8], max_bytes: usize) -> Result<Table, Refusal> {
        let width = b.len() + 1;
        let cells = (a.len() + 1).saturating_mul(width);
        let bytes = cells.saturating_mul(size_of::<u32>());
        if bytes > max_bytes {
            return Err(Refusal::LcsTableTooLarge);
        }
        if bytes > MAX_TABLE_BYTES {
            return Err(Refusal::LcsNoMemory);
        }
        let mut table = Vec::new();
        table
            .try_reserve_exact(cells)
            .map_err(|_| Refusal::LcsNoMemory)?;
        table.resize(width, 0);
        for &byte in a {
            // The row above is the last `width` cells; each new cell looks at the cell
            // above, the one above-left, and the one to its left.
            let above = table.len() - width;
            let mut left = 0;
            table.push(0);
            for (j, &other) in b.iter().enumerate() {
                let cell = |k: usize| table.get(above + k).copied().unwrap_or(0);
                left = if byte == other {
                    cell(j) + 1
                } else {
                    cell(j + 1).max(left)
                };
                table.push(left);
            }
        }
        Ok(Table {
            cells: table,
            width,
        })
    }

    /// The length for the first `i` bytes of the first value and the first `j` of the
    /// second.
    fn length(&self, i: usize, j: usize) -> u32 {
        let index = i.checked_mul(self.width).and_then(|row| row.checked_add(j));
        index
            .and_then(|index| self.cells.get(index))
            .copied()
            .unwrap_or(0)
    }

    /// Walks back from the full lengths as Redis does: the subsequence, and the ranges
    /// of `min_len` bytes or more it is made of, the last first.
    fn walk(&self, a: &[u8], b: &[u8], min_len: u64) -> (Vec<u8>, Vec<Match>) {
        let mut subsequence = Vec::with_capacity(self.length(a.len(), b.len()) as usize);
        let mut matches = Vec::new();
        // The range being extended backwards: (start in a, end in a, start in b, end in b).
        let mut range: Option<(usize, usize, usize, usize)> = None;
        let (mut i, mut j) = (a.len(), b.len());
        while i > 0 && j > 0 {
            let mut emit = false;
            let (x, y) = (a.get(i - 1), b.get(j - 1));
            if x == y {
                subsequence.extend(x);
                range = match range {
                    None => Some((i - 1, i - 1, j - 1, j - 1)),
                    // Contiguous with the range: extend it by one.
                    Some((a_start, a_end, b_start, b_end)) if a_start == i && b_start == j => {
                        Some((i - 1, a_end, j - 1, b_end))
                    }
                    Some(other) => {
                        emit = true;
                        Some(other)
                    }
                };
                // The range reached the start of either value: nothing can extend it.
                if range.is_some_and(|(a_start, _, b_start, _)| a_start == 0 || b_start == 0) {
                    emit = true;
                }
                i -= 1;
                j -= 1;
            } else {
                if self.length(i - 1, j) > self.length(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                emit = range.is_some();
            }
            if emit {
                if let Some((a_start, a_end, b_start, b_end)) = range.take() {
                    let len = (a_end - a_start + 1) as u64;
                    if len >= min_len {
                        matches.push(Match {
                            a: (a_start as u64, a_end as u64),
                            b: (b_start as u64, b_end as u64),
                            len,
                        });
                    }
                }
            }
        }
        subsequence.reverse();
        (subsequence, matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(a: &[u8], b: &[u8]) -> Table {
        Table::build(a, b, MAX_TABLE_BYTES).unwrap()
    }

    /// A range as (in the first value, in the second, length).
    type Range = ((u64, u64), (u64, u64), u64);

    fn ranges(found: &[Match]) -> Vec<Range> {
        found.iter().map(|m| (m.a, m.b, m.len)).collect()
    }

    #[test]
    fn finds_what_redis_finds() {
        let (a, b) = (&b"ohmytext"[..], &b"mynewtext"[..]);
        let t = table(a, b);
        assert_eq!(t.length(a.len(), b.len()), 6);
        let (subsequence, found) = t.walk(a, b, 0);
        assert_eq!(subsequence, b"mytext");
        assert_eq!(ranges(&found), [((4, 7), (5, 8), 4), ((2, 3), (0, 1), 2)]);
        assert_eq!(ranges(&t.walk(a, b, 4).1), [((4, 7), (5, 8), 4)]);
        assert_eq!(ranges(&t.walk(a, b, 5).1), []);
    }

    #[test]
    fn empty_and_unrelated_values_share_nothing() {
        for (a, b) in [
            (&b""[..], &b""[..]),
            (b"abc", b""),
            (b"", b"abc"),
            (b"abc", b"xyz"),
        ] {
            let t = table(a, b);
            assert_eq!(t.length(a.len(), b.len()), 0);
            assert_eq!(t.walk(a, b, 0), (Vec::new(), Vec::new()));
        }
        let t = table(b"same", b"same");
        assert_eq!(t.walk(b"same", b"same", 0).0, b"same");
        assert_eq!(
            ranges(&t.walk(b"same", b"same", 0).1),
            [((0, 3), (0, 3), 4)]
        );
    }

    #[test]
    fn the_subsequence_is_common_and_as_long_as_the_table_says() {
        let a: Vec<u8> = (0..60u8)
            .map(|i| b"acgt"[(i as usize * 7 + 3) % 4])
            .collect();
        let b: Vec<u8> = (0..45u8)
            .map(|i| b"acgt"[(i as usize * 5 + 1) % 4])
            .collect();
        let t = table(&a, &b);
        let (subsequence, _) = t.walk(&a, &b, 0);
        assert_eq!(subsequence.len(), t.length(a.len(), b.len()) as usize);
        let is_subsequence_of = |whole: &[u8]| {
            let mut rest = whole.iter();
            subsequence.iter().all(|byte| rest.any(|b| b == byte))
        };
        assert!(is_subsequence_of(&a) && is_subsequence_of(&b));
    }

    #[test]
    fn a_table_past_the_limit_is_refused_before_it_is_allocated() {
        // 512 × 512 cells of 4 bytes is exactly 1 MiB, Redis's smallest limit.
        let (a, b) = (vec![b'a'; 511], vec![b'a'; 511]);
        assert!(Table::build(&a, &b, 1 << 20).is_ok());
        let c = vec![b'a'; 512];
        assert!(matches!(
            Table::build(&c, &b, 1 << 20),
            Err(Refusal::LcsTableTooLarge)
        ));
        // Past the server's own bound, whatever the value limit.
        let long = vec![b'a'; 5000];
        assert!(matches!(
            Table::build(&long, &long, usize::MAX),
            Err(Refusal::LcsNoMemory)
        ));
    }
}
