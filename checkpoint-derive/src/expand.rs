//! Writes the checkpointing function: a state struct named after the
//! function, a run opened at the top, each `#[state]` local taking its
//! saved value, and each save-point loop resuming and saving.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, FnArg, Ident, ItemFn, Lifetime, Local, ReturnType, Type};

use crate::args::Args;
use crate::changes;
use crate::model::{self, LoopKind, Model};
use crate::valid;

/// The entry point: parse, model, expand. On any error the user's function
/// is emitted unchanged beside the errors, so one mistake is one error.
pub fn checkpointed(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut item: ItemFn = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(err) => {
            let err = syn::Error::new(err.span(), "#[checkpointed] goes on a function");
            let mut out = err.to_compile_error();
            out.extend(input);
            return out;
        }
    };
    let mut errors = Vec::new();
    let args = syn::parse2::<Args>(args).unwrap_or_else(|err| {
        errors.push(err);
        Args::default()
    });
    check_signature(&item, &mut errors);
    let key = key_names(&item, &args, &mut errors);
    let block = item.block.clone();
    // What the body's own `macro_rules!` expand to counts where they are
    // invoked: `tick!()` may change a local it names.
    let _local_macros = changes::LocalMacros::of(&block);
    let model = model::build(&block, &mut errors);
    if errors.is_empty() && model.state.is_empty() {
        let hint = if item.sig.receiver().is_some() {
            "; when the progress lives in `self`, copy it into a #[state] local before the loop (`#[state] let mut ranks = self.ranks.clone();`), use the local in the loop, and store it back after it"
        } else {
            ""
        };
        errors.push(syn::Error::new(
            item.sig.ident.span(),
            format!("#[checkpointed] found no #[state] local: mark the locals that hold the computation's progress, e.g. `#[state] let mut total = 0;`{hint}"),
        ));
    }
    valid::check(&item, &block, &model, &mut errors);
    if let Some(first) = errors.first().cloned() {
        let combined = errors.into_iter().skip(1).fold(first, |mut all, err| {
            all.combine(err);
            all
        });
        StripAttrs.visit_item_fn_mut(&mut item);
        let mut out = combined.to_compile_error();
        out.extend(item.into_token_stream());
        return out;
    }
    expand(item, &args, &model, &key)
}

fn check_signature(item: &ItemFn, errors: &mut Vec<syn::Error>) {
    let sig = &item.sig;
    if let Some(token) = &sig.asyncness {
        errors.push(syn::Error::new(
            token.span,
            "#[checkpointed] does not support `async fn`: call a checkpointed synchronous function from it instead",
        ));
    }
    if let Some(token) = &sig.constness {
        errors.push(syn::Error::new(
            token.span,
            "#[checkpointed] cannot go on a `const fn`",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            "#[checkpointed] does not support variadic functions",
        ));
    }
}

/// The inputs that identify the run: `key = (..)` checked against the
/// signature, or the default key.
fn key_names(item: &ItemFn, args: &Args, errors: &mut Vec<syn::Error>) -> Vec<Ident> {
    let names = argument_names(item);
    if let Some(comm) = &args.comm
        && !names.iter().any(|name| name == comm)
    {
        errors.push(syn::Error::new(
            comm.span(),
            format!("`comm` names `{comm}`, which is not an argument of this function: name the communicator argument every rank passes (`world: &SimpleCommunicator`)"),
        ));
    }
    let Some(key) = &args.key else {
        return default_key(item, args.comm.as_ref(), errors);
    };
    let sig = &item.sig;
    for ident in key {
        if args.comm.as_ref() == Some(ident) {
            errors.push(syn::Error::new(
                ident.span(),
                format!("`key` names `{ident}`, the communicator: it says which ranks run the function, not which run this is; leave it out of `key`"),
            ));
            continue;
        }
        if ident == "self" {
            if sig.receiver().is_none() {
                errors.push(syn::Error::new(
                    ident.span(),
                    "`key` names `self`, but this function has no receiver (`&self`, `&mut self` or `self`)",
                ));
            }
        } else if !names.iter().any(|name| name == ident) {
            errors.push(syn::Error::new(
                ident.span(),
                format!("`key` names `{ident}`, which is not an argument of this function"),
            ));
        }
    }
    key.clone()
}

/// The names bound by the function's arguments (not `self`).
fn argument_names(item: &ItemFn) -> Vec<Ident> {
    let mut names = Vec::new();
    for arg in &item.sig.inputs {
        if let FnArg::Typed(typed) = arg {
            model::pattern_bindings(&typed.pat, &mut names);
        }
    }
    names
}

/// The default key: the receiver and every argument. An argument that has
/// no value to identify a run by (`impl Trait`: a closure, an iterator) or
/// no stable one (a `HashSet` encodes in a random order) is refused until
/// `key` names the identifying ones.
fn default_key(item: &ItemFn, comm: Option<&Ident>, errors: &mut Vec<syn::Error>) -> Vec<Ident> {
    let mut names = Vec::new();
    if let Some(receiver) = item.sig.receiver() {
        names.push(Ident::new("self", receiver.self_token.span));
    }
    for arg in &item.sig.inputs {
        let FnArg::Typed(typed) = arg else { continue };
        let mut bound = Vec::new();
        model::pattern_bindings(&typed.pat, &mut bound);
        // The communicator says which ranks run the function, not which run.
        if comm.is_some_and(|comm| bound.contains(comm)) {
            continue;
        }
        let reason = if is_impl_trait(&typed.ty) {
            Some("an `impl Trait` argument has no value to identify the run by")
        } else if changes::mentions(typed.ty.to_token_stream())
            .iter()
            .any(|ident| ident == "HashSet")
        {
            Some(
                "a `HashSet` encodes its items in a different order in every process, so the run would never be found again",
            )
        } else {
            None
        };
        if let Some(reason) = reason {
            let keyable: Vec<String> = item
                .sig
                .inputs
                .iter()
                .filter_map(|other| match other {
                    FnArg::Receiver(_) => Some("self".to_owned()),
                    FnArg::Typed(other)
                        if !std::ptr::eq(other, typed) && !is_impl_trait(&other.ty) =>
                    {
                        Some(other.pat.to_token_stream().to_string().replace("mut ", ""))
                    }
                    FnArg::Typed(_) => None,
                })
                .collect();
            errors.push(syn::Error::new_spanned(
                typed,
                format!(
                    "this argument cannot identify the run: {reason}; every input is part of a run's key by default, so name the ones that identify it: `#[checkpointed(key = ({}))]` (add `name = \"...\"` to tell runs apart by name)",
                    keyable.join(", ")
                ),
            ));
            continue;
        }
        model::pattern_bindings(&typed.pat, &mut names);
    }
    names
}

/// `impl Trait` and `&impl Trait` arguments (closures, iterators).
fn is_impl_trait(ty: &Type) -> bool {
    match ty {
        Type::ImplTrait(_) => true,
        Type::Reference(reference) => is_impl_trait(&reference.elem),
        Type::Paren(inner) => is_impl_trait(&inner.elem),
        _ => false,
    }
}

/// Removes `#[state]`, `#[transient]` and `#[checkpoint(...)]`, which mean
/// nothing to rustc.
struct StripAttrs;

impl VisitMut for StripAttrs {
    fn visit_attributes_mut(&mut self, attrs: &mut Vec<syn::Attribute>) {
        attrs.retain(|attr| {
            !model::is_state_attr(attr)
                && !model::is_loop_attr(attr)
                && !model::is_transient_attr(attr)
        });
    }
}

fn private() -> TokenStream {
    quote!(::checkpoint_core::__private)
}

fn generated(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// The local the restored value of the `index`th `#[state]` local is taken
/// into at the start of the body (`None` on a fresh start).
fn restored_local(index: usize) -> Ident {
    format_ident!("__checkpoint_restored_{}", index, span = Span::mixed_site())
}

// Input:
//     #[checkpointed]
//     fn factorial(n: u64) -> u128 {
//         #[state] let mut prod: u128 = 1;
//         for i in 1..=n as u128 { prod *= i; }
//         prod
//     }
// Output:
//     fn factorial(n: u64) -> u128 {
//         mod __checkpoint_schema { pub struct FactorialState<Prod> { pub prod: Option<Prod> } ... }
//         static __CHECKPOINT_FUNCTION: Function = Function { function: "factorial", ... };
//         let __checkpoint_run_owned = Run::<FactorialState<_>>::start(&__CHECKPOINT_FUNCTION, &(&n,));
//         let mut __checkpoint_restored = /* the saved state, or all fields None */;
//         let __checkpoint_run = &__checkpoint_run_owned;
//         let __checkpoint_result = body(move || -> u128 {
//             let mut __checkpoint_restored_0 = __checkpoint_restored.prod.take();
//             let mut prod: u128 = match __checkpoint_restored_0.take() { Some(v) => v, None => 1 };
//             /* each save-point loop: see `expand_loop` */
//             prod
//         });
//         __checkpoint_run_owned.finish(/* Ok, Some or a plain value: completed */);
//         __checkpoint_result
//     }
fn expand(mut item: ItemFn, args: &Args, model: &Model, key: &[Ident]) -> TokenStream {
    let private = private();
    let fn_name = item.sig.ident.clone();
    let struct_name = format_ident!("{}State", model::camel_case(&fn_name.to_string()));
    let fields: Vec<&Ident> = model.state.iter().map(|s| &s.field).collect();
    let params: Vec<&Ident> = model.state.iter().map(|s| &s.param).collect();
    let field_names: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
    let placeholders = model.state.iter().map(|_| quote!(_));
    // Bounds through the runtime's own traits, so that a state type serde
    // cannot save is reported with a message about `#[state]`.
    let bound = |name: &str| {
        params
            .iter()
            .map(|param| format!("{param}: ::checkpoint_core::__private::{name}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let serialize_bound = bound("SavedField");
    let deserialize_bound = bound("StateValue");

    let code_fingerprint = fnv1a(item.to_token_stream().to_string().as_bytes());
    let function_static = function_static(&fn_name, args, model, code_fingerprint);
    let key = key_tuple(&item, key);
    // `comm = world`: every rank of the communicator's group runs the
    // function, and they checkpoint it together.
    let (start_fn, comm) = match &args.comm {
        Some(comm) => (
            quote!(start_across),
            quote_spanned!(comm.span()=> , ::checkpoint_core::__private::group_of(&#comm)),
        ),
        None => (quote!(start), quote!()),
    };

    let run = generated("__checkpoint_run");
    let run_owned = generated("__checkpoint_run_owned");
    let restored = generated("__checkpoint_restored");
    let result = generated("__checkpoint_result");
    let function = generated("__CHECKPOINT_FUNCTION");
    let schema_mod = generated("__checkpoint_schema");
    let saved = generated("__checkpoint_saved");
    let completed = generated("__checkpoint_completed");

    let mut rewriter = Rewriter {
        model,
        struct_path: quote!(#schema_mod::#struct_name),
        next_loop: 0,
        next_state: 0,
    };
    rewriter.visit_block_mut(&mut item.block);
    let body = &item.block;

    let return_type = match &item.sig.output {
        ReturnType::Default => Some(quote!(())),
        ReturnType::Type(_, ty) if annotatable(ty) => Some(ty.to_token_stream()),
        ReturnType::Type(..) => None,
    };
    // The restored values are taken out of the state before the body's own
    // code runs, each into a local of its own. A value taken where its
    // `#[state]` local is declared, after an earlier local's initializer
    // has handed that local's address to a call (`ChaCha8Rng::seed_from_u64`
    // writes its result through a pointer), could in the optimizer's eyes
    // hold that address: every store through it (a lattice's flip) would
    // then make the optimizer load the earlier local (the RNG's index)
    // again on every step of the loop.
    let extracts = model.state.iter().enumerate().map(|(index, state)| {
        let field = &state.field;
        let local = restored_local(index);
        quote!(let mut #local = #restored.#field.take();)
    });
    let watch = generated("__checkpoint_watch");
    let body = quote!({
        #(#extracts)*
        #[allow(unused_variables)]
        let #watch = #run.watch();
        #body
    });
    let closure = match return_type {
        Some(ty) => quote!(move || -> #ty #body),
        None => quote!(move || #body),
    };

    // A state type serde cannot restore is first met here: point at the
    // first `#[state]` local rather than at the attribute.
    let start_span = model
        .state
        .first()
        .map_or_else(Span::call_site, |state| state.ident.span());
    let start = quote_spanned! {start_span=>
        ::checkpoint_core::__private::Run::<#schema_mod::#struct_name<#(#placeholders),*>>::#start_fn(&#function, #key #comm)
    };
    let new_body = quote! {
        {
            mod #schema_mod {
                #[derive(#private::serde::Serialize, #private::serde::Deserialize)]
                #[serde(crate = "::checkpoint_core::__private::serde")]
                #[serde(bound(serialize = #serialize_bound, deserialize = #deserialize_bound))]
                pub struct #struct_name<#(#params),*> {
                    #(pub #fields: ::core::option::Option<#params>,)*
                }

                impl<#(#params),*> ::checkpoint_core::__private::StateSchema for #struct_name<#(#params),*> {
                    fn describe(schema: &mut ::checkpoint_core::__private::Schema) {
                        #(schema.field::<#params>(#field_names);)*
                    }
                }
            }
            #function_static
            let #run_owned = #start;
            // The body moves what it uses, as a function body does (a
            // borrowed return from `&self` keeps its lifetime); the run is
            // shared with it by reference.
            let #run = &#run_owned;
            let mut #restored = match #run.take_state() {
                ::core::option::Option::Some(#saved) => #saved,
                ::core::option::Option::None => #schema_mod::#struct_name {
                    #(#fields: ::core::option::Option::None,)*
                },
            };
            let #result = #private::body(#closure);
            let #completed = {
                #[allow(unused_imports)]
                use #private::{FallibleOutcome as _, PlainOutcome as _};
                (&#private::Outcome(&#result)).completed()
            };
            #run_owned.finish(#completed);
            #result
        }
    };
    item.block = Box::new(syn::parse2(new_body).expect("the generated body is a block"));
    item.into_token_stream()
}

/// Whether a return type can be written on the body's closure: not with
/// `impl Trait` or elided lifetimes, which mean something else there.
fn annotatable(ty: &Type) -> bool {
    let text = ty.to_token_stream().to_string();
    !(text.contains("impl ") || text.contains("'_") || has_elided_reference(ty))
}

fn has_elided_reference(ty: &Type) -> bool {
    struct Finder(bool);
    impl VisitMut for Finder {
        fn visit_type_reference_mut(&mut self, node: &mut syn::TypeReference) {
            self.0 |= node.lifetime.is_none();
            visit_mut::visit_type_reference_mut(self, node);
        }
    }
    let mut finder = Finder(false);
    finder.visit_type_mut(&mut ty.clone());
    finder.0
}

fn function_static(
    fn_name: &Ident,
    args: &Args,
    model: &Model,
    code_fingerprint: u64,
) -> TokenStream {
    let private = private();
    let function = generated("__CHECKPOINT_FUNCTION");
    let crate_name = generated("__checkpoint_crate");
    let fn_text = fn_name.to_string();
    let name = match &args.name {
        Some(name) => quote!(::core::option::Option::Some(#name)),
        None => quote!(::core::option::Option::None),
    };
    // Only the options given appear; the rest come from the defaults.
    let mut options: Vec<TokenStream> = Vec::new();
    if let Some(dir) = &args.dir {
        options.push(quote!(dir: ::core::option::Option::Some(#dir)));
    }
    // A duration is checked by the compiler, with the runtime's parser: a
    // bad one is an error on the literal.
    let millis = |text: &syn::LitStr| quote_spanned!(text.span()=> ::checkpoint_core::__private::duration_ms(#text));
    if let Some(text) = &args.every {
        let ms = millis(text);
        options.push(quote!(every_ms: ::core::option::Option::Some(#ms)));
    }
    if args.every_auto {
        options.push(quote!(every_auto: true));
    }
    if let Some(text) = &args.mtbf {
        let ms = millis(text);
        options.push(quote!(mtbf_ms: ::core::option::Option::Some(#ms)));
    }
    if let Some(n) = args.every_iters {
        options.push(quote!(every_iters: ::core::option::Option::Some(#n)));
    }
    if let Some(n) = args.keep {
        options.push(quote!(keep: ::core::option::Option::Some(#n)));
    }
    match args.zstd_level {
        Some(Some(level)) => options.push(quote!(
            zstd_level: ::core::option::Option::Some(::core::option::Option::Some(#level))
        )),
        Some(None) => options.push(quote!(
            zstd_level: ::core::option::Option::Some(::core::option::Option::None)
        )),
        None => {}
    }
    if args.keep_on_success {
        options.push(quote!(keep_on_success: true));
    }
    if let Some(variant) = &args.on_code_change {
        options.push(quote!(on_code_change: ::checkpoint_core::OnCodeChange::#variant));
    }
    if args.strict {
        options.push(quote!(strict: true));
    }
    if let Some(signals) = &args.signals {
        options.push(quote!(signals: ::core::option::Option::Some(&[#(#signals),*])));
    }
    if let Some(text) = &args.grace {
        let ms = millis(text);
        options.push(quote!(grace_ms: ::core::option::Option::Some(#ms)));
    }
    if let Some(background) = args.background {
        options.push(quote!(background: ::core::option::Option::Some(#background)));
    }
    if let Some(text) = &args.expire {
        let ms = millis(text);
        options.push(quote!(expire_ms: ::core::option::Option::Some(#ms)));
    }
    let loop_shape = &model.loop_shape;
    let loop_titles = model.loops.iter().map(|info| valid::loop_title(info.expr));
    let loop_parents = model
        .loops
        .iter()
        .map(|info| info.parent.unwrap_or(u32::MAX));
    quote! {
        static #function: #private::Function = #private::Function {
            crate_name: match ::core::option_env!("CARGO_CRATE_NAME") {
                ::core::option::Option::Some(#crate_name) => #crate_name,
                ::core::option::Option::None => "",
            },
            module_path: ::core::module_path!(),
            function: #fn_text,
            name: #name,
            code_fingerprint: #code_fingerprint,
            loop_shape: #loop_shape,
            loop_titles: &[#(#loop_titles),*],
            loop_parents: &[#(#loop_parents),*],
            options: #private::FunctionOptions {
                #(#options,)*
                ..#private::FunctionOptions::DEFAULT
            },
        };
    }
}

/// `&(key(&a), key(&b))`: the arguments that identify the run, by reference
/// (`key(&self)` when `key` names the receiver).
///
/// A method's `Self` type and a generic function's type and const
/// parameters are part of the key too: `A::run` and `B::run`, and each
/// instantiation (`mean::<f32>`, `mean::<f64>`), are runs of their own.
fn key_tuple(item: &ItemFn, names: &[Ident]) -> TokenStream {
    let private = private();
    let refs = names
        .iter()
        .map(|name| quote_spanned!(name.span()=> #private::key(&#name)));
    // Same-named methods of two types, and the instantiations of an
    // `impl<T>`, are different runs: the receiver's type is in the key.
    let self_type = item
        .sig
        .receiver()
        .map(|_| quote!(#private::key(::core::any::type_name::<Self>())))
        .into_iter();
    let generics = item
        .sig
        .generics
        .params
        .iter()
        .filter_map(|param| match param {
            syn::GenericParam::Type(ty) => {
                let ident = &ty.ident;
                Some(quote!(#private::key(::core::any::type_name::<#ident>())))
            }
            syn::GenericParam::Const(constant) => {
                let ident = &constant.ident;
                Some(quote!(#private::key(&#ident)))
            }
            syn::GenericParam::Lifetime(_) => None,
        });
    quote!(&(#(#refs,)* #(#self_type,)* #(#generics,)*))
}

/// Rewrites `#[state]` locals and save-point loops, numbering them in the
/// order `model::build` met them.
struct Rewriter<'m> {
    model: &'m Model<'m>,
    struct_path: TokenStream,
    next_loop: u32,
    next_state: usize,
}

impl VisitMut for Rewriter<'_> {
    fn visit_local_mut(&mut self, local: &mut Local) {
        local.attrs.retain(|attr| !model::is_transient_attr(attr));
        let is_state = local.attrs.iter().any(model::is_state_attr);
        visit_mut::visit_local_mut(self, local);
        if !is_state {
            return;
        }
        local.attrs.retain(|attr| !model::is_state_attr(attr));
        let restored = restored_local(self.next_state);
        self.next_state += 1;
        let value = generated("__checkpoint_value");
        if let Some(init) = &mut local.init {
            let user_init = &init.expr;
            let span = syn::spanned::Spanned::span(&**user_init);
            // `state_value` checks the type where the user declared it, so a
            // type that cannot be saved is an error on this line.
            let private = private();
            let new_init = quote_spanned! {span=>
                #private::state_value(match #restored.take() {
                    ::core::option::Option::Some(#value) => #value,
                    ::core::option::Option::None => #user_init,
                })
            };
            *init.expr = syn::parse2(new_init).expect("a match expression");
        }
    }

    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => {
                let id = self.next_loop;
                self.next_loop += 1;
                visit_mut::visit_expr_mut(self, expr);
                strip_loop_attrs(expr);
                if self.model.loops[id as usize].save_point {
                    let rewritten = self.expand_loop(id, expr);
                    *expr = syn::parse2(rewritten).expect("the rewritten loop is an expression");
                }
            }
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

fn strip_loop_attrs(expr: &mut Expr) {
    let attrs = match expr {
        Expr::ForLoop(node) => &mut node.attrs,
        Expr::While(node) => &mut node.attrs,
        Expr::Loop(node) => &mut node.attrs,
        _ => return,
    };
    attrs.retain(|attr| !model::is_loop_attr(attr));
}

impl Rewriter<'_> {
    // Input:
    //     'outer: for i in 0..n { body }
    // Output:
    //     {
    //         let mut __checkpoint_loop_0 = __checkpoint_run.enter(0, 0);
    //         if !__checkpoint_loop_0.finished_phase() {
    //             let mut __checkpoint_iter = IntoIterator::into_iter(0..n);
    //             __checkpoint_loop_0.fast_forward(&mut __checkpoint_iter);
    //             'outer: for i in __checkpoint_iter {
    //                 '__checkpoint_next_0: { body }   // `continue` becomes `break '__checkpoint_next_0`
    //                 if __checkpoint_run.iteration_done(&mut __checkpoint_loop_0) {
    //                     let mut __checkpoint_slot_0 = SaveSlot::new();
    //                     let __checkpoint_copy_0 = __checkpoint_slot_0.copy(&prod);
    //                     __checkpoint_run.save(&[__checkpoint_loop_0.position()], &FactorialState { prod: Some(__checkpoint_copy_0.get()) });
    //                 }
    //             }
    //         }
    //     }
    // `while` and `loop` are alike, without the iterator; a `while` that
    // holds a save point does not test its condition again when the run
    // resumes in the middle of its iteration.
    fn expand_loop(&self, id: u32, expr: &mut Expr) -> TokenStream {
        let info = &self.model.loops[id as usize];
        let run = generated("__checkpoint_run");
        let frame = format_ident!("__checkpoint_loop_{}", id, span = Span::mixed_site());
        let next = Lifetime::new(&format!("'__checkpoint_next_{id}"), Span::mixed_site());
        let depth = info.enclosing.len();
        let enter = quote!(let mut #frame = #run.enter(#id, #depth););
        let frame_done = quote!(#run.iteration_done(&mut #frame));
        let save = self.save_statement(id, &frame_done);

        let mut label = match &*expr {
            Expr::ForLoop(node) => node.label.clone(),
            Expr::While(node) => node.label.clone(),
            Expr::Loop(node) => node.label.clone(),
            _ => unreachable!("only loops are expanded"),
        };
        // `continue` becomes a `break` out of a labelled block, inside which
        // an unlabelled `break` is not allowed (E0695): the loop gets a
        // label for its own `break`s to name.
        if info.has_continue && info.has_break && label.is_none() {
            label = Some(syn::Label {
                name: Lifetime::new(&format!("'__checkpoint_loop_{id}"), Span::mixed_site()),
                colon_token: Default::default(),
            });
        }
        let body = match expr {
            Expr::ForLoop(node) => &mut node.body,
            Expr::While(node) => &mut node.body,
            Expr::Loop(node) => &mut node.body,
            _ => unreachable!("only loops are expanded"),
        };
        let user_body = if info.has_continue {
            let mut continues = Continues {
                label: label.as_ref().map(|l| l.name.clone()),
                next: next.clone(),
                depth: 0,
            };
            continues.visit_block_mut(body);
            quote!(#next: #body)
        } else {
            quote!(#body)
        };
        let new_body = quote!({
            #user_body
            #save
        });
        // `continue 'label` became a `break` out of the body, which may
        // leave the user's label unused.
        let quiet_label =
            (label.is_some() && info.has_continue).then(|| quote!(#[allow(unused_labels)]));
        match &*expr {
            Expr::ForLoop(node) => {
                let attrs = &node.attrs;
                let iter = generated("__checkpoint_iter");
                let pat = &node.pat;
                let iterable = &node.expr;
                // A `for` loop that no `break` leaves and no save point
                // inside interrupts runs in chunks: the check whether a save
                // is due comes once per chunk, and over a range of integers
                // the loop's own end test is the only test an iteration pays.
                //
                // The chunks run in a loop of their own, left only when the
                // slow path should run or the iterator is exhausted; the
                // slow path is then called whatever the reason. Neither
                // loop around the user's body has a branch that rejoins
                // it: such a branch keeps the optimizer from carrying a
                // value the body stores (an RNG's index) from one iteration
                // to the next in a register (see `Due::count`).
                let iterate = if !info.has_break && !info.has_inner_save_point {
                    let chunk = generated("__checkpoint_chunk");
                    let slow = generated("__checkpoint_slow");
                    let exhausted = generated("__checkpoint_exhausted");
                    let panicked = generated("__checkpoint_panicked");
                    let at = generated("__checkpoint_at");
                    let watch = generated("__checkpoint_watch");
                    let (copies, state) = self.saved_state(id);
                    let positions = self.positions(id);
                    quote! {
                        #[allow(unreachable_code)]
                        let #panicked = loop {
                            #[allow(unused_imports)]
                            use ::checkpoint_core::__private::{Chunk as _, IterChunks as _, RangeChunks as _};
                            let (#slow, #exhausted) = loop {
                                let mut #chunk = (&mut &mut ::checkpoint_core::__private::Chunker(
                                    ::core::option::Option::Some(&mut #iter),
                                ))
                                .chunk(#run.budget());
                                #(#attrs)* #quiet_label #label for #pat in &mut #chunk { #user_body }
                                let #slow = #run.chunk_done(&mut #frame, #watch, #chunk.taken());
                                let #exhausted = #chunk.exhausted();
                                if #slow | #exhausted {
                                    break (#slow, #exhausted);
                                }
                            };
                            #(#copies)*
                            let #at = [#(#positions),*];
                            let #panicked = #run.after_chunks(&mut #frame, #slow, &#at, &#state);
                            if #exhausted | #panicked {
                                break #panicked;
                            }
                        };
                        #[allow(unreachable_code)]
                        if #panicked {
                            #run.rethrow();
                        }
                    }
                } else {
                    quote!(#(#attrs)* #quiet_label #label for #pat in #iter #new_body)
                };
                quote!({
                    #enter
                    if !#frame.finished_phase() {
                        let mut #iter = ::core::iter::IntoIterator::into_iter(#iterable);
                        #frame.fast_forward(&mut #iter);
                        #iterate
                    }
                })
            }
            Expr::While(node) => {
                let attrs = &node.attrs;
                let cond = &node.cond;
                let header = if info.has_inner_save_point && info.kind == LoopKind::While {
                    quote!(#frame.resuming_mid_iteration() || (#cond))
                } else {
                    quote!(#cond)
                };
                quote!({
                    #enter
                    if !#frame.finished_phase() {
                        #(#attrs)* #quiet_label #label while #header #new_body
                    }
                })
            }
            Expr::Loop(node) if info.has_break => {
                let attrs = &node.attrs;
                quote!({
                    #enter
                    if !#frame.finished_phase() {
                        #(#attrs)* #quiet_label #label loop #new_body
                    }
                })
            }
            // A loop that only `return`s out cannot have finished before
            // the save; keeping it bare keeps its type `!`.
            Expr::Loop(node) => {
                let attrs = &node.attrs;
                quote!({
                    #enter
                    #(#attrs)* #quiet_label #label loop #new_body
                })
            }
            _ => unreachable!("only loops are expanded"),
        }
    }

    /// The save at the end of an iteration, when `due` says one may be due.
    fn save_statement(&self, id: u32, due: &TokenStream) -> TokenStream {
        let run = generated("__checkpoint_run");
        let (copies, state) = self.saved_state(id);
        let positions = self.positions(id);
        quote! {
            #[allow(unreachable_code)]
            if #due {
                #(#copies)*
                #run.save(&[#(#positions),*], &#state);
            }
        }
    }

    /// The positions of the save-point loops from the outermost to `id`,
    /// for a save in loop `id`.
    fn positions(&self, id: u32) -> Vec<TokenStream> {
        let info = &self.model.loops[id as usize];
        info.enclosing
            .iter()
            .chain(std::iter::once(&id))
            .map(|loop_id| {
                let frame =
                    format_ident!("__checkpoint_loop_{}", loop_id, span = Span::mixed_site());
                quote!(#frame.position())
            })
            .collect()
    }

    /// The state a save in loop `id` writes: statements that copy each
    /// local live there, and the state struct that holds the copies. The
    /// save reads a copy of each live local, not the local: a reference to
    /// the local would escape into the save and keep the local out of
    /// registers through the whole loop (see `SaveCopy`).
    fn saved_state(&self, id: u32) -> (Vec<TokenStream>, TokenStream) {
        let info = &self.model.loops[id as usize];
        let struct_path = &self.struct_path;
        let mut copies = Vec::new();
        let fields = self
            .model
            .state
            .iter()
            .enumerate()
            .map(|(index, state)| {
                let field = &state.field;
                if info.live.contains(&index) {
                    let ident = &state.ident;
                    let slot =
                        format_ident!("__checkpoint_slot_{}", index, span = Span::mixed_site());
                    let copy =
                        format_ident!("__checkpoint_copy_{}", index, span = Span::mixed_site());
                    // Spanned on the local, so a borrow error (the local was
                    // moved before the save) points at it, not at the attribute.
                    let borrow = quote_spanned!(ident.span()=> &#ident);
                    copies.push(quote! {
                        let mut #slot = ::checkpoint_core::__private::SaveSlot::new();
                        let #copy = #slot.copy(#borrow);
                    });
                    quote!(#field: ::core::option::Option::Some(#copy.get()))
                } else {
                    quote!(#field: ::core::option::Option::None::<()>)
                }
            })
            .collect::<Vec<_>>();
        (copies, quote!(#struct_path { #(#fields),* }))
    }
}

/// Turns every `continue` that targets the loop into a `break` out of the
/// loop body's labelled block, so the save at the end of the body runs, and
/// gives the loop's own unlabelled `break`s its label.
struct Continues {
    label: Option<Lifetime>,
    next: Lifetime,
    depth: usize,
}

impl VisitMut for Continues {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => {
                self.depth += 1;
                visit_mut::visit_expr_mut(self, expr);
                self.depth -= 1;
            }
            Expr::Continue(node) => {
                let ours = match &node.label {
                    None => self.depth == 0,
                    Some(label) => self.label.as_ref().is_some_and(|l| l.ident == label.ident),
                };
                if ours {
                    let next = &self.next;
                    let attrs = &node.attrs;
                    *expr =
                        syn::parse2(quote!(#(#attrs)* break #next)).expect("a break expression");
                }
            }
            // An unlabelled `break` of this loop names the loop's label.
            Expr::Break(node) if node.label.is_none() && self.depth == 0 => {
                if let Some(inner) = &mut node.expr {
                    self.visit_expr_mut(inner);
                }
                node.label.clone_from(&self.label);
            }
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// FNV-1a, 64 bits: a stable fingerprint of the function's code.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
