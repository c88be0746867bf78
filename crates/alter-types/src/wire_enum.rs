//! The `wire_enum!` macro: string-valued protocol enums that keep values they do not know.
//!
//! The backend adds enum values over time (new providers, new statuses). A client that refused
//! them would break on every backend release, so each generated enum has one extra variant that
//! stores any other string. The string survives a round trip unchanged.
//!
//! Generated for each enum: the variants (each documented with its wire value), the keep-anything
//! variant, `ALL`, `as_str()`, `is_unknown()`, `Display`, infallible `FromStr`, `From<&str>`,
//! `From<String>`, `PartialEq<str>`, and serde through the wire string. Equality and hashing go
//! through the wire string, so `Unknown("agent")` built by hand still equals `Agent`.

use std::borrow::Cow;

/// Normaliser for enums whose wire strings are matched exactly.
pub(crate) fn verbatim(value: &str) -> Cow<'_, str> {
    Cow::Borrowed(value)
}

/// Normaliser for HTTP methods: the reference client upper-cases any string it is given.
pub(crate) fn upper_case(value: &str) -> Cow<'_, str> {
    if value.chars().any(char::is_lowercase) {
        Cow::Owned(value.to_uppercase())
    } else {
        Cow::Borrowed(value)
    }
}

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )+
        }
        other: $(#[$ometa:meta])* $other:ident,
        normalize: $normalize:path $(,)?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[doc = concat!("Wire value `", $wire, "`.")]
                $variant,
            )+
            $(#[$ometa])*
            $other(String),
        }

        impl $name {
            /// Every value this crate knows, in protocol order (the catch-all variant excluded).
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// The wire string of this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::$other(value) => value,
                }
            }

            /// Whether this value is outside the set this crate knows.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::$other(_))
            }

            fn from_wire(value: &str) -> Self {
                let value = $normalize(value);
                match &*value {
                    $($wire => Self::$variant,)+
                    _ => Self::$other(value.into_owned()),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self::from_wire(value))
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::from_wire(value)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::from_wire(&value)
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.as_str() == other.as_str()
            }
        }

        impl Eq for $name {}

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl ::std::hash::Hash for $name {
            fn hash<H: ::std::hash::Hasher>(&self, state: &mut H) {
                self.as_str().hash(state);
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <String as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from_wire(&value))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_case_borrows_when_nothing_changes() {
        assert!(matches!(upper_case("GET"), Cow::Borrowed("GET")));
        assert_eq!(upper_case("pAtCh"), "PATCH");
        assert_eq!(verbatim("Get"), "Get");
    }
}
