//! What happens after a save: Django's three submit buttons ("Save", "Save and continue
//! editing", "Save and add another") and the message each outcome leaves for the next page.

use crate::forms::FormData;

/// The submit buttons' field names, allowed in every form that has them.
pub(crate) const BUTTONS: [&str; 3] = ["_save", "_continue", "_addanother"];

/// Which button submitted a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SaveButton {
    /// "Save" (also a form submitted with no button, as Django): back to the list.
    Save,
    /// "Save and continue editing": back to the object's change page.
    Continue,
    /// "Save and add another": to an empty add form.
    AddAnother,
}

impl SaveButton {
    /// The button named in `form`.
    pub(crate) fn of(form: &FormData) -> Self {
        if form.get("_continue").is_some() {
            Self::Continue
        } else if form.get("_addanother").is_some() {
            Self::AddAnother
        } else {
            Self::Save
        }
    }

    /// After adding a user or a group: "Save" goes on to the new object's page, as Django's
    /// `UserAdmin` does (its groups and permissions are edited there).
    pub(crate) fn after_add_to_its_page(self) -> Self {
        match self {
            Self::AddAnother => Self::AddAnother,
            _ => Self::Continue,
        }
    }

    /// "Save and add another" for someone who may not add goes back to the object, as Django.
    pub(crate) fn unless_cannot_add(self, may_add: bool) -> Self {
        if self == Self::AddAnother && !may_add {
            Self::Continue
        } else {
            self
        }
    }

    /// Where to go after the save: the list, the object's change page or the add form.
    pub(crate) fn next<'a>(self, list: &'a str, change: &'a str, add: &'a str) -> &'a str {
        match self {
            Self::Save => list,
            Self::Continue => change,
            Self::AddAnother => add,
        }
    }

    /// Django's message after adding (`added`) or changing an object, e.g. `The user “ann” was
    /// changed successfully. You may edit it again below.`
    pub(crate) fn message(self, kind: &str, object: &str, added: bool) -> String {
        let verb = if added { "added" } else { "changed" };
        let first = format!("The {kind} “{object}” was {verb} successfully.");
        match self {
            Self::Save => first,
            Self::Continue => format!("{first} You may edit it again below."),
            Self::AddAnother => format!("{first} You may add another {kind} below."),
        }
    }
}

/// Django's message after a delete.
pub(crate) fn deleted_message(kind: &str, object: &str) -> String {
    format!("The {kind} “{object}” was deleted successfully.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn the_button_decides_where_to_go() {
        let go = |f: &FormData| SaveButton::of(f).next("list", "change", "add");
        assert_eq!(go(&form(&[])), "list");
        assert_eq!(go(&form(&[("_save", "Save")])), "list");
        assert_eq!(go(&form(&[("_continue", "")])), "change");
        assert_eq!(go(&form(&[("_addanother", "x")])), "add");
    }

    #[test]
    fn adds_and_missing_add_permission_change_the_destination() {
        assert_eq!(
            SaveButton::Save.after_add_to_its_page(),
            SaveButton::Continue
        );
        assert_eq!(
            SaveButton::AddAnother.after_add_to_its_page(),
            SaveButton::AddAnother
        );
        assert_eq!(
            SaveButton::AddAnother.unless_cannot_add(false),
            SaveButton::Continue
        );
        assert_eq!(
            SaveButton::AddAnother.unless_cannot_add(true),
            SaveButton::AddAnother
        );
        assert_eq!(SaveButton::Save.unless_cannot_add(false), SaveButton::Save);
    }

    #[test]
    fn messages_read_as_djangos() {
        assert_eq!(
            SaveButton::Save.message("user", "ann", false),
            "The user “ann” was changed successfully."
        );
        assert_eq!(
            SaveButton::Continue.message("book", "Dune", true),
            "The book “Dune” was added successfully. You may edit it again below."
        );
        assert_eq!(
            SaveButton::AddAnother.message("group", "G", true),
            "The group “G” was added successfully. You may add another group below."
        );
        assert_eq!(
            deleted_message("user", "ann"),
            "The user “ann” was deleted successfully."
        );
    }
}
