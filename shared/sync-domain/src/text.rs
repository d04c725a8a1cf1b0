//! Checks on the free-text fields of admin requests (ids, names, who asked).

/// A request's text field: not blank, at most `max` bytes once trimmed, no control characters
/// (they would forge lines in logs and audit exports). The error names the field.
pub fn check_request_text(name: &str, value: &str, max: usize) -> Result<(), String> {
    let t = value.trim();
    if t.is_empty() {
        return Err(format!("`{name}` must not be empty"));
    }
    if t.len() > max {
        return Err(format!("`{name}` is longer than {max} characters"));
    }
    if t.chars().any(char::is_control) {
        return Err(format!("`{name}` must not contain control characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_request_text as check;

    #[test]
    fn blank_long_and_control_characters_are_refused_by_name() {
        assert_eq!(check("id", "  req-1 ", 8), Ok(()));
        assert_eq!(check("id", " \t ", 8), Err("`id` must not be empty".into()));
        assert_eq!(
            check("id", "123456789", 8),
            Err("`id` is longer than 8 characters".into())
        );
        assert_eq!(
            check("by", "a\nforged line", 64),
            Err("`by` must not contain control characters".into())
        );
        assert_eq!(check("by", "Zoë Ødegård", 64), Ok(()));
    }
}
