//! Attribute arguments: `name = value` pairs, each checked against the forms a macro accepts.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, Meta, Token};

/// One argument: its name, its value and where it was written (for error spans).
pub(crate) struct Arg {
    pub(crate) name: String,
    pub(crate) value: Value,
    pub(crate) span: Span,
}

/// The literal forms an argument may take.
pub(crate) enum Value {
    Int(u64),
    Str(String),
    Bool(bool),
}

impl Value {
    fn describe(&self) -> &'static str {
        match self {
            Value::Int(_) => "an integer",
            Value::Str(_) => "a string",
            Value::Bool(_) => "a bool",
        }
    }
}

/// Parses `a = 1, b = "x", c = true`. `accepted` is the text listing the accepted arguments, put
/// in every error.
pub(crate) fn parse(
    macro_name: &str,
    args: TokenStream,
    accepted: &str,
) -> Result<Vec<Arg>, syn::Error> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut out = Vec::new();
    for meta in metas {
        let span = syn::spanned::Spanned::span(&meta);
        let Meta::NameValue(nv) = meta else {
            return Err(syn::Error::new(
                span,
                format!("{macro_name} takes `name = value` arguments; accepted: {accepted}"),
            ));
        };
        let name = nv
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect::<Vec<_>>()
            .join("::");
        let value = match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Int(i), ..
            }) => Value::Int(i.base10_parse::<u64>()?),
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => Value::Str(s.value()),
            Expr::Lit(ExprLit {
                lit: Lit::Bool(b), ..
            }) => Value::Bool(b.value),
            _ => {
                return Err(syn::Error::new(
                    span,
                    format!(
                        "{macro_name}: the value of `{name}` must be a literal (an integer, a \
                         string or a bool); accepted: {accepted}"
                    ),
                ));
            }
        };
        if out.iter().any(|a: &Arg| a.name == name) {
            return Err(syn::Error::new(
                span,
                format!("{macro_name}: `{name}` is given twice; write it once"),
            ));
        }
        out.push(Arg { name, value, span });
    }
    Ok(out)
}

impl Arg {
    /// The value as an integer, or an error naming the argument.
    pub(crate) fn int(&self, macro_name: &str) -> Result<u64, syn::Error> {
        match self.value {
            Value::Int(n) => Ok(n),
            ref v => Err(self.wrong(macro_name, "an integer", v)),
        }
    }

    /// The value as a string, or an error naming the argument.
    pub(crate) fn str(&self, macro_name: &str) -> Result<&str, syn::Error> {
        match &self.value {
            Value::Str(s) => Ok(s),
            v => Err(self.wrong(macro_name, "a string", v)),
        }
    }

    /// The value as a bool, or an error naming the argument.
    pub(crate) fn bool(&self, macro_name: &str) -> Result<bool, syn::Error> {
        match self.value {
            Value::Bool(b) => Ok(b),
            ref v => Err(self.wrong(macro_name, "a bool", v)),
        }
    }

    fn wrong(&self, macro_name: &str, want: &str, got: &Value) -> syn::Error {
        syn::Error::new(
            self.span,
            format!(
                "{macro_name}: `{}` takes {want}, not {}",
                self.name,
                got.describe()
            ),
        )
    }

    /// A `crate = "path"` value as a path.
    pub(crate) fn path(&self, macro_name: &str) -> Result<syn::Path, syn::Error> {
        let s = self.str(macro_name)?;
        syn::parse_str::<syn::Path>(s).map_err(|_| {
            syn::Error::new(
                self.span,
                format!(
                    "{macro_name}: `crate = {s:?}` is not a path; write e.g. `crate = \"::tokio\"`"
                ),
            )
        })
    }
}
