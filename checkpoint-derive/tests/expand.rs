//! Expansion snapshots: each `tests/expand/NAME.rs` is expanded by the
//! macro's own code (its modules are compiled into this test) and compared
//! with `tests/expand/NAME.expanded.rs`, the code `cargo expand` would show.
//! `UPDATE_SNAPSHOTS=1 cargo test -p checkpoint-macros --test expand`
//! rewrites the snapshots; read the diff before committing it.

#[path = "../src/args.rs"]
mod args;
#[path = "../src/changes.rs"]
mod changes;
#[path = "../src/expand.rs"]
mod expand;
#[path = "../src/globals.rs"]
mod globals;
#[path = "../src/model.rs"]
mod model;
#[path = "../src/valid.rs"]
mod valid;

use std::fs;
use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{Attribute, ImplItem, ImplItemFn, Item, ItemFn, Meta};

/// Expands every `#[checkpointed]` function of the file, in place.
fn expand_file(source: &str, path: &Path) -> String {
    let mut file = syn::parse_file(source)
        .unwrap_or_else(|err| panic!("{} does not parse: {err}", path.display()));
    let mut expanded = 0;
    for item in &mut file.items {
        match item {
            Item::Fn(function) => {
                if let Some(args) = take_checkpointed(&mut function.attrs) {
                    *function = syn::parse2(expand_fn(args, function.to_token_stream(), path))
                        .expect("the expansion is a function");
                    expanded += 1;
                }
            }
            Item::Impl(block) => {
                for member in &mut block.items {
                    if let ImplItem::Fn(method) = member
                        && let Some(args) = take_checkpointed(&mut method.attrs)
                    {
                        *method = syn::parse2::<ImplItemFn>(expand_fn(
                            args,
                            method.to_token_stream(),
                            path,
                        ))
                        .expect("the expansion is a method");
                        expanded += 1;
                    }
                }
            }
            _ => {}
        }
    }
    assert!(
        expanded > 0,
        "{} has no #[checkpointed] function",
        path.display()
    );
    prettyplease::unparse(&file)
}

/// Removes `#[checkpointed(...)]` from `attrs` and returns its arguments,
/// as the compiler does before it calls the attribute.
fn take_checkpointed(attrs: &mut Vec<Attribute>) -> Option<TokenStream> {
    let position = attrs
        .iter()
        .position(|attr| attr.path().is_ident("checkpointed"))?;
    let attr = attrs.remove(position);
    Some(match attr.meta {
        Meta::Path(_) => TokenStream::new(),
        Meta::List(list) => list.tokens,
        Meta::NameValue(_) => panic!("`#[checkpointed = ...]` is not an attribute form"),
    })
}

fn expand_fn(args: TokenStream, function: TokenStream, path: &Path) -> TokenStream {
    // A method parses as a function too: only its position differs.
    syn::parse2::<ItemFn>(function.clone()).expect("a function");
    let output = expand::checkpointed(args, function);
    assert!(
        !output.to_string().contains("compile_error"),
        "{} expands to an error:\n{output}",
        path.display()
    );
    output
}

#[test]
fn expansions_match_snapshots() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/expand");
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|value| value == "1");
    let mut inputs: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("tests/expand exists")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| {
            path.extension().is_some_and(|ext| ext == "rs")
                && !path.to_string_lossy().ends_with(".expanded.rs")
        })
        .collect();
    inputs.sort();
    assert!(
        inputs.len() >= 6,
        "the snapshots went missing from {}",
        dir.display()
    );
    let mut mismatched = Vec::new();
    for input in &inputs {
        let source = fs::read_to_string(input).expect("the input is readable");
        let actual = expand_file(&source, input);
        let snapshot = input.with_extension("expanded.rs");
        if update {
            fs::write(&snapshot, &actual).expect("the snapshot is writable");
            continue;
        }
        match fs::read_to_string(&snapshot) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => {
                eprintln!("{} differs from its snapshot:", input.display());
                print_diff(&expected, &actual);
                mismatched.push(input.display().to_string());
            }
            Err(err) => {
                eprintln!("{}: {err}", snapshot.display());
                mismatched.push(input.display().to_string());
            }
        }
    }
    assert!(
        mismatched.is_empty(),
        "expansions differ from their snapshots: {mismatched:?}; \
         rerun with UPDATE_SNAPSHOTS=1 to accept them, then read the diff"
    );
}

/// A line-by-line diff, enough to see what moved.
fn print_diff(expected: &str, actual: &str) {
    let expected: Vec<&str> = expected.lines().collect();
    let actual: Vec<&str> = actual.lines().collect();
    for line in 0..expected.len().max(actual.len()) {
        match (expected.get(line), actual.get(line)) {
            (Some(old), Some(new)) if old == new => {}
            (old, new) => {
                if let Some(old) = old {
                    eprintln!("{:>5} - {old}", line + 1);
                }
                if let Some(new) = new {
                    eprintln!("{:>5} + {new}", line + 1);
                }
            }
        }
    }
}

/// Rustdoc renders a function from its attributes, visibility and
/// signature: the expansion must keep all three exactly as the user wrote
/// them, so the docs show the original signature and doc comments.
#[test]
fn expansions_keep_signature_visibility_and_attributes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/expand");
    let mut checked = 0;
    for entry in fs::read_dir(&dir).expect("tests/expand exists") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_none_or(|ext| ext != "rs")
            || path.to_string_lossy().ends_with(".expanded.rs")
        {
            continue;
        }
        let source = fs::read_to_string(&path).expect("the input is readable");
        let file = syn::parse_file(&source).expect("the input parses");
        let functions = file.items.iter().flat_map(|item| match item {
            Item::Fn(function) => vec![function.to_token_stream()],
            Item::Impl(block) => block
                .items
                .iter()
                .filter_map(|member| match member {
                    ImplItem::Fn(method) => Some(method.to_token_stream()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        });
        for tokens in functions {
            let mut original: ItemFn = syn::parse2(tokens).expect("a function");
            let Some(args) = take_checkpointed(&mut original.attrs) else {
                continue;
            };
            let expanded: ItemFn = syn::parse2(expand_fn(args, original.to_token_stream(), &path))
                .expect("the expansion is a function");
            let name = &original.sig.ident;
            assert_eq!(
                expanded.sig.to_token_stream().to_string(),
                original.sig.to_token_stream().to_string(),
                "{}: the signature of `{name}` changed",
                path.display()
            );
            assert_eq!(
                expanded.vis.to_token_stream().to_string(),
                original.vis.to_token_stream().to_string(),
                "{}: the visibility of `{name}` changed",
                path.display()
            );
            let attrs = |function: &ItemFn| {
                function
                    .attrs
                    .iter()
                    .map(|attr| attr.to_token_stream().to_string())
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                attrs(&expanded),
                attrs(&original),
                "{}: the attributes or doc comments of `{name}` changed",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 7, "only {checked} functions were checked");
}
