//! The options of `#[checkpointed(...)]` and of `#[checkpoint(...)]` on a loop.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitBool, LitInt, LitStr, Token, parenthesized};

mod kw {
    syn::custom_keyword!(every);
    syn::custom_keyword!(every_iters);
    syn::custom_keyword!(dir);
    syn::custom_keyword!(name);
    syn::custom_keyword!(key);
    syn::custom_keyword!(keep);
    syn::custom_keyword!(zstd_level);
    syn::custom_keyword!(compress);
    syn::custom_keyword!(keep_on_success);
    syn::custom_keyword!(on_code_change);
    syn::custom_keyword!(strict);
    syn::custom_keyword!(off);
    syn::custom_keyword!(save);
    syn::custom_keyword!(mtbf);
    syn::custom_keyword!(signals);
    syn::custom_keyword!(grace);
    syn::custom_keyword!(background);
    syn::custom_keyword!(expire);
    syn::custom_keyword!(comm);
}

/// The signals `signals = [...]` may name (with or without `SIG`).
const SIGNALS: [&str; 6] = [
    "SIGINT", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGHUP", "SIGXCPU",
];

/// `#[checkpointed(...)]`.
#[derive(Default)]
pub struct Args {
    /// The duration options as written: the compiler checks them with
    /// `checkpoint_core`'s own parser (one grammar for the macro, the
    /// environment and the command line).
    pub every: Option<LitStr>,
    /// `every = "auto"`.
    pub every_auto: bool,
    /// `mtbf = "..."`; an error if `every` is not `auto`.
    pub mtbf: Option<LitStr>,
    /// `signals = ["SIGTERM", ...]`: normalized names.
    pub signals: Option<Vec<String>>,
    pub grace: Option<LitStr>,
    pub background: Option<bool>,
    pub expire: Option<LitStr>,
    pub every_iters: Option<u64>,
    pub dir: Option<LitStr>,
    pub name: Option<LitStr>,
    /// `key = (a, b)`: the arguments that identify a run (`self` for the
    /// receiver); `None` means all arguments but the receiver.
    pub key: Option<Vec<Ident>>,
    pub keep: Option<usize>,
    /// `Some(None)`: `compress = false`.
    pub zstd_level: Option<Option<i32>>,
    pub keep_on_success: bool,
    pub on_code_change: Option<Ident>,
    pub strict: bool,
    /// `comm = world`: the communicator argument whose ranks checkpoint
    /// the run together (an MPI job).
    pub comm: Option<Ident>,
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = Args::default();
        let mut seen: Vec<String> = Vec::new();
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            let option: Ident = if lookahead.peek(Ident) {
                input.fork().parse()?
            } else {
                return Err(lookahead.error());
            };
            let option_name = option.to_string();
            if seen.contains(&option_name) {
                return Err(syn::Error::new(
                    option.span(),
                    format!("duplicate option `{option_name}`"),
                ));
            }
            seen.push(option_name);
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::every_iters) {
                input.parse::<kw::every_iters>()?;
                input.parse::<Token![=]>()?;
                args.every_iters = Some(count(input, "every_iters", 1, "100")?);
            } else if lookahead.peek(kw::every) {
                input.parse::<kw::every>()?;
                input.parse::<Token![=]>()?;
                let text = duration(input, "every")?;
                if text.value().trim() == "auto" {
                    args.every_auto = true;
                } else {
                    args.every = Some(text);
                }
            } else if lookahead.peek(kw::mtbf) {
                input.parse::<kw::mtbf>()?;
                input.parse::<Token![=]>()?;
                args.mtbf = Some(duration(input, "mtbf")?);
            } else if lookahead.peek(kw::grace) {
                input.parse::<kw::grace>()?;
                input.parse::<Token![=]>()?;
                args.grace = Some(duration(input, "grace")?);
            } else if lookahead.peek(kw::expire) {
                input.parse::<kw::expire>()?;
                input.parse::<Token![=]>()?;
                args.expire = Some(duration(input, "expire")?);
            } else if lookahead.peek(kw::background) {
                input.parse::<kw::background>()?;
                input.parse::<Token![=]>()?;
                args.background = Some(flag(input, "background")?);
            } else if lookahead.peek(kw::signals) {
                input.parse::<kw::signals>()?;
                input.parse::<Token![=]>()?;
                let content;
                syn::bracketed!(content in input);
                let names = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
                let mut signals = Vec::new();
                for name in names {
                    let upper = name.value().trim().to_ascii_uppercase();
                    let full = if upper.starts_with("SIG") {
                        upper
                    } else {
                        format!("SIG{upper}")
                    };
                    if !SIGNALS.contains(&full.as_str()) {
                        return Err(syn::Error::new(
                            name.span(),
                            format!(
                                "unknown signal \"{}\": expected some of {}",
                                name.value(),
                                SIGNALS.join(", ")
                            ),
                        ));
                    }
                    if !signals.contains(&full) {
                        signals.push(full);
                    }
                }
                args.signals = Some(signals);
            } else if lookahead.peek(kw::dir) {
                input.parse::<kw::dir>()?;
                input.parse::<Token![=]>()?;
                let dir: LitStr = input.parse()?;
                if dir.value().is_empty() {
                    return Err(syn::Error::new(dir.span(), "`dir` must not be empty"));
                }
                args.dir = Some(dir);
            } else if lookahead.peek(kw::name) {
                input.parse::<kw::name>()?;
                input.parse::<Token![=]>()?;
                let name: LitStr = input.parse()?;
                if name.value().trim().is_empty() {
                    return Err(syn::Error::new(name.span(), "`name` must not be empty"));
                }
                args.name = Some(name);
            } else if lookahead.peek(kw::comm) {
                input.parse::<kw::comm>()?;
                input.parse::<Token![=]>()?;
                let ident: Ident = input.parse().map_err(|err| {
                    syn::Error::new(
                        err.span(),
                        "`comm` names the communicator argument: `comm = world`",
                    )
                })?;
                args.comm = Some(ident);
            } else if lookahead.peek(kw::key) {
                input.parse::<kw::key>()?;
                input.parse::<Token![=]>()?;
                let content;
                parenthesized!(content in input);
                let idents = Punctuated::<Ident, Token![,]>::parse_terminated_with(
                    &content,
                    parse_key_name,
                )?;
                args.key = Some(idents.into_iter().collect());
            } else if lookahead.peek(kw::keep) {
                input.parse::<kw::keep>()?;
                input.parse::<Token![=]>()?;
                args.keep = Some(count(input, "keep", 1, "3")?);
            } else if lookahead.peek(kw::zstd_level) {
                input.parse::<kw::zstd_level>()?;
                input.parse::<Token![=]>()?;
                let hint = "`zstd_level` takes a whole number from -7 (fastest) to 22 (smallest): `zstd_level = 3`, or `compress = false` for none";
                let n: LitInt = input
                    .parse()
                    .map_err(|err| syn::Error::new(err.span(), hint))?;
                let value = n
                    .base10_parse::<i32>()
                    .ok()
                    .filter(|value| (-7..=22).contains(value))
                    .ok_or_else(|| syn::Error::new(n.span(), hint))?;
                args.zstd_level = Some(Some(value));
            } else if lookahead.peek(kw::compress) {
                input.parse::<kw::compress>()?;
                input.parse::<Token![=]>()?;
                if !flag(input, "compress")? {
                    args.zstd_level = Some(None);
                }
            } else if lookahead.peek(kw::keep_on_success) {
                input.parse::<kw::keep_on_success>()?;
                input.parse::<Token![=]>()?;
                args.keep_on_success = flag(input, "keep_on_success")?;
            } else if lookahead.peek(kw::strict) {
                input.parse::<kw::strict>()?;
                input.parse::<Token![=]>()?;
                args.strict = flag(input, "strict")?;
            } else if lookahead.peek(kw::on_code_change) {
                input.parse::<kw::on_code_change>()?;
                input.parse::<Token![=]>()?;
                let action: LitStr = input.parse().map_err(|err| {
                    syn::Error::new(
                        err.span(),
                        "`on_code_change` takes \"resume\", \"restart\" or \"error\" (in quotes)",
                    )
                })?;
                let variant = match action.value().as_str() {
                    "resume" => "Resume",
                    "restart" => "Restart",
                    "error" => "Error",
                    other => {
                        return Err(syn::Error::new(
                            action.span(),
                            format!(
                                "unknown `on_code_change` action \"{other}\": expected \"resume\", \"restart\" or \"error\""
                            ),
                        ));
                    }
                };
                args.on_code_change = Some(Ident::new(variant, action.span()));
            } else {
                return Err(syn::Error::new(
                    option.span(),
                    format!(
                        "unknown option `{option}`: expected one of every, every_iters, mtbf, dir, name, key, keep, zstd_level, compress, keep_on_success, on_code_change, strict, signals, grace, background, expire, comm"
                    ),
                ));
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        if let Some(mtbf) = &args.mtbf
            && !args.every_auto
        {
            return Err(syn::Error::new(
                mtbf.span(),
                "`mtbf` sets the mean time between failures for `every = \"auto\"`; add `every = \"auto\"` or remove it",
            ));
        }
        Ok(args)
    }
}

/// One name of `key = (...)`: an argument, or `self` (the receiver).
fn parse_key_name(input: ParseStream) -> syn::Result<Ident> {
    if input.peek(Token![self]) {
        let token: Token![self] = input.parse()?;
        Ok(Ident::new("self", token.span))
    } else {
        input.parse()
    }
}

/// `#[checkpoint(...)]` on a loop.
#[derive(Default)]
pub struct LoopArgs {
    /// `off`: this loop is not a save point; on resume it runs again.
    pub off: bool,
    /// `save`: this loop is a save point even inside another one.
    pub save: bool,
}

impl Parse for LoopArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = LoopArgs::default();
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::off) {
                let off: kw::off = input.parse()?;
                if args.off {
                    return Err(syn::Error::new(off.span, "duplicate option `off`"));
                }
                args.off = true;
            } else if lookahead.peek(kw::save) {
                let save: kw::save = input.parse()?;
                if args.save {
                    return Err(syn::Error::new(save.span, "duplicate option `save`"));
                }
                args.save = true;
            } else if lookahead.peek(Ident) {
                let option: Ident = input.parse()?;
                return Err(syn::Error::new(
                    option.span(),
                    format!(
                        "unknown loop option `{option}`: expected `save` (an inner loop saves too) or `off` (this loop never saves)"
                    ),
                ));
            } else {
                return Err(lookahead.error());
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}

/// The value of a duration option: a string the compiler checks with
/// `checkpoint_core`'s parser. Anything else says how to write it.
fn duration(input: ParseStream, option: &str) -> syn::Result<LitStr> {
    if input.peek(LitStr) {
        return input.parse();
    }
    let example = if option == "every" { "30s" } else { "5m" };
    let mut hint = format!(
        "`{option}` takes a duration in quotes, a number and a unit: `{option} = \"{example}\"`"
    );
    if input.peek(LitInt) {
        let n: LitInt = input.parse()?;
        if n.suffix().is_empty() {
            hint = format!(
                "`{option}` takes a duration in quotes, with a unit: `{option} = \"{}s\"` for {} seconds",
                n.base10_digits(),
                n.base10_digits()
            );
            if option == "every" {
                hint.push_str(&format!(
                    ", or `every_iters = {}` to save every {} iterations",
                    n.base10_digits(),
                    n.base10_digits()
                ));
            }
        } else {
            hint = format!("`{option}` takes a duration in quotes: `{option} = \"{n}\"`");
        }
        return Err(syn::Error::new(n.span(), hint));
    }
    if input.peek(Ident) {
        let word: Ident = input.parse()?;
        if option == "every" && word == "auto" {
            hint = "write `every = \"auto\"` (in quotes)".to_owned();
        }
        return Err(syn::Error::new(word.span(), hint));
    }
    Err(input.error(hint))
}

/// The value of a count option (`keep`, `every_iters`): a whole number of
/// at least `min`. Anything else says how to write it.
fn count<T>(input: ParseStream, option: &str, min: u64, example: &str) -> syn::Result<T>
where
    T: TryFrom<u64>,
{
    let hint = format!("`{option}` takes a whole number, at least {min}: `{option} = {example}`");
    if input.peek(Token![-]) {
        let minus: Token![-] = input.parse()?;
        let _ = input.parse::<syn::Lit>();
        return Err(syn::Error::new(
            minus.span,
            format!("a negative number: {hint}"),
        ));
    }
    if input.peek(LitStr) {
        let text: LitStr = input.parse()?;
        return Err(syn::Error::new(
            text.span(),
            format!("{hint} (a number, not a string)"),
        ));
    }
    if !input.peek(LitInt) {
        return Err(input.error(hint));
    }
    let n: LitInt = input.parse()?;
    let value = n
        .base10_parse::<u64>()
        .ok()
        .filter(|&value| value >= min)
        .and_then(|value| T::try_from(value).ok());
    value.ok_or_else(|| syn::Error::new(n.span(), hint))
}

/// The value of an on/off option: `true` or `false`.
fn flag(input: ParseStream, option: &str) -> syn::Result<bool> {
    if input.peek(LitBool) {
        return Ok(input.parse::<LitBool>()?.value);
    }
    Err(input.error(format!(
        "`{option}` takes `true` or `false`: `{option} = true`"
    )))
}
