//! A model of the function: its `#[state]` locals and its loops, found in
//! one walk over the body, with every misuse of the attributes collected as
//! a spanned error. Whether the values that cross a save point are all
//! accounted for is decided afterwards, in `valid`.
//!
//! Which loops are save points: a loop that changes a `#[state]` local
//! declared outside it is one, unless a loop around it already saves that
//! local (the outermost loop that changes state saves; the loops inside it
//! run whole within one of its iterations). `#[checkpoint(save)]` makes an
//! inner loop a save point too, for iterations too long to lose;
//! `#[checkpoint(off)]` takes a loop out. A loop that only reads state, or
//! touches none, is plain code: on resume it simply runs again. The locals
//! saved at a loop's save point are the `#[state]` locals declared before
//! the loop in the blocks around it; the ones declared in its own body
//! start afresh with each iteration.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Attribute, Block, Expr, Ident, Lifetime, Local, Pat};

use crate::args::LoopArgs;
use crate::changes::{self, Target};

/// A `#[state] let` local.
pub struct StateLocal {
    /// The local as the user named it (its span points at the declaration).
    pub ident: Ident,
    /// The field of the state struct: the local's name, made unique.
    pub field: Ident,
    /// The struct's type parameter for this field.
    pub param: Ident,
    seen: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum LoopKind {
    For,
    While,
    WhileLet,
    Loop,
}

/// A loop of the body, numbered in the order the walk meets it.
pub struct LoopModel<'a> {
    /// The loop as the user wrote it.
    pub expr: &'a Expr,
    pub kind: LoopKind,
    pub save_point: bool,
    /// Save-point loops around this one, outermost first.
    pub enclosing: Vec<u32>,
    /// The loop this one is directly inside, if any.
    pub parent: Option<u32>,
    /// `#[state]` locals saved at this loop's save point.
    pub live: Vec<usize>,
    /// A save point is nested inside: on resume this loop may be entered
    /// in the middle of an iteration.
    pub has_inner_save_point: bool,
    /// A `break` leaves this loop (so it can be skipped as a finished phase).
    pub has_break: bool,
    /// A `continue` targets this loop.
    pub has_continue: bool,
}

pub struct Model<'a> {
    pub state: Vec<StateLocal>,
    pub loops: Vec<LoopModel<'a>>,
    /// The nesting of the save-point loops, e.g. `0(1()2())3()`.
    pub loop_shape: String,
}

impl Model<'_> {
    /// The save point of the loop `expr`, if it is one.
    pub fn save_point_of(&self, expr: &Expr) -> Option<u32> {
        self.loops
            .iter()
            .position(|info| info.save_point && std::ptr::eq(info.expr, expr))
            .map(|id| id as u32)
    }
}

/// Walks `block` and builds its model; misuse goes into `errors`.
pub fn build<'a>(block: &'a Block, errors: &mut Vec<syn::Error>) -> Model<'a> {
    let mut walker = Walker {
        model: Model {
            state: Vec::new(),
            loops: Vec::new(),
            loop_shape: String::new(),
        },
        scopes: vec![Vec::new()],
        save_points: Vec::new(),
        open_loops: Vec::new(),
        in_state_init: 0,
        errors,
    };
    walker.visit_block(block);
    for state in &walker.model.state {
        if state.seen {
            continue;
        }
        let error = match changed_in_closure(block, &state.ident) {
            // `(0..n).into_par_iter().for_each(|i| total += ...)`: the
            // calls of a closure are no iterations the macro can save at.
            Some(change) => {
                let mut error = syn::Error::new(
                    state.ident.span(),
                    format!(
                        "the #[state] local `{0}` is changed only inside a closure, and a closure's calls are no loop iterations the macro can save at: a save point is a `for`, `while` or `loop` of the function itself, outside any closure. For parallel work (rayon's `par_iter`), make the save point a sequential loop over chunks, run each chunk in parallel inside one iteration, and combine the chunk's results into `{0}` after it, in order. For a loop inside a closure it is handed to (`std::thread::scope(|s| ..)` with a progress thread, `for_each`), take the loop out of the closure: start such a scope inside each iteration, or the helper thread outside the function",
                        state.ident
                    ),
                );
                error.combine(syn::Error::new(
                    change,
                    format!("`{}` is changed here, inside a closure", state.ident),
                ));
                error
            }
            None => match borrowed_mutably(block, &state.ident) {
                Some(borrow) => {
                    let mut error = syn::Error::new(
                        state.ident.span(),
                        format!(
                            "no loop changes the #[state] local `{0}` by its name: it is borrowed mutably outside the loops, and a change through that borrow is not seen as a change of `{0}`, so no save point would save it; in the loop, change `{0}` itself (`{0}.field += ..`, `update(&mut {0})`) rather than through a reference made before the loop",
                            state.ident
                        ),
                    );
                    error.combine(syn::Error::new(
                        borrow,
                        format!("`{}` is borrowed mutably here", state.ident),
                    ));
                    error
                }
                None => syn::Error::new(
                    state.ident.span(),
                    format!(
                        "no loop changes the #[state] local `{}`, so no save point saves it: a save happens at the end of an iteration of a loop that changes state, and saves the #[state] locals declared before that loop; declare it before the loop that changes it, or drop #[state] if it never changes",
                        state.ident
                    ),
                ),
            },
        };
        walker.errors.push(error);
    }
    walker.model
}

/// Where `block` borrows `name` mutably (`&mut name`, `&mut name.field`),
/// if it does.
fn borrowed_mutably(block: &Block, name: &Ident) -> Option<Span> {
    struct Borrows<'n> {
        name: &'n Ident,
        found: Option<Span>,
    }
    impl<'ast> Visit<'ast> for Borrows<'_> {
        fn visit_expr_reference(&mut self, node: &'ast syn::ExprReference) {
            if node.mutability.is_some()
                && self.found.is_none()
                && changes::root_ident(&node.expr) == Some(self.name)
            {
                self.found = Some(node.span());
            }
            visit::visit_expr_reference(self, node);
        }
    }
    let mut borrows = Borrows { name, found: None };
    borrows.visit_block(block);
    borrows.found
}

/// Where a closure in `block` changes `name`, if one does.
fn changed_in_closure(block: &Block, name: &Ident) -> Option<Span> {
    struct Closures {
        target: [Target; 1],
        found: Option<Span>,
    }
    impl<'ast> Visit<'ast> for Closures {
        fn visit_expr_closure(&mut self, closure: &'ast syn::ExprClosure) {
            if self.found.is_none() {
                self.found = changes::in_expr(&closure.body, &self.target)
                    .first()
                    .map(|&(_, span)| span);
            }
        }
    }
    let mut closures = Closures {
        target: [Target {
            name: name.clone(),
            mutable: true,
            reference: false,
            interior: true,
        }],
        found: None,
    };
    closures.visit_block(block);
    closures.found
}

struct Binding {
    name: Ident,
    state: Option<usize>,
    /// Bound `mut`.
    mutable: bool,
    /// How many save-point loops were open where it was declared.
    save_depth: usize,
    /// A closure kept in this local changes these `#[state]` locals when
    /// it is called.
    through: Vec<Ident>,
}

struct Walker<'a, 'e> {
    model: Model<'a>,
    /// Names bound in each enclosing block, innermost last.
    scopes: Vec<Vec<Binding>>,
    /// Ids of the save-point loops being walked, outermost first.
    save_points: Vec<u32>,
    /// Ids of all the loops being walked, outermost first.
    open_loops: Vec<u32>,
    /// Inside a `#[state]` initializer: it runs only on a fresh start, so
    /// its loops are plain code.
    in_state_init: usize,
    errors: &'e mut Vec<syn::Error>,
}

/// Whether `attr` is `#[state]`.
pub fn is_state_attr(attr: &Attribute) -> bool {
    attr.path().is_ident("state")
}

/// Whether `attr` is `#[transient]`: a `let mut` the loops may change
/// without saving it (a scratch buffer, a value set afresh each iteration).
pub fn is_transient_attr(attr: &Attribute) -> bool {
    attr.path().is_ident("transient")
}

/// Whether `attr` is `#[checkpoint(...)]`.
pub fn is_loop_attr(attr: &Attribute) -> bool {
    attr.path().is_ident("checkpoint")
}

impl<'a> Walker<'a, '_> {
    /// Binds the names of `pat` (plain locals: they hide state of the same name).
    fn bind_pattern(&mut self, pat: &Pat) {
        let mut names = Vec::new();
        pattern_bindings(pat, &mut names);
        let save_depth = self.save_points.len();
        let scope = self
            .scopes
            .last_mut()
            .expect("the walker always has a scope");
        scope.extend(names.into_iter().map(|name| Binding {
            name,
            state: None,
            mutable: false,
            save_depth,
            through: Vec::new(),
        }));
    }

    /// The `#[state]` locals in scope, each with its binding (a later
    /// binding of the same name hides it).
    fn visible_state(&self) -> Vec<&Binding> {
        let bindings: Vec<&Binding> = self.scopes.iter().flatten().collect();
        bindings
            .iter()
            .enumerate()
            .filter(|(position, binding)| {
                binding.state.is_some()
                    && !bindings[position + 1..]
                        .iter()
                        .any(|later| later.name == binding.name)
            })
            .map(|(_, binding)| *binding)
            .collect()
    }

    /// Whether the loop `whole` changes a `#[state]` local that no
    /// save-point loop around it saves already.
    fn changes_unsaved_state(&self, whole: &Expr) -> bool {
        let open = self.save_points.len();
        let unsaved: Vec<&Binding> = self
            .visible_state()
            .into_iter()
            .filter(|binding| binding.save_depth == open)
            .collect();
        let mut targets: Vec<Target> = unsaved
            .iter()
            .map(|binding| Target {
                name: binding.name.clone(),
                mutable: binding.mutable,
                reference: false,
                interior: true,
            })
            .collect();
        // Calling a closure that changes such state changes it too.
        targets.extend(
            self.scopes
                .iter()
                .flatten()
                .filter(|binding| {
                    binding
                        .through
                        .iter()
                        .any(|name| unsaved.iter().any(|state| state.name == *name))
                })
                .map(|binding| Target {
                    name: binding.name.clone(),
                    mutable: true,
                    reference: false,
                    interior: true,
                }),
        );
        !targets.is_empty() && !changes::in_expr(whole, &targets).is_empty()
    }

    /// The state locals visible here; an error for each one hidden by a
    /// later binding of the same name (the save could not reach it).
    fn live_state(&mut self) -> Vec<usize> {
        let mut live = Vec::new();
        let bindings: Vec<&Binding> = self.scopes.iter().flatten().collect();
        for (position, binding) in bindings.iter().enumerate() {
            let Some(state) = binding.state else { continue };
            let shadow = bindings[position + 1..]
                .iter()
                .rev()
                .find(|later| later.name == binding.name);
            match shadow {
                None => live.push(state),
                Some(later) if later.state.is_some() => {}
                Some(later) => {
                    // Reported here; not again as "seen by no save point".
                    self.model.state[state].seen = true;
                    self.errors.push(syn::Error::new(
                        later.name.span(),
                        format!(
                            "`{}` hides the #[state] local of the same name from the save point of a loop below; rename one of them",
                            later.name
                        ),
                    ));
                }
            }
        }
        live
    }

    fn state_local(&mut self, local: &'a Local) {
        let Some(init) = &local.init else {
            self.errors.push(syn::Error::new(
                local.let_token.span,
                "a #[state] local needs an initializer (`#[state] let x = ...;`): it gives the value of a fresh run",
            ));
            return;
        };
        if let Some((else_token, _)) = &init.diverge {
            self.errors.push(syn::Error::new(
                else_token.span,
                "`let ... else` cannot be #[state]: bind the value first, then mark a plain `let` #[state]",
            ));
            return;
        }
        let mutable = !mutable_bindings(&local.pat).is_empty();
        let save_depth = self.save_points.len();
        let ident = match &local.pat {
            Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => pat.ident.clone(),
            Pat::Type(typed) => match &*typed.pat {
                Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                    pat.ident.clone()
                }
                other => return self.bad_state_pattern(other),
            },
            other => return self.bad_state_pattern(other),
        };
        self.in_state_init += 1;
        self.visit_expr(&init.expr);
        self.in_state_init -= 1;
        let id = self.model.state.len();
        let field = unique_field(&ident, &self.model.state);
        let mut param_name = camel_case(&field.to_string());
        while self
            .model
            .state
            .iter()
            .any(|state| state.param == param_name)
        {
            param_name.push('_');
        }
        let param = Ident::new(&param_name, Span::call_site());
        self.model.state.push(StateLocal {
            ident: ident.clone(),
            field,
            param,
            seen: false,
        });
        let scope = self
            .scopes
            .last_mut()
            .expect("the walker always has a scope");
        scope.push(Binding {
            name: ident,
            state: Some(id),
            mutable,
            save_depth,
            through: Vec::new(),
        });
    }

    fn bad_state_pattern(&mut self, pat: &Pat) {
        self.errors.push(syn::Error::new(
            pat.span(),
            "#[state] needs a single name (`#[state] let mut x = ...;`), not a pattern: declare each state local on its own line",
        ));
    }

    fn walk_loop(
        &mut self,
        kind: LoopKind,
        attrs: &[Attribute],
        label: Option<&Lifetime>,
        whole: &'a Expr,
        walk_inside: impl FnOnce(&mut Self),
    ) {
        let id = self.model.loops.len() as u32;
        let mut args = LoopArgs::default();
        for attr in attrs.iter().filter(|attr| is_loop_attr(attr)) {
            match attr.parse_args::<LoopArgs>() {
                Ok(parsed) => {
                    args.off |= parsed.off;
                    args.save |= parsed.save;
                }
                Err(err) => self.errors.push(err),
            }
        }
        if args.off && args.save {
            let attr = attrs
                .iter()
                .find(|attr| is_loop_attr(attr))
                .expect("the options come from an attribute");
            self.errors.push(syn::Error::new_spanned(
                attr,
                "a loop is either `save` (it saves, even inside another loop) or `off` (it never saves), not both",
            ));
        }
        // An inner save point needs this loop's position: the loop must
        // save too.
        let holds_save_point = declares_state(whole) || opts_in_inside(whole);
        let save_point = !args.off
            && self.in_state_init == 0
            && (args.save || holds_save_point || self.changes_unsaved_state(whole));
        let live = if save_point {
            self.live_state()
        } else {
            Vec::new()
        };
        for &state in &live {
            self.model.state[state].seen = true;
        }
        let (has_break, has_continue, breaks_with_value) = exits(whole, label);
        if save_point && kind == LoopKind::Loop && breaks_with_value {
            self.errors.push(syn::Error::new(
                whole.span(),
                "a `loop` that breaks with a value cannot be a save point: on a resume after it ended its value would be lost; keep the value in a #[state] local, or mark the loop #[checkpoint(off)]",
            ));
        }
        if let Some(&parent) = self.save_points.last()
            && save_point
        {
            self.model.loops[parent as usize].has_inner_save_point = true;
        }
        self.model.loops.push(LoopModel {
            expr: whole,
            parent: self.open_loops.last().copied(),
            kind,
            save_point,
            enclosing: self.save_points.clone(),
            live,
            has_inner_save_point: false,
            has_break,
            has_continue,
        });
        if save_point {
            self.model.loop_shape.push_str(&format!("{id}("));
            self.save_points.push(id);
        }
        let inner_before = self.model.loops.iter().filter(|l| l.save_point).count();
        self.open_loops.push(id);
        walk_inside(self);
        self.open_loops.pop();
        let inner_save_points =
            self.model.loops.iter().filter(|l| l.save_point).count() - inner_before;
        if save_point {
            self.save_points.pop();
            self.model.loop_shape.push(')');
            if kind == LoopKind::WhileLet && self.model.loops[id as usize].has_inner_save_point {
                self.errors.push(syn::Error::new(
                    whole.span(),
                    "a `while let` loop cannot contain a save point: the values it binds could not be restored in the middle of an iteration; use `while` or `loop` with state in #[state] locals",
                ));
            }
        }
        if args.off && inner_save_points > 0 {
            let attr = attrs
                .iter()
                .find(|attr| is_loop_attr(attr))
                .expect("off comes from an attribute");
            self.errors.push(syn::Error::new(
                attr.span(),
                "this loop contains a save point, so it cannot be taken out of saving: on resume it would restart while the inner loop continues; mark the inner loops #[checkpoint(off)] too",
            ));
        }
    }

    fn in_scope(&mut self, walk: impl FnOnce(&mut Self)) {
        self.scopes.push(Vec::new());
        walk(self);
        self.scopes.pop();
    }
}

impl<'a> Visit<'a> for Walker<'a, '_> {
    fn visit_block(&mut self, block: &'a Block) {
        self.in_scope(|walker| {
            for stmt in &block.stmts {
                walker.visit_stmt(stmt);
            }
        });
    }

    fn visit_local(&mut self, local: &'a Local) {
        if let Some(attr) = local.attrs.iter().find(|attr| is_loop_attr(attr)) {
            self.errors.push(syn::Error::new_spanned(
                attr,
                "#[checkpoint(...)] goes on a loop (`for`, `while`, `loop`), not on a `let`",
            ));
            // The loop it was meant for would only repeat this mistake.
            self.bind_pattern(&local.pat);
            return;
        }
        let state_attrs = local
            .attrs
            .iter()
            .filter(|attr| is_state_attr(attr))
            .count();
        if state_attrs > 1 {
            self.errors
                .push(syn::Error::new(local.let_token.span, "duplicate #[state]"));
        }
        if state_attrs > 0 {
            self.state_local(local);
            return;
        }
        if let Some(init) = &local.init {
            self.visit_expr(&init.expr);
            if let Some((_, diverge)) = &init.diverge {
                self.visit_expr(diverge);
            }
        }
        self.bind_pattern(&local.pat);
        if let Some(Expr::Closure(closure)) = local.init.as_ref().map(|init| &*init.expr) {
            let state: Vec<Target> = self
                .visible_state()
                .into_iter()
                .map(|binding| Target {
                    name: binding.name.clone(),
                    mutable: binding.mutable,
                    reference: false,
                    interior: true,
                })
                .collect();
            let through = changes::in_expr(&closure.body, &state)
                .into_iter()
                .map(|(name, _)| name)
                .collect();
            if let Some(binding) = self.scopes.last_mut().and_then(|scope| scope.last_mut()) {
                binding.through = through;
            }
        }
    }

    fn visit_item(&mut self, item: &'a syn::Item) {
        // A nested item is not part of the checkpointed function.
        reject_state_inside(item.to_token_stream(), "inside a nested item", self.errors);
    }

    fn visit_attribute(&mut self, attr: &'a Attribute) {
        if is_state_attr(attr) {
            self.errors.push(syn::Error::new(
                attr.span(),
                "#[state] goes on a `let` statement: `#[state] let mut x = ...;`",
            ));
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::ForLoop(node) => {
                self.walk_loop(
                    LoopKind::For,
                    &node.attrs,
                    node.label.as_ref().map(|l| &l.name),
                    expr,
                    |walker| {
                        walker.visit_expr(&node.expr);
                        walker.in_scope(|walker| {
                            walker.bind_pattern(&node.pat);
                            walker.visit_block(&node.body);
                        });
                    },
                );
                for attr in &node.attrs {
                    self.visit_attribute(attr);
                }
            }
            Expr::While(node) => {
                let kind = if matches!(&*node.cond, Expr::Let(_)) {
                    LoopKind::WhileLet
                } else {
                    LoopKind::While
                };
                self.walk_loop(
                    kind,
                    &node.attrs,
                    node.label.as_ref().map(|l| &l.name),
                    expr,
                    |walker| {
                        walker.in_scope(|walker| {
                            walker.visit_condition(&node.cond);
                            walker.visit_block(&node.body);
                        });
                    },
                );
                for attr in &node.attrs {
                    self.visit_attribute(attr);
                }
            }
            Expr::Loop(node) => {
                self.walk_loop(
                    LoopKind::Loop,
                    &node.attrs,
                    node.label.as_ref().map(|l| &l.name),
                    expr,
                    |walker| {
                        walker.visit_block(&node.body);
                    },
                );
                for attr in &node.attrs {
                    self.visit_attribute(attr);
                }
            }
            Expr::If(node) => {
                for attr in &node.attrs {
                    self.visit_attribute(attr);
                }
                self.in_scope(|walker| {
                    walker.visit_condition(&node.cond);
                    walker.visit_block(&node.then_branch);
                });
                if let Some((_, otherwise)) = &node.else_branch {
                    self.visit_expr(otherwise);
                }
            }
            Expr::Match(node) => {
                for attr in &node.attrs {
                    self.visit_attribute(attr);
                }
                self.visit_expr(&node.expr);
                for arm in &node.arms {
                    self.in_scope(|walker| {
                        walker.bind_pattern(&arm.pat);
                        if let Pat::Guard(guarded) = &arm.pat {
                            walker.visit_expr(&guarded.guard);
                        }
                        walker.visit_expr(&arm.body);
                    });
                }
            }
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {
                // Code that may run elsewhere or later is not part of the
                // checkpointed loops.
                reject_state_inside(
                    expr.to_token_stream(),
                    "inside a closure or an async block",
                    self.errors,
                );
            }
            _ => visit::visit_expr(self, expr),
        }
    }
}

impl<'a> Walker<'a, '_> {
    /// The condition of an `if` or `while`: `let` patterns bind names for
    /// the block that follows (the caller opened its scope).
    fn visit_condition(&mut self, cond: &'a Expr) {
        match cond {
            Expr::Let(node) => {
                self.visit_expr(&node.expr);
                self.bind_pattern(&node.pat);
            }
            Expr::Binary(node) if matches!(node.op, syn::BinOp::And(_)) => {
                self.visit_condition(&node.left);
                self.visit_condition(&node.right);
            }
            other => self.visit_expr(other),
        }
    }
}

fn reject_state_inside(tokens: TokenStream, place: &str, errors: &mut Vec<syn::Error>) {
    let mut previous_pound = false;
    for tree in tokens {
        match &tree {
            TokenTree::Group(group) => {
                if previous_pound && group.delimiter() == proc_macro2::Delimiter::Bracket {
                    let inner: Vec<TokenTree> = group.stream().into_iter().collect();
                    match inner.as_slice() {
                        [TokenTree::Ident(ident)] if ident == "state" => {
                            errors.push(syn::Error::new(
                                group.span(),
                                format!("#[state] is not supported {place}: only locals of the checkpointed function itself can be saved"),
                            ));
                        }
                        [TokenTree::Ident(ident), TokenTree::Group(_)] if ident == "checkpoint" => {
                            errors.push(syn::Error::new(
                                group.span(),
                                format!("#[checkpoint(...)] is not supported on a loop {place}: a save point is a loop of the checkpointed function itself, and a closure may run later or on other threads (as rayon's `par_iter` does); make the save point a sequential loop of the function and run the parallel work inside its iterations"),
                            ));
                        }
                        _ => {}
                    }
                } else {
                    reject_state_inside(group.stream(), place, errors);
                }
                previous_pound = false;
            }
            TokenTree::Punct(punct) => previous_pound = punct.as_char() == '#',
            _ => previous_pound = false,
        }
    }
}

/// The names a pattern binds (also used for the function's arguments).
pub fn pattern_bindings(pat: &Pat, names: &mut Vec<Ident>) {
    match pat {
        Pat::Ident(node) => {
            names.push(node.ident.clone());
            if let Some((_, sub)) = &node.subpat {
                pattern_bindings(sub, names);
            }
        }
        Pat::Or(node) => {
            if let Some(first) = node.cases.first() {
                pattern_bindings(first, names);
            }
        }
        Pat::Paren(node) => pattern_bindings(&node.pat, names),
        Pat::Reference(node) => pattern_bindings(&node.pat, names),
        Pat::Slice(node) => node.elems.iter().for_each(|p| pattern_bindings(p, names)),
        Pat::Struct(node) => node
            .fields
            .iter()
            .for_each(|f| pattern_bindings(&f.pat, names)),
        Pat::Tuple(node) => node.elems.iter().for_each(|p| pattern_bindings(p, names)),
        Pat::TupleStruct(node) => node.elems.iter().for_each(|p| pattern_bindings(p, names)),
        Pat::Type(node) => pattern_bindings(&node.pat, names),
        Pat::Guard(node) => pattern_bindings(&node.pat, names),
        _ => {}
    }
}

/// Whether a loop inside `expr` is marked `#[checkpoint(save)]`.
fn opts_in_inside(expr: &Expr) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr(&mut self, expr: &'ast Expr) {
            let attrs = match expr {
                Expr::ForLoop(node) => &node.attrs,
                Expr::While(node) => &node.attrs,
                Expr::Loop(node) => &node.attrs,
                Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => return,
                _ => return visit::visit_expr(self, expr),
            };
            self.0 |= attrs
                .iter()
                .filter(|attr| is_loop_attr(attr))
                .any(|attr| attr.parse_args::<LoopArgs>().is_ok_and(|args| args.save));
            visit::visit_expr(self, expr);
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let body = match expr {
        Expr::ForLoop(node) => &node.body,
        Expr::While(node) => &node.body,
        Expr::Loop(node) => &node.body,
        _ => return false,
    };
    let mut finder = Finder(false);
    finder.visit_block(body);
    finder.0
}

/// Whether the loop declares a `#[state]` local in its body.
fn declares_state(expr: &Expr) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_local(&mut self, local: &'ast Local) {
            self.0 |= local.attrs.iter().any(is_state_attr);
            visit::visit_local(self, local);
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut finder = Finder(false);
    finder.visit_expr(expr);
    finder.0
}

/// Which exits target the loop `expr` (labelled `label`): any `break`,
/// any `continue`, a `break` with a value.
fn exits(expr: &Expr, label: Option<&Lifetime>) -> (bool, bool, bool) {
    struct Exits<'l> {
        label: Option<&'l Lifetime>,
        depth: usize,
        has_break: bool,
        has_continue: bool,
        breaks_with_value: bool,
    }
    impl Exits<'_> {
        fn targets_us(&self, label: Option<&Lifetime>) -> bool {
            match label {
                None => self.depth == 0,
                Some(label) => self.label.is_some_and(|ours| ours.ident == label.ident),
            }
        }
    }
    impl<'ast> Visit<'ast> for Exits<'_> {
        fn visit_expr(&mut self, expr: &'ast Expr) {
            match expr {
                Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => {
                    self.depth += 1;
                    visit::visit_expr(self, expr);
                    self.depth -= 1;
                }
                Expr::Break(node) => {
                    if self.targets_us(node.label.as_ref()) {
                        self.has_break = true;
                        self.breaks_with_value |= node.expr.is_some();
                    }
                    visit::visit_expr(self, expr);
                }
                Expr::Continue(node) => {
                    self.has_continue |= self.targets_us(node.label.as_ref());
                }
                Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
                _ => visit::visit_expr(self, expr),
            }
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let body = match expr {
        Expr::ForLoop(node) => &node.body,
        Expr::While(node) => &node.body,
        Expr::Loop(node) => &node.body,
        _ => return (false, false, false),
    };
    let mut exits = Exits {
        label,
        depth: 0,
        has_break: false,
        has_continue: false,
        breaks_with_value: false,
    };
    exits.visit_block(body);
    (exits.has_break, exits.has_continue, exits.breaks_with_value)
}

fn unique_field(ident: &Ident, taken: &[StateLocal]) -> Ident {
    let base = ident.to_string();
    let base = base.strip_prefix("r#").unwrap_or(&base).to_owned();
    // A raw identifier (`r#match`) cannot be a field name as it is.
    let base = if syn::parse_str::<Ident>(&base).is_err() {
        format!("{base}_")
    } else {
        base
    };
    let mut name = base.clone();
    let mut n = 2;
    while taken.iter().any(|state| state.field == name) {
        name = format!("{base}_{n}");
        n += 1;
    }
    Ident::new(&name, Span::call_site())
}

/// `snake_case` to `CamelCase`, for generated type names.
pub fn camel_case(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in snake.trim_start_matches("r#").chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    if out.is_empty() {
        "State".to_owned()
    } else {
        out
    }
}

/// The names bound `mut` by a pattern (`mut x`, `(mut a, b)`).
pub fn mutable_bindings(pat: &Pat) -> Vec<Ident> {
    struct Mutable(Vec<Ident>);
    impl<'ast> Visit<'ast> for Mutable {
        fn visit_pat_ident(&mut self, pat: &'ast syn::PatIdent) {
            if pat.mutability.is_some() {
                self.0.push(pat.ident.clone());
            }
            visit::visit_pat_ident(self, pat);
        }
    }
    let mut mutable = Mutable(Vec::new());
    mutable.visit_pat(pat);
    mutable.0
}
