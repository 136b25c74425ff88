//! Calls that draw from a random generator no local holds: one kept by the
//! thread or the process (`rand::random()`, `rand::rng()`, `fastrand::u64(..)`,
//! `libc::rand()`). Its position is not saved, so a resume draws other
//! numbers than an uninterrupted run from the saved iteration on, even
//! when the program seeds it (`fastrand::seed(42)`).

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Expr, ExprCall};

/// `rand`'s functions that draw from, or hand out, its thread-local
/// generator.
const RAND: [&str; 8] = [
    "random",
    "random_range",
    "random_bool",
    "random_ratio",
    "random_iter",
    "thread_rng",
    "rng",
    "fill",
];

/// `libc`'s draws from the C library's generator.
const LIBC: [&str; 6] = ["rand", "random", "drand48", "erand48", "lrand48", "mrand48"];

/// Seeding calls: a loop that seeds the generator itself (`fastrand::seed(i)`
/// in every iteration) draws the same numbers on a resume.
const SEEDS: [&str; 4] = ["seed", "srand", "srandom", "srand48"];

/// The calls in `body` that draw from a generator kept by the thread or
/// the process, by their path as written, in the order met.
pub fn draws(body: &Expr) -> Vec<(String, Span)> {
    let mut finder = Finder::default();
    finder.visit_expr(body);
    finder
        .draws
        .into_iter()
        .filter(|(_, crate_name, _)| !finder.seeded.contains(crate_name))
        .map(|(path, _, span)| (path, span))
        .collect()
}

#[derive(Default)]
struct Finder {
    /// Path as written, its crate, where.
    draws: Vec<(String, String, Span)>,
    /// Crates whose generator the code seeds itself.
    seeded: Vec<String>,
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_expr_call(&mut self, node: &'ast ExprCall) {
        if let Expr::Path(path) = &*node.func
            && path.qself.is_none()
        {
            let segments: Vec<String> = path
                .path
                .segments
                .iter()
                .map(|segment| segment.ident.to_string())
                .collect();
            let first = segments.first().map_or("", String::as_str);
            let last = segments.last().map_or("", String::as_str);
            let draws = match (segments.len(), first) {
                (1, _) => last == "thread_rng",
                (2, "rand") => RAND.contains(&last),
                (2, "fastrand") => {
                    last != "get_seed" && last.starts_with(|c: char| c.is_ascii_lowercase())
                }
                (2, "libc") => LIBC.contains(&last),
                (2, "nanorand") => last == "tls_rng",
                _ => false,
            };
            let crate_name = if segments.len() == 1 { "rand" } else { first };
            if SEEDS.contains(&last) && segments.len() == 2 {
                self.seeded.push(crate_name.to_owned());
            } else if draws {
                let written = segments.join("::");
                self.draws
                    .push((written, crate_name.to_owned(), node.func.span()));
            }
        }
        visit::visit_expr_call(self, node);
    }

    /// A function defined inside the loop is not run by it unless called,
    /// and its calls are its own; closures are walked (the loop runs them).
    fn visit_item(&mut self, _: &'ast syn::Item) {}

    /// A macro's arguments that parse as expressions are walked like code
    /// (`println!("{}", rand::random::<u8>())`).
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let as_list = |input: syn::parse::ParseStream| {
            syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated(input)
        };
        if let Ok(args) = mac.parse_body_with(as_list) {
            for arg in &args {
                self.visit_expr(arg);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(code: &str) -> Vec<String> {
        let body: Expr = syn::parse_str(code).expect("parses");
        draws(&body).into_iter().map(|(path, _)| path).collect()
    }

    #[test]
    fn draws_from_generators_no_local_holds_are_found() {
        assert_eq!(
            found(
                "for i in 0..n { x += rand::random::<f64>(); y += rand::rng().random_range(0..3); let mut r = thread_rng(); z += fastrand::i64(1..10); w ^= unsafe { libc::rand() }; }"
            ),
            [
                "rand::random",
                "rand::rng",
                "thread_rng",
                "fastrand::i64",
                "libc::rand"
            ]
        );
        assert_eq!(
            found("loop { println!(\"{}\", fastrand::u8(..)); break; }"),
            ["fastrand::u8"]
        );
    }

    #[test]
    fn seeded_generators_and_lookalikes_are_not() {
        assert!(
            found(
                "for i in 0..n { fastrand::seed(i); x += fastrand::f64(); let r = fastrand::Rng::with_seed(i); y += rng.random::<f64>(); z += random(); w += my::rand(); v += ChaCha8Rng::seed_from_u64(i).next_u64(); }"
            )
            .is_empty()
        );
    }
}
