//! Which locals a piece of code may change, as far as syntax can tell.
//!
//! Definite changes: assignment (`x = ..`, `x.f = ..`, `x[i] = ..`,
//! `*x = ..`), compound assignment (`x += ..`) and `&mut x`. For a binding
//! Rust lets change (`let mut`, a `mut` or `&mut` parameter, `&mut self`),
//! a method call on it (`x.push(..)`, `it.next()`, `rng.gen()`) and a macro
//! that mentions it (`write!(x, ..)`) count too: `mut` is the signal the
//! language gives, and a method that only reads cannot be told apart from
//! one that writes.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Block, Expr, Ident, Local, Macro, Pat};

use crate::model::{mutable_bindings, pattern_bindings};

/// A local whose changes are looked for.
pub struct Target {
    pub name: Ident,
    /// Rust lets it change: method calls and macros on it count as changes.
    pub mutable: bool,
    /// It is a mutable borrow (`&mut` parameter, `let r = &mut x`): passing
    /// it to a function counts as a change too.
    pub reference: bool,
    /// Its interior-mutability methods ([`INTERIOR_METHODS`]) change it:
    /// false for a handle to a standard stream (`let stdin = io::stdin();`),
    /// whose `lock()` reads or writes outside the program.
    pub interior: bool,
}

/// The first change of each target in `expr`, in the order met. Names
/// rebound inside (a `let`, a closure parameter, a `for`, `if let` or
/// `match` pattern) are other locals within their scope.
pub fn in_expr(expr: &Expr, targets: &[Target]) -> Vec<(Ident, Span)> {
    let mut finder = Finder::new(targets, &[]);
    finder.visit_expr(expr);
    finder.found
}

/// Like [`in_expr`], leaving out the expressions in `skipped`.
pub fn in_expr_skipping(expr: &Expr, targets: &[Target], skipped: &[&Expr]) -> Vec<(Ident, Span)> {
    let mut finder = Finder::new(targets, skipped);
    finder.visit_expr(expr);
    finder.found
}

/// Like [`in_expr`], for a statement, leaving out the expressions in
/// `skipped` (loops a resume does not run again).
pub fn in_stmt_skipping(
    stmt: &syn::Stmt,
    targets: &[Target],
    skipped: &[&Expr],
) -> Vec<(Ident, Span)> {
    let mut finder = Finder::new(targets, skipped);
    finder.visit_stmt(stmt);
    finder.found
}

/// Formatting, assertion and `vec!` macros only read (or move) their
/// arguments.
const READING_MACROS: [&str; 19] = [
    "println",
    "print",
    "eprintln",
    "eprint",
    "format",
    "format_args",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "panic",
    "dbg",
    "vec",
    "matches",
    "todo",
    "unreachable",
    "unimplemented",
];

struct Finder<'t> {
    targets: &'t [Target],
    skipped: &'t [&'t Expr],
    /// Names rebound in each scope being walked, innermost last.
    rebound: Vec<Vec<Ident>>,
    found: Vec<(Ident, Span)>,
}

impl<'t> Finder<'t> {
    fn new(targets: &'t [Target], skipped: &'t [&'t Expr]) -> Self {
        Finder {
            targets,
            skipped,
            rebound: vec![Vec::new()],
            found: Vec::new(),
        }
    }

    fn target(&self, name: &Ident) -> Option<&'t Target> {
        if self.rebound.iter().flatten().any(|bound| bound == name) {
            return None;
        }
        self.targets.iter().find(|target| target.name == *name)
    }

    fn record(&mut self, name: &Ident, span: Span) {
        if !self.found.iter().any(|(found, _)| found == name) {
            self.found.push((name.clone(), span));
        }
    }

    /// A definite change of the place `place`, or of the place whose
    /// inside it reaches through a lock (`*m.lock().unwrap() = ..`).
    fn changed(&mut self, place: &Expr) {
        if let Some(root) = place_root(place)
            && self.target(root).is_some()
        {
            self.record(root, place.span());
        } else if let Some(lent) = lent_place(place) {
            self.lent_changed(lent, lent.span());
        }
    }

    /// A write through what a lending method lent from `lent`.
    fn lent_changed(&mut self, lent: &Expr, span: Span) {
        if let Some(root) = place_root(lent)
            && self.target(root).is_some_and(|target| target.interior)
        {
            self.record(root, span);
        }
    }

    /// Whether `expr` (a lazy initializer) depends on the iteration: it
    /// names a local bound inside the code walked, or one Rust lets change.
    fn depends_on_iteration(&self, expr: &Expr) -> bool {
        mentions(expr.to_token_stream()).iter().any(|name| {
            self.rebound.iter().flatten().any(|bound| bound == name)
                || self.target(name).is_some_and(|target| target.mutable)
        })
    }

    fn rebind(&mut self, pat: &Pat) {
        let scope = self
            .rebound
            .last_mut()
            .expect("the finder always has a scope");
        pattern_bindings(pat, scope);
    }

    fn in_scope(&mut self, walk: impl FnOnce(&mut Self)) {
        self.rebound.push(Vec::new());
        walk(self);
        self.rebound.pop();
    }

    /// Arguments that are mutable borrows held in a local, passed on.
    fn borrows_passed_on<'a>(&mut self, args: impl IntoIterator<Item = &'a Expr>) {
        for arg in args {
            if let Expr::Path(path) = arg
                && let Some(name) = path.path.get_ident()
                && self.target(name).is_some_and(|target| target.reference)
            {
                self.record(name, arg.span());
            }
        }
    }

    fn macro_call(&mut self, mac: &Macro) {
        // Arguments that parse as expressions (`vec![rng.gen(); n]`,
        // `format!("{}", {n += 1; n})`) are walked like any code.
        for arg in &macro_arguments(mac) {
            self.visit_expr(arg);
        }
        // And a macro that is not known to only read may change any `mut`
        // binding it names (`write!(log, ..)`).
        let name = mac
            .path
            .segments
            .last()
            .map(|segment| segment.ident.to_string())
            .unwrap_or_default();
        if READING_MACROS.contains(&name.as_str()) {
            return;
        }
        // A `macro_rules!` of the function's own body names, in its
        // definition, the locals its expansion changes.
        for ident in local_macro_mentions(mac) {
            if self.target(&ident).is_some_and(|target| target.mutable) {
                let span = mac.path.span();
                self.record(&ident, span);
            }
        }
        for ident in mentions(mac.tokens.clone()) {
            if self.target(&ident).is_some_and(|target| target.mutable) {
                self.record(&ident, ident.span());
            }
        }
    }
}

thread_local! {
    /// The `macro_rules!` defined in the body being checked: name and body.
    static LOCAL_MACROS: std::cell::RefCell<Vec<(Ident, TokenStream)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The `macro_rules!` definitions of a function's body, known to the
/// change finder while this guard lives (one expansion at a time: a proc
/// macro runs on one thread).
pub struct LocalMacros;

impl LocalMacros {
    pub fn of(body: &Block) -> LocalMacros {
        struct Definitions(Vec<(Ident, TokenStream)>);
        impl<'ast> Visit<'ast> for Definitions {
            fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
                if item.mac.path.is_ident("macro_rules")
                    && let Some(name) = &item.ident
                {
                    self.0.push((name.clone(), item.mac.tokens.clone()));
                }
            }
        }
        let mut definitions = Definitions(Vec::new());
        definitions.visit_block(body);
        LOCAL_MACROS.with(|macros| *macros.borrow_mut() = definitions.0);
        LocalMacros
    }
}

impl Drop for LocalMacros {
    fn drop(&mut self) {
        LOCAL_MACROS.with(|macros| macros.borrow_mut().clear());
    }
}

/// A macro's arguments, where they parse as expressions: a list
/// (`format!("{}", x)`) or an item and a count (`vec![x; n]`).
pub fn macro_arguments(mac: &Macro) -> Vec<Expr> {
    let as_list = |input: syn::parse::ParseStream| {
        Punctuated::<Expr, syn::Token![,]>::parse_terminated(input)
            .map(|list| list.into_iter().collect::<Vec<_>>())
    };
    let as_repeat = |input: syn::parse::ParseStream| {
        let item: Expr = input.parse()?;
        input.parse::<syn::Token![;]>()?;
        let count: Expr = input.parse()?;
        Ok(vec![item, count])
    };
    mac.parse_body_with(as_list)
        .or_else(|_| mac.parse_body_with(as_repeat))
        .unwrap_or_default()
}

/// The names the definition of the body's own `macro_rules!` that `mac`
/// invokes mentions (none for any other macro): what its expansion uses.
pub fn local_macro_mentions(mac: &Macro) -> Vec<Ident> {
    LOCAL_MACROS.with(|macros| {
        macros
            .borrow()
            .iter()
            .filter(|(name, _)| mac.path.is_ident(name))
            .flat_map(|(_, body)| mentions(body.clone()))
            .collect()
    })
}

/// Every identifier in `tokens`, macro arguments included.
pub fn mentions(tokens: TokenStream) -> Vec<Ident> {
    fn walk(tokens: TokenStream, found: &mut Vec<Ident>) {
        for tree in tokens {
            match tree {
                TokenTree::Ident(ident) => found.push(ident),
                TokenTree::Group(group) => walk(group.stream(), found),
                _ => {}
            }
        }
    }
    let mut found = Vec::new();
    walk(tokens, &mut found);
    found
}

/// Whether a pattern binds by `ref mut`: matching it changes the value.
fn has_ref_mut(pat: &Pat) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_pat_ident(&mut self, pat: &'ast syn::PatIdent) {
            self.0 |= pat.by_ref.is_some() && pat.mutability.is_some();
            visit::visit_pat_ident(self, pat);
        }
    }
    let mut finder = Finder(false);
    finder.visit_pat(pat);
    finder.0
}

/// The local a place belongs to: `x` for `x`, `x.a.b`, `x[i]`, `(x)`,
/// `*x`, and `self`.
fn place_root(place: &Expr) -> Option<&Ident> {
    match place {
        Expr::Path(path) if path.qself.is_none() => path.path.get_ident(),
        Expr::Field(field) => place_root(&field.base),
        Expr::Index(index) => place_root(&index.expr),
        Expr::Paren(paren) => place_root(&paren.expr),
        Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Deref(_)) => place_root(&unary.expr),
        _ => None,
    }
}

/// The local an expression starts from, through method calls and
/// borrows too: `map` for `map.iter().enumerate()` or `&map`.
pub fn root_ident(expr: &Expr) -> Option<&Ident> {
    match expr {
        Expr::MethodCall(call) => root_ident(&call.receiver),
        Expr::Reference(reference) => root_ident(&reference.expr),
        Expr::Paren(paren) => root_ident(&paren.expr),
        _ => place_root(expr),
    }
}

/// Methods that change what a shared binding holds, through interior
/// mutability (`Cell`, `RefCell`, `OnceCell`, atomics): a call to one is a
/// change even of a local that is not `mut`. Where a reading method has
/// the same name, the number of arguments tells them apart
/// (`cell.replace(v)` against `text.replace(from, to)`). Locks are
/// [`LENDING_METHODS`], and a lazy initialization ([`INITIALIZING_METHODS`])
/// is a change only when it depends on the iteration.
const INTERIOR_METHODS: [(&str, Option<usize>); 19] = [
    ("set", None),
    ("replace", Some(1)),
    ("replace_with", None),
    ("take", Some(0)),
    ("swap", None),
    ("update", Some(1)),
    ("store", None),
    ("fetch_add", None),
    ("fetch_sub", None),
    ("fetch_and", None),
    ("fetch_or", None),
    ("fetch_xor", None),
    ("fetch_nand", None),
    ("fetch_max", None),
    ("fetch_min", None),
    ("fetch_update", None),
    ("compare_exchange", None),
    ("compare_exchange_weak", None),
    ("compare_and_swap", None),
];

/// Methods that lend what a shared binding holds for writing (a lock, a
/// `RefCell`'s mutable borrow), called without arguments: no change by
/// themselves (a config read through `cfg.lock().unwrap().rate`), but a
/// write through what they lend is one ([`lent_place`]).
const LENDING_METHODS: [&str; 6] = [
    "lock",
    "try_lock",
    "write",
    "try_write",
    "borrow_mut",
    "try_borrow_mut",
];

/// Methods that hand on what a lending method lent, unchanged:
/// `m.lock().unwrap()`.
const PASSING_METHODS: [&str; 7] = [
    "unwrap",
    "expect",
    "unwrap_or_else",
    "ok",
    "as_mut",
    "deref_mut",
    "as_deref_mut",
];

/// Lazy initialization (`OnceCell`, `OnceLock`): the same value on a
/// resume unless what initializes it depends on the iteration.
pub const INITIALIZING_METHODS: [&str; 2] = ["get_or_init", "get_or_try_init"];

/// The place whose inside `expr` reaches through a lending method: `m` for
/// `m.lock().unwrap()`, `*m.write().unwrap()`, `c.borrow_mut()[i]` or
/// `m.lock().unwrap().items`.
pub fn lent_place(expr: &Expr) -> Option<&Expr> {
    match expr {
        Expr::MethodCall(call) => {
            let method = call.method.to_string();
            if call.args.is_empty() && LENDING_METHODS.contains(&method.as_str()) {
                Some(&call.receiver)
            } else if PASSING_METHODS.contains(&method.as_str()) {
                lent_place(&call.receiver)
            } else {
                None
            }
        }
        Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Deref(_)) => lent_place(&unary.expr),
        Expr::Field(field) => lent_place(&field.base),
        Expr::Index(index) => lent_place(&index.expr),
        Expr::Paren(paren) => lent_place(&paren.expr),
        Expr::Try(attempt) => lent_place(&attempt.expr),
        _ => None,
    }
}

/// Whether calling `method` on what a lending method lent may write to it:
/// not a reading method, nor one that passes it on or lends it again.
pub fn writes_through(method: &str) -> bool {
    !READING_METHODS.contains(&method)
        && !PASSING_METHODS.contains(&method)
        && !LENDING_METHODS.contains(&method)
}

/// Whether `op` assigns (`+=`, `<<=`, ..).
pub fn is_compound_assignment(op: &syn::BinOp) -> bool {
    use syn::BinOp;
    matches!(
        op,
        BinOp::AddAssign(_)
            | BinOp::SubAssign(_)
            | BinOp::MulAssign(_)
            | BinOp::DivAssign(_)
            | BinOp::RemAssign(_)
            | BinOp::BitXorAssign(_)
            | BinOp::BitAndAssign(_)
            | BinOp::BitOrAssign(_)
            | BinOp::ShlAssign(_)
            | BinOp::ShrAssign(_)
    )
}

/// Whether calling `method` with `args` arguments changes its receiver
/// through interior mutability ([`INTERIOR_METHODS`]).
pub fn changes_inside(method: &str, args: usize) -> bool {
    INTERIOR_METHODS
        .iter()
        .any(|&(name, arity)| name == method && arity.is_none_or(|arity| arity == args))
}

/// Methods of the standard library's collections and numbers that only
/// read: a call to one of them is not a change.
const READING_METHODS: [&str; 40] = [
    "len",
    "is_empty",
    "iter",
    "keys",
    "values",
    "get",
    "contains",
    "contains_key",
    "clone",
    "first",
    "last",
    "as_slice",
    "as_str",
    "as_ref",
    "to_vec",
    "to_owned",
    "to_string",
    "capacity",
    "abs",
    "sqrt",
    "powi",
    "powf",
    "min",
    "max",
    "chunks",
    "windows",
    "starts_with",
    "ends_with",
    "binary_search",
    "count_ones",
    "is_some",
    "is_none",
    "is_ok",
    "is_err",
    "as_deref",
    "exp",
    "ln",
    "floor",
    "ceil",
    "round",
];

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_expr(&mut self, expr: &'ast Expr) {
        if !self.skipped.iter().any(|skip| std::ptr::eq(*skip, expr)) {
            visit::visit_expr(self, expr);
        }
    }

    fn visit_expr_assign(&mut self, node: &'ast syn::ExprAssign) {
        self.changed(&node.left);
        visit::visit_expr_assign(self, node);
    }

    fn visit_expr_binary(&mut self, node: &'ast syn::ExprBinary) {
        if is_compound_assignment(&node.op) {
            self.changed(&node.left);
        }
        visit::visit_expr_binary(self, node);
    }

    fn visit_expr_reference(&mut self, node: &'ast syn::ExprReference) {
        if node.mutability.is_some() {
            self.changed(&node.expr);
        }
        visit::visit_expr_reference(self, node);
    }

    fn visit_expr_method_call(&mut self, node: &'ast syn::ExprMethodCall) {
        self.borrows_passed_on(&node.args);
        let method = node.method.to_string();
        if let Some(root) = place_root(&node.receiver)
            && let Some(target) = self.target(root)
        {
            let interior = target.interior
                && (changes_inside(&method, node.args.len())
                    || (INITIALIZING_METHODS.contains(&method.as_str())
                        && node
                            .args
                            .first()
                            .is_some_and(|init| self.depends_on_iteration(init))));
            if (target.mutable && !READING_METHODS.contains(&method.as_str())) || interior {
                self.record(root, node.span());
            }
        } else if writes_through(&method)
            && let Some(lent) = lent_place(&node.receiver)
        {
            // `results.lock().unwrap().push(x)`
            self.lent_changed(lent, node.span());
        }
        visit::visit_expr_method_call(self, node);
    }

    /// Calling a closure kept in a `mut` local (`record(x)`) changes what
    /// the closure captured; passing a mutable borrow on (`fill(r)`) may
    /// change what it borrows.
    fn visit_expr_call(&mut self, node: &'ast syn::ExprCall) {
        if let Expr::Path(path) = &*node.func
            && let Some(name) = path.path.get_ident()
            && self.target(name).is_some_and(|target| target.mutable)
        {
            self.record(name, node.span());
        }
        self.borrows_passed_on(&node.args);
        visit::visit_expr_call(self, node);
    }

    fn visit_macro(&mut self, mac: &'ast Macro) {
        self.macro_call(mac);
    }

    fn visit_block(&mut self, block: &'ast Block) {
        self.in_scope(|finder| visit::visit_block(finder, block));
    }

    fn visit_local(&mut self, local: &'ast Local) {
        if let Some(init) = &local.init {
            // `let (ref mut lo, _) = bounds;` changes `bounds`, and
            // `let mut best = cell.borrow_mut();` may change `cell`.
            if has_ref_mut(&local.pat) {
                self.changed(&init.expr);
            } else if !mutable_bindings(&local.pat).is_empty()
                && let Some(lent) = lent_place(&init.expr)
            {
                self.lent_changed(lent, init.expr.span());
            }
            self.visit_expr(&init.expr);
            if let Some((_, diverge)) = &init.diverge {
                self.visit_expr(diverge);
            }
        }
        self.rebind(&local.pat);
    }

    fn visit_expr_closure(&mut self, node: &'ast syn::ExprClosure) {
        self.in_scope(|finder| {
            for input in &node.inputs {
                finder.rebind(input);
            }
            finder.visit_expr(&node.body);
        });
    }

    fn visit_expr_for_loop(&mut self, node: &'ast syn::ExprForLoop) {
        // The iterable is outside the pattern's scope: `for w in &mut words`
        // changes the outer `words`.
        self.visit_expr(&node.expr);
        self.in_scope(|finder| {
            finder.rebind(&node.pat);
            finder.visit_block(&node.body);
        });
    }

    /// `let PAT = EXPR` in an `if` or `while` condition: the caller opened
    /// the scope the pattern binds in.
    fn visit_expr_let(&mut self, node: &'ast syn::ExprLet) {
        // `if let Some(ref mut b) = best` changes `best`, and
        // `if let Ok(mut guard) = m.lock()` may change `m`.
        if has_ref_mut(&node.pat) {
            self.changed(&node.expr);
        } else if !mutable_bindings(&node.pat).is_empty()
            && let Some(lent) = lent_place(&node.expr)
        {
            self.lent_changed(lent, node.expr.span());
        }
        self.visit_expr(&node.expr);
        self.rebind(&node.pat);
    }

    fn visit_expr_if(&mut self, node: &'ast syn::ExprIf) {
        self.in_scope(|finder| {
            finder.visit_expr(&node.cond);
            finder.visit_block(&node.then_branch);
        });
        if let Some((_, otherwise)) = &node.else_branch {
            self.visit_expr(otherwise);
        }
    }

    fn visit_expr_while(&mut self, node: &'ast syn::ExprWhile) {
        self.in_scope(|finder| {
            finder.visit_expr(&node.cond);
            finder.visit_block(&node.body);
        });
    }

    fn visit_expr_match(&mut self, node: &'ast syn::ExprMatch) {
        // `match pair { (ref mut lo, _) => .. }` changes `pair`.
        if node.arms.iter().any(|arm| has_ref_mut(&arm.pat)) {
            self.changed(&node.expr);
        }
        visit::visit_expr_match(self, node);
    }

    fn visit_arm(&mut self, arm: &'ast syn::Arm) {
        self.in_scope(|finder| {
            finder.rebind(&arm.pat);
            // The guard (inside the pattern) and the body see the bindings.
            visit::visit_arm(finder, arm);
        });
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}
