//! Slices of a list: which page a caller asks for, and what it gets back.

/// Which slice of a list to read: 1-based `page` of `per_page` items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// The page number, from 1 (0 reads as 1).
    pub page: u32,
    /// Items per page.
    pub per_page: u32,
}

impl PageRequest {
    /// How many rows precede the page (saturating: a page past `i64::MAX`
    /// rows is simply past the end).
    pub(crate) fn offset(self) -> i64 {
        i64::from(self.page.saturating_sub(1)).saturating_mul(i64::from(self.per_page))
    }

    /// The `LIMIT` of the page's query.
    pub(crate) fn limit(self) -> i64 {
        i64::from(self.per_page)
    }

    /// How many items to make room for before reading the page: `per_page`,
    /// but never more than the API lets a caller ask for, whatever a caller
    /// of the store passes.
    pub(crate) fn capacity(self) -> usize {
        self.per_page.min(contract::api::MAX_PER_PAGE) as usize
    }
}

/// One page of a list and the size of the whole list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The page's items, in the list's order.
    pub items: Vec<T>,
    /// How many items the whole list holds.
    pub total: u64,
}

/// A `COUNT(*)` as a list's total: SQLite counts in `i64`, never negative.
pub(crate) fn total(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_one_based() {
        assert_eq!(PageRequest { page: 1, per_page: 20 }.offset(), 0);
        assert_eq!(PageRequest { page: 3, per_page: 20 }.offset(), 40);
        assert_eq!(PageRequest { page: 0, per_page: 20 }.offset(), 0);
        assert_eq!(PageRequest { page: u32::MAX, per_page: 100 }.offset(), i64::from(u32::MAX - 1) * 100);
        assert_eq!(PageRequest { page: u32::MAX, per_page: u32::MAX }.offset(), i64::MAX);
    }
}
