//! Selectors by their real-world identity (docs/search.md, "Selectors"): phone numbers as
//! E.164 (libphonenumber's data, the `phonenumber` crate), accounts as IBANs with the ISO 13616
//! checksum verified (the `iban_validate` crate), travel documents by number without spacing
//! and with the letter O read as the digit 0, vessels by IMO number (check digit verified) or
//! MMSI.
//!
//! The same functions build the index and read a query, so a query finds what was indexed
//! however it was typed.

use std::str::FromStr;

/// A phone number as typed, with the country it was dialled in when it is written nationally,
/// to E.164 (`+923012345678`). A number with `+` or `00` needs no country.
pub(crate) fn phone(input: &str, country: Option<&str>) -> Result<String, String> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err("the phone number is empty".into());
    }
    let international = trimmed.starts_with('+') || trimmed.starts_with("00");
    let region = match country {
        Some(c) => Some(
            phonenumber::country::Id::from_str(&c.trim().to_ascii_uppercase()).map_err(|_| {
                format!("`{c}` is not a country libphonenumber knows (ISO 3166-1 alpha-2, e.g. PK)")
            })?,
        ),
        None if international => None,
        None => {
            return Err(format!(
                "`{input}` is written nationally: give its country (e.g. --phone-country PK), \
                 or write it with + and the country code"
            ));
        }
    };
    let text = match trimmed.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => trimmed.to_owned(),
    };
    let number = phonenumber::parse(region, &text)
        .map_err(|e| format!("`{input}` is not a phone number: {e}"))?;
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// Why a phone number in E.164 form cannot be published: libphonenumber does not know it as a
/// number of its country code (a digit missing or extra, or a range not in use).
pub(crate) fn phone_problem(e164: &str) -> Option<String> {
    match phonenumber::parse(None, e164) {
        Err(e) => Some(format!("`{e164}` is not a phone number: {e}")),
        Ok(n) if !n.is_valid() => Some(format!(
            "`{e164}` is not a valid number for country code +{} (libphonenumber: wrong length \
             or a range not in use)",
            n.code().value()
        )),
        Ok(_) => None,
    }
}

/// Whether an account identifier is written as an IBAN: two letters, two check digits, then
/// letters and digits (spaces ignored), under a country code IBANs are issued in.
fn looks_like_iban(folded: &str) -> bool {
    let b = folded.as_bytes();
    b.len() >= 15
        && b.len() <= 34
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_uppercase()
        && b[2].is_ascii_digit()
        && b[3].is_ascii_digit()
        && b.iter().all(u8::is_ascii_alphanumeric)
}

/// An account identifier folded: letters and digits only, upper case.
fn fold_account(input: &str) -> String {
    input
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// An account identifier's key: an IBAN in its electronic form when it is one, otherwise the
/// identifier's letters and digits in upper case. An identifier written as an IBAN whose
/// checksum fails is an error naming the rule.
pub(crate) fn account(input: &str) -> Result<String, String> {
    let folded = fold_account(input);
    if folded.is_empty() {
        return Err(format!("`{input}` has no letters or digits"));
    }
    if looks_like_iban(&folded) {
        match folded.parse::<iban::Iban>() {
            Ok(i) => return Ok(iban::IbanLike::electronic_str(&i).to_owned()),
            Err(iban::ParseIbanError::InvalidBaseIban {
                source: iban::ParseBaseIbanError::InvalidChecksum,
            }) => {
                return Err(format!(
                    "IBAN `{input}` fails its checksum (ISO 13616: the number mod 97 must be 1); \
                     a digit is wrong or two are swapped"
                ));
            }
            Err(iban::ParseIbanError::InvalidBban(_)) => {
                return Err(format!(
                    "IBAN `{input}` does not have the length and layout {} IBANs have",
                    &folded[..2]
                ));
            }
            // not a country IBANs are issued in: an account number like any other
            Err(_) => {}
        }
    }
    Ok(folded)
}

/// Whether an account key (of [`account`]) is a valid IBAN.
pub(crate) fn is_iban(key: &str) -> bool {
    looks_like_iban(key) && key.parse::<iban::Iban>().is_ok()
}

/// A travel document number's key: letters and digits, upper case, the letter O read as the
/// digit 0 (the two are confused in every hand-copied number and the machine-readable zone
/// uses no letter O where a digit may stand).
pub(crate) fn document(input: &str) -> String {
    input
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .map(|c| if c == 'O' { '0' } else { c })
        .collect()
}

/// An IMO ship number as typed (`IMO 9074729`, `9074729`): its seven digits, with the check
/// digit verified.
pub(crate) fn imo(input: &str) -> Result<String, String> {
    crate::draft::imo_check_digit(input)?;
    Ok(input.chars().filter(char::is_ascii_digit).collect())
}

/// An MMSI as typed: nine digits.
pub(crate) fn mmsi(input: &str) -> Result<String, String> {
    let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    let digits = digits
        .strip_prefix("MMSI")
        .or_else(|| digits.strip_prefix("mmsi"))
        .unwrap_or(&digits);
    if digits.len() == 9 && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits.to_owned())
    } else {
        Err(format!("`{input}` is not an MMSI (9 digits)"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_phone_entered_nationally_and_internationally_is_one_number() {
        let national = phone("0301 2345678", Some("PK")).unwrap();
        assert_eq!(national, "+923012345678");
        assert_eq!(phone("+92 301 2345678", None).unwrap(), national);
        assert_eq!(phone("0092-301-2345678", None).unwrap(), national);
        assert_eq!(phone("081 000 0101", Some("th")).unwrap(), "+66810000101");
        let err = phone("0301 2345678", None).unwrap_err();
        assert!(err.contains("give its country"), "{err}");
        let err = phone("0301 2345678", Some("XX")).unwrap_err();
        assert!(err.contains("`XX`"), "{err}");
    }

    #[test]
    fn a_phone_outside_its_plan_is_named() {
        assert_eq!(phone_problem("+923012345678"), None);
        let err = phone_problem("+9230123456").unwrap();
        assert!(err.contains("+92"), "{err}");
    }

    #[test]
    fn an_iban_is_checked_and_folded() {
        assert_eq!(
            account("TR33 0006 1005 1978 6457 8413 26").unwrap(),
            "TR330006100519786457841326"
        );
        let err = account("TR34 0006 1005 1978 6457 8413 26").unwrap_err();
        assert!(err.contains("checksum"), "{err}");
        assert!(err.contains("TR34"), "{err}");
        // other account numbers: letters and digits, upper case
        assert_eq!(account("12-3456-789 0").unwrap(), "1234567890");
        assert_eq!(
            account("bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh")
                .unwrap()
                .len(),
            42
        );
        // only a valid IBAN is named one: a look-alike (its checksum right) under a code that
        // issues no IBANs is not
        assert!(is_iban("TR330006100519786457841326"));
        assert!(!is_iban("1234567890"));
        let look_alike = account("XY80 1234 5678 9012 3456").unwrap();
        assert_eq!(look_alike, "XY801234567890123456");
        assert!(!is_iban(&look_alike));
    }

    #[test]
    fn document_numbers_ignore_spacing_and_the_letter_o() {
        assert_eq!(document("u 1234 567 o"), "U12345670");
        assert_eq!(document("U1234567O"), document("u12345670"));
    }

    #[test]
    fn imo_check_digits_are_verified() {
        assert_eq!(imo("IMO 9074729").unwrap(), "9074729");
        let err = imo("9074728").unwrap_err();
        assert!(err.contains("check digit"), "{err}");
        assert_eq!(mmsi("271 000 999").unwrap(), "271000999");
        assert!(mmsi("27100099").is_err());
    }
}
