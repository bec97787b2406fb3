//! RFC 8785 (JSON Canonicalization Scheme) for the JSON accord signs.
//!
//! accord's records never hold floats, so the number rule reduces to: integers of magnitude
//! below 2^53 written in plain decimal; anything else is refused (larger integers travel as
//! strings). Object members are sorted by the UTF-16 code units of their names, strings use the
//! minimal JSON escapes, and no whitespace is written.

use serde_json::Value;

use crate::error::RecordError;
use crate::record::Record;

/// Largest integer magnitude JSON numbers may carry here: 2^53 - 1.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;
/// Largest encoded record accepted anywhere, in bytes.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

/// Writes `value` in canonical form.
pub fn to_canonical(value: &Value) -> Result<Vec<u8>, RecordError> {
    let mut out = Vec::with_capacity(512);
    write_value(value, &mut out)?;
    Ok(out)
}

fn write_value(value: &Value, out: &mut Vec<u8>) -> Result<(), RecordError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            let text = if let Some(u) = n.as_u64().filter(|u| *u <= MAX_SAFE_INTEGER) {
                u.to_string()
            } else if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= MAX_SAFE_INTEGER) {
                i.to_string()
            } else {
                return Err(RecordError::Number(n.to_string()));
            };
            out.extend_from_slice(text.as_bytes());
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_value(v, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x0a => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0d => out.extend_from_slice(b"\\r"),
            0x00..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// The canonical JSON bytes of a record. The record is not validated here; see
/// [`Record::validate`].
pub fn encode_record(record: &Record) -> Result<Vec<u8>, RecordError> {
    let value = serde_json::to_value(record).map_err(|e| RecordError::Malformed(e.to_string()))?;
    let bytes = to_canonical(&value)?;
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(RecordError::TooLarge {
            size: bytes.len(),
            max: MAX_RECORD_BYTES,
        });
    }
    Ok(bytes)
}

/// Parses a record from JSON in any layout (as a person writes it). Errors name the field,
/// e.g. ``record field `subjects[0].imo`: …``. Nothing is validated beyond the types; see
/// [`Record::validate`].
pub fn parse_record_json(bytes: &[u8]) -> Result<Record, RecordError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let record: Record = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path.is_empty() || path == "." {
            RecordError::Malformed(inner.to_string())
        } else {
            RecordError::Malformed(format!("`{path}`: {inner}"))
        }
    })?;
    de.end()
        .map_err(|e| RecordError::Malformed(e.to_string()))?;
    Ok(record)
}

/// Parses record bytes and checks that they are exactly the canonical encoding of the record
/// they hold, so that one record has one byte string, one id and one signature input.
///
/// This check re-encodes the parsed record and compares; signature verification itself never
/// re-encodes: it runs over the bytes received.
pub fn decode_record(bytes: &[u8]) -> Result<Record, RecordError> {
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(RecordError::TooLarge {
            size: bytes.len(),
            max: MAX_RECORD_BYTES,
        });
    }
    let record = parse_record_json(bytes)?;
    let canonical = encode_record(&record)?;
    if canonical != bytes {
        let at = canonical
            .iter()
            .zip(bytes)
            .position(|(a, b)| a != b)
            .unwrap_or(canonical.len().min(bytes.len()));
        return Err(RecordError::NonCanonical(format!(
            "first difference from the canonical form at byte {at} (canonical length {}, given {}); \
             write members sorted, without whitespace, with empty optional fields left out",
            canonical.len(),
            bytes.len()
        )));
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(v: &Value) -> String {
        String::from_utf8(to_canonical(v).unwrap_or_default()).unwrap_or_default()
    }

    #[test]
    fn sorts_members_and_drops_whitespace() {
        let v = json!({"b": 1, "a": [true, null, {"d": "x", "c": -2}]});
        assert_eq!(canon(&v), r#"{"a":[true,null,{"c":-2,"d":"x"}],"b":1}"#);
    }

    #[test]
    fn sorts_by_utf16_code_units() {
        // In UTF-8 byte order U+FB01 (EF AC 81) precedes U+1F600 (F0 9F 98 80); in UTF-16 the
        // surrogate 0xD83D of U+1F600 precedes 0xFB01, and RFC 8785 sorts by UTF-16.
        let v = json!({"\u{FB01}": 2, "\u{1F600}": 1});
        assert_eq!(canon(&v), "{\"\u{1F600}\":1,\"\u{FB01}\":2}");
    }

    #[test]
    fn escapes_minimally() {
        let v = json!("a\"b\\c\u{8}\u{c}\n\r\t\u{1}\u{7f}é/\u{2028}");
        assert_eq!(
            canon(&v),
            "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\u{7f}é/\u{2028}\""
        );
    }

    #[test]
    fn refuses_floats_and_large_integers() {
        assert!(to_canonical(&json!(1.5)).is_err());
        assert!(to_canonical(&json!(9_007_199_254_740_992_u64)).is_err());
        assert!(to_canonical(&json!(-9_007_199_254_740_992_i64)).is_err());
        assert_eq!(canon(&json!(9_007_199_254_740_991_u64)), "9007199254740991");
        assert_eq!(
            canon(&json!(-9_007_199_254_740_991_i64)),
            "-9007199254740991"
        );
    }
}
