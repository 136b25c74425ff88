//! Whether a resume is exact: for every save point, each value that crosses
//! it is saved (`#[state]`), recomputed identically by the code a resume
//! runs again, or refused here with an error naming the local, the loop and
//! the fix. This is the one place that answers "why is this local saved?".
//!
//! On resume, the code on the way to a save point runs again: everything
//! before it in the blocks around it, except the save-point loops it skips
//! as finished phases, and the `if` conditions and `match` scrutinees that
//! lead to it. That code must not change `#[state]` (it would change the
//! restored value a second time), and what it computes from `#[state]` must
//! not be used at or after the save point (it would be computed from the
//! restored value, not the initial one). A value changed inside the
//! save-point loop and declared before it carries from one iteration to the
//! next: it must be `#[state]`.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Block, Expr, FnArg, Ident, ItemFn, Pat, Stmt, Type};

use crate::changes::{self, Target, mentions};
use crate::globals;
use crate::model::{self, Model, mutable_bindings};

/// Checks every save point of `item`'s body; refusals go into `errors`.
pub fn check(item: &ItemFn, block: &Block, model: &Model, errors: &mut Vec<syn::Error>) {
    let mut report = Report {
        errors,
        seen: Vec::new(),
    };
    let inputs = inputs(item);
    let mut quiet = Report {
        errors: &mut Vec::new(),
        seen: Vec::new(),
    };
    for (id, info) in model.loops.iter().enumerate() {
        if !info.save_point {
            continue;
        }
        let Some(path) = path_to(block, info.expr) else {
            continue;
        };
        // A first walk finds the #[state] locals in scope at the save
        // point, and so which of them it changes; the second one checks.
        let mut dry = SavePoint::new(model, info.expr, &inputs, Vec::new(), &mut quiet);
        dry.walk_path(&path);
        let state: Vec<&Value> = dry
            .visible()
            .into_iter()
            .filter(|value| value.kind == Kind::State)
            .collect();
        let targets: Vec<Target> = state
            .iter()
            .map(|value| Target {
                name: value.name.clone(),
                mutable: true,
                reference: false,
                interior: true,
            })
            .collect();
        // Visible names are unique, so a changed name is one declaration.
        let mut moving: Vec<Ident> = changes::in_expr(info.expr, &targets)
            .into_iter()
            .filter_map(|(name, _)| state.iter().find(|value| value.name == name))
            .map(|value| value.name.clone())
            .collect();
        // A #[state] local hidden at the save point by another of the same
        // name is not saved there: a resume restores it as it was first
        // declared, so what was computed from it differs too.
        moving.extend(
            dry.scopes
                .iter()
                .flatten()
                .filter(|value| value.kind == Kind::State)
                .filter(|value| {
                    !state
                        .iter()
                        .any(|visible| same_local(&visible.name, &value.name))
                })
                .map(|value| value.name.clone()),
        );
        let mut checker = SavePoint::new(model, info.expr, &inputs, moving, &mut report);
        checker.walk_path(&path);
        checker.at_save_point(id as u32, &path);
    }
}

/// A value the code can name: a parameter or a local.
#[derive(Clone)]
struct Value {
    name: Ident,
    kind: Kind,
    /// Rust lets it change (`mut`, `&mut`, `&mut self`).
    mutable: bool,
    /// `#[transient]`.
    transient: bool,
    /// The `#[state]` locals its value was computed from, directly or not.
    computed_from: Vec<Ident>,
    /// Its type or initializer names a `HashMap` or `HashSet`.
    unordered: bool,
    /// For `#[state]`: a save-point loop saved it before the code now walked.
    saved_before: bool,
    /// It holds a mutable borrow (`&mut x`, `&mut *self`, a struct of
    /// them, or another such reference): changes through it change what it
    /// borrows, named here when known.
    borrows: Option<Option<Ident>>,
    /// Its initializer makes an iterator (`v.iter()`, `s.chars()`).
    iterator: bool,
    /// A closure kept in a local: calling it changes `through`.
    closure: bool,
    /// For a closure: the values it changes when called.
    through: Vec<Ident>,
    /// A handle to a standard stream (`io::stdin()`): its `lock()` is no
    /// change of the program's values.
    standard_stream: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    State,
    Parameter,
    MutReference,
    Receiver,
    Local,
}

struct Report<'e> {
    errors: &'e mut Vec<syn::Error>,
    /// One error per place, however many save points see it.
    seen: Vec<String>,
}

impl Report<'_> {
    fn refuse(&mut self, span: Span, message: String) {
        let key = format!("{span:?}");
        if !self.seen.contains(&key) {
            self.seen.push(key);
            self.errors.push(syn::Error::new(span, message));
        }
    }
}

/// The function's parameters and receiver as values.
fn inputs(item: &ItemFn) -> Vec<Value> {
    let mut values = Vec::new();
    for input in &item.sig.inputs {
        match input {
            FnArg::Receiver(receiver) => values.push(Value {
                name: Ident::new("self", receiver.self_token.span),
                kind: Kind::Receiver,
                mutable: receiver.mutability.is_some()
                    || match &receiver.kind {
                        syn::ReceiverKind::Reference(_, _, mutability) => mutability.is_some(),
                        syn::ReceiverKind::Typed(_, ty) => {
                            ty.to_token_stream().to_string().contains("mut")
                        }
                        _ => false,
                    },
                ..plain(Ident::new("self", receiver.self_token.span))
            }),
            FnArg::Typed(typed) => {
                let by_mut_reference =
                    matches!(&*typed.ty, Type::Reference(r) if r.mutability.is_some());
                let unordered = names_unordered(typed.ty.to_token_stream());
                let mutable_names = mutable_bindings(&typed.pat);
                let mut names = Vec::new();
                model::pattern_bindings(&typed.pat, &mut names);
                for name in names {
                    values.push(Value {
                        kind: if by_mut_reference {
                            Kind::MutReference
                        } else {
                            Kind::Parameter
                        },
                        mutable: by_mut_reference || mutable_names.contains(&name),
                        unordered,
                        ..plain(name)
                    });
                }
            }
        }
    }
    values
}

fn plain(name: Ident) -> Value {
    Value {
        name,
        kind: Kind::Local,
        mutable: false,
        transient: false,
        computed_from: Vec::new(),
        unordered: false,
        saved_before: false,
        borrows: None,
        iterator: false,
        closure: false,
        through: Vec::new(),
        standard_stream: false,
    }
}

/// One step on the way from the function's body to a save point.
#[derive(Clone, Copy)]
enum Step<'a> {
    /// The `index`th statement of `block` leads on.
    Block(&'a Block, usize),
    /// An expression around the save point.
    Expr(&'a Expr),
}

/// The steps from `block` down to the loop `target`.
fn path_to<'a>(block: &'a Block, target: &'a Expr) -> Option<Vec<Step<'a>>> {
    struct Finder<'a> {
        target: &'a Expr,
        stack: Vec<Step<'a>>,
        found: Option<Vec<Step<'a>>>,
    }
    impl<'a> Visit<'a> for Finder<'a> {
        fn visit_block(&mut self, block: &'a Block) {
            for (index, stmt) in block.stmts.iter().enumerate() {
                if self.found.is_some() {
                    return;
                }
                self.stack.push(Step::Block(block, index));
                self.visit_stmt(stmt);
                self.stack.pop();
            }
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            if self.found.is_some() {
                return;
            }
            if std::ptr::eq(expr, self.target) {
                self.found = Some(self.stack.clone());
                return;
            }
            if matches!(expr, Expr::Closure(_) | Expr::Async(_) | Expr::Const(_)) {
                return;
            }
            self.stack.push(Step::Expr(expr));
            visit::visit_expr(self, expr);
            self.stack.pop();
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut finder = Finder {
        target,
        stack: Vec::new(),
        found: None,
    };
    finder.visit_block(block);
    finder.found
}

struct SavePoint<'m, 'a, 'r, 'e> {
    model: &'m Model<'a>,
    target: &'a Expr,
    /// The loop as the messages name it.
    title: String,
    /// The values in scope, innermost block last.
    scopes: Vec<Vec<Value>>,
    /// The `#[state]` locals the save point changes, by their declarations.
    moving: Vec<Ident>,
    /// The save-point loop whose iteration the walk is in, if any.
    outer: Option<String>,
    report: &'r mut Report<'e>,
}

impl<'m, 'a, 'r, 'e> SavePoint<'m, 'a, 'r, 'e> {
    fn new(
        model: &'m Model<'a>,
        target: &'a Expr,
        inputs: &[Value],
        moving: Vec<Ident>,
        report: &'r mut Report<'e>,
    ) -> Self {
        SavePoint {
            model,
            target,
            title: loop_title(target),
            scopes: vec![inputs.to_vec()],
            moving,
            outer: None,
            report,
        }
    }

    /// The values in scope, the latest binding of each name.
    fn visible(&self) -> Vec<&Value> {
        let all: Vec<&Value> = self.scopes.iter().flatten().collect();
        all.iter()
            .enumerate()
            .filter(|(position, value)| {
                !all[position + 1..]
                    .iter()
                    .any(|later| later.name == value.name)
            })
            .map(|(_, value)| *value)
            .collect()
    }

    fn visible_mut(&mut self, name: &Ident) -> Option<&mut Value> {
        self.scopes
            .iter_mut()
            .rev()
            .flat_map(|scope| scope.iter_mut().rev())
            .find(|value| value.name == *name)
    }

    fn targets(&self) -> Vec<Target> {
        self.visible()
            .into_iter()
            .map(|value| Target {
                name: value.name.clone(),
                // A closure that is not `mut` still changes what it
                // captures through interior mutability (`|| c.set(..)`).
                mutable: value.mutable || !value.through.is_empty(),
                reference: value.kind == Kind::MutReference || value.borrows.is_some(),
                interior: !value.standard_stream,
            })
            .collect()
    }

    /// The `#[state]` locals the code that mentions `mentioned` reads,
    /// directly or through values computed from them.
    fn reads_state(&self, mentioned: &[Ident]) -> Vec<Ident> {
        let mut read = Vec::new();
        for value in self.visible() {
            if !mentioned.contains(&value.name) {
                continue;
            }
            match value.kind {
                Kind::State => read.push(value.name.clone()),
                _ => read.extend(value.computed_from.iter().cloned()),
            }
        }
        read
    }

    /// The first of `read` that the save point changes: a value computed
    /// from it differs between the first pass and a resume.
    fn moving<'v>(&self, read: &'v [Ident]) -> Option<&'v Ident> {
        read.iter()
            .find(|state| self.moving.iter().any(|moving| same_local(moving, state)))
    }

    /// Walks the code a resume runs again, in order, down to the save point.
    fn walk_path(&mut self, path: &[Step<'a>]) {
        for (depth, step) in path.iter().enumerate() {
            match *step {
                Step::Block(block, index) => {
                    self.scopes.push(Vec::new());
                    for stmt in &block.stmts[..index] {
                        self.statement(stmt);
                    }
                }
                Step::Expr(expr) => {
                    if self.model.save_point_of(expr).is_some() {
                        self.outer = Some(loop_title(expr));
                    }
                    self.around(expr, path.get(depth + 1).copied());
                }
            }
        }
    }

    /// Code that decides the way to the save point: an `if` condition, a
    /// `match` scrutinee; and the names a `for` or `if let` binds on the way.
    fn around(&mut self, expr: &'a Expr, next: Option<Step<'a>>) {
        match expr {
            Expr::If(node) => {
                let into_condition =
                    matches!(next, Some(Step::Expr(e)) if std::ptr::eq(e, &*node.cond));
                if !into_condition {
                    self.decides(&node.cond, "an `if` condition");
                    self.bind_condition(&node.cond);
                }
            }
            Expr::Match(node) => {
                let into_scrutinee =
                    matches!(next, Some(Step::Expr(e)) if std::ptr::eq(e, &*node.expr));
                if !into_scrutinee {
                    self.decides(&node.expr, "a `match`");
                    let arm = node.arms.iter().find(
                        |arm| matches!(next, Some(Step::Expr(e)) if std::ptr::eq(e, &*arm.body)),
                    );
                    if let Some(arm) = arm {
                        self.bind(&arm.pat, self.reads_state(&names_in(&node.expr)));
                    }
                }
            }
            Expr::ForLoop(node) => {
                // An enclosing save point: its iterator is built again and
                // moved to the saved iteration.
                self.scopes.push(Vec::new());
                self.bind(&node.pat, Vec::new());
            }
            _ => {}
        }
    }

    fn bind_condition(&mut self, cond: &Expr) {
        match cond {
            Expr::Let(node) => self.bind(&node.pat, self.reads_state(&names_in(&node.expr))),
            Expr::Binary(node) if matches!(node.op, syn::BinOp::And(_)) => {
                self.bind_condition(&node.left);
                self.bind_condition(&node.right);
            }
            _ => {}
        }
    }

    fn bind(&mut self, pat: &Pat, computed_from: Vec<Ident>) {
        let mutable = mutable_bindings(pat);
        let mut names = Vec::new();
        model::pattern_bindings(pat, &mut names);
        let scope = self.scopes.last_mut().expect("a scope is open");
        for name in names {
            scope.push(Value {
                mutable: mutable.contains(&name),
                computed_from: computed_from.clone(),
                ..plain(name)
            });
        }
    }

    /// Refuses a condition on the way to the save point that reads state.
    fn decides(&mut self, cond: &Expr, what: &str) {
        let read = self.reads_state(&names_in(cond));
        if let Some(state) = self.moving(&read) {
            let title = &self.title;
            self.report.refuse(
                cond.span(),
                format!(
                    "the loop `{title}` is reached through {what} that reads #[state] `{state}`: on resume it is evaluated again on the restored value and can take another way; decide from the arguments, or move the test inside the loop"
                ),
            );
        }
    }

    /// One statement that a resume runs again.
    fn statement(&mut self, stmt: &'a Stmt) {
        if let Stmt::Local(local) = stmt
            && local.attrs.iter().any(model::is_state_attr)
        {
            return self.state_declaration(local);
        }
        if let Stmt::Local(local) = stmt
            && let Some(closure) = local.init.as_ref().and_then(|init| as_closure(&init.expr))
        {
            // A closure kept in a local changes what it captures when it
            // is called, not here.
            let targets = self.targets();
            let through = changes::in_expr(&closure.body, &targets)
                .into_iter()
                .map(|(name, _)| name)
                .collect();
            // What it captures: a value computed from state here is the
            // restored state's on a resume (`let h0 = h; |x| x.min(h0)`).
            let mut parameters = Vec::new();
            for input in &closure.inputs {
                model::pattern_bindings(input, &mut parameters);
            }
            let captured: Vec<Ident> = names_in(&closure.body)
                .into_iter()
                .filter(|name| !parameters.contains(name))
                .collect();
            let computed_from = self.reads_state(&captured);
            self.bind_local(local, computed_from);
            if let Some(value) = self.scopes.last_mut().and_then(|scope| scope.last_mut()) {
                value.closure = true;
                value.through = through;
            }
            return;
        }
        let skipped: Vec<&Expr> = save_points_in(stmt, self.model);
        let mentioned = names_in_stmt(stmt, &skipped);
        let source = self.reads_state(&mentioned);
        let moving = self.moving(&source).cloned();
        let targets = self.targets();
        for (name, span) in
            self.through_closures(changes::in_stmt_skipping(stmt, &targets, &skipped))
        {
            let title = self.title.clone();
            let outer = self.outer.clone();
            let Some(value) = self.visible_mut(&name) else {
                continue;
            };
            if value.kind == Kind::State {
                let message = if let Some(outer) = outer {
                    format!(
                        "`{name}` is #[state] and changed here, in the iteration of the loop `{outer}` before the loop `{title}` that saves inside it: a resume in `{title}` runs this line again on the restored `{name}`; make the change after `{title}`, or in its first iteration, or remove #[checkpoint(save)] from `{title}`"
                    )
                } else if value.saved_before {
                    format!(
                        "`{name}` is #[state] and changed here, between two checkpointed loops: a resume in the loop `{title}` runs this line again on the restored `{name}`; bind the changed value to a new #[state] local (`#[state] let mut {name}2 = {{ let mut v = {name}.clone(); /* change v */ v }};`), or make the change at the end of the loop before"
                    )
                } else {
                    format!(
                        "`{name}` is #[state] and changed here, after its declaration and before the loop `{title}` that saves it: a resume runs this line again on the restored `{name}`; make the change part of the initializer: `#[state] let mut {name} = {{ let mut {name} = /* initial value */; /* change it */ {name} }};`"
                    )
                };
                self.report.refuse(span, message);
            } else {
                value.computed_from.extend(source.iter().cloned());
            }
        }
        if let Some(state) = &moving
            && let Some(span) = exits_function(stmt, &skipped)
        {
            let title = &self.title;
            self.report.refuse(
                span,
                format!(
                    "this code can leave before the loop `{title}` depending on #[state] `{state}`: a resume evaluates it again on the restored value and can leave where the interrupted run went on; move the test inside the loop"
                ),
            );
        }
        if !skipped.is_empty() {
            for value in self.scopes.iter_mut().flatten() {
                if value.kind == Kind::State {
                    value.saved_before = true;
                }
            }
        }
        if let Stmt::Local(local) = stmt {
            self.bind_local(local, source);
        }
    }

    /// A `#[state]` declaration: on resume its initializer does not run
    /// (the local takes its saved value), so it may use and change other
    /// state freely; it must not change a local that is not saved.
    fn state_declaration(&mut self, local: &'a syn::Local) {
        if let Some(init) = &local.init {
            let state: Vec<Ident> = self
                .visible()
                .into_iter()
                .filter(|value| value.kind == Kind::State)
                .map(|value| value.name.clone())
                .collect();
            let targets: Vec<Target> = self
                .targets()
                .into_iter()
                .filter(|target| !state.contains(&target.name))
                .collect();
            for (name, span) in self.through_closures(changes::in_expr(&init.expr, &targets)) {
                if self
                    .visible()
                    .iter()
                    .any(|value| value.name == name && value.kind != Kind::State)
                {
                    self.report.refuse(
                        span,
                        format!(
                            "this #[state] initializer changes `{name}`, which is not #[state]: the initializer runs only on a fresh start, so after a resume `{name}` would not have changed; make `{name}` #[state] too, or change it outside the initializer"
                        ),
                    );
                }
            }
        }
        self.bind_local(local, Vec::new());
    }

    /// Changes made by calling a closure kept in a local are changes of
    /// what the closure changes.
    fn through_closures(&self, changed: Vec<(Ident, Span)>) -> Vec<(Ident, Span)> {
        let mut all = Vec::new();
        for (name, span) in changed {
            let through = self
                .visible()
                .into_iter()
                .find(|value| value.name == name)
                .map(|value| value.through.clone())
                .unwrap_or_default();
            all.extend(through.into_iter().map(|inner| (inner, span)));
            all.push((name, span));
        }
        all
    }

    fn bind_local(&mut self, local: &syn::Local, computed_from: Vec<Ident>) {
        let is_state = local.attrs.iter().any(model::is_state_attr);
        let transient = local.attrs.iter().any(model::is_transient_attr);
        let mut unordered = names_unordered(local.pat.to_token_stream());
        if let Some(init) = &local.init {
            unordered |= names_unordered(init.expr.to_token_stream());
        }
        let mutable = mutable_bindings(&local.pat);
        let borrows = local
            .init
            .as_ref()
            .and_then(|init| self.mutable_borrow(&init.expr));
        let iterator = local
            .init
            .as_ref()
            .is_some_and(|init| makes_iterator(&init.expr));
        let standard_stream = local
            .init
            .as_ref()
            .is_some_and(|init| is_standard_stream(&init.expr));
        let mut names = Vec::new();
        model::pattern_bindings(&local.pat, &mut names);
        let scope = self.scopes.last_mut().expect("a scope is open");
        for name in names {
            scope.push(Value {
                kind: if is_state { Kind::State } else { Kind::Local },
                mutable: mutable.contains(&name) || borrows.is_some(),
                borrows: borrows.clone(),
                iterator,
                standard_stream,
                transient,
                computed_from: if is_state {
                    Vec::new()
                } else {
                    computed_from.clone()
                },
                unordered,
                ..plain(name)
            });
        }
    }

    /// Whether `init` makes a mutable borrow, and of what: `&mut x`
    /// (anywhere in it, e.g. a struct of borrows), or a local or parameter
    /// that is one (`let o = out;`).
    fn mutable_borrow(&self, init: &Expr) -> Option<Option<Ident>> {
        if let Some(root) = mutable_reference_in(init) {
            return Some(root);
        }
        let root = changes::root_ident(init)?;
        let value = self
            .visible()
            .into_iter()
            .find(|value| value.name == *root)?;
        match value.kind {
            Kind::MutReference => Some(Some(root.clone())),
            _ => value.borrows.clone(),
        }
    }

    /// The checks at the save point itself: what it changes, what it needs.
    fn at_save_point(&mut self, id: u32, path: &[Step<'a>]) {
        let target = self.target;
        let inside = names_in(target);
        let after = mentions_after(path, self.model, id);
        let title = self.title.clone();
        let visible: Vec<Value> = self.visible().into_iter().cloned().collect();
        // A `for` loop's iterable runs again on a resume and is replayed to
        // the saved iteration, so a local it alone changes (a generator
        // drawn in `(0..n).map(|_| rng.next_u64())`, a reader consumed by
        // `reader.by_ref().lines()`) is where it was, iterations and all;
        // unless code after the loop uses it, which a resume in a later
        // phase reaches without the replay, or the iterable lends it to the
        // body (`&mut words`), whose changes the replay does not make.
        let targets = self.targets();
        let replayed: Vec<&Expr> = match target {
            Expr::ForLoop(node) => vec![&*node.expr],
            _ => Vec::new(),
        };
        let mut changed = changes::in_expr_skipping(target, &targets, &replayed);
        for iterable in &replayed {
            let lent = mutably_borrowed_root(iterable);
            changed.extend(
                changes::in_expr(iterable, &targets)
                    .into_iter()
                    .filter(|(name, _)| after.contains(name) || lent == Some(name)),
            );
        }
        let changed = self.through_closures(changed);
        self.closures_holding_state(&visible, &inside);
        for value in &visible {
            if value.kind == Kind::State {
                continue;
            }
            let name = &value.name;
            let used_inside = inside.contains(name);
            let used_after = after.contains(name);
            if let Some(state) = self.moving(&value.computed_from)
                && (used_inside || used_after)
            {
                let message = if value.closure {
                    format!(
                        "the closure `{name}` is made before the loop `{title}` from #[state] `{state}` (it captures it, or a value computed from it) and is called in or after the loop: a resume makes it again from the restored `{state}`, not from its value at the start; make the closure inside the loop, hand it what it needs as an argument, or capture values computed from the arguments only"
                    )
                } else {
                    format!(
                        "`{name}` is computed from #[state] `{state}` before the loop `{title}` and used in or after it: a resume computes it again from the restored `{state}`, not from its value at the start; compute it inside the loop, compute it from the arguments only, or mark it #[state]"
                    )
                };
                self.report.refuse(name.span(), message);
                continue;
            }
            if value.closure {
                continue;
            }
            let Some((_, span)) = changed.iter().find(|(changed, _)| changed == name) else {
                continue;
            };
            if value.transient {
                self.transient_changed(value, used_after);
                continue;
            }
            let message = match value.kind {
                Kind::Receiver => format!(
                    "the loop `{title}` may change `self` (a method call or an assignment through `&mut self` counts as a change), but `self` is not saved: a resume starts from `self` as the caller passed it; keep what changes in a #[state] local (`#[state] let mut ranks = self.ranks.clone();`), use it in the loop, and store it back after the loop; if the loop only reads `self`, read it through `let this = &*self;` before the loop"
                ),
                Kind::MutReference => format!(
                    "the loop `{title}` changes what `{name}: &mut ..` points to, which is not saved: a resume starts from the caller's value as it was passed; compute into a #[state] local (`#[state] let mut out = {name}.clone();`) and write it back after the loop"
                ),
                Kind::Parameter if !value.mutable => format!(
                    "the loop `{title}` changes what the parameter `{name}` shares, through interior mutability (a `Cell`, an atomic, a write through a lock), and that change is not saved: a resume starts from the value the caller passes; if the result depends on it, keep it in a #[state] local and store it back after the loop; a progress count or a statistic the result does not depend on may be changed in a function the loop calls, which the macro does not look into"
                ),
                Kind::Parameter => format!(
                    "the loop `{title}` changes the `mut` parameter `{name}` (a method call on a `mut` binding counts as a change), but it is not saved: a resume starts it over from the argument; bind it to a #[state] local first: `#[state] let mut {name} = {name};`"
                ),
                Kind::Local | Kind::State if value.borrows.is_some() => {
                    let what = match value.borrows.as_ref().and_then(Option::as_ref) {
                        Some(root) if root == "self" => "`self`".to_owned(),
                        Some(root) => format!("`{root}`"),
                        None => "a value".to_owned(),
                    };
                    format!(
                        "`{name}` borrows {what} mutably, and the loop `{title}` changes it through `{name}`, but it is not saved: a resume starts from its value before the loop; keep what changes in a #[state] local and change that in the loop (for `self`, copy the field into a #[state] local and store it back after the loop)"
                    )
                }
                Kind::Local | Kind::State if value.iterator => format!(
                    "`{name}` is an iterator made before the loop `{title}` and advanced inside it, but its position is not saved: a resume would start it over; loop over it with `for` instead (`for item in ..`: a `for` loop's position is saved)"
                ),
                Kind::Local | Kind::State => format!(
                    "`{name}` is declared before the loop `{title}` and changed inside it (directly, or by a closure the loop calls), but it is not #[state]: a resume would start it over from its value before the loop; mark its `let` #[state], declare it inside the loop if every iteration starts it afresh, or, for scratch space, mark it #[transient] and reset it at the start of every iteration (`{name} = ..`, `{name}.clear()`, `{name}.fill(..)`)"
                ),
            };
            self.report.refuse(*span, message);
        }
        let locals: Vec<Ident> = visible.iter().map(|value| value.name.clone()).collect();
        let changing: Vec<Ident> = visible
            .iter()
            .filter(|value| value.mutable || value.kind == Kind::State)
            .map(|value| value.name.clone())
            .collect();
        let globals = globals::changed_in(target, &locals, &changing);
        for (name, span) in globals.statics {
            self.report.refuse(
                span,
                format!(
                    "the loop `{title}` changes the static `{name}`, which no #[state] saves: a resume starts it from its value at the program's start, not from where the saved iteration left it; keep what changes in a #[state] local (and store it into `{name}` after the loop if other code reads it); a statistic the result does not depend on (a count of calls, a log) may be changed in a function the loop calls, which the macro does not look into (`verify` checks that the result does not depend on it)"
                ),
            );
        }
        for (call, span) in globals.draws {
            self.report.refuse(
                span,
                format!(
                    "`{call}` draws from a random generator kept by the thread or the process, not in a local, so its position is not saved: a resume of the loop `{title}` draws other numbers than an uninterrupted run, seeded or not; keep a seeded generator in a #[state] local and draw from it (`#[state] let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);`, with rand_chacha's `serde` feature)"
                ),
            );
        }
        if let Expr::ForLoop(node) = target {
            self.iterated(node, &visible);
        }
    }

    /// A closure made before the save-point loop that changes `#[state]`
    /// and is called in the loop holds a mutable borrow of that state
    /// across the save, which reads it: refused here with the fix, rather
    /// than by the borrow checker on the generated code.
    fn closures_holding_state(&mut self, visible: &[Value], inside: &[Ident]) {
        let title = self.title.clone();
        for closure in visible
            .iter()
            .filter(|value| value.closure && inside.contains(&value.name))
        {
            let Some(state) = closure.through.iter().find(|changed| {
                visible
                    .iter()
                    .any(|value| value.kind == Kind::State && value.name == **changed)
            }) else {
                continue;
            };
            let name = &closure.name;
            self.report.refuse(
                name.span(),
                format!(
                    "the closure `{name}` changes #[state] `{state}` and is made before the loop `{title}`, which calls it: the save at the end of each iteration reads `{state}` while `{name}` still borrows it mutably; make the closure inside the loop, or hand it the state (`let {name} = |{state}: &mut _, ..| ..;`, called as `{name}(&mut {state}, ..)`)"
                ),
            );
        }
    }

    /// A `#[transient]` local the save point changes: every iteration must
    /// start by resetting it, and nothing after the loop may read it.
    fn transient_changed(&mut self, value: &Value, used_after: bool) {
        let name = &value.name;
        let title = &self.title;
        let how = if used_after {
            Some(
                "it is used after the loop, where a resume after the last save would see its value from before the loop",
            )
        } else if read_by_header(self.target, name) {
            Some("the loop's condition or iterator reads it before an iteration resets it")
        } else if !starts_with_reset(self.target, name) {
            Some(
                "an iteration reads it before it resets it, so one iteration's value reaches the next",
            )
        } else {
            None
        };
        if let Some(how) = how {
            self.report.refuse(
                name.span(),
                format!(
                    "`{name}` is #[transient], but its value carries across the save point of the loop `{title}`: {how}; start every iteration by resetting it (`{name} = ..`, `{name}.clear()`, `{name}.fill(..)`) and use it only inside the loop, or mark it #[state]"
                ),
            );
        }
    }

    /// The iterator of a save-point `for`: built again on resume and moved
    /// to the saved iteration, so it must yield the same items.
    fn iterated(&mut self, node: &syn::ExprForLoop, visible: &[Value]) {
        let title = self.title.clone();
        let iterated = changes::root_ident(&node.expr)
            .and_then(|root| visible.iter().find(|value| value.name == *root))
            .filter(|value| value.unordered)
            .map(|value| value.name.to_string());
        let literal = names_unordered(node.expr.to_token_stream());
        if let Some(what) = iterated.or(literal.then(|| "it".to_owned())) {
            let span =
                changes::root_ident(&node.expr).map_or_else(|| node.expr.span(), Ident::span);
            self.report.refuse(
                span,
                format!(
                    "the loop `{title}` saves its position and replays its iterator on resume, but it iterates a `HashMap` or `HashSet` (`{what}`), whose order differs from one process to the next: a resume would skip other items than the ones done; iterate a `BTreeMap`/`BTreeSet`, or sorted keys (`let mut keys: Vec<_> = map.keys().cloned().collect(); keys.sort();`)"
                ),
            );
            return;
        }
        if let Some(state) = mutably_borrowed_root(&node.expr)
            .and_then(|root| visible.iter().find(|value| value.name == *root))
            .filter(|value| value.kind == Kind::State)
        {
            let name = &state.name;
            self.report.refuse(
                node.expr.span(),
                format!(
                    "the loop `{title}` iterates over #[state] `{name}` by mutable reference, but a save at the end of an iteration must read `{name}` while the iterator still borrows it; iterate by index: `for i in 0..{name}.len() {{ let item = &mut {name}[i]; .. }}`"
                ),
            );
            return;
        }
        let read = self.reads_state(&names_read_by_iterator(&node.expr));
        if let Some(state) = self.moving(&read) {
            // `&v.clone()`: the sequence is the state; `&data[start..]`:
            // the state only says where it starts.
            let drawn_in_closure = matches!(&*node.expr, Expr::MethodCall(call)
                if call.args.iter().any(|arg| matches!(arg, Expr::Closure(closure)
                    if names_in(&closure.body).contains(state))));
            let fix = if drawn_in_closure {
                format!(
                    "iterate over the range alone and use `{state}` in the loop's body (`for _ in 0..n {{ let x = {state}.next_u64(); .. }}`): the body's changes are saved, an iterator's are made again on a resume"
                )
            } else if changes::root_ident(&node.expr) == Some(state) {
                format!(
                    "iterate by index (`for i in 0..{state}.len()`) or by shared reference (`&{state}`), or keep the sequence in a #[state] local of its own"
                )
            } else {
                format!(
                    "write it as a `while` loop that advances `{state}` itself (`while {state} < data.len() {{ let x = &data[{state}]; ..; {state} += 1 }}`), or iterate over something the loop does not change"
                )
            };
            self.report.refuse(
                node.expr.span(),
                format!(
                    "the loop `{title}` iterates over a value computed from #[state] `{state}`, which the loop changes: a resume computes it again from the restored `{state}` and walks other items; {fix}"
                ),
            );
        }
    }
}

/// The local a `for` iterable borrows mutably: `v` in `&mut v`,
/// `v.iter_mut()`, `v.chunks_mut(..)`, through adapters.
fn mutably_borrowed_root(iterable: &Expr) -> Option<&Ident> {
    match iterable {
        Expr::Reference(reference) if reference.mutability.is_some() => {
            changes::root_ident(&reference.expr)
        }
        Expr::Paren(paren) => mutably_borrowed_root(&paren.expr),
        Expr::MethodCall(call) => {
            let method = call.method.to_string();
            if method.ends_with("_mut") || method == "drain" {
                changes::root_ident(&call.receiver)
            } else {
                mutably_borrowed_root(&call.receiver)
            }
        }
        _ => None,
    }
}

/// Whether `expr` is a mutable borrow (`&mut x`, `&mut *self`,
/// `v.iter_mut()`, `x.as_mut()`, or a struct or tuple of them), and of which
/// local when it names one. A call that only takes `&mut x` as an argument
/// is not: what it returns need not hold the borrow.
fn mutable_reference_in(expr: &Expr) -> Option<Option<Ident>> {
    match expr {
        Expr::Reference(node) if node.mutability.is_some() => {
            Some(changes::root_ident(&node.expr).cloned())
        }
        // `v.as_mut_slice()`, `map.entry(k).or_insert_with(Vec::new)`,
        // `cache.get_or_insert_with(..)`: a method that hands out a mutable
        // borrow, anywhere in the chain; or a `&mut` passed to one.
        Expr::MethodCall(node) => {
            if lends_mutably(&node.method.to_string()) {
                return Some(changes::root_ident(&node.receiver).cloned());
            }
            node.args
                .iter()
                .find_map(mutable_reference_in)
                .or_else(|| mutable_reference_in(&node.receiver))
        }
        // `View::new(&mut buf)`: what it returns may hold the borrow.
        Expr::Call(node) => node.args.iter().find_map(mutable_reference_in),
        Expr::Paren(node) => mutable_reference_in(&node.expr),
        Expr::Struct(node) => node
            .fields
            .iter()
            .find_map(|field| mutable_reference_in(&field.expr)),
        Expr::Tuple(node) => node.elems.iter().find_map(mutable_reference_in),
        _ => None,
    }
}

/// Whether a method with this name returns a mutable borrow of its
/// receiver (or something holding one): `iter_mut`, `as_mut_slice`,
/// `entry`, `or_insert_with`, `get_or_insert_with`, `drain`, ...
fn lends_mutably(method: &str) -> bool {
    const LENDING: [&str; 14] = [
        "entry",
        "or_insert",
        "or_insert_with",
        "or_insert_with_key",
        "or_default",
        "get_or_insert",
        "get_or_insert_with",
        "get_or_insert_default",
        "insert",
        "drain",
        "deref_mut",
        "first_entry",
        "last_entry",
        "by_ref",
    ];
    method.ends_with("_mut") || method.starts_with("as_mut") || LENDING.contains(&method)
}

/// Whether `init` is a handle to a standard stream: `io::stdin()`,
/// `std::io::stdout()`, `stderr()`.
fn is_standard_stream(init: &Expr) -> bool {
    let Expr::Call(call) = init else {
        return false;
    };
    let Expr::Path(path) = &*call.func else {
        return false;
    };
    call.args.is_empty()
        && path.path.segments.last().is_some_and(|segment| {
            ["stdin", "stdout", "stderr"].contains(&segment.ident.to_string().as_str())
        })
}

/// Whether `expr` makes an iterator: it ends in a call such as `iter()`,
/// `into_iter()`, `chars()` or `lines()`.
fn makes_iterator(expr: &Expr) -> bool {
    const ITERATORS: [&str; 14] = [
        "iter",
        "into_iter",
        "iter_mut",
        "chars",
        "bytes",
        "lines",
        "split",
        "split_whitespace",
        "windows",
        "chunks",
        "drain",
        "keys",
        "values",
        "peekable",
    ];
    match expr {
        Expr::MethodCall(call) => ITERATORS.contains(&call.method.to_string().as_str()),
        Expr::Paren(paren) => makes_iterator(&paren.expr),
        _ => false,
    }
}

/// The closure a `let` keeps, if its initializer is one.
fn as_closure(expr: &Expr) -> Option<&syn::ExprClosure> {
    match expr {
        Expr::Closure(closure) => Some(closure),
        Expr::Paren(paren) => as_closure(&paren.expr),
        _ => None,
    }
}

/// Whether the header of the loop `target` (a `while` condition, a `for`
/// iterable) reads `name`: it does so before the body could reset it.
fn read_by_header(target: &Expr, name: &Ident) -> bool {
    match target {
        Expr::While(node) => names_in(&node.cond).contains(name),
        Expr::ForLoop(node) => names_in(&node.expr).contains(name),
        _ => false,
    }
}

/// Whether the body of the loop `target` starts by resetting `name`:
/// its first statement that mentions it assigns it without reading it, or
/// calls `clear`, `fill`, `copy_from_slice` or `clone_from_slice` on it.
fn starts_with_reset(target: &Expr, name: &Ident) -> bool {
    let body = match target {
        Expr::ForLoop(node) => &node.body,
        Expr::While(node) => &node.body,
        Expr::Loop(node) => &node.body,
        _ => return false,
    };
    let Some(first) = body
        .stmts
        .iter()
        .find(|stmt| names_in_stmt(stmt, &[]).contains(name))
    else {
        return true;
    };
    let expr = match first {
        Stmt::Expr(expr, _) => expr,
        _ => return false,
    };
    match expr {
        Expr::Assign(assign) => {
            matches!(&*assign.left, Expr::Path(path) if path.path.is_ident(name))
                && !names_in(&assign.right).contains(name)
        }
        Expr::MethodCall(call) => {
            matches!(&*call.receiver, Expr::Path(path) if path.path.is_ident(name))
                && ["clear", "fill", "copy_from_slice", "clone_from_slice"]
                    .contains(&call.method.to_string().as_str())
                && call.args.iter().all(|arg| !names_in(arg).contains(name))
        }
        _ => false,
    }
}

/// The names a `for` loop's iterable reads by value. A borrow or a
/// borrowing iterator of a local (`&v`, `&mut v`, `v.iter()`,
/// `v.iter_mut()`, `v.chunks(..)`, ...) reads the items as they are when
/// the loop gets to them, which a resume restores; `v.len()` is checked at
/// run time (the loop's length is saved); both are left out.
fn names_read_by_iterator(iterable: &Expr) -> Vec<Ident> {
    const BORROWING: [&str; 9] = [
        "iter",
        "iter_mut",
        "chunks",
        "chunks_mut",
        "chunks_exact",
        "chunks_exact_mut",
        "windows",
        "keys",
        "values",
    ];
    const ADAPTERS: [&str; 6] = ["enumerate", "rev", "skip", "step_by", "take", "zip"];
    match iterable {
        Expr::Reference(reference)
            if matches!(&*reference.expr, Expr::Path(_) | Expr::Field(_)) =>
        {
            Vec::new()
        }
        Expr::Paren(paren) => names_read_by_iterator(&paren.expr),
        Expr::MethodCall(call) => {
            let method = call.method.to_string();
            if ADAPTERS.contains(&method.as_str()) {
                let mut read: Vec<Ident> =
                    call.args.iter().flat_map(names_read_by_iterator).collect();
                read.extend(names_read_by_iterator(&call.receiver));
                return read;
            }
            let read: Vec<Ident> = call.args.iter().flat_map(names_in).collect();
            if BORROWING.contains(&method.as_str())
                && matches!(&*call.receiver, Expr::Path(_) | Expr::Field(_))
            {
                return read;
            }
            if method == "len" && matches!(&*call.receiver, Expr::Path(_)) {
                return read;
            }
            names_in(iterable)
        }
        Expr::Range(range) => range
            .start
            .iter()
            .chain(range.end.iter())
            .flat_map(|bound| names_read_by_iterator(bound))
            .collect(),
        Expr::Binary(binary) => {
            let mut read = names_read_by_iterator(&binary.left);
            read.extend(names_read_by_iterator(&binary.right));
            read
        }
        _ => names_in(iterable),
    }
}

/// Whether two declarations are the same local (not only the same name).
fn same_local(a: &Ident, b: &Ident) -> bool {
    a == b && format!("{:?}", a.span()) == format!("{:?}", b.span())
}

/// The save-point loops inside `stmt`: a resume skips them.
fn save_points_in<'a, 'm>(stmt: &'a Stmt, model: &'m Model<'m>) -> Vec<&'a Expr> {
    struct Finder<'m, 'a> {
        model: &'m Model<'m>,
        found: Vec<&'a Expr>,
    }
    impl<'a> Visit<'a> for Finder<'_, 'a> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if self.model.save_point_of(expr).is_some() {
                self.found.push(expr);
                return;
            }
            if matches!(expr, Expr::Closure(_) | Expr::Async(_) | Expr::Const(_)) {
                return;
            }
            visit::visit_expr(self, expr);
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut finder = Finder {
        model,
        found: Vec::new(),
    };
    finder.visit_stmt(stmt);
    finder.found
}

/// The names a piece of code reads or writes, outside the loops in
/// `skipped`: paths and macro arguments, not field or method names (`u.cells`
/// does not mention a local `cells`).
struct Names<'s> {
    skipped: &'s [&'s Expr],
    found: Vec<Ident>,
}

impl<'ast> Visit<'ast> for Names<'_> {
    fn visit_expr(&mut self, expr: &'ast Expr) {
        if !self.skipped.iter().any(|skip| std::ptr::eq(*skip, expr)) {
            visit::visit_expr(self, expr);
        }
    }
    fn visit_expr_method_call(&mut self, node: &'ast syn::ExprMethodCall) {
        self.visit_expr(&node.receiver);
        for arg in &node.args {
            self.visit_expr(arg);
        }
    }
    fn visit_member(&mut self, _: &'ast syn::Member) {}
    fn visit_ident(&mut self, ident: &'ast Ident) {
        self.found.push(ident.clone());
    }
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.found.extend(mentions(mac.tokens.clone()));
        // The body's own `macro_rules!` uses what its definition names.
        self.found.extend(changes::local_macro_mentions(mac));
    }
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// The names `stmt` mentions, outside the loops in `skipped`.
fn names_in_stmt(stmt: &Stmt, skipped: &[&Expr]) -> Vec<Ident> {
    let mut names = Names {
        skipped,
        found: Vec::new(),
    };
    names.visit_stmt(stmt);
    names.found
}

/// The names `expr` mentions.
fn names_in(expr: &Expr) -> Vec<Ident> {
    let mut names = Names {
        skipped: &[],
        found: Vec::new(),
    };
    names.visit_expr(expr);
    names.found
}

/// What runs after an iteration of the save point `id`: the rest of every
/// block on the way to it, and the whole of the save-point loops around it
/// (their next iterations).
fn mentions_after(path: &[Step], model: &Model, id: u32) -> Vec<Ident> {
    let mut found = Vec::new();
    for step in path {
        match *step {
            Step::Block(block, index) => {
                for stmt in &block.stmts[index + 1..] {
                    found.extend(names_in_stmt(stmt, &[]));
                }
            }
            Step::Expr(expr) => {
                if model
                    .save_point_of(expr)
                    .is_some_and(|around| model.loops[id as usize].enclosing.contains(&around))
                {
                    found.extend(names_in(expr));
                }
            }
        }
    }
    found
}

/// Where `stmt` can leave the function or an enclosing loop (`return`, `?`,
/// `break`, `continue` not inside a loop of its own), outside `skipped`.
fn exits_function(stmt: &Stmt, skipped: &[&Expr]) -> Option<Span> {
    struct Finder<'s> {
        skipped: &'s [&'s Expr],
        depth: usize,
        found: Option<Span>,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_expr(&mut self, expr: &'ast Expr) {
            if self.found.is_some() || self.skipped.iter().any(|skip| std::ptr::eq(*skip, expr)) {
                return;
            }
            match expr {
                Expr::Return(_) | Expr::Try(_) => self.found = Some(expr.span()),
                Expr::Break(_) | Expr::Continue(_) if self.depth == 0 => {
                    self.found = Some(expr.span());
                }
                Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => {
                    self.depth += 1;
                    visit::visit_expr(self, expr);
                    self.depth -= 1;
                }
                Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
                _ => visit::visit_expr(self, expr),
            }
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut finder = Finder {
        skipped,
        depth: 0,
        found: None,
    };
    finder.visit_stmt(stmt);
    finder.found
}

/// Whether `tokens` name a hash-ordered collection.
fn names_unordered(tokens: TokenStream) -> bool {
    mentions(tokens)
        .iter()
        .any(|ident| ident == "HashMap" || ident == "HashSet")
}

/// How messages name a loop: its header, e.g. `for step in 0..steps`.
pub fn loop_title(expr: &Expr) -> String {
    let (label, header) = match expr {
        Expr::ForLoop(node) => (
            node.label.as_ref(),
            format!(
                "for {} in {}",
                node.pat.to_token_stream(),
                node.expr.to_token_stream()
            ),
        ),
        Expr::While(node) => (
            node.label.as_ref(),
            format!("while {}", node.cond.to_token_stream()),
        ),
        Expr::Loop(node) => (node.label.as_ref(), "loop".to_owned()),
        _ => (None, String::new()),
    };
    let mut title = match label {
        Some(label) => format!("{}: {header}", label.name.to_token_stream()),
        None => header,
    };
    title = tidy(&title);
    if title.chars().count() > 60 {
        title = title.chars().take(57).collect::<String>() + "...";
    }
    title
}

/// Token text as people write it: `0..n`, `a.len()`, `x[i]`.
fn tidy(text: &str) -> String {
    // `&&` keeps its spaces; a borrow's `&` loses the one after it.
    let mut out = text.replace("&& ", "\u{0}");
    for (spaced, tight) in [
        (" . ", "."),
        (" .. ", ".."),
        (" ..= ", "..="),
        (" (", "("),
        ("( ", "("),
        (" )", ")"),
        (" [", "["),
        ("[ ", "["),
        (" ]", "]"),
        (" ,", ","),
        ("& ", "&"),
        (" :: ", "::"),
        (" ?", "?"),
        ("! ", "!"),
        ("' ", "'"),
    ] {
        out = out.replace(spaced, tight);
    }
    out = out.replace('\u{0}', "&& ");
    for keyword in ["for", "in", "while", "if", "match", "let"] {
        out = out.replace(&format!("{keyword}("), &format!("{keyword} ("));
    }
    out
}
