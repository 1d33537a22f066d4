//! Submitted forms as ordered (name, value) pairs, with the allow-list check every POST makes: a
//! field the form does not have is a 400 and nothing is written (a crafted POST fails loudly).

use crate::error::AdminError;

/// The CSRF field, allowed in every form.
const CSRF_FIELD: &str = "csrfmiddlewaretoken";

/// A parsed urlencoded form.
#[derive(Debug, Default)]
pub(crate) struct FormData(pub(crate) Vec<(String, String)>);

impl FormData {
    /// Refuses the form if it has a field not in `allowed`.
    pub(crate) fn only(self, allowed: &[&str]) -> Result<Self, AdminError> {
        if let Some((name, _)) = self
            .0
            .iter()
            .find(|(n, _)| n != CSRF_FIELD && !allowed.contains(&n.as_str()))
        {
            return Err(AdminError::BadRequest(format!(
                "The form has no field {name:?}; nothing was saved. Reload the page and submit the form as shown."
            )));
        }
        Ok(self)
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The trimmed first value of `name`, or "".
    pub(crate) fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").trim().to_owned()
    }

    /// Every value of `name`, sorted and de-duplicated.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// A checkbox: present (with any value but "" / "off" / "false") means true.
    pub(crate) fn checked(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| !matches!(v, "" | "off" | "false" | "0"))
    }
}
