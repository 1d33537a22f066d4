//! Password validation: Django's `django.contrib.auth.password_validation`.
//!
//! A [`PasswordValidators`] value plays the part of Django's `AUTH_PASSWORD_VALIDATORS`: its
//! [`Default`] holds Django's four default validators, in Django's order and with Django's options
//! and messages —
//!
//! | validator | rejects | message |
//! |---|---|---|
//! | [`UserAttributeSimilarityValidator`] | a password too similar to the username, first name, last name or e-mail (or a part of them) | "The password is too similar to the username." |
//! | [`MinimumLengthValidator`] | fewer than 8 characters | "This password is too short. It must contain at least 8 characters." |
//! | [`CommonPasswordValidator`] | one of the 20,000 common passwords Django ships (compared lowercased and stripped) | "This password is too common." |
//! | [`NumericPasswordValidator`] | a password made only of digits | "This password is entirely numeric." |
//!
//! — and the builder ([`PasswordValidators::new`], [`PasswordValidators::with`]) chooses and
//! parameterises them, or adds an application's own [`PasswordValidator`].
//! [`PasswordValidators::validate`] runs every validator and returns every message, as Django's
//! `validate_password` raises one `ValidationError` listing them all.
//!
//! ```
//! use castellan_core::password_validation::{
//!     MinimumLengthValidator, PasswordValidators, UserAttributes,
//! };
//!
//! let validators = PasswordValidators::default();
//! let alice = UserAttributes::new().with_username("alice").with_email("alice@example.com");
//! assert_eq!(
//!     validators.validate("xalice-91", &alice),
//!     Err(vec!["The password is too similar to the username.".to_owned()])
//! );
//! assert_eq!(
//!     validators.validate("1234", &UserAttributes::new()),
//!     Err(vec![
//!         "This password is too short. It must contain at least 8 characters.".to_owned(),
//!         "This password is too common.".to_owned(),
//!         "This password is entirely numeric.".to_owned(),
//!     ])
//! );
//! assert!(validators.validate("correct horse battery staple", &alice).is_ok());
//!
//! // Only a longer minimum length:
//! let strict = PasswordValidators::new().with(MinimumLengthValidator::new(12));
//! assert_eq!(strict.help_texts(), ["Your password must contain at least 12 characters."]);
//! ```
//!
//! Lengths count Unicode scalar values (Python's `len`), "lowercased" is Unicode's full lowercase
//! mapping (Python's `str.lower`), "stripped" removes what Python's `str.strip` removes, and "digit"
//! is Python's `str.isdigit`: the answers match Django's (a differential test runs real Django).

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, OnceLock};

use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

/// Django's list of 20,000 common passwords (lowercased and deduplicated, one a line), as Django
/// 6.1 ships it in `common-passwords.txt.gz`.
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

/// One failed validation: Django's `ValidationError` with its `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordError {
    /// Django's error code (`password_too_short`, `password_too_similar`, `password_too_common`,
    /// `password_entirely_numeric`, or an application's own).
    pub code: String,
    /// The message shown to the user.
    pub message: String,
}

impl PasswordError {
    /// An error with a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for PasswordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PasswordError {}

/// A validator's option is out of range (Django's `ValueError` at start-up).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct PasswordConfigError(String);

/// The user a password is meant for: named attribute values that
/// [`UserAttributeSimilarityValidator`] compares the password with (Django passes the user object).
///
/// An empty value (the default) means "no user": similarity is not checked, as in Django when
/// `user` is `None`. Attributes with an empty value are skipped, as Django skips blank fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserAttributes {
    entries: Vec<UserAttribute>,
}

/// One attribute of a [`UserAttributes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAttribute {
    /// The attribute (field) name, as a validator names it: `username`, `email`…
    pub name: String,
    /// The field's verbose name, used in the message: `username`, `email address`…
    pub verbose_name: String,
    /// The value.
    pub value: String,
}

impl UserAttributes {
    /// No attributes (no user).
    pub fn new() -> Self {
        Self::default()
    }

    /// The four attributes of Django's `auth.User` that the default similarity validator reads,
    /// with `auth.User`'s verbose names.
    pub fn of_user(user: &crate::User) -> Self {
        Self::new()
            .with_username(&user.username)
            .with_first_name(&user.first_name)
            .with_last_name(&user.last_name)
            .with_email(&user.email)
    }

    /// Sets an attribute (replacing one of the same name). `verbose_name` appears in the message
    /// "The password is too similar to the {verbose_name}.".
    pub fn with(
        mut self,
        name: impl Into<String>,
        verbose_name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        let attribute = UserAttribute {
            name: name.into(),
            verbose_name: verbose_name.into(),
            value: value.into(),
        };
        match self.entries.iter_mut().find(|a| a.name == attribute.name) {
            Some(existing) => *existing = attribute,
            None => self.entries.push(attribute),
        }
        self
    }

    /// `username` (verbose name "username").
    pub fn with_username(self, value: impl Into<String>) -> Self {
        self.with("username", "username", value)
    }

    /// `first_name` (verbose name "first name").
    pub fn with_first_name(self, value: impl Into<String>) -> Self {
        self.with("first_name", "first name", value)
    }

    /// `last_name` (verbose name "last name").
    pub fn with_last_name(self, value: impl Into<String>) -> Self {
        self.with("last_name", "last name", value)
    }

    /// `email` (verbose name "email address").
    pub fn with_email(self, value: impl Into<String>) -> Self {
        self.with("email", "email address", value)
    }

    /// The attribute of that name.
    pub fn get(&self, name: &str) -> Option<&UserAttribute> {
        self.entries.iter().find(|a| a.name == name)
    }

    /// Whether there is no attribute at all (no user).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A password validator (one entry of Django's `AUTH_PASSWORD_VALIDATORS`). Implement it to add
/// an application's own rule to a [`PasswordValidators`].
pub trait PasswordValidator: fmt::Debug + Send + Sync {
    /// `Ok` when the password is acceptable for this user, else the error to show.
    fn validate(&self, password: &str, user: &UserAttributes) -> Result<(), PasswordError>;

    /// What the rule asks for, shown beside password fields.
    fn help_text(&self) -> String;
}

/// A configured list of validators: Django's `AUTH_PASSWORD_VALIDATORS`. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PasswordValidators {
    validators: Vec<Arc<dyn PasswordValidator>>,
}

impl Default for PasswordValidators {
    /// Django's four defaults, in the order of Django's project template:
    /// [`UserAttributeSimilarityValidator`], [`MinimumLengthValidator`] (8),
    /// [`CommonPasswordValidator`], [`NumericPasswordValidator`].
    fn default() -> Self {
        Self::new()
            .with(UserAttributeSimilarityValidator::default())
            .with(MinimumLengthValidator::default())
            .with(CommonPasswordValidator::default())
            .with(NumericPasswordValidator)
    }
}

impl PasswordValidators {
    /// No validator: every password passes (Django's `AUTH_PASSWORD_VALIDATORS = []`).
    pub fn new() -> Self {
        Self {
            validators: Vec::new(),
        }
    }

    /// Adds a validator after the others.
    pub fn with(mut self, validator: impl PasswordValidator + 'static) -> Self {
        self.validators.push(Arc::new(validator));
        self
    }

    /// Adds a shared validator after the others.
    pub fn with_arc(mut self, validator: Arc<dyn PasswordValidator>) -> Self {
        self.validators.push(validator);
        self
    }

    /// Whether no validator is configured.
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// Every error, in the validators' order (empty when the password is acceptable).
    pub fn errors(&self, password: &str, user: &UserAttributes) -> Vec<PasswordError> {
        self.validators
            .iter()
            .filter_map(|v| v.validate(password, user).err())
            .collect()
    }

    /// Django's `validate_password`: `Ok` when every validator accepts the password, else every
    /// message.
    pub fn validate(&self, password: &str, user: &UserAttributes) -> Result<(), Vec<String>> {
        let errors = self.errors(password, user);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.into_iter().map(|e| e.message).collect())
        }
    }

    /// Django's `password_validators_help_texts`: one text per validator.
    pub fn help_texts(&self) -> Vec<String> {
        self.validators.iter().map(|v| v.help_text()).collect()
    }
}

/// Rejects a password shorter than a minimum number of characters (default 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinimumLengthValidator {
    min_length: usize,
}

impl Default for MinimumLengthValidator {
    fn default() -> Self {
        Self::new(8)
    }
}

impl MinimumLengthValidator {
    /// At least `min_length` characters.
    pub fn new(min_length: usize) -> Self {
        Self { min_length }
    }
}

fn characters(n: usize) -> &'static str {
    if n == 1 {
        "character"
    } else {
        "characters"
    }
}

impl PasswordValidator for MinimumLengthValidator {
    fn validate(&self, password: &str, _user: &UserAttributes) -> Result<(), PasswordError> {
        if password.chars().count() < self.min_length {
            return Err(PasswordError::new(
                "password_too_short",
                format!(
                    "This password is too short. It must contain at least {} {}.",
                    self.min_length,
                    characters(self.min_length)
                ),
            ));
        }
        Ok(())
    }

    fn help_text(&self) -> String {
        format!(
            "Your password must contain at least {} {}.",
            self.min_length,
            characters(self.min_length)
        )
    }
}

/// Rejects a password too similar to one of the user's attributes, or to a part of one (split at
/// non-word characters, so both halves of an e-mail address count).
///
/// The similarity is Python's `SequenceMatcher(a=password, b=value).quick_ratio()`, which is what
/// Django uses: twice the size of the multiset intersection of the two strings' characters over
/// their total length, after lowercasing both. A value much shorter than the password (at most a
/// tenth of its length and below `max_similarity / 2` of it) is skipped, as in Django.
#[derive(Debug, Clone, PartialEq)]
pub struct UserAttributeSimilarityValidator {
    attributes: Vec<String>,
    max_similarity: f64,
}

impl Default for UserAttributeSimilarityValidator {
    /// `username`, `first_name`, `last_name`, `email`; maximum similarity 0.7.
    fn default() -> Self {
        Self {
            attributes: ["username", "first_name", "last_name", "email"]
                .map(str::to_owned)
                .to_vec(),
            max_similarity: 0.7,
        }
    }
}

impl UserAttributeSimilarityValidator {
    /// Django's defaults (see [`Default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Compares with these attributes, in this order (the first too-similar one is reported).
    pub fn with_attributes<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.attributes = names.into_iter().map(Into::into).collect();
        self
    }

    /// Rejects at this similarity or above; at least 0.1, as Django requires.
    pub fn with_max_similarity(mut self, max_similarity: f64) -> Result<Self, PasswordConfigError> {
        // NaN is refused too.
        if max_similarity.is_nan() || max_similarity < 0.1 {
            return Err(PasswordConfigError(format!(
                "max_similarity must be at least 0.1 (got {max_similarity})"
            )));
        }
        self.max_similarity = max_similarity;
        Ok(self)
    }
}

/// Django's `exceeds_maximum_length_ratio`: a value this much shorter than the password cannot be
/// similar enough, so the comparison is skipped.
fn exceeds_maximum_length_ratio(
    password_len: usize,
    max_similarity: f64,
    value_len: usize,
) -> bool {
    let length_bound_similarity = max_similarity / 2.0 * password_len as f64;
    password_len >= 10 * value_len && (value_len as f64) < length_bound_similarity
}

/// Python's `SequenceMatcher(a=a, b=b).quick_ratio()` over characters.
fn quick_ratio(a: &[char], b: &[char]) -> f64 {
    let total = a.len() + b.len();
    if total == 0 {
        return 1.0;
    }
    let mut available: std::collections::HashMap<char, usize> = std::collections::HashMap::new();
    for &c in b {
        *available.entry(c).or_insert(0) += 1;
    }
    let mut matches = 0usize;
    for c in a {
        if let Some(n) = available.get_mut(c) {
            if *n > 0 {
                *n -= 1;
                matches += 1;
            }
        }
    }
    2.0 * matches as f64 / total as f64
}

/// Python's `\w` on `str`: letters, numbers (every `L*` and `N*` category) and `_`.
fn is_word_char(c: char) -> bool {
    c == '_'
        || matches!(
            c.general_category_group(),
            GeneralCategoryGroup::Letter | GeneralCategoryGroup::Number
        )
}

/// Python's `re.split(r"\W+", value)`: the pieces between runs of non-word characters, with an
/// empty piece at an end that is a non-word character.
fn split_non_word(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_separator = false;
    for (i, c) in value.char_indices() {
        let word = is_word_char(c);
        if !word && !in_separator {
            parts.push(&value[start..i]);
            in_separator = true;
        } else if word && in_separator {
            start = i;
            in_separator = false;
        }
    }
    parts.push(if in_separator { "" } else { &value[start..] });
    parts
}

impl PasswordValidator for UserAttributeSimilarityValidator {
    fn validate(&self, password: &str, user: &UserAttributes) -> Result<(), PasswordError> {
        if user.is_empty() {
            return Ok(());
        }
        let password: Vec<char> = password.to_lowercase().chars().collect();
        for name in &self.attributes {
            let Some(attribute) = user.get(name) else {
                continue;
            };
            if attribute.value.is_empty() {
                continue;
            }
            let value = attribute.value.to_lowercase();
            let mut parts = split_non_word(&value);
            parts.push(&value);
            for part in parts {
                let part: Vec<char> = part.chars().collect();
                if exceeds_maximum_length_ratio(password.len(), self.max_similarity, part.len()) {
                    continue;
                }
                if quick_ratio(&password, &part) >= self.max_similarity {
                    return Err(PasswordError::new(
                        "password_too_similar",
                        format!(
                            "The password is too similar to the {}.",
                            attribute.verbose_name
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn help_text(&self) -> String {
        "Your password can’t be too similar to your other personal information.".to_owned()
    }
}

/// Python's `str.isspace`, which `str.strip` removes.
fn is_python_space(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | '\u{1c}'..='\u{20}'
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// Python's `str.strip()`.
fn python_strip(s: &str) -> &str {
    s.trim_matches(is_python_space)
}

fn default_common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON_PASSWORDS.lines().map(python_strip).collect())
}

/// Rejects a common password: the password, lowercased and stripped, is in the list.
///
/// The default list is Django's (20,000 passwords). [`CommonPasswordValidator::from_list`] takes
/// another one, which must be lowercase to match (as in Django); the core reads no file, so an
/// application loads its list itself.
#[derive(Clone, Default)]
pub struct CommonPasswordValidator {
    custom: Option<Arc<HashSet<String>>>,
}

impl fmt::Debug for CommonPasswordValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = match &self.custom {
            Some(set) => format!("custom ({} passwords)", set.len()),
            None => "Django's".to_owned(),
        };
        f.debug_struct("CommonPasswordValidator")
            .field("list", &list)
            .finish()
    }
}

impl CommonPasswordValidator {
    /// Django's list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Another list: one password per item, each stripped (as Django strips each line).
    pub fn from_list<S: AsRef<str>>(passwords: impl IntoIterator<Item = S>) -> Self {
        Self {
            custom: Some(Arc::new(
                passwords
                    .into_iter()
                    .map(|p| python_strip(p.as_ref()).to_owned())
                    .collect(),
            )),
        }
    }

    fn contains(&self, candidate: &str) -> bool {
        match &self.custom {
            Some(set) => set.contains(candidate),
            None => default_common_passwords().contains(candidate),
        }
    }
}

impl PasswordValidator for CommonPasswordValidator {
    fn validate(&self, password: &str, _user: &UserAttributes) -> Result<(), PasswordError> {
        let lowered = password.to_lowercase();
        if self.contains(python_strip(&lowered)) {
            return Err(PasswordError::new(
                "password_too_common",
                "This password is too common.",
            ));
        }
        Ok(())
    }

    fn help_text(&self) -> String {
        "Your password can’t be a commonly used password.".to_owned()
    }
}

/// Characters with Unicode `Numeric_Type=Digit` (Python's `isdigit` but not `isdecimal`):
/// superscripts, subscripts, circled and other digit forms. Inclusive ranges, Unicode 15.1.
const DIGIT_FORMS: &[(u32, u32)] = &[
    (0xB2, 0xB3),
    (0xB9, 0xB9),
    (0x1369, 0x1371),
    (0x19DA, 0x19DA),
    (0x2070, 0x2070),
    (0x2074, 0x2079),
    (0x2080, 0x2089),
    (0x2460, 0x2468),
    (0x2474, 0x247C),
    (0x2488, 0x2490),
    (0x24EA, 0x24EA),
    (0x24F5, 0x24FD),
    (0x24FF, 0x24FF),
    (0x2776, 0x277E),
    (0x2780, 0x2788),
    (0x278A, 0x2792),
    (0x10A40, 0x10A43),
    (0x10E60, 0x10E68),
    (0x11052, 0x1105A),
    (0x1F100, 0x1F10A),
];

/// Python's `str.isdigit` for one character: a decimal digit of any script, or a digit form.
fn is_python_digit(c: char) -> bool {
    c.general_category() == GeneralCategory::DecimalNumber
        || DIGIT_FORMS
            .iter()
            .any(|&(lo, hi)| (lo..=hi).contains(&u32::from(c)))
}

/// Rejects a password made only of digits (Python's `str.isdigit`: any script's digits, and
/// superscript or circled ones).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NumericPasswordValidator;

impl PasswordValidator for NumericPasswordValidator {
    fn validate(&self, password: &str, _user: &UserAttributes) -> Result<(), PasswordError> {
        if !password.is_empty() && password.chars().all(is_python_digit) {
            return Err(PasswordError::new(
                "password_entirely_numeric",
                "This password is entirely numeric.",
            ));
        }
        Ok(())
    }

    fn help_text(&self) -> String {
        "Your password can’t be entirely numeric.".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> UserAttributes {
        UserAttributes::new()
            .with_username("alice")
            .with_first_name("Alice")
            .with_last_name("Liddell")
            .with_email("alice.liddell@wonder.example")
    }

    #[test]
    fn minimum_length_counts_characters_and_pluralises() {
        let v = MinimumLengthValidator::default();
        assert!(v.validate("abcdefgh", &UserAttributes::new()).is_ok());
        assert_eq!(
            v.validate("abcdefg", &UserAttributes::new())
                .map_err(|e| e.message),
            Err("This password is too short. It must contain at least 8 characters.".into())
        );
        // 8 characters, 16 bytes.
        assert!(v.validate("éééééééé", &UserAttributes::new()).is_ok());
        let one = MinimumLengthValidator::new(1);
        assert_eq!(
            one.validate("", &UserAttributes::new())
                .map_err(|e| e.message),
            Err("This password is too short. It must contain at least 1 character.".into())
        );
        assert_eq!(
            one.help_text(),
            "Your password must contain at least 1 character."
        );
        assert_eq!(
            v.help_text(),
            "Your password must contain at least 8 characters."
        );
    }

    #[test]
    fn quick_ratio_matches_python() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        // Python: SequenceMatcher(a='A', b='A'*10).quick_ratio() == 2/11.
        assert_eq!(quick_ratio(&c("A"), &c("AAAAAAAAAA")), 2.0 / 11.0);
        assert_eq!(quick_ratio(&c(""), &c("")), 1.0);
        assert_eq!(quick_ratio(&c("abcd"), &c("dcba")), 1.0);
        assert_eq!(quick_ratio(&c("aab"), &c("abb")), 2.0 * 2.0 / 6.0);
    }

    #[test]
    fn split_matches_python_re_split() {
        assert_eq!(
            split_non_word("john.doe@x.org"),
            ["john", "doe", "x", "org"]
        );
        assert_eq!(split_non_word(".a.."), ["", "a", ""]);
        assert_eq!(split_non_word(""), [""]);
        assert_eq!(split_non_word("a_b-c"), ["a_b", "c"]);
        assert_eq!(split_non_word("ünï cödé"), ["ünï", "cödé"]);
    }

    #[test]
    fn similarity_names_the_attribute() {
        let v = UserAttributeSimilarityValidator::default();
        let msg = |p: &str| v.validate(p, &alice()).map_err(|e| e.message);
        assert_eq!(
            msg("alice123"),
            Err("The password is too similar to the username.".into())
        );
        assert_eq!(
            msg("LIDDELL1"),
            Err("The password is too similar to the last name.".into())
        );
        assert_eq!(
            msg("wonderexample"),
            Err("The password is too similar to the email address.".into())
        );
        assert!(msg("correct horse battery staple").is_ok());
        // No user: nothing to compare with.
        assert!(v.validate("alice", &UserAttributes::new()).is_ok());
        // The first too-similar attribute in the validator's order is the one reported.
        let v = UserAttributeSimilarityValidator::new().with_attributes(["email", "username"]);
        assert_eq!(
            v.validate("alice", &alice()).map_err(|e| e.message),
            Err("The password is too similar to the email address.".into())
        );
    }

    #[test]
    fn max_similarity_below_a_tenth_is_refused() {
        assert!(UserAttributeSimilarityValidator::new()
            .with_max_similarity(0.09)
            .is_err());
        assert!(UserAttributeSimilarityValidator::new()
            .with_max_similarity(f64::NAN)
            .is_err());
        let loose = UserAttributeSimilarityValidator::new()
            .with_max_similarity(1.0)
            .map_err(|e| e.to_string());
        assert!(loose.is_ok());
    }

    #[test]
    fn common_passwords_are_lowercased_and_stripped() {
        let v = CommonPasswordValidator::default();
        let none = UserAttributes::new();
        assert_eq!(default_common_passwords().len(), 19_640);
        for p in ["password", "PASSWORD", "  Password\t", "qwerty", "123456"] {
            assert_eq!(
                v.validate(p, &none).map_err(|e| e.message),
                Err("This password is too common.".into()),
                "{p:?}"
            );
        }
        assert!(v.validate("pass word", &none).is_ok());
        assert!(v.validate("correct horse battery staple", &none).is_ok());
        // Python's strip also removes U+001C..U+001F.
        assert!(v.validate("\u{1f}password\u{3000}", &none).is_err());
        let custom = CommonPasswordValidator::from_list(["hunter2 \n", "letmein"]);
        assert!(custom.validate("Hunter2", &none).is_err());
        assert!(custom.validate("password", &none).is_ok());
    }

    #[test]
    fn numeric_is_python_isdigit() {
        let v = NumericPasswordValidator;
        let none = UserAttributes::new();
        for p in ["12345678", "١٢٣٤٥٦٧٨", "²³¹", "①②"] {
            assert!(v.validate(p, &none).is_err(), "{p:?}");
        }
        // Empty, fractions, Roman numerals and mixed passwords are not "entirely numeric".
        for p in ["", "½", "Ⅻ", "1234567a", "12 34"] {
            assert!(v.validate(p, &none).is_ok(), "{p:?}");
        }
    }

    #[test]
    fn every_message_is_returned_in_order() {
        let v = PasswordValidators::default();
        assert_eq!(
            v.validate("alice", &alice()),
            Err(vec![
                "The password is too similar to the username.".to_owned(),
                "This password is too short. It must contain at least 8 characters.".to_owned(),
                "This password is too common.".to_owned(),
            ])
        );
        assert_eq!(
            v.errors("1", &alice())
                .iter()
                .map(|e| e.code.as_str())
                .collect::<Vec<_>>(),
            [
                "password_too_short",
                "password_too_common",
                "password_entirely_numeric"
            ]
        );
        assert_eq!(v.help_texts().len(), 4);
        assert!(PasswordValidators::new().validate("1", &alice()).is_ok());
    }

    #[derive(Debug)]
    struct NoCastellan;

    impl PasswordValidator for NoCastellan {
        fn validate(&self, password: &str, _user: &UserAttributes) -> Result<(), PasswordError> {
            if password.to_lowercase().contains("castellan") {
                return Err(PasswordError::new(
                    "castellan",
                    "The password cannot name the product.",
                ));
            }
            Ok(())
        }

        fn help_text(&self) -> String {
            "Don't name the product.".into()
        }
    }

    #[test]
    fn applications_add_their_own() {
        let v = PasswordValidators::default().with(NoCastellan);
        assert_eq!(
            v.validate("my Castellan password", &UserAttributes::new()),
            Err(vec!["The password cannot name the product.".to_owned()])
        );
        assert_eq!(
            v.help_texts().last().map(String::as_str),
            Some("Don't name the product.")
        );
    }

    #[test]
    fn of_user_uses_auth_user_verbose_names() {
        let attrs = UserAttributes::new()
            .with_email("x@example.com")
            .with_email("y@example.com");
        assert_eq!(
            attrs.get("email").map(|a| a.value.as_str()),
            Some("y@example.com")
        );
        assert_eq!(
            attrs.get("email").map(|a| a.verbose_name.as_str()),
            Some("email address")
        );
    }
}
