//! The shared vocabulary of the domain (docs/records.md): categories, handling codes, grading, roles, purposes.
//! Each is a closed set; extending one is a deliberate protocol change.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::IdError;

/// Declares a closed vocabulary: an enum with its exact wire names, `ALL`, `as_str`, parsing
/// (with the list of valid names in the error) and serde through the wire name.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The wire name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// Parses a wire name.
            pub fn parse(s: &str) -> Result<Self, $crate::error::IdError> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::error::IdError::Vocabulary {
                        what: $what,
                        value: s.to_owned(),
                        expected: [$($text,)+].join(", "),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::error::IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use vocabulary;

vocabulary! {
    /// What a record is about.
    Category, "category" {
        /// A smuggling or trafficking network, its members and structure.
        SmugglingNetwork = "smuggling-network",
        /// A route: legs through source, transit and destination countries.
        Route = "route",
        /// A vessel.
        Vessel = "vessel",
        /// A travel document, genuine, forged or misused.
        TravelDocument = "travel-document",
        /// Money flows, accounts, payments.
        Financial = "financial",
        /// Phones, accounts on messaging services.
        Communication = "communication",
        /// How a network operates.
        ModusOperandi = "modus-operandi",
        /// An urgent warning.
        Alert = "alert",
        /// The identification of a victim.
        VictimIdentification = "victim-identification",
        /// Coordinating the return of a victim to their home country.
        ReturnCoordination = "return-coordination",
        /// A request for information addressed to a focal point.
        RequestForInformation = "request-for-information",
        /// The answer to a request for information.
        Response = "response",
    }
}

vocabulary! {
    /// Europol-style handling codes, from the most permissive (`H0`) to the most restrictive
    /// (`H3`); the derived order is that order.
    HandlingCode, "handling code" {
        /// Use only to prevent and combat crime.
        H0 = "H0",
        /// Not for judicial proceedings without the originator's permission.
        H1 = "H1",
        /// No onward dissemination without the originator's permission.
        H2 = "H2",
        /// Other restrictions, stated in the record.
        H3 = "H3",
    }
}

vocabulary! {
    /// Source reliability, the letter of a 4x4 grading.
    SourceReliability, "source reliability" {
        /// Reliable: no doubt about the source's authenticity, trustworthiness or competence.
        A = "A",
        /// Mostly reliable.
        B = "B",
        /// Not reliable.
        C = "C",
        /// Reliability cannot be assessed.
        X = "X",
    }
}

vocabulary! {
    /// Information assessment, the digit of a 4x4 grading.
    InformationAssessment, "information assessment" {
        /// Known to be true without reservation.
        Known = "1",
        /// Known personally to the source but not to the official passing it on.
        KnownToSource = "2",
        /// Not known personally to the source but corroborated.
        Corroborated = "3",
        /// Cannot be judged.
        CannotBeJudged = "4",
    }
}

vocabulary! {
    /// A person's role in a record. A victim is never treated as an offender.
    PersonRole, "person role" {
        /// Suspected of an offence.
        Suspect = "suspect",
        /// Facilitates smuggling or trafficking.
        Facilitator = "facilitator",
        /// A smuggled person found in a trafficking situation, or any victim: protected.
        Victim = "victim",
        /// A witness.
        Witness = "witness",
    }
}

vocabulary! {
    /// A country's role on a route.
    LegRole, "route role" {
        /// Where the movement starts.
        Source = "source",
        /// Passed through.
        Transit = "transit",
        /// Where it ends.
        Destination = "destination",
    }
}

vocabulary! {
    /// Why victim-identifying data is shared; an agreement lists the purposes it permits.
    VictimPurpose, "victim data purpose" {
        /// Establishing who the victim is.
        Identification = "identification",
        /// Protecting and assisting the victim.
        Protection = "protection",
        /// The victim's return to their home country.
        Return = "return",
        /// Investigating and prosecuting the offenders.
        Investigation = "investigation",
    }
}

vocabulary! {
    /// The kind of a travel document.
    DocumentKind, "document kind" {
        /// A passport.
        Passport = "passport",
        /// A national identity card.
        IdentityCard = "identity-card",
        /// A visa.
        Visa = "visa",
        /// A residence permit.
        ResidencePermit = "residence-permit",
        /// A seafarer's or other travel document.
        Other = "other",
    }
}

/// A 4x4 grading such as `B2`: source reliability and information assessment.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Grading {
    /// The letter.
    pub source: SourceReliability,
    /// The digit.
    pub information: InformationAssessment,
}

impl Grading {
    /// Parses two characters, a letter `A` `B` `C` `X` and a digit `1` to `4`.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let err = || IdError::Vocabulary {
            what: "grading",
            value: s.to_owned(),
            expected:
                "a source letter A, B, C or X followed by an information digit 1 to 4, e.g. B2"
                    .into(),
        };
        if s.len() != 2 || !s.is_char_boundary(1) {
            return Err(err());
        }
        let source = SourceReliability::parse(&s[..1]).map_err(|_| err())?;
        let information = InformationAssessment::parse(&s[1..]).map_err(|_| err())?;
        Ok(Self {
            source,
            information,
        })
    }
}

impl fmt::Display for Grading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.source, self.information)
    }
}

impl FromStr for Grading {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Grading {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Grading {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()).ok(), Some(*c));
        }
        assert_eq!(Category::ALL.len(), 12);
        let err = Category::parse("smuggling")
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.contains("smuggling-network"), "{err}");
    }

    #[test]
    fn handling_order_is_permissive_to_restrictive() {
        assert!(HandlingCode::H0 < HandlingCode::H1);
        assert!(HandlingCode::H2 < HandlingCode::H3);
    }

    #[test]
    fn gradings() {
        assert_eq!(
            Grading::parse("B2").map(|g| g.to_string()).ok().as_deref(),
            Some("B2")
        );
        assert_eq!(
            Grading::parse("X4").map(|g| g.to_string()).ok().as_deref(),
            Some("X4")
        );
        for bad in ["D1", "A5", "A", "A12", "b2", "é1"] {
            assert!(Grading::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
