//! Reading back the CSV files the connector writes (reports, user exports), with the rules
//! written out again: RFC 4180 (CRLF rows; quoted cells may hold commas, doubled quotes, CR
//! and LF) and OWASP's formula rule (text starting with `=`, `+`, `-`, `@`, tab or CR is
//! written with a leading `'`).

/// The rows of a CSV text (without a byte-order mark). Panics on a bare line break outside
/// quotes or a text that does not end its last row: the connector's files never hold those.
pub fn parse(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut cell) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => {
                assert!(
                    c != '\n' && c != '\r',
                    "csv: a bare line break outside quotes"
                );
                cell.push(c)
            }
        }
    }
    assert!(
        !quoted && cell.is_empty() && row.is_empty(),
        "csv: the text does not end its last row with CRLF"
    );
    rows
}

/// A text cell as a spreadsheet-safe CSV file holds it.
pub fn neutralized(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_owned(),
    }
}

/// The rows after the header, each as (column name, cell) pairs in the header's order.
pub fn records(text: &str) -> Vec<Vec<(String, String)>> {
    let rows = parse(text);
    let Some((header, rest)) = rows.split_first() else {
        return Vec::new();
    };
    rest.iter()
        .map(|r| {
            assert_eq!(
                r.len(),
                header.len(),
                "csv: a row without every column: {r:?}"
            );
            header.iter().cloned().zip(r.iter().cloned()).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_cells_and_formulas() {
        let rows = parse("a,\"b,\"\"c\"\"\",\"d\r\ne\"\r\n,'=1,\r\n");
        assert_eq!(rows[0], ["a", "b,\"c\"", "d\r\ne"]);
        assert_eq!(rows[1], ["", "'=1", ""]);
        assert_eq!(neutralized("=1"), "'=1");
        assert_eq!(neutralized("a=1"), "a=1");
        assert_eq!(records("x,y\r\n1,2\r\n")[0][1], ("y".into(), "2".into()));
    }
}
