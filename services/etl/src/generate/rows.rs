//! Rows in PostgreSQL's COPY text format: tab-separated, `\N` for NULL, backslash escapes.

use std::io::Write as _;

use chrono::DateTime;

/// Appends one row's fields to a buffer; `end` closes the row.
pub struct RowWriter<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> RowWriter<'a> {
    pub fn new(out: &'a mut Vec<u8>) -> RowWriter<'a> {
        RowWriter { out, first: true }
    }

    fn separator(&mut self) {
        if !self.first {
            self.out.push(b'\t');
        }
        self.first = false;
    }

    pub fn int(&mut self, value: i64) -> &mut Self {
        self.separator();
        let _ = write!(self.out, "{value}");
        self
    }

    pub fn float(&mut self, value: f64) -> &mut Self {
        self.separator();
        let _ = write!(self.out, "{value}");
        self
    }

    pub fn boolean(&mut self, value: bool) -> &mut Self {
        self.separator();
        self.out.push(if value { b't' } else { b'f' });
        self
    }

    pub fn null(&mut self) -> &mut Self {
        self.separator();
        self.out.extend_from_slice(b"\\N");
        self
    }

    pub fn text(&mut self, value: &str) -> &mut Self {
        self.separator();
        for byte in value.bytes() {
            match byte {
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                other => self.out.push(other),
            }
        }
        self
    }

    pub fn optional_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(value) => self.text(value),
            None => self.null(),
        }
    }

    /// A timestamptz from seconds since the Unix epoch, in UTC.
    pub fn timestamp(&mut self, seconds: i64) -> &mut Self {
        self.separator();
        match DateTime::from_timestamp(seconds, 0) {
            Some(instant) => {
                let _ = write!(self.out, "{}+00", instant.format("%Y-%m-%d %H:%M:%S"));
            }
            None => self.out.extend_from_slice(b"\\N"),
        }
        self
    }

    pub fn optional_timestamp(&mut self, seconds: Option<i64>) -> &mut Self {
        match seconds {
            Some(seconds) => self.timestamp(seconds),
            None => self.null(),
        }
    }

    pub fn end(&mut self) {
        self.out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_nulls() {
        let mut out = Vec::new();
        RowWriter::new(&mut out)
            .int(7)
            .text("a\tb\\c\nd")
            .null()
            .boolean(true)
            .timestamp(0)
            .end();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "7\ta\\tb\\\\c\\nd\t\\N\tt\t1970-01-01 00:00:00+00\n"
        );
    }
}
