//! The expansions: `#[detsim::test]`, and `#[tokio::test]` / `#[tokio::main]` under detsim.
//!
//! Each keeps the user's function as a nested `async fn` (its body, return type and inner
//! attributes unchanged) and wraps it in a plain function with the user's name and attributes.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{AttrStyle, ItemFn};

use crate::args::{self, Arg};

const DETSIM_TEST: &str = "#[detsim::test]";
const DETSIM_ACCEPTED: &str = "`schedules = N`, `strategy = \"portfolio|random|fifo|pct[:depth]|urw|dfs[:bound]|delays[:bound]\"`, `seed = N`, `max_steps = N`, `jobs = N`, `crate = \"path::to::detsim\"`";
const TOKIO_TEST: &str = "#[tokio::test] (detsim-tokio under --cfg detsim)";
const TOKIO_ACCEPTED: &str = "`flavor = \"current_thread\"|\"multi_thread\"|\"local\"`, `worker_threads = N`, `start_paused = true|false`, `crate = \"path::to::tokio\"`";
const TOKIO_MAIN: &str = "#[tokio::main] (detsim-tokio under --cfg detsim)";

/// The parts of the user's function the expansions reuse.
struct Parts {
    outer: Vec<syn::Attribute>,
    inner: Vec<syn::Attribute>,
    vis: syn::Visibility,
    name: syn::Ident,
    output: syn::ReturnType,
    stmts: Vec<syn::Stmt>,
}

fn parts(item: TokenStream, macro_name: &str, example: &str) -> Result<Parts, syn::Error> {
    let f: ItemFn = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("{macro_name} goes on an `async fn`; write `{example}`"),
        )
    })?;
    let sig = &f.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            &sig.fn_token,
            format!(
                "{macro_name} needs an `async fn`: write `{example}` (the body is run by \
                 detsim's executor, so it must be async)"
            ),
        ));
    }
    if !sig.inputs.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.inputs,
            format!("{macro_name}: the function cannot take arguments; write `{example}`"),
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            format!("{macro_name}: the function cannot be generic; write `{example}`"),
        ));
    }
    let (outer, inner) = f
        .attrs
        .into_iter()
        .partition(|a| matches!(a.style, AttrStyle::Outer));
    Ok(Parts {
        outer,
        inner,
        vis: f.vis,
        name: f.sig.ident,
        output: f.sig.output,
        stmts: f.block.stmts,
    })
}

impl Parts {
    /// The user's function as a nested `async fn` named `inner`, inside a plain function with the
    /// user's name, attributes and visibility whose body is `call` (which awaits or runs `inner`).
    /// A test returns `()`; otherwise the plain function keeps the user's return type.
    fn wrap(self, test: bool, inner_name: &str, call: TokenStream) -> TokenStream {
        let Parts {
            outer,
            inner,
            vis,
            name,
            output,
            stmts,
        } = self;
        let inner_name = syn::Ident::new(inner_name, proc_macro2::Span::call_site());
        let (test_attr, ret) = if test {
            (quote!(#[::core::prelude::v1::test]), quote!())
        } else {
            (quote!(), quote!(#output))
        };
        quote! {
            #test_attr
            #(#outer)*
            #vis fn #name() #ret {
                async fn #inner_name() #output {
                    #(#inner)*
                    #(#stmts)*
                }
                #call
            }
        }
    }
}

fn find<'a>(args: &'a [Arg], name: &str) -> Option<&'a Arg> {
    args.iter().find(|a| a.name == name)
}

fn reject_unknown(
    args: &[Arg],
    known: &[&str],
    macro_name: &str,
    accepted: &str,
) -> Result<(), syn::Error> {
    match args.iter().find(|a| !known.contains(&a.name.as_str())) {
        Some(a) => Err(syn::Error::new(
            a.span,
            format!(
                "{macro_name}: unknown argument `{}`; accepted: {accepted}",
                a.name
            ),
        )),
        None => Ok(()),
    }
}

fn krate(args: &[Arg], macro_name: &str, default: &str) -> Result<syn::Path, syn::Error> {
    match find(args, "crate") {
        Some(a) => a.path(macro_name),
        None => Ok(syn::parse_str(default).expect("a valid default path")),
    }
}

/// `#[detsim::test(...)] async fn name() { ... }`.
pub(crate) fn detsim_test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_detsim_test(args, item).unwrap_or_else(|e| e.to_compile_error())
}

fn expand_detsim_test(args: TokenStream, item: TokenStream) -> Result<TokenStream, syn::Error> {
    let args = args::parse(DETSIM_TEST, args, DETSIM_ACCEPTED)?;
    reject_unknown(
        &args,
        &[
            "schedules",
            "strategy",
            "seed",
            "max_steps",
            "jobs",
            "crate",
        ],
        DETSIM_TEST,
        DETSIM_ACCEPTED,
    )?;
    let krate = krate(&args, DETSIM_TEST, "::detsim")?;
    let mut settings = Vec::new();
    for a in &args {
        let setting = match a.name.as_str() {
            "schedules" => {
                let n = positive(a, DETSIM_TEST)?;
                quote!(.schedules(#n))
            }
            "seed" => {
                let n = a.int(DETSIM_TEST)?;
                quote!(.seed(#n))
            }
            "max_steps" => {
                let n = positive(a, DETSIM_TEST)?;
                quote!(.max_steps(#n))
            }
            "jobs" => {
                let n = positive(a, DETSIM_TEST)? as usize;
                quote!(.jobs(#n))
            }
            "strategy" => {
                let s = a.str(DETSIM_TEST)?;
                quote!(.strategy(#krate::__private::strategy_argument(#s)))
            }
            _ => continue,
        };
        settings.push(setting);
    }
    let p = parts(item, DETSIM_TEST, "#[detsim::test] async fn name() { … }")?;
    Ok(p.wrap(
        true,
        "__detsim_test_body",
        quote! {
            #krate::Builder::new()
                #(#settings)*
                .check(|| async {
                    #krate::__private::TestOutput::check(__detsim_test_body().await)
                });
        },
    ))
}

fn positive(a: &Arg, macro_name: &str) -> Result<u64, syn::Error> {
    let n = a.int(macro_name)?;
    if n == 0 {
        return Err(syn::Error::new(
            a.span,
            format!(
                "{macro_name}: `{} = 0` is not allowed; pass 1 or more",
                a.name
            ),
        ));
    }
    Ok(n)
}

/// `#[tokio::test(...)]` under detsim.
pub(crate) fn tokio_test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_tokio_test(args, item).unwrap_or_else(|e| e.to_compile_error())
}

fn expand_tokio_test(args: TokenStream, item: TokenStream) -> Result<TokenStream, syn::Error> {
    let krate = tokio_args(args, TOKIO_TEST)?;
    let p = parts(item, TOKIO_TEST, "#[tokio::test] async fn name() { … }")?;
    Ok(p.wrap(
        true,
        "__detsim_test_body",
        quote! {
            #krate::__private::test(|| async {
                #krate::__private::detsim::__private::TestOutput::check(
                    __detsim_test_body().await,
                )
            });
        },
    ))
}

/// Checks tokio's attribute arguments (accepted, and meaning the same on detsim's one thread);
/// returns the `crate` path.
fn tokio_args(args: TokenStream, macro_name: &str) -> Result<syn::Path, syn::Error> {
    let args = args::parse(macro_name, args, TOKIO_ACCEPTED)?;
    reject_unknown(
        &args,
        &["flavor", "worker_threads", "start_paused", "crate"],
        macro_name,
        TOKIO_ACCEPTED,
    )?;
    if let Some(a) = find(&args, "flavor") {
        let f = a.str(macro_name)?;
        if !["current_thread", "multi_thread", "local"].contains(&f) {
            return Err(syn::Error::new(
                a.span,
                format!(
                    "{macro_name}: `flavor = {f:?}` is not a flavor; write `\"current_thread\"`, \
                     `\"multi_thread\"` or `\"local\"` (all run on detsim's one thread)"
                ),
            ));
        }
    }
    if let Some(a) = find(&args, "worker_threads") {
        positive(a, macro_name)?;
    }
    if let Some(a) = find(&args, "start_paused") {
        a.bool(macro_name)?;
    }
    krate(&args, macro_name, "::tokio")
}

/// `#[tokio::main]` under detsim.
pub(crate) fn tokio_main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_tokio_main(args, item).unwrap_or_else(|e| e.to_compile_error())
}

fn expand_tokio_main(args: TokenStream, item: TokenStream) -> Result<TokenStream, syn::Error> {
    let krate = tokio_args(args, TOKIO_MAIN)?;
    let p = parts(item, TOKIO_MAIN, "#[tokio::main] async fn main() { … }")?;
    Ok(p.wrap(
        false,
        "__detsim_main_body",
        quote!(#krate::__private::main(__detsim_main_body())),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(ts: TokenStream) -> String {
        let s = ts.to_string();
        assert!(s.contains("compile_error"), "{s}");
        s
    }

    #[test]
    fn a_plain_test_expands_to_a_check() {
        let out = detsim_test(
            quote!(),
            quote!(
                async fn adds() {
                    assert_eq!(1 + 1, 2);
                }
            ),
        );
        let s = out.to_string();
        assert!(s.contains("fn adds ()"), "{s}");
        assert!(s.contains(":: detsim :: Builder :: new ()"), "{s}");
        assert!(s.contains(". check"), "{s}");
    }

    #[test]
    fn arguments_become_builder_settings() {
        let out = detsim_test(
            quote!(
                schedules = 10_000,
                strategy = "pct:3",
                seed = 7,
                max_steps = 500,
                jobs = 2
            ),
            quote!(
                async fn t() {}
            ),
        );
        let s = out.to_string();
        for want in [
            ". schedules (10000u64)",
            "strategy_argument (\"pct:3\")",
            ". seed (7u64)",
            ". max_steps (500u64)",
            ". jobs (2usize)",
        ] {
            assert!(s.contains(want), "{want} missing from {s}");
        }
    }

    #[test]
    fn a_non_async_fn_says_what_to_write() {
        let s = err(detsim_test(
            quote!(),
            quote!(
                fn t() {}
            ),
        ));
        assert!(s.contains("needs an `async fn`"), "{s}");
        assert!(s.contains("#[detsim::test] async fn name()"), "{s}");
    }

    #[test]
    fn an_unknown_argument_lists_the_accepted_ones() {
        let s = err(detsim_test(
            quote!(iterations = 5),
            quote!(
                async fn t() {}
            ),
        ));
        assert!(s.contains("unknown argument `iterations`"), "{s}");
        assert!(s.contains("schedules = N"), "{s}");
    }

    #[test]
    fn wrong_value_types_and_zero_are_errors() {
        let s = err(detsim_test(
            quote!(schedules = "many"),
            quote!(
                async fn t() {}
            ),
        ));
        assert!(
            s.contains("`schedules` takes an integer, not a string"),
            "{s}"
        );
        let s = err(detsim_test(
            quote!(jobs = 0),
            quote!(
                async fn t() {}
            ),
        ));
        assert!(s.contains("`jobs = 0` is not allowed"), "{s}");
        let s = err(detsim_test(
            quote!(seed = 1, seed = 2),
            quote!(
                async fn t() {}
            ),
        ));
        assert!(s.contains("given twice"), "{s}");
    }

    #[test]
    fn arguments_and_generics_are_rejected() {
        let s = err(detsim_test(
            quote!(),
            quote!(
                async fn t(x: u32) {}
            ),
        ));
        assert!(s.contains("cannot take arguments"), "{s}");
        let s = err(detsim_test(
            quote!(),
            quote!(
                async fn t<T>() {}
            ),
        ));
        assert!(s.contains("cannot be generic"), "{s}");
    }

    #[test]
    fn the_return_type_and_attributes_are_kept() {
        let out = detsim_test(
            quote!(),
            quote!(
                #[should_panic]
                async fn t() -> Result<(), String> {
                    Err("x".into())
                }
            ),
        );
        let s = out.to_string();
        assert!(s.contains("# [should_panic]"), "{s}");
        assert!(s.contains("-> Result < () , String >"), "{s}");
    }

    #[test]
    fn tokio_test_accepts_tokio_arguments_and_a_crate_path() {
        let out = tokio_test(
            quote!(
                flavor = "multi_thread",
                worker_threads = 4,
                start_paused = true,
                crate = "my_tokio"
            ),
            quote!(
                async fn t() {}
            ),
        );
        let s = out.to_string();
        assert!(s.contains("my_tokio :: __private :: test"), "{s}");
        let s = err(tokio_test(
            quote!(flavor = "threaded"),
            quote!(
                async fn t() {}
            ),
        ));
        assert!(s.contains("is not a flavor"), "{s}");
        let s = err(tokio_test(
            quote!(start_paused = 1),
            quote!(
                async fn t() {}
            ),
        ));
        assert!(s.contains("`start_paused` takes a bool"), "{s}");
        let s = err(tokio_test(
            quote!(),
            quote!(
                fn t() {}
            ),
        ));
        assert!(s.contains("#[tokio::test] async fn name()"), "{s}");
    }

    #[test]
    fn tokio_main_is_one_run() {
        let s = tokio_main(
            quote!(),
            quote!(
                async fn main() {}
            ),
        )
        .to_string();
        assert!(
            s.contains(":: tokio :: __private :: main (__detsim_main_body ())"),
            "{s}"
        );
        assert!(!s.contains("test"), "{s}");
    }
}
