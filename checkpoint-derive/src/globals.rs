//! What a loop changes that no local holds, so no `#[state]` can save it:
//!
//! - a random generator kept by the thread or the process (`rand::random()`,
//!   `rand::rng()`, `fastrand::u64(..)`, `libc::rand()`): a resume draws
//!   other numbers from the saved iteration on, even when the program
//!   seeds it (`fastrand::seed(42)`);
//! - a `static` (an atomic, a `Mutex`, a `thread_local!`, a `static mut`):
//!   a resume starts it from its value at the program's start.

use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Expr, ExprCall, Ident};

use crate::changes::{self, Target};
use crate::model::{mutable_bindings, pattern_bindings};

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

/// What `body` changes that no local holds, in the order met.
pub struct Found {
    /// Calls that draw from a generator kept by the thread or the process,
    /// by their path as written.
    pub draws: Vec<(String, Span)>,
    /// Statics changed, by their path as written.
    pub statics: Vec<(String, Span)>,
}

/// What `body`, the code of a save-point loop, changes that no local
/// holds. `locals` are the names bound around it (a local named in upper
/// case, a matrix `A`, is not taken for a static), `changing` those of
/// them Rust lets change.
pub fn changed_in(body: &Expr, locals: &[Ident], changing: &[Ident]) -> Found {
    let mut inner = Vec::new();
    BoundNames(&mut inner).visit_expr(body);
    let mut finder = Finder {
        locals: locals.iter().chain(&inner).cloned().collect(),
        varying: changing.iter().chain(&inner).cloned().collect(),
        ..Finder::default()
    };
    finder.visit_expr(body);
    let seeded = finder.seeded;
    Found {
        draws: finder
            .draws
            .into_iter()
            .filter(|(_, crate_name, _)| !seeded.contains(crate_name))
            .map(|(path, _, span)| (path, span))
            .collect(),
        statics: finder.statics,
    }
}

#[derive(Default)]
struct Finder {
    /// Path as written, its crate, where.
    draws: Vec<(String, String, Span)>,
    /// Crates whose generator the code seeds itself.
    seeded: Vec<String>,
    statics: Vec<(String, Span)>,
    /// Every name bound as a local, around the code or in it.
    locals: Vec<Ident>,
    /// The names whose value may differ from one iteration to the next:
    /// those bound in the code, and the `mut` ones around it.
    varying: Vec<Ident>,
}

impl Finder {
    /// The static `place` belongs to, if it does: a path whose last name
    /// is in upper case (`EVALS`, `stats::CACHE`), not a local's, or a
    /// field or element of one (`TOTALS.sum`, `HITS[i]`).
    fn static_in(&self, place: &Expr) -> Option<String> {
        let path = match place {
            Expr::Path(path) => path,
            Expr::Field(field) => return self.static_in(&field.base),
            Expr::Index(index) => return self.static_in(&index.expr),
            Expr::Paren(paren) => return self.static_in(&paren.expr),
            _ => return None,
        };
        let last = &path.path.segments.last()?.ident;
        let name = last.to_string();
        let upper = name.chars().any(|c| c.is_ascii_uppercase())
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if path.qself.is_some() || !upper || self.locals.contains(last) {
            return None;
        }
        Some(path_text(&path.path))
    }

    /// A change of `place`: a static, or one whose inside `place`
    /// reaches through a lock (`*BEST.lock().unwrap() = ..`).
    fn static_changed(&mut self, place: &Expr, span: Span) {
        let name = self
            .static_in(place)
            .or_else(|| changes::lent_place(place).and_then(|lent| self.static_in(lent)));
        if let Some(name) = name
            && !self.statics.iter().any(|(found, _)| *found == name)
        {
            self.statics.push((name, span));
        }
    }
}

/// A path as written, without generic arguments: `stats::CACHE`.
fn path_text(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// Collects the names a piece of code binds (`let`, closure parameters,
/// `for`, `if let` and `match` patterns).
struct BoundNames<'a>(&'a mut Vec<Ident>);

impl<'ast> Visit<'ast> for BoundNames<'_> {
    fn visit_pat(&mut self, pat: &'ast syn::Pat) {
        pattern_bindings(pat, self.0);
    }
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
                let written = path_text(&path.path);
                self.draws
                    .push((written, crate_name.to_owned(), node.func.span()));
            }
        }
        visit::visit_expr_call(self, node);
    }

    fn visit_expr_method_call(&mut self, node: &'ast syn::ExprMethodCall) {
        let method = node.method.to_string();
        let changes = match method.as_str() {
            "with_borrow_mut" => true,
            // A static's lazy initialization (`CONFIG.get_or_init(load)`)
            // is the same value on a resume, unless it depends on the
            // iteration (`SCALE.get_or_init(|| max(&batch))`).
            method if changes::INITIALIZING_METHODS.contains(&method) => {
                node.args.first().is_some_and(|init| {
                    changes::mentions(init.to_token_stream())
                        .iter()
                        .any(|name| self.varying.contains(name))
                })
            }
            // `COUNTER.with(|c| c.set(..))`: a change if the closure changes
            // what `with` lends it.
            "with" => node.args.first().is_some_and(|arg| match arg {
                Expr::Closure(closure) => {
                    let mut lent = Vec::new();
                    for input in &closure.inputs {
                        pattern_bindings(input, &mut lent);
                    }
                    let targets: Vec<Target> = lent
                        .into_iter()
                        .map(|name| Target {
                            name,
                            mutable: false,
                            reference: false,
                            interior: true,
                        })
                        .collect();
                    !changes::in_expr(&closure.body, &targets).is_empty()
                }
                _ => false,
            }),
            _ => changes::changes_inside(&method, node.args.len()),
        };
        if changes {
            self.static_changed(&node.receiver, node.span());
        } else if changes::writes_through(&method)
            && let Some(lent) = changes::lent_place(&node.receiver)
        {
            // `CACHE.lock().unwrap().push(x)`
            self.static_changed(lent, node.span());
        }
        visit::visit_expr_method_call(self, node);
    }

    fn visit_expr_assign(&mut self, node: &'ast syn::ExprAssign) {
        self.static_changed(&node.left, node.span());
        visit::visit_expr_assign(self, node);
    }

    fn visit_expr_reference(&mut self, node: &'ast syn::ExprReference) {
        if node.mutability.is_some() {
            self.static_changed(&node.expr, node.span());
        }
        visit::visit_expr_reference(self, node);
    }

    /// `let mut best = BEST.lock().unwrap();`
    fn visit_local(&mut self, local: &'ast syn::Local) {
        if let Some(init) = &local.init
            && !mutable_bindings(&local.pat).is_empty()
            && let Some(lent) = changes::lent_place(&init.expr)
        {
            self.static_changed(lent, init.expr.span());
        }
        visit::visit_local(self, local);
    }

    fn visit_expr_binary(&mut self, node: &'ast syn::ExprBinary) {
        if changes::is_compound_assignment(&node.op) {
            self.static_changed(&node.left, node.span());
        }
        visit::visit_expr_binary(self, node);
    }

    /// A function defined inside the loop is not run by it unless called,
    /// and its calls are its own; closures are walked (the loop runs them).
    fn visit_item(&mut self, _: &'ast syn::Item) {}

    /// A macro's arguments that parse as expressions are walked like code
    /// (`println!("{}", rand::random::<u8>())`).
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        for arg in &changes::macro_arguments(mac) {
            self.visit_expr(arg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(code: &str) -> Vec<String> {
        let body: Expr = syn::parse_str(code).expect("parses");
        changed_in(&body, &[], &[])
            .draws
            .into_iter()
            .map(|(path, _)| path)
            .collect()
    }

    fn statics(code: &str, locals: &[&str]) -> Vec<String> {
        let body: Expr = syn::parse_str(code).expect("parses");
        let locals: Vec<Ident> = locals
            .iter()
            .map(|name| Ident::new(name, Span::call_site()))
            .collect();
        changed_in(&body, &locals, &[])
            .statics
            .into_iter()
            .map(|(path, _)| path)
            .collect()
    }

    #[test]
    fn statics_changed_in_the_loop_are_found() {
        assert_eq!(
            statics(
                "for i in 0..n { EVALS.fetch_add(1, Ordering::Relaxed); stats::CACHE.lock().unwrap().push(i); unsafe { TOTAL += i; } SEEN.with(|s| s.borrow_mut().push(i)); HITS.set(HITS.get() + 1); unsafe { STATS.count += 1; SEEN_AT[i] = i; } let mut best = BEST.lock().unwrap(); *LAST.write().unwrap() = i; x += SCALE.get_or_init(|| i * 2); }",
                &[]
            ),
            [
                "EVALS",
                "stats::CACHE",
                "TOTAL",
                "SEEN",
                "HITS",
                "STATS",
                "SEEN_AT",
                "BEST",
                "LAST",
                "SCALE"
            ]
        );
    }

    #[test]
    fn reads_of_statics_and_upper_case_locals_are_not() {
        assert!(
            statics(
                "for i in 0..n { x += LIMIT.load(Ordering::Relaxed) + CONFIG.read().unwrap().steps + SETUP.get_or_init(load).k + RATE.lock().unwrap().lr + TABLE.get_or_init(|| build(n)).len(); SCALE.with(|s| y += s.get()); A.swap(i, j); let mut B = vec![0; 3]; B.swap(0, 1); }",
                &["A"]
            )
            .is_empty()
        );
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
