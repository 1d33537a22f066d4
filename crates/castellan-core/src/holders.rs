//! `with_perm` by user id: the four id sets the answer is made of, and Django's rule for combining
//! them.
//!
//! Django's `ModelBackend.with_perm` selects the users who hold the permission directly or through a
//! group, plus the superusers when `include_superusers`, then filters on `is_active`. A store can read
//! each of those sets from an index without touching the user rows (the grant tables by permission
//! and by group, and small indexes of the superusers and the inactive users), and [`HolderIds::resolve`]
//! combines them here, with no I/O: sorted, each id once.

use crate::backend::WithPerm;

/// The user ids behind one `with_perm` question, as a store reads them. Order and repetition do not
/// matter (a user in two granting groups appears twice in `via_groups`). `I` is the key's type:
/// `i64` for integer keys, a compact form of a UUID for UUID keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolderIds<I = i64> {
    /// Users granted the permission directly.
    pub direct: Vec<I>,
    /// Members of the groups that grant it.
    pub via_groups: Vec<I>,
    /// Every superuser, active or not (read only when `include_superusers`).
    pub superusers: Vec<I>,
    /// Every inactive user (read only when `is_active` is `Some`).
    pub inactive: Vec<I>,
}

impl HolderIds {
    /// Which of the sets `args` needs: `(superusers, inactive)`. A store may skip reading the others.
    pub fn needs(args: &WithPerm) -> (bool, bool) {
        (args.include_superusers, args.is_active.is_some())
    }
}

impl<I: Ord + Copy> HolderIds<I> {
    /// The ids `with_perm` answers, in ascending order, each once:
    /// `(direct ∪ via_groups ∪ superusers if include_superusers)`, then with `is_active = Some(true)`
    /// without the inactive users, with `Some(false)` only the inactive ones, with `None` unfiltered.
    pub fn resolve(self, args: &WithPerm) -> Vec<I> {
        let HolderIds {
            direct: mut ids,
            via_groups,
            superusers,
            mut inactive,
        } = self;
        ids.reserve(via_groups.len() + superusers.len());
        ids.extend_from_slice(&via_groups);
        if args.include_superusers {
            ids.extend_from_slice(&superusers);
        }
        ids.sort_unstable();
        ids.dedup();
        match args.is_active {
            None => ids,
            Some(active) => {
                inactive.sort_unstable();
                ids.retain(|id| inactive.binary_search(id).is_ok() != active);
                ids
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(include_superusers: bool, is_active: Option<bool>) -> WithPerm {
        WithPerm::new("auth.view_user")
            .map(|a| {
                a.include_superusers(include_superusers)
                    .is_active(is_active)
            })
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn sets() -> HolderIds {
        HolderIds {
            direct: vec![9, 3, 5],
            via_groups: vec![5, 7, 7, 11],
            superusers: vec![1, 11, 13],
            inactive: vec![7, 13, 2],
        }
    }

    #[test]
    fn django_defaults_include_active_superusers_and_drop_inactive_holders() {
        assert_eq!(
            sets().resolve(&args(true, Some(true))),
            vec![1, 3, 5, 9, 11]
        );
    }

    #[test]
    fn without_superusers_only_holders_count() {
        assert_eq!(sets().resolve(&args(false, Some(true))), vec![3, 5, 9, 11]);
    }

    #[test]
    fn inactive_filter_keeps_only_inactive_users() {
        assert_eq!(sets().resolve(&args(true, Some(false))), vec![7, 13]);
        assert_eq!(sets().resolve(&args(false, Some(false))), vec![7]);
    }

    #[test]
    fn no_activity_filter_keeps_everyone_once() {
        assert_eq!(
            sets().resolve(&args(true, None)),
            vec![1, 3, 5, 7, 9, 11, 13]
        );
        assert_eq!(sets().resolve(&args(false, None)), vec![3, 5, 7, 9, 11]);
    }

    #[test]
    fn needs_follow_the_arguments() {
        assert_eq!(HolderIds::needs(&args(true, Some(true))), (true, true));
        assert_eq!(HolderIds::needs(&args(false, None)), (false, false));
    }

    #[test]
    fn empty_sets_give_nobody() {
        assert!(HolderIds::<i64>::default()
            .resolve(&args(true, Some(true)))
            .is_empty());
    }
}
