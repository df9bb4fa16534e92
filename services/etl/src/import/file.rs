//! Reading one import file: its header against the table's columns, then every row, each
//! value checked and normalised. Problems with a row are collected with its line number; a
//! wrong header or an encoding problem rejects the file with one message.

use std::path::{Path, PathBuf};

use super::spec::{Column, ImportTable, normalise};
use super::{ImportError, RowError};

/// A file's rows, each value normalised, in the order of the columns present.
#[derive(Debug)]
pub struct ParsedFile {
    pub table: ImportTable,
    pub path: PathBuf,
    pub columns: Vec<Column>,
    pub rows: Vec<ParsedRow>,
}

#[derive(Debug, Clone)]
pub struct ParsedRow {
    pub line: u64,
    pub values: Vec<Option<String>>,
}

impl ParsedFile {
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Where column `name` sits in `values`, if the file has it.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|column| column.name == name)
    }
}

pub fn read(path: &Path, table: ImportTable) -> Result<(ParsedFile, Vec<RowError>), ImportError> {
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = std::fs::File::open(path)
        .map_err(|error| ImportError::File(format!("cannot open {}: {error}", path.display())))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(file);
    let header = reader
        .byte_headers()
        .map_err(|error| {
            ImportError::File(format!("{file_name}: cannot read the header: {error}"))
        })?
        .clone();
    let mut names = Vec::new();
    for (index, raw) in header.iter().enumerate() {
        let raw = if index == 0 {
            raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
        } else {
            raw
        };
        let name = std::str::from_utf8(raw).map_err(|_| {
            ImportError::File(format!(
                "{file_name}: line 1 is not UTF-8; save the file as UTF-8"
            ))
        })?;
        names.push(name.trim().to_ascii_lowercase());
    }
    let expected: Vec<&str> = table.columns().iter().map(|column| column.name).collect();
    let mut positions = Vec::new();
    let mut columns = Vec::new();
    for column in table.columns() {
        match names.iter().position(|name| name == column.name) {
            Some(position) => {
                positions.push(position);
                columns.push(*column);
            }
            None if column.required => {
                return Err(ImportError::File(format!(
                    "{file_name}: the header lacks the required column '{}' (columns: {})",
                    column.name,
                    expected.join(", ")
                )));
            }
            None => {}
        }
    }
    for (index, name) in names.iter().enumerate() {
        if !expected.contains(&name.as_str()) {
            return Err(ImportError::File(format!(
                "{file_name}: unknown column '{name}' (columns: {})",
                expected.join(", ")
            )));
        }
        if names[..index].contains(name) {
            return Err(ImportError::File(format!(
                "{file_name}: column '{name}' appears twice"
            )));
        }
    }

    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                let line = error
                    .position()
                    .map(|position| position.line())
                    .unwrap_or_default();
                return Err(ImportError::File(format!(
                    "{file_name}: line {line} cannot be read as CSV: {error}"
                )));
            }
        }
        let line = record
            .position()
            .map(|position| position.line())
            .unwrap_or_default();
        if record.len() != names.len() {
            errors.push(RowError::new(
                &file_name,
                line,
                None,
                format!("has {} fields, the header {}", record.len(), names.len()),
            ));
            continue;
        }
        let mut values = Vec::with_capacity(columns.len());
        let mut row_ok = true;
        for (column, position) in columns.iter().zip(&positions) {
            let raw = std::str::from_utf8(&record[*position]).map_err(|_| {
                ImportError::File(format!(
                    "{file_name}: line {line} is not UTF-8; save the file as UTF-8"
                ))
            })?;
            let raw = raw.trim();
            if raw.is_empty() {
                if column.required {
                    errors.push(RowError::new(
                        &file_name,
                        line,
                        Some(column.name),
                        "is required".to_owned(),
                    ));
                    row_ok = false;
                }
                values.push(None);
                continue;
            }
            match normalise(column.kind, raw) {
                Ok(value) => values.push(Some(value)),
                Err(reason) => {
                    errors.push(RowError::new(&file_name, line, Some(column.name), reason));
                    row_ok = false;
                    values.push(None);
                }
            }
        }
        if row_ok {
            rows.push(ParsedRow { line, values });
        }
    }
    Ok((
        ParsedFile {
            table,
            path: path.to_owned(),
            columns,
            rows,
        },
        errors,
    ))
}
