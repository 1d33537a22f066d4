//! The input format of the multi-field targets: fields separated by the byte 0xFF, which never
//! occurs in UTF-8, so seed files stay readable and any text can be a field.

/// The input split at 0xFF bytes (always at least one field).
pub fn fields(data: &[u8]) -> Vec<&[u8]> {
    data.split(|b| *b == 0xFF).collect()
}

/// Field `i` as text: missing fields are empty; invalid UTF-8 is replaced (U+FFFD).
pub fn text(fields: &[&[u8]], i: usize) -> String {
    fields
        .get(i)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .unwrap_or_default()
}
