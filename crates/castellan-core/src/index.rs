//! Interned permission names and the compact sets built on them.
//!
//! A [`PermIndex`] gives every distinct `app_label.codename` string of the `auth_permission` table a dense
//! [`PermId`], in sorted order. Two rows that yield the same string (one codename on two content types
//! of one app) share one id, exactly as Django's string sets merge them. Because ids follow the sorted
//! strings, all the permissions of one app form a contiguous id range, which makes `has_module_perms` a
//! binary search.

use std::collections::HashMap;
use std::sync::Arc;

use foldhash::fast::RandomState;

/// A dense, interned permission id, valid for the [`PermIndex`] that issued it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PermId(pub(crate) u32);

impl PermId {
    /// The id as an index into [`PermIndex::names`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One `auth_permission` row as the index needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionRow {
    /// `auth_permission.id`.
    pub id: i64,
    /// `django_content_type.app_label`.
    pub app_label: String,
    /// `auth_permission.codename`.
    pub codename: String,
}

/// The interned names of every permission in the database.
#[derive(Debug, Default)]
pub struct PermIndex {
    names: Vec<Arc<str>>,
    by_name: HashMap<Arc<str>, PermId, RandomState>,
    by_row: HashMap<i64, PermId, RandomState>,
    /// app label (text before the first dot) → the id range `[start, end)` of its names.
    apps: HashMap<Box<str>, (u32, u32), RandomState>,
    /// The catalog generation the rows were read at, when the backend counts them.
    generation: Option<i64>,
}

impl PermIndex {
    /// Builds the index from the permission rows.
    pub fn new(rows: impl IntoIterator<Item = PermissionRow>) -> Self {
        let rows: Vec<(i64, String)> = rows
            .into_iter()
            .map(|r| (r.id, format!("{}.{}", r.app_label, r.codename)))
            .collect();
        let mut names: Vec<&str> = rows.iter().map(|(_, n)| n.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let names: Vec<Arc<str>> = names.into_iter().map(Arc::from).collect();
        let mut by_name = HashMap::with_capacity_and_hasher(names.len(), RandomState::default());
        let mut apps: HashMap<Box<str>, (u32, u32), RandomState> = HashMap::default();
        for (i, name) in names.iter().enumerate() {
            // The number of distinct permissions is far below u32::MAX (each is a database row).
            let id = u32::try_from(i).unwrap_or(u32::MAX);
            by_name.insert(Arc::clone(name), PermId(id));
            let app = module_of(name);
            apps.entry(app.into())
                .and_modify(|range: &mut (u32, u32)| range.1 = id + 1)
                .or_insert((id, id + 1));
        }
        let by_row = rows
            .iter()
            .filter_map(|(row, name)| by_name.get(name.as_str()).map(|id| (*row, *id)))
            .collect();
        Self {
            names,
            by_name,
            by_row,
            apps,
            generation: None,
        }
    }

    /// This index, marked as read at catalog `generation` (a backend that counts changes to the
    /// permission catalog says when it read the rows, so that an older index is never taken for a
    /// newer one).
    pub fn at_generation(mut self, generation: i64) -> Self {
        self.generation = Some(generation);
        self
    }

    /// The catalog generation the rows were read at, if the backend counts them.
    pub fn generation(&self) -> Option<i64> {
        self.generation
    }

    /// Whether this index is newer than `other`: a higher generation when both have one, else
    /// (a backend without generations) any other set of names.
    pub fn is_newer_than(&self, other: &PermIndex) -> bool {
        match (self.generation, other.generation) {
            (Some(mine), Some(theirs)) => mine > theirs,
            _ => self.names != other.names,
        }
    }

    /// The id of a permission name, if a row carries it. Exact and case-sensitive, like Django.
    #[inline]
    pub fn resolve(&self, name: &str) -> Option<PermId> {
        self.by_name.get(name).copied()
    }

    /// The id of an `auth_permission` row.
    pub fn by_row(&self, row_id: i64) -> Option<PermId> {
        self.by_row.get(&row_id).copied()
    }

    /// The name of an id.
    pub fn name(&self, id: PermId) -> &str {
        self.names.get(id.index()).map_or("", |n| n)
    }

    /// Every distinct name, sorted.
    pub fn names(&self) -> &[Arc<str>] {
        &self.names
    }

    /// Number of distinct names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the database holds no permission at all.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The id range of an app label's permissions (empty when the app has none).
    pub fn app_range(&self, app_label: &str) -> (u32, u32) {
        self.apps.get(app_label).copied().unwrap_or((0, 0))
    }

    /// The set holding every permission (an active superuser's `get_all_permissions`).
    pub fn all(&self) -> PermissionSet {
        PermissionSet::from_ids((0..self.names.len() as u32).map(PermId))
    }

    /// Maps `auth_permission` row ids to a set (rows unknown to the index are ignored).
    pub fn set_from_rows(&self, rows: impl IntoIterator<Item = i64>) -> PermissionSet {
        PermissionSet::from_ids(rows.into_iter().filter_map(|r| self.by_row(r)))
    }

    /// The existing name closest to `name` (edit distance), if it is close enough to be a likely typo.
    pub fn closest(&self, name: &str) -> Option<&str> {
        closest(name, self.names.iter().map(|n| &**n))
    }

    /// Up to `n` existing names close to `name`, closest first (see [`closest_n`]).
    pub fn closest_n(&self, name: &str, n: usize) -> Vec<&str> {
        closest_n(name, self.names.iter().map(|n| &**n), n)
    }
}

/// The text before the first dot: what Django's `has_module_perms` compares the app label with.
pub fn module_of(name: &str) -> &str {
    name.split_once('.').map_or(name, |(app, _)| app)
}

/// The candidate closest to `name` by Levenshtein distance, when the distance is at most a third of
/// the name's length (and at least 1 edit is allowed).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    closest_n(name, candidates, 1).into_iter().next()
}

/// Up to `n` candidates within the same distance limit as [`closest`], closest first (ties in
/// byte order of the names).
pub fn closest_n<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    n: usize,
) -> Vec<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    let mut near: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (levenshtein(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .collect();
    near.sort_unstable();
    near.dedup();
    near.into_iter().take(n).map(|(_, c)| c).collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// A set of interned permission ids.
///
/// Stored as a bitset over the span of ids it holds (one bit per id between its smallest and largest
/// member: a user's permissions cluster in a few apps, and ids of one app are contiguous), or, when
/// that span is sparse, as a sorted list of ids (4 bytes each). Membership is a shift and a mask, or a
/// binary search.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PermissionSet(Repr);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Repr {
    Bits { base: u32, words: Box<[u64]> },
    Sorted(Box<[u32]>),
}

impl Default for PermissionSet {
    fn default() -> Self {
        Self(Repr::Sorted(Box::default()))
    }
}

impl PermissionSet {
    /// The empty set.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Builds a set from ids in any order, with duplicates.
    pub fn from_ids(ids: impl IntoIterator<Item = PermId>) -> Self {
        let mut v: Vec<u32> = ids.into_iter().map(|id| id.0).collect();
        v.sort_unstable();
        v.dedup();
        let (Some(&min), Some(&max)) = (v.first(), v.last()) else {
            return Self::empty();
        };
        let words = ((max - min) as usize >> 6) + 1;
        // A bitset when it is no bigger than twice the list (or one cache line).
        if words * 8 <= (v.len() * 8).max(64) {
            let mut bits = vec![0u64; words];
            for id in &v {
                let i = (id - min) as usize;
                bits[i >> 6] |= 1 << (i & 63);
            }
            Self(Repr::Bits {
                base: min,
                words: bits.into_boxed_slice(),
            })
        } else {
            Self(Repr::Sorted(v.into_boxed_slice()))
        }
    }

    /// Whether the set holds `id`.
    #[inline]
    pub fn contains(&self, id: PermId) -> bool {
        match &self.0 {
            Repr::Bits { base, words } => {
                let i = id.0.wrapping_sub(*base) as usize;
                words.get(i >> 6).is_some_and(|w| (w >> (i & 63)) & 1 == 1)
            }
            Repr::Sorted(ids) => ids.binary_search(&id.0).is_ok(),
        }
    }

    /// Whether any id falls in `[start, end)`.
    pub fn intersects_range(&self, (start, end): (u32, u32)) -> bool {
        if start >= end {
            return false;
        }
        match &self.0 {
            Repr::Bits { .. } => self.iter().any(|id| id.0 >= start && id.0 < end),
            Repr::Sorted(ids) => {
                let i = ids.partition_point(|&x| x < start);
                ids.get(i).is_some_and(|&x| x < end)
            }
        }
    }

    /// The union of two sets.
    pub fn union(&self, other: &Self) -> Self {
        Self::from_ids(self.iter().chain(other.iter()))
    }

    /// The ids, ascending (so the names come out sorted).
    pub fn iter(&self) -> impl Iterator<Item = PermId> + '_ {
        let (bits, sorted): (Option<(u32, &[u64])>, &[u32]) = match &self.0 {
            Repr::Bits { base, words } => (Some((*base, words)), &[]),
            Repr::Sorted(ids) => (None, ids),
        };
        let from_bits = bits.into_iter().flat_map(|(base, words)| {
            words.iter().enumerate().flat_map(move |(w, &word)| {
                (0..64u32)
                    .filter(move |b| (word >> b) & 1 == 1)
                    .map(move |b| PermId(base + (w as u32) * 64 + b))
            })
        });
        from_bits.chain(sorted.iter().map(|&i| PermId(i)))
    }

    /// Number of permissions.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Bits { words, .. } => words.iter().map(|w| w.count_ones() as usize).sum(),
            Repr::Sorted(ids) => ids.len(),
        }
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The names, sorted, resolved through the index that issued the ids.
    pub fn names(&self, index: &PermIndex) -> Vec<String> {
        self.iter().map(|id| index.name(id).to_owned()).collect()
    }

    /// Heap bytes used by the set.
    pub fn heap_size(&self) -> usize {
        match &self.0 {
            Repr::Bits { words, .. } => std::mem::size_of_val(&**words),
            Repr::Sorted(ids) => std::mem::size_of_val(&**ids),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_generation_is_newer_and_an_earlier_never() {
        let old = PermIndex::new([row(1, "a", "x")]).at_generation(4);
        let new = PermIndex::new([row(1, "a", "x"), row(2, "a", "y")]).at_generation(5);
        assert!(new.is_newer_than(&old));
        assert!(
            !old.is_newer_than(&new),
            "an older index never replaces a newer one"
        );
        assert!(!new.is_newer_than(&new));
        // Without generations (a backend that does not count), other names count as newer.
        let plain = PermIndex::new([row(1, "a", "x")]);
        assert!(new.is_newer_than(&plain));
        assert!(!plain.is_newer_than(&PermIndex::new([row(1, "a", "x")])));
    }

    fn row(id: i64, app: &str, codename: &str) -> PermissionRow {
        PermissionRow {
            id,
            app_label: app.into(),
            codename: codename.into(),
        }
    }

    fn index() -> PermIndex {
        PermIndex::new([
            row(1, "auth", "add_user"),
            row(2, "auth", "change_user"),
            row(3, "bookshelf", "add_book"),
            row(4, "auth2", "x"),
            // Same string from a second content type of the same app.
            row(5, "bookshelf", "add_book"),
        ])
    }

    #[test]
    fn interns_distinct_strings_in_sorted_order() {
        let idx = index();
        assert_eq!(idx.len(), 4);
        let names: Vec<&str> = idx.names().iter().map(|n| &**n).collect();
        assert_eq!(
            names,
            [
                "auth.add_user",
                "auth.change_user",
                "auth2.x",
                "bookshelf.add_book"
            ]
        );
        assert_eq!(idx.by_row(3), idx.by_row(5));
        assert_eq!(idx.resolve("bookshelf.add_book"), idx.by_row(5));
        assert_eq!(idx.resolve("Bookshelf.add_book"), None);
    }

    #[test]
    fn app_ranges_are_exact_labels() {
        let idx = index();
        let set = idx.set_from_rows([4]);
        assert!(set.intersects_range(idx.app_range("auth2")));
        assert!(!set.intersects_range(idx.app_range("auth")));
        assert!(!set.intersects_range(idx.app_range("nonexistent")));
    }

    #[test]
    fn sets_dedupe_and_iterate_sorted() {
        let idx = index();
        let set = idx.set_from_rows([5, 3, 1, 99]);
        assert_eq!(set.len(), 2);
        assert_eq!(set.names(&idx), ["auth.add_user", "bookshelf.add_book"]);
        let big = PermissionSet::from_ids((0..100).map(PermId));
        assert!(big.contains(PermId(77)));
        assert!(!big.contains(PermId(100)));
        assert_eq!(big.len(), 100);
    }

    #[test]
    fn bitset_and_list_forms_agree() {
        // Dense (bitset) and sparse (sorted list) sets answer the same.
        for ids in [
            vec![3u32, 5, 64, 70, 130],
            vec![1, 100_000, 5_000_000],
            vec![7],
        ] {
            let set = PermissionSet::from_ids(ids.iter().map(|&i| PermId(i)));
            let back: Vec<u32> = set.iter().map(|p| p.0).collect();
            assert_eq!(back, ids);
            assert_eq!(set.len(), ids.len());
            for probe in [
                0u32,
                2,
                3,
                4,
                5,
                63,
                64,
                69,
                70,
                130,
                131,
                100_000,
                5_000_000,
                u32::MAX,
            ] {
                assert_eq!(
                    set.contains(PermId(probe)),
                    ids.contains(&probe),
                    "{probe} in {ids:?}"
                );
            }
            assert_eq!(set.intersects_range((4, 6)), ids.contains(&5));
            assert!(!set.intersects_range((131, 99_999)));
        }
        assert!(matches!(
            PermissionSet::from_ids([PermId(1), PermId(9)]).0,
            Repr::Bits { .. }
        ));
        assert!(matches!(
            PermissionSet::from_ids([PermId(1), PermId(90_000)]).0,
            Repr::Sorted(_)
        ));
    }

    #[test]
    fn suggests_the_closest_name() {
        let idx = index();
        assert_eq!(idx.closest("bookshelf.add_bok"), Some("bookshelf.add_book"));
        assert_eq!(idx.closest("totally.different"), None);
        assert_eq!(
            closest_n(
                "app.view_bok",
                [
                    "app.view_boks",
                    "app.view_book",
                    "app.view_box",
                    "app.add_book",
                    "x.y"
                ],
                3
            ),
            ["app.view_boks", "app.view_book", "app.view_box"]
        );
        assert_eq!(
            closest_n("app.view_bok", ["app.view_book", "app.view_box"], 1),
            ["app.view_book"]
        );
        assert_eq!(idx.closest_n("auth.add_usr", 1), ["auth.add_user"]);
        assert!(idx.closest_n("totally.different", 3).is_empty());
    }
}
