//! What a person asked for, as typed (command line, API query string or console form), and
//! the one search it parses into.

use accord_protocol::{Country, PartialDate};

use super::words::{MIN_WORD, query_words};
use super::{SearchError, names, selectors};
use names::Name;

fn invalid(option: &'static str, reason: impl Into<String>) -> SearchError {
    SearchError::Invalid {
        option,
        reason: reason.into(),
    }
}

/// What a person asked for, as typed (command line, API query string or console form).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchText {
    /// A person's name.
    pub person: Option<String>,
    /// With `person`: a date of birth, `YYYY[-MM[-DD]]`.
    pub born: Option<String>,
    /// With `person`: a lower threshold.
    pub fuzzy: bool,
    /// A phone number.
    pub phone: Option<String>,
    /// The country a nationally written phone number is in.
    pub phone_country: Option<String>,
    /// An account (IBAN or other).
    pub account: Option<String>,
    /// A travel document number.
    pub document: Option<String>,
    /// With `document`: the issuing country.
    pub issuer: Option<String>,
    /// A vessel: IMO number, MMSI or (part of) its name.
    pub vessel: Option<String>,
    /// Words of free text.
    pub text: Option<String>,
}

impl SearchText {
    /// The parameter names, as the API's query string and the console's form spell them.
    pub const NAMES: [&'static str; 10] = [
        "person",
        "born",
        "fuzzy",
        "phone",
        "phone_country",
        "account",
        "document",
        "issuer",
        "vessel",
        "text",
    ];

    /// Whether any search term is given.
    pub fn any(&self) -> bool {
        self.person.is_some()
            || self.phone.is_some()
            || self.account.is_some()
            || self.document.is_some()
            || self.vessel.is_some()
            || self.text.is_some()
    }

    /// Sets the parameter `name` from a query string or form; false for an unknown name.
    pub fn set(&mut self, name: &str, value: &str) -> bool {
        let v = (!value.trim().is_empty()).then(|| value.trim().to_owned());
        match name {
            "person" => self.person = v,
            "born" => self.born = v,
            "fuzzy" => self.fuzzy = matches!(value.trim(), "1" | "true" | "on" | "yes"),
            "phone" => self.phone = v,
            "phone_country" => self.phone_country = v,
            "account" => self.account = v,
            "document" => self.document = v,
            "issuer" => self.issuer = v,
            "vessel" => self.vessel = v,
            "text" => self.text = v,
            _ => return false,
        }
        true
    }

    /// The given parameters as (name, value) pairs, for a query string.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let mut add = |n: &'static str, v: &Option<String>| {
            if let Some(v) = v {
                out.push((n, v.clone()));
            }
        };
        add("person", &self.person);
        add("born", &self.born);
        add("phone", &self.phone);
        add("phone_country", &self.phone_country);
        add("account", &self.account);
        add("document", &self.document);
        add("issuer", &self.issuer);
        add("vessel", &self.vessel);
        add("text", &self.text);
        if self.fuzzy {
            out.push(("fuzzy", "1".into()));
        }
        out
    }

    /// Parses the terms into one search; more than one kind at once, or a term that does not
    /// parse, is an error naming the option.
    pub fn parse(&self) -> Result<Find, SearchError> {
        let given: Vec<&str> = [
            ("person", self.person.is_some()),
            ("phone", self.phone.is_some()),
            ("account", self.account.is_some()),
            ("document", self.document.is_some()),
            ("vessel", self.vessel.is_some()),
            ("text", self.text.is_some()),
        ]
        .iter()
        .filter(|(_, g)| *g)
        .map(|(n, _)| *n)
        .collect();
        if given.len() > 1 {
            return Err(invalid(
                "person",
                format!(
                    "search for one thing at a time: --{} were given together",
                    given.join(" and --")
                ),
            ));
        }
        if self.born.is_some() && self.person.is_none() {
            return Err(invalid(
                "born",
                "a date of birth narrows a --person search; give --person",
            ));
        }
        if self.fuzzy && self.person.is_none() {
            return Err(invalid(
                "fuzzy",
                "--fuzzy widens a --person search; give --person",
            ));
        }
        if self.phone_country.is_some() && self.phone.is_none() {
            return Err(invalid(
                "phone-country",
                "give the --phone it is the country of",
            ));
        }
        if self.issuer.is_some() && self.document.is_none() {
            return Err(invalid("issuer", "give the --document it issued"));
        }
        if let Some(name) = &self.person {
            let analysed = names::analyse(name);
            if analysed.parts.is_empty() {
                return Err(invalid(
                    "person",
                    format!("`{name}` has no letters to search for"),
                ));
            }
            let born = self
                .born
                .as_deref()
                .map(|b| PartialDate::parse(b.trim()).map_err(|e| invalid("born", e.to_string())))
                .transpose()?;
            return Ok(Find::Person {
                name: analysed,
                born,
                fuzzy: self.fuzzy,
            });
        }
        if let Some(p) = &self.phone {
            let e164 = selectors::phone(p, self.phone_country.as_deref())
                .map_err(|e| invalid("phone", e))?;
            return Ok(Find::Phone {
                typed: p.clone(),
                e164,
            });
        }
        if let Some(a) = &self.account {
            let key = selectors::account(a).map_err(|e| invalid("account", e))?;
            return Ok(Find::Account { key });
        }
        if let Some(d) = &self.document {
            let key = selectors::document(d);
            if key.is_empty() {
                return Err(invalid(
                    "document",
                    format!("`{d}` has no letters or digits"),
                ));
            }
            let issuer = self
                .issuer
                .as_deref()
                .map(|c| {
                    Country::new(&c.trim().to_ascii_uppercase())
                        .map_err(|e| invalid("issuer", e.to_string()))
                })
                .transpose()?;
            return Ok(Find::Document {
                typed: d.clone(),
                key,
                issuer,
            });
        }
        if let Some(v) = &self.vessel {
            let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
            let digits = compact
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .to_owned();
            let lower = compact.to_ascii_lowercase();
            if digits.len() == 7
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !lower.starts_with("mmsi")
            {
                let imo = selectors::imo(&digits).map_err(|e| invalid("vessel", e))?;
                return Ok(Find::Imo(imo));
            }
            if digits.len() == 9 && digits.bytes().all(|b| b.is_ascii_digit()) {
                return Ok(Find::Mmsi(
                    selectors::mmsi(&digits).map_err(|e| invalid("vessel", e))?,
                ));
            }
            let words = query_words(v);
            if words.is_empty() {
                return Err(invalid(
                    "vessel",
                    format!("`{v}` has no words to search for"),
                ));
            }
            return Ok(Find::VesselName(words));
        }
        if let Some(t) = &self.text {
            let words = query_words(t);
            if words.is_empty() {
                return Err(invalid(
                    "text",
                    format!("`{t}` has no words of {MIN_WORD} letters or more to search for"),
                ));
            }
            return Ok(Find::Text(words));
        }
        Err(invalid(
            "person",
            "give what to search for: --person, --phone, --account, --document, --vessel or --text",
        ))
    }
}

/// One search, parsed.
#[derive(Clone, Debug)]
pub enum Find {
    /// A person by name, perhaps with a date of birth.
    Person {
        /// The name, analysed.
        name: Name,
        /// The date of birth given.
        born: Option<PartialDate>,
        /// `--fuzzy`: the lower threshold, and skeletons one edit away read too.
        fuzzy: bool,
    },
    /// A phone number.
    Phone {
        /// As typed.
        typed: String,
        /// In E.164.
        e164: String,
    },
    /// An account.
    Account {
        /// Its key (an IBAN's electronic form).
        key: String,
    },
    /// A travel document.
    Document {
        /// As typed.
        typed: String,
        /// Its key.
        key: String,
        /// The issuing country, when given.
        issuer: Option<Country>,
    },
    /// A vessel by IMO number.
    Imo(String),
    /// A vessel by MMSI.
    Mmsi(String),
    /// A vessel by words of its name.
    VesselName(Vec<String>),
    /// Records by words of their text.
    Text(Vec<String>),
}
